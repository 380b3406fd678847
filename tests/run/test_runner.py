"""`groutines run` end to end: exit codes, the report, crashes, timeouts, the standard
streams, JUnit, events and trace files."""
import json
import os
import re
import shutil
import xml.etree.ElementTree as ET

import pytest

from conftest import BUILD, Terminal, run, script, target

CASES = "runner_cases"


def test_a_clean_run_exits_0_and_reports_every_groutine_as_passed():
    r = run(script("groutine_adds.py"), "--", target(CASES), "ok")
    assert r.code == 0, r
    assert r.stdout == "add=5 fact=120\n", r
    assert "PASS add_adds (passed, 2 events)" in r.stderr, r
    assert "PASS fact_of_5 (passed, 2 events)" in r.stderr, r
    assert "2 passed, 0 failed, 0 never triggered; runner_cases exited with status 0" in r.stderr


def test_a_failed_groutine_exits_1_with_its_message_file_line_and_the_targets_backtrace():
    r = run(script("groutine_wrong.py"), "--", target(CASES), "ok")
    assert r.code == 1, r
    lines = r.stderr.splitlines()
    assert "FAIL add_is_wrong (failed, 2 events)" in lines, r
    at = lines.index("FAIL add_is_wrong (failed, 2 events)") + 1
    # The file as the report shows paths: relative to the working directory, under it.
    shown = os.path.relpath(script("groutine_wrong.py"))
    assert not shown.startswith(".."), shown
    assert lines[at].startswith(f"  {shown}:9: AssertionError: add returned 5"), r
    assert "[return #2 of add (call #1)" in lines[at], r
    # The backtrace at the failure: the target stopped at add's return, in main.
    assert "runner_cases`main" in lines[at + 2] and "runner_cases.c:" in lines[at + 2], r


def test_a_groutine_never_triggered_is_reported_as_such_and_does_not_fail_the_run():
    r = run(script("groutine_adds.py"), "--", target(CASES), "status", "0")
    assert r.code == 0, r
    assert "NONE add_adds (never triggered, 0 events)" in r.stderr, r
    assert "0 passed, 0 failed, 2 never triggered" in r.stderr, r


def test_an_unexpected_exit_status_exits_5_unless_expected():
    r = run(script("groutine_adds.py"), "--", target(CASES), "status", "7")
    assert r.code == 5, r
    assert "runner_cases exited with status 7" in r.stderr, r
    r = run(script("groutine_adds.py"), "--expect-status", "7", "--", target(CASES), "status", "7")
    assert r.code == 0, r


def test_a_crash_on_another_thread_ends_the_run_with_exit_3_and_the_crash_backtrace():
    r = run(script("groutine_adds.py"), "--", target(CASES), "crash-thread")
    assert r.code == 3, r
    assert "crash: SIGSEGV on thread 2" in r.stderr, r
    assert "runner_cases`crash" in r.stderr, r
    assert "runner_cases was killed by SIGSEGV" in r.stderr, r
    assert "(lldb)" not in r.stderr, r


def test_a_hung_target_is_ended_by_timeout_with_exit_4_and_what_each_groutine_waits_on():
    r = run("--timeout", "4", script("groutine_adds.py"), "--", target(CASES), "hang")
    assert r.code == 4, r
    assert "NONE fact_of_5 (never triggered, 0 events) waiting on call of fact" in r.stderr, r
    assert "timeout: 4s elapsed; the target's threads were at:" in r.stderr, r
    assert "__libc_pause" in r.stderr or "pause" in r.stderr, r
    assert "runner_cases was stopped: timed out" in r.stderr, r


def test_usage_and_load_errors_exit_2():
    r = run(script("groutine_adds.py"), target(CASES))
    assert r.code == 2 and "expected `-- PROGRAM [ARGS...]`" in r.stderr, r
    r = run("nowhere.py", "--", target(CASES))
    assert r.code == 2 and "no such groutine file or directory 'nowhere.py'" in r.stderr, r
    r = run(script("groutine_broken.py"), "--", target(CASES))
    assert r.code == 2 and "groutine_broken.py:4: SyntaxError" in r.stderr, r
    r = run("stock:nonesuch", "--", target(CASES))
    assert r.code == 2 and "no stock groutine 'nonesuch'" in r.stderr, r
    r = run(script("groutine_adds.py"), "--", "/nonexistent/program")
    assert r.code == 2 and "cannot debug '/nonexistent/program'" in r.stderr, r
    r = run("--timeout", "0", script("groutine_adds.py"), "--", target(CASES))
    assert r.code == 2, r


