"""GdbAgent: calls of hooked functions under GDB through the in-target agent
(libgroutines_agent.so), as under LLDB: the host side is groutines._native.agent.

A hook starts as a breakpoint. At its first hits in a process whose agent runs, the function
is patched: its entry jumps to a trampoline in memory near the code (mapped by the agent's
service stub, which the stopped thread is made to call first), written in two steps because
GDB's other threads may run meanwhile (after_call()); then its breakpoint is disabled. From
then on its calls, and the returns groutines await, reach the session's service thread,
which delivers them into the same runtime with an AgentFrame (the runtime's lock held, the
GIL taken for the Python backend). A function that cannot be patched stays on its
breakpoint, and `groutine subscriptions` / `groutine transport` say why.

What needs GDB happens on GDB's thread, at breakpoints the agent leads threads to: the stop
pad (a groutine's g.stop(), and hooks to plant, asked for during an agent delivery) and the
park pad (an evaluate() on an agent hit). The service thread never calls GDB's API. Processes GDB launches get the
agent through `exec-wrapper env LD_PRELOAD=...`; attached, remote, static ones stay on
breakpoints."""
import os
import re
import shlex
import struct
import threading

import gdb

import groutines
from groutines import _native

from .frame import GONE, GdbFrame

agent_host = getattr(_native, "agent", None)  # None: built without the agent

TRANSPORTS = ("auto", "agent", "breakpoint")

# The exec-wrapper this frontend sets: `env LD_PRELOAD=... ` (GDB runs the program through
# the shell; the agent takes itself out of the environment, so a shell loading it would
# lose it for the program: env sets it only for the program).
_WRAPPER = re.compile(r"^env (LD_PRELOAD=\S+|'LD_PRELOAD=[^']*')$")


class _Pool:
    __slots__ = ("base", "size", "used")

    def __init__(self, base, size):
        self.base, self.size, self.used = base, size, 0


class _Patched:
    """_Patched is one patched entry: the agent hook index and the names held on it. Its
    trampoline is written first; jumped once its entry jumps there (after_call())."""
    __slots__ = ("index", "start", "entry", "window_end", "jump", "resume", "names", "layout",
                 "breakpoints", "jumped")

    def __init__(self, index, start, entry, window_end, jump, resume, layout):
        self.index, self.start, self.entry, self.jump = index, start, entry, jump
        self.window_end, self.resume = window_end, resume
        self.jumped = False
        self.names = {}  # function id -> held
        self.layout = layout
        self.breakpoints = []  # the hook breakpoints disabled for it


class _Watch:
    __slots__ = ("thread", "calls", "layout", "entry_sp")

    def __init__(self, thread, calls, layout, entry_sp):
        self.thread, self.calls, self.layout, self.entry_sp = thread, calls, layout, entry_sp


class _Pad(gdb.Breakpoint):
    def __init__(self, address, on_stop):
        super().__init__(f"*{address:#x}", type=gdb.BP_BREAKPOINT, internal=True)
        self.silent = True
        self.on_stop = on_stop

    def stop(self):
        return self.on_stop()


