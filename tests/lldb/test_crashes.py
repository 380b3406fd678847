"""A C++ groutine's fatal mistakes end that groutine, not the debugger: a stack overflow on its
fiber stack, abort(), std::terminate() (an exception escaping a destructor), and a library
whose static initialiser throws. LLDB survives, the failure says why, the other groutines keep
receiving events and the target runs to its end. The stack overflow and abort() run under
GDB as well."""
import os
import re
import signal
import subprocess

import pytest

from conftest import (DEBUGSERVER, LLDB, PLUGIN, TIMEOUT, debug, driver, groutine_library, lldb,
                      target)

ADDS = ["add(0,1)", "add(1,2)", "add(2,3)"]


# How the debugger says the target ran to its end.
EXITED = {"lldb": "exited with status = 0", "gdb": "exited normally"}


def test_a_stack_overflow_fails_the_groutine_and_the_others_go_on(debugger):
    s = debug(debugger, f"file {target('calls_O0_g')}",
              f"groutine load {groutine_library('crash_overflow')}", "run 3", "groutine list",
              "groutine report")
    assert s.returncode == 0, s
    assert "stack overflow (fiber stack 1024 KiB; set GROUTINES_STACK_SIZE to raise it)" in \
        s.after("groutine report"), s
    assert s.logged("survives") == ADDS, s
    assert s.target_lines(r"add\(.*") == ["add(0,1)=1", "add(1,2)=3", "add(2,3)=5"], s
    assert EXITED[debugger] in s.output, s
    assert "1 passed, 1 failed" in s.after("groutine report"), s


def test_abort_and_terminate_fail_the_groutine_with_the_reason_and_the_others_go_on(debugger):
    s = debug(debugger, f"file {target('calls_O0_g')}",
              f"groutine load {groutine_library('crash_abort')}", "run 3", "groutine report")
    assert s.returncode == 0, s
    report = s.after("groutine report")
    assert "abort() called" in report, s
    assert "std::terminate: std::runtime_error: thrown by a destructor" in report, s
    assert s.logged("survives") == ADDS, s
    assert EXITED[debugger] in s.output, s
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


def test_a_crash_that_is_not_contained_still_writes_the_report_and_exits_with_fatal_exit(
        monkeypatch):
    # A null pointer written through is not a stack overflow: the debugger dies of it. With
    # GROUTINES_FATAL_EXIT (what `groutines run` sets), it writes the groutines' report first.
    monkeypatch.setenv("GROUTINES_FATAL_EXIT", "2")
    s = lldb(f"file {target('calls_O0_g')}", f"groutine load {groutine_library('crash_fatal')}",
             "run 3", "groutine report")
    assert s.returncode == 2, s
    assert "error: groutines: the debugger died of SIGSEGV (a segmentation fault) at address " \
           "(nil) while groutine 'dereferences-null' was running; the groutines as they " \
           "stood:\n" in s.output, s
    assert "PASS survives (waiting, 2 events)\n" in s.output, s
    assert "FAIL dereferences-null (running when the debugger died, 2 events)\n" in s.output, s
    assert "1 passed, 1 failed\n" in s.output, s
    assert s.logged("survives") == ADDS[:2], s
    assert "(lldb) groutine report" not in s.output, s


def test_without_fatal_exit_a_crash_that_is_not_contained_is_the_debuggers_as_before():
    # conftest's lldb() fails on a crash: this one is expected, and LLVM's handler reports it.
    args = [LLDB, "--batch", "--no-lldbinit", "-o", f"plugin load {PLUGIN}",
            "-o", f"file {target('calls_O0_g')}",
            "-o", f"groutine load {groutine_library('crash_fatal')}", "-o", "run 3"]
    env = {k: v for k, v in os.environ.items() if k != "GROUTINES_FATAL_EXIT"}
    env["LLDB_DEBUGSERVER_PATH"] = DEBUGSERVER
    proc = subprocess.run(args, capture_output=True, text=True, timeout=TIMEOUT, env=env,
                          stdin=subprocess.DEVNULL)
    assert proc.returncode == -signal.SIGSEGV, proc
    assert "PLEASE submit a bug report" in proc.stderr, proc
    assert "groutines: the debugger died" not in proc.stderr, proc


def test_groutines_stack_size_sets_the_fiber_stack_and_a_bad_value_is_an_error(monkeypatch):
    monkeypatch.setenv("GROUTINES_STACK_SIZE", "4M")
    s = lldb(f"file {target('calls_O0_g')}", f"groutine load {groutine_library('crash_overflow')}",
             "run 3", "groutine report")
    assert "stack overflow (fiber stack 4096 KiB; set GROUTINES_STACK_SIZE to raise it)" in \
        s.after("groutine report"), s
    monkeypatch.setenv("GROUTINES_STACK_SIZE", "12q")
    s = driver(f"file {target('calls_O0_g')}",
               f"groutine load {groutine_library('crash_overflow')}")
    assert s.after(f"groutine load {groutine_library('crash_overflow')}").strip() == (
        "error: groutine load: GROUTINES_STACK_SIZE: expected a size from 64K to 1G (bytes, or "
        "with a K or M suffix), not '12q'"), s
    # A multiple that would wrap around 64 bits to 1 MiB (2**54 + 2**10 KiB) is too large.
    monkeypatch.setenv("GROUTINES_STACK_SIZE", "18014398509483008K")
    s = driver(f"file {target('calls_O0_g')}",
               f"groutine load {groutine_library('crash_overflow')}")
    assert s.after(f"groutine load {groutine_library('crash_overflow')}").strip() == (
        "error: groutine load: GROUTINES_STACK_SIZE: expected a size from 64K to 1G (bytes, or "
        "with a K or M suffix), not '18014398509483008K'"), s


LISTENERS = {
    "body": "    await g.event('tick')\n    await g.event('tick')\n    os.abort()\n",
    "where": "    await g.event('tick', where=lambda e: os.abort())\n",
}


@pytest.mark.parametrize("aborts_in", sorted(LISTENERS))
def test_an_abort_in_python_run_on_a_cpp_groutines_fiber_is_not_blamed_on_that_groutine(
        monkeypatch, tmp_path, aborts_in):
    # The Python listener (its body, or its where= predicate) runs on the firer's fiber stack,
    # inside the firer's fire(): its abort() is the debugger's (Python's state is mid-call),
    # not a death of "fires" that would leave the interpreter pointing into an unmapped stack.
    # With GROUTINES_FATAL_EXIT the report names the Python groutine.
    script = tmp_path / "groutine_aborts_on_tick.py"
    script.write_text("import os\nimport groutines as g\n\n@g.groutine\nasync def listener():\n"
                      + LISTENERS[aborts_in])
    monkeypatch.setenv("GROUTINES_FATAL_EXIT", "2")
    s = lldb(f"file {target('calls_O0_g')}", f"groutine load {groutine_library('crash_fires')}",
             f"groutine load {script}", "run 3", "groutine report")
    assert s.returncode == 2, s
    assert "error: groutines: the debugger died of SIGABRT (abort() or std::terminate) while " \
           "groutine 'listener' was running; the groutines as they stood:\n" in s.output, s
    assert "abort() called" not in s.output, s
    assert s.logged("fires") == (["fired"] if aborts_in == "body" else []), s
