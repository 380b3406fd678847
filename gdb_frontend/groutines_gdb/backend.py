"""GdbBackend: what GDB provides to the groutines runtime, on GDB's Python breakpoints
(gdb_frontend/README.md tells why each is so).

- A hook is an internal breakpoint on the function's first instruction: `*F` before the
  program runs, `*0xADDRESS` in a live process (found as GDB's linespecs find functions, and
  moved when a module load moves it), planted when a module that defines the function loads.
  Two names of one address share it. Its stop() delivers the call to every name and returns
  False (the target goes on) unless a groutine asked to stop.
- A watched return is a breakpoint at the call's return address, shared by every call
  returning there, matched by thread and stack pointer (after `ret`, rsp is the entry rsp + 8):
  not gdb.FinishBreakpoint, which matched the wrong call across longjmp. A watched call whose
  frame is gone without a return (longjmp, an exception) is delivered as unwound when its
  thread is seen above it, or when the process ends.
- GDB crashes when a breakpoint at the address being served is deleted inside a stop(), so a
  breakpoint nobody needs any more is retired (its stop() does nothing) and deleted later: at
  a stop() elsewhere, at a module load, at the prompt, or when the process ends. A return
  breakpoint is disabled at once too (disabling is safe there): on the agent transport no
  other stop() may come to delete it, and every return there would stop.
- With the agent (agent.py), calls of a patched function come from the agent's service
  thread, without a breakpoint: the backend's methods it reaches ask GDB nothing.
"""
import fnmatch
import os
import re
import time

import gdb

import groutines

from .agent import GdbAgent, agent_host, innermost_first
from .events import EventLog, new_entry
from .frame import ENTRY, GONE, RETURN, GdbFrame, layout_at


class _Pending:
    """_Pending is one watched call: where its return will be seen."""
    __slots__ = ("call", "function", "thread", "entry", "entry_sp", "return_address")

    def __init__(self, call, function, thread, entry, entry_sp, return_address):
        self.call, self.function, self.thread = call, function, thread
        self.entry, self.entry_sp, self.return_address = entry, entry_sp, return_address


class _Hook:
    """_Hook is one hooked function: its breakpoint once the function is defined."""
    __slots__ = ("id", "function", "breakpoint", "address", "by_address", "hits")

    def __init__(self, function_id, function):
        self.id, self.function = function_id, function
        self.breakpoint = None
        self.address = None
        # by_address: planted at an address of this process (`*0x...`), not by name: the
        # name means something else to GDB's expressions (see _plant); planted again in
        # the next process.
        self.by_address = False
        self.hits = 0


class _Site:
    """_Site is a return address with a breakpoint and the calls returning there."""
    __slots__ = ("address", "breakpoint", "number", "calls")

    def __init__(self, address, breakpoint):
        self.address, self.breakpoint, self.calls = address, breakpoint, []
        self.number = breakpoint.number  # read without GDB (the agent's thread may forget it)


class _CallBreakpoint(gdb.Breakpoint):
    def __init__(self, backend, spec):
        super().__init__(spec, type=gdb.BP_BREAKPOINT, internal=True)
        self.silent = True
        self.backend = backend
        self.id = self.number  # read without GDB (the agent's thread unplants too)

    def stop(self):
        return self.backend.call_hit(self)


class _ReturnBreakpoint(gdb.Breakpoint):
    def __init__(self, backend, address):
        super().__init__(f"*{address:#x}", type=gdb.BP_BREAKPOINT, internal=True)
        self.silent = True
        self.backend = backend

    def stop(self):
        return self.backend.return_hit(self)


def _innermost_first(p):
    return innermost_first((p.entry_sp, p.call))


