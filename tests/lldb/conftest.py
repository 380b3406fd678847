"""Shared helpers for the LLDB integration tests.

Every test runs real LLDB in batch mode with the plugin loaded, over a program of
tests/targets/, and checks what the debugger printed; a test that takes `debugger` runs under
GDB too (its groutines behave the same there). The runs and their checks are sessions.py's,
shared with tests/gdb.
"""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from sessions import (DEBUGSERVER, EXAMPLES, LLDB, PLUGIN, PYTHON_BUILT, PYTHON_PACKAGE,  # noqa: F401
                      TARGETS, TEST_LIBRARIES, TIMEOUT, Session, debug, example, gdb,
                      groutine_library, lldb, script, target)

# The debugger the tests that take a `debugger` run under: "lldb" (lldb.NAME and
# lldb-breakpoint.NAME) or "gdb" (gdb.shared.NAME, tests/gdb/CMakeLists.txt). Under GDB only
# those tests run: the groutines and expectations the two debuggers share.
DEBUGGER = os.environ.get("GROUTINES_DEBUGGER", "lldb")


@pytest.fixture
def debugger():
    """debugger is the debugger this run drives, for debug(debugger, ...)."""
    return DEBUGGER


def pytest_collection_modifyitems(config, items):
    if DEBUGGER == "lldb":
        return
    shared = [item for item in items if "debugger" in item.fixturenames]
    config.hook.pytest_deselected(items=[item for item in items if item not in shared])
    items[:] = shared


def _lldb_python_path():
    out = subprocess.run([LLDB, "-P"], capture_output=True, text=True, timeout=30)
    return out.stdout.strip()


def driver(*commands, timeout=TIMEOUT):
    """driver() runs commands through the SB API (lldb_driver.py), going on after errors."""
    program = Path(__file__).with_name("lldb_driver.py")
    args = [sys.executable, str(program), f"plugin load {PLUGIN}", *commands]
    env = dict(os.environ, LLDB_DEBUGSERVER_PATH=DEBUGSERVER, PYTHONPATH=_lldb_python_path())
    try:
        proc = subprocess.run(args, capture_output=True, text=True, timeout=timeout, env=env,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"lldb_driver.py did not finish within {timeout}s: {commands}\n{e.stdout}")
    session = Session("lldb", commands, proc.stdout + proc.stderr, proc.returncode)
    assert proc.returncode == 0, f"lldb_driver.py failed:\n{session}"
    return session


def plugin_breakpoints(session, command="breakpoint list"):
    """plugin_breakpoints() parses `breakpoint list` output: ids of address breakpoints."""
    text = session.after(command)
    return [int(m.group(1)) for m in re.finditer(r"^(\d+): address = ", text, re.M)]
