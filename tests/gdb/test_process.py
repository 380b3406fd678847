"""A remote process that gdbserver serves, hooked as a local one. (A process GDB attaches to,
hooked like a launched one, whose detach delivers the awaited returns as unwound, takes every
return breakpoint away, leaves the process running and puts the hooks back by name for the
next process, is tests/lldb/test_process.py, run under GDB as gdb.shared.test_process.)"""
import shutil

import pytest

from conftest import gdb, script, target


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
