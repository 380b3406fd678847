"""The exec wrapper of a target under `groutines run --debugger gdb` (GDB's `exec-wrapper`):
`python3 -I -S wrapper.py SPEC` puts the target's standard streams in place, gives SIGPIPE
and SIGXFSZ their default action, and execs the target with its arguments and environment
byte for byte, as GdbDriver.launch() wrote them in the file SPEC. GDB stops the target at its
first instruction, after this exec."""
import json
import os
import signal
import sys

with open(sys.argv[1]) as f:
    spec = json.load(f)
argv = [bytes.fromhex(a) for a in spec["argv"]]
env = dict(bytes.fromhex(e).split(b"=", 1) for e in spec["env"])
for fd, source in enumerate(spec["stdio"]):
    if source is None:
        os.close(fd)
    elif source != fd:
        os.dup2(source, fd)
for source in set(spec["stdio"]) - {None, 0, 1, 2}:
    os.close(source)
# Python ignores SIGPIPE and SIGXFSZ; an exec keeps ignored signals ignored.
for signo in (signal.SIGPIPE, signal.SIGXFSZ):
    signal.signal(signo, signal.SIG_DFL)
os.execve(argv[0], argv, env)
