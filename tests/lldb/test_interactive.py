"""The plugin in an interactive LLDB, as a user runs it: on a terminal, with the process
running asynchronously while the prompt stays live. Every wait has a timeout."""
import os
import pty
import re
import select
import shutil
import subprocess
import time

import pytest

from conftest import DEBUGSERVER, LLDB, PLUGIN, TIMEOUT, example, target


class Terminal:
    """An interactive lldb on a pseudo-terminal."""

    def __init__(self):
        self.master, slave = pty.openpty()
        env = dict(os.environ, LLDB_DEBUGSERVER_PATH=DEBUGSERVER, TERM="dumb")
        self.proc = subprocess.Popen([LLDB, "--no-lldbinit", "--no-use-colors"], stdin=slave,
                                     stdout=slave, stderr=slave, env=env, close_fds=True)
        os.close(slave)
        self.output = ""

    def send(self, line):
        os.write(self.master, (line + "\n").encode())

    def expect(self, *patterns, timeout=TIMEOUT):
        """expect() reads until every regex of patterns appears in the output since the last
        expect(), in any order, and consumes the output up to the last of them."""
        deadline = time.monotonic() + timeout
        regexes = [re.compile(p) for p in patterns]
        while True:
            found = [r.search(self.output) for r in regexes]
            if all(found):
                end = max(m.end() for m in found)
                seen = self.output[:end]
                self.output = self.output[end:]
                return seen
            left = deadline - time.monotonic()
            if left <= 0:
                pytest.fail(f"no {patterns!r} within {timeout}s; lldb printed:\n{self.output}"
                            f"{self.stacks()}")
            ready, _, _ = select.select([self.master], [], [], left)
            if ready:
                try:
                    chunk = os.read(self.master, 65536).decode(errors="replace")
                except OSError:
                    pytest.fail(f"lldb went away waiting for {patterns!r}:\n{self.output}")
                self.output += chunk.replace("\r", "")

    def stacks(self):
        """stacks() is every thread's backtrace of the lldb process, when gdb is there and
        GROUTINES_HANG_STACKS is set, for a test that timed out."""
        if not os.environ.get("GROUTINES_HANG_STACKS") or not shutil.which("gdb"):
            return ""
        out = subprocess.run(["gdb", "-p", str(self.proc.pid), "-batch", "-ex",
                              "thread apply all bt 40"], capture_output=True, text=True,
                             timeout=TIMEOUT)
        return "\nlldb's threads:\n" + "\n".join(
            line for line in out.stdout.splitlines() if line.startswith(("#", "Thread")))

    def interrupt(self, attempts=200):
        """interrupt() stops the running process with `process interrupt`, again when LLDB
        says it is not running (it reads so for a moment at every breakpoint hit that
        continues by itself)."""
        for _ in range(attempts):
            self.send("process interrupt")
            seen = self.expect(r"(Process \d+ stopped\n.*\n +frame #0: |"
                               r"error: Failed to halt process[^\n]*\n)")
            if re.search(r"frame #0: $", seen):
                return
        pytest.fail(f"process interrupt did not stop the process in {attempts} attempts")

    def command(self, line, until=r"\(lldb\) "):
        self.send(line)
        return self.expect(until)

    def close(self):
        try:
            self.send("quit")
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=30)
        os.close(self.master)


@pytest.fixture
def terminal():
    t = Terminal()
    t.expect(r"\(lldb\) ")
    t.command("settings set auto-confirm true")
    t.command(f"plugin load {PLUGIN}")
    yield t
    t.close()


def test_a_stop_and_continue_at_an_interactive_prompt(terminal):
    t = terminal
    t.command(f"file {target('calls_O2')}")
    t.command(f"groutine load {example('calls_checks')}")
    t.command(f"groutine load {example('watch')}")
    t.command("groutine fire stop-at function=add arg0=1")
    t.send("run 3")
    t.expect(r"groutine 'stop-at' stopped the target: add called with 1")
    # Until LLDB prompts again, keystrokes go to the target's stdin.
    t.expect(r"stop reason = breakpoint \d+\.1\n +frame #0: (?:.*\n)*\(lldb\) ")
    listing = t.command("groutine list", until=r"last stop: [^\n]*\n")
    # check-add took the call it stopped in and waits for its return.
    assert re.search(r"check-add\s+waiting on return of call #\d+\s+3 ", listing), listing
    t.send("continue")
    # Until the prompt is back, keystrokes go to the target's stdin.
    t.expect(r"Process \d+ exited with status = 0[^\n]*\n(?:.*\n)*?\(lldb\) ")
    report = t.command("groutine report", until=r"\d+ passed, \d+ failed")
    assert "8 passed, 0 failed" in report, report


