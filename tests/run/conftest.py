"""Shared helpers of the `groutines run` tests: run() starts scripts/groutines over the build
with a timeout and returns its exit code, stdout and stderr (the report)."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

SOURCE = Path(os.environ.get("GROUTINES_SOURCE_DIR", Path(__file__).resolve().parents[2]))
BUILD = Path(os.environ.get("GROUTINES_BUILD_DIR", SOURCE / "build"))
TARGETS = Path(os.environ.get("GROUTINES_TARGETS_DIR", BUILD / "tests" / "targets"))
SCRIPTS = Path(__file__).resolve().parent / "scripts"
LAUNCHER = SOURCE / "scripts" / "groutines"

# Every run must end within this many seconds, or the test fails.
TIMEOUT = 60


class Run:
    def __init__(self, code, stdout, stderr):
        self.code = code
        self.stdout = stdout
        self.stderr = stderr

    def __repr__(self):
        return f"exit {self.code}\n--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}"


def target(name):
    path = TARGETS / name
    assert path.exists(), f"test program {path} is not built"
    return str(path)


def script(name):
    return str(SCRIPTS / name)


def run(*args, stdin=None, cwd=None, timeout=TIMEOUT, env=None):
    """run() runs `groutines run ARGS...` and returns a Run; env: variables to add or
    change."""
    env = {**os.environ, "GROUTINES_BUILD_DIR": str(BUILD), **(env or {})}
    try:
        proc = subprocess.run([sys.executable, str(LAUNCHER), "run", *map(str, args)],
                              input=stdin if stdin is not None else "", capture_output=True,
                              text=True, timeout=timeout, env=env, cwd=cwd)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"groutines run did not end within {timeout}s: {args}\n{e.stderr}")
    return Run(proc.returncode, proc.stdout, proc.stderr)


class Terminal:
    """Terminal runs `groutines run ARGS...` on a new pseudo-terminal of rows x columns, as its
    stdin (unless stdin names a file), stdout, stderr and controlling terminal (the runner
    in its foreground). expect() waits for output; every wait has a deadline and fails the
    test when it passes."""

    def __init__(self, *args, rows=24, columns=100, stdin=None):
        import fcntl
        import pty
        import struct
        import termios
        self.output = b""
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: size its terminal, then become the runner
            try:
                fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
                if stdin is not None:
                    os.dup2(os.open(stdin, os.O_RDONLY), 0)
                os.environ["GROUTINES_BUILD_DIR"] = str(BUILD)
                os.execv(sys.executable, [sys.executable, str(LAUNCHER), "run", *map(str, args)])
            finally:
                os._exit(127)
        self.status = None

    def _read(self, deadline):
        """_read() adds what the terminal shows until deadline; False at its end (EOF)."""
        import select
        import time
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.fd], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(self.fd, 65536)
                except OSError:  # EIO: every writer closed the terminal
                    return False
                if not chunk:
                    return False
                self.output += chunk
                return True
        return True

    def expect(self, text, timeout=TIMEOUT):
        """expect() waits until the output holds text (bytes) after what was expected before;
        returns the output up to it."""
        import time
        deadline = time.monotonic() + timeout
        start = getattr(self, "_seen", 0)
        while text not in self.output[start:]:
            if time.monotonic() >= deadline or not self._read(deadline):
                self.close()
                pytest.fail(f"the terminal never showed {text!r}:\n{self.output!r}")
        self._seen = self.output.index(text, start) + len(text)
        return self.output[:self._seen]

    def send(self, text):
        os.write(self.fd, text.encode())

    def wait(self, timeout=TIMEOUT):
        """wait() reads to the end and returns the runner's exit code."""
        import time
        deadline = time.monotonic() + timeout
        while self._read(deadline):
            if time.monotonic() >= deadline:
                self.close()
                pytest.fail(f"groutines run did not end within {timeout}s:\n{self.output!r}")
        self.close()
        return self.status

    def close(self):
        """close() waits for the runner's end (killing it after TIMEOUT) and closes the
        terminal."""
        if self.status is not None:
            return
        import signal
        import threading
        ended = threading.Event()

        def kill_late():
            if not ended.wait(TIMEOUT):
                os.kill(self.pid, signal.SIGKILL)
        killer = threading.Thread(target=kill_late, daemon=True)
        killer.start()
        _, status = os.waitpid(self.pid, 0)
        ended.set()
        killer.join()
        self.status = os.waitstatus_to_exitcode(status)
        os.close(self.fd)
