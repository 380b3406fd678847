"""`groutines run --debugger NAME`: the runner is debugger-neutral and drives the debugger
through a driver package, groutines_NAME_driver (docs/run.md, "Drivers")."""
import re
import sys
from pathlib import Path

from conftest import BUILD, run, script, target

DRIVERS = str(Path(__file__).resolve().parent / "drivers")
CASES = "runner_cases"


def test_the_default_debugger_is_lldb_and_naming_it_changes_nothing():
    r = run("--debugger", "lldb", script("groutine_adds.py"), "--", target(CASES), "ok")
    assert r.code == 0, r
    assert "2 passed, 0 failed, 0 never triggered; runner_cases exited with status 0" in r.stderr


def test_an_unknown_debugger_is_a_usage_error_naming_it():
    r = run("--debugger", "nosuch", script("groutine_adds.py"), "--", target(CASES), "ok")
    assert r.code == 2, r
    assert r.stderr == ("error: groutines run: --debugger nosuch: no driver for this debugger "
                        "(no package groutines_nosuch_driver beside groutines)\n"), r
    assert r.stdout == "", r  # the program never ran


def test_groutines_debugger_in_the_environment_chooses_the_debugger_as_the_option_does():
    r = run(script("groutine_adds.py"), "--", target(CASES), "ok",
            env={"GROUTINES_DEBUGGER": "nosuch"})
    assert r.code == 2, r
    assert "--debugger nosuch: no driver for this debugger" in r.stderr, r
    r = run("--debugger", "lldb", script("groutine_adds.py"), "--", target(CASES), "ok",
            env={"GROUTINES_DEBUGGER": "nosuch"})
    assert r.code == 0, r


def test_a_debugger_name_that_is_not_a_name_is_a_usage_error():
    r = run("--debugger", "../lldb", script("groutine_adds.py"), "--", target(CASES), "ok")
    assert r.code == 2, r
    assert r.stderr == "error: groutines run: --debugger ../lldb: not a debugger name\n", r


def test_a_driver_that_cannot_import_here_is_a_usage_error_naming_the_debugger():
    # As a GDB driver that imports gdb would be outside GDB.
    r = run("--debugger", "needs_gdb", script("groutine_adds.py"), "--", target(CASES), "ok",
            env={"PYTHONPATH": DRIVERS})
    assert r.code == 2, r
    assert r.stderr == ("error: groutines run: --debugger needs_gdb: its driver does not "
                        "import: No module named 'gdb'\n"), r


def test_a_driver_can_run_the_runner_in_another_process_with_a_driver_made_there():
    # The way a GDB driver runs: the outer command starts the debugger, whose own Python calls
    # groutines.run.main(argv, driver=...). Here the other process is a Python of its own.
    r = run("--debugger", "elsewhere", script("groutine_adds.py"), "--", target(CASES), "ok",
            env={"PYTHONPATH": DRIVERS})
    assert r.code == 0, r
    assert r.stdout == "add=5 fact=120\n", r
    outer = re.search(r"^elsewhere: the outer runner is process (\d+)$", r.stderr, re.M)
    inner = re.search(r"^elsewhere: the run is process (\d+)$", r.stderr, re.M)
    assert outer and inner and outer.group(1) != inner.group(1), r
    assert "PASS add_adds (passed, 2 events)" in r.stderr, r
    assert "2 passed, 0 failed, 0 never triggered; runner_cases exited with status 0" in r.stderr


def test_the_exit_code_of_a_run_elsewhere_is_the_runners():
    r = run("--debugger", "elsewhere", script("groutine_wrong.py"), "--", target(CASES), "ok",
            env={"PYTHONPATH": DRIVERS})
    assert r.code == 1, r
    assert "FAIL add_is_wrong (failed, 2 events)" in r.stderr, r


def test_a_drivers_stack_frames_render_as_the_core_renders_a_backtrace():
    # Crash and timeout backtraces cross the driver seam as StackFrames (a debugger reads
    # them outside any event), rendered by the core, as Call.backtrace() is.
    sys.path.insert(0, str(BUILD / "python"))
    from groutines import _native
    frames = [_native.StackFrame(pc=0x401136, module="calls", function="main", offset=22,
                                 file="calls.c", line=40),
              _native.StackFrame(pc=0x7f00)]
    assert _native.render_stack(frames) == ["#0 0x401136 calls`main + 22 at calls.c:40",
                                            "#1 0x7f00 ?`??"]
    assert (frames[0].pc, frames[0].module, frames[0].line) == (0x401136, "calls", 40)


def test_a_crash_backtrace_names_each_frame_as_a_groutines_backtrace_does():
    r = run(script("groutine_adds.py"), "--", target(CASES), "crash-thread")
    assert r.code == 3, r
    frames = [line.strip() for line in r.stderr.splitlines() if line.startswith("      #")]
    assert frames and re.fullmatch(r"#0 0x[0-9a-f]+ runner_cases`crash( \+ \d+)? at "
                                   r"runner_cases\.c:\d+", frames[0]), r
