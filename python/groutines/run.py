"""groutines run: run a program to its end under a debugger with groutines loaded, then report.

    groutines run [options] GROUTINES... -- PROGRAM [ARGS...]

GROUTINES are .py files, directories of groutine_*.py / *_groutines.py scripts, C++ groutine
libraries (.so), or stock groutines by name (stock:heap, stock:cpp/faults; see
docs/stock.md). The program runs with no prompt; its stdin, stdout and stderr are the
runner's own, untouched. The runner writes only to stderr (or --report FILE).

Exit codes (EXIT_*): 0 the target exited with status 0 and no groutine failed; 1 a groutine
failed; 2 usage, load or launch error; 3 the target crashed (killed by a signal); 4 timeout;
5 the target exited with a non-zero status and no groutine failed (see --expect-status).
When several apply, the first of 2, 4, 3, 1, 5 wins. See docs/run.md.

The runner is debugger-neutral: the debugger is a Driver (groutines/_driver.py) that --debugger
NAME chooses (default lldb): the package groutines_NAME_driver beside this one (LLDB's,
lldb_plugin/python/groutines_lldb_driver/, drives LLDB in this process). A debugger whose Python
is its own runs main(argv, driver=...) inside it. The report, the files and the terminal are
_report.py, _files.py and _session.py.
"""
import argparse
import contextlib
import io
import math
import os
import re
import signal as _signal
import sys
import threading
import time

from ._driver import Driver, State, ThreadStop, UsageError, find_driver, quote
from ._files import (_AT_HARD_EXIT, discard_outputs, open_outputs, open_report, preload_path,
                     read_events, remove_run_dir, run_dir, write_events, write_output,
                     write_trace)
from ._native import render_stack
from ._report import (EXIT_CRASHED, EXIT_FAILED, EXIT_OK, EXIT_STATUS, EXIT_TIMEOUT,
                      EXIT_USAGE, Outcome, check_started, collect, exit_code, junit_xml,
                      render_report, shown_path, write_junit, write_usage_junit)
# The readers and writers of the event log, as run.NAME too (tests/run/test_reports.py).
from ._files import EventLog, first_time, trace_events  # noqa: F401
from ._session import (Interrupts, StatusLine, Stdio, Watchdog, foreground_of, reserve_stdio,
                       target_environment)

__all__ = ["main", "STOCK_DIR", "EXIT_OK", "EXIT_FAILED", "EXIT_USAGE", "EXIT_CRASHED",
           "EXIT_TIMEOUT", "EXIT_STATUS"]

# The directory that holds this package: BUILD/python in a build tree,
# PREFIX/share/groutines/python in an installed tree (cmake/GroutinesInstall.cmake).
_PACKAGE_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _layout():
    """_layout() is (plugin, python_stock_dir, cpp_stock_dir), the pieces found relative to
    this package, as the LLDB plugin finds the package relative to itself: in an installed
    tree PREFIX/LIBDIR/libgroutines_lldb.so, PREFIX/share/groutines/stock and
    PREFIX/LIBDIR/groutines/stock (LIBDIR the directory under the prefix that holds the
    plugin, lib unless the install chose another); in a build tree BUILD/lldb_plugin/
    libgroutines_lldb.so and BUILD/groutines/stock for both kinds."""
    data = os.path.dirname(_PACKAGE_PARENT)  # PREFIX/share/groutines when installed
    if (os.path.basename(_PACKAGE_PARENT) == "python" and os.path.basename(data) == "groutines"
            and os.path.basename(os.path.dirname(data)) == "share"):
        prefix = os.path.dirname(os.path.dirname(data))
        libdir = os.path.join(prefix, "lib")
        if not os.path.exists(os.path.join(libdir, "libgroutines_lldb.so")):
            with os.scandir(prefix) as entries:
                found = sorted(e.path for e in entries if e.is_dir()
                               and os.path.exists(os.path.join(e.path, "libgroutines_lldb.so")))
            libdir = found[0] if found else libdir
        return (os.path.join(libdir, "libgroutines_lldb.so"), os.path.join(data, "stock"),
                os.path.join(libdir, "groutines", "stock"))
    build = os.path.dirname(_PACKAGE_PARENT)
    stock = os.path.join(build, "groutines", "stock")
    return os.path.join(build, "lldb_plugin", "libgroutines_lldb.so"), stock, stock


