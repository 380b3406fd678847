"""A C++ groutine's fatal mistakes end that groutine, not the debugger: a stack overflow on its
fiber stack, abort(), std::terminate() (an exception escaping a destructor), and a library
whose static initialiser throws. LLDB survives, the failure says why, the other groutines keep
receiving events and the target runs to its end."""
import re

from conftest import driver, lldb, target, groutine_library

ADDS = ["add(0,1)", "add(1,2)", "add(2,3)"]


def failure(report, groutine):
    """failure() is the message of groutine's failure in `groutine report`."""
    m = re.search(rf"^FAIL\s+{re.escape(groutine)}\b.*$\n((?:\s+.*\n?)*)", report, re.M)
    assert m, report
    return m.group(0)


def test_a_stack_overflow_fails_the_groutine_and_the_others_go_on():
    s = lldb(f"file {target('calls_O0_g')}", f"groutine load {groutine_library('crash_overflow')}",
             "run 3", "groutine list", "groutine report")
    assert s.returncode == 0, s
    assert "stack overflow (fiber stack 1024 KiB; set GROUTINES_STACK_SIZE to raise it)" in \
        s.after("groutine report"), s
    assert s.logged("survives") == ADDS, s
    assert s.target_lines(r"add\(.*") == ["add(0,1)=1", "add(1,2)=3", "add(2,3)=5"], s
    assert "exited with status = 0" in s.output, s
    assert "1 passed, 1 failed" in s.after("groutine report"), s


def test_abort_and_terminate_fail_the_groutine_with_the_reason_and_the_others_go_on():
    s = lldb(f"file {target('calls_O0_g')}", f"groutine load {groutine_library('crash_abort')}",
             "run 3", "groutine report")
    assert s.returncode == 0, s
    report = s.after("groutine report")
    assert "abort() called" in report, s
    assert "std::terminate: std::runtime_error: thrown by a destructor" in report, s
    assert s.logged("survives") == ADDS, s
    assert "exited with status = 0" in s.output, s
    assert "1 passed, 2 failed" in report, s


def test_a_library_whose_static_initialiser_throws_is_a_load_error_and_nothing_else_changes():
    bad = groutine_library("crash_initialiser")
    s = driver(f"file {target('calls_O0_g')}",
               f"groutine load {groutine_library('crash_overflow')}",
               f"groutine load {bad}",
               "groutine list", "run 3", "groutine report")
    assert s.after(f"groutine load {bad}").strip() == (
        f"error: groutine load: cannot load '{bad}': a static initialiser threw "
        "std::runtime_error: no configuration file"), s
    listed = s.after("groutine list")
    assert "never-loaded" not in listed and "survives" in listed, s
    assert s.logged("survives") == ADDS, s
    assert "exited with status = 0" in s.output, s
