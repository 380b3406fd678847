"""Arguments placed by the SysV classification (tests/targets/structs.c): a struct passed by
value in registers (by eightbyte class: an integer and an SSE register, or one integer
register) or on the stack (larger than 16 bytes, or when the registers left are too few),
floating arguments past xmm7 and integers past r9 on the stack. The struct itself reads none;
every argument after it reads by name what the target printed, at -O0 and -O2, on both
transports and under GDB."""
import pytest

from conftest import PYTHON_BUILT, debug, target

BUILDS = ["structs_O0_g", "structs_O2_g"]

# Each groutine logs a call as the target prints it, from call.args by name.
SCRIPT = '''
import groutines as g

def num(v):
    return f"{v:g}" if isinstance(v, float) else str(v)

def show(call, names):
    args = call.args
    return ",".join(f"{n}={num(args[n])}" for n in names)

SHOWN = {
    "pair": ["n"], "two": ["n"], "big": ["n", "x"], "floats": ["f7", "f8", "n"],
    "spill": ["a5", "a6", "a7", "s"], "late": ["a4", "tail"],
}

def follow(function):
    async def body():
        async for call in g.calls(function):
            structs = [n for n, v in call.args.items() if n in ("p", "t", "b") and v is None]
            g.log(f"{function}({show(call, SHOWN[function])}) structs {structs}")
    return body

for function in SHOWN:
    g.groutine(name=function)(follow(function))
'''

def expected(i):
    """expected() is what the groutines log at iteration i (the target adds i to integers)."""
    return [
        f"pair(n={3 + i}) structs ['p']",
        f"two(n={6 + i}) structs ['t']",
        f"big(n={10 + i},x=1.25) structs ['b']",
        f"floats(f7=7.5,f8=8.5,n={11 + i}) structs []",
        f"spill(a5={15 + i},a6={16 + i},a7={17 + i},s={-18 - i}) structs []",
        f"late(a4={24 + i},tail={27 + i}) structs ['p']",
    ]


@pytest.mark.skipif(not PYTHON_BUILT, reason="the groutines Python module is not built")
@pytest.mark.parametrize("build", BUILDS)
def test_arguments_after_structs_by_value_and_spilled_ones_read_by_name(debugger, build, tmp_path):
    script = tmp_path / "groutine_structs.py"
    script.write_text(SCRIPT)
    s = debug(debugger, f"file {target(build)}", f"groutine load {script}", "run 2",
              "groutine report")
    assert len(s.target_lines(r"\w+\(.*\)=.*")) == 12, s
    for i in range(2):
        for want in expected(i):
            function = want.split("(")[0]
            assert want in s.logged(function), f"{want!r} not logged:\n{s}"
    assert "6 passed, 0 failed" in s.after("groutine report"), s