class GdbBackend(groutines.Backend):
    """The runtime's Backend in GDB. Owns every breakpoint it plants."""

    def __init__(self):
        super().__init__()
        self.host = None  # the groutines.Runtime over this backend (set by the frontend)
        self.hooks = {}         # function id -> _Hook
        self.hook_by_bp = {}    # breakpoint number -> the function ids it serves
        self.sites = {}         # return address -> _Site
        self.site_by_bp = {}    # breakpoint number -> return address
        self.pending = {}       # call id -> _Pending
        self.retired = []       # breakpoints to delete once outside their stop()
        self.layouts = {}       # entry pc -> ArgumentLayout
        self.stop_reasons = []  # asked for during the stop() running now
        self.last_stop = ""
        self.in_hit = False
        self.stop_on_failure = False
        self.show_frame = False
        self._thread = 0  # the target thread of the hit being served
        self.evaluating = 0
        self.exiting = False  # closed: plants and deletes nothing more
        self.pid = 0
        self.events = EventLog()
        self.symbols = {}  # module path -> its code symbols' names (functions())
        self._entries = {}  # kind -> the log entry of the call or return being delivered
        # The agent transport (agent.py): None where the agent is not built.
        self.agent = GdbAgent(self) if agent_host is not None else None

    # --- groutines.Backend ---

    def install_call_hook(self, function_id, function):
        hook = _Hook(function_id, function)
        if self.agent is not None and self.agent.on_service_thread():
            # Asked for by an agent delivery, where GDB cannot be asked: a function the agent
            # has patched is served again at once (its breakpoint is planted, disabled, at
            # the next module load or process); another is planted at the agent's stop pad.
            if self.agent.hold_again(function_id):
                self.hooks[function_id] = hook
            else:
                self.agent.deferred.append((function_id, function))
            return
        self.hooks[function_id] = hook
        self._plant(hook)

    def remove_call_hook(self, function_id):
        if self.agent is not None:
            self.agent.release(function_id)  # its calls pass through the agent from now
            self.agent.deferred = [d for d in self.agent.deferred if d[0] != function_id]
        hook = self.hooks.pop(function_id, None)
        if hook is not None:
            self._unplant(hook)  # without asking GDB: from the agent's thread too

    def watch_return(self, call, function_id, function, frame):
        if _is_agent(frame):
            self.agent.watch(call, frame)
            return
        sp = frame.stack_pointer()
        return_address = frame.read_u64(sp)
        entry = frame.register_value("rip")
        # The return value's type is read here, in the function's own scope: at the return
        # its debug info is not in scope, and a GDB command that fails inside a stop() of a
        # multi-threaded target ends GDB's wait for it (`run` returns with threads running).
        frame.layout()
        self.pending[call] = _Pending(call, function, frame.thread, entry, sp, return_address)
        site = self.sites.get(return_address)
        if site is None:
            try:
                gdb.selected_inferior().read_memory(return_address, 1)
            except gdb.MemoryError:
                # Not a return address (the hook did not stop at a function's first
                # instruction): no breakpoint GDB cannot insert, which would stop the run. The
                # call is delivered unwound once its frame is seen gone (or the process ends).
                gdb.write(f"groutines: cannot watch the return of {function}: "
                          f"[rsp] = {return_address:#x} is not code\n", gdb.STDERR)
                return
            site = _Site(return_address, _ReturnBreakpoint(self, return_address))
            self.sites[return_address] = site
            self.site_by_bp[site.number] = return_address
        site.calls.append(call)

    def unwatch_return(self, call):
        if self.agent is not None and self.agent.unwatch(call):
            return
        self._forget(call)

    def observe(self, event):
        if self.events.capacity == 0:
            return
        kind = event["kind"]
        # The entry's text is made when `groutine events` shows it (events.render()).
        e = {"seq": event["seq"], "time_ns": time.monotonic_ns(), "thread": event["thread"],
             "kind": kind, "name": event["name"], "call": event["call"], "regs": None,
             "read": None, "value": None, "skipped": False, "unwound": event["unwound"],
             "rewritten": False, "data": event.get("data") or {}, "note": ""}
        if kind != "custom":
            self._entries[kind] = e
        self.events.add(e)

    def _log_line(self, kind, groutine, text):
        self.events.add(new_entry(kind, groutine, self._thread, text))

    def on_failure(self, groutine, message, fatal):
        """on_failure() stops the target at the failure of a groutine handling a call or a
        return, when `groutine stop-on-failure on` asked for it."""
        if not self.stop_on_failure or not self.in_hit:
            return
        where = ""
        for g in self.host.runtime.groutines():
            if g["name"] == groutine and g["failures"]:
                f = g["failures"][-1]
                where = f"{f['file']}:{f['line']}: "
        reason = where + message
        self._log_line("stop", groutine, "failed: " + reason)
        text = f"groutine '{groutine}' failed, stopping the target: {reason}"
        self.stop_reasons.append(text)
        self.last_stop = text

    def request_stop(self, groutine, reason):
        self._log_line("stop", groutine, reason)
        text = f"groutine '{groutine}' stopped the target: {reason}"
        if self.in_hit:
            self.stop_reasons.append(text)
            self.last_stop = text
        else:
            gdb.write(f"groutine '{groutine}' asked to stop the target, which is not running: "
                      f"{reason}\n")

    def log(self, groutine, message):
        self._log_line("log", groutine, message)
        gdb.write(f"[{groutine}] {message}\n")
        gdb.flush()

    def functions(self, pattern, modules):
        if self.agent is not None and self.agent.on_service_thread():
            # GDB may not be asked from the agent's thread: what it read before, or an error.
            return _functions(pattern, modules, self.symbols, cached_only=True)
        return _functions(pattern, modules, self.symbols)

    # --- breakpoints ---

    def _plant(self, hook, live=None):
        """_plant() puts hook's breakpoint on its function's first instruction, when some
        loaded module (or the executable) defines it; else it waits for a module."""
        if self.exiting or hook.breakpoint is not None:
            return
        address = _entry(hook.function)
        if address is None:
            return
        # In a live process the hook is planted at the function's address (`*0x...`), planted
        # again when a module load moves what the name means (a PLT stub, then the library's
        # function). Before the program runs, its addresses are not final (PIE): the hook is
        # `*F`, an expression GDB evaluates again as the program is relocated, and which the
        # first module load of the process turns into an address: a name without debug info
        # that a library's debug info uses for something else (libc's enum constant `leaf`)
        # would otherwise move the breakpoint there.
        if live is None:
            live = gdb.selected_inferior().pid != 0
        if live:
            spec, by_address = f"*{address:#x}", True
        elif _address(hook.function) == address:
            spec, by_address = f"*{hook.function}", False
        else:
            return
        # Two names of one address (an alias, a C++ function and its C name) are one
        # breakpoint: each call is delivered to every name once.
        for other in self.hooks.values():
            if other.breakpoint is not None and other.address == address and \
                    other.breakpoint.number in self.hook_by_bp:
                hook.breakpoint, hook.address = other.breakpoint, address
                self.hook_by_bp[other.breakpoint.number].append(hook.id)
                if self.agent is not None:
                    self.agent.take(hook.id, address, hook.breakpoint)
                return
        try:
            bp = _CallBreakpoint(self, spec)
        except (gdb.error, RuntimeError):
            return
        hook.breakpoint, hook.address, hook.by_address = bp, address, by_address
        self.hook_by_bp[bp.number] = [hook.id]
        if self.agent is not None:
            self.agent.take(hook.id, address, bp)  # patched already: the agent serves it

    def _unplant(self, hook):
        """_unplant() takes hook off its breakpoint (retired when no other name is on it)."""
        bp, hook.breakpoint, hook.address, hook.by_address = hook.breakpoint, None, None, False
        if bp is None:
            return
        names = self.hook_by_bp.get(bp.id, [])
        if hook.id in names:
            names.remove(hook.id)
        if not names:
            self.hook_by_bp.pop(bp.id, None)
            self._retire(bp)

    def plant_unresolved(self):
        """plant_unresolved() plants the hooks whose function a module just loaded defines,
        and moves to its address a hook planted by a name that a module just loaded gives
        another meaning."""
        self.symbols.clear()
        live = gdb.selected_inferior().pid != 0
        if self.agent is not None and live:
            self.agent.after_modules_changed()
        for hook in list(self.hooks.values()):
            if hook.breakpoint is not None and \
                    (hook.by_address != live or _entry(hook.function) != hook.address):
                self._unplant(hook)
            if hook.breakpoint is None:
                self._plant(hook)
        # A retired `*F` must not be evaluated again by GDB; but not from inside a stop()
        # (a library an evaluated expression loads), where the next one deletes them.
        if not self.in_hit:
            self.sweep()

    def unresolved(self):
        """unresolved() are the hooked functions no loaded module defines yet."""
        return [h.function for h in self.hooks.values()
                if h.breakpoint is None and _entry(h.function) is None]

    def _retire(self, bp, disable=False):
        """_retire() lets go of bp, deleted at the next sweep(); with disable (a return site:
        under the agent no stop() may come to sweep it, and every return would stop there),
        disabled at once too (GDB allows that inside a stop(), its own too), or, from the
        agent's thread, where GDB may not be asked, at its next hit."""
        if self.exiting:
            return
        self.retired.append(bp)
        if disable and (self.agent is None or not self.agent.on_service_thread()):
            _disable(bp)

    def sweep(self, current=None):
        """sweep() deletes the retired breakpoints, but, from the stop() of current, those at
        the address where the target stopped: GDB is going through the breakpoints hit there
        (deleting one of them, current or another, crashes GDB)."""
        if not self.retired or self.exiting:
            return
        pc = int(gdb.parse_and_eval("$pc")) if current is not None else None
        # Taken whole (the agent's thread may retire more meanwhile: kept for the next sweep).
        retired, self.retired = self.retired, []
        keep = []
        for bp in retired:
            if bp is current or (pc is not None and bp.is_valid() and
                                 any(loc.address == pc for loc in bp.locations)):
                keep.append(bp)
                continue
            try:
                if bp.is_valid():
                    bp.delete()
            except RuntimeError:
                pass
        self.retired = keep + self.retired

    def _forget(self, call):
        p = self.pending.pop(call, None)
        if p is None:
            return
        site = self.sites.get(p.return_address)
        if site is None:
            return
        if call in site.calls:
            site.calls.remove(call)
        if not site.calls:
            del self.sites[p.return_address]
            self.site_by_bp.pop(site.number, None)
            self._retire(site.breakpoint, disable=True)

    # --- hits ---

    def _follow_process(self):
        pid = gdb.selected_inferior().pid
        if pid != self.pid:
            if self.pid:
                self.end_process("the process was replaced by a new one", next_live=True)
            self.pid = pid

    def call_hit(self, bp):
        names = self.hook_by_bp.get(bp.number)
        if not names:
            if self.agent is not None and self.agent.session is not None:
                _disable(bp)  # retired from the agent's thread: not hit again until deleted
            return False
        if self.evaluating or self.host is None or self.host.closed:
            return False
        session = self.agent.session if self.agent is not None else None
        if session is None:  # (no agent's thread to keep out: no lock to take)
            return self._call_hit(bp, names)
        with session.hold(self.agent.evaluate_here):  # no agent delivery meanwhile
            return self._call_hit(bp, names)

    def _call_hit(self, bp, names):
        frame = None
        function = "?"
        self.in_hit = True
        try:
            self._follow_process()
            self.sweep(current=bp)
            tid = self._thread = gdb.selected_thread().ptid[1]
            frame = GdbFrame(self, ENTRY, tid)
            # (The breakpoint transport reads no register the groutines do not.)
            agent = self.agent if self.agent is not None and self.agent.engaged() else None
            address = frame.register_value("rip") if agent or self.pending else None
            if agent is not None and not agent.before_call(names, address, tid):
                return False  # sent to the agent: the call comes again
            if self.pending:
                self._unwound_at_call(frame, tid, address)
            for function_id in list(names):
                hook = self.hooks.get(function_id)
                if hook is None:  # dropped by a groutine of an earlier name
                    continue
                function = hook.function
                hook.hits += 1
                self._entries.clear()
                outcome = self.host.deliver_call(function_id, tid, frame)
                self._log_call(frame, outcome)
                if outcome.skip:
                    frame.force_return(outcome.forced_return)
                    break  # skipped: no more call, for any name
            if agent is not None and bp.is_valid():
                agent.after_call(list(self.hook_by_bp.get(bp.number, ())), bp, address, tid,
                                 frame)
        except Exception as e:  # never out of stop(): GDB would stop the target
            gdb.write(f"groutines: error at a call of {function}: {e}\n", gdb.STDERR)
        finally:
            self._delivered(frame, "the call's event was delivered")
        self.sweep(current=bp)
        return self._take_stop()

    def _unwound_at_call(self, frame, tid, entry):
        """A watched call on this thread whose entry rsp is below ours has lost its frame
        without returning (longjmp, an exception): a live caller's frame is always above.
        At our own rsp it is gone too, unless [rsp] is its return address and it is not this
        function again (a tail call from it to us)."""
        sp = frame.stack_pointer()
        # At our rsp, [rsp] is its return address again either because it jumped here as its
        # last act (a tail call: it lives, and returns with this one) or because a new call
        # reuses the slot of lost frames: a tail call is to a function not already called
        # there.
        reused = any(p.thread == tid and p.entry_sp == sp and p.entry == entry
                     for p in self.pending.values())
        gone = []
        for p in self.pending.values():
            if p.thread != tid or p.entry_sp > sp:
                continue
            if p.entry_sp == sp and not reused and frame.read_u64(sp) == p.return_address:
                continue
            gone.append(p)
        if gone:
            self._deliver_unwound(gone, frame)

    def _deliver_unwound(self, gone, frame):
        gone = sorted(gone, key=_innermost_first)
        for p in gone:
            self._forget(p.call)
        for p in gone:
            self.host.deliver_return(p.call, p.thread, frame, True)

    def return_hit(self, bp):
        address = self.site_by_bp.get(bp.number)
        if address is None:
            _disable(bp)
            return False
        if self.evaluating or self.host is None or self.host.closed:
            return False
        session = self.agent.session if self.agent is not None else None
        if session is None:
            return self._return_hit(bp, address)
        with session.hold(self.agent.evaluate_here):
            return self._return_hit(bp, address)

    def _return_hit(self, bp, address):
        self.in_hit = True
        frame = None
        try:
            self._follow_process()
            self.sweep(current=bp)
            tid = self._thread = gdb.selected_thread().ptid[1]
            frame = GdbFrame(self, RETURN, tid)
            sp = frame.stack_pointer()
            # After `ret`, rsp is the entry rsp + 8 of the calls returning here. Pending calls
            # of this thread with a lower entry rsp were inside them: their frames are gone.
            returning, gone = [], []
            for p in self.pending.values():
                if p.thread != tid:
                    continue
                if p.entry_sp + 8 == sp and p.return_address == address:
                    returning.append(p)
                elif p.entry_sp + 8 < sp:
                    gone.append(p)
            if gone:
                self._deliver_unwound(gone, frame)
            returning = sorted((p for p in returning if p.call in self.pending),
                               key=_innermost_first)
            for p in returning:
                self._forget(p.call)
            for p in returning:
                frame = GdbFrame(self, RETURN, tid, layout=self.layout(p.entry))
                self._entries.clear()
                outcome = self.host.deliver_return(p.call, tid, frame)
                self._log_return(frame, outcome)
                if outcome.rewritten:
                    frame.set_return_value(outcome.return_value)
        except Exception as e:
            gdb.write(f"groutines: error at a return: {e}\n", gdb.STDERR)
        finally:
            self._delivered(frame, "the return's event was delivered")
        self.sweep(current=bp)
        return self._take_stop()

    def _delivered(self, frame, why):
        """_delivered() ends a hit's delivery: its frame, if any, can no longer be read (why
        says so), and log lines from the prompt are the debugger's again (thread 0)."""
        self.in_hit = False
        self._thread = 0
        if frame is not None:
            frame.where = GONE
            frame.why = why

    def _log_call(self, frame, outcome):
        """_log_call() completes the log entry of the call just delivered: the registers the
        groutines read, and a skip."""
        e = self._entries.pop("call", None)
        returned = self._entries.pop("return", None)
        if returned is not None and outcome.skip and not returned["unwound"]:
            # A groutine awaiting the skipped call's return had it delivered at the entry.
            returned["skipped"] = True
            returned["value"] = outcome.forced_return
        if e is None:
            return
        # The frame is done with them.
        e["regs"] = frame.registers_read() if _is_agent(frame) else frame._registers
        if outcome.skip:
            e["skipped"] = True
            e["value"] = outcome.forced_return

    def _log_return(self, frame, outcome):
        """_log_return() completes the log entry of the return just delivered: its value as
        the caller sees it."""
        e = self._entries.pop("return", None)
        if e is None or e["unwound"]:
            return
        try:
            if frame.returns_float():
                layout = None if _is_agent(frame) else frame.layout()
                reg = "st0" if layout is not None and layout.return_class == "x87" else "xmm0"
                e["read"] = (reg, frame.float_return_value())
            else:
                raw = frame.int_return_value()
                e["read"] = ("rax", raw - (1 << 64) if raw >> 63 else raw)
            e["value"] = e["read"][1]
        except groutines.Error as error:
            e["note"] = f" ({error})"
        if outcome.rewritten:
            e["value"] = outcome.return_value
            e["rewritten"] = True

    def _take_stop(self):
        if not self.stop_reasons:
            return False
        for reason in self.stop_reasons:
            gdb.write(reason + "\n")
        self.stop_reasons = []
        self.show_frame = True  # once stopped (the breakpoint is silent): where
        return True

    def stopped(self):
        """stopped() runs when the target stopped: after a groutine's stop, it shows where
        (our breakpoints are silent, so GDB does not)."""
        if not self.show_frame:
            return
        self.show_frame = False
        try:
            text = gdb.execute("frame", to_string=True)
        except gdb.error:
            return
        gdb.write("".join(line + "\n" for line in text.splitlines()
                          if line.strip("+") != "frame"))  # the trace-commands echo

    def layout(self, entry):
        layout = self.layouts.get(entry)
        if layout is None:
            layout = self.layouts[entry] = layout_at(entry)
        return layout

    # --- the process ---

    def end_process(self, why, next_live=False):
        """end_process() releases what was planted for the process that ended: each watched
        call is delivered as unwound and every return breakpoint goes. Hooks stay: they are
        the program's, and resolve again in the next process."""
        self.pid = 0
        agent_gone = self.agent.disconnect(why, deliver=False) if self.agent is not None else []
        gone = list(self.pending.values())
        if (gone or agent_gone) and self.host is not None and not self.host.closed:
            # Innermost first, whichever transport watched them.
            calls = sorted([(p.entry_sp, p.call, p.thread) for p in gone] + agent_gone,
                           key=innermost_first)
            for p in gone:
                self._forget(p.call)
            frame = GdbFrame(self, GONE, why=why)
            for _, call, thread in calls:
                self.host.deliver_return(call, thread, frame, True)
        for call in list(self.pending):
            self._forget(call)
        for hook in self.hooks.values():
            if hook.by_address:
                self._unplant(hook)
        self.layouts.clear()  # addresses may move in the next process
        self.symbols.clear()
        # By name, for the next run (GDB's exited event comes before a detached or exited
        # inferior's pid is cleared); at an address when a new process already runs.
        for hook in self.hooks.values():
            self._plant(hook, live=next_live)
        if not self.in_hit:  # else the next stop() elsewhere or the prompt deletes them
            self.sweep()

    def at_prompt(self):
        """at_prompt() is called before each prompt and around each `groutine` command:
        notices a process gone and deletes the retired breakpoints; nothing from a delivery
        (a groutine running a command inside a stop(), where deleting could crash GDB)."""
        if self.in_hit:
            return
        if gdb.selected_inferior().pid == 0 and self.pid:
            self.end_process("the process exited")
        if self.agent is not None and self.agent.deferred:
            with self.agent.hold():
                self.agent.apply_deferred()
        self.sweep()

    def evaluate(self, expression):
        """evaluate() evaluates expression in the stopped thread, the other threads held and the
        groutines' own breakpoints passing through meanwhile."""
        self.evaluating += 1
        restore = []
        try:
            for name, value in (("scheduler-locking", "on"), ("unwindonsignal", "on")):
                try:
                    old = gdb.parameter(name)
                    gdb.execute(f"set {name} {value}", to_string=True)
                    restore.append((name, old))
                except gdb.error:
                    pass
            signals = []

            def on_stop(event):
                if isinstance(event, gdb.SignalEvent):
                    signals.append(event.stop_signal)

            gdb.events.stop.connect(on_stop)
            try:
                v = gdb.parse_and_eval(expression)
                v.fetch_lazy()
            except gdb.error as e:
                why = _one_line(e)
                if signals and "signaled while in a function called from GDB" in why:
                    why = f"Execution was interrupted, reason: signal {signals[-1]}."
                raise groutines.Error(f"cannot evaluate '{expression}': {why}")
            finally:
                gdb.events.stop.disconnect(on_stop)
            return _number(expression, v)
        finally:
            for name, old in reversed(restore):
                if isinstance(old, bool):
                    old = "on" if old else "off"
                try:
                    gdb.execute(f"set {name} {old}", to_string=True)
                except gdb.error:
                    pass
            self.evaluating -= 1

    def planted(self):
        """planted() are the numbers of the breakpoints of ours that GDB still has (hooks,
        return sites, and retired ones not yet deleted), in order."""
        bps = [h.breakpoint for h in self.hooks.values() if h.breakpoint is not None]
        bps += [site.breakpoint for site in self.sites.values()] + self.retired
        return sorted(bp.number for bp in bps if bp.is_valid())

    def close(self):
        """close() deletes every breakpoint planted (the runtime is closing)."""
        self.sweep()
        for hook in self.hooks.values():
            if hook.breakpoint is not None and hook.breakpoint.is_valid():
                hook.breakpoint.delete()
        for site in self.sites.values():
            if site.breakpoint.is_valid():
                site.breakpoint.delete()
        self.hooks.clear()
        self.hook_by_bp.clear()
        self.sites.clear()
        self.site_by_bp.clear()
        self.exiting = True  # nothing is planted any more


