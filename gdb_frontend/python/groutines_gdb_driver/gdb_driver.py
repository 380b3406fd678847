"""GdbDriver: `groutines run` on GDB's Python API, inside GDB (bootstrap.py).

The GDB frontend (gdb_frontend/groutines.py) is sourced into this GDB, so the runner's
`import groutines` shares the frontend's runtime; the `groutine` commands are the frontend's
run_command(). Every GDB command runs with its output captured, and what the frontend writes
(groutines' log lines, stop reasons) goes with the report: GDB's own standard output and
error are /dev/null, since GDB prints its notices there whatever it is told. The target is
started through an exec wrapper (wrapper.py) that gives it the runner's own standard
streams (the descriptors bootstrap.py got), its exact arguments and environment, and
SIGPIPE and SIGXFSZ at their default action. The Driver interface is in
groutines/_driver.py.
"""
import json
import os
import shlex
import signal as _signal
import sys

import gdb

from groutines import _native
from groutines._driver import Driver, State, ThreadStop, UsageError
from groutines._files import run_dir

__all__ = ["GdbDriver"]

_HERE = os.path.dirname(os.path.abspath(__file__))
# build/python/groutines_gdb_driver -> build/gdb/groutines.py; installed, share/groutines/
# python/groutines_gdb_driver -> share/groutines/gdb/groutines.py.
_FRONTEND = os.path.join(os.path.dirname(os.path.dirname(_HERE)), "gdb", "groutines.py")
_PYTHON = "/usr/bin/python3"
# The signals the target stops on (the runner takes a crash's backtrace there); every other
# signal passes to it without a stop, as without a debugger. SIGSTOP is the debugger's: it
# is how interrupt() stops the target (GDB does not pass it on). SIGTRAP stays GDB's too:
# passed on, its breakpoints' traps would kill the target; so a SIGTRAP the target raises
# itself does not reach it (docs/run.md, "Under GDB").
_STOP_SIGNALS = ("SIGSEGV", "SIGBUS", "SIGILL", "SIGFPE", "SIGABRT", "SIGSYS")


def _signo(name):
    """_signo() is the number of GDB's signal name (SIGSEGV, SIG34), or None."""
    try:
        return int(_signal.Signals[name])
    except KeyError:
        pass
    if name.startswith("SIG") and name[3:].isdigit():
        return int(name[3:])
    return None


def _execute(command):
    """_execute() runs a GDB command, its output captured (not GDB's notices: see the
    module's doc); raises gdb.error."""
    return gdb.execute(command, to_string=True)