def default_plugin():
    """default_plugin() is the LLDB plugin a run loads without --plugin: GROUTINES_PLUGIN,
    else the one beside this package (_layout())."""
    return os.environ.get("GROUTINES_PLUGIN") or _layout()[0]


# Signals after which a process usually dies: the runner takes the backtrace when it stops
# on one, then lets the program handle it (or die of it).
_CRASH_SIGNALS = {"SIGSEGV", "SIGBUS", "SIGILL", "SIGFPE", "SIGABRT", "SIGTRAP", "SIGSYS"}
# Other signals that end a process unless it handles them: when the debugger does not say
# how the target ended (State.killed None), a process that exits "with status N" right
# after stopping on one of them (LLDB reports a death by signal N as exit status N) was
# killed by it.
_ENDING_SIGNALS = {"SIGPIPE", "SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT", "SIGXCPU", "SIGXFSZ"}


# --- Command line ---

def _parser():
    p = argparse.ArgumentParser(
        prog="groutines run",
        usage="groutines run [options] GROUTINES... -- PROGRAM [ARGS...]",
        description="Run PROGRAM to its end under a debugger (LLDB unless --debugger says "
                    "otherwise) with GROUTINES loaded (.py files, "
                    "directories, C++ groutine libraries, stock:NAME), then report each "
                    "groutine as passed, failed or never triggered.",
        epilog="exit codes: 0 ok, 1 a groutine failed, 2 usage/load/launch error, 3 target "
               "crashed, 4 timeout, 5 unexpected exit status. See docs/run.md.")
    p.add_argument("groutines", nargs="*", metavar="GROUTINES")
    p.add_argument("--report", metavar="FILE", help="write the report to FILE, not stderr")
    p.add_argument("--junit", metavar="FILE", help="JUnit XML, one test case per groutine")
    p.add_argument("--events", metavar="FILE", help="every event as JSON lines")
    p.add_argument("--trace", metavar="FILE", help="Chrome trace-event JSON (Perfetto)")
    p.add_argument("--timeout", metavar="SECONDS",
                   help="end the run after SECONDS, reporting what each groutine waits on")
    p.add_argument("--stop-on-failure", action="store_true",
                   help="at the first failure or crash, leave the target stopped at the "
                        "debugger's interactive prompt")
    p.add_argument("--set", metavar="KEY=VALUE", action="append", default=[],
                   help="configure stock groutines: heap.frames=4 sets GROUTINES_HEAP_FRAMES")
    p.add_argument("--expect-status", metavar="N", type=int, default=0,
                   help="the exit status that counts as success (default 0)")
    p.add_argument("--debugger", metavar="NAME",
                   default=os.environ.get("GROUTINES_DEBUGGER") or "lldb",
                   help="the debugger that runs PROGRAM (default lldb): its driver is the "
                        "package groutines_NAME_driver beside groutines")
    p.add_argument("--plugin", metavar="SO", help="the debugger's groutines adapter (lldb: the "
                   f"plugin, default $GROUTINES_PLUGIN, else {_layout()[0]})")
    p.add_argument("--transport", choices=("auto", "agent", "breakpoint"),
                   default=os.environ.get("GROUTINES_TRANSPORT") or "auto",
                   help="how calls reach groutines: the in-target agent where it can, else "
                        "breakpoints (auto, the default), or breakpoints only")
    p.add_argument("--max-events", metavar="N", type=int, default=1_000_000,
                   help="how many events --events/--trace keep (default 1000000)")
    return p