def _disable(bp):
    try:
        if bp.is_valid():
            bp.enabled = False
    except RuntimeError:
        pass


def _is_agent(frame):
    """_is_agent() tells an agent hit's frame (an agent.AgentFrame) from a GdbFrame: the only
    two the runtime hands back. (isinstance() against the pybind11 class costs ~4 µs.)"""
    return type(frame) is not GdbFrame


def _one_line(error):
    text = " ".join(str(error).split("\n")).strip()
    return text[7:] if text.startswith("error: ") else text


def _number(expression, v):
    t = v.type.strip_typedefs()
    code = t.code
    if code == gdb.TYPE_CODE_VOID:
        return None
    if code == gdb.TYPE_CODE_FLT and t.sizeof in (4, 8):
        return float(v)
    if code == gdb.TYPE_CODE_BOOL:
        return bool(v)
    if code in (gdb.TYPE_CODE_INT, gdb.TYPE_CODE_CHAR, gdb.TYPE_CODE_ENUM, gdb.TYPE_CODE_PTR):
        n = int(v)
        if code == gdb.TYPE_CODE_PTR or (not getattr(t, "is_signed", True)):
            n &= (1 << (8 * t.sizeof)) - 1
        return n
    raise groutines.Error(f"the value of '{expression}' is a {v.type}, not a number (evaluate "
                          "an expression of one of its fields)")


