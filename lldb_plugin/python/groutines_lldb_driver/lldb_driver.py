"""LldbDriver: `groutines run` on LLDB's SB API, in-process.

The runner's Python is LLDB's embedded one (/usr/bin/python3, with LLDB's Python module): the
plugin is loaded with `plugin load`, groutines with `groutine load`, so `import groutines`
here shares the plugin's runtime (groutines._native.default_runtime()). The Driver interface
it implements is in groutines/_driver.py.
"""
import os
import re
import shutil
import signal as _signal
import subprocess
import sys

from groutines import _native
from groutines._driver import Driver, State, ThreadStop, UsageError, quote

__all__ = ["LldbDriver", "import_lldb", "stack"]

# build/python/groutines_lldb_driver/lldb_driver.py -> build/
_BUILD_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_DEBUGSERVER = "/usr/lib/llvm-19/bin/lldb-server"


def import_lldb():
    """import_lldb() imports LLDB's Python module, finding it with `lldb-19 -P` when it is
    not on sys.path (Debian installs it apart). Raises UsageError."""
    try:
        import lldb
        if hasattr(lldb, "SBDebugger"):
            return lldb
    except ImportError:
        pass
    for tool in ("lldb-19", "lldb"):
        try:
            out = subprocess.run([tool, "-P"], capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            continue
        path = out.stdout.strip()
        if out.returncode == 0 and path:
            sys.path.insert(0, path)
            sys.modules.pop("lldb", None)  # a namespace package found before
            import lldb
            if hasattr(lldb, "SBDebugger"):
                return lldb
    raise UsageError("cannot import LLDB's Python module (is lldb-19 installed?)")


def stack(thread, max_frames=64):
    """stack() is an SBThread's call stack, innermost first, as groutines._native.StackFrames
    named as the plugin names them (LldbFrame::backtrace), for the core's one rendering
    (groutines._native.render_stack())."""
    out = []
    for i in range(min(thread.GetNumFrames(), max_frames)):
        frame = thread.GetFrameAtIndex(i)
        offset = 0
        start = frame.GetSymbol().GetStartAddress()
        if start.IsValid():
            target = frame.GetThread().GetProcess().GetTarget()
            offset = max(frame.GetPC() - start.GetLoadAddress(target), 0)
        file, line = "", 0
        entry = frame.GetLineEntry()
        if entry.IsValid() and entry.GetFileSpec().GetFilename():
            file, line = entry.GetFileSpec().GetFilename(), entry.GetLine()
        out.append(_native.StackFrame(
            pc=frame.GetPC(), module=frame.GetModule().GetFileSpec().GetFilename() or "",
            function=frame.GetDisplayFunctionName() or "", offset=offset, file=file,
            line=line))
    return out


def stand_ins(strings):
    """stand_ins() is, for each byte string of strings, the text LLDB's Python API is given
    for it: the string decoded when it is UTF-8, else a stand-in of its length (each byte
    outside ASCII made '?', or another filler that no other string is), since that API
    turns what is not UTF-8 into an empty string. The driver writes the bytes over their
    stand-ins in the target at its entry (LldbDriver._exact_strings()). Raises UsageError
    when no filler gives a stand-in of its own."""
    texts = {}
    for data in strings:
        try:
            texts[data] = data.decode()
        except UnicodeDecodeError:
            pass
    taken = set(texts.values())
    out = []
    for data in strings:
        if data not in texts:
            for filler in "?#%+~^_":
                text = re.sub(rb"[\x80-\xff]", filler.encode(), data).decode()
                if text not in taken:
                    break
            else:
                raise UsageError(f"cannot pass {data!r} to the target: too many strings "
                                 "alike that are not UTF-8")
            texts[data] = text
            taken.add(text)
        out.append(texts[data])
    return out


def lldb_temp_dir():
    """lldb_temp_dir() is the directory where LLDB, in this process, keeps the temporary
    files it makes (the source of an expression it compiles with debug info):
    TEMP/lldb/PID, TEMP as LLVM finds it ($TMPDIR, $TMP, $TEMP, $TEMPDIR, else /tmp). LLDB
    removes it only in SBDebugger.Terminate(), which the driver does not call (it would end
    LLDB for the plugin's runtime and the groutines' destructors still to come)."""
    base = next((os.environ[v] for v in ("TMPDIR", "TMP", "TEMP", "TEMPDIR")
                 if os.environ.get(v)), "/tmp")
    return os.path.join(base, "lldb", str(os.getpid()))


def _expression_error(value):
    """_expression_error() is the first line of the error of value, an expression evaluated
    in the target, without the compiler's location: "use of undeclared identifier 'close'"
    (a static program has no close() unless it calls it)."""
    lines = (value.GetError().GetCString() or "").strip().splitlines()
    text = lines[0] if lines else "failed"
    return re.sub(r"^(error: )?(<user expression \d+>:\d+:\d+: )?(error: )?", "", text)


class LldbDriver(Driver):
    """LldbDriver is one SBDebugger in synchronous mode with the groutines plugin loaded,
    and the target it launches."""

    name = "lldb"
    prompt = "(lldb)"

    def __init__(self):
        self.lldb = None
        self.sb = None
        self.interpreter = None
        self.report = None
        self.plugin = None
        self.target = None
        self.process = None
        self.exact = {}        # the stand-ins of the target's strings that are not UTF-8: bytes
        self.main_stop = None  # the id of the breakpoint at main, until its stop
        self.closed = []       # the descriptors to close in the target at main

    def check(self, options):
        plugin = options.plugin or os.environ.get("GROUTINES_PLUGIN") or os.path.join(
            _BUILD_DIR, "lldb_plugin", "libgroutines_lldb.so")
        if not os.path.exists(plugin):
            raise UsageError(f"no groutines plugin at {plugin} (build it, or pass --plugin)")
        self.plugin = plugin

    def start(self, options, report):
        os.environ.setdefault("LLDB_DEBUGSERVER_PATH", _DEBUGSERVER)
        self.report = report
        lldb = self.lldb = import_lldb()
        lldb.SBDebugger.Initialize()
        self.sb = lldb.SBDebugger.Create(False)
        self.sb.SetAsync(False)
        # LLDB's and the plugin's output (log lines, stop reasons) goes with the report.
        self.sb.SetOutputFileHandle(report, False)
        self.sb.SetErrorFileHandle(report, False)
        self.interpreter = self.sb.GetCommandInterpreter()
        # Absolute: a relative path starting with - would read as an option.
        self.command(f"plugin load {quote(os.path.abspath(self.plugin))}")
        # LLDB starts its embedded Python lazily; the plugin's Python entry points need it.
        self.command("script -l python -- import groutines")

    def command(self, text, check=True):
        result = self.lldb.SBCommandReturnObject()
        self.interpreter.HandleCommand(text, result)
        ok = result.Succeeded()
        out, err = result.GetOutput() or "", result.GetError() or ""
        if check and not ok:
            # LLDB's "error: " prefix: the runner's message has its own.
            raise UsageError(re.sub(r"^error: ", "", err.strip()) or f"'{text}' failed")
        return ok, out, err

    def agent(self):
        # The agent is built and installed beside the plugin.
        agent = os.path.join(os.path.dirname(self.plugin), "libgroutines_agent.so")
        return agent if os.path.exists(agent) else None

    def set_program(self, program):
        try:
            program.encode()
        except UnicodeEncodeError:
            shown = os.fsencode(program).decode(errors="backslashreplace")
            raise UsageError(f"cannot debug '{shown}': its path is not UTF-8, which LLDB's API "
                             "cannot take (run it through a link with a UTF-8 name)") from None
        self.target = self.sb.CreateTarget(program)
        if not self.target.IsValid():
            raise UsageError(f"cannot debug '{program}': not an executable LLDB can load")

    # --- The launch ---

    def launch(self, argv, env, stdio, closed):
        error = self.lldb.SBError()
        process = self.target.Launch(self._launch_info(argv, env, stdio), error)
        self.process = process
        if not error.Success() or not process.IsValid():
            return error.GetCString() or "launch failed"
        problem = self._exact_strings(process)
        if problem:
            process.Kill()
            return problem
        # SIGINT and SIGTRAP reach the target, as without the debugger (LLDB keeps them by
        # default; its own breakpoints and steps are not signals to it).
        for signo in (_signal.SIGINT, _signal.SIGTRAP):
            process.GetUnixSignals().SetShouldSuppress(signo, False)
        self.closed = list(closed)
        self.main_stop = self._stop_at_main()
        return None

    def _launch_info(self, argv, env, stdio):
        """_launch_info() is the launch of argv (bytes) with env (bytes: bytes), given to
        LLDB as the texts stand_ins() makes of them; self.exact maps each stand-in to the
        bytes it stands for (_exact_strings() puts them in place)."""
        strings = argv + [name + b"=" + value for name, value in env.items()]
        texts = stand_ins(strings)
        self.exact = {t.encode(): b for t, b in zip(texts, strings) if t.encode() != b}
        li = self.lldb.SBLaunchInfo(texts[1:len(argv)])
        # Stopped at its entry, it gets the terminal and the timeout starts.
        li.SetLaunchFlags(li.GetLaunchFlags() | self.lldb.eLaunchFlagStopAtEntry)
        li.SetEnvironmentEntries(texts[len(argv):], False)
        li.SetWorkingDirectory(os.getcwd())
        for fd in (0, 1, 2):
            li.AddOpenFileAction(fd, stdio[fd], fd == 0, fd != 0)
        return li

    def _exact_strings(self, process):
        """_exact_strings() writes the bytes of each argument and environment entry that is
        not UTF-8 (self.exact) over its stand-in, in the target stopped at its entry: over
        the kernel's copies of them at the top of its stack, which argv and environ point to
        (and /proc/PID/cmdline and environ show). An error message when they are not where
        they should be, else None."""
        if not self.exact:
            return None
        try:
            with open(f"/proc/{process.GetProcessID()}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            # Fields 48 to 51: arg_start, arg_end, env_start, env_end.
            blocks = [(int(fields[45]), int(fields[46])), (int(fields[47]), int(fields[48]))]
        except (OSError, ValueError, IndexError) as e:
            return f"cannot give the target its exact arguments and environment: {e}"
        left = set(self.exact)
        for start, end in blocks:
            error = self.lldb.SBError()
            block = process.ReadMemory(start, end - start, error) if end > start else b""
            if error.Fail():
                return (f"cannot give the target its exact arguments and environment: "
                        f"{error.GetCString()}")
            offset = 0
            for entry in block.split(b"\0"):
                data = self.exact.get(entry)
                if data is not None:
                    process.WriteMemory(start + offset, data, error)
                    if error.Fail():
                        return (f"cannot give the target its exact arguments and "
                                f"environment: {error.GetCString()}")
                    left.discard(entry)
                offset += len(entry) + 1
        if left:
            return ("cannot give the target its exact arguments and environment: "
                    f"{sorted(self.exact[t] for t in left)!r} not found in it")
        return None

    def _stop_at_main(self):
        """_stop_at_main() plants a breakpoint on the executable's main (for
        _default_signals() and _close_stdio(); the stop deletes it), or, in a program
        without a `main` symbol (stripped), on libc's __libc_start_main, which calls it:
        the libraries are loaded and relocated there, so expressions can call into libc
        (the breakpoint is pending until libc is loaded). Its id, or None when it cannot be
        planted. (Not one-shot: a one-shot breakpoint is gone before its stop can be told
        apart.)"""
        target = self.target
        bp = target.BreakpointCreateByName("main", target.GetExecutable().GetFilename())
        if bp.IsValid() and bp.GetNumLocations() > 0:
            return bp.GetID()
        if bp.IsValid():
            target.BreakpointDelete(bp.GetID())
        bp = target.BreakpointCreateByName("__libc_start_main")
        return bp.GetID() if bp.IsValid() else None

    def _expression_options(self):
        options = self.lldb.SBExpressionOptions()
        options.SetIgnoreBreakpoints(True)
        options.SetTimeoutInMicroSeconds(5_000_000)
        options.SetTryAllThreads(True)
        return options

    def _default_signals(self, thread):
        """_default_signals() gives SIGPIPE and SIGXFSZ their default action in the target,
        at main: lldb-server ignores them, and the target inherits that (a program writing
        to a closed pipe would never die of it). A program that wants them ignored sets
        that itself, later."""
        options = self._expression_options()
        for signo in (_signal.SIGPIPE, _signal.SIGXFSZ):
            value = thread.GetFrameAtIndex(0).EvaluateExpression(
                f"(long)((void *(*)(int, void *))signal)({int(signo)}, (void *)0)", options)
            if value.GetError().Fail():
                self.report.write(f"groutines run: cannot restore the default action of "
                                  f"signal {int(signo)} in the target "
                                  f"({_expression_error(value)})\n")
                return

    def _close_stdio(self, thread, fds):
        """_close_stdio() closes fds in the target, at main (an expression in the target):
        the standard descriptors that were closed when the runner started, which a shell
        would have given the target closed (LLDB's launch gives it /dev/null)."""
        options = self._expression_options()
        for fd in fds:
            value = thread.GetFrameAtIndex(0).EvaluateExpression(
                f"(int)((int (*)(int))close)({fd})", options)
            if value.GetError().Fail():
                self.report.write(f"groutines run: cannot close descriptor {fd} in the "
                                  f"target ({_expression_error(value)}): it stays "
                                  "/dev/null\n")

    # --- The run ---

    def pid(self):
        process = self.process
        if process is None or not process.IsValid():
            return None
        return process.GetProcessID() or None

    def interrupt(self):
        process = self.process
        if process is not None:
            process.SendAsyncInterrupt()

    def state(self):
        lldb = self.lldb
        state = self.process.GetState()
        if state == lldb.eStateExited:
            return State(State.EXITED, status=self.process.GetExitStatus(),
                         killed=self._killed_by())
        if state in (lldb.eStateDetached, lldb.eStateInvalid, lldb.eStateUnloaded):
            return State(State.GONE, detail=lldb.SBDebugger.StateAsCString(state))
        if state == lldb.eStateCrashed:
            return State(State.CRASHED)
        return State(State.STOPPED, detail=lldb.SBDebugger.StateAsCString(state))

    def _killed_by(self):
        """_killed_by() is the signal that killed the target, which has exited: 0 when it
        exited by itself, None when the debugger does not say. LLDB gives a death by signal
        N as exit status N; the stop reply lldb-server sent at the end says which it was
        (`W` an exit, `X` a signal), and the GDB-remote packet history keeps it."""
        ok, out, _ = self.command("process plugin packet history", check=False)
        replies = re.findall(r"read packet: \$([WX])([0-9a-fA-F]{2})[;#]", out) if ok else []
        if not replies:
            return None
        kind, value = replies[-1]
        return int(value, 16) if kind == "X" else 0

    def stopped_threads(self):
        lldb = self.lldb
        out = []
        for thread in self.process:
            reason = thread.GetStopReason()
            if (reason == lldb.eStopReasonBreakpoint and self.main_stop is not None
                    and thread.GetStopReasonDataAtIndex(0) == self.main_stop):
                self._default_signals(thread)
                self._close_stdio(thread, self.closed)
                self.target.BreakpointDelete(self.main_stop)
                self.main_stop = None
                continue
            if reason == lldb.eStopReasonExec:
                # A groutine command looks at the new program before it runs: hooks the agent
                # served in the old one are planted again (LldbBackend::agent_after_exec()).
                self.command("groutine list", check=False)
                continue
            where = dict(index=thread.GetIndexID(), tid=thread.GetThreadID(),
                         name=thread.GetName() or "",
                         stack=lambda max_frames, thread=thread: stack(thread, max_frames))
            if reason == lldb.eStopReasonSignal:
                signo = thread.GetStopReasonDataAtIndex(0)
                name = self.process.GetUnixSignals().GetSignalAsCString(signo) or str(signo)
                out.append(ThreadStop(ThreadStop.SIGNAL, signo=signo, signal=name, **where))
            elif reason == lldb.eStopReasonBreakpoint:
                # Only a groutine's stop request stops at a plugin breakpoint.
                out.append(ThreadStop(ThreadStop.STOP_REQUEST, **where))
        return out

    def resume(self):
        self.process.Continue()

    def kill(self):
        self.process.Kill()

    def threads(self):
        lines = []
        for thread in self.process:
            lines.append(f"thread {thread.GetIndexID()} (tid {thread.GetThreadID()}): "
                         f"{thread.GetStopDescription(200) or ''}".rstrip(": "))
            lines += ["  " + line for line in _native.render_stack(stack(thread, 32))]
        return lines

    def signal_name(self, signo):
        return self.process.GetUnixSignals().GetSignalAsCString(signo) or None

    # --- The interactive session ---

    def interact(self):
        lldb = self.lldb
        sb = self.sb
        stop_id = self.process.GetStopID()
        # `quit` ends the session, not the target: no "Quitting LLDB will kill" question.
        self.command("settings set interpreter.prompt-on-quit false", check=False)
        # A stdin closed for the runner (sys.stdin None) gives the session an empty input.
        sb.SetInputFileHandle(sys.stdin or open(os.devnull), False)
        sb.SetOutputFileHandle(sys.stderr, False)
        # The session stays synchronous, as the run is: a `continue` in it returns when the
        # target stops for real or ends (LLDB takes, on the command's own listener, the stops
        # of the hooks' breakpoints that it resumes at once). An asynchronous session would
        # leave such a stop taken by its event thread at `quit`: the state reads "stopped"
        # while the target runs on, and the run's next Continue() waits forever.
        options = lldb.SBCommandInterpreterRunOptions()
        options.SetStopOnError(False)
        try:
            sb.RunCommandInterpreter(True, False, options, 0, False, False)
        finally:
            sb.SetAsync(False)  # whatever the session's commands made it
            sb.SetOutputFileHandle(self.report, False)
        process = self.process = self.target.GetProcess()
        state = process.GetState() if process.IsValid() else lldb.eStateInvalid
        if state in (lldb.eStateRunning, lldb.eStateStepping):
            process.Kill()
            return ("the interactive session left the process "
                    f"{lldb.SBDebugger.StateAsCString(state)}")
        if state == lldb.eStateExited:
            return self.ENDED
        if state in (lldb.eStateDetached, lldb.eStateInvalid):
            return "the interactive session ended the process"
        return self.RESUME if process.GetStopID() == stop_id else self.AGAIN

    def interrupt_prompt(self):
        self.sb.DispatchInputInterrupt()

    def close(self):
        self.lldb.SBDebugger.Destroy(self.sb)

    def remove_files(self):
        shutil.rmtree(lldb_temp_dir(), ignore_errors=True)