def test_a_load_error_is_one_error_line_with_the_plugins_message():
    r = run(script("groutine_broken.py"), "--", target(CASES))
    assert r.code == 2, r
    assert (r.stderr.splitlines()[0] == "error: groutines run: groutine load: "
            f"{script('groutine_broken.py')}:4: SyntaxError: invalid syntax"), r


def test_the_targets_stdin_stdout_and_stderr_pass_through_untouched():
    text = "line one\nline two\x00\x01 binary\n" * 50
    r = run(script("groutine_adds.py"), "--", target(CASES), "echo", stdin=text)
    assert r.code == 0, r
    assert r.stdout == text, r
    assert r.stderr.startswith("to stderr\n"), r  # the target's, then the runner's report


def test_the_report_goes_to_a_file_with_report(tmp_path):
    report = tmp_path / "report.txt"
    r = run("--report", report, script("groutine_adds.py"), "--", target(CASES), "ok")
    assert r.code == 0, r
    assert r.stderr == "", r
    assert "PASS add_adds" in report.read_text()


def test_junit_has_one_valid_test_case_per_groutine_and_the_crash(tmp_path):
    junit = tmp_path / "junit.xml"
    r = run("--junit", junit, script("groutine_adds.py"), script("groutine_wrong.py"), "--",
            target(CASES), "ok")
    assert r.code == 1, r
    suite = ET.parse(junit).getroot()
    assert suite.tag == "testsuite"
    assert suite.get("tests") == "3" and suite.get("failures") == "1", ET.tostring(suite)
    cases = {c.get("name"): c for c in suite.iter("testcase")}
    assert set(cases) == {"add_adds", "fact_of_5", "add_is_wrong"}
    failure = cases["add_is_wrong"].find("failure")
    assert failure is not None and failure.get("message") == "AssertionError: add returned 5"
    assert "runner_cases`main" in failure.text
    assert cases["add_adds"].find("failure") is None

    r = run("--junit", junit, script("groutine_adds.py"), "--", target(CASES), "crash-thread")
    assert r.code == 3, r
    suite = ET.parse(junit).getroot()
    cases = suite.findall("testcase")
    # The target's crash is a test case of its own, counted with the others.
    assert [c.get("name") for c in cases] == ["add_adds", "fact_of_5", "target"]
    assert (suite.get("tests"), suite.get("errors"), suite.get("failures")) == ("3", "1", "0")
    error = cases[2].find("error")
    assert error.get("type") == "crash" and "SIGSEGV" in error.get("message")
    assert "runner_cases`crash" in error.text


def test_junit_counts_an_unexpected_exit_status_as_the_targets_failure(tmp_path):
    junit = tmp_path / "junit.xml"
    r = run("--junit", junit, script("groutine_adds.py"), "--", target(CASES), "status", "7")
    assert r.code == 5, r
    suite = ET.parse(junit).getroot()
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("3", "1", "0")
    (case,) = [c for c in suite.findall("testcase") if c.get("name") == "target"]
    failure = case.find("failure")
    assert failure.get("type") == "status"
    assert failure.get("message") == "runner_cases exited with status 7, expected 0"
    r = run("--junit", junit, "--expect-status", "7", script("groutine_adds.py"), "--",
            target(CASES), "status", "7")
    assert r.code == 0, r
    suite = ET.parse(junit).getroot()
    assert [c.get("name") for c in suite.findall("testcase")] == ["add_adds", "fact_of_5"]
    assert suite.get("tests") == "2" and suite.get("failures") == "0"


