"""groutines_gdb_driver: the GDB driver of `groutines run` (`--debugger gdb`).

`import gdb` works only inside GDB, so this package offers run_elsewhere(): the command the
user ran starts `gdb -nx -q -batch -x bootstrap.py`, whose Python runs the whole runner
(groutines.run.main(argv, driver=GdbDriver(...))) over the GDB frontend (gdb_frontend/), and
returns the exit code that run ends with. GDB prints its own messages ("Program received
signal", "[Inferior 1 exited]") on its standard output and error whatever it is told, so GDB
gets /dev/null there (or GROUTINES_GDB_LOG), and the runner's own stdin, stdout and stderr
reach the run inside on other descriptors: the target gets those very ones. See
gdb_driver.py, and docs/run.md, "Drivers".
"""
import fcntl
import json
import os
import shutil
import signal as _signal
import subprocess
import sys

__all__ = ["run_elsewhere"]

_HERE = os.path.dirname(os.path.abspath(__file__))


def _error(text):
    try:
        sys.stderr.write(f"error: groutines run: {text}\n")
        sys.stderr.flush()
    except (OSError, ValueError, AttributeError):
        pass
    return 2


def run_elsewhere(argv):
    """run_elsewhere() runs `groutines run argv` inside GDB and returns its exit code. The
    runner's standard streams go in as they are (a closed one stays closed for the target);
    SIGTERM, SIGHUP and SIGINT the outer command gets are passed to GDB, whose run kills its
    target and exits with 128 + the signal."""
    gdb = os.environ.get("GROUTINES_GDB") or shutil.which("gdb")
    if not gdb:
        return _error("--debugger gdb: gdb is not installed (apt-get install gdb)")
    stdio = []
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            stdio.append(None)
            continue
        # Above 2 (a closed 0 would take a plain dup()): GDB's own 0, 1 and 2 are not these.
        copy = fcntl.fcntl(fd, fcntl.F_DUPFD, 3)
        os.set_inheritable(copy, True)
        stdio.append(copy)
    from groutines import run
    # GDB's readline sets LINES and COLUMNS in GDB's environment, which the target would get.
    # The stock groutines' directories as this process finds them (a launcher may have set
    # them here: scripts/groutines, the installed groutines command).
    spec = {"argv": list(argv), "stdio": stdio, "stock": list(run.stock_dirs()),
            "screen": {name: os.environ.get(name) for name in ("LINES", "COLUMNS")},
            "python": os.path.dirname(_HERE)}  # the directory that holds groutines/
    env = dict(os.environ, GROUTINES_GDB_RUN=json.dumps(spec))
    log = os.environ.get("GROUTINES_GDB_LOG") or os.devnull
    try:
        sink = open(log, "ab")
    except OSError as e:
        return _error(f"GROUTINES_GDB_LOG {log}: {e.strerror}")
    # GDB reads no command from its stdin (batch mode); it is the runner's, so that GDB
    # and the run see the terminal the runner has.
    stdin = stdio[0] if stdio[0] is not None else subprocess.DEVNULL
    command = [gdb, "-nx", "-q", "-batch", "-x", os.path.join(_HERE, "bootstrap.py")]
    try:
        child = subprocess.Popen(command, stdin=stdin, stdout=sink, stderr=sink, env=env,
                                 pass_fds=[fd for fd in stdio if fd is not None])
    except OSError as e:
        return _error(f"--debugger gdb: cannot start {gdb}: {e.strerror}")
    finally:
        sink.close()
        for fd in stdio:
            if fd is not None:
                os.close(fd)

    def forward(signo, _frame):
        try:
            child.send_signal(signo)
        except OSError:
            pass

    for signo in (_signal.SIGTERM, _signal.SIGHUP, _signal.SIGINT):
        _signal.signal(signo, forward)
    while True:
        try:
            code = child.wait()
            break
        except InterruptedError:
            continue
    if code < 0:
        name = _signal.Signals(-code).name if -code in _signal.Signals._value2member_map_ \
            else f"signal {-code}"
        return _error(f"gdb died of {name}" + (f" (its output: {log})"
                                               if log != os.devnull else ""))
    return code
