"""The process side of a `groutines run`, whatever the debugger: the standard streams the
target gets, its environment, the status line on the terminal, the --timeout watchdog and the
signals that end the run."""
import os
import signal as _signal
import stat
import sys
import threading
import time

from ._files import _AT_HARD_EXIT, hard_exit, run_dir
from ._report import EXIT_TIMEOUT

# Seconds after --timeout at which a runner whose debugger does not stop the target exits.
_HARD_TIMEOUT = 10

# The standard descriptors (0, 1, 2) that were closed when the runner started (see
# reserve_stdio()).
_CLOSED_STDIO = set()


def reserve_stdio():
    """reserve_stdio() opens /dev/null on each of the descriptors 0, 1 and 2 that is closed,
    and remembers it in _CLOSED_STDIO: a pipe or file the runner opens later must not land
    there (the target would get it as its stdin), the runner writes to a closed stdout or
    stderr as to a terminal nobody reads (Python gives sys.stdout, sys.stderr None for a
    closed one: they get a stream on the descriptor), and the target gets it closed, as a
    shell would give it (Stdio)."""
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            null = os.open(os.devnull, os.O_RDWR)
            if null != fd:
                os.dup2(null, fd)
                os.close(null)
            os.set_inheritable(fd, True)
            _CLOSED_STDIO.add(fd)
    for fd, name in ((1, "stdout"), (2, "stderr")):
        if getattr(sys, name) is None:
            setattr(sys, name, open(fd, "w", closefd=False))


class Stdio:
    """Stdio gives the target the runner's stdin, stdout and stderr: the very pipe, terminal
    or device through /proc/PID/fd/N, and a regular file through a FIFO copied by a thread
    (opening the file again would write from its start over what is there). One that was
    closed when the runner started is /dev/null at the launch and in `closed`: the runner
    closes it in the target at main."""

    def __init__(self):
        self.paths = {}
        self.relays = []
        self.closed = sorted(_CLOSED_STDIO)
        for fd in (0, 1, 2):
            try:
                st = os.fstat(fd)
            except OSError:
                st = None
            if st is None or fd in _CLOSED_STDIO:
                self.paths[fd] = "/dev/null"
                continue
            if fd != 0 and stat.S_ISREG(st.st_mode):
                fifo = os.path.join(run_dir(), f"fd{fd}")
                os.mkfifo(fifo)
                relay = threading.Thread(target=self._copy, args=(fifo, fd), daemon=True)
                relay.start()
                self.relays.append((relay, fifo))
                self.paths[fd] = fifo
            else:
                self.paths[fd] = f"/proc/{os.getpid()}/fd/{fd}"

    @staticmethod
    def _copy(fifo, fd):
        src = os.open(fifo, os.O_RDONLY)
        try:
            while True:
                data = os.read(src, 65536)
                if not data:
                    return
                while data:
                    data = data[os.write(fd, data):]
        finally:
            os.close(src)

    def close(self):
        """close() waits (briefly) for the relays to copy what the target wrote."""
        for relay, fifo in self.relays:
            try:  # unblock a relay whose FIFO was never opened by a writer
                os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
            except OSError:
                pass
            relay.join(10)
        # The FIFOs go with the run's directory (remove_run_dir()).


# What Python's locale coercion (PEP 538) sets LC_CTYPE to in its own environment when the
# locale is C or POSIX.
_COERCED_LC_CTYPE = (b"C.UTF-8", b"C.utf8", b"UTF-8")


def target_environment():
    """target_environment() is the environment the target gets, as bytes: the runner's own,
    without the LC_CTYPE that Python's locale coercion (PEP 538) added to it at the runner's
    start (the variable is not in the environment the runner was started with,
    /proc/self/environ)."""
    env = dict(os.environb)
    if env.get(b"LC_CTYPE") in _COERCED_LC_CTYPE:
        try:
            with open("/proc/self/environ", "rb") as f:
                started_with = f.read().split(b"\0")
        except OSError:
            return env
        if not any(entry.startswith(b"LC_CTYPE=") for entry in started_with):
            del env[b"LC_CTYPE"]
    return env


