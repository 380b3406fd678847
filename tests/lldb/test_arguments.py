"""Arguments and return values by position and by name, at -O0 and -O2, with and without
DWARF: the calls_checks groutines log each call the way the target prints it."""
import pytest

from conftest import example, lldb, target

BUILDS = ["calls_O0_g", "calls_O2_g", "calls_O0", "calls_O2"]


@pytest.mark.parametrize("build", BUILDS)
def test_positional_arguments_and_return_values_match_what_the_target_prints(build):
    s = lldb(f"file {target(build)}", f"groutine load {example('calls_checks')}", "run 3",
             "groutine report")
    printed = s.target_lines(r"(add|scale|parse_header|mix)\(.*\)=.*")
    assert len(printed) == 12, s
    logged = {line.split(" named")[0].split(" (no debug")[0]
              for g in ("check-add", "check-scale", "check-parse-header", "check-mix")
              for line in s.logged(g)}
    for line in printed:
        assert line in logged, f"{line!r} not seen by a groutine:\n{s}"
    assert s.logged("check-greet") == [
        'greet("ada") returned a pointer', 'greet("bob") returned a pointer',
        'greet("cy") returned a pointer']
    assert "5 passed, 0 failed" in s.after("groutine report"), s


@pytest.mark.parametrize("build", ["calls_O0_g", "calls_O2_g"])
def test_named_arguments_from_dwarf_agree_with_positional_ones(build):
    s = lldb(f"file {target(build)}", f"groutine load {example('calls_checks')}", "run 2",
             "groutine report")
    assert s.logged("check-add") == ["add(0,1)=1 named a=0 b=1 type int",
                                     "add(1,2)=3 named a=1 b=2 type int"], s
    # check-scale and check-mix compare every named argument with its register or stack slot.
    assert "PASS check-scale" in s.output and "PASS check-mix" in s.output, s


@pytest.mark.parametrize("build", ["calls_O0", "calls_O2"])
def test_without_debug_info_there_are_no_named_arguments(build):
    s = lldb(f"file {target(build)}", f"groutine load {example('calls_checks')}", "run 1")
    assert s.logged("check-add") == ["add(0,1)=1 (no debug info)"], s


@pytest.mark.parametrize("build", BUILDS)
def test_hooks_sit_on_the_first_instruction_not_after_the_prologue(build):
    s = lldb(f"file {target(build)}", f"groutine load {example('calls_checks')}", "run 1",
             "breakpoint list 1")
    listing = s.after("breakpoint list 1")
    # LLDB names a location inside a function "add + N"; at its first instruction, just "add".
    assert f"where = {build}`add" in listing, s
    assert "`add + " not in listing, s
