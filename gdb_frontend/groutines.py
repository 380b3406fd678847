"""groutines for GDB: `(gdb) source <prefix>/share/groutines/gdb/groutines.py` (or
build/gdb/groutines.py) adds the `groutine` commands. One line a user may put in ~/.gdbinit.

It finds the groutines Python package beside itself, in ../python (build/python in a build
tree, <prefix>/share/groutines/python installed), or where GROUTINES_PYTHON_DIR says, and the
frontend's own package (groutines_gdb/) in its own directory. Sourcing it again does nothing
more. Nothing is loaded from the program's directory."""
import os
import sys


def _package_dir(here):
    """_package_dir() is the directory that holds the groutines package (groutines/_host.py)."""
    def has_package(d):
        return os.path.isfile(os.path.join(d, "groutines", "_host.py"))

    env = os.environ.get("GROUTINES_PYTHON_DIR")
    if env:
        if has_package(env):
            return env
        raise RuntimeError(f"GROUTINES_PYTHON_DIR is '{env}', which holds no groutines Python "
                           "package (groutines/_host.py)")
    looked = []
    for d in dict.fromkeys([here, os.path.dirname(os.path.realpath(__file__))]):
        candidate = os.path.normpath(os.path.join(d, "..", "python"))
        if has_package(candidate):
            return candidate
        looked.append(candidate)
    raise RuntimeError("the GDB frontend needs the groutines Python package, which is not "
                       f"beside it (looked in {', '.join(looked)}; set GROUTINES_PYTHON_DIR to "
                       "the directory that holds groutines/)")


def _start():
    here = os.path.dirname(os.path.abspath(__file__))
    # The package first: this file's own directory holds a groutines.py (this one).
    for at, d in enumerate((_package_dir(here), here)):
        if d in sys.path:
            sys.path.remove(d)
        sys.path.insert(at, d)
    import groutines_gdb
    groutines_gdb.start()


try:
    _start()
except Exception as e:  # one clear line in GDB, not a traceback
    import gdb
    gdb.write(f"error: groutines: {e}\n", gdb.STDERR)
