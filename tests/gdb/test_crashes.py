"""A C++ groutine's fatal mistakes end that groutine, not the debugger, under GDB as under
LLDB (the core contains them inside either debugger's process): a stack overflow on its fiber
stack, abort(), std::terminate(), and a library whose static initialiser throws."""
import pytest

from conftest import DEBUGGERS, debug, gdb, groutine_library, target

ADDS = ["add(0,1)", "add(1,2)", "add(2,3)"]


@pytest.mark.parametrize("debugger", DEBUGGERS)
def test_a_stack_overflow_fails_the_groutine_and_the_others_go_on(debugger):
    s = debug(debugger, f"file {target('calls_O0_g')}",
              f"groutine load {groutine_library('crash_overflow')}", "run 3", "groutine report")
    assert s.returncode == 0, s
    report = s.after("groutine report")
    assert "stack overflow (fiber stack 1024 KiB; set GROUTINES_STACK_SIZE to raise it)" in \
        report, s
    assert s.logged("survives") == ADDS, s
    assert s.target_lines(r"add\(.*") == ["add(0,1)=1", "add(1,2)=3", "add(2,3)=5"], s
    assert "1 passed, 1 failed" in report, s


@pytest.mark.parametrize("debugger", DEBUGGERS)
def test_abort_and_terminate_fail_the_groutine_with_the_reason_and_the_others_go_on(debugger):
    s = debug(debugger, f"file {target('calls_O0_g')}",
              f"groutine load {groutine_library('crash_abort')}", "run 3", "groutine report")
    assert s.returncode == 0, s
    report = s.after("groutine report")
    assert "abort() called" in report, s
    assert "std::terminate: std::runtime_error: thrown by a destructor" in report, s
    assert s.logged("survives") == ADDS, s
    assert "1 passed, 2 failed" in report, s


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
