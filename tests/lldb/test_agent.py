"""The agent transport: libgroutines_agent.so, preloaded into the launched target, hands calls
and awaited returns of patched functions to the debugger through shared memory, without a stop.

Each test runs a mode of tests/targets/agent_cases.c, whose functions are what makes patching
hard (a rip-relative first instruction, a branch back into the patched bytes, endbr64, a
signal handler, fork, eight threads, a debugger that goes away), and checks that every call
and return still arrives, with the right values, on the transport it should. Most break at
agent_cases_done(), the target's last call, to read `groutine transport` while the process
exists; the agent's counters die with it."""
import contextlib
import ctypes
import os
import re
import select
import signal
import subprocess
import time

import pytest

from conftest import DEBUGSERVER, LLDB, PLUGIN, TIMEOUT, debug, example, groutine_library, lldb, target
from sessions import agent_counters, subscriptions, totals, without_threads

# CTest runs every suite twice, the second time with GROUTINES_TRANSPORT=breakpoint as the
# plugin's first transport; this one is about the agent.
pytestmark = pytest.mark.skipif(os.environ.get("GROUTINES_TRANSPORT") == "breakpoint",
                                reason="the agent transport's tests (lldb.test_agent runs them)")
DEFAULT_TRANSPORT = os.environ.get("GROUTINES_TRANSPORT", "auto")

AGENT_CASES = target("agent_cases")
CALLS_PER_THREAD = {"lldb": 100_000, "gdb": 20_000}
DONE = "breakpoint set -n agent_cases_done"
BREAK_AT_DONE = {"lldb": DONE, "gdb": "break agent_cases_done"}
# Shows a function's first bytes; and a module list.
FIRST_BYTES = {"lldb": "disassemble -b -n {}", "gdb": "x/5xb {}"}
MODULES = {"lldb": "image list", "gdb": "info sharedlibrary"}

def disassembly(session, function):
    """disassembly() is {offset: bytes} of `disassemble -b -n function`."""
    text = session.after(f"disassemble -b -n {function}")
    return {int(m.group(1)): m.group(2).strip()
            for m in re.finditer(r"<\+(\d+)>: ((?:[0-9a-f]{2} )+)", text)}


def first_bytes(session, debugger, function):
    """first_bytes() are the first 5 bytes of function ("e9", "8b"...) as FIRST_BYTES showed
    them."""
    if debugger == "lldb":
        code = disassembly(session, function)
        return " ".join(code[k] for k in sorted(code)).split()[:5]
    text = session.after(FIRST_BYTES[debugger].format(function))
    return re.findall(r"0x([0-9a-f]{2})\b", text.split(":", 1)[1]) if ":" in text else []


def exited_zero(session):
    """exited_zero() tells whether the target exited with status 0, as either debugger says."""
    return re.search(r"exited with status = 0\b|exited normally", session.output) is not None


def test_a_function_reading_a_global_rip_relative_is_patched_and_served_by_the_agent(debugger):
    n = 200
    s = debug(debugger, f"file {AGENT_CASES}", f"groutine load {example('watch')}",
              "groutine fire watch slot=a function=counter_plus", BREAK_AT_DONE[debugger],
              f"run riprel {n}", "groutine transport", "groutine subscriptions",
              FIRST_BYTES[debugger].format("counter_plus"), "continue")
    # counter = 7 * i before each call: the relocated `mov counter(%rip)` reads the live global.
    assert without_threads(s.logged("watch-a")) == [f"counter_plus({i})={8 * i}" for i in range(n)], s
    assert s.target_lines(r"riprel sum=\d+") == [f"riprel sum={8 * n * (n - 1) // 2}"], s
    transport = s.after("groutine transport")
    assert transport.startswith(f"transport: {DEFAULT_TRANSPORT}\n"), s
    c = agent_counters(transport)
    # The first call is the breakpoint hit that patches; every later call and its return come
    # through the agent, and none passes through it.
    assert c["hits"] == 2 * (n - 1), s
    assert c["nested"] == c["unheld"] == c["no_slot"] == c["shadow_full"] == c["no_host"] == 0, s
    rows, reasons = subscriptions(s.after("groutine subscriptions"))
    assert rows["counter_plus"] == (n, "agent") and not reasons, s
    # The entry is a jmp rel32 to the trampoline now.
    assert first_bytes(s, debugger, "counter_plus")[0] == "e9", s
    assert exited_zero(s), s