def test_control_characters_in_a_failure_keep_junit_valid_and_the_terminal_safe(tmp_path):
    junit = tmp_path / "junit.xml"
    r = run("--junit", junit, script("groutine_control_chars.py"), "--", target(CASES), "ok")
    assert r.code == 1, r
    assert "\x1b" not in r.stderr and "\x01" not in r.stderr, r
    assert "AssertionError: bad \\x01 byte, \\x1b[31mred\\x1b[0m, a\tb" in r.stderr, r
    failure = ET.parse(junit).getroot().find("testcase/failure")
    assert failure.get("message") == "AssertionError: bad \\x01 byte, \\x1b[31mred\\x1b[0m, a\tb"


def test_the_trace_is_chrome_trace_json_with_each_call_paired_with_its_return(tmp_path):
    trace = tmp_path / "trace.json"
    r = run("--trace", trace, "--set", "calls.functions=fact,add", "stock:calls", "--",
            target(CASES), "ok")
    assert r.code == 0, r
    assert f"trace: {trace}" in r.stderr, r
    data = json.loads(trace.read_text())
    events = data["traceEvents"]
    slices = [e for e in events if e["ph"] == "X"]
    assert sorted(e["name"] for e in slices) == ["add"] + ["fact"] * 5
    for e in slices:
        assert {"ts", "dur", "tid", "pid"} <= set(e) and e["dur"] >= 0
    facts = sorted((e for e in slices if e["name"] == "fact"), key=lambda e: e["ts"])
    assert [e["args"]["return"] for e in facts] == [120, 24, 6, 2, 1]
    # Nested calls nest: each inner slice lies within the outer one, on the same track.
    for outer, inner in zip(facts, facts[1:]):
        assert outer["tid"] == inner["tid"]
        assert outer["ts"] < inner["ts"] and inner["ts"] + inner["dur"] < outer["ts"] + outer["dur"]
    names = [e for e in events if e["ph"] == "M" and e["name"] == "thread_name"]
    assert any(e["tid"] == facts[0]["tid"] for e in names)
    assert any(e["ph"] == "i" and e["name"] == "custom: exit" for e in events)
    assert data["otherData"]["clock"] == "microseconds since the first event"


def test_trace_slices_last_as_long_as_between_the_call_and_return_times(tmp_path):
    trace, log = tmp_path / "trace.json", tmp_path / "events.jsonl"
    r = run("--trace", trace, "--events", log, "--set", "calls.functions=fact", "stock:calls",
            "--", target(CASES), "ok")
    assert r.code == 0, r
    events = [json.loads(line) for line in log.read_text().splitlines()]
    times = {(e["kind"], e["call"]): e["time"] for e in events if e["kind"] in ("call", "return")}
    slices = [e for e in json.loads(trace.read_text())["traceEvents"] if e["ph"] == "X"]
    assert len(slices) == 5, slices
    for e in slices:
        call = e["args"]["call"]
        expected = (times[("return", call)] - times[("call", call)]) * 1e6
        assert e["dur"] > 0 and abs(e["dur"] - expected) < 1, (e, expected)
        assert abs(e["ts"] - times[("call", call)] * 1e6) < 1, e


def test_events_are_json_lines_with_calls_returns_and_custom_events(tmp_path):
    path = tmp_path / "events.jsonl"
    r = run("--events", path, script("groutine_adds.py"), "--", target(CASES), "ok")
    assert r.code == 0, r
    events = [json.loads(line) for line in path.read_text().splitlines()]
    assert [e["seq"] for e in events if e["seq"] is not None] == sorted(
        e["seq"] for e in events if e["seq"] is not None)
    kinds = [(e["kind"], e["function"]) for e in events]
    assert ("call", "add") in kinds and ("return", "add") in kinds and ("custom", "exit") in kinds
    for e in events:
        assert {"seq", "time", "thread", "kind", "function", "args", "value", "data"} <= set(e)
    add_return = next(e for e in events if e["kind"] == "return" and e["function"] == "add")
    assert add_return["value"] == 5
    add_call = next(e for e in events if e["kind"] == "call" and e["function"] == "add")
    assert add_return["call"] == add_call["seq"]
    assert add_call["args"] == {"a": 2, "b": 3}  # by DWARF name
    times = [e["time"] for e in events]
    assert times[0] == 0 and times == sorted(times)
    assert add_return["time"] >= add_call["time"]


