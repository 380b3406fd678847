"""The agent transport under GDB: GDB launches the target with libgroutines_agent.so preloaded
(exec-wrapper `env LD_PRELOAD=...`), a hooked function's first call is a breakpoint hit that
patches it, and its later calls and awaited returns reach the groutines through the agent's
shared memory, without a stop, with the same fallback rules as under LLDB (tests/lldb/
test_agent.py). The programs are modes of tests/targets/agent_cases.c; most tests break at
agent_cases_done(), its last call, to read `groutine transport` while the process lives."""
import os
import re

import pytest

from conftest import example, gdb, groutine_library, script, target
from sessions import agent_counters, subscriptions, totals, without_threads

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


def test_eight_threads_have_every_call_and_return_counted():
    n = 5_000
    s = gdb(f"file {AGENT_CASES}", f"groutine load {groutine_library('agent_pitfalls')}",
            "groutine fire count function=hot threads=8", DONE, f"run threads {n}",
            "groutine transport", "groutine subscriptions", "groutine fire totals", "continue",
            "groutine report", timeout=300)
    sums = [t * 1_000_000 * n + n * (n - 1) // 2 for t in range(8)]
    assert s.target_lines(r"threads sum\[\d\]=\d+") == [
        f"threads sum[{t}]={sums[t]}" for t in range(8)], s
    assert totals(s, "groutine fire totals") == {
        t: dict(calls=n, returns=n, unwound=0, moved=0, sum=sums[t]) for t in range(8)}, s
    rows, _ = subscriptions(s.after("groutine subscriptions"))
    assert rows["hot"] == (8 * n, "agent"), s
    c = agent_counters(s.after("groutine transport"))
    # Only the calls made before the patch were breakpoint hits: the jump waits for a hit
    # with no other thread at the breakpoint, inside the bytes it replaces, or being stepped
    # over (a few hundred calls of eight threads calling it without a pause).
    assert c["hits"] % 2 == 0 and 2 * 8 * n * 90 // 100 <= c["hits"] <= 2 * 8 * n, s
    assert c["nested"] == c["no_slot"] == c["shadow_full"] == c["no_host"] == 0, s
    assert "9 passed, 0 failed" in s.after("groutine report"), s


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
