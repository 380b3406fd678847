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


def run(*args, stdin=None, cwd=None, timeout=TIMEOUT):
    """run() runs `groutines run ARGS...` and returns a Run."""
    env = dict(os.environ, GROUTINES_BUILD_DIR=str(BUILD))
    try:
        proc = subprocess.run([sys.executable, str(LAUNCHER), "run", *map(str, args)],
                              input=stdin if stdin is not None else "", capture_output=True,
                              text=True, timeout=timeout, env=env, cwd=cwd)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"groutines run did not end within {timeout}s: {args}\n{e.stderr}")
    return Run(proc.returncode, proc.stdout, proc.stderr)
