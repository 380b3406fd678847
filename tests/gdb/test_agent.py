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
