"""A debugger written in Python, in miniature: a groutines.Backend and groutines Frames
implemented in pure Python over a scripted target (threads with call stacks), hosting the
runtime with groutines.Runtime as a debugger whose only API is Python (GDB) would."""
import fnmatch

import groutines


class PureFrame(groutines.Frame):
    """One frame of a scripted thread: what a call passed, what it returned."""

    def __init__(self, function, args=(), floats=(), named=None, regs=None):
        super().__init__()
        self.function = function
        self.args, self.floats = list(args), list(floats)
        self.named = dict(named or {})
        self.regs = dict(regs or {})
        self.watched_call = None  # set by PureBackend.watch_return
        self.return_int = 0
        self.return_float = 0.0
        self.memory = {}

    def int_argument(self, index):
        if index >= len(self.args):
            raise IndexError(f"{self.function} has no integer argument {index}")
        return self.args[index]

    def float_argument(self, index):
        return self.floats[index]

    def register_value(self, name):
        if name not in self.regs:
            raise KeyError(f"no register {name!r}")
        return self.regs[name]

    def arguments(self):
        return [(name, type(value).__name__, value) for name, value in self.named.items()]

    def read_cstring(self, address, max_size):
        return self.memory[address][:max_size]

    def backtrace(self, max_frames):
        return [{"pc": 0x1000, "module": "pure", "function": self.function}][:max_frames]

    def int_return_value(self):
        return self.return_int

    def float_return_value(self):
        return self.return_float

    def returns_float(self):
        return isinstance(self.return_float, float) and self.return_float != 0.0


class PureBackend(groutines.Backend):
    """Hooks and watches as plain dicts; stops and logs as lists. fail_on names a method that
    raises, to show that a backend's failure never escapes into the runtime."""

    def __init__(self):
        super().__init__()
        self.hooks = {}      # function id -> name
        self.watched = {}    # call id -> frame
        self.journal = []    # install/remove/watch/unwatch, in order
        self.stops, self.logs, self.failures, self.observed = [], [], [], []
        self.fail_on = None
        self.symbols = {}    # module file name ("" the main executable) -> function names

    def functions(self, pattern, modules):
        self._maybe_fail("functions")
        return [name for module in (modules or [""]) for name in self.symbols.get(module, [])
                if fnmatch.fnmatchcase(name, pattern)]

    def _maybe_fail(self, method):
        if self.fail_on == method:
            raise RuntimeError(f"{method} refused")

    def install_call_hook(self, function_id, function):
        self._maybe_fail("install_call_hook")
        self.hooks[function_id] = function
        self.journal.append(f"install {function}")

    def remove_call_hook(self, function_id):
        self._maybe_fail("remove_call_hook")
        self.journal.append(f"remove {self.hooks.pop(function_id)}")

    def watch_return(self, call, function_id, function, frame):
        self._maybe_fail("watch_return")
        frame.watched_call = call
        self.watched[call] = frame
        self.journal.append(f"watch {function}#{call}")

    def unwatch_return(self, call):
        frame = self.watched.pop(call)
        frame.watched_call = None
        self.journal.append(f"unwatch #{call}")

    def request_stop(self, groutine, reason):
        self._maybe_fail("request_stop")
        self.stops.append(f"{groutine}: {reason}")

    def log(self, groutine, message):
        self.logs.append(f"{groutine}: {message}")

    def on_failure(self, groutine, message, fatal):
        self.failures.append((groutine, message, fatal))

    def observe(self, event):
        self.observed.append((event["kind"], event["name"]))


class PureTarget:
    """The scripted target: call() enters a function on a thread (delivered when hooked),
    ret() returns from the innermost frame (delivered when watched). Owns the backend and the
    hosted runtime, made the default runtime."""

    def __init__(self):
        self.backend = PureBackend()
        self.host = groutines.Runtime(self.backend)
        self.stacks = {}

    @property
    def runtime(self):
        return self.host.runtime

    def call(self, thread, function, **frame_parts):
        """call() returns the value a groutine forced (the call then did not run), or None."""
        frame = PureFrame(function, **frame_parts)
        ids = [i for i, name in self.backend.hooks.items() if name == function]
        if ids:
            outcome = self.host.deliver_call(ids[0], thread, frame)
            if outcome.skip:
                return outcome.forced_return
        self.stacks.setdefault(thread, []).append(frame)
        return None

    def ret(self, thread, value=0):
        """ret() returns value from thread's innermost frame; returns what the caller sees."""
        frame = self.stacks[thread].pop()
        if isinstance(value, float):
            frame.return_float = value
        else:
            frame.return_int = value
        if frame.watched_call is not None:
            call = frame.watched_call
            self.backend.watched.pop(call)
            outcome = self.host.deliver_return(call, thread, frame)
            if outcome.rewritten:
                return outcome.return_value
        return value

    def close(self):
        self.host.close()