def test_a_stop_on_failure_session_gets_the_lldb_prompt_and_the_run_goes_on_after_it():
    r = run("--stop-on-failure", script("groutine_wrong.py"), "--", target(CASES), "ok",
            stdin="groutine report\nthread backtrace\nquit\n")
    assert r.code == 1, r
    assert "stopped at a failure or a crash" in r.stderr, r
    assert "FAIL add_is_wrong" in r.stderr, r


def test_a_failed_check_of_a_cpp_groutine_with_stop_on_failure_gets_the_prompt_there():
    library = BUILD / "tests" / "lldb" / "libgroutine_failing_checks.so"
    assert library.exists(), f"{library} is not built"
    r = run("--stop-on-failure", library, "--", target(CASES), "ok",
            stdin="frame info\nquit\n")
    assert r.code == 1, r
    assert "groutine 'add-is-off-by-one' failed, stopping the target: " in r.stderr, r
    assert "failing_checks.cpp:" in r.stderr and "5 != 6" in r.stderr, r
    assert "stopped at a failure or a crash" in r.stderr, r
    # The prompt's `frame info`: at add's return, in main.
    assert "runner_cases`main" in r.stderr, r
    assert "stop requested" not in r.stderr, r
    assert "FAIL add-is-off-by-one" in r.stderr, r
    assert r.stdout == "add=5 fact=120\n", r


def test_a_crash_with_stop_on_failure_gets_the_prompt_at_the_crash_then_reports_it():
    r = run("--stop-on-failure", script("groutine_adds.py"), "--", target(CASES), "crash-thread",
            stdin="thread list\nquit\n")
    assert r.code == 3, r
    assert "stop reason = signal SIGSEGV" in r.stderr, r
    assert "runner_cases was killed by SIGSEGV" in r.stderr, r


def test_a_groutine_stuck_in_a_loop_is_ended_by_the_timeout_too_and_leaves_no_target():
    r = run("--timeout", "3", script("groutine_spins.py"), "--", target(CASES), "ok")
    assert r.code == 4, r
    assert "the debugger did not stop the target within" in r.stderr, r


def test_a_terminal_gets_a_live_status_line_on_its_last_row_and_a_pipe_does_not():
    import re
    term = Terminal("--timeout", "1.5", "--set", "calls.functions=add", "stock:calls", "--",
                    target(CASES), "hang", rows=30, columns=120)
    assert term.wait() == 4, term.output
    out = term.output
    # Each update: save the cursor, draw on row 30, restore it, in one write. Nothing else
    # (the target's lines, the groutines' logs) lands on that row or is erased by it.
    draw = re.compile(rb"\x1b7\x1b\[30;1H\x1b\[2K(\[groutines\] [^\x1b]*)\x1b8")
    draws = draw.findall(out)
    assert draws and all(re.fullmatch(rb"\[groutines\] +[0-9.]+s  \d+ events \(\d+/s\)  "
                                      rb"0 failures", d) for d in draws), out
    assert out.count(b"[groutines]") == len(draws), out
    assert b"\x1b7\x1b[1;29r\x1b8" in out, out  # the scroll region, rows 1 to 29
    # Without the status line's writes, which may come between any two lines: the first
    # makes room with a newline, reserves the region and goes back up a row.
    first = rb"\r\n\x1b7\x1b\[1;29r\x1b8\x1b\[1A"
    assert len(re.findall(first, out)) == 1, out
    lines = re.sub(rb"\x1b7.*?\x1b8", b"", re.sub(first, b"", out)).split(b"\r\n")
    assert b"hanging" in lines and any(re.fullmatch(rb"\[calls\] \[ *\d+\] \| add\(a=1, b=1\) = 2;",
                                                  line) for line in lines), out
    # At the end the terminal gets its whole height back, the status row cleared, before
    # the report.
    end = out.rindex(b"\x1b7\x1b[r\x1b[30;1H\x1b[2K\x1b8")
    assert end > out.rindex(b"[groutines]") and end < out.index(b"timeout: 1.5s elapsed"), out
    r = run("--timeout", "1.5", script("groutine_adds.py"), "--", target(CASES), "hang")
    assert "[groutines]" not in r.stderr and "\x1b" not in r.stderr, r


