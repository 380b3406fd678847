"""The process under the debugger: attached to instead of launched (under GDB as well), served
remotely by lldb-server on loopback, detached from, and running an expression the user
evaluates."""
import os
import re
import select
import subprocess

import pytest

from conftest import (DEBUGSERVER, TIMEOUT, driver, example, gdb, lldb, plugin_breakpoints,
                      target)


@pytest.fixture
def running_calls():
    """A calls_O2 process that runs for a long time (killed at the end of the test)."""
    proc = subprocess.Popen([target("calls_O2"), "1000000000"], stdout=subprocess.DEVNULL,
                            stdin=subprocess.DEVNULL)
    yield proc
    proc.kill()
    proc.wait(timeout=30)


# GDB's frontend: the breakpoints it keeps planted.
PLANTED = ("python import groutines_gdb; "
           "print('planted', groutines_gdb.frontend().backend.planted())")


def test_an_attached_process_is_hooked_and_detaching_releases_its_return_breakpoints(
        debugger, running_calls):
    hooks = [f"groutine load {example('watch')}", "groutine fire watch slot=a function=add args=2",
             "groutine fire stop-at function=add after=3", "continue", "groutine subscriptions"]
    if debugger == "lldb":
        s = driver(f"process attach -p {running_calls.pid}", *hooks, "process detach",
                   "!wait detached", "groutine list", "breakpoint list", "groutine subscriptions",
                   "groutine report")
    else:
        s = gdb(f"attach {running_calls.pid}", *hooks, "detach", "groutine subscriptions",
                PLANTED, "groutine report")
    assert "stopped the target: add called 3 times, the last on thread " in s.output, s
    assert "returns awaited: 1 call at 1 return address" in s.output, s
    calls = s.logged("watch-a")
    assert len(calls) == 3, s
    a, b = re.match(r"add\((\d+),(\d+)\)=", calls[0]).groups()
    assert int(b) == int(a) + 1 and calls[0].startswith(f"add({a},{b})={int(a) + int(b)} "), s
    # The third call was stopped in; the detach unwound it and took its breakpoint away.
    assert re.fullmatch(r"add\(\d+,\d+\) unwound thread \d+", calls[2]), s
    detached = s.output.rsplit(s.echo("groutine subscriptions"), 1)[1]
    assert "returns awaited: 0 calls" in detached, s
    if debugger == "lldb":
        assert plugin_breakpoints(s) == [], s
    else:
        after = s.after("groutine subscriptions")  # the first; then after the detach:
        assert re.search(r"^add\s+-\d+\s+1\s+2\s+3\s+breakpoint$", after, re.M), s
        assert re.search(r"^add\s+-\d+\s+1\s+\d+\s+3\s+breakpoint$", detached, re.M), s
        assert "no such function" not in detached, s
        # One breakpoint left: the hook on add, by name, for the next process.
        assert re.fullmatch(r"planted \[-\d+\]", s.after(PLANTED)), s
    assert "3 passed, 0 failed" in s.after("groutine report"), s
    assert running_calls.poll() is None  # detached, not killed


def _gdbserver(program, *args):
    """_gdbserver() starts lldb-server gdbserver on a free loopback port; returns it and the
    port, read from the pipe lldb-server writes it to once it listens."""
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(
        [DEBUGSERVER, "gdbserver", "127.0.0.1:0", "--pipe", str(write_fd), "--", program, *args],
        pass_fds=(write_fd,), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL, text=True)
    os.close(write_fd)
    ready, _, _ = select.select([read_fd], [], [], TIMEOUT)
    assert ready, "lldb-server did not report its port"
    port = os.read(read_fd, 64).decode().strip("\0\n ")
    os.close(read_fd)
    return proc, int(port)


def test_a_remote_process_served_by_lldb_server_on_loopback_is_hooked():
    server, port = _gdbserver(target("calls_O2"), "2")
    try:
        s = lldb(f"file {target('calls_O2')}", f"groutine load {example('calls_checks')}",
                 f"gdb-remote 127.0.0.1:{port}", "continue", "groutine report")
    finally:
        server.kill()
        server.wait(timeout=30)
    assert s.logged("check-add") == ["add(0,1)=1 (no debug info)", "add(1,2)=3 (no debug info)"], s
    assert s.logged("check-mix") == ["mix(0,1,2,3,4,5,6,7)=168", "mix(1,2,3,4,5,6,7,8)=204"], s
    assert "5 passed, 0 failed" in s.after("groutine report"), s


def test_a_hooked_function_called_by_a_user_expression_runs_without_delivering():
    s = lldb(f"file {target('calls_O0_g')}", f"groutine load {example('calls_checks')}",
             f"groutine load {example('watch')}", "groutine fire stop-at function=add arg0=1",
             "run 2", "expression (int)add(20, 22)", "groutine list", "continue",
             "groutine report")
    assert "(int) $0 = 42" in s.after("expression (int)add(20, 22)"), s
    # LLDB runs no breakpoint callbacks inside expressions: add(20, 22) is not an event.
    assert all("20" not in line for line in s.logged("check-add")), s
    assert s.logged("check-add") == ["add(0,1)=1 named a=0 b=1 type int",
                                     "add(1,2)=3 named a=1 b=2 type int"], s
    assert "8 passed, 0 failed" in s.after("groutine report"), s


def test_the_event_log_keeps_at_most_its_capacity():
    s = lldb(f"file {target('calls_O0')}", f"groutine load {example('calls_checks')}",
             "groutine events --capacity 5", "run 3", "groutine events -n 100",
             "groutine events --clear", "groutine events")
    log = s.after("groutine events -n 100").splitlines()
    assert log[0].split() == ["SEQ", "THREAD", "KIND", "NAME", "DETAIL"], s
    assert len(log) == 6, s
    assert s.after("groutine events --clear") == "event log cleared\nno events logged", s
