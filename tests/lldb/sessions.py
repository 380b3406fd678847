"""Helpers shared by the LLDB and the GDB integration tests: where the build put the test
programs and groutines, one batch debugger run (lldb() with the plugin, gdb() with the
frontend, debug() either) and the Session that checks its output. tests/lldb/conftest.py and
tests/gdb/conftest.py export them; CTest passes the build paths in the environment (see the
CMakeLists.txt beside each); run by hand, they default to the build/ tree."""
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

_BUILD = Path(os.environ.get("GROUTINES_BUILD_DIR", Path(__file__).resolve().parents[2] / "build"))
LLDB = os.environ.get("GROUTINES_LLDB", "lldb-19")
PLUGIN = Path(os.environ.get("GROUTINES_PLUGIN", _BUILD / "lldb_plugin" / "libgroutines_lldb.so"))
GDB = os.environ.get("GROUTINES_GDB", "/usr/bin/gdb")
FRONTEND = Path(os.environ.get("GROUTINES_GDB_FRONTEND", _BUILD / "gdb" / "groutines.py"))
EXAMPLES = Path(os.environ.get("GROUTINES_EXAMPLES_DIR", _BUILD / "groutines"))
TARGETS = Path(os.environ.get("GROUTINES_TARGETS_DIR", _BUILD / "tests" / "targets"))
TEST_LIBRARIES = Path(os.environ.get("GROUTINES_TEST_LIBRARIES_DIR", _BUILD / "tests" / "lldb"))
DEBUGSERVER = os.environ.get("LLDB_DEBUGSERVER_PATH", "/usr/lib/llvm-19/bin/lldb-server")
SCRIPTS = Path(__file__).resolve().parents[1] / "python" / "scripts"

HAVE_LLDB = shutil.which(LLDB) is not None and PLUGIN.exists()

# The groutines Python module, which `groutine load x.py` hands scripts to, when built.
PYTHON_PACKAGE = PLUGIN.parents[1] / "python" / "groutines"
PYTHON_BUILT = any(PYTHON_PACKAGE.glob("_native*.so"))

# Every debugger run must end well within this many seconds, or the test fails.
TIMEOUT = 120

# Lines the debuggee prints, and LLDB's asynchronous process notices: they reach LLDB's output
# whenever the target writes them, so they can land inside any command's output.
_ASYNC_LINE = re.compile(
    r"[a-z_]+\(.*\)(=.*| longjmp| threw .*)|work_sum\(\d\)=-?\d+|dlopen \S+|[a-z]+ sum=-?\d+|"
    r"Process \d+ (resuming|exited .*|stopped|launched: .*)")

# Where a groutine's log line ("[name] text") starts in the middle of another line.
_GLUED_LOG = re.compile(r"(?<=[^\s\[(])(?=\[[A-Za-z][\w .#:/-]*\] )")


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


def script(name):
    """script() is the path of a Python groutine script of tests/python/scripts/."""
    return str(SCRIPTS / name)


class Session:
    """The output of one batch debugger run ("lldb" or "gdb"), with helpers to check it."""

    def __init__(self, debugger, commands, output, returncode):
        self.debugger = debugger
        self.commands = commands
        self.output = output
        self.returncode = returncode

    def lines(self):
        """lines() is the output's lines. Under LLDB, a groutine's log line glued to the end
        of a target line is taken apart again: the pty hands LLDB a target's line and its
        newline in two reads (the tty's newline translation), and a log the agent's service
        thread prints between them lands in the middle ('add(2,3)=5[check-add] ...')."""
        if self.debugger == "gdb":
            return self.output.splitlines()
        return [part for line in self.output.splitlines()
                for part in _GLUED_LOG.split(line)]

    def logged(self, groutine):
        """logged() is every line groutine wrote with groutines::log(), in order."""
        prefix = f"[{groutine}] "
        return [line[len(prefix):] for line in self.lines() if line.startswith(prefix)]

    def echo(self, command):
        """echo() is the line the debugger echoes command with: "(lldb) C" or "+C" (GDB's
        set trace-commands on)."""
        return f"+{command}" if self.debugger == "gdb" else f"(lldb) {command}"

    def _is_echo(self, line):
        return line.startswith("+" if self.debugger == "gdb" else "(lldb) ")

    def printed_by(self, command):
        """printed_by() is every line from command's echo to the next command's echo: its
        output with whatever the target printed meanwhile."""
        lines = self.lines()
        echo = self.echo(command)
        assert echo in lines, f"command {command!r} did not run:\n{self.output}"
        start = lines.index(echo) + 1
        end = start
        while end < len(lines) and not self._is_echo(lines[end]):
            end += 1
        return lines[start:end]

    def after(self, command):
        """after() is the output of command: from its echo to the next command's echo; under
        LLDB without the target's own lines and LLDB's process notices that interleave with
        it."""
        lines = self.printed_by(command)
        if self.debugger == "lldb":
            lines = [line for line in lines if not _ASYNC_LINE.fullmatch(line)]
        return "\n".join(lines)

    def target_lines(self, pattern):
        """target_lines() is every line matching regex pattern exactly (the target's output)."""
        return [line for line in self.lines() if re.fullmatch(pattern, line)]

    def __str__(self):
        return self.output

    __repr__ = __str__


