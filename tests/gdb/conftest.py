"""Shared helpers for the GDB integration tests.

Every test runs real GDB in batch mode (gdb -nx -batch) with the frontend sourced, over a
program of tests/targets/, and checks what the debugger printed. Tests that behave the same
under both debuggers and have no copy in tests/lldb take a `debugger` parameter and run LLDB
with the plugin too; those of tests/lldb that take `debugger` run here under GDB
(gdb.shared.NAME, CMakeLists.txt). The runs and their checks are tests/lldb/sessions.py's."""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lldb"))
from sessions import (FRONTEND, HAVE_LLDB, SCRIPTS, TIMEOUT, example, gdb,  # noqa: E402,F401
                      groutine_library, script, target)
import sessions  # noqa: E402

# Both debuggers, for the tests whose scripts behave the same under each.
DEBUGGERS = ["gdb", pytest.param("lldb", marks=pytest.mark.skipif(
    not HAVE_LLDB, reason="lldb-19 or the groutines LLDB plugin is not built"))]


def lldb(*commands, timeout=TIMEOUT):
    """lldb() runs LLDB in batch mode with the plugin, on breakpoints, its errors in one pipe
    with its output as gdb()'s are."""
    return sessions.lldb(*commands, timeout=timeout, env={"GROUTINES_TRANSPORT": "breakpoint"},
                         one_pipe=True)


def debug(debugger, *commands, timeout=TIMEOUT):
    """debug() runs commands under debugger ("gdb" or "lldb")."""
    return (gdb if debugger == "gdb" else lldb)(*commands, timeout=timeout)