class GdbAgent:
    """GdbAgent is the agent transport of a GdbBackend (backend.agent)."""

    def __init__(self, backend):
        self.backend = backend
        self.transport = os.environ.get("GROUTINES_TRANSPORT", "auto")
        if self.transport not in TRANSPORTS:
            self.transport = "auto"
        self.library = agent_host.library() if agent_host is not None else ""
        self._reset()
        self.fallback = {}  # function id -> why its calls stay on a breakpoint
        self.deferred = []  # (id, function): hooks asked for on the service thread, for GDB's
        self.turned_displaced_off = False
        self.update_preload()

    def _reset(self):
        self.session = None
        self.pid = 0
        self.info = None
        self.unavailable = ""  # why the followed process is served by breakpoints
        self.retry = True
        self.pools = []
        self.patched = {}  # function start -> _Patched
        self.by_index = {}  # agent hook index -> _Patched
        self.watched = {}  # reported call id -> _Watch
        self.stops = {}  # thread -> the stop reasons its stop pad prints
        self.pads = []
        self.service_for = 0
        self.service_thread = 0
        self.service_thread_ident = None  # the service thread, while it delivers
        self.program_entry = None  # AT_ENTRY: where GDB's displaced stepping happens
        self.stepping = {}  # entry -> threads left at its breakpoint for GDB to step over

    # --- the transport ---

    def set_transport(self, name):
        if name not in TRANSPORTS:
            raise groutines.Error(f"unknown transport '{name}' (auto, agent or breakpoint)")
        self.transport = name
        self.update_preload()

    def status(self):
        out = f"transport: {self.transport}\n"
        if not self.library:
            return out + ("agent: not built (libgroutines_agent.so is neither beside "
                          "libgroutines_core.so nor in the build tree)\n")
        out += f"agent: {self.library}\n"
        if not self.pid:
            return out + "process: none followed yet\n"
        if self.session is None:
            return out + f"process: served by breakpoints: {self.unavailable}\n"
        return out + self.session.status()

    def update_preload(self):
        """update_preload() readies GDB for the transport: on the agent's, programs launched
        with the agent in LD_PRELOAD (through exec-wrapper `env`; an exec-wrapper of the
        user's is left alone) and GDB's displaced stepping off (see after_call()); on the
        breakpoint transport, neither."""
        if not self.library:
            return
        self._set_displaced_stepping()
        try:
            current = gdb.parameter("exec-wrapper") or ""
        except (gdb.error, RuntimeError):
            return
        if current and not _WRAPPER.match(current):
            return
        if self.transport == "breakpoint":
            if current:
                gdb.execute("unset exec-wrapper", to_string=True)
            return
        path = agent_host.preloadable(self.library)
        if not path:
            gdb.write(f"groutines: cannot link the agent to a path LD_PRELOAD can hold "
                      f"({self.library} has a blank, a colon or a quote): calls stay on "
                      "breakpoints\n")
            return
        inherited = _inferior_environment("LD_PRELOAD")
        value = path if not inherited or path in inherited else f"{path}:{inherited}"
        gdb.execute(f"set exec-wrapper env {shlex.quote('LD_PRELOAD=' + value)}", to_string=True)

    def _set_displaced_stepping(self):
        """_set_displaced_stepping() turns GDB's displaced stepping off on the agent's transport
        (GDB's default, auto, is on for Linux processes), and back to auto after."""
        try:
            current = gdb.parameter("displaced-stepping")
        except (gdb.error, RuntimeError):
            return
        if self.transport != "breakpoint" and current in (None, "auto"):
            gdb.execute("set displaced-stepping off", to_string=True)
            self.turned_displaced_off = True
        elif self.transport == "breakpoint" and self.turned_displaced_off:
            gdb.execute("set displaced-stepping auto", to_string=True)
            self.turned_displaced_off = False

    def _fall_back(self, function_id, why):
        if function_id in self.fallback:
            return
        self.fallback[function_id] = why
        if self.transport == "agent":
            hook = self.backend.hooks.get(function_id)
            name = hook.function if hook is not None else "?"
            gdb.write(f"groutines: {name} stays on a breakpoint: {why}\n")

    def engaged(self):
        """engaged() tells whether calls may go through the agent (not the breakpoint
        transport, and the agent built)."""
        return self.transport != "breakpoint" and bool(self.library)

    def serves(self, function_id):
        return any(p.jumped and function_id in p.names for p in self.patched.values())

    # --- the process ---

    def connect(self):
        """connect() finds the agent of the process stopped now and starts serving it, once
        per process; says why when it cannot (then calls stay on breakpoints)."""
        inferior = gdb.selected_inferior()
        if self.pid != inferior.pid:
            if self.pid:
                self.disconnect("the process was replaced")
            self.pid = inferior.pid
        if self.session is not None or not self.retry:
            return
        self.retry = False
        connection = getattr(inferior, "connection", None)
        if connection is not None and getattr(connection, "type", "native") != "native":
            self.unavailable = "the target is remote"
            return
        try:
            at = int(gdb.parse_and_eval("(long) &groutines_agent")) & ((1 << 64) - 1)
        except gdb.error:
            self.unavailable = ("the agent is not loaded in the process (launched without it, "
                                "attached, or static)")
            return  # looked for again after the next module load (after_modules_changed())
        try:
            raw = bytes(inferior.read_memory(at, agent_host.INFO_SIZE))
            self.info = agent_host.parse_info(raw)
            self.session = agent_host.Session(self.backend.host, inferior.pid, raw, self._hit)
        except gdb.MemoryError:
            self.unavailable = "cannot read the agent's state"
        except groutines.Error as e:
            self.unavailable = str(e)
            self.retry = not self.info["started"]  # its constructor has not run yet

    def disconnect(self, why, deliver=True):
        """disconnect() stops serving the process's agent (it ended, or executed a new
        program): the hooks' breakpoints come back, and the calls it watched are delivered
        as unwound, innermost first (deliver=False: returned as (entry sp, call, thread), for
        the backend to deliver with its own)."""
        session, watched, patched, pads = self.session, self.watched, self.patched, self.pads
        self._reset()
        self.fallback.clear()
        if session is not None:
            session.stop()
        for pad in pads:
            self.backend._retire(pad)
        for p in patched.values():
            for bp in p.breakpoints:
                if bp.is_valid():
                    bp.enabled = True
        gone = sorted(((w.entry_sp, call, w.thread) for w in watched.values() for call in w.calls),
                      key=innermost_first)
        if not deliver:
            return gone
        host = self.backend.host
        if gone and host is not None and not host.closed:
            frame = GdbFrame(self.backend, GONE, why=why)
            for _, call, thread in gone:
                host.deliver_return(call, thread, frame, True)
        return []

    def after_modules_changed(self):
        """after_modules_changed(): a module was loaded; after an execve the agent, its
        trampolines and patches went with the old program (its shared memory names no host
        any more)."""
        if self.session is None:
            self.retry = True
            return
        self.session.modules_changed()
        inferior = gdb.selected_inferior()
        try:
            raw = bytes(inferior.read_memory(self.info["shm"] + agent_host.HOST_PID_OFFSET, 4))
            seen = struct.unpack("<I", raw)[0]
        except gdb.MemoryError:
            seen = 0
        if seen != os.getpid():
            self.disconnect("the process executed a new program")

    def hold(self):
        """hold() is a context holding the runtime's lock for GDB's thread, serving the agent
        hits' evaluations meanwhile."""
        if self.session is None:
            return _NoHold()
        return self.session.hold(self.evaluate_here)

    def evaluate_here(self, expression):
        return self.backend.evaluate(expression)

    # --- a hook's breakpoint hit (GDB's thread, the runtime held) ---

    def before_call(self, function_ids, address, tid):
        """before_call() runs at a hook's breakpoint before its call is delivered. False:
        the thread was sent to the agent's service stub to map trampoline memory near the
        function; it comes back to the same breakpoint, and the call is delivered then."""
        if self.transport == "breakpoint" or not self.library:
            return True
        self.connect()
        if self.session is None:
            if not self.retry:
                for fn in function_ids:
                    self._fall_back(fn, self.unavailable)
            return True
        if address in self.patched or all(fn in self.fallback for fn in function_ids):
            return True
        if self.service_for and self.service_thread != tid:
            return True
        if self.service_for == address:
            self.service_for = 0
            result = self.session.take_service()
            if result is None:
                self._fall_back_all(function_ids, "the agent did not map trampoline memory")
            elif result < 0:
                self._fall_back_all(function_ids, "no memory for trampolines within 2 GB: " +
                                    os.strerror(-result))
            else:
                self.pools.append(_Pool(result, agent_host.POOL_SIZE))
            return True
        if self._pool_near(address) is not None:
            return True
        plan = self._plan(address)
        if isinstance(plan, str):
            self._fall_back_all(function_ids, plan)
            return True
        at = agent_host.pool_address_near(_mapped(self.session.pid), address)
        if not at:
            self._fall_back_all(function_ids, "no free memory within 2 GB of the function")
            return True
        self.session.request_service(at, agent_host.POOL_SIZE)
        try:
            sp = _register("rsp") - 8
            pc = _register("rip")
            gdb.selected_inferior().write_memory(sp, struct.pack("<Q", pc))
            gdb.parse_and_eval(f"$rsp = {sp:#x}")
            gdb.parse_and_eval(f"$pc = {self.info['service_stub']:#x}")
        except (gdb.error, gdb.MemoryError):
            self.session.take_service()
            self._fall_back_all(function_ids, "cannot make the thread call the agent")
            return True
        self.service_for = address
        self.service_thread = tid
        return False

    def _fall_back_all(self, function_ids, why):
        for fn in function_ids:
            self._fall_back(fn, why)

    def _pool_near(self, address):
        for pool in self.pools:
            if pool.used + agent_host.TRAMPOLINE_MAX <= pool.size and \
                    abs(pool.base + pool.used - address) < agent_host.REACH:
                return pool
        return None

    def _plan(self, address):
        """_plan() is the patch of the function at address, or why it cannot be patched."""
        extent = self.session.symbol(address)
        if extent is None or extent[0] != address:
            return "the function's size is unknown"
        size = min(extent[1], 1 << 20)
        try:
            code = bytes(gdb.selected_inferior().read_memory(address, size))
        except gdb.MemoryError:
            return "cannot read the function's code"
        return agent_host.plan_patch(address, code)

    def after_call(self, hook_ids, bp, address, tid, frame):
        """after_call() runs at a hook's breakpoint after its call was delivered, and patches
        the function in two steps, so that its next calls come through the agent:

        1. The trampoline is written, and from then on every thread that stops at the
           function's breakpoint goes on from the trampoline's relocated instructions.
        2. At a later hit the jump is written, the breakpoint disabled, the agent hook
           enabled, once no other thread can be inside the bytes the jump replaces. Inside a
           breakpoint's stop() GDB's other threads may be running, but a thread gets past
           the entry only by GDB's stepping it over the breakpoint: those that stopped there
           and were left to GDB (before step 1) are followed until seen elsewhere (a thread
           waiting at the entry for its step would be stepped through the jump: its call
           again); a thread stopped at the entry whose stop() has not run yet is not
           delivered before the jump (GDB lets it run the entry again once the breakpoint
           is gone). GDB steps a thread over a breakpoint in a buffer at the program's entry
           point (displaced stepping), where it may stay stopped for a long time while the
           other threads keep hitting the breakpoint, or in place with the others stopped:
           the frontend turns displaced stepping off on the agent's transport (and a thread
           seen in that buffer waits the jump too)."""
        if self.session is None or self.transport == "breakpoint":
            return
        held = [fn for fn in hook_ids if fn not in self.fallback]
        if not held:
            return
        p = self.patched.get(address)
        if p is not None and p.jumped:
            self._after_call(held, bp, address, tid, frame)  # a breakpoint over the patch
            return
        self._left(address).discard(tid)  # back at the breakpoint: past its last step
        try:
            self._after_call(held, bp, address, tid, frame)
        finally:
            p = self.patched.get(address)
            if _register("rip") == address and (p is None or not p.jumped):
                self._left(address).add(tid)  # GDB steps it over the breakpoint

    def _left(self, address):
        """_left() are the threads left at the breakpoint at address for GDB to step over."""
        return self.stepping.setdefault(address, set())

    def _after_call(self, held, bp, address, tid, frame):
        if self.backend.stop_reasons:
            return
        p = self._current(address)
        if p is None:
            p = self._prepare(held, address, frame.layout())
            if p is None:
                return
        for fn in held:
            p.names[fn] = True
        if not p.jumped and not self._jump(p, tid):
            self._go_on(address, p)
            return
        self.session.set_enabled(p.index, True)
        if bp not in p.breakpoints:
            p.breakpoints.append(bp)
        bp.enabled = False
        self._maintain_pads()
        self._go_on(address, p)

    def _current(self, address):
        """_current() is the patch at address, if it is still there: a library unloaded and
        another loaded at the same place took the old one away."""
        p = self.patched.get(address)
        if p is None or not p.jumped:
            return p
        try:
            here = bytes(gdb.selected_inferior().read_memory(p.entry, len(p.jump)))
        except gdb.MemoryError:
            here = b""
        if here == p.jump:
            return p
        if self.session is not None:
            self.session.set_enabled(p.index, False)
        del self.patched[address]
        self.by_index.pop(p.index, None)
        return None

    def _go_on(self, address, p):
        """_go_on() has the thread at the function's entry go on from the trampoline's
        relocated instructions (a groutine that skipped the call moved it already)."""
        if _register("rip") == address:
            gdb.parse_and_eval(f"$pc = {p.resume:#x}")

    def _prepare(self, held, address, layout):
        """_prepare() writes the trampoline of the function at address (step 1)."""
        if layout is not None and layout.return_class == "x87":
            self._fall_back_all(held, "it returns a long double, in st0, which the agent does "
                                "not carry")
            return None
        plan = self._plan(address)
        if isinstance(plan, str):
            self._fall_back_all(held, plan)
            return None
        pool = self._pool_near(address)
        if pool is None:
            return None  # the next call asks for one
        at = pool.base + pool.used
        index = self.session.add_hook(address)
        if index < 0:
            self._fall_back_all(held, "the agent's table of hooks is full")
            return None
        self.session.set_enabled(index, False)  # until the jump is written
        built = agent_host.build_trampoline(plan, at, index, self.info["enter_stub"])
        if isinstance(built, str):
            self._fall_back_all(held, built)
            return None
        code, resume_offset = built
        try:
            gdb.selected_inferior().write_memory(at, code)
        except gdb.MemoryError:
            self._fall_back_all(held, "cannot write the trampoline")
            return None
        pool.used += (len(code) + 15) & ~15
        self.session.set_resume(index, at + resume_offset)
        p = _Patched(index, address, plan["entry"], plan["entry"] + plan["window"],
                     bytes(agent_host.entry_jump(plan["entry"], at)), at + resume_offset, layout)
        self.patched[address] = p
        self.by_index[index] = p
        return p

    def _jump(self, p, tid):
        """_jump() writes the function's entry jump when no other thread can be inside the
        bytes it replaces (step 2)."""
        left = self._left(p.start)
        for other, pc in agent_host.thread_pcs(self.session.pid).items():
            if other == tid:
                continue
            if pc is None:  # running: past the entry only if GDB stepped it over
                if other in left:
                    return False
            elif p.start < pc < p.window_end or self._stepping_over(pc):
                return False  # inside, or in GDB's displaced-stepping buffer: landing inside
            elif other in left:
                if pc == p.start:
                    return False  # still waiting for its step over the breakpoint
                left.discard(other)
        try:
            # GDB keeps the original bytes under its breakpoint at the entry when memory
            # there is written (its int3 stays until the breakpoint is disabled).
            gdb.selected_inferior().write_memory(p.entry, p.jump)
        except gdb.MemoryError:
            self._fall_back_all(list(p.names), "cannot write the function's entry")
            return False
        p.jumped = True
        left.clear()
        return True

    def _stepping_over(self, pc):
        """_stepping_over() tells whether pc is in GDB's displaced-stepping buffers, at the
        program's entry point (where GDB copies an instruction to step a thread over a
        breakpoint)."""
        if self.program_entry is None:
            self.program_entry = _program_entry(self.session.pid)
        return self.program_entry <= pc < self.program_entry + _DISPLACED_STEP_AREA

    def release(self, function_id):
        """release() turns the agent hook of function_id off as its last groutine stops
        waiting on it (calls pass through the agent without reaching the host)."""
        for p in self.patched.values():
            if function_id in p.names:
                p.names[function_id] = False
                if self.session is not None:
                    self.session.set_enabled(p.index, any(p.names.values()))

    def hold_again(self, function_id):
        """hold_again() serves function_id through the agent again (a groutine waits on it
        again), when its function is patched; False when it is not."""
        for p in self.patched.values():
            if p.jumped and function_id in p.names:
                p.names[function_id] = True
                self.session.set_enabled(p.index, True)
                return True
        return False

    def take(self, function_id, address, bp):
        """take() serves function_id through the agent when its function is patched already
        (a hook planted again): its new breakpoint is disabled at once. False: not patched."""
        p = self._current(address) if self.session is not None else None
        if p is None or not p.jumped:
            return False
        p.names[function_id] = True
        self.session.set_enabled(p.index, True)
        if bp not in p.breakpoints:
            p.breakpoints.append(bp)
        bp.enabled = False
        return True

    # --- pads ---

    def _maintain_pads(self):
        if self.pads or self.session is None:
            return
        self.pads = [_Pad(self.info["stop_pad"], self._stop_pad_hit),
                     _Pad(self.info["park_pad"], self._park_pad_hit)]

    def _stop_pad_hit(self):
        """A thread the agent sent to the stop pad: a groutine asked to stop there, or hook
        changes wait for GDB. It is put back where it was going (the function's entry or the
        return address), and stops at a groutine's stop."""
        try:
            sp = _register("rsp")
            to = struct.unpack("<Q", bytes(gdb.selected_inferior().read_memory(sp, 8)))[0]
            gdb.parse_and_eval(f"$rsp = {sp + 8:#x}")
            gdb.parse_and_eval(f"$pc = {to:#x}")
        except (gdb.error, gdb.MemoryError) as e:
            gdb.write(f"groutines: at the agent's stop pad: {e}\n", gdb.STDERR)
            return True
        with self.hold():
            self.apply_deferred()
        reasons = self.stops.pop(gdb.selected_thread().ptid[1], None)
        if not reasons:
            return False
        for reason in reasons:
            gdb.write(reason + "\n")
        self.backend.show_frame = True
        return True

    def _park_pad_hit(self):
        if self.session is not None:
            self.session.serve_park(self.evaluate_here)
        return False

    def apply_deferred(self):
        """apply_deferred() plants the hooks asked for on the service thread (GDB's thread,
        the runtime held)."""
        while self.deferred:
            function_id, function = self.deferred.pop(0)
            self.backend.install_call_hook(function_id, function)

    # --- the service thread ---

    def on_service_thread(self):
        return self.service_thread_ident == threading.get_ident()

    def _hit(self, frame):
        """_hit() delivers one agent hit (the service thread, the runtime held)."""
        backend = self.backend
        host = backend.host
        if host is None or host.closed or self.session is None:
            return
        self.service_thread_ident = threading.get_ident()
        backend.in_hit = True
        tid = backend._thread = frame.thread
        try:
            if frame.kind == "call":
                p = self.by_index.get(frame.hook)
                if p is None:
                    return
                if p.layout is not None:
                    frame.use_layout(p.layout)
                for fn in [fn for fn, held in p.names.items() if held and fn in backend.hooks]:
                    hook = backend.hooks[fn]
                    hook.hits += 1
                    backend._entries.clear()
                    outcome = host.deliver_call(fn, tid, frame)
                    backend._log_call(frame, outcome)
                    if outcome.skip:
                        frame.force_return(outcome.forced_return)
                        break
            else:
                w = self.watched.pop(frame.call, None)
                if w is None:
                    return  # nobody waits for it any more
                if w.layout is not None:
                    frame.use_layout(w.layout)
                unwound = frame.kind == "unwound"
                for call in w.calls:
                    backend._entries.clear()
                    outcome = host.deliver_return(call, tid, frame, unwound)
                    if unwound:
                        continue
                    backend._log_return(frame, outcome)
                    if outcome.rewritten:
                        frame.set_return_value(outcome.return_value)
        except Exception as e:  # noqa: BLE001 - the target thread must get its reply
            gdb.write(f"groutines: error at an agent hit: {e}\n", gdb.STDERR)
        finally:
            reasons, backend.stop_reasons = backend.stop_reasons, []
            if reasons and frame.kind != "unwound":
                frame.stop()
                self.stops[tid] = reasons
            elif self.deferred and frame.kind != "unwound" and self.pads:
                frame.stop()  # GDB plants the hooks asked for at the stop pad
            backend.in_hit = False
            backend._thread = 0
            self.service_thread_ident = None

    def watch(self, call, frame):
        """watch() has the agent report the return of the call frame stands at."""
        first = frame.watched_as
        if first is not None and first in self.watched:
            self.watched[first].calls.append(call)  # a second name's groutines: with the first's
            return
        frame.watch(call)
        p = self.by_index.get(frame.hook)
        self.watched[call] = _Watch(frame.thread, [call], p.layout if p is not None else None,
                                    frame.stack_pointer)

    def return_sites(self):
        """return_sites() are (return address, "agent", calls) of the returns it watches."""
        if self.session is None or not self.watched:
            return []
        by_address = {}
        for address, reported in self.session.return_addresses():
            w = self.watched.get(reported)
            if w is not None:
                by_address.setdefault(address, []).extend(w.calls)
        return [(address, "agent", calls) for address, calls in sorted(by_address.items())]

    def unwatch(self, call):
        for reported, w in list(self.watched.items()):
            if call in w.calls:
                w.calls.remove(call)
                if not w.calls:
                    del self.watched[reported]
                return True
        return False


