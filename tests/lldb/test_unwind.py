"""Watched frames left without a return, by longjmp or a C++ exception: the waiting
groutine is told "unwound" instead of hanging (under LLDB and GDB alike), and the return
breakpoint goes away."""
from conftest import debug, example, lldb, plugin_breakpoints, target

# LLDB's breakpoints, listed: none of the plugin's may be left.
LISTED = {"lldb": ("breakpoint list",), "gdb": ()}


def test_frames_left_by_longjmp_are_delivered_as_unwound(debugger):
    s = debug(debugger, f"file {target('unwind_longjmp')}", f"groutine load {example('watch')}",
              "groutine fire watch slot=a function=risky",
              "groutine fire watch slot=b function=risky_deep", "run 4",
              "groutine subscriptions", *LISTED[debugger], "groutine report")
    tid = s.logged("watch-a")[0].split()[-1]
    assert s.logged("watch-a") == [f"risky(0)=1 thread {tid}", f"risky(1) unwound thread {tid}",
                                   f"risky(2)=5 thread {tid}", f"risky(3) unwound thread {tid}"], s
    assert s.logged("watch-b") == [
        f"risky_deep(0)=0 thread {tid}", f"risky_deep(1) unwound thread {tid}",
        f"risky_deep(2)=4 thread {tid}", f"risky_deep(3) unwound thread {tid}"], s
    assert "returns awaited: 0 calls" in s.after("groutine subscriptions"), s
    if debugger == "lldb":
        assert plugin_breakpoints(s) == [], s
    assert "3 passed, 0 failed" in s.after("groutine report"), s


def test_frames_left_by_a_cpp_exception_are_delivered_as_unwound(debugger):
    s = debug(debugger, f"file {target('unwind_exception')}", f"groutine load {example('watch')}",
              "groutine fire watch slot=a function=thrower", "run 4", "groutine subscriptions",
              *LISTED[debugger])
    lines = [line.rsplit(" thread ", 1)[0] for line in s.logged("watch-a")]
    assert lines == ["thrower(0)=0", "thrower(1) unwound", "thrower(2)=6", "thrower(3) unwound"], s
    assert s.target_lines(r"thrower\(1\).*") == ["thrower(1) threw odd 1"], s
    assert "returns awaited: 0 calls" in s.after("groutine subscriptions"), s
    if debugger == "lldb":
        assert plugin_breakpoints(s) == [], s


def test_an_unwound_frame_is_noticed_at_the_next_call_on_its_thread():
    # Stop at the call after the longjmp: the unwound return was delivered before it.
    s = lldb(f"file {target('unwind_longjmp')}", f"groutine load {example('watch')}",
             "groutine fire watch slot=a function=risky",
             "groutine fire stop-at function=risky arg0=2", "run 4", "groutine subscriptions",
             "continue")
    stopped = s.output.index("groutine 'stop-at' stopped the target: risky called with 2")
    assert s.output.index("[watch-a] risky(1) unwound") < stopped, s
    # At the stop, only risky(2)'s own return is awaited.
    assert "returns awaited: 1 call at 1 return address" in s.after("groutine subscriptions"), s
