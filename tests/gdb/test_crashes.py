"""A C++ groutine's library whose static initialiser throws is a load error under GDB, and
nothing else changes. (The stack overflow, abort() and std::terminate() are
tests/lldb/test_crashes.py, run under GDB as gdb.shared.test_crashes.)"""
from conftest import gdb, groutine_library, target

ADDS = ["add(0,1)", "add(1,2)", "add(2,3)"]


def test_a_library_whose_static_initialiser_throws_is_a_load_error():
    # (lldb --batch stops at a failed command: tests/lldb/test_crashes.py drives LLDB for it.)
    bad = groutine_library("crash_initialiser")
    s = gdb(f"file {target('calls_O0_g')}",
            f"groutine load {groutine_library('crash_overflow')}", f"groutine load {bad}",
            "groutine list", "run 3")
    assert (f"error: groutine load: cannot load '{bad}': a static initialiser threw "
            "std::runtime_error: no configuration file") in s.lines(), s
    listed = s.after("groutine list")
    assert "never-loaded" not in listed and "survives" in listed, s
    assert s.logged("survives") == ADDS, s
