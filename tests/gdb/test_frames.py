"""What a groutine reads of the stopped target under GDB as under LLDB: a call's stack as
StackFrames with and without DWARF, and frames left without a return (longjmp, a C++
exception) delivered as unwound; plus GDB's own view of what stays planted."""
import pytest

from conftest import DEBUGGERS, debug, example, gdb, target

STACK = '''
import groutines as g

@g.groutine
async def stack():
    c = await g.call("add")
    frames = c.stack(2)
    for f in frames:
        g.log(f"{f.function}|{f.module}|{f.offset > 0}|{f.pc > 0}|{f.file}|{f.line > 0}")
    rendered = [line.split(' ', 1)[1] for line in c.backtrace(2)]
    g.log(f"rendered {[str(f) for f in frames] == rendered}")
'''

PLANTED = ("python import groutines_gdb; "
           "print('planted', groutines_gdb.frontend().backend.planted())")


@pytest.mark.parametrize("debugger", DEBUGGERS)
@pytest.mark.parametrize("build", ["calls_O0_g", "calls_O2"])
def test_a_call_reads_its_stack_as_frames_with_their_fields(debugger, build, tmp_path):
    script = tmp_path / "groutine_stack.py"
    script.write_text(STACK)
    s = debug(debugger, f"file {target(build)}", f"groutine load {script}", "run 1",
              "groutine report")
    line = build.endswith("_g")
    assert s.logged("stack") == [
        f"add|{build}|False|True|{'calls.c' if line else ''}|{line}",
        f"main|{build}|True|True|{'calls.c' if line else ''}|{line}",
        "rendered True"], s
    assert "1 passed, 0 failed" in s.after("groutine report"), s


@pytest.mark.parametrize("debugger", DEBUGGERS)
def test_frames_left_by_longjmp_are_delivered_as_unwound(debugger):
    s = debug(debugger, f"file {target('unwind_longjmp')}", f"groutine load {example('watch')}",
              "groutine fire watch slot=a function=risky",
              "groutine fire watch slot=b function=risky_deep", "run 4",
              "groutine subscriptions", "groutine report")
    tid = s.logged("watch-a")[0].split()[-1]
    assert s.logged("watch-a") == [f"risky(0)=1 thread {tid}", f"risky(1) unwound thread {tid}",
                                   f"risky(2)=5 thread {tid}", f"risky(3) unwound thread {tid}"], s
    assert s.logged("watch-b") == [
        f"risky_deep(0)=0 thread {tid}", f"risky_deep(1) unwound thread {tid}",
        f"risky_deep(2)=4 thread {tid}", f"risky_deep(3) unwound thread {tid}"], s
    assert "returns awaited: 0 calls" in s.after("groutine subscriptions"), s
    assert "3 passed, 0 failed" in s.after("groutine report"), s


@pytest.mark.parametrize("debugger", DEBUGGERS)
def test_frames_left_by_a_cpp_exception_are_delivered_as_unwound(debugger):
    s = debug(debugger, f"file {target('unwind_exception')}", f"groutine load {example('watch')}",
              "groutine fire watch slot=a function=thrower", "run 4", "groutine subscriptions")
    lines = [line.rsplit(" thread ", 1)[0] for line in s.logged("watch-a")]
    assert lines == ["thrower(0)=0", "thrower(1) unwound", "thrower(2)=6", "thrower(3) unwound"], s
    assert s.target_lines(r"thrower\(1\).*") == ["thrower(1) threw odd 1"], s
    assert "returns awaited: 0 calls" in s.after("groutine subscriptions"), s


def test_an_unwound_frame_is_noticed_at_the_next_call_and_its_breakpoint_goes():
    s = gdb(f"file {target('unwind_longjmp')}", f"groutine load {example('watch')}",
            "groutine fire watch slot=a function=risky",
            "groutine fire stop-at function=risky arg0=2", "run 4", "groutine subscriptions",
            "continue", "groutine unload --all", PLANTED)
    stopped = s.output.index("groutine 'stop-at' stopped the target: risky called with 2")
    assert s.output.index("[watch-a] risky(1) unwound") < stopped, s
    assert "returns awaited: 1 call at 1 return address" in s.after("groutine subscriptions"), s
    assert s.after(PLANTED) == "planted []", s
