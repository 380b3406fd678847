"""The files of a `groutines run`: its temporary directory, the output files it writes at
the end (--junit, --events, --trace, checked before the run), the adapter's event log and the
events and trace files made from it, and the hard exit that leaves none of them behind."""
import json
import os
import re
import shutil
import stat
import tempfile

from ._driver import UsageError, quote

# The run's temporary directory (the FIFOs of Stdio, a link to the agent, the adapter's event
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


def remove_run_dir():
    """remove_run_dir() removes the run's temporary directories and what they hold."""
    while _RUN_DIR:
        shutil.rmtree(_RUN_DIR.pop(), ignore_errors=True)


# Cleanups hard_exit() runs before os._exit: what must not be left behind (on the terminal,
# in the file system).
_AT_HARD_EXIT = []


def hard_exit(code):
    """hard_exit() ends the runner at once with code (os._exit: the main thread may be stuck
    in the debugger), after the _AT_HARD_EXIT cleanups (the status line gives the terminal
    back its rows, the output files' temporary files go, the debugger's files go) and the
    run's temporary directory."""
    for cleanup in list(_AT_HARD_EXIT):
        try:
            cleanup()
        except Exception:  # the exit goes on
            pass
    remove_run_dir()
    os._exit(code)


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


# --- The event log ---

class EventLog:
    """EventLog is the adapter's event log written to a file (`groutine events --json
    --output FILE`, one JSON object per line), read one line at a time each time it is
    iterated: the events as dicts, with the adapter's keys (seq, time_ns, thread, kind, name,
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


def read_events(driver, max_events, path):
    """read_events() has the adapter write its newest max_events events to path (through
    driver.command(), a Driver's) and returns them as an EventLog. Raises RuntimeError when
    the adapter does not give them."""
    ok, _, err = driver.command(
        f"groutine events --json -n {max_events} --output {quote(path)}", check=False)
    if not ok:
        raise RuntimeError(err.strip() or "groutine events --json failed")
    return EventLog(path)


def first_time(events):
    """first_time() is the time of the first of events (the adapter logs them in time order),
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
    twice: first_time()): a track (tid) per target thread, each call whose return was seen as
    a complete slice ("X") from call to return, given at its return; other calls, custom
    events, logs and stops as instants ("i"); times in microseconds since the first event. It
    keeps only the calls not returned yet."""
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