def test_a_branch_back_into_the_first_five_bytes_or_a_short_function_stays_on_its_breakpoint(
        debugger):
    n = 10
    s = debug(debugger, f"file {AGENT_CASES}", f"groutine load {example('watch')}",
              "groutine fire watch slot=a function=loop_back",
              "groutine fire watch slot=b function=too_short", BREAK_AT_DONE[debugger],
              f"run fallback {n}", "groutine transport", "groutine subscriptions",
              FIRST_BYTES[debugger].format("loop_back"), "continue")
    assert without_threads(s.logged("watch-a")) == [
        f"loop_back({i % 5 + 1})={(i % 5 + 1) * (i % 5 + 2) // 2}" for i in range(n)], s
    assert without_threads(s.logged("watch-b")) == [
        f"too_short({i})={i + 1}" for i in range(n)], s
    assert s.target_lines(r"fallback .*") == [
        f"fallback loop_back={2 * (1 + 3 + 6 + 10 + 15)} too_short={n * (n + 1) // 2}"], s
    rows, reasons = subscriptions(s.after("groutine subscriptions"))
    assert rows["loop_back"] == (n, "breakpoint") and rows["too_short"] == (n, "breakpoint"), s
    # The code is as it was, and the jg at loop_back+7 is the branch named.
    assert first_bytes(s, debugger, "loop_back")[:2] == ["31", "c0"], s
    if debugger == "lldb":
        assert disassembly(s, "loop_back")[7] == "7f f9", s
        jg = re.search(r"(0x[0-9a-f]+) <\+7>:", s.after("disassemble -b -n loop_back")).group(1)
        assert reasons["loop_back"] == f"a branch at {jg} jumps into the first 5 bytes", s
    else:
        assert re.fullmatch(r"a branch at 0x[0-9a-f]+ jumps into the first 5 bytes",
                            reasons["loop_back"]), s
    assert reasons["too_short"] == "the function is shorter than the 5-byte patch", s
    assert agent_counters(s.after("groutine transport"))["hits"] == 0, s
    assert exited_zero(s), s


def test_an_endbr64_entry_is_kept_and_the_patch_goes_after_it(debugger):
    n = 50
    s = debug(debugger, f"file {AGENT_CASES}", f"groutine load {example('watch')}",
              "groutine fire watch slot=a function=endbr_add args=2", BREAK_AT_DONE[debugger],
              f"run endbr {n}", "groutine transport", "groutine subscriptions",
              FIRST_BYTES[debugger].format("endbr_add"), "continue")
    assert without_threads(s.logged("watch-a")) == [
        f"endbr_add({i},1)={3 * (i + 1)}" for i in range(n)], s
    assert s.target_lines(r"endbr sum=\d+") == [f"endbr sum={3 * n * (n + 1) // 2}"], s
    assert first_bytes(s, debugger, "endbr_add") == ["f3", "0f", "1e", "fa", "e9"], s
    rows, _ = subscriptions(s.after("groutine subscriptions"))
    assert rows["endbr_add"] == (n, "agent"), s
    assert agent_counters(s.after("groutine transport"))["hits"] == 2 * (n - 1), s
    assert exited_zero(s), s