def test_commands_that_change_groutines_are_refused_while_the_target_runs(terminal):
    t = terminal
    t.command(f"file {target('calls_O2')}")
    t.command(f"groutine load {example('watch')}")  # hooks nothing until configured
    # Without stdio the process leaves the terminal to the prompt while it runs.
    t.send("process launch --no-stdio -- 1000000000")
    t.expect(r"Process \d+ launched")
    # While the dynamic loader reports libraries, LLDB stops the process for a moment at
    # each: a command may run then. Once the program runs its main loop, every one is refused.
    for _ in range(200):
        t.send("groutine fire ping")
        out = t.expect(r"(error: groutine fire: [^\n]*|no replies)\n")
        if re.search(r"error: groutine fire: [^\n]*\n$", out):
            break
    assert out.rstrip().endswith(
        "error: groutine fire: the process is running: interrupt it first (process interrupt)"), out
    out = t.command("groutine list", until=r"stop-at[^\n]*\n")
    assert re.search(r"stop-at\s+waiting on event 'stop-at'", out), out
    # LLDB prints the prompt before an asynchronous stop's notice, and not again after it.
    t.interrupt()
    out = t.command("groutine fire stop-at function=add after=2",
                    until=r'reply from stop-at \(#3\): "stopping at call 2 of add"')
    t.send("continue")
    t.expect(r"groutine 'stop-at' stopped the target: add called 2 times")
    t.expect(r"stop reason = breakpoint \d+\.1\n +frame #0: ")
    t.command("groutine unload --all", until=r"unloaded 3 groutines")
    t.command("process kill", until=r"Process \d+ exited")


def test_process_exit_is_noticed_at_once_at_an_interactive_prompt(terminal):
    # thrower(3) throws as the last call: its return is awaited when the process exits.
    t = terminal
    t.command(f"file {target('unwind_exception')}")
    t.command(f"groutine load {example('watch')}")
    t.command("groutine fire watch slot=a function=thrower", until=r'"watching thrower"')
    t.send("run 4")
    # No command typed: the exit alone delivers the unwound return...
    t.expect(r"Process \d+ exited with status = 0[^\n]*\n(?:.*\n)*?\(lldb\) ",
             r"\[watch-a\] thrower\(3\) unwound thread \d+\n")
    # ...and takes its return breakpoint away.
    t.send("breakpoint list")
    listing = t.expect(r"Current breakpoints:\n(?:.*\n)*?\(lldb\) ")
    assert "name = 'thrower'" in listing, listing
    assert not re.search(r"^\d+: address = ", listing, re.M), listing


def test_commands_between_hits_that_continue_by_themselves_are_refused_or_harmless(terminal):
    # Every call of add, scale, ... stops the target for a moment, and LLDB's public state
    # reads "stopped" then. A command is refused, or runs between two hits (how often each,
    # depends on the machine's load): either way the target goes on and every call is still
    # delivered.
    t = terminal
    t.command(f"file {target('calls_O2')}")
    t.command(f"groutine load {example('calls_checks')}")
    t.send("process launch --no-stdio -- 1000000000")
    t.expect(r"\[check-add\] add\(2,3\)=5")
    seen = ""
    for _ in range(20):
        t.send("groutine fire ping")
        out = t.expect(r"(error: groutine fire: [^\n]*|no replies)\n")
        assert re.search(r"(error: groutine fire: the process is running[^\n]*|no replies)\n$",
                         out), out
        seen += out
    # The target goes on: calls later than any seen so far keep coming, checked.
    last = max([2] + [int(n) for n in re.findall(r"\[check-add\] add\((\d+),", seen)])
    t.expect(rf"\[check-add\] add\({last + 1},{last + 2}\)={2 * last + 3} ")
    t.interrupt()
    t.command("groutine fire ping", until=r"no replies")
    t.command("process kill", until=r"Process \d+ exited")
