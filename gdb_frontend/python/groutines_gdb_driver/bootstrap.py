"""The runner inside GDB: `gdb -nx -q -batch -x bootstrap.py`, started by run_elsewhere()
(__init__.py), which gives it, in GROUTINES_GDB_RUN, the runner's arguments, the descriptors
that hold the runner's standard streams (GDB's own 1 and 2 are /dev/null) and the directory
of the groutines package."""
import json
import os
import sys

_SPEC = json.loads(os.environ.pop("GROUTINES_GDB_RUN"))


def _main(spec):
    sys.path.insert(0, spec["python"])
    # The runner's environment, as the target gets it: GDB's readline set these two in GDB's.
    for name, value in spec["screen"].items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value

    from groutines import _session, run
    from groutines_gdb_driver.gdb_driver import GdbDriver

    stock = tuple(spec["stock"])
    run.stock_dirs = lambda: stock  # the outer command's, launcher's choices included

    stdio = list(spec["stdio"])
    # The runner writes to sys.stdout and sys.stderr and reads sys.stdin (GDB's Python has
    # its own in their place): on the runner's streams. A closed one is /dev/null here, and
    # closed for the target (as reserve_stdio() does in a runner of its own).
    streams = []
    for fd, mode in enumerate("rww"):
        if stdio[fd] is None:
            _session._CLOSED_STDIO.add(fd)
            stdio[fd] = os.open(os.devnull, os.O_RDWR)
        # As Python's own: stderr line-buffered, with backslashes for what cannot be encoded.
        streams.append(open(stdio[fd], mode, closefd=False, buffering=1 if fd == 2 else -1,
                            errors="backslashreplace" if fd == 2 else None))
    sys.stdin, sys.stdout, sys.stderr = streams
    return run.main(spec["argv"], driver=GdbDriver(stdio))


try:
    _code = _main(_SPEC)
except BaseException:  # a bug of ours: said on the runner's stderr, exit 2 (not GDB's 0)
    import traceback
    if sys.stderr is sys.__stderr__ and _SPEC["stdio"][2] is not None:
        sys.stderr = open(_SPEC["stdio"][2], "w", closefd=False)
    traceback.print_exc(file=sys.stderr)
    sys.stderr.write("error: groutines run: internal error in the GDB driver's bootstrap\n")
    _code = 2
sys.stdout.flush()
sys.stderr.flush()
os._exit(_code)  # GDB's exit would run the frontend's and Python's clean-ups again
