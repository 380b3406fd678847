"""`groutines run` and a C++ groutine's fatal mistakes: a stack overflow, abort() and
std::terminate fail that groutine (exit 1) and the run goes on; a crash the runtime cannot
contain (a null pointer written through in a groutine) still prints the report and the reason,
and the run exits 2."""
import os
from pathlib import Path

from conftest import BUILD, run, target

LIBRARIES = Path(os.environ.get("GROUTINES_TEST_LIBRARIES_DIR", BUILD / "tests" / "lldb"))


def library(name):
    path = LIBRARIES / f"libgroutine_{name}.so"
    assert path.exists(), f"groutine library {path} is not built"
    return str(path)


def test_abort_and_terminate_in_groutines_fail_them_and_the_run_goes_on_with_exit_1():
    r = run(library("crash_abort"), "--", target("calls_O0_g"), "3")
    assert r.code == 1, r
    assert "add(2,3)=5" in r.stdout, r
    assert "abort() called [call #" in r.stderr, r
    assert "std::terminate: std::runtime_error: thrown by a destructor [call #" in r.stderr, r
    assert "PASS survives (passed, 3 events)" in r.stderr, r
    assert "calls_O0_g exited with status 0" in r.stderr, r


def test_a_crash_the_runtime_cannot_contain_still_prints_the_report_and_exits_2():
    r = run(library("crash_fatal"), "--", target("calls_O0_g"), "3")
    assert r.code == 2, r
    assert "error: groutines: the debugger died of SIGSEGV (a segmentation fault) at address " \
           "(nil) while groutine 'dereferences-null' was running" in r.stderr, r
    assert "PASS survives (waiting, 2 events)" in r.stderr, r
    assert "FAIL dereferences-null (running when the debugger died, 2 events)" in r.stderr, r
