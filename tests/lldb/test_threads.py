"""Several threads calling a hooked function at once: every call and every return is
delivered exactly once, and each return to its own call on its own thread; a thread's
rewrites and skips land on its own calls under GDB too."""
import re
from collections import Counter
from pathlib import Path

import pytest

from conftest import PYTHON_BUILT, debug, example, lldb, target

ITERATIONS = 40


def test_every_call_and_return_of_every_thread_is_delivered_once_and_matched():
    s = lldb(f"file {target('threads')}", f"groutine load {example('threads')}",
             f"run {ITERATIONS}", "groutine report", "groutine subscriptions", timeout=300)
    for t in range(4):
        seen = Counter(s.logged(f"work-{t}"))
        expected = {f"work({t},{i})={t * 1000 + i}" for i in range(ITERATIONS)}
        assert set(seen) == expected, s
        assert all(n == 1 for n in seen.values()), s
    # The target's own sums are untouched.
    n = ITERATIONS
    assert s.target_lines(r"work_sum\(\d\)=\d+") == [
        f"work_sum({t})={t * 1000 * n + n * (n - 1) // 2}" for t in range(4)], s
    assert "4 passed, 0 failed" in s.after("groutine report"), s
    subs = s.after("groutine subscriptions")
    assert re.search(r"^work\s+1\s+1\s+\d+\s+%d\s+\S+$" % (4 * ITERATIONS), subs, re.M), s
    assert "returns awaited: 0 calls" in subs, s


@pytest.mark.skipif(not PYTHON_BUILT, reason="the groutines Python module is not built")
@pytest.mark.parametrize("program", ["threads", "threads_O2"])  # -O0 -g; -O2 without DWARF
def test_python_groutines_follow_every_thread_and_rewrite_the_returns_of_one(program):
    script = Path(__file__).resolve().parents[1] / "python" / "scripts" / "groutine_lldb_threads.py"
    n = ITERATIONS
    s = lldb(f"file {target(program)}", f"groutine load {script}", f"run {n}", "groutine report",
             timeout=300)
    for t in range(4):
        seen = s.logged(f"work-{t}")
        value = (lambda i: t * 1000 + i + (1 if t == 2 else 0))
        assert seen == [f"work({t},{i})={value(i)} call {i + 1}" for i in range(n)], s
    base = [t * 1000 * n + n * (n - 1) // 2 for t in range(4)]
    assert s.target_lines(r"work_sum\(\d\)=\d+") == [
        f"work_sum({t})={base[t] + (n if t == 2 else 0)}" for t in range(4)], s
    assert "4 passed, 0 failed" in s.after("groutine report"), s


def test_rewrites_and_skips_land_on_the_calls_of_their_own_thread(debugger):
    # GDB stops at every call and return: fewer.
    n = ITERATIONS if debugger == "lldb" else 10
    s = debug(debugger, f"file {target('threads')}", f"groutine load {example('threads')}",
              f"groutine load {example('threads_decisions')}", f"run {n}", "groutine report",
              "groutine subscriptions", timeout=300)
    base = [t * 1000 * n + n * (n - 1) // 2 for t in range(4)]
    skipped = sum(3000 + i for i in range(n) if i % 2)
    assert s.target_lines(r"work_sum\(\d\)=\d+") == [
        f"work_sum(0)={base[0]}", f"work_sum(1)={base[1]}", f"work_sum(2)={base[2] + 5 * n}",
        f"work_sum(3)={base[3] - skipped}"], s
    # work-3, loaded first, waits for every return of work(3, i); a skipped call returns at
    # once with the forced 0, which its check (3000 + i) reports as a failure.
    seen = Counter(s.logged("work-3"))
    assert all(v == 1 for v in seen.values()), s
    assert set(seen) == {f"work(3,{i})={0 if i % 2 else 3000 + i}" for i in range(n)}, s
    report = s.after("groutine report")
    assert "5 passed, 1 failed" in report, s
    assert report.count("failed: 0 != 30") == n // 2, s
    assert "returns awaited: 0 calls" in s.after("groutine subscriptions"), s


def test_a_hook_released_while_other_threads_are_stopped_at_it_stops_nobody():
    # stop-at stops at the 5th call of work, takes one more call and ends: its hook goes while
    # the other threads of that stop may be stopped at it. None of them may stay stopped.
    s = lldb(f"file {target('threads')}", f"groutine load {example('watch')}",
             "groutine fire stop-at function=work after=5", "run 50", "continue",
             "breakpoint list", timeout=300)
    assert s.output.count("groutine 'stop-at' stopped the target: work called 5 times") == 1, s
    assert len(s.logged("stop-at")) == 1, s
    # One stop, the asked one; then the process runs to its end.
    assert len(re.findall(r"^Process \d+ stopped$", s.output, re.M)) == 1, s
    assert "exited with status = 0" in s.output, s
    assert "No breakpoints currently set." in s.after("breakpoint list"), s
