"""Frames left without a return under GDB: an unwound frame noticed at the next call, and what
stays planted. (A call's stack as StackFrames and the unwound returns of longjmp and a C++
exception are tests/lldb/test_stack.py and test_unwind.py, run under GDB as gdb.shared.NAME.)"""
from conftest import example, gdb, target

PLANTED = ("python import groutines_gdb; "
           "print('planted', groutines_gdb.frontend().backend.planted())")


def test_an_unwound_frame_is_noticed_at_the_next_call_and_its_breakpoint_goes():
    s = gdb(f"file {target('unwind_longjmp')}", f"groutine load {example('watch')}",
            "groutine fire watch slot=a function=risky",
            "groutine fire stop-at function=risky arg0=2", "run 4", "groutine subscriptions",
            "continue", "groutine unload --all", PLANTED)
    stopped = s.output.index("groutine 'stop-at' stopped the target: risky called with 2")
    assert s.output.index("[watch-a] risky(1) unwound") < stopped, s
    assert "returns awaited: 1 call at 1 return address" in s.after("groutine subscriptions"), s
    assert s.after(PLANTED) == "planted []", s
