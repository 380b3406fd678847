"""Processes GDB did not launch itself: one it attaches to, hooked like a launched one, whose
detach delivers the awaited returns as unwound, takes every return breakpoint away, leaves the
process running and puts the hooks back by name for the next process; and a remote one that
gdbserver serves."""
import re
import shutil
import subprocess

import pytest

from conftest import example, gdb, script, target

PLANTED = ("python import groutines_gdb; "
           "print('planted', groutines_gdb.frontend().backend.planted())")


@pytest.fixture
def running_calls():
    """A calls_O2 process that runs for a long time (killed at the end of the test)."""
    proc = subprocess.Popen([target("calls_O2"), "1000000000"], stdout=subprocess.DEVNULL,
                            stdin=subprocess.DEVNULL)
    yield proc
    proc.kill()
    proc.wait(timeout=30)


def test_an_attached_process_is_hooked_and_detaching_releases_its_return_breakpoints(
        running_calls):
    s = gdb(f"attach {running_calls.pid}", f"groutine load {example('watch')}",
            "groutine fire watch slot=a function=add args=2",
            "groutine fire stop-at function=add after=3", "continue", "groutine subscriptions",
            "detach", "groutine subscriptions", PLANTED, "groutine report")
    assert "stopped the target: add called 3 times, the last on thread " in s.output, s
    assert "returns awaited: 1 call at 1 return address" in s.output, s
    calls = s.logged("watch-a")
    assert len(calls) == 3, s
    a, b = re.match(r"add\((\d+),(\d+)\)=", calls[0]).groups()
    assert int(b) == int(a) + 1 and calls[0].startswith(f"add({a},{b})={int(a) + int(b)} "), s
    # The third call was stopped in; the detach unwound it and took its breakpoint away.
    assert re.fullmatch(r"add\(\d+,\d+\) unwound thread \d+", calls[2]), s
    after = s.after("groutine subscriptions")  # the first; then after the detach:
    assert re.search(r"^add\s+-\d+\s+1\s+2\s+3\s+breakpoint$", after, re.M), s
    detached = s.output.rsplit("+groutine subscriptions", 1)[1]
    assert re.search(r"^add\s+-\d+\s+1\s+\d+\s+3\s+breakpoint$", detached, re.M), s
    assert "returns awaited: 0 calls" in detached and "no such function" not in detached, s
    # One breakpoint left: the hook on add, by name, for the next process.
    assert re.fullmatch(r"planted \[-\d+\]", s.after(PLANTED)), s
    assert "3 passed, 0 failed" in s.after("groutine report"), s
    assert running_calls.poll() is None  # detached, not killed


@pytest.mark.skipif(shutil.which("gdbserver") is None, reason="gdbserver is not installed")
def test_a_remote_process_served_by_gdbserver_is_hooked_as_a_local_one():
    program = target("calls_O0_g")
    s = gdb(f"file {program}", f"groutine load {script('groutine_lldb_calls.py')}",
            f"target remote | gdbserver - {program} 2", "continue", "groutine report")
    for line in ["py: add(0,1) named={'a': 0, 'b': 1} evaluated=1 -> 1", "add(0,1)=1001",
                 "py: scale(2.5,3.0) -> 7.5", 'parse_header("GR header 0",11)=-7',
                 "py: greet bob -> hello, bob"]:
        assert line in s.lines(), f"{line!r} missing:\n{s}"
    assert "4 passed, 0 failed" in s.after("groutine report"), s
