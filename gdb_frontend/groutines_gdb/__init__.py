"""groutines in GDB: the frontend that `source .../groutines.py` starts.

start() makes one groutines.Runtime over a GdbBackend (the default runtime, which `groutine
load x.py` and groutines.fire() use), adds the `groutine` commands, and follows GDB's events:
a module loaded plants the hooks waiting for it, a process that ends releases every watched
return, and GDB's exit closes the runtime while GDB can still delete breakpoints."""
import os

import gdb

import groutines

from . import commands, output
from .backend import GdbBackend

__all__ = ["Frontend", "start", "frontend"]

_frontend = None


class Frontend:
    """Frontend is the groutines session of this GDB: the backend, the runtime over it and the
    C++ libraries loaded."""

    def __init__(self):
        self.backend = GdbBackend()
        self.host = _runtime_over(self.backend)
        self.backend.host = self.host
        # The backend keeps the event log `groutine events` shows (commands.GdbCommandHost);
        # the runtime's own would read every return value again.
        self.host.event_log.capacity = 0
        self.closed = False
        self._handlers = [
            (gdb.events.new_objfile, self._new_objfile),
            (gdb.events.exited, self._exited),
            (gdb.events.stop, self._stopped),
            (gdb.events.before_prompt, self._before_prompt),
            (gdb.events.gdb_exiting, self._exiting),
        ]
        for registry, handler in self._handlers:
            registry.connect(handler)

    def at_prompt(self):
        if not self.closed:
            self.backend.at_prompt()

    # --- GDB's events ---

    def _new_objfile(self, event):
        if not self.closed:
            self.backend.plant_unresolved()

    def _exited(self, event):
        if not self.closed:
            self.backend.end_process("the process exited")

    def _stopped(self, event):
        if not self.closed:
            self.backend.stopped()

    def _before_prompt(self):
        self.at_prompt()

    def _exiting(self, event):
        self.close()

    def close(self):
        """close() unloads every groutine and removes every breakpoint planted; GDB goes on
        without groutines (at exit, before the interpreter goes)."""
        if self.closed:
            return
        self.closed = True
        for registry, handler in self._handlers:
            try:
                registry.disconnect(handler)
            except Exception:  # noqa: BLE001 - the registry may be gone at exit
                pass
        if self.backend.agent is not None:
            self.backend.agent.disconnect("groutines closed")
        self.host.close()
        self.backend.close()
        self.backend.host = None


# C++ groutines read the target from their fiber stacks through this frontend's Python and
# GDB's expression code: their stacks are as large as under the LLDB plugin (1 MiB) unless
# GROUTINES_STACK_SIZE says otherwise.
_STACK_SIZE = "1M"


def _runtime_over(backend):
    """_runtime_over() is a groutines.Runtime over backend with 1 MiB fiber stacks, the
    environment left as it was (the runtime reads GROUTINES_STACK_SIZE when it is made)."""
    if os.environ.get("GROUTINES_STACK_SIZE"):
        return groutines.Runtime(backend)
    os.environ["GROUTINES_STACK_SIZE"] = _STACK_SIZE
    try:
        return groutines.Runtime(backend)
    finally:
        del os.environ["GROUTINES_STACK_SIZE"]


def frontend():
    """frontend() is the running Frontend, or None before start()."""
    return _frontend


def start():
    """start() starts the frontend once; sourcing groutines.py again does nothing more."""
    global _frontend
    if _frontend is None:
        output.install()  # before anything writes from the agent's service thread
        _frontend = Frontend()
        commands.register(_frontend)
    return _frontend
