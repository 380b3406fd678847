"""C++ member functions (tests/targets/members.cpp): `this`, which DWARF lists among the
parameters but the function's type does not, is read as the pointer it is (unsigned), and
every declared parameter follows it, by name and by index, for const and non-const members,
a member returning a struct in memory, a static member, an unnamed parameter (listed
with the name ""), a member defined in its class, and a class not trivial for calls returned
and passed by value (through pointers), a variadic function's parameter on the stack, at -O0
and -O2; the Python groutines under GDB too."""
import os
import re

import pytest

from conftest import PYTHON_BUILT, debug, groutine_library, lldb, target

BUILDS = ["members_O0_g", "members_O2_g"]
TRANSPORT = os.environ.get("GROUTINES_TRANSPORT", "auto")

# Each groutine logs a call as the target prints it: `this` in hex, then every other argument
# by its name, from call.args; and whether call.arg(name) and the argument's register (by its
# SysV index, `this` first, after a struct return's hidden pointer) agree with it.
SCRIPT = '''
import groutines as g

def signed(raw, bits):
    raw &= (1 << bits) - 1
    return raw - (1 << bits) if raw >> (bits - 1) else raw

def show(call, registers):
    args = call.args
    parts = []
    for name, value in args.items():
        if name == "this":
            parts.append(f"{value:#x}")
        elif name == "o":
            parts.append(f"o={value:#x}")
        elif not name:
            parts.append(f"?={value}")
        elif isinstance(value, float):
            parts.append(f"{name}={value:g}")
        else:
            parts.append(f"{name}={value}")
    by_name = all(call.arg(name) == value for name, value in args.items() if name)
    by_index = all(
        (call.float_arg(i) if kind == "f" else
         call.arg(i) if kind == "p" else signed(call.arg(i), kind)) == args[name]
        for name, (kind, i) in registers.items())
    g.log(f"{call.function}({','.join(parts)}) names {list(args)} "
          f"by name {'ok' if by_name else 'wrong'} by index {'ok' if by_index else 'wrong'}")

def follow(function, registers):
    async def body():
        async for call in g.calls(function):
            show(call, registers)
    return body

for function, registers in [
        ("E::foo", {"this": ("p", 0), "z": (32, 1)}),
        ("E::pick", {"this": ("p", 0), "": (32, 1), "w": (32, 2)}),
        ("L::bar", {"this": ("p", 0), "z": (64, 1), "w": (32, 2)}),
        ("L::scaled", {"this": ("p", 0), "f": ("f", 0), "k2": (32, 1)}),
        ("L::triple", {"this": ("p", 1), "z": (32, 2)}),
        ("L::count", {"z": (32, 0)}),
        ("L::owned", {"this": ("p", 1), "z": (32, 2)}),
        ("L::take", {"this": ("p", 0), "o": ("p", 1), "w": (32, 2)}),
        ("L::sum3", {"this": ("p", 0), "a": (32, 1), "b": (64, 2), "c": (32, 3)})]:
    g.groutine(name=function)(follow(function, registers))
'''


def expected(line):
    """expected() is what a groutine logs for a call the target printed as line."""
    call = line.rsplit("=", 1)[0]
    call = call.replace(",k=", ",k2=")  # the target prints k2 as k
    return call


@pytest.mark.skipif(not PYTHON_BUILT, reason="the groutines Python module is not built")
@pytest.mark.parametrize("build", BUILDS)
def test_python_reads_this_and_every_parameter_of_a_member_function(debugger, build, tmp_path):
    script = tmp_path / "groutine_members.py"
    script.write_text(SCRIPT)
    s = debug(debugger, f"file {target(build)}", f"groutine load {script}", "run 2",
              "groutine report", "groutine subscriptions")
    if debugger == "lldb" and TRANSPORT != "breakpoint":  # the layout is the agent's too
        assert re.search(r"^L::bar\s.*\sagent$", s.after("groutine subscriptions"), re.M), s
    # L::ac is a clone at -O2 (test_a_clone_that_drops_parameters...).
    printed = [line for line in s.target_lines(r"(E|L)::\w+\(.*\)=.*")
               if not line.startswith("L::ac(")]
    assert len(printed) == 18, s
    names = {"E::foo": "['this', 'z']", "E::pick": "['this', '', 'w']", "L::bar": "['this', 'z', 'w']",
             "L::scaled": "['this', 'f', 'k2']", "L::triple": "['this', 'z']",
             "L::count": "['z']", "L::sum3": "['this', 'a', 'b', 'c']",
             "L::owned": "['this', 'z']", "L::take": "['this', 'o', 'w']"}
    logged = [line for f in names for line in s.logged(f)]
    assert len(logged) == 18, s
    for line in printed:
        function = line.split("(")[0]
        want = (f"{expected(line)} names {names[function]} by name ok by index ok")
        assert want in s.logged(function), f"{want!r} not logged:\n{s}"
    assert "9 passed, 0 failed" in s.after("groutine report"), s