def test_a_hooked_call_from_a_signal_handler_is_delivered_or_passes_through_when_nested_in_the_agent():
    # For even i, outer(i) raises SIGALRM itself: the handler's inner(i) is an ordinary agent
    # hit inside outer's watched frame. For odd i, the kick groutine sends SIGALRM while the
    # thread waits inside the agent for outer(i)'s call to be handled, and holds the call
    # until the handler ran: that inner(i) is nested in the agent and passes through.
    n = 20
    s = lldb(f"file {AGENT_CASES}", f"groutine load {example('watch')}",
             f"groutine load {groutine_library('agent_pitfalls')}",
             "groutine fire watch slot=a function=outer", "groutine fire watch slot=b function=inner",
             "groutine fire kick function=outer", DONE, f"run signal {n}", "groutine transport",
             "groutine subscriptions", "continue", "groutine report")
    assert without_threads(s.logged("watch-a")) == [
        f"outer({i})={2 * i}" for i in range(n)], s
    assert without_threads(s.logged("watch-b")) == [
        f"inner({i})={3 * i + 1}" for i in range(0, n, 2)], s
    assert s.logged("kick") == [f"outer({i}): handled {i} -> {i + 1}" for i in range(1, n, 2)], s
    assert s.target_lines(r"signal .*") == [
        f"signal outer={n * (n - 1)} inner={3 * n * (n - 1) // 2 + n} handled={n}"], s
    c = agent_counters(s.after("groutine transport"))
    assert c["nested"] == n // 2, s
    # Every other call and return came through the agent (the first of each function was the
    # breakpoint hit that patched it).
    assert c["hits"] == 2 * (n - 1) + 2 * (n // 2 - 1), s
    rows, _ = subscriptions(s.after("groutine subscriptions"))
    assert rows["outer"] == (n, "agent") and rows["inner"] == (n // 2, "agent"), s
    assert "exited with status = 0" in s.output, s
    assert re.search(r"^\d+ passed, 0 failed$", s.after("groutine report"), re.M), s


def test_a_fork_inside_a_watched_frame_leaves_the_child_untouched_and_the_parent_return_arrives():
    # Three forks, each inside a call of forker whose return watch-a awaits: the agent replaced
    # its return address. The child returns through it from its copy of the forking thread's
    # watched calls, taken in fork(); the target holds the child in fork() until the parent has
    # returned from forker (and the agent has popped that call in the parent), the order that
    # is hardest on the copy. The parent's return is delivered as usual.
    n, rounds = 5, 3
    s = lldb(f"file {AGENT_CASES}", f"groutine load {example('watch')}",
             f"groutine load {groutine_library('agent_pitfalls')}",
             "groutine fire watch slot=a function=forker", "groutine fire count function=leaf", DONE,
             f"run fork {n} {rounds}", "groutine transport", "groutine subscriptions",
             "groutine fire totals", "continue", "groutine report")
    leaves = n * (n + 1) // 2
    children = [re.fullmatch(r"parent child=(\d+) status=(\d+)", line).groups()
                for line in s.target_lines(r"parent child=.*")]
    assert len(children) == rounds, s
    # Each child called leaf inside forker's frame, returned from it and called leaf again,
    # with the right results, and exited 0.
    crashed = [(pid, status) for pid, status in children if status != "0"]
    assert not crashed, f"children that did not exit 0 (128 + signal): {crashed}\n{s}"
    assert s.target_lines(r"child .*") == [f"child leaf={2 * leaves}"] * rounds, s
    assert s.target_lines(r"parent leaf=\d+") == [f"parent leaf={2 * leaves}"], s
    # The parent's returns of forker arrived, with each child's pid; nothing the children did
    # reached the host (their hooks passed through): count-0 saw the parent's leaf calls only.
    thread = re.search(r"Process (\d+) launched", s.output).group(1)
    assert s.logged("watch-a") == [f"forker(0)=0 thread {thread}"] + [
        f"forker(1)={pid} thread {thread}" for pid, _ in children], s
    assert totals(s, "groutine fire totals") == {
        0: dict(calls=2 * n, returns=2 * n, unwound=0, moved=0, sum=2 * leaves)}, s
    rows, _ = subscriptions(s.after("groutine subscriptions"))
    assert rows["forker"] == (1 + rounds, "agent") and rows["leaf"] == (2 * n, "agent"), s
    # Every call and return but the first call of each function came through the agent.
    assert agent_counters(s.after("groutine transport"))["hits"] == 2 * rounds + 2 * (2 * n - 1), s
    assert "exited with status = 0" in s.output, s
    assert re.search(r"^\d+ passed, 0 failed$", s.after("groutine report"), re.M), s


def test_eight_threads_calling_one_function_without_a_pause_have_every_call_and_return_counted(
        debugger):
    # Under GDB the patch waits for a hit with no other thread at the breakpoint, inside the
    # bytes the jump replaces, or left to GDB to step over (docs/agent.md, "Under GDB"); its
    # deliveries go through the frontend's Python, several times LLDB's cost: fewer calls.
    n = CALLS_PER_THREAD[debugger]
    s = debug(debugger, f"file {AGENT_CASES}",
              f"groutine load {groutine_library('agent_pitfalls')}",
              "groutine fire count function=hot threads=8", BREAK_AT_DONE[debugger],
              f"run threads {n}", "groutine transport", "groutine subscriptions",
              "groutine fire totals", "continue", "groutine report",
              timeout=300)  # ~10 s here, several times that on a busy machine
    sums = [t * 1_000_000 * n + n * (n - 1) // 2 for t in range(8)]
    assert s.target_lines(r"threads sum\[\d\]=\d+") == [
        f"threads sum[{t}]={sums[t]}" for t in range(8)], s
    assert totals(s, "groutine fire totals") == {
        t: dict(calls=n, returns=n, unwound=0, moved=0, sum=sums[t]) for t in range(8)}, s
    rows, _ = subscriptions(s.after("groutine subscriptions"))
    assert rows["hot"] == (8 * n, "agent"), s
    c = agent_counters(s.after("groutine transport"))
    # A call the agent served has its return served too. Only the calls made before the patch
    # were breakpoint hits: it waits for a stop with no other thread at the breakpoint or in
    # the bytes it replaces, which takes a few hundred calls on a loaded machine.
    assert c["hits"] % 2 == 0 and 2 * 8 * n * 99 // 100 <= c["hits"] <= 2 * 8 * n, s
    assert c["nested"] == c["no_slot"] == c["shadow_full"] == c["no_host"] == 0, s
    assert exited_zero(s), s
    assert "9 passed, 0 failed" in s.after("groutine report"), s


def test_the_breakpoint_transport_chosen_before_run_makes_every_hit_a_breakpoint(debugger):
    n = 20
    s = debug(debugger, f"file {AGENT_CASES}", "groutine transport breakpoint",
              f"groutine load {example('watch')}",
              "groutine fire watch slot=a function=counter_plus", BREAK_AT_DONE[debugger],
              f"run riprel {n}", "groutine transport", "groutine subscriptions",
              MODULES[debugger], FIRST_BYTES[debugger].format("counter_plus"), "continue")
    assert s.after("groutine transport breakpoint").startswith("transport: breakpoint\n"), s
    assert s.after("groutine transport").startswith("transport: breakpoint\n"), s
    assert "served by the agent" not in s.after("groutine transport"), s
    assert without_threads(s.logged("watch-a")) == [
        f"counter_plus({i})={8 * i}" for i in range(n)], s
    rows, _ = subscriptions(s.after("groutine subscriptions"))
    assert rows["counter_plus"] == (n, "breakpoint"), s
    # The agent was not preloaded, and the function is as the compiler left it.
    assert "libgroutines_agent.so" not in s.after(MODULES[debugger]), s
    assert first_bytes(s, debugger, "counter_plus")[:2] == ["8b", "05"], s  # mov counter(%rip)
    assert exited_zero(s), s


# --- The debugger going away mid-run ---

PR_SET_CHILD_SUBREAPER = 36
LOOP_CALLS = 100_000


@contextlib.contextmanager
def subreaper():
    """subreaper() makes this process the subreaper of the processes it starts while inside,
    so that a target whose debugger went away is reparented here and its exit status can be
    read; on the way out, every such orphan left (lldb-server, the target) is reaped."""
    libc = ctypes.CDLL(None, use_errno=True)
    assert libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0, os.strerror(ctypes.get_errno())
    try:
        yield
    finally:
        libc.prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)
        # lldb-server goes away on its own once LLDB did: reap it, waiting a little for it.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if os.waitpid(-1, os.WNOHANG)[0] == 0:
                    time.sleep(0.05)
            except ChildProcessError:
                break


@pytest.fixture
def orphans():
    with subreaper():
        yield


class Fifo:
    """Fifo is a named pipe the target writes its progress to, read with timeouts."""

    def __init__(self, path):
        self.path = str(path)
        os.mkfifo(self.path)
        self.fd = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK)
        self.text = ""

    def wait_for(self, pattern, timeout):
        """wait_for() is the match of regex pattern in what the target wrote, waiting at most
        timeout seconds for it; None when the time is up or the writer closed first."""
        deadline = time.monotonic() + timeout
        while not (m := re.search(pattern, self.text, re.M)):
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.fd], [], [], left)[0]:
                return None
            chunk = os.read(self.fd, 4096)
            if not chunk:  # the writer closed (a reader sees no EOF before a writer opened)
                return None
            self.text += chunk.decode()
        return m

    def close(self):
        os.close(self.fd)


