"""groutines.testing: unit-test groutine scripts with pytest, without a debugger.

    from groutines.testing import Target

    def test_the_third_big_malloc_fails():
        with Target() as t:
            t.load("groutine_issue_example.py")
            for _ in range(3):
                assert t.call(1, "malloc", args=[8]) is None
                t.ret(1, 0x1000)
            assert t.call(1, "malloc", args=[32]) == 0     # skipped: the caller got 0
            assert t.passed, t.report()

A Target is a scripted program: threads (any integer id) with call stacks. call() enters a
function (groutines waiting on it handle the call: the result is the value forced with
return_now, else None and the frame stays until ret() or unwind()). While a Target is open and
no debugger made a runtime, it is the default runtime (groutines.fire() outside a groutine
goes to it).
"""
import dataclasses
import os

from . import _loader, _native

__all__ = ["Target", "GroutineInfo", "Failure"]


@dataclasses.dataclass(frozen=True)
class Failure:
    """One failure of a groutine: a failed check, or the exception that ended it (fatal)."""
    message: str
    file: str
    line: int
    event: str
    fatal: bool
    backtrace: tuple = ()  # the target's stack when it failed handling a call or a return
    groutine: str = ""     # the spawned child it happened in ("": the groutine itself)

    def __str__(self):
        child = f" (in child {self.groutine})" if self.groutine else ""
        return f"{self.file}:{self.line}: {self.message} (during {self.event}){child}"


@dataclasses.dataclass(frozen=True)
class GroutineInfo:
    """A loaded groutine as the runtime sees it."""
    id: int
    name: str
    source: str
    file: str
    line: int
    state: str          # ready, running, waiting, finished, failed
    waiting_on: str     # "call of malloc", "any of (...)" while waiting
    events_handled: int
    python: bool
    failures: tuple     # its own, then those of its ended (reaped) children
    parent: int = 0     # the groutine that spawned it (0: loaded)
    children: dict = dataclasses.field(default_factory=dict)  # spawned, live, ended, failed, events
    missed: dict = dataclasses.field(default_factory=dict)    # function -> calls missed

    @classmethod
    def _from(cls, d):
        return cls(**{**d, "failures": tuple(
            Failure(**{**f, "backtrace": tuple(f.get("backtrace", ()))}) for f in d["failures"])})