class StatusLine:
    """StatusLine shows the elapsed time, events per second and failures so far on the
    terminal's last row, kept out of a scroll region that holds everything else (as apt
    does): what the target, the groutines and the runner write scrolls above it, never glued
    to it nor erased by it. Each update is one write() of save cursor, draw, restore cursor,
    which a terminal does not interleave with other writes. No status on a terminal of
    unknown size (fewer than 3 rows)."""

    INTERVAL = 0.5  # seconds between updates

    def __init__(self, stream, runtime):
        self.fd = stream.fileno()
        self.runtime = runtime
        self.lock = threading.Lock()
        self.rows = None      # the terminal's rows while the last one is reserved, else None
        self.paused = False
        self.stopped = threading.Event()
        self.start = time.monotonic()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()
        _AT_HARD_EXIT.append(self._release_at_exit)

    def _release_at_exit(self):
        self.stopped.set()
        if self.lock.acquire(timeout=1):
            try:
                self._release()
            finally:
                self.lock.release()

    def _write(self, text):
        try:
            os.write(self.fd, text.encode(errors="replace"))
        except OSError:
            pass

    def _reserve(self):
        """_reserve() keeps the last row out of the scroll region (again after a resize);
        the rows, or None on a terminal of unknown size. Under the lock."""
        try:
            size = os.get_terminal_size(self.fd)
        except OSError:
            return None
        if size.lines < 3:
            return None
        if size.lines != self.rows:
            # A newline makes room at the bottom, the region ends above the last row (setting
            # it homes the cursor: saved and restored around it), the cursor goes back up.
            first = self.rows is None
            self._write(("\n" if first else "") + f"\0337\033[1;{size.lines - 1}r\0338"
                        + ("\033[1A" if first else ""))
            self.rows = size.lines
        return size

    def _release(self):
        """_release() gives the terminal its whole height back and clears the status row.
        Under the lock."""
        if self.rows is not None:
            self._write(f"\0337\033[r\033[{self.rows};1H\033[2K\0338")
            self.rows = None

    def _loop(self):
        last_events, last_t = 0, self.start
        while not self.stopped.wait(self.INTERVAL):
            try:
                gs = self.runtime.groutines()
            except Exception:
                return
            events = sum(g["events_handled"] for g in gs)
            failures = sum(len(g["failures"]) for g in gs)
            now = time.monotonic()
            rate = (events - last_events) / max(now - last_t, 1e-6)
            last_events, last_t = events, now
            text = (f"[groutines] {now - self.start:6.1f}s  {events} events ({rate:.0f}/s)  "
                    f"{failures} failures")
            with self.lock:
                if self.paused or self.stopped.is_set():
                    continue
                size = self._reserve()
                if size is not None:
                    self._write(f"\0337\033[{size.lines};1H\033[2K"
                                f"{text[:max(size.columns - 1, 0)]}\0338")

    def pause(self):
        """pause() clears the status and gives the terminal back (for an interactive
        session) until resume()."""
        with self.lock:
            self.paused = True
            self._release()

    def resume(self):
        with self.lock:
            self.paused = False

    def close(self):
        if self._release_at_exit in _AT_HARD_EXIT:
            _AT_HARD_EXIT.remove(self._release_at_exit)
        self.stopped.set()
        self.thread.join(2)
        with self.lock:
            self._release()


class Watchdog:
    """Watchdog ends a run at --timeout: it interrupts the target through the driver (again
    every second until the runner has seen it stop), and when the debugger does not stop it
    within _HARD_TIMEOUT seconds (a groutine that never yields holds it), it kills the target
    and exits the runner with EXIT_TIMEOUT."""

    def __init__(self, seconds, driver, report):
        self.seconds = seconds
        self.driver = driver
        self.report = report
        self.fired = threading.Event()  # the timeout expired
        self.seen = threading.Event()   # the runner saw the target stopped after it
        self.done = threading.Event()   # the run is over
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self):
        if self.done.wait(self.seconds):
            return
        self.fired.set()
        deadline = time.monotonic() + _HARD_TIMEOUT
        while not self.done.is_set():
            if time.monotonic() > deadline:
                self._give_up()
            if not self.seen.is_set():
                self.driver.interrupt()
            self.done.wait(1)

    def _give_up(self):
        _kill(self.driver.pid())  # nothing left behind: the target dies with the runner
        self.report.write(f"error: groutines run: the debugger did not stop the target "
                          f"within {_HARD_TIMEOUT}s of the timeout; giving up\n")
        self.report.flush()
        hard_exit(EXIT_TIMEOUT)

    def close(self):
        self.done.set()
        self.thread.join(5)


class Interrupts:
    """Interrupts ends the run when the runner gets SIGTERM, SIGHUP or SIGINT: it kills the
    target (nothing is left running) and exits with 128 + the signal; a SIGINT during an
    interactive session is that session's Ctrl-C. The main thread is blocked in the debugger
    meanwhile, where no Python handler runs; Python's C-level handler writes the signal to a
    wakeup pipe at once, which a thread here reads. (A handled signal is reset to its default
    on exec: the target does not inherit the handlers.)"""

    SIGNALS = (_signal.SIGTERM, _signal.SIGHUP, _signal.SIGINT)

    def __init__(self, report):
        self.report = report
        self.driver = None  # the Driver, once the target is launched
        # The Driver while an interactive session has the terminal: SIGINT is its Ctrl-C
        # then, not the end of the run.
        self.interactive = None
        # Held from the signal on: the main thread, which sees the target die of the kill,
        # must not report that death as the run's end (see settle()).
        self._ending = threading.Lock()
        read, write = os.pipe()
        os.set_blocking(write, False)
        for signo in self.SIGNALS:
            _signal.signal(signo, lambda *_: None)
        _signal.set_wakeup_fd(write)
        threading.Thread(target=self._wait, args=(read,), daemon=True).start()

    def _wait(self, read):
        while True:
            data = os.read(read, 1)
            if not data or data[0] not in self.SIGNALS:
                continue
            if data[0] == _signal.SIGINT and self.interactive is not None:
                self.interactive.interrupt_prompt()  # Ctrl-C at the debugger's prompt
                continue
            break
        signo = data[0]
        self._ending.acquire()
        if self.driver is not None:
            _kill(self.driver.pid())
        name = _signal.Signals(signo).name
        self.report.write(f"groutines run: interrupted by {name}; the target was killed\n")
        self.report.flush()
        hard_exit(128 + signo)

    def settle(self):
        """settle() returns at once, unless a signal is ending the run: then it never returns
        (the interrupting thread exits the process)."""
        with self._ending:
            pass


def foreground_of(fd):
    """foreground_of() is whether fd is a terminal the runner is in the foreground of."""
    try:
        return os.isatty(fd) and os.tcgetpgrp(fd) == os.getpgrp()
    except OSError:
        return False


def _kill(pid):
    """_kill() kills process pid with SIGKILL, if it is still there; nothing when pid is None
    or 0 (no process: os.kill(0) would kill the runner's own process group)."""
    if not pid:
        return
    try:
        os.kill(pid, _signal.SIGKILL)
    except (OSError, ValueError):
        pass
