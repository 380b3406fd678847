"""The runner inside another process (groutines_elsewhere_driver.run_elsewhere()): as a GDB driver
runs it in GDB's Python, with a driver object made there."""
import os
import sys

import groutines_lldb_driver
from groutines import run

sys.stderr.write(f"elsewhere: the run is process {os.getpid()}\n")
sys.stderr.flush()
code = run.main(sys.argv[1:], driver=groutines_lldb_driver.driver())
sys.stdout.flush()
sys.stderr.flush()
os._exit(code)  # the debugger's threads must not keep a finished run alive
