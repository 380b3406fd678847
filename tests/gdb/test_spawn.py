"""spawn() under GDB as under LLDB: a child groutine per call pairs every call of a recursion
and of four threads with its own return, where a groutine awaiting returns in line misses
the calls made meanwhile; the report and the list say so."""
import re

import pytest

from conftest import DEBUGGERS, debug, groutine_library, script, target

def report_block(report, name):
    """report_block() is groutine name's lines in a report: its verdict and those under it."""
    lines = report.splitlines()
    start = next(i for i, line in enumerate(lines) if re.match(rf"(PASS|FAIL) {name} ", line))
    end = start + 1
    while end < len(lines) and lines[end].startswith("  "):
        end += 1
    return lines[start:end]


@pytest.mark.parametrize("debugger", DEBUGGERS)
def test_a_recursion_has_every_call_paired_with_its_own_return_by_spawned_children(debugger):
    s = debug(debugger, f"file {target('recursive')}",
              f"groutine load {groutine_library('spawn_pairs')}", "run 1 50", "groutine report",
              "groutine list")
    assert s.target_lines(r"triangle\(.*") == ["triangle(50)=1275"], s
    report = s.after("groutine report")
    assert report_block(report, "pair-triangle") == [
        "PASS pair-triangle (waiting on call of triangle, 51 events)",
        "  children: 51 spawned, 0 live, 51 ended (0 failed)"], s
    assert report_block(report, "in-line-triangle") == [
        "PASS in-line-triangle (waiting on call of triangle, 2 events)",
        "  missed 50 calls of triangle (busy when they came)"], s
    assert "3 passed, 0 failed" in report, s
    listing = s.after("groutine list")
    assert "triangle-return" not in listing, s
    assert re.search(r"^\d+\s+pair-triangle\s+.*\s+0 live, 51 ended\s", listing, re.M), s


@pytest.mark.parametrize("debugger", DEBUGGERS)
def test_python_children_pair_every_call_of_four_threads_with_its_own_return(debugger):
    n = 25
    s = debug(debugger, f"file {target('threads')}",
              f"groutine load {script('groutine_lldb_spawn.py')}", f"run {n}", "groutine report")
    assert s.target_lines(r"work_sum\(\d\)=\d+") == [
        f"work_sum({t})={t * 1000 * n + n * (n - 1) // 2}" for t in range(4)], s
    assert report_block(s.after("groutine report"), "pair_work") == [
        f"PASS pair_work (waiting on call of work, {4 * n} events)",
        f"  children: {4 * n} spawned, 0 live, {4 * n} ended (0 failed)"], s
    assert "2 passed, 0 failed" in s.after("groutine report"), s
