"""Call.memory_regions() and Call.threads(): a groutine reads the whole target, its memory map
and every thread's registers, at a call of main's while another thread waits (on the agent
transport the target is stopped for threads(); the first call of a hook comes on a breakpoint,
the later ones from the agent)."""
import os
import re

import pytest

from conftest import PYTHON_BUILT, lldb, target

pytestmark = pytest.mark.skipif(not PYTHON_BUILT, reason="the groutines Python module is not built")

SCRIPT = '''
import groutines as g


def check(call):
    regions = call.memory_regions()
    threads = call.threads()
    me = threads[0]
    starts = [r.start for r in regions]
    def holding(address):
        return [r for r in regions if r.start <= address < r.end]
    stack = holding(me.stack_pointer)[0]
    words = call.read_memory(me.stack_pointer, stack.end - me.stack_pointer)
    g.log(" ".join([
        f"first={me.id == call.thread_id}",
        f"sp={me.stack_pointer == call.reg('rsp')}",
        f"rip={me.registers['rip'] == call.reg('rip')}",
        f"threads={len(threads) == 2}",
        f"ids={len({t.id for t in threads}) == len(threads)}",
        f"stacks={all(any(r.writable for r in holding(t.stack_pointer)) for t in threads)}",
        f"sorted={starts == sorted(starts)}",
        f"program={any(r.path.endswith('/leakkinds') for r in regions)}",
        f"main_stack={any(r.path == '[stack]' for r in regions)}",
        f"no_agent={not any('groutines' in r.path for r in regions)}",
        f"read={len(words) == stack.end - me.stack_pointer}",
    ]))


@g.groutine(name="state")
async def state():
    n = 0
    async for call in g.calls("halfway"):
        n += 1
        if n in (1, 150):  # the first on a breakpoint, a later one from the agent
            check(call)
'''

EXPECTED = ("first=True sp=True rip=True threads=True ids=True stacks=True sorted=True "
            "program=True main_stack=True no_agent=True read=True")


def test_a_groutine_reads_the_memory_map_and_every_threads_registers_at_a_call(tmp_path):
    script = tmp_path / "groutine_state.py"
    script.write_text(SCRIPT)
    s = lldb(f"file {target('leakkinds')}", f"groutine load {script}",
             "breakpoint set -n fprintf", "run calls", "groutine transport",
             "groutine report", "continue")
    assert s.logged("state") == [EXPECTED, EXPECTED], s
    assert "1 passed, 0 failed" in s.after("groutine report"), s
    if os.environ.get("GROUTINES_TRANSPORT", "auto") != "breakpoint":
        # The first call of halfway comes on the breakpoint that patches it, the 199 others
        # from the agent.
        hits = re.search(r"served by the agent: (\d+) hits", s.after("groutine transport"))
        assert hits and int(hits[1]) == 199, s