def innermost_first(gone):
    """innermost_first() orders (entry sp, call, ...): the lowest stack first, and of one
    stack slot (a tail call) the latest call first."""
    return gone[0], -gone[1]


class _NoHold:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _register(name):
    return int(gdb.parse_and_eval(f"${name}")) & ((1 << 64) - 1)


# Bytes from the program's entry point that GDB's displaced-stepping buffers use: GDB 13 puts
# its buffers (two on x86-64, of one instruction each) two breakpoint lengths past AT_ENTRY.
_DISPLACED_STEP_AREA = 64
_AT_ENTRY = 9


def _program_entry(pid):
    """_program_entry() is process pid's AT_ENTRY, from /proc/PID/auxv (0 if unknown)."""
    try:
        with open(f"/proc/{pid}/auxv", "rb") as f:
            data = f.read()
    except OSError:
        return 0
    for key, value in struct.iter_unpack("<QQ", data[:len(data) - len(data) % 16]):
        if key == _AT_ENTRY:
            return value
    return 0


def _mapped(pid):
    """_mapped() are process pid's mapped regions, (start, end)."""
    out = []
    with open(f"/proc/{pid}/maps") as f:
        for line in f:
            lo, hi = line.split(" ", 1)[0].split("-")
            out.append((int(lo, 16), int(hi, 16)))
    return out


def _inferior_environment(name):
    try:
        text = gdb.execute(f"show environment {name}", to_string=True)
    except gdb.error:
        return ""
    m = re.match(rf"^{re.escape(name)} = (.*)$", text.strip())
    return m.group(1) if m else ""
