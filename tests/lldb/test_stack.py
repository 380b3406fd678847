"""A call's stack as StackFrames (tests/targets/calls.c), on both transports and under GDB,
with and without DWARF: the hooked function at offset 0, its caller main with an offset, the module, the line
where DWARF gives one; backtrace() is the same frames rendered."""
import pytest

from conftest import PYTHON_BUILT, debug, target

SCRIPT = '''
import groutines as g

@g.groutine
async def stack():
    c = await g.call("add")
    frames = c.stack(2)
    for f in frames:
        g.log(f"{f.function}|{f.module}|{f.offset > 0}|{f.pc > 0}|{f.file}|{f.line > 0}")
    g.log(f"rendered {[str(f) for f in frames] == [line.split(' ', 1)[1] for line in c.backtrace(2)]}")
'''


@pytest.mark.skipif(not PYTHON_BUILT, reason="the groutines Python module is not built")
@pytest.mark.parametrize("build", ["calls_O0_g", "calls_O2"])
def test_a_call_reads_its_stack_as_frames_with_their_fields(debugger, build, tmp_path):
    script = tmp_path / "groutine_stack.py"
    script.write_text(SCRIPT)
    s = debug(debugger, f"file {target(build)}", f"groutine load {script}", "run 1",
              "groutine report")
    line = build.endswith("_g")
    assert s.logged("stack") == [
        f"add|{build}|False|True|{'calls.c' if line else ''}|{line}",
        f"main|{build}|True|True|{'calls.c' if line else ''}|{line}",
        "rendered True"], s
    assert "1 passed, 0 failed" in s.after("groutine report"), s
