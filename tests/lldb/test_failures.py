"""`groutine stop-on-failure`, under LLDB and GDB alike: a C++ groutine's failed check stops
the target at the call or return it was handling, with a reason naming the groutine, its
file:line and the message; off (the default), failures are recorded and the target runs on."""
import re

from conftest import debug, groutine_library, target


def test_a_failed_check_stops_the_target_with_the_groutine_file_line_and_message(debugger):
    s = debug(debugger, f"file {target('calls_O0_g')}",
              f"groutine load {groutine_library('failing_checks')}", "groutine stop-on-failure",
              "groutine stop-on-failure on", "run 2", "groutine list",
              "groutine stop-on-failure off", "continue", "groutine report")
    assert s.after("groutine stop-on-failure").strip() == "stop on failure: off", s
    assert s.after("groutine stop-on-failure on").strip() == "stop on failure: on", s
    reason = re.search(r"^groutine 'add-is-off-by-one' failed, stopping the target: "
                       r"(\S+):(\d+): (.*)$", s.output, re.M)
    assert reason, s
    assert reason.group(1).endswith("failing_checks.cpp") and int(reason.group(2)) > 0, s
    assert "1 != 2" in reason.group(3), s
    # Stopped at add(0, 1)'s return, before main printed its result; the reason is kept.
    run = "\n".join(s.printed_by("run 2"))
    assert "add(0,1)=" not in run, s
    if debugger == "lldb":
        assert "stop reason = breakpoint" in run, s
    assert "last stop: groutine 'add-is-off-by-one' failed" in s.after("groutine list"), s
    # Off again: the second failure is recorded, and the target runs to its end.
    assert len(re.findall(r"^groutine .* failed, stopping the target", s.output, re.M)) == 1, s
    assert s.target_lines(r"add\(.*") == ["add(0,1)=1", "add(1,2)=3"], s
    if debugger == "lldb":
        assert "exited with status = 0" in s.output, s
    report = s.after("groutine report")
    assert report.count(f"failing_checks.cpp:{reason.group(2)}: ") == 2, s
    assert "0 passed, 1 failed" in report, s


def test_failures_do_not_stop_the_target_by_default(debugger):
    s = debug(debugger, f"file {target('calls_O0_g')}",
              f"groutine load {groutine_library('failing_checks')}", "run 2", "groutine report")
    assert "stopping the target" not in s.output, s
    assert s.target_lines(r"add\(.*") == ["add(0,1)=1", "add(1,2)=3"], s
    if debugger == "lldb":
        assert "exited with status = 0" in s.output, s
    assert "0 passed, 1 failed" in s.after("groutine report"), s


def test_stop_on_failure_takes_on_or_off(debugger):
    s = debug(debugger, "groutine stop-on-failure maybe")
    assert "error: groutine stop-on-failure: expected on or off, not 'maybe'" in s.output, s
