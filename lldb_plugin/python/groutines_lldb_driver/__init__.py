"""groutines_lldb_driver: the LLDB driver of `groutines run` (`--debugger lldb`, the default).

The runner (groutines.run) is debugger-neutral; this package is all of it that touches LLDB:
LLDB's Python module, an SBDebugger with the groutines plugin loaded, the target's launch
and its process events. It lives with the LLDB adapter (lldb_plugin/python/) and the build
copies it beside the groutines package (build/python/groutines_lldb_driver/). See the Driver
interface in groutines/_driver.py and docs/run.md, "Drivers".
"""
from .lldb_driver import LldbDriver, import_lldb

__all__ = ["LldbDriver", "driver", "import_lldb"]


def driver():
    """driver() is the LLDB driver of a run in this process (LLDB's Python module imports in
    /usr/bin/python3, the Python that LLDB embeds)."""
    return LldbDriver()
