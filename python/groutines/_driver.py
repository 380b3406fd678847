"""The seam between `groutines run` and a debugger: the Driver interface.

The runner (groutines.run) is debugger-neutral: it parses the options, resolves the groutines,
watches the clock and the signals, and writes the report and the files. Everything it asks of
the debugger goes through one Driver object, whose methods are documented here. A driver lives
beside its debugger's adapter, as a package `groutines_NAME_driver` importable next to
`groutines` (the LLDB one is lldb_plugin/python/groutines_lldb_driver/), and `--debugger NAME`
chooses it. (Not `groutines_NAME`: that may be the debugger's own frontend package, GDB's
groutines_gdb, which imports gdb and so imports only inside GDB.)

A driver package offers one of two entry points (find_driver() looks for them):

    driver() -> Driver
        a Driver for this process: the debugger's Python module imports here (LLDB's does
        in /usr/bin/python3).
    run_elsewhere(argv) -> int
        for a debugger whose Python is its own (`import gdb` works only inside GDB): it
        starts the debugger with a script that calls `groutines.run.main(argv,
        driver=THE_DRIVER)` in the debugger's Python, and returns the exit status that run
        ended with. Nothing of the run happens in the outer process.

Threads: the runner calls a driver from its main thread, except pid(), interrupt() and
interrupt_prompt(), which the watchdog and the signal thread call at any time.
"""
import importlib
import re

__all__ = ["Driver", "State", "ThreadStop", "UsageError", "find_driver", "quote"]


class UsageError(Exception):
    """A bad command line, a groutine that does not load, a program that does not start."""


def quote(text):
    """quote() is text as one argument of a `groutine` command, whatever it holds: each
    blank, quote, backquote and backslash is escaped with a backslash. Every adapter's
    command line removes these backslashes: LLDB's (lldb/source/Utility/Args.cpp, where a
    backslash before another character is kept as it is) and GDB's gdb.string_to_argv()."""
    return re.sub(r"""([ \t\r\\'"`])""", r"\\\1", text)


class State:
    """State is what the target is at when the runner looks (Driver.state()): one kind, and
    what goes with it."""

    STOPPED = "stopped"  # stopped (at its entry, at a signal, at a groutine's stop()...)
    EXITED = "exited"    # ended: status, killed
    CRASHED = "crashed"  # the debugger says it crashed and gives no signal
    GONE = "gone"        # detached or lost: detail is the debugger's word for it

    def __init__(self, kind, status=None, killed=None, detail=""):
        self.kind = kind
        self.status = status  # EXITED: the exit status the debugger gives
        # EXITED: the signal number that killed it, 0 when it exited by itself, None when the
        # debugger does not say (the runner then judges by the last fatal signal it stopped on).
        self.killed = killed
        self.detail = detail

    def __repr__(self):
        return f"<State {self.kind} status={self.status} killed={self.killed} {self.detail!r}>"


class ThreadStop:
    """ThreadStop is one thread of a stopped target that stopped for a reason the runner acts
    on (Driver.stopped_threads())."""

    SIGNAL = "signal"            # it received signal signo (named signal)
    STOP_REQUEST = "stop"        # a groutine's stop() stopped it (a breakpoint of the adapter)

    def __init__(self, reason, index, tid, name="", signo=None, signal=None, stack=None):
        self.reason = reason
        self.index = index    # the debugger's number of the thread (1, 2, ...)
        self.tid = tid        # the system's thread id
        self.name = name      # the thread's name, "" when it has none
        self.signo = signo    # SIGNAL: the signal's number
        self.signal = signal  # SIGNAL: the signal's name (SIGSEGV)
        # stack(max_frames) -> [groutines._native.StackFrame]: the thread's call stack,
        # innermost first, read when the runner asks, before the target resumes (the runner
        # renders it with render_stack()).
        self._stack = stack

    def stack(self, max_frames=64):
        """stack() is the thread's call stack, innermost first, at most max_frames frames
        (groutines._native.StackFrame objects). Only while the target is stopped at this
        stop."""
        return self._stack(max_frames) if self._stack else []