def _gdb_arg(text):
    """_gdb_arg() is text as one argument of GDB's `file` command (buildargv's quoting)."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


class GdbDriver(Driver):
    """GdbDriver is this GDB with the groutines frontend sourced, and the target it runs.
    stdio: the descriptors of this process that hold the runner's stdin, stdout and stderr."""

    name = "gdb"
    prompt = "(gdb)"

    def __init__(self, stdio):
        self.stdio = list(stdio)
        self.report = None
        self.frontend_path = None
        self.frontend = None
        self.target_pid = None
        self.stop = None   # the last stop event, until resume()
        self.ended = None  # gdb.events.exited's event, once the target has ended

    def check(self, options):
        # --plugin names the frontend when it is a Python file; an LLDB plugin (the installed
        # launcher passes its own by default) is not GDB's.
        chosen = options.plugin if options.plugin and options.plugin.endswith(".py") else None
        path = chosen or os.environ.get("GROUTINES_GDB_FRONTEND") or _FRONTEND
        if not os.path.exists(path):
            raise UsageError(f"no groutines GDB frontend at {path} (build it, or pass "
                             "--plugin build/gdb/groutines.py)")
        self.frontend_path = os.path.abspath(path)

    def start(self, options, report):
        self.report = report
        # The frontend writes with gdb.write(): into the report, not GDB's standard output.
        gdb.write = self._write
        for setting in ("confirm off", "pagination off", "width unlimited",
                        "print thread-events off", "print inferior-events off",
                        "startup-with-shell on", "backtrace past-main on",
                        "backtrace past-entry on"):
            _execute(f"set {setting}")
        import runpy
        runpy.run_path(self.frontend_path, run_name="groutines_gdb_frontend")
        import groutines_gdb
        self.frontend = groutines_gdb.frontend()
        if self.frontend is None:
            raise UsageError(f"the groutines GDB frontend {self.frontend_path} did not start")
        # After a groutine's stop the frontend shows GDB's frame line, for the (gdb) prompt;
        # the runner's report says where itself ("stop requested: ...").
        self.frontend.backend.stopped = lambda: None
        gdb.events.stop.connect(self._stopped)
        gdb.events.exited.connect(self._exited)

    def _write(self, text, stream=None):
        self.report.write(text)
        self.report.flush()

    def _stopped(self, event):
        self.stop = event

    def _exited(self, event):
        self.ended = event

    def command(self, text, check=True):
        from groutines_gdb.commands import run_command
        words = gdb.string_to_argv(text)
        if words[:1] != ["groutine"]:
            raise UsageError(f"not a groutine command: {text}")
        output, error = run_command(self.frontend, words[1:])
        if check and error:
            raise UsageError(error)
        return not error, output, (f"error: {error}\n" if error else "")

    def agent(self):
        # The agent the frontend's transport serves: beside the core library, or in the build.
        from groutines import _native
        host = getattr(_native, "agent", None)
        return (host.library() or None) if host is not None else None

    def set_program(self, program):
        try:
            program.encode()
        except UnicodeEncodeError:
            shown = os.fsencode(program).decode(errors="backslashreplace")
            raise UsageError(f"cannot debug '{shown}': its path is not UTF-8, which GDB's "
                             "Python API cannot take (run it through a link with a UTF-8 "
                             "name)") from None
        try:
            _execute(f"file {_gdb_arg(os.path.abspath(program))}")
        except gdb.error as e:
            raise UsageError(f"cannot debug '{program}': not an executable GDB can load "
                             f"({str(e).strip()})") from None

    # --- The launch ---

    def launch(self, argv, env, stdio, closed):
        program = os.path.abspath(os.fsdecode(argv[0]))
        argv = [os.fsencode(program)] + list(argv[1:])
        spec = {"argv": [a.hex() for a in argv],
                "env": [(k + b"=" + v).hex() for k, v in env.items()],
                "stdio": [None if fd in closed else self.stdio[fd] for fd in (0, 1, 2)]}
        path = os.path.join(run_dir(), "launch.json")
        with open(path, "w") as f:
            json.dump(spec, f)
        wrapper = os.path.join(_HERE, "wrapper.py")
        try:
            _execute("set exec-wrapper " + " ".join(
                shlex.quote(w) for w in (_PYTHON, "-I", "-S", wrapper, path)))
            _execute("handle all nostop noprint pass")
            _execute("handle SIGINT nostop noprint pass")
            _execute(f"handle {' '.join(_STOP_SIGNALS)} stop print pass")
            _execute("handle SIGSTOP stop print nopass")
            self.stop = self.ended = None
            _execute("starti")
        except gdb.error as e:
            return str(e).strip() or "launch failed"
        pid = gdb.selected_inferior().pid
        if not pid:
            return "the program ended before its first instruction"
        self.target_pid = pid
        self.stop = None
        return None

    # --- The run ---

    def pid(self):
        return self.target_pid

    def interrupt(self):
        pid = self.target_pid
        if pid:
            try:
                os.kill(pid, _signal.SIGSTOP)
            except OSError:
                pass

    def state(self):
        if gdb.selected_inferior().pid == 0:
            self.target_pid = None
            code = getattr(self.ended, "exit_code", None) if self.ended else None
            if code is not None:
                return State(State.EXITED, status=code, killed=0)
            signo = None
            try:
                value = gdb.parse_and_eval("$_exitsignal")
                signo = int(value) if value.type.code != gdb.TYPE_CODE_VOID else None
            except (gdb.error, ValueError):
                pass
            if signo is None:
                return State(State.GONE, detail="the process is gone")
            return State(State.EXITED, status=signo, killed=signo)
        return State(State.STOPPED, detail="stopped")

    def _thread_stop(self, reason, thread, **more):
        def stack(max_frames, thread=thread):
            return self._stack(thread, max_frames)
        return ThreadStop(reason, index=thread.num, tid=thread.ptid[1], name=thread.name or "",
                          stack=stack, **more)

    def _stack(self, thread, max_frames):
        from groutines_gdb.frame import _stack_frame
        selected = gdb.selected_thread()
        out = []
        try:
            thread.switch()
            frame = gdb.newest_frame()
            while frame is not None and len(out) < max_frames:
                out.append(_native.StackFrame(**_stack_frame(frame)))
                try:
                    frame = frame.older()
                except gdb.error:
                    break
        except gdb.error:
            pass
        finally:
            if selected is not None and selected.is_valid():
                selected.switch()
        return out

    def stopped_threads(self):
        event = self.stop
        if event is None or gdb.selected_inferior().pid == 0:
            return []
        thread = gdb.selected_thread()
        if isinstance(event, gdb.SignalEvent):
            name = event.stop_signal
            return [self._thread_stop(ThreadStop.SIGNAL, thread, signo=_signo(name),
                                      signal=name)]
        if isinstance(event, gdb.BreakpointEvent):
            # Only a groutine's stop request stops at one of the frontend's breakpoints.
            return [self._thread_stop(ThreadStop.STOP_REQUEST, thread)]
        return []

    def resume(self):
        self.stop = None
        try:
            _execute("continue")
        except gdb.error:
            pass  # the process ended meanwhile: state() says so

    def kill(self):
        try:
            _execute("kill")
        except gdb.error:
            pass

    def threads(self):
        lines = []
        event_thread = gdb.selected_thread()
        why = ""
        if isinstance(self.stop, gdb.SignalEvent):
            why = f"signal {self.stop.stop_signal}"
        for thread in sorted(gdb.selected_inferior().threads(), key=lambda t: t.num):
            reason = why if thread == event_thread else ""
            lines.append(f"thread {thread.num} (tid {thread.ptid[1]}): {reason}".rstrip(": "))
            lines += ["  " + line for line in _native.render_stack(self._stack(thread, 32))]
        return lines

    def signal_name(self, signo):
        try:
            return _signal.Signals(signo).name
        except ValueError:
            return None

    # --- The interactive session ---

    def interact(self):
        """A line-by-line (gdb) prompt on sys.stdin, each command's output on sys.stderr;
        `quit` (or the end of the input) ends it."""
        stop = self.stop
        while True:
            sys.stderr.write("(gdb) ")
            sys.stderr.flush()
            line = sys.stdin.readline() if sys.stdin else ""
            if not line or line.strip() in ("quit", "q"):
                if not line:
                    sys.stderr.write("\n")
                break
            try:
                sys.stderr.write(gdb.execute(line.strip(), to_string=True))
            except gdb.error as e:
                sys.stderr.write(f"{e}\n")
            sys.stderr.flush()
        if gdb.selected_inferior().pid == 0:
            return self.ENDED
        return self.RESUME if self.stop is stop else self.AGAIN

    def interrupt_prompt(self):
        pass

    def close(self):
        pass
