"""The runner inside GDB: `gdb -nx -q -batch -x bootstrap.py`, started by run_elsewhere()
(__init__.py), which gives it, in GROUTINES_GDB_RUN, the runner's arguments, the descriptors
that hold the runner's standard streams (GDB's own 1 and 2 are /dev/null) and the directory
of the groutines package."""
import json
import os
import sys

_spec = json.loads(os.environ.pop("GROUTINES_GDB_RUN"))
sys.path.insert(0, _spec["python"])
# The runner's environment, as the target gets it: GDB's readline set these two in GDB's.
for _name, _value in _spec["screen"].items():
    if _value is None:
        os.environ.pop(_name, None)
    else:
        os.environ[_name] = _value

from groutines import _session, run  # noqa: E402
from groutines_gdb_driver.gdb_driver import GdbDriver  # noqa: E402

_stdio = _spec["stdio"]
# The runner writes to sys.stdout and sys.stderr and reads sys.stdin (GDB's Python has its
# own in their place): on the runner's streams. A closed one is /dev/null here, and closed
# for the target (as reserve_stdio() does in a runner of its own).
_streams = []
for _fd, (_name, _mode) in enumerate((("stdin", "r"), ("stdout", "w"), ("stderr", "w"))):
    if _stdio[_fd] is None:
        _session._CLOSED_STDIO.add(_fd)
        _stdio[_fd] = os.open(os.devnull, os.O_RDWR)
    _streams.append(open(_stdio[_fd], _mode, closefd=False,
                         errors="backslashreplace" if _fd == 2 else None))
sys.stdin, sys.stdout, sys.stderr = _streams

_code = run.main(_spec["argv"], driver=GdbDriver(_stdio))
sys.stdout.flush()
sys.stderr.flush()
os._exit(_code)  # GDB's exit would run the frontend's and Python's clean-ups again