def parse_args(argv):
    """parse_args() splits argv at the first `--`: options and groutines before it, the
    program and its arguments after. Raises UsageError."""
    if "--" not in argv:
        raise UsageError("expected `-- PROGRAM [ARGS...]` after the groutines")
    at = argv.index("--")
    parser = _parser()
    try:
        options = parser.parse_intermixed_args(argv[:at])
    except SystemExit as e:  # argparse printed its message
        raise UsageError("bad options (see groutines run --help)") from e
    options.program = argv[at + 1:]
    if not options.program:
        raise UsageError("no program after `--`")
    if options.plugin is None and options.debugger == "lldb":
        options.plugin = default_plugin()
    if options.timeout is not None:
        options.timeout = seconds("--timeout", options.timeout)
    if options.max_events < 1:
        raise UsageError(f"--max-events {options.max_events}: expected a positive count")
    for item in options.set:
        if "=" not in item or item.startswith("="):
            raise UsageError(f"--set {item}: expected KEY=VALUE")
    return options


def seconds(option, text):
    """seconds() is text as a positive, finite number of seconds that a wait can take
    (not nan, inf, 0, negative or garbage). Raises UsageError naming option."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or not 0 < value <= threading.TIMEOUT_MAX:
        raise UsageError(f"{option} {text}: expected a positive number of seconds")
    return value


def config_variable(key):
    """config_variable() is the environment variable a --set KEY sets: heap.frames ->
    GROUTINES_HEAP_FRAMES. Stock groutines read their options from these variables."""
    return "GROUTINES_" + re.sub(r"[^A-Za-z0-9]", "_", key).upper()


# Where stock:NAME finds the Python stock groutines when GROUTINES_STOCK_DIR is not set: the
# launcher (scripts/groutines) points it at the checkout's groutines/stock/ when it runs from
# a checkout.
STOCK_DIR = None


def stock_dirs():
    """stock_dirs() is (python_dir, library_dir) of the stock groutines: GROUTINES_STOCK_DIR,
    else STOCK_DIR, else the one beside this package (_layout()); GROUTINES_STOCK_CPP_DIR,
    else the one beside this package, for C++ libraries."""
    _, python_dir, cpp_dir = _layout()
    return (os.environ.get("GROUTINES_STOCK_DIR") or STOCK_DIR or python_dir,
            os.environ.get("GROUTINES_STOCK_CPP_DIR") or cpp_dir)


def resolve(spec):
    """resolve() turns stock:NAME into the stock groutine's path (stock:cpp/NAME into its
    C++ library); other paths are returned as they are. Raises UsageError."""
    if not spec.startswith("stock:"):
        if not os.path.exists(spec):
            raise UsageError(f"no such groutine file or directory '{spec}'")
        return os.path.abspath(spec)
    name = spec[len("stock:"):]
    py_dir, lib_dir = stock_dirs()
    if name.startswith("cpp/"):
        path = os.path.join(lib_dir, f"libgroutine_stock_{name[4:]}.so")
    else:
        path = os.path.join(py_dir, f"{name}.py")
    if not os.path.exists(path):
        raise UsageError(f"no stock groutine '{name}' ({path} does not exist)")
    return path




# --- The run ---

class Runner:
    """Runner is one `groutines run` with driver: it loads the adapter and the groutines,
    runs the target to its end (run()), and writes the report and the files asked for."""

    def __init__(self, options, report, driver):
        self.options = options
        self.report = report
        self.driver = driver
        self.runtime = None
        self.interrupts = None
        self.failures = 0  # failures of groutines the runner has seen
        self.status = None  # the StatusLine, on a terminal
        # The terminal whose foreground the target gets (its Ctrl-C, and stdin when that is
        # it), or None: the first of stdin, stdout, stderr that is a terminal the runner is
        # in the foreground of.
        self.terminal = next((fd for fd in (0, 1, 2) if foreground_of(fd)), None)

    def run(self):
        options = self.options
        driver = self.driver
        env = target_environment()  # before --set
        for item in options.set:
            key, value = item.split("=", 1)
            os.environ[config_variable(key)] = value
        # A debugger dying of a groutine the runtime cannot contain still writes the report
        # and the reason, and the run exits 2 (docs/runtime.md, "Crashes").
        os.environ["GROUTINES_FATAL_EXIT"] = str(EXIT_USAGE)
        driver.check(options)
        paths = [resolve(spec) for spec in options.groutines]
        if not paths:
            raise UsageError("no groutines to load")
        program = options.program[0]
        self.interrupts = Interrupts(self.report)
        driver.start(options, self.report)
        driver.command(f"groutine transport {options.transport}")
        # The agent goes into the target's LD_PRELOAD (it takes itself out of the
        # environment its children get).
        agent = driver.agent()
        if options.transport != "breakpoint" and agent:
            agent = preload_path(agent)
            env = dict(env)
            env[b"LD_PRELOAD"] = b":".join(
                p for p in (os.fsencode(agent), env.get(b"LD_PRELOAD")) if p)
        driver.set_program(program)
        if options.events or options.trace:
            driver.command(f"groutine events --capacity {options.max_events}")
        for path in paths:
            ok, out, err = driver.command(f"groutine load {quote(path)}", check=False)
            if not ok:  # without the debugger's "error: ": the runner's message has its own
                raise UsageError(f"{out}{re.sub(r'^error: ', '', err.strip())}")
            warnings = [line for line in out.splitlines() if line.startswith("warning: ")]
            pending = [m[1] for m in (re.match(r"warning: (\S+): no such function \(yet\): ", w)
                                      for w in warnings) if m]
            if len(pending) > 3:  # a groutine hooking the libraries' functions (stock:heap)
                warnings = [w for w in warnings if not re.match(r"warning: \S+: no such "
                                                                r"function \(yet\): ", w)]
                warnings.append(f"warning: {len(pending)} functions nothing defines yet "
                                f"({', '.join(pending[:3])}, ...): their hooks wait for the "
                                "libraries that define them")
            for line in warnings:  # a function nothing defines yet, say
                self.report.write(line + "\n")
        runtime = self.runtime = driver.runtime()
        check_started(runtime)
        if options.stop_on_failure:  # the adapter stops the target at any groutine's failure
            driver.command("groutine stop-on-failure on")
        self.status = StatusLine(sys.stderr, runtime) if sys.stderr.isatty() else None
        stdio = Stdio()
        outcome = Outcome()
        t0 = time.monotonic()
        try:
            self._run_target(options.program, env, stdio, outcome)
        finally:
            self._take_terminal_back()
            if self.status:
                self.status.close()
            stdio.close()
        elapsed = time.monotonic() - t0
        # The end of the run, as a custom event: heap reports leaks, profile its table.
        exit_data = f"status={outcome.exit_status if outcome.exit_status is not None else -1} " \
                    f"signal=\"{outcome.signal or ''}\" timed_out={str(outcome.timed_out).lower()}"
        driver.command(f"groutine fire exit {exit_data}", check=False)
        results = collect(runtime)
        events = []
        if options.events or options.trace:
            try:
                events = read_events(driver, options.max_events,
                                     os.path.join(run_dir(), "events.jsonl"))
            except RuntimeError as e:
                self.report.write(f"groutines run: cannot read the event log: {e}\n")
        name = os.path.basename(program)
        self.report.write(render_report(results, outcome, name, options))
        outputs = options.outputs
        if options.junit:
            write_output(outputs["junit"], lambda f: write_junit(f, junit_xml(
                results, outcome, name, elapsed, options.expect_status)))
        if options.events:
            write_output(outputs["events"], lambda f: write_events(f, events))
            self.report.write(f"events: {shown_path(os.path.abspath(options.events))}\n")
        if options.trace:
            write_output(outputs["trace"], lambda f: write_trace(f, events, name))
            self.report.write(f"trace: {shown_path(os.path.abspath(options.trace))} "
                              "(open it in https://ui.perfetto.dev)\n")
        self.report.flush()
        code = exit_code(outcome, results, options.expect_status)
        # Unload before the debugger goes: groutines' finally blocks run now, not at exit.
        driver.command("groutine unload --all", check=False)
        driver.close()
        return code

    def _failure_count(self):
        return sum(len(g["failures"]) for g in self.runtime.groutines())

    def _give_terminal(self):
        """_give_terminal() makes the target's process group the terminal's foreground one
        (the debugger starts it in a group of its own), so that it can read the terminal;
        the runner, in the background meanwhile, ignores SIGTTOU to write and to take the
        terminal back."""
        try:
            with open(f"/proc/{self.driver.pid()}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            pgrp, sid = int(fields[2]), int(fields[3])
            if sid == os.getsid(0) and pgrp != os.getpgrp():
                _signal.signal(_signal.SIGTTOU, _signal.SIG_IGN)
                os.tcsetpgrp(self.terminal, pgrp)
        except (OSError, ValueError, IndexError) as e:
            self.report.write(f"groutines run: the target cannot have the terminal: {e}\n")

    def _take_terminal_back(self):
        if self.terminal is None:
            return
        try:
            if os.tcgetpgrp(self.terminal) != os.getpgrp():
                os.tcsetpgrp(self.terminal, os.getpgrp())
        except OSError:
            pass

    def _run_target(self, argv, env, stdio, outcome):
        """_run_target() launches argv with env and stdio, and follows the target to its end,
        which it writes in outcome: the exit status or the signal that killed it (with the
        backtrace of its crash), the timeout (with what every thread was doing), the
        groutines' stop requests, a launch error."""
        options = self.options
        driver = self.driver
        watchdog = None
        try:
            argv = [os.fsencode(arg) for arg in argv]
            error = driver.launch(argv, env, stdio.paths, stdio.closed)
            self.interrupts.driver = driver
            if error:
                outcome.error = error
                return
            # Stopped at its entry: the clock starts now, whatever the launch cost.
            if options.timeout:
                watchdog = Watchdog(options.timeout, driver, self.report)
            if self.terminal is not None:
                self._give_terminal()
            self.failures = self._failure_count()  # any before main do not stop it
            fatal = None  # (signal number, name, description, backtrace) of the last fatal stop
            while True:
                state = driver.state()
                if state.kind == State.EXITED:
                    self.interrupts.settle()
                    killed = state.killed
                    if killed is None:  # not known: the signal it last stopped on, if fatal
                        killed = state.status if fatal and state.status == fatal[0] else 0
                    if killed:
                        outcome.signal = driver.signal_name(killed) or f"signal {killed}"
                        if fatal and fatal[0] == killed and fatal[1] in _CRASH_SIGNALS:
                            outcome.crash = (fatal[2], fatal[3])
                    else:
                        outcome.exit_status = state.status
                    return
                if state.kind == State.GONE:
                    outcome.error = f"the process ended unexpectedly ({state.detail})"
                    return
                if state.kind == State.CRASHED:
                    outcome.signal = "a crash"
                    outcome.crash = ("the process crashed", driver.threads())
                    driver.kill()
                    return
                if watchdog and watchdog.fired.is_set():
                    watchdog.seen.set()
                    outcome.timed_out = True
                    outcome.waits = driver.threads()
                    driver.kill()
                    return
                # With --stop-on-failure the adapter stops at a groutine's failure.
                failed = options.stop_on_failure and self._failure_count() > self.failures
                interactive = failed
                for thread in driver.stopped_threads():
                    if thread.reason == ThreadStop.SIGNAL:
                        name = thread.signal
                        if name in _ENDING_SIGNALS:
                            fatal = (thread.signo, name, f"{name} on thread {thread.index}", [])
                        if name in _CRASH_SIGNALS:
                            fatal = (thread.signo, name,
                                     f"{name} on thread {thread.index} (tid {thread.tid}"
                                     + (f", '{thread.name}'" if thread.name else "") + ")",
                                     render_stack(thread.stack()))
                            if options.stop_on_failure:
                                interactive = True
                    elif thread.reason == ThreadStop.STOP_REQUEST and not failed:
                        top = thread.stack(1)
                        where = render_stack(top)[0] if top else "?"
                        outcome.stops.append(f"thread {thread.tid} at {where}")
                        if options.stop_on_failure:
                            interactive = True
                if interactive:
                    verdict = self._interact()
                    if verdict == Driver.ENDED:
                        continue  # its end is seen as any other
                    if verdict not in (Driver.RESUME, Driver.AGAIN):
                        outcome.error = verdict
                        return
                    options.stop_on_failure = False  # one interactive session per run
                    driver.command("groutine stop-on-failure off", check=False)
                    if verdict == Driver.AGAIN:
                        continue  # resumed in the session: its new stop is seen as any other
                driver.resume()
        finally:
            if watchdog:
                watchdog.close()

    def _interact(self):
        """_interact() hands the stopped target to the debugger's interactive prompt on the
        terminal (Driver.interact()) and returns its verdict; the run goes on (or ends) when
        the user quits it. The prompt reads the terminal in the foreground (the target,
        which had it, gets it back after) and the status line is off meanwhile."""
        if self.status:
            self.status.pause()
        self._take_terminal_back()
        self.interrupts.interactive = self.driver
        self.report.write(f"groutines run: stopped at a failure or a crash; the "
                          f"{self.driver.prompt} prompt is yours. "
                          "`groutine report` shows the failures, `quit` ends the session and "
                          "the run goes on.\n")
        self.report.flush()
        verdict = None
        try:
            verdict = self.driver.interact()
        finally:
            self.interrupts.interactive = None
            if self.terminal is not None and verdict in (Driver.RESUME, Driver.AGAIN):
                self._give_terminal()
            if self.status:
                self.status.resume()
        return verdict


