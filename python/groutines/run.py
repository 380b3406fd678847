"""groutines run: run a program to its end under LLDB with groutines loaded, then report.

    groutines run [options] GROUTINES... -- PROGRAM [ARGS...]

GROUTINES are .py files, directories of groutine_*.py / *_groutines.py scripts, C++ groutine
libraries (.so), or stock groutines by name (stock:heap, stock:cpp/faults; see
docs/stock.md). The program runs with no prompt; its stdin, stdout and stderr are the
runner's own, untouched. The runner writes only to stderr (or --report FILE).

Exit codes (EXIT_*): 0 the target exited with status 0 and no groutine failed; 1 a groutine
failed; 2 usage, load or launch error; 3 the target crashed (killed by a signal); 4 timeout;
5 the target exited with a non-zero status and no groutine failed (see --expect-status).
When several apply, the first of 2, 4, 3, 1, 5 wins. See docs/run.md.

It runs in-process on LLDB's Python module (`import lldb` in /usr/bin/python3, whose
interpreter is also LLDB's embedded one): the plugin is loaded with `plugin load`, groutines
with `groutine load`, so `import groutines` here shares the plugin's runtime
(groutines._native.default_runtime()).
"""
import argparse
import datetime
import json
import math
import os
import re
import shutil
import signal as _signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET

__all__ = ["main", "EXIT_OK", "EXIT_FAILED", "EXIT_USAGE", "EXIT_CRASHED", "EXIT_TIMEOUT",
           "EXIT_STATUS"]

EXIT_OK = 0        # the target exited with the expected status, no groutine failed
EXIT_FAILED = 1    # a groutine failed
EXIT_USAGE = 2     # bad command line, a groutine that does not load, a program that won't start
EXIT_CRASHED = 3   # the target was killed by a signal (a crash on any thread)
EXIT_TIMEOUT = 4   # --timeout expired; the report says what every groutine waited on
EXIT_STATUS = 5    # the target exited with another status than --expect-status (0)

_BUILD_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_DEBUGSERVER = "/usr/lib/llvm-19/bin/lldb-server"
# Seconds after --timeout at which a runner whose debugger does not stop the target exits.
_HARD_TIMEOUT = 10
# Signals after which a process usually dies: the runner takes the backtrace when it stops
# on one, then lets the program handle it (or die of it).
_CRASH_SIGNALS = {"SIGSEGV", "SIGBUS", "SIGILL", "SIGFPE", "SIGABRT", "SIGTRAP", "SIGSYS"}
# Other signals that end a process unless it handles them: when the debugger does not say
# how the target ended (Runner._killed_by()), a process that exits "with status N" right
# after stopping on one of them (LLDB reports a death by signal N as exit status N) was
# killed by it.
_ENDING_SIGNALS = {"SIGPIPE", "SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT", "SIGXCPU", "SIGXFSZ"}
# A groutine named "NAME#N" is worker N of the logical groutine NAME (stock groutines use a
# pool of workers to follow calls that overlap): the report shows one line per NAME.
_WORKER = re.compile(r"^(.+?)#[\w.-]+$")


def logical_name(name):
    """logical_name() is the name the report shows for groutine name: NAME for "NAME#N"."""
    m = _WORKER.match(name)
    return m.group(1) if m else name


class UsageError(Exception):
    """A bad command line, a groutine that does not load, a program that does not start."""


# --- Command line ---

def _parser():
    p = argparse.ArgumentParser(
        prog="groutines run",
        usage="groutines run [options] GROUTINES... -- PROGRAM [ARGS...]",
        description="Run PROGRAM to its end under LLDB with GROUTINES loaded (.py files, "
                    "directories, C++ groutine libraries, stock:NAME), then report each "
                    "groutine as passed, failed or never triggered.",
        epilog="exit codes: 0 ok, 1 a groutine failed, 2 usage/load/launch error, 3 target "
               "crashed, 4 timeout, 5 unexpected exit status. See docs/run.md.")
    p.add_argument("groutines", nargs="*", metavar="GROUTINES")
    p.add_argument("--report", metavar="FILE", help="write the report to FILE, not stderr")
    p.add_argument("--junit", metavar="FILE", help="JUnit XML, one test case per groutine")
    p.add_argument("--events", metavar="FILE", help="every event as JSON lines")
    p.add_argument("--trace", metavar="FILE", help="Chrome trace-event JSON (Perfetto)")
    p.add_argument("--timeout", metavar="SECONDS",
                   help="end the run after SECONDS, reporting what each groutine waits on")
    p.add_argument("--stop-on-failure", action="store_true",
                   help="at the first failure or crash, leave the target stopped at an "
                        "interactive (lldb) prompt")
    p.add_argument("--set", metavar="KEY=VALUE", action="append", default=[],
                   help="configure stock groutines: heap.frames=4 sets GROUTINES_HEAP_FRAMES")
    p.add_argument("--expect-status", metavar="N", type=int, default=0,
                   help="the exit status that counts as success (default 0)")
    p.add_argument("--plugin", metavar="SO", help="the groutines LLDB plugin (default: the "
                   "build's lldb_plugin/libgroutines_lldb.so)")
    p.add_argument("--transport", choices=("auto", "agent", "breakpoint"),
                   default=os.environ.get("GROUTINES_TRANSPORT") or "auto",
                   help="how calls reach groutines: the in-target agent where it can, else "
                        "breakpoints (auto, the default), or breakpoints only")
    p.add_argument("--max-events", metavar="N", type=int, default=1_000_000,
                   help="how many events --events/--trace keep (default 1000000)")
    return p


def parse_args(argv):
    """parse_args() splits argv at the first `--`: options and groutines before it, the
    program and its arguments after. Raises UsageError."""
    if "--" not in argv:
        raise UsageError("expected `-- PROGRAM [ARGS...]` after the groutines")
    at = argv.index("--")
    parser = _parser()
    try:
        options = parser.parse_intermixed_args(argv[:at])
    except SystemExit as e:  # argparse printed its message
        raise UsageError("bad options (see groutines run --help)") from e
    options.program = argv[at + 1:]
    if not options.program:
        raise UsageError("no program after `--`")
    if options.timeout is not None:
        options.timeout = seconds("--timeout", options.timeout)
    if options.max_events < 1:
        raise UsageError(f"--max-events {options.max_events}: expected a positive count")
    for item in options.set:
        if "=" not in item or item.startswith("="):
            raise UsageError(f"--set {item}: expected KEY=VALUE")
    return options