def _entry(function):
    """_entry() is the first instruction of function as GDB's linespecs find functions (debug
    info or minimal symbols, the prologue not skipped), or None when no loaded module (nor
    the executable) defines it out of line. A place inside another function (malloc inlined
    into ld.so's strdup, which GDB may name while ld.so alone is loaded) is not an entry: a
    hook there would stop mid-function, its [rsp] no return address."""
    try:
        sals = gdb.decode_line(function)[1] or ()
    except gdb.error:
        return None
    pcs = [pc for pc in dict.fromkeys(sal.pc for sal in sals) if _symbol_at(pc) is not None]
    if len(pcs) <= 1:
        return pcs[0] if pcs else None
    # Several entries (an alias in another module): the function itself is the one the
    # expression &F names, or else the one a symbol of that name starts at.
    address = _address(function)
    if address in pcs:
        return address
    for pc in pcs:
        if _symbol_at(pc) == function:
            return pc
    return pcs[0]


def _symbol_at(pc):
    """_symbol_at() is the name of the symbol that starts exactly at pc (`info symbol` with
    no offset), or None (pc is inside a function, or no symbol covers it)."""
    try:
        text = gdb.execute(f"info symbol {pc:#x}", to_string=True)
    except gdb.error:
        return None
    for line in text.splitlines():  # (under `set trace-commands on`, the echo comes first)
        m = re.match(r"^(?!\+)(.+?) in section ", line)
        if m:
            return None if re.search(r" \+ \d+$", m.group(1)) else m.group(1)
    return None


