"""Return events, under LLDB and GDB alike: values rewritten before the caller sees them (rax,
xmm0), calls skipped with a forced return (an int, a double), a skipped call's watched return
delivered with the forced value, and returns matched to their own call when the function
recurses; and hooks only at a function's out-of-line entry: malloc hooked before the program
starts (not ld.so's inlined copies), a function inlined in one place hooked at its entry
only."""
import re

import pytest

from conftest import debug, example, target


@pytest.mark.parametrize("build", ["calls_O0_g", "calls_O2"])
def test_a_rewritten_return_value_is_what_the_caller_sees(debugger, build):
    s = debug(debugger, f"file {target(build)}", f"groutine load {example('rewrite')}", "run 2",
              "groutine report")
    # add() in rax, scale() in xmm0.
    assert s.target_lines(r"add\(.*") == ["add(0,1)=1001", "add(1,2)=1003"], s
    assert s.target_lines(r"scale\(.*") == ["scale(1.5,2)=30", "scale(2.5,3)=75"], s
    assert "2 passed, 0 failed" in s.after("groutine report"), s


@pytest.mark.parametrize("build", ["calls_O0_g", "calls_O2"])
def test_return_now_skips_the_body_and_the_caller_gets_the_value(debugger, build):
    s = debug(debugger, f"file {target(build)}", f"groutine load {example('skip_parse')}",
              "run 4", "groutine events -n 100")
    # Bodies of good headers run (=len); bad ones are skipped (-99, not the body's -1).
    assert s.target_lines(r"parse_header\(.*") == [
        'parse_header("GR header 0",11)=11', 'parse_header("XX header 1",11)=-99',
        'parse_header("GR header 2",11)=11', 'parse_header("XX header 3",11)=-99'], s
    assert s.logged("skip-bad-headers") == [
        'skipped parse_header("XX header 1")', 'skipped parse_header("XX header 3")'], s
    assert s.after("groutine events -n 100").count("skipped: returns -99") == 2, s
    # A double comes back in xmm0.
    assert s.target_lines(r"scale\(.*") == [
        "scale(1.5,2)=3", "scale(2.5,3)=42.5", "scale(3.5,4)=14", "scale(4.5,5)=22.5"], s
    # The rest of the program is unaffected by the skipped frames.
    assert s.target_lines(r"mix\(.*")[-1] == "mix(3,4,5,6,7,8,9,10)=276", s


def test_skipping_and_watching_the_same_call_reports_the_forced_value_as_its_return(debugger):
    s = debug(debugger, f"file {target('calls_O2')}", f"groutine load {example('skip_parse')}",
              f"groutine load {example('calls_checks')}", "run 2", "groutine report")
    assert s.logged("check-parse-header") == ['parse_header("GR header 0",11)=11',
                                              'parse_header("XX header 1",11)=-99'], s


def test_returns_of_recursive_calls_go_to_their_own_call(debugger):
    s = debug(debugger, f"file {target('recursive')}", f"groutine load {example('recursion')}",
              "run 3", "groutine report", "groutine subscriptions")
    for k, value in [(1, 1), (2, 2), (3, 6), (4, 24), (5, 120)]:
        assert s.logged(f"fact-{k}") == [f"fact({k})={value}"] * 3, s
    assert s.target_lines(r"fact\(5\)=.*") == ["fact(5)=120"] * 3, s
    assert "5 passed, 0 failed" in s.after("groutine report"), s
    assert "returns awaited: 0 calls at 0 return addresses" in s.after("groutine subscriptions")


def test_malloc_hooked_before_the_program_starts_sees_calls_and_the_program_runs_to_its_end(
        debugger):
    s = debug(debugger, f"file {target('calls_O0_g')}", f"groutine load {example('watch')}",
              "groutine fire watch slot=a function=malloc args=1", "run 1",
              "groutine subscriptions")
    assert s.target_lines(r"add\(.*") == ["add(0,1)=1"], s
    calls = s.logged("watch-a")
    assert calls and all(re.fullmatch(r"malloc\(\d+\)=-?\d+ thread \d+", c) for c in calls), s


def test_a_function_inlined_in_one_place_is_hooked_only_at_its_out_of_line_entry(debugger):
    s = debug(debugger, f"file {target('inlined')}", f"groutine load {example('watch')}",
              "groutine fire watch slot=a function=bump args=1", "run 3",
              "groutine subscriptions")
    assert [c.rsplit(" thread ", 1)[0] for c in s.logged("watch-a")] == [
        "bump(10)=11", "bump(11)=12", "bump(12)=13"], s
    assert s.target_lines(r"bump\(.*") == ["bump(0)=1 bump(10)=11", "bump(1)=2 bump(11)=12",
                                           "bump(2)=3 bump(12)=13"], s
    assert re.search(r"^bump\s+-?\d+\s+1\s+\d+\s+3\s+\S+$", s.after("groutine subscriptions"),
                     re.M), s
