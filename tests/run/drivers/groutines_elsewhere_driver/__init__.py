"""groutines_elsewhere_driver: a driver package for the tests (`--debugger elsewhere`) that runs
the runner in another process, as the driver of a debugger whose Python is its own must (GDB's:
`import gdb` works only inside GDB). run_elsewhere() starts /usr/bin/python3 on bootstrap.py,
which runs groutines.run.main(argv, driver=...) there with the LLDB driver, and returns the exit
status of that process."""
import os
import subprocess
import sys

import groutines


def run_elsewhere(argv):
    """run_elsewhere() runs `groutines run argv` in a new process and returns its exit code."""
    sys.stderr.write(f"elsewhere: the outer runner is process {os.getpid()}\n")
    sys.stderr.flush()
    package_dir = os.path.dirname(os.path.dirname(os.path.abspath(groutines.__file__)))
    bootstrap = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bootstrap.py")
    env = dict(os.environ, PYTHONPATH=package_dir)
    return subprocess.run([sys.executable, bootstrap, *argv], env=env).returncode