def lldb(*commands, timeout=TIMEOUT, env=None, one_pipe=False):
    """lldb() runs LLDB in batch mode: plugin load, then commands, one -o each, on the
    transport GROUTINES_TRANSPORT names (env adds to the environment). one_pipe puts its
    errors in one pipe with its output, after the command that made them, and counts a
    Python traceback or a fatal signal as a crash too (as gdb() does)."""
    args = [LLDB, "--batch", "--no-lldbinit", "-o", f"plugin load {PLUGIN}"]
    for c in commands:
        args += ["-o", c]
    env = dict(os.environ, LLDB_DEBUGSERVER_PATH=DEBUGSERVER, **(env or {}))
    if one_pipe:
        return _run_one_pipe("lldb", args, commands, timeout, env)
    try:
        proc = subprocess.run(args, capture_output=True, text=True, timeout=timeout, env=env,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
        pytest.fail(f"lldb did not finish within {timeout}s: {commands}\n{out}")
    session = Session("lldb", commands, proc.stdout + proc.stderr, proc.returncode)
    assert "PLEASE submit a bug report" not in session.output, f"lldb crashed:\n{session}"
    assert "Segmentation fault" not in session.output, f"lldb crashed:\n{session}"
    return session


def _run_one_pipe(debugger, args, commands, timeout, env):
    try:
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
    # One pipe for both: errors land after the command that made them.
    return _run_one_pipe("gdb", args, commands, timeout, dict(os.environ, **(env or {})))


def debug(debugger, *commands, timeout=TIMEOUT):
    """debug() runs commands under debugger ("gdb" or "lldb")."""
    return (gdb if debugger == "gdb" else lldb)(*commands, timeout=timeout)


# --- The agent transport: `groutine transport`, `groutine subscriptions` and the test
# groutines' replies, as both debuggers print them. ---

_COUNTERS = re.compile(
    r"process (\d+): served by the agent: (\d+) hits; passed through: (\d+) nested in the agent, "
    r"(\d+) on hooks nobody waits on, (\d+) without a free slot, (\d+) returns not watched "
    r"\(shadow stack full\), (\d+) without the host")


def agent_counters(text):
    """agent_counters() parses the agent's line of `groutine transport`."""
    m = _COUNTERS.search(text)
    assert m, f"no agent counters in:\n{text}"
    keys = ("pid", "hits", "nested", "unheld", "no_slot", "shadow_full", "no_host")
    return dict(zip(keys, map(int, m.groups())))


def subscriptions(text):
    """subscriptions() parses `groutine subscriptions`: {function: (hits, transport)} and
    {function: why it is on a breakpoint}."""
    rows, reasons = {}, {}
    for line in text.splitlines():
        m = re.fullmatch(r"(\w+)\s+(?:-?\d+|-)\s+\d+\s+\d+\s+(\d+)\s+(\S+)", line)
        if m:
            rows[m.group(1)] = (int(m.group(2)), m.group(3))
        m = re.fullmatch(r"  (\w+): on a breakpoint: (.*)", line)
        if m:
            reasons[m.group(1)] = m.group(2)
    return rows, reasons


def totals(session, command):
    """totals() parses the replies of the count-T groutines to `command` (a `groutine fire
    totals ...`): {T: {calls, returns, unwound, moved, sum}}."""
    out = {}
    for m in re.finditer(r'reply from count-\d+ \(#\d+\): "\w+\[(\d+)\] calls=(\d+) returns=(\d+) '
                         r'unwound=(\d+) moved=(\d+) sum=(-?\d+)"', session.after(command)):
        out[int(m.group(1))] = dict(zip(("calls", "returns", "unwound", "moved", "sum"),
                                        map(int, m.groups()[1:])))
    return out


def without_threads(logged):
    """without_threads() is the lines of the watch groutines without their " thread T"."""
    return [re.sub(r" thread \d+$", "", line) for line in logged]
