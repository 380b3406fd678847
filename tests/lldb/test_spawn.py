"""spawn(): a child groutine per call awaits that call's return while its parent takes the
next call, so that a recursion and concurrent threads have every call paired with its own
return and none missed; a groutine awaiting returns in line misses the calls made meanwhile,
and the report says how many. The pairing of a recursion and of four threads runs under GDB
as well."""
import re
from pathlib import Path

import pytest

from conftest import PYTHON_BUILT, debug, groutine_library, lldb, target


def block(report, name):
    """block() is groutine name's lines in a report: its verdict line and those under it."""
    lines = report.splitlines()
    start = next(i for i, line in enumerate(lines) if re.match(rf"(PASS|FAIL) {name} ", line))
    end = start + 1
    while end < len(lines) and lines[end].startswith("  "):
        end += 1
    return lines[start:end]


# GDB stops at every hooked call and return, at a cost LLDB's agent does not have: smaller runs.
DEPTH = {"lldb": 200, "gdb": 50}
CALLS_PER_THREAD = {"lldb": 500, "gdb": 25}


def test_a_recursion_has_every_call_paired_with_its_own_return_by_spawned_children(debugger):
    depth = DEPTH[debugger]
    s = debug(debugger, f"file {target('recursive')}",
              f"groutine load {groutine_library('spawn_pairs')}", f"run 1 {depth}",
              "groutine report", "groutine list", timeout=600)
    assert s.target_lines(r"triangle\(.*") == [f"triangle({depth})={depth * (depth + 1) // 2}"], s
    report = s.after("groutine report")
    # depth + 1 calls (triangle(depth) .. triangle(0)): one child each, each checked its return.
    assert block(report, "pair-triangle") == [
        f"PASS pair-triangle (waiting on call of triangle, {depth + 1} events)",
        f"  children: {depth + 1} spawned, 0 live, {depth + 1} ended (0 failed)"], s
    # Awaiting the outer return in line, the nested calls came while it was busy.
    assert block(report, "in-line-triangle") == [
        "PASS in-line-triangle (waiting on call of triangle, 2 events)",
        f"  missed {depth} calls of triangle (busy when they came)"], s
    assert "3 passed, 0 failed" in report, s
    # Reaped: no child is left in the list.
    assert "triangle-return" not in s.after("groutine list"), s
    assert re.search(rf"^\d+\s+pair-triangle\s+.*\s+0 live, {depth + 1} ended\s",
                     s.after("groutine list"), re.M), s


def test_four_threads_making_500_calls_each_have_every_call_paired_with_its_own_return():
    n = 500
    s = lldb(f"file {target('threads')}", f"groutine load {groutine_library('spawn_pairs')}",
             f"run {n}", "groutine report", timeout=600)
    assert s.target_lines(r"work_sum\(\d\)=\d+") == [
        f"work_sum({t})={t * 1000 * n + n * (n - 1) // 2}" for t in range(4)], s
    report = s.after("groutine report")
    assert block(report, "pair-work") == [
        f"PASS pair-work (waiting on call of work, {4 * n} events)",
        f"  children: {4 * n} spawned, 0 live, {4 * n} ended (0 failed)"], s
    assert "3 passed, 0 failed" in report, s


def test_a_live_child_is_listed_and_reported_under_its_parent_and_unloaded_with_it():
    s = lldb(f"file {target('recursive')}", f"groutine load {groutine_library('spawn_pairs')}",
             "breakpoint set -n main", "run 1 3", "breakpoint delete 1",
             "breakpoint set -n triangle -c 'n == 0'", "continue", "groutine list",
             "groutine report", "groutine unload pair-triangle", "groutine list", "continue",
             timeout=600)
    listed = s.after("groutine list")
    rows = [line for line in listed.splitlines() if "triangle-return" in line]
    # triangle(3), (2), (1) and (0) are running: their children wait for the returns.
    assert len(rows) == 4 and all(re.match(r"^\d+\s+  triangle-return\s+waiting on return of call #\d+\s", r)
                                  for r in rows), s
    report = s.after("groutine report")
    assert "  children: 4 spawned, 4 live, 0 ended (0 failed)" in report, s
    assert report.count("  PASS triangle-return (waiting on return of call #") == 4, s
    last = s.output[s.output.rindex("(lldb) groutine list"):]
    assert "pair-triangle" not in last and "triangle-return" not in last, s
    assert s.target_lines(r"triangle\(.*") == ["triangle(3)=6"], s


def test_a_childs_failure_is_its_own_and_reported_under_its_parent():
    s = lldb(f"file {target('recursive')}", f"groutine load {groutine_library('spawn_failures')}",
             "run 1 200", "groutine report", timeout=600)
    assert s.target_lines(r"triangle\(.*") == ["triangle(200)=20100"], s
    lines = block(s.after("groutine report"), "fifties-fail")
    # The parent took every call and goes on; five children failed (n = 200, 150, ..., 0, the
    # returns come innermost first), the one of n = 100 ended by its REQUIRE.
    assert lines[:2] == ["FAIL fifties-fail (waiting on call of triangle, 201 events)",
                         "  children: 201 spawned, 0 live, 201 ended (5 failed)"], s
    failures = lines[2:]
    assert len(failures) == 6, s
    assert all("(in child fifty-check)" in f for f in failures[:1]), s
    assert [re.search(r"failed: (n=\d+)", f).group(1) for f in failures if "n=" in f] == [
        "n=0", "n=50", "n=100", "n=150", "n=200"], s
    ended = [f for f in failures if f.endswith("(ended child fifty-check)")]
    assert len(ended) == 1 and "GROUTINE_REQUIRE(n != 100) failed" in ended[0], s
    assert "0 passed, 1 failed" in s.after("groutine report"), s


SCRIPT = Path(__file__).resolve().parents[1] / "python" / "scripts" / "groutine_lldb_spawn.py"


@pytest.mark.skipif(not PYTHON_BUILT, reason="the groutines Python module is not built")
def test_python_children_pair_every_call_of_a_recursion_of_depth_200_with_its_return():
    s = lldb(f"file {target('recursive')}", f"groutine load {SCRIPT}", "run 1 200",
             "groutine report", timeout=600)
    assert s.target_lines(r"triangle\(.*") == ["triangle(200)=20100"], s
    assert block(s.after("groutine report"), "pair_triangle") == [
        "PASS pair_triangle (waiting on call of triangle, 201 events)",
        "  children: 201 spawned, 0 live, 201 ended (0 failed)"], s
    assert "2 passed, 0 failed" in s.after("groutine report"), s


@pytest.mark.skipif(not PYTHON_BUILT, reason="the groutines Python module is not built")
def test_python_children_pair_every_call_of_four_threads_with_its_own_return(debugger):
    n = CALLS_PER_THREAD[debugger]
    s = debug(debugger, f"file {target('threads')}", f"groutine load {SCRIPT}", f"run {n}",
              "groutine report", timeout=600)
    assert s.target_lines(r"work_sum\(\d\)=\d+") == [
        f"work_sum({t})={t * 1000 * n + n * (n - 1) // 2}" for t in range(4)], s
    assert block(s.after("groutine report"), "pair_work") == [
        f"PASS pair_work (waiting on call of work, {4 * n} events)",
        f"  children: {4 * n} spawned, 0 live, {4 * n} ended (0 failed)"], s
    assert "2 passed, 0 failed" in s.after("groutine report"), s