@pytest.mark.parametrize("build", BUILDS)
def test_a_cpp_groutine_reads_this_and_every_parameter_by_index_and_by_name(build):
    s = lldb(f"file {target(build)}", f"groutine load {groutine_library('members')}", "run 2",
             "groutine report")
    printed = s.target_lines(r"L::bar\(.*\)=.*")
    assert len(printed) == 2, s
    logged = s.logged("members-bar")
    assert len(logged) == 2, s
    for line, log in zip(printed, logged):
        m = re.fullmatch(r"L::bar\((0x[0-9a-f]+),z=(-?\d+),w=(-?\d+)\)=-?\d+", line)
        assert m, line
        this, z, w = m.groups()
        assert log == (f"L::bar({this},z={z},w={w}) by name z={z} w={w} this={this} "
                       "args this,z,w"), s
    assert "1 passed, 0 failed" in s.after("groutine report"), s


CLONE_SCRIPT = '''
import groutines as g

@g.groutine
async def clone():
    async for call in g.calls("L::ac"):
        g.log(f"{call.args} arg(0)={call.arg(0) & 0xffffffff} arg(1)={call.arg(1) & 0xffffffff}")
'''


@pytest.mark.skipif(not PYTHON_BUILT, reason="the groutines Python module is not built")
def test_a_clone_that_drops_parameters_reads_those_it_takes_where_dwarf_says(debugger, tmp_path):
    # At -O2 GCC calls L::ac(...) [clone .isra.0], which takes only a and c (in edi and esi)
    # and whose DWARF lists a, c, b, this: the parameters it does not take read none.
    script = tmp_path / "groutine_clone.py"
    script.write_text(CLONE_SCRIPT)
    s = debug(debugger, f"file {target('members_O2_g')}", f"groutine load {script}", "run 2",
              "groutine report")
    assert s.target_lines(r"L::ac\(.*") and len(s.target_lines(r"L::ac\(.*")) == 2, s
    assert s.logged("clone") == [
        "{'this': None, 'a': 4, 'c': 6, 'b': None} arg(0)=4 arg(1)=6",
        "{'this': None, 'a': 5, 'c': 7, 'b': None} arg(0)=5 arg(1)=7"], s


VARIADIC_SCRIPT = '''
import groutines as g

@g.groutine
async def variadic():
    async for call in g.calls("V::many"):
        g.log(",".join(f"{name}={value}" for name, value in call.args.items()))
'''


@pytest.mark.skipif(not PYTHON_BUILT, reason="the groutines Python module is not built")
@pytest.mark.parametrize("build", BUILDS)
def test_a_variadic_function_reads_every_named_parameter_also_the_one_on_the_stack(
        debugger, build, tmp_path):
    # V::many's demangled name, "V::many(int, int, int, int, int, int, int, ...)", holds dots,
    # as a clone's does (L::ac(...) [clone .isra.0]): it is no clone, and its g, on the stack,
    # which DWARF places in no register, is read there.
    script = tmp_path / "groutine_variadic.py"
    script.write_text(VARIADIC_SCRIPT)
    s = debug(debugger, f"file {target(build)}", f"groutine load {script}", "run 2",
              "groutine report")
    printed = s.target_lines(r"V::many\(.*\)=.*")
    assert len(printed) == 2, s
    assert s.logged("variadic") == [re.fullmatch(r"V::many\((.*)\)=.*", line)[1]
                                    for line in printed], s
