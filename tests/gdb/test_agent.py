"""The agent transport under GDB: GDB launches the target with libgroutines_agent.so preloaded
(exec-wrapper `env LD_PRELOAD=...`), a hooked function's first call is a breakpoint hit that
patches it, and its later calls and awaited returns reach the groutines through the agent's
shared memory, without a stop, with the same fallback rules as under LLDB (tests/lldb/
test_agent.py, whose tests taking `debugger` run under GDB too). The programs are modes of
tests/targets/agent_cases.c; most tests break at agent_cases_done(), its last call, to read
`groutine transport` while the process lives."""
import os
import re

import pytest

from conftest import example, gdb, script, target
from sessions import agent_counters, subscriptions, without_threads

# CTest runs the GDB suites on both transports; these are about the agent.
pytestmark = pytest.mark.skipif(os.environ.get("GROUTINES_TRANSPORT") == "breakpoint",
                                reason="the agent transport's tests (gdb.test_agent runs them)")

AGENT_CASES = target("agent_cases")
DONE = "break agent_cases_done"


def first_bytes(session, command):
    """first_bytes() are the hex bytes an `x/Nxb ...` command printed."""
    text = session.after(command)
    return re.findall(r"0x([0-9a-f]{2})\b", text.split(":", 1)[1]) if ":" in text else []


def test_calls_after_the_first_reach_the_groutine_through_the_agent():
    n = 200
    s = gdb(f"file {AGENT_CASES}", f"groutine load {example('watch')}",
            "groutine fire watch slot=a function=counter_plus", DONE, f"run riprel {n}",
            "groutine transport", "groutine subscriptions", "x/5xb counter_plus", "continue")
    # The relocated `mov counter(%rip)` of the trampoline reads the live global.
    assert without_threads(s.logged("watch-a")) == [f"counter_plus({i})={8 * i}" for i in range(n)], s
    assert s.target_lines(r"riprel sum=\d+") == [f"riprel sum={8 * n * (n - 1) // 2}"], s
    transport = s.after("groutine transport")
    assert transport.startswith("transport: auto\nagent: "), s
    c = agent_counters(transport)
    # The first call is the breakpoint hit that patched the function.
    assert c["hits"] == 2 * (n - 1), s
    assert c["nested"] == c["unheld"] == c["no_slot"] == c["shadow_full"] == c["no_host"] == 0, s
    rows, reasons = subscriptions(s.after("groutine subscriptions"))
    assert rows["counter_plus"] == (n, "agent") and not reasons, s
    assert first_bytes(s, "x/5xb counter_plus")[0] == "e9", s  # jmp rel32 to the trampoline
    assert "exited normally" in s.output, s


def test_a_function_that_cannot_be_patched_stays_on_its_breakpoint_and_says_why():
    n = 10
    s = gdb(f"file {AGENT_CASES}", f"groutine load {example('watch')}",
            "groutine fire watch slot=a function=loop_back",
            "groutine fire watch slot=b function=too_short", DONE, f"run fallback {n}",
            "groutine transport", "groutine subscriptions", "info symbol loop_back+7",
            "continue")
    assert without_threads(s.logged("watch-a")) == [
        f"loop_back({i % 5 + 1})={(i % 5 + 1) * (i % 5 + 2) // 2}" for i in range(n)], s
    assert without_threads(s.logged("watch-b")) == [f"too_short({i})={i + 1}" for i in range(n)], s
    rows, reasons = subscriptions(s.after("groutine subscriptions"))
    assert rows["loop_back"] == (n, "breakpoint") and rows["too_short"] == (n, "breakpoint"), s
    assert re.fullmatch(r"a branch at 0x[0-9a-f]+ jumps into the first 5 bytes",
                        reasons["loop_back"]), s
    assert reasons["too_short"] == "the function is shorter than the 5-byte patch", s
    assert agent_counters(s.after("groutine transport"))["hits"] == 0, s
    assert "exited normally" in s.output, s


def test_an_endbr64_entry_is_kept_and_the_patch_goes_after_it():
    n = 50
    s = gdb(f"file {AGENT_CASES}", f"groutine load {example('watch')}",
            "groutine fire watch slot=a function=endbr_add args=2", DONE, f"run endbr {n}",
            "groutine subscriptions", "x/5xb endbr_add", "x/1xb endbr_add+4", "continue")
    assert without_threads(s.logged("watch-a")) == [
        f"endbr_add({i},1)={3 * (i + 1)}" for i in range(n)], s
    assert first_bytes(s, "x/5xb endbr_add")[:4] == ["f3", "0f", "1e", "fa"], s
    assert first_bytes(s, "x/1xb endbr_add+4") == ["e9"], s
    rows, _ = subscriptions(s.after("groutine subscriptions"))
    assert rows["endbr_add"] == (n, "agent"), s