def test_stop_on_failure_on_a_terminal_gives_a_prompt_that_reads_it_then_the_report():
    term = Terminal("--stop-on-failure", script("groutine_wrong.py"), "--", target(CASES), "ok")
    term.expect(b"the (lldb) prompt is yours")
    term.expect(b"(lldb) ")
    term.send("thread list\n")
    shown = term.expect(b"stop reason = ")
    assert b"passed, " not in shown, shown  # no report yet: the session is on
    term.send("quit\n")
    assert term.wait() == 1, term.output
    after = term.output[len(shown):]
    assert b"Do you really want to proceed" not in after, term.output
    assert b"add=5 fact=120\r\n" in after and b"FAIL add_is_wrong" in after, term.output


@pytest.mark.parametrize("debugger", ["lldb", pytest.param("gdb", marks=pytest.mark.skipif(
    shutil.which("gdb") is None, reason="no gdb"))])
def test_a_target_writing_to_a_closed_pipe_dies_of_sigpipe_as_under_a_shell(debugger):
    import os
    import subprocess
    import sys

    from conftest import BUILD, LAUNCHER, TIMEOUT
    proc = subprocess.Popen(
        [sys.executable, str(LAUNCHER), "run", "--debugger", debugger, script("groutine_adds.py"),
         "--", target(CASES), "flood"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env=dict(os.environ, GROUTINES_BUILD_DIR=str(BUILD)))
    assert proc.stdout.readline() == b"flood\n"
    proc.stdout.close()  # as `| head -1` does
    try:
        _, err = proc.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    assert proc.returncode == 3, err
    assert b"runner_cases was killed by SIGPIPE" in err, err


def test_a_runner_ended_by_sigterm_kills_its_target_and_leaves_nothing_running():
    import os
    import signal
    import subprocess
    import sys

    from conftest import BUILD, LAUNCHER, TIMEOUT
    proc = subprocess.Popen(
        [sys.executable, str(LAUNCHER), "run", script("groutine_adds.py"), "--",
         target(CASES), "hang"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env=dict(os.environ, GROUTINES_BUILD_DIR=str(BUILD)))
    assert proc.stdout.readline() == b"hanging\n"
    proc.send_signal(signal.SIGTERM)
    try:  # EOF on stdout only once the target, which holds it too, is gone
        _, err = proc.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert b"interrupted by SIGTERM; the target was killed" in err, err


def test_the_trace_has_one_track_per_target_thread_with_its_own_calls(tmp_path):
    trace, log = tmp_path / "trace.json", tmp_path / "events.jsonl"
    r = run("--trace", trace, "--events", log, "--set", "calls.functions=add",
            "--set", f"calls.output={tmp_path / 'calls.txt'}", "stock:calls", "--",
            target(CASES), "threads")
    assert r.code == 0, r
    events = [json.loads(line) for line in log.read_text().splitlines()]
    threads = {e["thread"] for e in events if e["kind"] == "call"}
    assert len(threads) == 4, threads  # four threads call add(), main does not
    data = json.loads(trace.read_text())["traceEvents"]
    tracks = {e["tid"]: e["args"]["name"] for e in data
              if e["ph"] == "M" and e["name"] == "thread_name"}
    assert threads <= set(tracks), tracks
    slices = [e for e in data if e["ph"] == "X"]
    per_track = {tid: sum(e["tid"] == tid for e in slices) for tid in threads}
    assert per_track == {tid: 50 for tid in threads}, per_track
    # Each slice is on the track of the thread that made the call, which returned there.
    thread_of = {e["call"]: e["thread"] for e in events if e["kind"] in ("call", "return")}
    for e in slices:
        assert thread_of[e["args"]["call"]] == e["tid"], e


def test_a_failure_has_the_backtrace_of_the_thread_whose_event_failed_it():
    r = run(script("groutine_thread_failure.py"), "--", target("threads"), "40")
    assert r.code == 1, r
    lines = r.stderr.splitlines()
    at = lines.index("FAIL worker_2_fails (failed, 3 events)") + 1
    tid = lines[at].split("worker 2 on thread ")[1].split()[0]
    assert lines[at + 1].strip() == f"thread {tid}:", r
    assert "threads`work" in lines[at + 2] and "threads`run_worker" in lines[at + 3], r


def test_failed_checks_are_reported_with_their_backtraces_and_the_groutine_goes_on():
    r = run(script("groutine_checks.py"), "--", target(CASES), "ok")
    assert r.code == 1, r
    assert [f"[fact_checks] fact({n}) seen" for n in (5, 4, 3, 2, 1)] == [
        line for line in r.stderr.splitlines() if line.startswith("[fact_checks]")], r
    lines = r.stderr.splitlines()
    at = lines.index("FAIL fact_checks (failed, 5 events)") + 1
    shown = os.path.relpath(script("groutine_checks.py"))
    assert lines[at].startswith(f"  {shown}:10: check failed: g.check(n != 3 and n != 1, "
                                f'f"n={{n}}"): n=3 [call #3 of fact'), r
    assert lines[at + 1].strip().startswith("thread "), r
    # At fact's first instruction (no offset), called from fact (an offset into it).
    assert re.fullmatch(r"#0 0x[0-9a-f]+ runner_cases`fact at runner_cases\.c:\d+",
                        lines[at + 2].strip()), r
    assert re.fullmatch(r"#1 0x[0-9a-f]+ runner_cases`fact \+ \d+ at runner_cases\.c:\d+",
                        lines[at + 3].strip()), r
    assert sum(": check failed: " in line for line in lines) == 2, r


def test_a_run_ended_by_a_signal_gives_the_terminal_its_rows_back():
    import signal
    term = Terminal("--set", "calls.functions=add", "stock:calls", "--", target(CASES), "hang",
                    rows=30, columns=120)
    term.expect(b"[groutines]")  # the status line holds the last row
    os.kill(term.pid, signal.SIGTERM)
    assert term.wait() == 128 + signal.SIGTERM, term.output
    out = term.output
    assert b"interrupted by SIGTERM" in out, out
    # The scroll region is reset (the whole height again) after the last status update.
    assert out.rindex(b"\x1b7\x1b[r\x1b[30;1H\x1b[2K\x1b8") > out.rindex(b"[groutines]"), out


# --- Issue 11 cases on a real target, through the runner ---

@pytest.mark.parametrize("transport", ["agent", "breakpoint"])
def test_awaiting_a_return_twice_in_python_fails_the_groutine_on_a_real_target(transport):
    r = run("--transport", transport, script("groutine_returned_twice.py"), "--", target(CASES),
            "ok")
    assert r.code == 1, r
    assert "FAIL awaits_a_return_twice" in r.stderr, r
    assert ("groutine_returned_twice.py:10: groutines.Error: cannot wait for the return of "
            "call #1: that call is no longer current") in r.stderr, r


@pytest.mark.parametrize("transport", ["agent", "breakpoint"])
def test_text_utf8_cannot_encode_is_shown_escaped_on_a_real_target(transport):
    r = run("--transport", transport, script("groutine_hostile_text.py"), "--", target(CASES),
            "ok")
    assert r.code == 1, r
    assert "[logs_a_surrogate] half \\udcff of a pair\n" in r.stderr, r
    assert "PASS logs_a_surrogate" in r.stderr, r
    assert ("groutine_hostile_text.py:15: ValueError: lone \\ud800 here [call #1 of add"
            in r.stderr), r


def test_two_groutine_directories_each_import_their_own_helpers_on_a_real_target(tmp_path):
    for side in ("left", "right"):
        (tmp_path / side).mkdir()
        (tmp_path / side / "helpers.py").write_text(f"SIDE = {side!r}\n")
        (tmp_path / side / f"groutine_{side}.py").write_text(
            "import groutines as g\nimport helpers\n\n\n"
            f"@g.groutine\nasync def {side}():\n"
            "    await g.call('add')\n"
            f"    g.log(f'{side} sees {{helpers.SIDE}}')\n")
    r = run(tmp_path / "left", tmp_path / "right", "--", target(CASES), "ok")
    assert r.code == 0, r
    assert "[left] left sees left\n" in r.stderr, r
    assert "[right] right sees right\n" in r.stderr, r