def exit_status(pid, timeout):
    """exit_status() waits at most timeout seconds for orphan pid (reparented to this process)
    to end, reaps it and is its exit code (negative: killed by that signal), or None."""
    fd = os.pidfd_open(pid)
    try:
        if not select.select([fd], [], [], timeout)[0]:
            return None
    finally:
        os.close(fd)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


class Loop:
    """Loop is LLDB running `agent_cases loop` with count-0 awaiting every return of tick, from
    the moment the target is 1,000 calls into its loop, with tick patched. Leaving it kills and
    reaps whatever is left: LLDB, and the target (an orphan of this process by then)."""

    def __init__(self, tmp_path):
        self.fifo = Fifo(tmp_path / "progress")
        self.log = open(tmp_path / "lldb.out", "w+")
        args = [LLDB, "--batch", "--no-lldbinit", "-o", f"plugin load {PLUGIN}",
                "-o", f"file {AGENT_CASES}",
                "-o", f"groutine load {groutine_library('agent_pitfalls')}",
                "-o", "groutine fire count function=tick",
                "-o", f"run loop {LOOP_CALLS} {self.fifo.path}"]
        self.lldb = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL,
                                     env=dict(os.environ, LLDB_DEBUGSERVER_PATH=DEBUGSERVER))
        self.pid = None
        self.status = None

    def __enter__(self):
        started = self.fifo.wait_for(r"^started pid (\d+) entry (0x[0-9a-f]+)$", TIMEOUT)
        if not started:
            self.__exit__()
            pytest.fail(f"the target did not start its loop:\n{self.output()}")
        self.pid = int(started.group(1))
        # tick's entry jumps to its trampoline: its calls are served by the agent.
        assert started.group(2) == "0xe9", f"tick is not patched: {self.fifo.text!r}"
        return self

    def output(self):
        self.log.seek(0)
        return self.log.read()

    def finished(self, timeout):
        """finished() is the target's exit status once it wrote that it is done, within timeout
        seconds, or None."""
        done = self.fifo.wait_for(r"^done sum=(\d+)$", timeout)
        if not done:
            return None
        assert int(done.group(1)) == LOOP_CALLS * (LOOP_CALLS + 1) // 2, self.fifo.text
        self.status = exit_status(self.pid, TIMEOUT)
        return self.status

    def __exit__(self, *exc):
        if self.lldb.poll() is None:
            self.lldb.kill()
        self.lldb.wait(timeout=TIMEOUT)
        if self.pid is not None and self.status is None:
            if exit_status(self.pid, 10) is None:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
        self.fifo.close()
        self.log.close()