def _address(function):
    """_address() is the value of the expression &function, as `*function` breakpoints
    evaluate it, or None. (parse_and_eval's errors are harmless inside a stop(), unlike a
    failing command's.)"""
    for text in (f"(long) &{function}", f"(long) &'{function}'"):
        try:
            return int(gdb.parse_and_eval(text)) & ((1 << 64) - 1)
        except gdb.error:
            continue
    return None


# Code symbols in `maint print msymbols`: text, file-static text, GNU ifunc.
_CODE_SYMBOL = re.compile(r"^\[\s*\d+\] [Tti] 0x[0-9a-f]+ (.+?) section \S+")


def _code_symbols(path):
    """_code_symbols() are the names of the code symbols of the module at path (its minimal
    symbols: a library's dynamic ones when stripped), each once, in symbol table order."""
    if any(c.isspace() for c in path):
        raise groutines.Error(f"cannot list the symbols of '{path}' (a blank in its path)")
    text = gdb.execute(f"maint print msymbols -objfile {path}", to_string=True)
    names, seen = [], set()
    for line in text.splitlines():
        m = _CODE_SYMBOL.match(line)
        if m and "@" not in m.group(1) and m.group(1) not in seen:
            seen.add(m.group(1))
            names.append(m.group(1))
    return names