class Driver:
    """Driver is one debugger under a `groutines run`, with the groutines adapter loaded in
    it. A run calls, in this order: check(), start(), command() (the `groutine` commands),
    agent(), set_program(), runtime(), launch(); then state() / stopped_threads() / resume()
    until the target has ended (kill(), threads() and interact() as the run needs them);
    close() at the end of a run that got that far, and remove_files() at the end of every
    run, however it ends. Errors the user can fix are UsageError, with a message that needs
    no prefix."""

    name = None     # the name --debugger gives it: "lldb"
    prompt = None   # its interactive prompt, as the report names it: "(lldb)"

    def check(self, options):
        """check() says before anything runs whether the driver can run with options (the
        adapter it would load exists: --plugin); raises UsageError."""
        raise NotImplementedError

    def start(self, options, report):
        """start() starts the debugger with the groutines adapter loaded, its own output (log
        lines, warnings) going to report (a text file). Raises UsageError (a debugger that is
        not installed, an adapter that does not load)."""
        raise NotImplementedError

    def command(self, text, check=True):
        """command() runs a command of the adapter (`groutine load x.py`, `groutine events
        --json -n N --output FILE`...; arguments escaped with quote()) and returns (ok,
        output, error) as text. check: an error raises UsageError with the adapter's message
        (without an "error: " prefix)."""
        raise NotImplementedError

    def agent(self):
        """agent() is the path of the in-target agent library the target preloads for the
        agent transport, or None when this debugger has none."""
        return None

    def set_program(self, program):
        """set_program() makes program (a path, str) the target to debug; raises UsageError
        when the debugger cannot load it."""
        raise NotImplementedError

    def runtime(self):
        """runtime() is the groutines runtime the adapter made in this process (a
        groutines._native.Runtime: groutines(), hooks()...); raises UsageError when there is
        none."""
        from . import _native
        runtime = _native.default_runtime()
        if runtime is None:
            raise UsageError(f"the {self.name} adapter made no groutines runtime")
        return runtime

    def launch(self, argv, env, stdio, closed):
        """launch() starts the target, stopped at its entry, and returns None; or returns
        the reason it did not start (text), the target not running. argv: the program and
        its arguments, env: the whole environment (bytes: bytes), which the target gets byte
        for byte; stdio: {0: path, 1: path, 2: path} its standard streams; closed: the
        descriptors among those to close in the target before its main runs (/dev/null at
        the launch). Its working directory is the runner's. At main the driver gives SIGPIPE
        and SIGXFSZ their default action in the target and closes `closed` (or says in the
        report why it cannot); SIGINT and SIGTRAP reach the target."""
        raise NotImplementedError

    def pid(self):
        """pid() is the target's process id, None before the launch. Any thread."""
        raise NotImplementedError

    def interrupt(self):
        """interrupt() asks the debugger to stop the running target soon (the --timeout): the
        resume() in progress returns. Any thread; asked again every second until it does."""
        raise NotImplementedError

    def state(self):
        """state() is the target's State now (after the launch, and after each resume())."""
        raise NotImplementedError

    def stopped_threads(self):
        """stopped_threads() is the ThreadStops of the stopped target: the threads stopped on
        a signal or at a groutine's stop(). Stops of the driver's own (at main) are handled
        here and not given."""
        raise NotImplementedError

    def resume(self):
        """resume() lets the stopped target run, with the signal it stopped on if any, and
        returns when it stops again or ends."""
        raise NotImplementedError

    def kill(self):
        """kill() ends the target (stopped or not): nothing is left running."""
        raise NotImplementedError

    def threads(self):
        """threads() is what every thread of the stopped target is doing, as report lines:
        a 'thread N (tid T): REASON' line, then its backtrace indented (render_stack())."""
        raise NotImplementedError

    def signal_name(self, signo):
        """signal_name() is the target's name of signal number signo (SIGSEGV), None when
        the debugger knows none."""
        raise NotImplementedError

    # What interact() says happened in the interactive session.
    RESUME = "resume"  # the target is stopped where it was: the run resumes it
    AGAIN = "again"    # it stopped elsewhere in the session: the run looks at that stop
    ENDED = "ended"    # it exited in the session: the run reports that end

    def interact(self):
        """interact() hands the stopped target to the debugger's interactive prompt on the
        runner's terminal (--stop-on-failure), reading sys.stdin and writing to sys.stderr,
        and returns when the user quits it: RESUME, AGAIN, ENDED, or the error (text) that
        ends the run when the session left the target in a state the run cannot go on from
        (running, detached; killed by then)."""
        raise NotImplementedError

    def interrupt_prompt(self):
        """interrupt_prompt() is Ctrl-C at the interactive prompt (SIGINT during interact()).
        Any thread."""
        raise NotImplementedError

    def close(self):
        """close() ends the debugger (the groutines unloaded before)."""
        raise NotImplementedError

    def remove_files(self):
        """remove_files() removes what the debugger leaves in the file system for this
        process (LLDB's temporary directory). At the end of every run, also at a hard exit
        (any thread then)."""


def find_driver(name):
    """find_driver() is the driver package of --debugger name (groutines_NAME_driver), which has
    driver() or run_elsewhere(). Raises UsageError naming it when there is none."""
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise UsageError(f"--debugger {name}: not a debugger name")
    module_name = f"groutines_{name}_driver"
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as e:
        if e.name != module_name:
            raise UsageError(f"--debugger {name}: its driver does not import: {e}") from e
        raise UsageError(f"--debugger {name}: no driver for this debugger (no package "
                         f"{module_name} beside groutines)") from None
    if not (hasattr(module, "driver") or hasattr(module, "run_elsewhere")):
        raise UsageError(f"--debugger {name}: {module_name} has neither driver() nor "
                         "run_elsewhere()")
    return module