def test_a_target_finishes_on_its_own_when_its_debugger_is_killed_mid_run(tmp_path, orphans):
    with Loop(tmp_path) as loop:
        loop.lldb.send_signal(signal.SIGKILL)
        loop.lldb.wait(timeout=TIMEOUT)  # its parent reaps it, as a shell would
        status = loop.finished(10)
        assert status is not None, (
            f"the target did not finish within 10 s of its debugger's death: {loop.fifo.text!r}")
        assert status == 0


def test_a_target_does_not_wait_for_a_killed_debugger_its_parent_has_not_reaped_yet(tmp_path,
                                                                                       orphans):
    # A dead process stays a zombie until its parent waits for it, and kill(pid, 0) succeeds on
    # a zombie: a liveness check made only that way holds the target for as long, or makes each
    # of its hooked calls wait for a timeout.
    with Loop(tmp_path) as loop:
        dead = os.pidfd_open(loop.lldb.pid)
        try:
            loop.lldb.send_signal(signal.SIGKILL)
            assert select.select([dead], [], [], TIMEOUT)[0], "lldb did not die"
        finally:
            os.close(dead)
        status = loop.finished(3)
        assert status is not None, ("the target waited for its killed debugger, a zombie not "
                                    f"reaped yet, for more than 3 s: {loop.fifo.text!r}")
        assert status == 0