class Target:
    """A scripted target with its own groutines runtime. Close it (or use `with`) to unload
    its groutines: their finally blocks run then."""

    def __init__(self):
        self._target = _native.ScriptedTarget()
        _loader.open_targets.add(self)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        """close() unloads every groutine, newest first, and ends the target."""
        self._target.close()

    @property
    def runtime(self):
        """The target's runtime (groutines._native.Runtime); groutines.Error once closed."""
        if self._target.closed:
            raise _native.Error("this scripted target is closed")
        return self._target.runtime

    # --- Loading ---

    def load(self, what):
        """load() starts groutines: from a script path or a directory of groutine_*.py /
        *_groutines.py scripts (replacing what that file loaded before), from an imported
        module, or one async function. Returns the names started. Raises LoadError."""
        if isinstance(what, (str, os.PathLike)):
            loaded = _loader.load_path(self.runtime, os.fspath(what))
        elif hasattr(what, "__file__") and not callable(what):
            loaded = [_loader.load_module(self.runtime, what)]
        else:
            loaded = [_loader.load_function(self.runtime, what)]
        return [name for l in loaded for name in l.names]

    def load_library(self, path):
        """load_library() starts the GROUTINE(...)s of a C++ groutine library (a .so); returns
        their ids. The library is closed when the target is."""
        return self._target.load_library(os.fspath(path))

    def unload(self, what):
        """unload() unloads a groutine by name, or what a script path loaded; returns how
        many."""
        if isinstance(what, str) and not os.path.exists(what):
            ids = [g.id for g in self.groutines if g.name == what]
            return sum(1 for i in ids if self.runtime.unload(i))
        return _loader.unload_path(self.runtime, os.fspath(what))

    # --- Driving the target ---

    def call(self, thread, function, *, args=(), floats=(), named=None, regs=None):
        """call() enters function on thread: args are the integer/pointer arguments (rdi,
        rsi, ...), floats the floating ones (xmm0...), named the arguments the debug info
        would name ({"len": 10}), regs register overrides. Returns the value a groutine
        forced with return_now (the call then did not run), else None."""
        return self._target.call(thread, function, list(args), list(floats), dict(named or {}),
                                 dict(regs or {}))

    def ret(self, thread, value=0):
        """ret() returns value (int, or float for a floating return) from thread's innermost
        call; returns what the caller sees (as rewritten by groutines)."""
        return self._target.ret(thread, value)

    def unwind(self, thread, frames=1):
        """unwind() pops frames of thread without returning (longjmp, exception)."""
        self._target.unwind(thread, frames)

    def fire(self, name, /, **data):
        """fire() fires a custom event as from the debugger prompt; returns the replies."""
        return self.runtime.fire(name, data)

    def write_memory(self, address, data):
        """write_memory() makes bytes readable at address (read_memory, read_cstring)."""
        self._target.write_memory(address, bytes(data))

    def map_region(self, start, end, permissions="rw-", path=""):
        """map_region() adds [start, end) to the target's memory map (Call.memory_regions()):
        permissions as /proc/PID/maps shows them ("r-x"), path the mapped file or "[stack]".
        Without one, memory_regions() is a groutines.Error."""
        self._target.map_region(start, end, permissions, path)

    # The C return types returns() knows: (class, size, signed).
    _RETURN_TYPES = {
        "char": ("integer", 1, True), "unsigned char": ("integer", 1, False),
        "short": ("integer", 2, True), "unsigned short": ("integer", 2, False),
        "int": ("integer", 4, True), "unsigned": ("integer", 4, False),
        "unsigned int": ("integer", 4, False), "long": ("integer", 8, True),
        "unsigned long": ("integer", 8, False), "bool": ("bool", 1, False),
        "pointer": ("pointer", 8, False), "float": ("float", 4, False),
        "double": ("float", 8, False), "long double": ("x87", 16, False),
        "struct": ("aggregate", 16, False), "void": ("void", 0, False),
    }

    def returns(self, function, type):
        """returns() gives function a C return type, as debug info would: "int", "unsigned",
        "long", "char", "bool", "pointer", "float", "double", "long double", "struct",
        "void"... Values that groutines force or set are then converted to it as C converts a
        returned value, or refused (groutines.Error) for a struct. Without one, a value
        reaches the caller as given."""
        if type not in self._RETURN_TYPES:
            raise ValueError(f"returns({function!r}, {type!r}): the type is one of "
                             + ", ".join(repr(t) for t in self._RETURN_TYPES))
        self._target.declare_return_type(function, *self._RETURN_TYPES[type])

    def symbols(self, *names, module=""):
        """symbols() declares code symbols of the target, for groutines.functions(): of the
        main executable, or of module (a file name such as 'libc.so.6')."""
        self._target.declare_symbols(module, list(names))

    def depth(self, thread):
        """depth() counts the frames on thread's stack."""
        return self._target.depth(thread)

    # --- What happened ---

    @property
    def groutines(self):
        """The loaded groutines, in load order (none once closed)."""
        return [GroutineInfo._from(d) for d in self._target.runtime.groutines()]

    def groutine(self, name):
        """groutine() is the loaded groutine called name; KeyError when there is none."""
        for g in self.groutines:
            if g.name == name:
                return g
        raise KeyError(name)

    @property
    def failures(self):
        """Every failure of every groutine, as 'name: file:line: message (during ...)'."""
        return [f"{g.name}: {f}" for g in self.groutines for f in g.failures]

    @property
    def passed(self):
        """True while no groutine failed."""
        return not self.failures

    @property
    def hooked(self):
        """The functions hooked now (sorted)."""
        return self._target.hooked

    @property
    def watched(self):
        """How many returns are watched now."""
        return self._target.watched

    @property
    def journal(self):
        """The backend requests so far: install/remove f, watch/unwatch #call."""
        return self._target.journal

    @property
    def stops(self):
        """The stops groutines asked for: 'name: reason'."""
        return self._target.stops

    @property
    def logs(self):
        """What groutines logged: 'name: message'."""
        return self._target.logs

    def report(self):
        """report() renders every groutine, its state and its failures."""
        lines = []
        for g in self.groutines:
            state = g.state + (f" on {g.waiting_on}" if g.waiting_on else "")
            lines.append(f"{g.name}: {state}, {g.events_handled} events")
            lines.extend(f"  {f}" for f in g.failures)
        return "\n".join(lines) + "\n" if lines else "no groutines loaded\n"