def _functions(pattern, modules, cache, cached_only=False):
    """_functions() are the names of the functions matching shell pattern, each once, in the
    main executable or in the loaded modules named by file name, as the groutines API's
    functions() asks. cache keeps each module's names (emptied when modules change), and is
    all that is read with cached_only (a delivery on the agent's thread: GDB may not be
    asked there)."""
    if cached_only:
        if modules:
            paths = [p for p in cache if p and os.path.basename(p) in modules]
        else:
            paths = [cache[""]] if cache.get("") in cache else []
        names, seen = [], set()
        for path in paths:
            for name in cache[path]:
                if name not in seen and fnmatch.fnmatchcase(name, pattern):
                    seen.add(name)
                    names.append(name)
        if not paths:
            raise groutines.Error(f"functions('{pattern}'): GDB cannot list symbols during a "
                                  "call delivered by the agent; call functions() when the "
                                  "groutine starts")
        return names
    paths = {}
    for objfile in gdb.objfiles():
        if getattr(objfile, "owner", None) is None and objfile.filename:
            paths.setdefault(os.path.basename(objfile.filename), objfile.filename)
    main = gdb.current_progspace().filename
    wanted = []
    for module in modules or []:
        if module not in paths:
            why = ("the process has not started: shared libraries load when it runs"
                   if gdb.selected_inferior().pid == 0 else
                   "name a loaded module by its file name, as `info sharedlibrary` shows it")
            raise groutines.Error(f"functions('{pattern}'): the target has no module "
                                  f"'{module}' ({why})")
        wanted.append(paths[module])
    if not modules:
        if not main:
            raise groutines.Error(f"functions('{pattern}'): no program: load one first (file)")
        wanted.append(main)
        cache[""] = main
    names, seen = [], set()
    for path in wanted:
        if path not in cache:
            cache[path] = _code_symbols(path)
        for name in cache[path]:
            if name not in seen and fnmatch.fnmatchcase(name, pattern):
                seen.add(name)
                names.append(name)
    return names