def test_the_breakpoint_transport_launches_without_the_agent():
    n = 20
    s = gdb(f"file {AGENT_CASES}", "groutine transport breakpoint", "show exec-wrapper",
            f"groutine load {example('watch')}",
            "groutine fire watch slot=a function=counter_plus", DONE, f"run riprel {n}",
            "groutine transport", "groutine subscriptions", "info sharedlibrary",
            "x/5xb counter_plus", "continue")
    assert s.after("groutine transport breakpoint").startswith("transport: breakpoint\n"), s
    assert "LD_PRELOAD" not in s.after("show exec-wrapper"), s
    assert "served by the agent" not in s.after("groutine transport"), s
    assert without_threads(s.logged("watch-a")) == [f"counter_plus({i})={8 * i}" for i in range(n)], s
    rows, _ = subscriptions(s.after("groutine subscriptions"))
    assert rows["counter_plus"] == (n, "breakpoint"), s
    assert "libgroutines_agent.so" not in s.after("info sharedlibrary"), s
    assert first_bytes(s, "x/5xb counter_plus")[:2] == ["8b", "05"], s  # mov counter(%rip), %eax


def test_an_evaluation_on_an_agent_hit_and_a_second_run_served_afresh():
    # On an agent hit add's evaluate() parks its thread at the park pad, where GDB evaluates;
    # the second process of one GDB session is patched and served afresh.
    path = script("groutine_lldb_calls.py")
    s = gdb(f"file {target('calls_O0_g')}", f"groutine load {path}",
            "catch syscall exit_group", "run 3", "groutine transport", "run 3",
            "groutine transport", "continue", "groutine report")
    evaluated = [line for line in s.lines() if line.startswith("py: add(")]
    assert evaluated == ["py: add(0,1) named={'a': 0, 'b': 1} evaluated=1 -> 1",
                         "py: add(1,2) named={'a': 1, 'b': 2} evaluated=12 -> 3",
                         "py: add(2,3) named={'a': 2, 'b': 3} evaluated=23 -> 5"] * 2, s
    served = re.findall(r"process (\d+): served by the agent: (\d+) hits", s.output)
    assert len(served) == 2 and served[0][0] != served[1][0], s
    assert all(int(hits) > 0 for _, hits in served), s
    assert s.lines().count("add(1,2)=1003") == 2, s  # rewritten through the agent both times


def test_a_groutine_stop_on_an_agent_hit_stops_at_the_function_and_goes_on():
    n = 200
    s = gdb(f"file {AGENT_CASES}", f"groutine load {example('watch')}",
            "groutine fire watch slot=a function=counter_plus",
            "groutine fire stop-at function=counter_plus arg0=50", f"run riprel {n}",
            "groutine transport", "bt 1", "continue")
    # The 50th call came through the agent, which led the thread to the stop pad; GDB stops
    # it at counter_plus's first instruction.
    assert "groutine 'stop-at' stopped the target: counter_plus called with 50 on thread" in \
        s.output, s
    assert agent_counters(s.after("groutine transport"))["hits"] >= 2 * 48, s
    # (GDB names the address by its alias plus_alias, without debug info.)
    assert re.match(r"#0 .* in (counter_plus|plus_alias) \(", s.after("bt 1")), s
    assert s.logged("stop-at") == ["after the stop: counter_plus(51)"], s
    # Every call was seen once, before and after the stop.
    assert without_threads(s.logged("watch-a")) == [f"counter_plus({i})={8 * i}" for i in range(n)], s
    assert "exited normally" in s.output, s


LATE_HOOK = '''
import groutines as g

@g.groutine
async def late():
    """At the third add (served by the agent), starts waiting on scale: its hook is planted
    at the agent's stop pad before the thread goes on to call scale."""
    seen = 0
    async for call in g.calls("add"):
        seen += 1
        if seen == 3:
            break
    async for call in g.calls("scale"):
        ret = await call.returned()
        g.log(f"scale -> {ret.float_value}")
'''


def test_a_hook_a_groutine_installs_during_an_agent_delivery_is_planted_before_the_next_call(
        tmp_path):
    path = tmp_path / "late.py"
    path.write_text(LATE_HOOK)
    s = gdb(f"file {target('calls_O0_g')}", f"groutine load {path}",
            "catch syscall exit_group", "run 5", "groutine transport", "groutine subscriptions",
            "continue")
    # scale(i + 1.5, i + 2) of iterations 2, 3 and 4: from the one right after the third add.
    assert s.logged("late") == ["scale -> 14.0", "scale -> 22.5", "scale -> 33.0"], s
    rows, _ = subscriptions(s.after("groutine subscriptions"))
    assert rows["scale"] == (3, "agent"), s  # the first scale patched it
    assert agent_counters(s.after("groutine transport"))["hits"] >= 2, s
