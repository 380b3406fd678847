"""Arguments the SysV classification places (structs by value, spilled integers and floats)
and C++ members' `this`, read by name under GDB as under LLDB: the LLDB suite's scripts,
run by both debuggers."""
import re

import pytest

from conftest import DEBUGGERS, debug, from_lldb_test, target

STRUCTS, structs_expected = from_lldb_test("test_structs", "SCRIPT", "expected")


@pytest.mark.parametrize("debugger", DEBUGGERS)
@pytest.mark.parametrize("build", ["structs_O0_g", "structs_O2_g"])
def test_arguments_after_structs_by_value_and_spilled_ones_read_by_name(debugger, build, tmp_path):
    script = tmp_path / "groutine_structs.py"
    script.write_text(STRUCTS)
    s = debug(debugger, f"file {target(build)}", f"groutine load {script}", "run 2",
              "groutine report")
    assert len(s.target_lines(r"\w+\(.*\)=.*")) == 12, s
    for i in range(2):
        for want in structs_expected(i):
            function = want.split("(")[0]
            assert want in s.logged(function), f"{want!r} not logged:\n{s}"
    assert "6 passed, 0 failed" in s.after("groutine report"), s


MEMBERS, members_expected = from_lldb_test("test_members", "SCRIPT", "expected")
MEMBER_NAMES = {
    "E::foo": "['this', 'z']", "E::pick": "['this', '', 'w']", "L::bar": "['this', 'z', 'w']",
    "L::scaled": "['this', 'f', 'k2']", "L::triple": "['this', 'z']", "L::count": "['z']",
    "L::sum3": "['this', 'a', 'b', 'c']", "L::owned": "['this', 'z']",
    "L::take": "['this', 'o', 'w']"}


@pytest.mark.parametrize("debugger", DEBUGGERS)
@pytest.mark.parametrize("build", ["members_O0_g", "members_O2_g"])
def test_python_reads_this_and_every_parameter_of_a_member_function(debugger, build, tmp_path):
    script = tmp_path / "groutine_members.py"
    script.write_text(MEMBERS)
    s = debug(debugger, f"file {target(build)}", f"groutine load {script}", "run 2",
              "groutine report")
    printed = [line for line in s.target_lines(r"(E|L)::\w+\(.*\)=.*")
               if not line.startswith("L::ac(")]
    assert len(printed) == 18, s
    for line in printed:
        function = line.split("(")[0]
        want = f"{members_expected(line)} names {MEMBER_NAMES[function]} by name ok by index ok"
        assert want in s.logged(function), f"{want!r} not logged:\n{s}"
    assert "9 passed, 0 failed" in s.after("groutine report"), s


CLONE, VARIADIC = from_lldb_test("test_members", "CLONE_SCRIPT", "VARIADIC_SCRIPT")


@pytest.mark.parametrize("debugger", DEBUGGERS)
def test_a_clone_that_drops_parameters_reads_those_it_takes_where_dwarf_says(debugger, tmp_path):
    # At -O2 GCC calls L::ac(...) [clone .isra.0], which takes only a and c (in edi and esi)
    # and whose DWARF lists a, c, b, this: the parameters it does not take read none.
    script = tmp_path / "groutine_clone.py"
    script.write_text(CLONE)
    s = debug(debugger, f"file {target('members_O2_g')}", f"groutine load {script}", "run 2",
              "groutine report")
    assert len(s.target_lines(r"L::ac\(.*")) == 2, s
    assert s.logged("clone") == [
        "{'this': None, 'a': 4, 'c': 6, 'b': None} arg(0)=4 arg(1)=6",
        "{'this': None, 'a': 5, 'c': 7, 'b': None} arg(0)=5 arg(1)=7"], s


@pytest.mark.parametrize("debugger", DEBUGGERS)
@pytest.mark.parametrize("build", ["members_O0_g", "members_O2_g"])
def test_a_variadic_function_reads_every_named_parameter_also_the_one_on_the_stack(
        debugger, build, tmp_path):
    script = tmp_path / "groutine_variadic.py"
    script.write_text(VARIADIC)
    s = debug(debugger, f"file {target(build)}", f"groutine load {script}", "run 2",
              "groutine report")
    printed = s.target_lines(r"V::many\(.*\)=.*")
    assert len(printed) == 2, s
    assert s.logged("variadic") == [re.fullmatch(r"V::many\((.*)\)=.*", line)[1]
                                    for line in printed], s