def _run_elsewhere(argv):
    """_run_elsewhere() is the run_elsewhere() of the driver package that argv's --debugger
    names when that package has no driver() for this process (its debugger's Python is its
    own), else None; None too when argv is wrong in any way (the run in this process says
    how). It writes nothing."""
    try:
        with contextlib.redirect_stderr(io.StringIO()):  # argparse's own messages
            options = parse_args(argv)
        module = find_driver(options.debugger)
    except UsageError:
        return None
    return None if hasattr(module, "driver") else module.run_elsewhere


def main(argv=None, driver=None):
    """main() runs `groutines run` with argv (without the `run` word); returns the exit
    code. driver: the Driver to run with, for a debugger's own Python that runs the runner
    inside the debugger (docs/run.md, "Drivers"); None: --debugger's, made here, or its
    run_elsewhere() when its debugger's Python is its own (before anything else: the
    standard streams go to it as they are)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if driver is None and argv[:1] not in (["-h"], ["--help"]):
        elsewhere = _run_elsewhere(argv)
        if elsewhere is not None:
            return elsewhere(argv)
    reserve_stdio()
    if argv[:1] in (["-h"], ["--help"]):
        _parser().print_help(sys.stderr)
        return EXIT_OK
    report = sys.stderr
    options = None
    try:
        options = parse_args(argv)
        if options.report:
            report = open_report(options.report)
        open_outputs(options)
        if driver is None:
            driver = find_driver(options.debugger).driver()
        _AT_HARD_EXIT.append(driver.remove_files)
        return Runner(options, report, driver).run()
    except UsageError as e:
        report.write(f"error: groutines run: {e}\n")
        report.flush()
        _write_usage_junit(options, str(e), report)
        return EXIT_USAGE
    except Exception as e:  # a bug of ours: said as such, with the usage/load exit code
        import traceback
        traceback.print_exc(file=report)
        report.write(f"error: groutines run: internal error: {type(e).__name__}: {e}\n")
        report.flush()
        _write_usage_junit(options, f"internal error: {type(e).__name__}: {e}", report)
        return EXIT_USAGE
    finally:
        discard_outputs(options)
        if driver is not None:
            if driver.remove_files in _AT_HARD_EXIT:
                _AT_HARD_EXIT.remove(driver.remove_files)
            driver.remove_files()
        remove_run_dir()
        if report is not sys.stderr:
            report.close()


def _write_usage_junit(options, message, report):
    try:
        write_usage_junit(options, message)
    except OSError as e:
        report.write(f"error: groutines run: --junit {options.junit}: {e.strerror}\n")


if __name__ == "__main__":
    argv = sys.argv[1:]
    if argv[:1] == ["run"]:
        argv = argv[1:]
    code = main(argv)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # the debugger's threads must not keep a finished run alive
