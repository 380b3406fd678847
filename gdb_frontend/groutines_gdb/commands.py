"""The `groutine` commands in GDB: the core's command set (groutines/commands.hpp: the
arguments, help and text of the LLDB plugin's, byte for byte), run through
groutines._native.command() with a CommandHost that does what only this frontend can (its
breakpoints, its event log, Python scripts, stops).

Every subcommand goes through one function, run_command(frontend, argv) -> (output, error)."""
import gdb

import groutines
from groutines import _host, _native

from .events import render


class GdbCommandHost(_native.CommandHost):
    """GdbCommandHost answers the core's commands for the frontend. C++ groutine libraries and
    unloading everything are the core's defaults over the frontend's groutines.Runtime."""

    def __init__(self, frontend):
        super().__init__()
        self.frontend = frontend
        self.log = None  # the event log a command was given (see event_log())

    def event_log(self):
        # The frontend keeps its log in Python (each entry completed after its delivery: the
        # registers read, a skip, a rewrite); a command sees a copy, and what it changed of
        # the copy (--capacity, --clear) is applied back by run_command().
        mine = self.frontend.backend.events
        log = _native.EventLog(mine.capacity)
        for e in map(render, mine.entries):
            log.add(e["kind"], e["name"], seq=e["seq"], thread=e["thread"], call=e["call"],
                    detail=e["detail"], time_ns=e["time_ns"], args=e["args"], value=e["value"],
                    data=e["data"], skipped=e["skipped"], unwound=e["unwound"],
                    rewritten=e["rewritten"])
        self.log = (log, len(log))
        return log

    def prepare_load(self):
        if not gdb.current_progspace().filename:
            raise groutines.Error("no target: create one first (file PROGRAM), then load "
                                  "groutines")

    def load_script(self, path):
        return _host.load_command(path)

    def unload_script(self, path):
        return _host.unload_command(path)

    def hook_view(self, function):
        backend = self.frontend.backend
        hook = next((h for h in backend.hooks.values() if h.function == function), None)
        if hook is None:
            return None
        bp = hook.breakpoint
        agent = backend.agent
        fallback = agent.fallback.get(hook.id, "") if agent is not None else ""
        transport = "agent" if agent is not None and agent.serves(hook.id) else "breakpoint"
        return {"breakpoint": str(bp.number) if bp is not None else None,
                "locations": 1 if bp is not None else 0, "hits": hook.hits,
                "transport": transport, "fallback": fallback,
                "unresolved": bp is None and function in backend.unresolved()}

    def return_sites(self):
        backend = self.frontend.backend
        sites = [(site.address, f"breakpoint {site.breakpoint.number}", list(site.calls))
                 for site in backend.sites.values()]
        return sites + (backend.agent.return_sites() if backend.agent is not None else [])

    def set_transport(self, name):
        agent = self.frontend.backend.agent
        if agent is None:
            raise groutines.Error("this build has one transport: breakpoints (the agent is not "
                                  "built)")
        agent.set_transport(name)

    def transport_status(self):
        agent = self.frontend.backend.agent
        return agent.status() if agent is not None else "transport: breakpoint\n"

    def last_stop(self):
        return self.frontend.backend.last_stop

    def stop_on_failure(self):
        return self.frontend.backend.stop_on_failure

    def set_stop_on_failure(self, on):
        self.frontend.backend.stop_on_failure = bool(on)


def run_command(frontend, argv):
    """run_command() runs `groutine ARGV...` and returns (output, error): error is "" on
    success, else "groutine SUB: what was wrong" (output is what was done first)."""
    host = GdbCommandHost(frontend)
    frontend.at_prompt()
    try:
        output, error = _native.command(frontend.host, list(argv), host)
    finally:
        frontend.at_prompt()
    if host.log is not None:  # what the command changed of the log's copy
        log, before = host.log
        mine = frontend.backend.events
        if log.capacity != mine.capacity:
            mine.set_capacity(log.capacity)
        if before and len(log) == 0:
            mine.clear()
    return output, error


class GroutineCommand(gdb.Command):
    def __init__(self, doc):
        self.__doc__ = doc
        super().__init__("groutine", gdb.COMMAND_USER, prefix=True)


class _Subcommand(gdb.Command):
    def __init__(self, frontend, name, doc):
        self.__doc__ = doc
        super().__init__(f"groutine {name}", gdb.COMMAND_USER,
                         gdb.COMPLETE_FILENAME if name in ("load", "unload") else gdb.COMPLETE_NONE)
        self.frontend = frontend
        self.name = name

    def invoke(self, argument, from_tty):
        output, error = run_command(self.frontend, [self.name, *gdb.string_to_argv(argument)])
        if output:
            gdb.write(output)
        if not error:
            return
        if self.frontend.backend.in_hit:
            # Run by a groutine from a delivery (inside a breakpoint's stop()): a command that
            # fails there ends GDB's wait for the target (`run` returns with it stopped), so
            # the error is printed, not raised.
            gdb.write(f"error: {error}\n")
            return
        gdb.flush()
        raise gdb.GdbError(f"error: {error}")


def register(frontend):
    """register() adds the `groutine` command and its subcommands, with the core's help, its
    examples in GDB's words (the `(gdb) ` prompt, `source`, `interrupt`)."""
    entries = _native.command_help(frontend="gdb")
    for name, brief, syntax, long_help in entries:
        doc = f"{brief}\nSyntax: {syntax}\n\n{long_help}".rstrip("\n")
        if name:
            _Subcommand(frontend, name, doc)
        else:
            GroutineCommand(doc)
