"""Shared helpers for the GDB integration tests.

Every test runs real GDB in batch mode (gdb -nx -batch) with the frontend sourced, over a
program of tests/targets/, and checks what the debugger printed. Tests that behave the same
under both debuggers take a `debugger` parameter and run LLDB with the plugin too. CTest
passes the build paths in the environment (see CMakeLists.txt); run by hand, they default
to the build/ tree."""
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

_BUILD = Path(os.environ.get("GROUTINES_BUILD_DIR", Path(__file__).resolve().parents[2] / "build"))
GDB = os.environ.get("GROUTINES_GDB", "/usr/bin/gdb")
FRONTEND = Path(os.environ.get("GROUTINES_GDB_FRONTEND", _BUILD / "gdb" / "groutines.py"))
LLDB = os.environ.get("GROUTINES_LLDB", "lldb-19")
PLUGIN = Path(os.environ.get("GROUTINES_PLUGIN", _BUILD / "lldb_plugin" / "libgroutines_lldb.so"))
EXAMPLES = Path(os.environ.get("GROUTINES_EXAMPLES_DIR", _BUILD / "groutines"))
TARGETS = Path(os.environ.get("GROUTINES_TARGETS_DIR", _BUILD / "tests" / "targets"))
TEST_LIBRARIES = Path(os.environ.get("GROUTINES_TEST_LIBRARIES_DIR", _BUILD / "tests" / "lldb"))
DEBUGSERVER = os.environ.get("LLDB_DEBUGSERVER_PATH", "/usr/lib/llvm-19/bin/lldb-server")
SCRIPTS = Path(__file__).resolve().parents[1] / "python" / "scripts"

# Every debugger run must end well within this many seconds, or the test fails.
TIMEOUT = 120

HAVE_LLDB = shutil.which(LLDB) is not None and PLUGIN.exists()

# Both debuggers, for the tests whose scripts behave the same under each.
DEBUGGERS = ["gdb", pytest.param("lldb", marks=pytest.mark.skipif(
    not HAVE_LLDB, reason="lldb-19 or the groutines LLDB plugin is not built"))]


def target(name):
    """target() is the path of a test program in tests/targets/."""
    path = TARGETS / name
    assert path.exists(), f"test target {path} is not built"
    return str(path)


def example(name):
    """example() is the path of a groutine library of groutines/examples/NAME.cpp."""
    path = EXAMPLES / f"libgroutine_{name}.so"
    assert path.exists(), f"groutine library {path} is not built"
    return str(path)


def script(name):
    """script() is the path of a Python groutine script of tests/python/scripts/."""
    return str(SCRIPTS / name)


class Session:
    """The output of one batch debugger run, with helpers to check it."""

    def __init__(self, debugger, commands, output, returncode):
        self.debugger = debugger
        self.commands = commands
        self.output = output
        self.returncode = returncode

    def lines(self):
        return self.output.splitlines()

    def logged(self, groutine):
        """logged() is every line groutine wrote with groutines.log(), in order."""
        prefix = f"[{groutine}] "
        return [line[len(prefix):] for line in self.lines() if line.startswith(prefix)]

    def _echo(self, command):
        return f"+{command}" if self.debugger == "gdb" else f"(lldb) {command}"

    def _is_echo(self, line):
        return line.startswith("+") if self.debugger == "gdb" else line.startswith("(lldb) ")

    def after(self, command):
        """after() is the output of command, from its echo to the next command's echo."""
        lines = self.lines()
        echo = self._echo(command)
        assert echo in lines, f"command {command!r} did not run:\n{self.output}"
        start = lines.index(echo) + 1
        end = start
        while end < len(lines) and not self._is_echo(lines[end]):
            end += 1
        return "\n".join(lines[start:end])

    def target_lines(self, pattern):
        """target_lines() is every line matching regex pattern exactly (the target's output)."""
        return [line for line in self.lines() if re.fullmatch(pattern, line)]

    def __str__(self):
        return self.output

    __repr__ = __str__


def _run(debugger, args, commands, timeout, env=None):
    try:
        # One pipe for both: errors land after the command that made them.
        proc = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              timeout=timeout, stdin=subprocess.DEVNULL, env=env,
                              errors="surrogateescape")
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"{debugger} did not finish within {timeout}s: {commands}\n{e.stdout}")
    session = Session(debugger, commands, proc.stdout, proc.returncode)
    # (The target's own "Program received signal SIGSEGV, Segmentation fault." is no crash.)
    assert proc.returncode >= 0, f"{debugger} died of signal {-proc.returncode}:\n{session}"
    for crash in ("Fatal signal", "PLEASE submit a bug report", "internal-error",
                  "Traceback (most recent call last)"):
        assert crash not in session.output, f"{debugger} crashed:\n{session}"
    return session


def gdb(*commands, timeout=TIMEOUT, env=None, frontend=FRONTEND):
    """gdb() runs GDB in batch mode: the frontend sourced, then commands, one -ex each,
    each echoed as "+COMMAND" (set trace-commands on)."""
    # GDB's thread notices would land in the middle of the target's lines (one pipe).
    args = [GDB, "-nx", "-batch", "-ex", f"source {frontend}", "-ex", "set trace-commands on",
            "-ex", "set confirm off", "-ex", "set print thread-events off"]
    for c in commands:
        args += ["-ex", c]
    return _run("gdb", args, commands, timeout, env=dict(os.environ, **(env or {})))


def lldb(*commands, timeout=TIMEOUT):
    """lldb() runs LLDB in batch mode: plugin load, then commands, one -o each."""
    args = [LLDB, "--batch", "--no-lldbinit", "-o", f"plugin load {PLUGIN}"]
    for c in commands:
        args += ["-o", c]
    env = dict(os.environ, LLDB_DEBUGSERVER_PATH=DEBUGSERVER, GROUTINES_TRANSPORT="breakpoint")
    return _run("lldb", args, commands, timeout, env=env)


def debug(debugger, *commands, timeout=TIMEOUT):
    """debug() runs commands under debugger ("gdb" or "lldb")."""
    return (gdb if debugger == "gdb" else lldb)(*commands, timeout=timeout)


def groutine_library(name):
    """groutine_library() is the path of a groutine library of tests/lldb/groutines/NAME.cpp."""
    path = TEST_LIBRARIES / f"libgroutine_{name}.so"
    assert path.exists(), f"groutine library {path} is not built"
    return str(path)


def from_lldb_test(module, *names):
    """from_lldb_test() are the top-level constants and functions called names of
    tests/lldb/MODULE.py (its groutine scripts and expectations), taken from its source so the
    two suites share one copy without importing the LLDB suite's conftest."""
    import ast
    path = Path(__file__).resolve().parents[1] / "lldb" / f"{module}.py"
    tree = ast.parse(path.read_text(), str(path))
    wanted = [node for node in tree.body
              if (isinstance(node, ast.Assign) and any(getattr(t, "id", None) in names
                                                        for t in node.targets))
              or (isinstance(node, ast.FunctionDef) and node.name in names)]
    namespace = {}
    exec(compile(ast.Module(body=wanted, type_ignores=[]), str(path), "exec"), namespace)
    missing = [n for n in names if n not in namespace]
    assert not missing, f"{path} has no {missing}"
    return [namespace[n] for n in names] if len(names) > 1 else namespace[names[0]]
