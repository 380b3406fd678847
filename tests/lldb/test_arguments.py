"""Arguments and return values by position and by name, at -O0 and -O2, with and without
DWARF: the calls_checks groutines log each call the way the target prints it."""
import re

import pytest

from conftest import example, groutine_library, lldb, target

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


@pytest.mark.parametrize("build", ["calls_O2", "calls_O0_g"])
def test_a_call_reads_its_backtrace_registers_memory_and_strings(build):
    s = lldb(f"file {target(build)}", f"groutine load {example('inspect')}", "run 1",
             "groutine report")
    log = s.logged("inspect-greet")
    assert log[0] == "frames 2", s
    assert re.fullmatch(r"frame #0 0x[0-9a-f]+ calls_\w+`greet( at calls\.c:\d+)?", log[1]), s
    assert re.fullmatch(r"frame #1 0x[0-9a-f]+ calls_\w+`main \+ \d+( at calls\.c:\d+)?",
                        log[2]), s
    assert (" at calls.c:" in log[1]) == build.endswith("_g"), s
    assert log[3:] == [
        "function greet",
        "rdi is arg 0: yes",
        "edi is its low half: yes",
        "memory ada",
        "cstring ada",
        "cstring max 2 ad",
        "reg nope: unknown register 'nope'",
        "memory at 0: cannot read 8 bytes at 0x0: memory read failed for 0x0",
        "float arg 8: floating argument 8 is passed on the stack: only xmm0..xmm7 "
        "(indexes 0..7) are read",
        "return reg rax: no error",
        "stale call: event #1 is no longer current: the target has resumed since it was "
        "delivered",
    ], s
    assert "1 passed, 0 failed" in s.after("groutine report"), s


def test_a_cpp_groutine_evaluates_an_expression_from_deep_in_its_own_stack():
    s = lldb(f"file {target('calls_O2')}", f"groutine load {groutine_library('deep_evaluate')}",
             "run 2", "groutine report")
    assert s.logged("deep-evaluate") == ["add(0,1) evaluated 1", "add(1,2) evaluated 12"], s
    assert "1 passed, 0 failed" in s.after("groutine report"), s