@pytest.fixture(scope="module")
def detached(tmp_path_factory):
    """detached runs `agent_cases loop` under LLDB until the stop-at groutine stops it at the
    2,000th call of tick (count-0 awaiting every return), detaches, and follows the target to
    its end: the LLDB session, what the target wrote, and its exit status."""
    tmp = tmp_path_factory.mktemp("detached")
    with subreaper():
        fifo = Fifo(tmp / "progress")
        try:
            s = lldb(f"file {AGENT_CASES}", f"groutine load {groutine_library('agent_pitfalls')}",
                     f"groutine load {example('watch')}", "groutine fire count function=tick",
                     "groutine fire stop-at function=tick after=2000",
                     f"run loop {LOOP_CALLS} {fifo.path}", "groutine transport", "process detach",
                     "groutine fire totals when=detached", "groutine report")
            started = fifo.wait_for(r"^started pid (\d+)", 10)
            assert started, s
            done = fifo.wait_for(r"^done sum=(\d+)$", 20)
            status = exit_status(int(started.group(1)), 20) if done else None
            yield s, done, status
        finally:
            fifo.close()


def test_a_target_detached_mid_run_finishes_with_its_normal_output_and_exit_status(detached):
    s, done, status = detached
    assert "stopped the target: tick called 2000 times" in s.output, s
    assert agent_counters(s.after("groutine transport"))["hits"] >= 2 * (2000 - 2), s
    assert re.search(r"^Process \d+ detached$", s.output, re.M), s
    assert done, f"the detached target did not finish:\n{s}"
    assert int(done.group(1)) == LOOP_CALLS * (LOOP_CALLS + 1) // 2
    assert status == 0


def test_no_call_reaches_a_groutine_once_the_debugger_detached(detached):
    s, _, _ = detached
    # count-0 awaited the return of the 2,000th call, the one stopped at; the detach gives it up
    # (unwound) or lets it return, and count-0 hears totals.
    # The host notices the detach within its heartbeat (10 ms, the process no longer traced):
    # calls in that window may still come; the rest of the run (98,000 calls) may not.
    reply = s.after("groutine fire totals when=detached")
    after = totals(s, "groutine fire totals when=detached")
    assert 2000 <= after.get(0, {}).get("calls", 0) < 2000 + (LOOP_CALLS - 2000) // 10, (
        "calls of tick made after `process detach` reached count-0 "
        + (f"({after[0]['calls'] - 2000} of them)" if 0 in after else
           "(no reply: it was awaiting the return of one)") + f":\n{reply}")


def test_a_breakpoint_of_the_users_on_a_hooked_function_stops_at_the_function_every_time():
    # Set before the run: the hook stays on its breakpoint (both stop there anyway), every
    # stop is at add's first instruction (never in the agent or a trampoline), every call is
    # delivered.
    n = 4
    s = lldb(f"file {target('calls_O0_g')}", f"groutine load {example('readme')}", "b add",
             f"run {n}", *["continue"] * n, "groutine report")
    frames = [line for line in s.lines() if line.strip().startswith("frame #0:")]
    assert len(frames) == n and all("calls_O0_g`add" in f for f in frames), s
    assert f"PASS add is right (waiting on call of add, {2 * n} events)" in s.output, s


def test_two_names_for_one_address_are_one_hook_and_each_name_hears_every_call_and_return():
    n = 50
    s = lldb(f"file {AGENT_CASES}", f"groutine load {example('watch')}",
             "groutine fire watch slot=a function=counter_plus",
             "groutine fire watch slot=b function=plus_alias", DONE, f"run alias {n}",
             "groutine subscriptions", "continue")
    # The first call is the breakpoint hit that patches (two breakpoints at one address, one
    # hook as well); every later one is the agent's.
    assert without_threads(s.logged("watch-a")) == [
        f"counter_plus({i})={8 * i}" for i in range(n)], s
    assert without_threads(s.logged("watch-b")) == [
        f"plus_alias({i})={8 * i}" for i in range(n)], s
    subs = s.after("groutine subscriptions")
    assert re.search(r"^counter_plus\s.*\sagent$", subs, re.M), s
    assert re.search(r"^plus_alias\s.*\sagent$", subs, re.M), s
