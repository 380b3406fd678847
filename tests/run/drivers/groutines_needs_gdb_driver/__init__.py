"""groutines_needs_gdb_driver: a driver package for the tests (`--debugger needs_gdb`) that cannot
import outside its debugger, as a GDB driver that imports gdb at its top would not."""
import gdb  # noqa: F401  (only inside GDB)


def driver():
    raise AssertionError("never reached: the import fails")