def seconds(option, text):
    """seconds() is text as a positive, finite number of seconds that a wait can take
    (not nan, inf, 0, negative or garbage). Raises UsageError naming option."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or not 0 < value <= threading.TIMEOUT_MAX:
        raise UsageError(f"{option} {text}: expected a positive number of seconds")
    return value


def config_variable(key):
    """config_variable() is the environment variable a --set KEY sets: heap.frames ->
    GROUTINES_HEAP_FRAMES. Stock groutines read their options from these variables."""
    return "GROUTINES_" + re.sub(r"[^A-Za-z0-9]", "_", key).upper()


# Where stock:NAME finds the Python stock groutines when GROUTINES_STOCK_DIR is not set: the
# launcher (scripts/groutines) points it at the checkout's groutines/stock/.
STOCK_DIR = None


def stock_dirs():
    """stock_dirs() is (python_dir, library_dir) of the stock groutines: GROUTINES_STOCK_DIR,
    else STOCK_DIR, else the build's copy; and the build's groutines/stock/ for C++
    libraries."""
    built = os.path.join(_BUILD_DIR, "groutines", "stock")
    return os.environ.get("GROUTINES_STOCK_DIR") or STOCK_DIR or built, built


def resolve(spec):
    """resolve() turns stock:NAME into the stock groutine's path (stock:cpp/NAME into its
    C++ library); other paths are returned as they are. Raises UsageError."""
    if not spec.startswith("stock:"):
        if not os.path.exists(spec):
            raise UsageError(f"no such groutine file or directory '{spec}'")
        return os.path.abspath(spec)
    name = spec[len("stock:"):]
    py_dir, lib_dir = stock_dirs()
    if name.startswith("cpp/"):
        path = os.path.join(lib_dir, f"libgroutine_stock_{name[4:]}.so")
    else:
        path = os.path.join(py_dir, f"{name}.py")
    if not os.path.exists(path):
        raise UsageError(f"no stock groutine '{name}' ({path} does not exist)")
    return path


# --- LLDB ---

def import_lldb():
    """import_lldb() imports LLDB's Python module, finding it with `lldb-19 -P` when it is
    not on sys.path (Debian installs it apart)."""
    try:
        import lldb
        if hasattr(lldb, "SBDebugger"):
            return lldb
    except ImportError:
        pass
    for tool in ("lldb-19", "lldb"):
        try:
            out = subprocess.run([tool, "-P"], capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            continue
        path = out.stdout.strip()
        if out.returncode == 0 and path:
            sys.path.insert(0, path)
            sys.modules.pop("lldb", None)  # a namespace package found before
            import lldb
            if hasattr(lldb, "SBDebugger"):
                return lldb
    raise UsageError("cannot import LLDB's Python module (is lldb-19 installed?)")


def lldb_quote(text):
    """lldb_quote() is text as one argument of an LLDB command, whatever it holds: each
    character LLDB's command line gives a meaning to (blanks, quotes, backquotes,
    backslashes) is escaped with a backslash, which LLDB removes (lldb/source/Utility/
    Args.cpp; a backslash before another character is kept as it is)."""
    return re.sub(r"""([ \t\r\\'"`])""", r"\\\1", text)


class Debugger:
    """Debugger is one SBDebugger in synchronous mode with the groutines plugin loaded."""

    def __init__(self, lldb, report_file, plugin):
        self.lldb = lldb
        lldb.SBDebugger.Initialize()
        self.sb = lldb.SBDebugger.Create(False)
        self.sb.SetAsync(False)
        # LLDB's and the plugin's output (log lines, stop reasons) goes with the report.
        self.sb.SetOutputFileHandle(report_file, False)
        self.sb.SetErrorFileHandle(report_file, False)
        self.interpreter = self.sb.GetCommandInterpreter()
        # Absolute: a relative path starting with - would read as an option.
        self.command(f"plugin load {lldb_quote(os.path.abspath(plugin))}")
        # LLDB starts its embedded Python lazily; the plugin's Python entry points need it.
        self.command("script -l python -- import groutines")

    def command(self, text, check=True):
        """command() runs an LLDB command: (ok, output, error). check: UsageError on error."""
        result = self.lldb.SBCommandReturnObject()
        self.interpreter.HandleCommand(text, result)
        ok = result.Succeeded()
        out, err = result.GetOutput() or "", result.GetError() or ""
        if check and not ok:
            # LLDB's "error: " prefix: the runner's message has its own.
            raise UsageError(re.sub(r"^error: ", "", err.strip()) or f"'{text}' failed")
        return ok, out, err

    def close(self):
        self.lldb.SBDebugger.Destroy(self.sb)


def frame_lines(thread, max_frames=64):
    """frame_lines() is a thread's backtrace, one '#N 0xPC module`function + off at
    file:line' line per frame."""
    out = []
    for i in range(min(thread.GetNumFrames(), max_frames)):
        frame = thread.GetFrameAtIndex(i)
        # As the plugin writes a frame (LldbFrame::backtrace), for the same look in a report.
        module = frame.GetModule().GetFileSpec().GetFilename() or "?"
        name = frame.GetDisplayFunctionName() or "??"
        line = f"#{i} {frame.GetPC():#x} {module}`{name}"
        start = frame.GetSymbol().GetStartAddress()
        if start.IsValid():
            target = frame.GetThread().GetProcess().GetTarget()
            offset = frame.GetPC() - start.GetLoadAddress(target)
            if offset > 0:
                line += f" + {offset}"
        entry = frame.GetLineEntry()
        if entry.IsValid() and entry.GetFileSpec().GetFilename():
            line += f" at {entry.GetFileSpec().GetFilename()}:{entry.GetLine()}"
        out.append(line)
    return out


# --- Files of the run ---

# The run's temporary directory (the FIFOs of Stdio, a link to the agent, the plugin's event
# log), made when first needed, first; then any other (preload_path()).
_RUN_DIR = []


def run_dir():
    """run_dir() is the run's temporary directory, $TMPDIR/groutines-run-XXXXXX, made at the
    first call; remove_run_dir() removes it, at the end of main() and at hard_exit()."""
    if not _RUN_DIR:
        _RUN_DIR.append(tempfile.mkdtemp(prefix="groutines-run-"))
    return _RUN_DIR[0]


# LD_PRELOAD splits its list at blanks and colons, and has no quoting.
_PRELOAD_SPLITS = re.compile(r"[\s:]")


def preload_path(path):
    """preload_path() is path as LD_PRELOAD can hold it: path, or when it has blanks or colons,
    a link to it in the run's temporary directory (in a directory of /tmp, removed with it,
    when $TMPDIR has them too). The link lasts as long as the run."""
    if not _PRELOAD_SPLITS.search(path):
        return path
    directory = run_dir()
    if _PRELOAD_SPLITS.search(directory):
        directory = tempfile.mkdtemp(prefix="groutines-run-", dir="/tmp")
        _RUN_DIR.append(directory)
    link = os.path.join(directory, os.path.basename(path))
    os.symlink(path, link)
    return link


def lldb_temp_dir():
    """lldb_temp_dir() is the directory where LLDB, in this process, keeps the temporary
    files it makes (the source of an expression it compiles with debug info):
    TEMP/lldb/PID, TEMP as LLVM finds it ($TMPDIR, $TMP, $TEMP, $TEMPDIR, else /tmp). LLDB
    removes it only in SBDebugger.Terminate(), which the runner does not call (it would end
    LLDB for the plugin's runtime and the groutines' destructors still to come)."""
    base = next((os.environ[v] for v in ("TMPDIR", "TMP", "TEMP", "TEMPDIR")
                 if os.environ.get(v)), "/tmp")
    return os.path.join(base, "lldb", str(os.getpid()))


def remove_run_dir():
    """remove_run_dir() removes the run's temporary directories and what they hold, and
    LLDB's own (lldb_temp_dir())."""
    while _RUN_DIR:
        shutil.rmtree(_RUN_DIR.pop(), ignore_errors=True)
    shutil.rmtree(lldb_temp_dir(), ignore_errors=True)


class OutputFile:
    """OutputFile is a file the runner writes at the end of the run (--junit, --trace,
    --events), checked before the run starts: its directory exists and takes a new file
    (a temporary file beside it, made now), or it is an existing device or FIFO that can be
    written (/dev/null, /dev/stdout). The temporary file is renamed over the path once
    complete (commit()), so that a reader never sees a partial file; it is removed when the
    run ends otherwise (discard(), also at hard_exit()). Raises UsageError naming option
    and path."""

    def __init__(self, option, path):
        self.option = option
        self.path = path
        self.tmp = None
        self.committed = False
        self.target = real = os.path.realpath(path)
        if not path or os.path.isdir(real):
            self._refuse("is a directory" if path else "empty path")
        if os.path.exists(real) and not stat.S_ISREG(os.stat(real).st_mode):
            # A device or a FIFO: written in place.
            if not os.access(real, os.W_OK):
                self._refuse("not writable")
            return
        directory = os.path.dirname(real)
        if not os.path.isdir(directory):
            self._refuse(f"no such directory '{os.path.dirname(path) or '.'}'")
        try:
            fd, self.tmp = tempfile.mkstemp(prefix=f".{os.path.basename(real)}.",
                                            suffix=".tmp", dir=directory)
        except OSError as e:
            self._refuse(f"cannot write in '{os.path.dirname(path) or '.'}': {e.strerror}")
        os.close(fd)
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(self.tmp, 0o666 & ~mask)  # as open() would make it, not mkstemp's 0600
        _AT_HARD_EXIT.append(self.discard)

    def _refuse(self, why):
        raise UsageError(f"{self.option} {self.path}: {why}")

    def open(self):
        """open() opens what to write, as text: the temporary file, or the device."""
        return open(self.tmp or self.target, "w", encoding="utf-8")

    def commit(self):
        """commit() renames the complete temporary file over the path."""
        if self.tmp:
            os.replace(self.tmp, self.target)
            self.tmp = None
        self.committed = True

    def discard(self):
        """discard() removes the temporary file, if it is still there."""
        if self.tmp:
            try:
                os.unlink(self.tmp)
            except OSError:
                pass
            self.tmp = None


def open_outputs(options):
    """open_outputs() checks the files of --junit, --events and --trace before the run
    (OutputFile, in that order); options.outputs maps each option's dest to its OutputFile.
    Raises UsageError naming the first that cannot be written, or that names the regular file
    of an option before it or of --report (the last written would replace the others)."""
    options.outputs = {}
    taken = {os.path.realpath(options.report): "--report"} if options.report else {}
    for dest in ("junit", "events", "trace"):
        path = getattr(options, dest)
        if path is None:
            continue
        output = OutputFile(f"--{dest}", path)
        if output.tmp is not None:  # not a device or a FIFO, which each writes to in turn
            if output.target in taken:
                output.discard()
                output._refuse(f"already the file of {taken[output.target]}")
            taken[output.target] = output.option
        options.outputs[dest] = output


def open_report(path):
    """open_report() opens --report's file, written as the run goes. Raises UsageError."""
    directory = os.path.dirname(os.path.realpath(path))
    if not os.path.isdir(directory):
        raise UsageError(f"--report {path}: no such directory '{os.path.dirname(path)}'")
    try:
        return open(path, "w", encoding="utf-8", errors="replace")
    except OSError as e:
        raise UsageError(f"--report {path}: {e.strerror}") from e


def write_output(output, write):
    """write_output() calls write(f) with output's file open, then commits it."""
    with output.open() as f:
        write(f)
    output.commit()


def discard_outputs(options):
    """discard_outputs() removes the temporary files of outputs not committed."""
    for output in getattr(options, "outputs", {}).values():
        output.discard()


def write_usage_junit(options, message):
    """write_usage_junit() writes the --junit file of a run that ended before its target
    ran (a load error, a program that does not exist): the `target` test case is an error
    of type usage with message. Nothing when --junit was not asked or cannot be written."""
    output = getattr(options, "outputs", {}).get("junit") if options else None
    if output is None or output.committed:
        return
    outcome = Outcome()
    outcome.error = message
    write_output(output, lambda f: write_junit(f, junit_xml(
        [], outcome, os.path.basename(options.program[0]), 0.0, options.expect_status,
        error_type="usage")))


# --- Standard streams ---

# The standard descriptors (0, 1, 2) that were closed when the runner started (see
# reserve_stdio()).
_CLOSED_STDIO = set()


def reserve_stdio():
    """reserve_stdio() opens /dev/null on each of the descriptors 0, 1 and 2 that is closed,
    and remembers it in _CLOSED_STDIO: a pipe or file the runner opens later must not land
    there (the target would get it as its stdin), the runner writes to a closed stdout or
    stderr as to a terminal nobody reads (Python gives sys.stdout, sys.stderr None for a
    closed one: they get a stream on the descriptor), and the target gets it closed, as a
    shell would give it (Stdio)."""
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            null = os.open(os.devnull, os.O_RDWR)
            if null != fd:
                os.dup2(null, fd)
                os.close(null)
            os.set_inheritable(fd, True)
            _CLOSED_STDIO.add(fd)
    for fd, name in ((1, "stdout"), (2, "stderr")):
        if getattr(sys, name) is None:
            setattr(sys, name, open(fd, "w", closefd=False))


class Stdio:
    """Stdio gives the target the runner's stdin, stdout and stderr: the very pipe, terminal
    or device through /proc/PID/fd/N, and a regular file through a FIFO copied by a thread
    (opening the file again would write from its start over what is there). One that was
    closed when the runner started is /dev/null at the launch and in `closed`: the runner
    closes it in the target at main."""

    def __init__(self):
        self.paths = {}
        self.relays = []
        self.closed = sorted(_CLOSED_STDIO)
        for fd in (0, 1, 2):
            try:
                st = os.fstat(fd)
            except OSError:
                st = None
            if st is None or fd in _CLOSED_STDIO:
                self.paths[fd] = "/dev/null"
                continue
            if fd != 0 and stat.S_ISREG(st.st_mode):
                fifo = os.path.join(run_dir(), f"fd{fd}")
                os.mkfifo(fifo)
                relay = threading.Thread(target=self._copy, args=(fifo, fd), daemon=True)
                relay.start()
                self.relays.append((relay, fifo))
                self.paths[fd] = fifo
            else:
                self.paths[fd] = f"/proc/{os.getpid()}/fd/{fd}"

    @staticmethod
    def _copy(fifo, fd):
        src = os.open(fifo, os.O_RDONLY)
        try:
            while True:
                data = os.read(src, 65536)
                if not data:
                    return
                while data:
                    data = data[os.write(fd, data):]
        finally:
            os.close(src)

    def close(self):
        """close() waits (briefly) for the relays to copy what the target wrote."""
        for relay, fifo in self.relays:
            try:  # unblock a relay whose FIFO was never opened by a writer
                os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
            except OSError:
                pass
            relay.join(10)
        # The FIFOs go with the run's directory (remove_run_dir()).


# --- The target's arguments and environment ---

# What Python's locale coercion (PEP 538) sets LC_CTYPE to in its own environment when the
# locale is C or POSIX.
_COERCED_LC_CTYPE = (b"C.UTF-8", b"C.utf8", b"UTF-8")


def target_environment():
    """target_environment() is the environment the target gets, as bytes: the runner's own,
    without the LC_CTYPE that Python's locale coercion (PEP 538) added to it at the runner's
    start (the variable is not in the environment the runner was started with,
    /proc/self/environ)."""
    env = dict(os.environb)
    if env.get(b"LC_CTYPE") in _COERCED_LC_CTYPE:
        try:
            with open("/proc/self/environ", "rb") as f:
                started_with = f.read().split(b"\0")
        except OSError:
            return env
        if not any(entry.startswith(b"LC_CTYPE=") for entry in started_with):
            del env[b"LC_CTYPE"]
    return env


def stand_ins(strings):
    """stand_ins() is, for each byte string of strings, the text LLDB's Python API is given
    for it: the string decoded when it is UTF-8, else a stand-in of its length (each byte
    outside ASCII made '?', or another filler that no other string is), since that API
    turns what is not UTF-8 into an empty string. The runner writes the bytes over their
    stand-ins in the target at its entry (Runner._exact_strings()). Raises UsageError when
    no filler gives a stand-in of its own."""
    texts = {}
    for data in strings:
        try:
            texts[data] = data.decode()
        except UnicodeDecodeError:
            pass
    taken = set(texts.values())
    out = []
    for data in strings:
        if data not in texts:
            for filler in "?#%+~^_":
                text = re.sub(rb"[\x80-\xff]", filler.encode(), data).decode()
                if text not in taken:
                    break
            else:
                raise UsageError(f"cannot pass {data!r} to the target: too many strings "
                                 "alike that are not UTF-8")
            texts[data] = text
            taken.add(text)
        out.append(texts[data])
    return out


# --- The event log ---

class EventLog:
    """EventLog is the plugin's event log written to a file (`groutine events --json
    --output FILE`, one JSON object per line), read one line at a time each time it is
    iterated: the events as dicts, with the plugin's keys (seq, time_ns, thread, kind, name,
    call, args, value, skipped, unwound, rewritten, data, detail) plus function (the name)
    and time (time_ns in seconds). However long the log, the runner holds one event at a
    time (a log of a million events is gigabytes as one string)."""

    def __init__(self, path):
        self.path = path

    def __iter__(self):
        with open(self.path, encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("{"):
                    e = json.loads(line)
                    e["function"] = e["name"]
                    e["time"] = e["time_ns"] / 1e9
                    yield e


def read_events(debugger, max_events, path):
    """read_events() has the plugin write its newest max_events events to path and returns
    them as an EventLog. Raises RuntimeError when the plugin does not give them."""
    ok, _, err = debugger.command(
        f"groutine events --json -n {max_events} --output {lldb_quote(path)}", check=False)
    if not ok:
        raise RuntimeError(err.strip() or "groutine events --json failed")
    return EventLog(path)


def first_time(events):
    """first_time() is the time of the first of events (the plugin logs them in time order),
    0 when there is none. Of an EventLog it reads one line."""
    for e in events:
        return e["time"]
    return 0


def write_events(f, events):
    """write_events() writes events (an iterable it goes through twice: first_time()) to the
    open file f as JSON lines, time in seconds since the first event."""
    start = first_time(events)
    for e in events:
        f.write(json.dumps(dict(e, time=round(e["time"] - start, 9))) + "\n")


def trace_events(events, program):
    """trace_events() yields the Chrome trace events of events (an iterable it goes through
    twice: first_time()): a track (tid) per target thread, each call whose return was seen as a complete
    slice ("X") from call to return, given at its return; other calls, custom events, logs
    and stops as instants ("i"); times in microseconds since the first event. It keeps only
    the calls not returned yet."""
    t0 = first_time(events)

    def ts(e):
        return round((e["time"] - t0) * 1e6, 3)

    yield {"ph": "M", "name": "process_name", "pid": 1, "tid": 0, "args": {"name": program}}
    threads = set()
    calls = {}  # call id -> its call event, until its return

    def call_slice(e, r):
        args = {"call": e["call"], **e["args"]}
        if r is None:
            return {"ph": "i", "s": "t", "name": e["function"], "cat": "call", "pid": 1,
                    "tid": e["thread"], "ts": ts(e), "args": args}
        args["return"] = r["value"]
        return {"ph": "X", "name": e["function"], "cat": "call", "pid": 1,
                "tid": e["thread"], "ts": ts(e), "dur": max(ts(r) - ts(e), 0), "args": args}

    for e in events:
        if e["thread"] not in threads:
            threads.add(e["thread"])
            yield {"ph": "M", "name": "thread_name", "pid": 1, "tid": e["thread"],
                   "args": {"name": f"thread {e['thread']}" if e["thread"] else "debugger"}}
        if e["kind"] == "call":
            calls[e["call"]] = e
        elif e["kind"] == "return" and e.get("call") in calls:
            yield call_slice(calls.pop(e["call"]), e)
        elif e["kind"] in ("custom", "log", "stop"):
            yield {"ph": "i", "s": "t", "name": f"{e['kind']}: {e['function']}",
                   "cat": e["kind"], "pid": 1, "tid": e["thread"], "ts": ts(e),
                   "args": {"detail": e["detail"], **e.get("data", {})}}
    for e in calls.values():  # never returned: a skipped call lasts no time
        yield call_slice(e, e if e.get("skipped") else None)


def write_trace(f, events, program):
    """write_trace() writes the Chrome trace-event JSON of events (trace_events()) to the open
    file f, one trace event at a time."""
    f.write('{"traceEvents": [')
    for i, item in enumerate(trace_events(events, program)):
        f.write((",\n" if i else "\n") + json.dumps(item))
    other = {"program": program, "clock": "microseconds since the first event"}
    f.write('\n], "displayTimeUnit": "ms", "otherData": ' + json.dumps(other) + "}\n")


# --- Results ---

class Result:
    """Result is one groutine of the report: the loaded groutines named NAME or NAME#...
    (the workers of a pool), from one source."""

    def __init__(self, name, source):
        self.name = name
        self.source = source
        self.events = 0
        self.states = []
        self.waiting_on = []
        self.failures = []
        self.spawned = 0          # children its groutines spawned
        self.children_failed = 0  # of those that ended, the ones that failed
        self.missed = {}          # function -> calls its streams missed while busy

    @property
    def status(self):
        if any(f for f in self.failures):
            return "failed"
        if self.events == 0:
            return "never triggered"
        return "passed"


def collect(runtime):
    """collect() groups the runtime's groutines into Results, in load order, each failure with
    the backtrace the runtime recorded of the thread whose event it was handling. Spawned
    children count under the groutine that was loaded: their failures (those of ended children
    are in their parent's) and their events (those of ended ones, counted in their parent's),
    not their states."""
    results = {}
    by_id = {}  # a spawned child is reported under the groutine loaded (its root ancestor)
    for g in runtime.groutines():
        if g.get("parent") in by_id:
            r = by_id[g["id"]] = by_id[g["parent"]]
            r.events += g["events_handled"]
        else:
            name = logical_name(g["name"])
            r = results.get((g["source"], name))
            if r is None:
                r = results[(g["source"], name)] = Result(name, g["source"])
            by_id[g["id"]] = r
            r.events += g["events_handled"]
            r.states.append(g["state"])
            if g["state"] == "waiting" and g["waiting_on"] not in r.waiting_on:
                r.waiting_on.append(g["waiting_on"])
        children = g.get("children") or {}
        r.spawned += children.get("spawned", 0)
        r.events += children.get("events", 0)
        r.children_failed += children.get("failed", 0)
        for function, n in (g.get("missed") or {}).items():
            r.missed[function] = r.missed.get(function, 0) + n
        for f in g["failures"]:
            f = dict(f)
            if not any(f["message"] == o["message"] and f["line"] == o["line"]
                       for o in r.failures):  # workers of a pool fail alike
                r.failures.append(f)
    return list(results.values())


def check_started(runtime):
    """check_started() raises UsageError when a groutine failed as it was loaded, before the
    program ran (a missing or bad option of a C++ stock groutine, a REQUIRE before its first
    wait): a groutine that cannot start is a load error, as a script that does not import."""
    problems = {}  # (groutine, message) -> the line saying it
    for g in runtime.groutines():
        name = logical_name(g["name"])
        for f in g["failures"]:
            # The workers of a pool fail alike (at one line or another).
            problems.setdefault((name, f["message"]), (
                f"{name} ({os.path.basename(g['source'])}) failed as it started: "
                f"{shown_path(f['file'])}:{f['line']}: {_printable(f['message'])}"))
    if problems:
        raise UsageError("groutine load: " + "\n  ".join(problems.values()))


class Outcome:
    """Outcome is how the target's run ended."""

    def __init__(self):
        self.exit_status = None   # exited with this status
        self.signal = None        # killed by this signal (name)
        self.crash = None         # (description, [backtrace lines]) at the fatal signal
        self.timed_out = False
        self.waits = []           # at a timeout: what each thread of the target was doing
        self.stops = []           # stop requests by groutines
        self.error = None         # launch error text

    def describe(self, program):
        if self.error:
            return f"{program} did not run: {self.error}"
        if self.timed_out:
            return f"{program} was stopped: timed out"
        if self.signal:
            return f"{program} was killed by {self.signal}"
        if self.exit_status is not None:
            return f"{program} exited with status {self.exit_status}"
        return f"{program}: the run ended without an exit status"


def exit_code(outcome, results, expect_status):
    """exit_code() is the runner's exit code: the first of usage/launch error, timeout,
    crash, failed groutine, unexpected exit status that applies, else EXIT_OK."""
    if outcome.error:
        return EXIT_USAGE
    if outcome.timed_out:
        return EXIT_TIMEOUT
    if outcome.signal:
        return EXIT_CRASHED
    if any(r.status == "failed" for r in results):
        return EXIT_FAILED
    if outcome.exit_status != expect_status:
        return EXIT_STATUS
    return EXIT_OK


def _plural(n, word):
    return f"{n} {word}{'' if n == 1 else 's'}"


def shown_path(path):
    """shown_path() is path as the report shows it: relative to the working directory when
    it lies under it (groutines/stock/heap.py:130), else as it is."""
    try:
        if os.path.isabs(path):
            relative = os.path.relpath(path)
            if not relative.startswith(".." + os.sep) and relative != "..":
                return relative
    except ValueError:
        pass
    return path


_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f]")


def _printable(text):
    """_printable() is text with control characters but newlines and tabs shown as \\xNN:
    a failure message holding what the target had in memory cannot drive the terminal."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def _ended(failure):
    """_ended() is what the report says after a failure: which groutine it ended, if any, and
    the spawned child it happened in."""
    child = failure.get("groutine")
    if child:
        return f" (ended child {child})" if failure.get("fatal") else f" (in child {child})"
    return " (ended it)" if failure.get("fatal") else ""


def render_report(results, outcome, program, options):
    """render_report() is the text report (docs/run.md, "The report")."""
    out = []
    names = [r.name for r in results]
    for r in results:
        label = {"passed": "PASS", "failed": "FAIL", "never triggered": "NONE"}[r.status]
        # Groutines of one name from several sources (stock:heap and stock:cpp/heap) say which.
        name = r.name if names.count(r.name) == 1 else f"{r.name} [{os.path.basename(r.source)}]"
        line = f"{label} {name} ({r.status}, {_plural(r.events, 'event')})"
        if outcome.timed_out and r.waiting_on:
            line += " waiting on " + ", ".join(r.waiting_on)
        out.append(line)
        if r.spawned:
            out.append(f"  children: {r.spawned} spawned, {r.children_failed} failed")
        for function, n in r.missed.items():
            out.append(f"  missed {_plural(n, 'call')} of {function} "
                       f"(busy when {'it' if n == 1 else 'they'} came)")
        for f in r.failures:
            message = _printable(f["message"]).replace("\n", "\n    ")
            out.append(f"  {shown_path(f['file'])}:{f['line']}: {message} [{f['event']}]"
                       + _ended(f))
            for bt in f.get("backtrace") or []:
                out.append(f"      {bt}")
    for reason in outcome.stops:
        out.append(f"stop requested: {reason}")
    if outcome.crash:
        out.append(f"crash: {outcome.crash[0]}")
        out += [f"      {line}" for line in outcome.crash[1]]
    if outcome.timed_out:
        out.append(f"timeout: {options.timeout:g}s elapsed; the target's threads were at:")
        out += [f"      {line}" for line in outcome.waits]
    counts = {s: sum(1 for r in results if r.status == s)
              for s in ("passed", "failed", "never triggered")}
    out.append(f"{counts['passed']} passed, {counts['failed']} failed, "
               f"{counts['never triggered']} never triggered; {outcome.describe(program)}")
    return "\n".join(out) + "\n"


# Characters XML 1.0 cannot hold, even escaped (control characters, lone surrogates).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_text(text):
    """_xml_text() is text with what XML cannot hold shown as \\xNN (\\uNNNN)."""
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100
                        else f"\\u{ord(m.group()):04x}", text)


def _target_verdict(outcome, program, expect_status):
    """_target_verdict() is (kind, message) when the target did not end as expected: kind
    `error` (it crashed, timed out or did not run) or `failure` (another exit status);
    None when it exited with expect_status."""
    if outcome.error or outcome.timed_out or outcome.signal:
        return "error", outcome.describe(program)
    if outcome.exit_status != expect_status:
        return "failure", f"{outcome.describe(program)}, expected {expect_status}"
    return None


def junit_xml(results, outcome, program, elapsed, expect_status=0, error_type="launch"):
    """junit_xml() is a JUnit testsuite: a testcase per groutine (failure, or skipped when
    never triggered), and a `target` testcase when the target did not end as expected: an
    error when it crashed, timed out or did not run (of error_type: launch, or usage for a
    run ended before the launch), a failure for another exit status. Text XML cannot hold
    is escaped (\\xNN)."""
    verdict = _target_verdict(outcome, program, expect_status)
    failed = sum(r.status == "failed" for r in results)
    suite = ET.Element("testsuite", name=f"groutines run {program}",
                       tests=str(len(results) + (verdict is not None)),
                       failures=str(failed + (verdict is not None and verdict[0] == "failure")),
                       errors="1" if verdict and verdict[0] == "error" else "0",
                       skipped=str(sum(r.status == "never triggered" for r in results)),
                       time=f"{elapsed:.3f}",
                       timestamp=datetime.datetime.now().isoformat(timespec="seconds"))
    for r in results:
        case = ET.SubElement(suite, "testcase", name=_xml_text(r.name),
                             classname=_xml_text(os.path.basename(r.source)),
                             file=_xml_text(r.source))
        ET.SubElement(case, "properties").append(
            ET.Element("property", name="events", value=str(r.events)))
        if r.status == "failed":
            first = r.failures[0]
            text = []
            for f in r.failures:
                text.append(f"{f['file']}:{f['line']}: {f['message']} [{f['event']}]")
                text += [f"    {bt}" for bt in f.get("backtrace") or []]
            node = ET.SubElement(case, "failure", message=_xml_text(first["message"]),
                                 type="groutine")
            node.text = _xml_text("\n".join(text))
        elif r.status == "never triggered":
            ET.SubElement(case, "skipped", message="never triggered")
    if verdict is not None:
        kind, message = verdict
        case = ET.SubElement(suite, "testcase", name="target", classname=_xml_text(program))
        node = ET.SubElement(case, kind, message=_xml_text(message),
                             type="timeout" if outcome.timed_out
                             else "crash" if outcome.signal
                             else error_type if outcome.error else "status")
        lines = (outcome.crash[1] if outcome.crash else []) + outcome.waits
        node.text = _xml_text("\n".join(lines))
    ET.SubElement(suite, "system-out").text = _xml_text(outcome.describe(program))
    return ET.ElementTree(suite)


def write_junit(f, tree):
    """write_junit() writes the JUnit tree to f, a text file open as UTF-8, which its
    declaration says (whatever the locale)."""
    f.write("<?xml version='1.0' encoding='utf-8'?>\n")
    tree.write(f, encoding="unicode")


# --- The run ---

# Cleanups hard_exit() runs before os._exit: what must not be left behind on the terminal.
_AT_HARD_EXIT = []


def hard_exit(code):
    """hard_exit() ends the runner at once with code (os._exit: the main thread may be stuck
    in LLDB), after the _AT_HARD_EXIT cleanups (the status line gives the terminal back its
    rows, the output files' temporary files go) and the run's temporary directory."""
    for cleanup in list(_AT_HARD_EXIT):
        try:
            cleanup()
        except Exception:  # the exit goes on
            pass
    remove_run_dir()
    os._exit(code)


class StatusLine:
    """StatusLine shows the elapsed time, events per second and failures so far on the
    terminal's last row, kept out of a scroll region that holds everything else (as apt
    does): what the target, the groutines and the runner write scrolls above it, never glued
    to it nor erased by it. Each update is one write() of save cursor, draw, restore cursor,
    which a terminal does not interleave with other writes. No status on a terminal of
    unknown size (fewer than 3 rows)."""

    INTERVAL = 0.5  # seconds between updates

    def __init__(self, stream, runtime):
        self.fd = stream.fileno()
        self.runtime = runtime
        self.lock = threading.Lock()
        self.rows = None      # the terminal's rows while the last one is reserved, else None
        self.paused = False
        self.stopped = threading.Event()
        self.start = time.monotonic()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()
        _AT_HARD_EXIT.append(self._release_at_exit)

    def _release_at_exit(self):
        self.stopped.set()
        if self.lock.acquire(timeout=1):
            try:
                self._release()
            finally:
                self.lock.release()

    def _write(self, text):
        try:
            os.write(self.fd, text.encode(errors="replace"))
        except OSError:
            pass

    def _reserve(self):
        """_reserve() keeps the last row out of the scroll region (again after a resize);
        the rows, or None on a terminal of unknown size. Under the lock."""
        try:
            size = os.get_terminal_size(self.fd)
        except OSError:
            return None
        if size.lines < 3:
            return None
        if size.lines != self.rows:
            # A newline makes room at the bottom, the region ends above the last row (setting
            # it homes the cursor: saved and restored around it), the cursor goes back up.
            first = self.rows is None
            self._write(("\n" if first else "") + f"\0337\033[1;{size.lines - 1}r\0338"
                        + ("\033[1A" if first else ""))
            self.rows = size.lines
        return size

    def _release(self):
        """_release() gives the terminal its whole height back and clears the status row.
        Under the lock."""
        if self.rows is not None:
            self._write(f"\0337\033[r\033[{self.rows};1H\033[2K\0338")
            self.rows = None

    def _loop(self):
        last_events, last_t = 0, self.start
        while not self.stopped.wait(self.INTERVAL):
            try:
                gs = self.runtime.groutines()
            except Exception:
                return
            events = sum(g["events_handled"] for g in gs)
            failures = sum(len(g["failures"]) for g in gs)
            now = time.monotonic()
            rate = (events - last_events) / max(now - last_t, 1e-6)
            last_events, last_t = events, now
            text = (f"[groutines] {now - self.start:6.1f}s  {events} events ({rate:.0f}/s)  "
                    f"{failures} failures")
            with self.lock:
                if self.paused or self.stopped.is_set():
                    continue
                size = self._reserve()
                if size is not None:
                    self._write(f"\0337\033[{size.lines};1H\033[2K"
                                f"{text[:max(size.columns - 1, 0)]}\0338")

    def pause(self):
        """pause() clears the status and gives the terminal back (for an interactive
        session) until resume()."""
        with self.lock:
            self.paused = True
            self._release()

    def resume(self):
        with self.lock:
            self.paused = False

    def close(self):
        if self._release_at_exit in _AT_HARD_EXIT:
            _AT_HARD_EXIT.remove(self._release_at_exit)
        self.stopped.set()
        self.thread.join(2)
        with self.lock:
            self._release()


class Watchdog:
    """Watchdog ends a run at --timeout: it interrupts the target (again every second until
    the runner has seen it stop), and when the debugger does not stop it within
    _HARD_TIMEOUT seconds (a groutine that never yields holds it), it kills the target and
    exits the runner with EXIT_TIMEOUT."""

    def __init__(self, seconds, process, report):
        self.seconds = seconds
        self.process = process
        self.report = report
        self.fired = threading.Event()  # the timeout expired
        self.seen = threading.Event()   # the runner saw the target stopped after it
        self.done = threading.Event()   # the run is over
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self):
        if self.done.wait(self.seconds):
            return
        self.fired.set()
        deadline = time.monotonic() + _HARD_TIMEOUT
        while not self.done.is_set():
            if time.monotonic() > deadline:
                self._give_up()
            if not self.seen.is_set():
                self.process.SendAsyncInterrupt()
            self.done.wait(1)

    def _give_up(self):
        try:  # nothing left behind: the target dies with the runner
            os.kill(self.process.GetProcessID(), _signal.SIGKILL)
        except (OSError, ValueError):
            pass
        self.report.write(f"error: groutines run: the debugger did not stop the target "
                          f"within {_HARD_TIMEOUT}s of the timeout; giving up\n")
        self.report.flush()
        hard_exit(EXIT_TIMEOUT)

    def close(self):
        self.done.set()
        self.thread.join(5)


class Interrupts:
    """Interrupts ends the run when the runner gets SIGTERM, SIGHUP or SIGINT: it kills the
    target (nothing is left running) and exits with 128 + the signal; a SIGINT during an
    interactive session is that session's Ctrl-C. The main thread is
    blocked in LLDB meanwhile, where no Python handler runs; Python's C-level handler writes
    the signal to a wakeup pipe at once, which a thread here reads. (A handled signal is reset
    to its default on exec: the target does not inherit the handlers.)"""

    SIGNALS = (_signal.SIGTERM, _signal.SIGHUP, _signal.SIGINT)

    def __init__(self, report):
        self.report = report
        self.process = None  # the target's SBProcess, once launched
        # The SBDebugger while an interactive session has the terminal: SIGINT is its
        # Ctrl-C then, not the end of the run.
        self.interactive = None
        # Held from the signal on: the main thread, which sees the target die of the kill,
        # must not report that death as the run's end (see settle()).
        self._ending = threading.Lock()
        read, write = os.pipe()
        os.set_blocking(write, False)
        for signo in self.SIGNALS:
            _signal.signal(signo, lambda *_: None)
        _signal.set_wakeup_fd(write)
        threading.Thread(target=self._wait, args=(read,), daemon=True).start()

    def _wait(self, read):
        while True:
            data = os.read(read, 1)
            if not data or data[0] not in self.SIGNALS:
                continue
            if data[0] == _signal.SIGINT and self.interactive is not None:
                self.interactive.DispatchInputInterrupt()  # Ctrl-C at the (lldb) prompt
                continue
            break
        signo = data[0]
        self._ending.acquire()
        if self.process is not None:
            try:
                os.kill(self.process.GetProcessID(), _signal.SIGKILL)
            except (OSError, ValueError):
                pass
        name = _signal.Signals(signo).name
        self.report.write(f"groutines run: interrupted by {name}; the target was killed\n")
        self.report.flush()
        hard_exit(128 + signo)

    def settle(self):
        """settle() returns at once, unless a signal is ending the run: then it never returns
        (the interrupting thread exits the process)."""
        with self._ending:
            pass


def _expression_error(value):
    """_expression_error() is the first line of the error of value, an expression evaluated
    in the target, without the compiler's location: "use of undeclared identifier 'close'"
    (a static program has no close() unless it calls it)."""
    lines = (value.GetError().GetCString() or "").strip().splitlines()
    text = lines[0] if lines else "failed"
    return re.sub(r"^(error: )?(<user expression \d+>:\d+:\d+: )?(error: )?", "", text)


def _foreground_of(fd):
    """_foreground_of() is whether fd is a terminal the runner is in the foreground of."""
    try:
        return os.isatty(fd) and os.tcgetpgrp(fd) == os.getpgrp()
    except OSError:
        return False


class Runner:
    """Runner is one `groutines run`: it loads the plugin and the groutines, runs the target
    to its end (run()), and writes the report and the files asked for."""

    def __init__(self, options, report):
        self.options = options
        self.report = report
        self.failures = 0  # failures of groutines the runner has seen
        self.status = None  # the StatusLine, on a terminal
        self.exact = {}  # the stand-ins of the target's strings that are not UTF-8: their bytes
        # The terminal whose foreground the target gets (its Ctrl-C, and stdin when that is
        # it), or None: the first of stdin, stdout, stderr that is a terminal the runner is
        # in the foreground of.
        self.terminal = next((fd for fd in (0, 1, 2) if _foreground_of(fd)), None)

    def run(self):
        options = self.options
        env = target_environment()  # before --set
        for item in options.set:
            key, value = item.split("=", 1)
            os.environ[config_variable(key)] = value
        os.environ.setdefault("LLDB_DEBUGSERVER_PATH", _DEBUGSERVER)
        # A debugger dying of a groutine the runtime cannot contain still writes the report
        # and the reason, and the run exits 2 (docs/runtime.md, "Crashes").
        os.environ["GROUTINES_FATAL_EXIT"] = str(EXIT_USAGE)
        plugin = options.plugin or os.environ.get("GROUTINES_PLUGIN") or os.path.join(
            _BUILD_DIR, "lldb_plugin", "libgroutines_lldb.so")
        if not os.path.exists(plugin):
            raise UsageError(f"no groutines plugin at {plugin} (build it, or pass --plugin)")
        paths = [resolve(spec) for spec in options.groutines]
        if not paths:
            raise UsageError("no groutines to load")
        program = options.program[0]
        self.interrupts = Interrupts(self.report)
        lldb = import_lldb()
        self.lldb = lldb
        debugger = Debugger(lldb, self.report, plugin)
        self.debugger = debugger
        debugger.command(f"groutine transport {options.transport}")
        # The agent goes into the target's LD_PRELOAD (it takes itself out of the
        # environment its children get).
        agent = os.path.join(os.path.dirname(plugin), "libgroutines_agent.so")
        if options.transport != "breakpoint" and os.path.exists(agent):
            agent = preload_path(agent)
            env = dict(env)
            env[b"LD_PRELOAD"] = b":".join(
                p for p in (os.fsencode(agent), env.get(b"LD_PRELOAD")) if p)
        try:
            program.encode()
        except UnicodeEncodeError:
            shown = os.fsencode(program).decode(errors="backslashreplace")
            raise UsageError(f"cannot debug '{shown}': its path is not UTF-8, which LLDB's API "
                             "cannot take (run it through a link with a UTF-8 name)") from None
        target = debugger.sb.CreateTarget(program)
        if not target.IsValid():
            raise UsageError(f"cannot debug '{program}': not an executable LLDB can load")
        if options.events or options.trace:
            debugger.command(f"groutine events --capacity {options.max_events}")
        for path in paths:
            ok, out, err = debugger.command(f"groutine load {lldb_quote(path)}", check=False)
            if not ok:  # without LLDB's "error: ": the runner's message has its own
                raise UsageError(f"{out}{re.sub(r'^error: ', '', err.strip())}")
            for line in out.splitlines():  # a function nothing defines yet, say
                if line.startswith("warning: "):
                    self.report.write(line + "\n")
        from . import _native
        runtime = _native.default_runtime()
        if runtime is None:
            raise UsageError("the plugin made no groutines runtime")
        self.runtime = runtime
        check_started(runtime)
        if options.stop_on_failure:  # the plugin stops the target at any groutine's failure
            debugger.command("groutine stop-on-failure on")
        self.status = StatusLine(sys.stderr, runtime) if sys.stderr.isatty() else None
        stdio = Stdio()
        outcome = Outcome()
        t0 = time.monotonic()
        try:
            self._run_target(target, options.program, env, stdio, outcome)
        finally:
            self._take_terminal_back()
            if self.status:
                self.status.close()
            stdio.close()
        elapsed = time.monotonic() - t0
        # The end of the run, as a custom event: heap reports leaks, profile its table.
        exit_data = f"status={outcome.exit_status if outcome.exit_status is not None else -1} " \
                    f"signal=\"{outcome.signal or ''}\" timed_out={str(outcome.timed_out).lower()}"
        debugger.command(f"groutine fire exit {exit_data}", check=False)
        results = collect(runtime)
        events = []
        if options.events or options.trace:
            try:
                events = read_events(debugger, options.max_events,
                                     os.path.join(run_dir(), "events.jsonl"))
            except RuntimeError as e:
                self.report.write(f"groutines run: cannot read the event log: {e}\n")
        name = os.path.basename(program)
        self.report.write(render_report(results, outcome, name, options))
        outputs = options.outputs
        if options.junit:
            write_output(outputs["junit"], lambda f: write_junit(f, junit_xml(
                results, outcome, name, elapsed, options.expect_status)))
        if options.events:
            write_output(outputs["events"], lambda f: write_events(f, events))
            self.report.write(f"events: {shown_path(os.path.abspath(options.events))}\n")
        if options.trace:
            write_output(outputs["trace"], lambda f: write_trace(f, events, name))
            self.report.write(f"trace: {shown_path(os.path.abspath(options.trace))} "
                              "(open it in https://ui.perfetto.dev)\n")
        self.report.flush()
        code = exit_code(outcome, results, options.expect_status)
        # Unload before the debugger goes: groutines' finally blocks run now, not at exit.
        debugger.command("groutine unload --all", check=False)
        debugger.close()
        return code

    def _failure_count(self):
        return sum(len(g["failures"]) for g in self.runtime.groutines())

    def _launch_info(self, argv, env, stdio):
        """_launch_info() is the launch of argv (bytes) with env (bytes: bytes), given to
        LLDB as the texts stand_ins() makes of them; self.exact maps each stand-in to the
        bytes it stands for (_exact_strings() puts them in place)."""
        strings = argv + [name + b"=" + value for name, value in env.items()]
        texts = stand_ins(strings)
        self.exact = {t.encode(): b for t, b in zip(texts, strings) if t.encode() != b}
        li = self.lldb.SBLaunchInfo(texts[1:len(argv)])
        # Stopped at its entry, it gets the terminal and the timeout starts.
        li.SetLaunchFlags(li.GetLaunchFlags() | self.lldb.eLaunchFlagStopAtEntry)
        li.SetEnvironmentEntries(texts[len(argv):], False)
        li.SetWorkingDirectory(os.getcwd())
        for fd in (0, 1, 2):
            li.AddOpenFileAction(fd, stdio.paths[fd], fd == 0, fd != 0)
        return li

    def _exact_strings(self, process):
        """_exact_strings() writes the bytes of each argument and environment entry that is
        not UTF-8 (self.exact) over its stand-in, in the target stopped at its entry: over
        the kernel's copies of them at the top of its stack, which argv and environ point to
        (and /proc/PID/cmdline and environ show). An error message when they are not where
        they should be, else None."""
        if not self.exact:
            return None
        try:
            with open(f"/proc/{process.GetProcessID()}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            # Fields 48 to 51: arg_start, arg_end, env_start, env_end.
            blocks = [(int(fields[45]), int(fields[46])), (int(fields[47]), int(fields[48]))]
        except (OSError, ValueError, IndexError) as e:
            return f"cannot give the target its exact arguments and environment: {e}"
        left = set(self.exact)
        for start, end in blocks:
            error = self.lldb.SBError()
            block = process.ReadMemory(start, end - start, error) if end > start else b""
            if error.Fail():
                return (f"cannot give the target its exact arguments and environment: "
                        f"{error.GetCString()}")
            offset = 0
            for entry in block.split(b"\0"):
                data = self.exact.get(entry)
                if data is not None:
                    process.WriteMemory(start + offset, data, error)
                    if error.Fail():
                        return (f"cannot give the target its exact arguments and "
                                f"environment: {error.GetCString()}")
                    left.discard(entry)
                offset += len(entry) + 1
        if left:
            return ("cannot give the target its exact arguments and environment: "
                    f"{sorted(self.exact[t] for t in left)!r} not found in it")
        return None

    def _give_terminal(self, process):
        """_give_terminal() makes the target's process group the terminal's foreground one
        (LLDB starts it in a group of its own), so that it can read the terminal; the
        runner, in the background meanwhile, ignores SIGTTOU to write and to take the
        terminal back."""
        try:
            with open(f"/proc/{process.GetProcessID()}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            pgrp, sid = int(fields[2]), int(fields[3])
            if sid == os.getsid(0) and pgrp != os.getpgrp():
                _signal.signal(_signal.SIGTTOU, _signal.SIG_IGN)
                os.tcsetpgrp(self.terminal, pgrp)
        except (OSError, ValueError, IndexError) as e:
            self.report.write(f"groutines run: the target cannot have the terminal: {e}\n")

    def _take_terminal_back(self):
        if self.terminal is None:
            return
        try:
            if os.tcgetpgrp(self.terminal) != os.getpgrp():
                os.tcsetpgrp(self.terminal, os.getpgrp())
        except OSError:
            pass

    def _run_target(self, target, argv, env, stdio, outcome):
        lldb = self.lldb
        options = self.options
        error = lldb.SBError()
        watchdog = None
        try:
            argv = [os.fsencode(arg) for arg in argv]
            process = target.Launch(self._launch_info(argv, env, stdio), error)
            self.interrupts.process = process
            if not error.Success() or not process.IsValid():
                outcome.error = error.GetCString() or "launch failed"
                return
            problem = self._exact_strings(process)
            if problem:
                outcome.error = problem
                process.Kill()
                return
            # SIGINT and SIGTRAP reach the target, as without the debugger (LLDB keeps them
            # by default; its own breakpoints and steps are not signals to it).
            for signo in (_signal.SIGINT, _signal.SIGTRAP):
                process.GetUnixSignals().SetShouldSuppress(signo, False)
            # Stopped at its entry: the clock starts now, whatever the launch cost.
            if options.timeout:
                watchdog = Watchdog(options.timeout, process, self.report)
            if self.terminal is not None:
                self._give_terminal(process)
            main_stop = self._stop_at_main(target)
            self.failures = self._failure_count()  # any before main do not stop it
            fatal = None  # (signal name, description, backtrace) of the last fatal stop
            while True:
                state = process.GetState()
                if state == lldb.eStateExited:
                    self.interrupts.settle()
                    status = process.GetExitStatus()
                    killed = self._killed_by()
                    if killed is None:  # not known: the signal it last stopped on, if fatal
                        killed = status if fatal and status == fatal[0] else 0
                    if killed:
                        outcome.signal = (process.GetUnixSignals().GetSignalAsCString(killed)
                                          or f"signal {killed}")
                        if fatal and fatal[0] == killed and fatal[1] in _CRASH_SIGNALS:
                            outcome.crash = (fatal[2], fatal[3])
                    else:
                        outcome.exit_status = status
                    return
                if state in (lldb.eStateDetached, lldb.eStateInvalid, lldb.eStateUnloaded):
                    outcome.error = ("the process ended unexpectedly "
                                     f"({lldb.SBDebugger.StateAsCString(state)})")
                    return
                if state == lldb.eStateCrashed:
                    outcome.signal = "a crash"
                    outcome.crash = ("the process crashed", self._all_threads(process))
                    process.Kill()
                    return
                if watchdog and watchdog.fired.is_set():
                    watchdog.seen.set()
                    outcome.timed_out = True
                    outcome.waits = self._all_threads(process)
                    process.Kill()
                    return
                # With --stop-on-failure the plugin stops at a groutine's failure.
                failed = options.stop_on_failure and self._failure_count() > self.failures
                interactive = failed
                for thread in process:
                    reason = thread.GetStopReason()
                    if (reason == lldb.eStopReasonBreakpoint and main_stop is not None
                            and thread.GetStopReasonDataAtIndex(0) == main_stop):
                        self._default_signals(thread)
                        self._close_stdio(thread, stdio.closed)
                        target.BreakpointDelete(main_stop)
                        main_stop = None
                        continue
                    if reason == lldb.eStopReasonSignal:
                        signo = thread.GetStopReasonDataAtIndex(0)
                        name = process.GetUnixSignals().GetSignalAsCString(signo) or str(signo)
                        if name in _ENDING_SIGNALS:
                            fatal = (signo, name, f"{name} on thread {thread.GetIndexID()}", [])
                        if name in _CRASH_SIGNALS:
                            fatal = (signo, name,
                                     f"{name} on thread {thread.GetIndexID()} "
                                     f"(tid {thread.GetThreadID()}"
                                     + (f", '{thread.GetName()}'" if thread.GetName() else "")
                                     + ")", frame_lines(thread))
                            if options.stop_on_failure:
                                interactive = True
                    elif reason == lldb.eStopReasonBreakpoint and not failed:
                        # Only a groutine's stop request stops at a plugin breakpoint.
                        where = frame_lines(thread, 1)[0] if thread.GetNumFrames() else "?"
                        outcome.stops.append(f"thread {thread.GetThreadID()} at {where}")
                        if options.stop_on_failure:
                            interactive = True
                if interactive:
                    stop_id = process.GetStopID()
                    self._interactive(process)
                    process = target.GetProcess()
                    if process.IsValid() and process.GetState() in (lldb.eStateRunning,
                                                                    lldb.eStateStepping):
                        outcome.error = ("the interactive session left the process "
                                         f"{lldb.SBDebugger.StateAsCString(process.GetState())}")
                        process.Kill()
                        return
                    if not process.IsValid() or process.GetState() in (
                            lldb.eStateExited, lldb.eStateDetached, lldb.eStateInvalid):
                        if process.IsValid() and process.GetState() == lldb.eStateExited:
                            continue
                        outcome.error = "the interactive session ended the process"
                        return
                    options.stop_on_failure = False  # one interactive session per run
                    self.debugger.command("groutine stop-on-failure off", check=False)
                    if process.GetStopID() != stop_id:
                        continue  # resumed in the session: its new stop is seen as any other
                process.Continue()
        finally:
            if watchdog:
                watchdog.close()

    def _stop_at_main(self, target):
        """_stop_at_main() plants a breakpoint on the executable's main (for
        _default_signals() and _close_stdio(); the stop deletes it), or, in a program
        without a `main` symbol (stripped), on libc's __libc_start_main, which calls it:
        the libraries are loaded and relocated there, so expressions can call into libc
        (the breakpoint is pending until libc is loaded). Its id, or None when it cannot be
        planted. (Not one-shot: a one-shot breakpoint is gone before its stop can be told
        apart.)"""
        bp = target.BreakpointCreateByName("main", target.GetExecutable().GetFilename())
        if bp.IsValid() and bp.GetNumLocations() > 0:
            return bp.GetID()
        if bp.IsValid():
            target.BreakpointDelete(bp.GetID())
        bp = target.BreakpointCreateByName("__libc_start_main")
        return bp.GetID() if bp.IsValid() else None

    def _default_signals(self, thread):
        """_default_signals() gives SIGPIPE and SIGXFSZ their default action in the target,
        at main: lldb-server ignores them, and the target inherits that (a program writing
        to a closed pipe would never die of it). A program that wants them ignored sets
        that itself, later."""
        options = self.lldb.SBExpressionOptions()
        options.SetIgnoreBreakpoints(True)
        options.SetTimeoutInMicroSeconds(5_000_000)
        options.SetTryAllThreads(True)
        for signo in (_signal.SIGPIPE, _signal.SIGXFSZ):
            value = thread.GetFrameAtIndex(0).EvaluateExpression(
                f"(long)((void *(*)(int, void *))signal)({int(signo)}, (void *)0)", options)
            if value.GetError().Fail():
                self.report.write(f"groutines run: cannot restore the default action of "
                                  f"signal {int(signo)} in the target "
                                  f"({_expression_error(value)})\n")
                return

    def _close_stdio(self, thread, fds):
        """_close_stdio() closes fds in the target, at main (an expression in the target):
        the standard descriptors that were closed when the runner started, which a shell
        would have given the target closed (LLDB's launch gives it /dev/null)."""
        options = self.lldb.SBExpressionOptions()
        options.SetIgnoreBreakpoints(True)
        options.SetTimeoutInMicroSeconds(5_000_000)
        options.SetTryAllThreads(True)
        for fd in fds:
            value = thread.GetFrameAtIndex(0).EvaluateExpression(
                f"(int)((int (*)(int))close)({fd})", options)
            if value.GetError().Fail():
                self.report.write(f"groutines run: cannot close descriptor {fd} in the "
                                  f"target ({_expression_error(value)}): it stays "
                                  "/dev/null\n")

    def _killed_by(self):
        """_killed_by() is the signal that killed the target, which has exited: 0 when it
        exited by itself, None when the debugger does not say. LLDB gives a death by signal
        N as exit status N; the stop reply lldb-server sent at the end says which it was
        (`W` an exit, `X` a signal), and the GDB-remote packet history keeps it."""
        ok, out, _ = self.debugger.command("process plugin packet history", check=False)
        replies = re.findall(r"read packet: \$([WX])([0-9a-fA-F]{2})[;#]", out) if ok else []
        if not replies:
            return None
        kind, value = replies[-1]
        return int(value, 16) if kind == "X" else 0

    def _all_threads(self, process):
        lines = []
        for thread in process:
            lines.append(f"thread {thread.GetIndexID()} (tid {thread.GetThreadID()}): "
                         f"{thread.GetStopDescription(200) or ''}".rstrip(": "))
            lines += ["  " + line for line in frame_lines(thread, 32)]
        return lines

    def _interactive(self, process):
        """_interactive() hands the stopped target to an interactive (lldb) prompt on the
        terminal; the run goes on (or ends) when the user quits it. The prompt reads the
        terminal in the foreground (the target, which had it, gets it back after) and the
        status line is off meanwhile."""
        if self.status:
            self.status.pause()
        self._take_terminal_back()
        self.interrupts.interactive = self.debugger.sb
        self.report.write("groutines run: stopped at a failure or a crash; the (lldb) prompt "
                          "is yours. "
                          "`groutine report` shows the failures, `quit` ends the session and "
                          "the run goes on.\n")
        self.report.flush()
        sb = self.debugger.sb
        # `quit` ends the session, not the target: no "Quitting LLDB will kill" question.
        self.debugger.command("settings set interpreter.prompt-on-quit false", check=False)
        # A stdin closed for the runner (sys.stdin None) gives the session an empty input.
        sb.SetInputFileHandle(sys.stdin or open(os.devnull), False)
        sb.SetOutputFileHandle(sys.stderr, False)
        # The session stays synchronous, as the run is: a `continue` in it returns when the
        # target stops for real or ends (LLDB takes, on the command's own listener, the stops
        # of the hooks' breakpoints that it resumes at once). An asynchronous session would
        # leave such a stop taken by its event thread at `quit`: the state reads "stopped"
        # while the target runs on, and the run's next Continue() waits forever.
        options = self.lldb.SBCommandInterpreterRunOptions()
        options.SetStopOnError(False)
        try:
            sb.RunCommandInterpreter(True, False, options, 0, False, False)
        finally:
            self.interrupts.interactive = None
            sb.SetAsync(False)  # whatever the session's commands made it
            sb.SetOutputFileHandle(self.report, False)
            if self.terminal is not None and process.IsValid() and process.GetState() not in (
                    self.lldb.eStateExited, self.lldb.eStateDetached, self.lldb.eStateInvalid):
                self._give_terminal(process)
            if self.status:
                self.status.resume()


def main(argv=None):
    """main() runs `groutines run` with argv (without the `run` word); returns the exit
    code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    reserve_stdio()
    if argv[:1] in (["-h"], ["--help"]):
        _parser().print_help(sys.stderr)
        return EXIT_OK
    report = sys.stderr
    options = None
    try:
        options = parse_args(argv)
        if options.report:
            report = open_report(options.report)
        open_outputs(options)
        return Runner(options, report).run()
    except UsageError as e:
        report.write(f"error: groutines run: {e}\n")
        report.flush()
        _write_usage_junit(options, str(e), report)
        return EXIT_USAGE
    except Exception as e:  # a bug of ours: said as such, with the usage/load exit code
        import traceback
        traceback.print_exc(file=report)
        report.write(f"error: groutines run: internal error: {type(e).__name__}: {e}\n")
        report.flush()
        _write_usage_junit(options, f"internal error: {type(e).__name__}: {e}", report)
        return EXIT_USAGE
    finally:
        discard_outputs(options)
        remove_run_dir()
        if report is not sys.stderr:
            report.close()


def _write_usage_junit(options, message, report):
    try:
        write_usage_junit(options, message)
    except OSError as e:
        report.write(f"error: groutines run: --junit {options.junit}: {e.strerror}\n")


if __name__ == "__main__":
    argv = sys.argv[1:]
    if argv[:1] == ["run"]:
        argv = argv[1:]
    code = main(argv)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # LLDB's threads must not keep a finished run alive
