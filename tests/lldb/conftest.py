"""Shared helpers for the LLDB integration tests.

Every test runs real LLDB in batch mode with the plugin loaded, over a program of
tests/targets/, and checks what the debugger printed. CTest passes the build paths in the
environment (see CMakeLists.txt); run by hand, they default to the build/ tree.
"""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

_BUILD = Path(os.environ.get("GROUTINES_BUILD_DIR", Path(__file__).resolve().parents[2] / "build"))
LLDB = os.environ.get("GROUTINES_LLDB", "lldb-19")
PLUGIN = Path(os.environ.get("GROUTINES_PLUGIN", _BUILD / "lldb_plugin" / "libgroutines_lldb.so"))
EXAMPLES = Path(os.environ.get("GROUTINES_EXAMPLES_DIR", _BUILD / "groutines"))
TARGETS = Path(os.environ.get("GROUTINES_TARGETS_DIR", _BUILD / "tests" / "targets"))
TEST_LIBRARIES = Path(os.environ.get("GROUTINES_TEST_LIBRARIES_DIR", _BUILD / "tests" / "lldb"))
DEBUGSERVER = os.environ.get("LLDB_DEBUGSERVER_PATH", "/usr/lib/llvm-19/bin/lldb-server")

# The groutines Python module, which `groutine load x.py` hands scripts to, when built.
PYTHON_PACKAGE = PLUGIN.parents[1] / "python" / "groutines"
PYTHON_BUILT = any(PYTHON_PACKAGE.glob("_native*.so"))

# Every LLDB run must end well within this many seconds, or the test fails.
TIMEOUT = 120

# Lines the debuggee prints, and LLDB's asynchronous process notices: they reach the output
# whenever the target writes them, so they can land inside any command's output.
_ASYNC_LINE = re.compile(
    r"[a-z_]+\(.*\)(=.*| longjmp| threw .*)|work_sum\(\d\)=-?\d+|dlopen \S+|[a-z]+ sum=-?\d+|"
    r"Process \d+ (resuming|exited .*|stopped|launched: .*)")


def target(name):
    """target() is the path of a test program in tests/targets/."""
    path = TARGETS / name
    assert path.exists(), f"test target {path} is not built"
    return str(path)


def example(name):
    """example() is the path of a stock groutine library, groutines/examples/NAME.cpp."""
    path = EXAMPLES / f"libgroutine_{name}.so"
    assert path.exists(), f"groutine library {path} is not built"
    return str(path)


def groutine_library(name):
    """groutine_library() is the path of a groutine library of tests/lldb/groutines/NAME.cpp."""
    path = TEST_LIBRARIES / f"libgroutine_{name}.so"
    assert path.exists(), f"groutine library {path} is not built"
    return str(path)


# Where a groutine's log line ("[name] text") starts in the middle of another line.
_GLUED_LOG = re.compile(r"(?<=[^\s\[(])(?=\[[A-Za-z][\w .#:/-]*\] )")


class Session:
    """The output of one batch LLDB run, with helpers to check it."""

    def __init__(self, commands, output, returncode):
        self.commands = commands
        self.output = output
        self.returncode = returncode

    def lines(self):
        """lines() is the output's lines, a groutine's log line glued to the end of a target
        line taken apart again: the pty hands LLDB a target's line and its newline in two
        reads (the tty's newline translation), and a log the agent's service thread prints
        between them lands in the middle ('add(2,3)=5[check-add] ...')."""
        return [part for line in self.output.splitlines()
                for part in _GLUED_LOG.split(line)]

    def logged(self, groutine):
        """logged() is every line groutine wrote with groutines::log(), in order."""
        prefix = f"[{groutine}] "
        return [line[len(prefix):] for line in self.lines() if line.startswith(prefix)]

    def after(self, command):
        """after() is the output of command: from its echo to the next command's echo,
        without the target's own lines and LLDB's process notices that interleave with it."""
        lines = self.lines()
        echo = f"(lldb) {command}"
        assert echo in lines, f"command {command!r} did not run:\n{self.output}"
        start = lines.index(echo) + 1
        end = start
        while end < len(lines) and not lines[end].startswith("(lldb) "):
            end += 1
        return "\n".join(line for line in lines[start:end] if not _ASYNC_LINE.fullmatch(line))

    def target_lines(self, pattern):
        """target_lines() is every line matching regex pattern exactly (the target's output)."""
        return [line for line in self.lines() if re.fullmatch(pattern, line)]

    def __str__(self):
        return self.output

    __repr__ = __str__


def lldb(*commands, timeout=TIMEOUT):
    """lldb() runs LLDB in batch mode: plugin load, then commands, one -o each."""
    args = [LLDB, "--batch", "--no-lldbinit", "-o", f"plugin load {PLUGIN}"]
    for c in commands:
        args += ["-o", c]
    env = dict(os.environ, LLDB_DEBUGSERVER_PATH=DEBUGSERVER)
    try:
        proc = subprocess.run(args, capture_output=True, text=True, timeout=timeout, env=env,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
        pytest.fail(f"lldb did not finish within {timeout}s: {commands}\n{out}")
    session = Session(commands, proc.stdout + proc.stderr, proc.returncode)
    assert "PLEASE submit a bug report" not in session.output, f"lldb crashed:\n{session}"
    assert "Segmentation fault" not in session.output, f"lldb crashed:\n{session}"
    return session


def _lldb_python_path():
    out = subprocess.run([LLDB, "-P"], capture_output=True, text=True, timeout=30)
    return out.stdout.strip()


def driver(*commands, timeout=TIMEOUT):
    """driver() runs commands through the SB API (lldb_driver.py), going on after errors."""
    script = Path(__file__).with_name("lldb_driver.py")
    args = [sys.executable, str(script), f"plugin load {PLUGIN}", *commands]
    env = dict(os.environ, LLDB_DEBUGSERVER_PATH=DEBUGSERVER, PYTHONPATH=_lldb_python_path())
    try:
        proc = subprocess.run(args, capture_output=True, text=True, timeout=timeout, env=env,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"lldb_driver.py did not finish within {timeout}s: {commands}\n{e.stdout}")
    session = Session(commands, proc.stdout + proc.stderr, proc.returncode)
    assert proc.returncode == 0, f"lldb_driver.py failed:\n{session}"
    return session


def plugin_breakpoints(session, command="breakpoint list"):
    """plugin_breakpoints() parses `breakpoint list` output: ids of address breakpoints."""
    text = session.after(command)
    return [int(m.group(1)) for m in re.finditer(r"^(\d+): address = ", text, re.M)]
