"""groutines: small scripts that live in the debugger beside a running program and subscribe
to calls of its functions.

    import groutines as g

    @g.groutine
    async def header_len_bounded():
        async for call in g.calls("parse_header"):         # every call
            assert call.arg("len") <= 4096                 # by DWARF name
            ret = await call.returned()                    # the return of THIS call
            assert ret.value >= 0

Load a script with `(lldb) groutine load file.py` (or a directory of groutine_*.py files);
unit-test one offline with groutines.testing.Target. A groutine is an `async def` coroutine,
driven by the runtime on the thread that reports each event: it awaits

    g.call(f, where=...)    the next call of f          -> Call
    g.event(name, where=...) the next custom event       -> CustomEvent
    call.returned()         the return of that call     -> Return
    g.any(a, b, ...)        the first of several        -> (index, event)
    async for c in g.calls(f, where=...)                every call of f

and g.spawn(coroutine) starts a child groutine at once, inside the event being handled: a
stream that awaits each call's return in line misses the calls made meanwhile (recursion,
other threads: counted in stream.missed); spawning a child per call misses none:

    async def check_return(call):
        ret = await call.returned()                    # the return of THIS call
        assert ret.value >= 0

    @g.groutine
    async def every_return_checked():
        async for call in g.calls("parse_header"):
            g.spawn(check_return(call))                # the child awaits; we take the next

A failed assert or any exception ends that groutine as failed (message, file:line, the
event); the others go on. g.check(condition, message) records a failure and goes on. Call
and Return objects are valid while their event is handled: used after the target resumed,
they raise groutines.Error.
"""
import linecache
import sys

from ._native import (Awaitable, Call, CallStream, CustomEvent, Error, Reply, Return, any,
                       call, calls, current_name, event, functions, log, spawn, stop)
from . import _native
from ._native import Backend, Frame, Outcome
from ._native import HostedRuntime as Runtime
from ._loader import LoadError, groutine

__all__ = ["Awaitable", "Backend", "Call", "CallStream", "CustomEvent", "Error", "Frame",
           "LoadError", "Outcome", "Reply", "Return", "Runtime", "any", "call", "calls", "check",
           "current_name", "event", "fire", "functions", "groutine", "log", "spawn", "stop"]


def check(condition, message=None):
    """check(condition, message=None) -> bool(condition). When condition is false it records a
    failure of the running groutine at the caller's file:line, "check failed: SOURCE LINE:
    message", and returns False: the groutine goes on, and is reported failed when it ends
    (as GROUTINE_CHECK in C++; a failed assert ends the groutine instead)."""
    if condition:
        return True
    caller = sys._getframe(1)
    file, line = caller.f_code.co_filename, caller.f_lineno
    source = linecache.getline(file, line).strip()
    text = f"check failed: {source}" if source else "check failed"
    if message is not None:
        text += f": {message}"
    _native._record_failure(text, file, line)
    return False


def fire(name, /, **data):
    """fire(name, **data) fires custom event name and returns the replies of the groutines
    waiting for it, in load order: Reply objects (.value, .groutine, .id), as C++ fire() returns;
    a Reply compares equal to its value. From a groutine, it runs them before it returns; outside
    one, it fires as from the debugger prompt."""
    return _native.fire(name, data)
