"""`groutines run` and the files it is given or writes: paths with blanks and quotes, output
files checked before the run and written whole, a JUnit file for a run that never started,
bad --timeout values, closed standard streams, the run's temporary files on every exit path,
and an event log written in bounded memory."""
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import xml.etree.ElementTree as ET

import pytest

from conftest import BUILD, LAUNCHER, TIMEOUT, run, script, target

CASES = "runner_cases"
# A name LLDB's command line would split or unquote, and LD_PRELOAD would split.
AWKWARD = "a b'c\"d\\e`f:g"


def launch(*args, env=None, **popen):
    """launch() starts `groutines run ARGS...` as a Popen; env: variables to add. It is
    killed TIMEOUT seconds later unless end() saw it end first: a read of its pipes before
    end() cannot block the test for good."""
    proc = subprocess.Popen([sys.executable, str(LAUNCHER), "run", *map(str, args)],
                            env={**os.environ, "GROUTINES_BUILD_DIR": str(BUILD), **(env or {})},
                            **popen)
    proc.kill_timer = threading.Timer(TIMEOUT, proc.kill)
    proc.kill_timer.start()
    return proc


def end(proc):
    """end() waits for proc (killed TIMEOUT seconds after launch(), failing the test) and
    returns its exit code and its rusage (the peak RSS of it and the children it waited
    for)."""
    try:
        _, status, usage = os.wait4(proc.pid, 0)
    finally:
        proc.kill_timer.cancel()
    proc.returncode = code = os.waitstatus_to_exitcode(status)
    assert code != -signal.SIGKILL, f"groutines run did not end within {TIMEOUT}s"
    return code, usage


# --- Paths ---

def test_groutines_and_programs_in_paths_with_blanks_quotes_and_backslashes_load(tmp_path):
    awkward = tmp_path / AWKWARD
    awkward.mkdir()
    shutil.copy(script("groutine_adds.py"), awkward)
    shutil.copy(BUILD / "groutines" / "stock" / "libgroutine_stock_heap.so", awkward)
    shutil.copy(target(CASES), awkward)
    shutil.copy(target("heapbugs"), awkward)
    r = run(awkward / "groutine_adds.py", "--", awkward / CASES, "ok")
    assert r.code == 0, r
    assert "2 passed, 0 failed" in r.stderr, r
    r = run(awkward / "libgroutine_stock_heap.so", "--", awkward / "heapbugs", "leak")
    assert r.code == 1 and "FAIL heap" in r.stderr, r
    assert "40 bytes in 1 blocks are definitely lost" in r.stderr, r


@pytest.mark.parametrize("transport", ["agent", "breakpoint"])
def test_a_build_in_a_path_with_blanks_quotes_and_colons_runs(tmp_path, transport):
    # The build itself (the plugin, the agent, the Python package) under an awkward name.
    link = tmp_path / AWKWARD
    link.symlink_to(BUILD, target_is_directory=True)
    r = run("--transport", transport, script("groutine_adds.py"), "--", target(CASES), "ok",
            env={"GROUTINES_BUILD_DIR": str(link)})
    assert r.code == 0, r
    assert r.stdout == "add=5 fact=120\n", r
    assert "2 passed, 0 failed" in r.stderr, r
    # The agent was preloaded (LD_PRELOAD splits at blanks and colons): no ld.so error, and
    # no function left on breakpoints for want of it.
    assert "cannot be preloaded" not in r.stderr, r
    assert "stays on a breakpoint" not in r.stderr, r


def test_a_build_with_blanks_and_colons_preloads_the_agent_when_tmpdir_has_them_too(tmp_path):
    # The agent's link, which LD_PRELOAD can hold, is not made in the run's directory then.
    link = tmp_path / AWKWARD
    link.symlink_to(BUILD, target_is_directory=True)
    tmpdir = tmp_path / "tmp dir:x"
    tmpdir.mkdir()
    r = run("--transport", "agent", script("groutine_adds.py"), "--", target(CASES), "ok",
            env={"GROUTINES_BUILD_DIR": str(link), "TMPDIR": str(tmpdir)})
    assert r.code == 0, r
    assert "cannot be preloaded" not in r.stderr, r
    assert "stays on a breakpoint" not in r.stderr, r
    assert runs_in(tmpdir) == [], r  # (LLDB keeps a directory of its own there)


# --- Output files ---

@pytest.mark.parametrize("option", ["--junit", "--trace", "--events", "--report"])
def test_an_output_into_a_missing_directory_is_a_usage_error_before_the_program_runs(
        tmp_path, option):
    path = tmp_path / "missing" / "out"
    r = run(option, path, script("groutine_adds.py"), "--", target(CASES), "ok")
    assert r.code == 2, r
    assert r.stdout == "", r  # the program never ran
    assert r.stderr == f"error: groutines run: {option} {path}: no such directory " \
                       f"'{tmp_path / 'missing'}'\n", r


def test_an_output_that_cannot_be_written_is_a_usage_error_naming_it(tmp_path):
    r = run("--trace", "/proc/groutines-trace.json", script("groutine_adds.py"), "--",
            target(CASES), "ok")
    assert r.code == 2 and r.stdout == "", r
    assert "error: groutines run: --trace /proc/groutines-trace.json: cannot write in " \
           "'/proc'" in r.stderr, r
    r = run("--events", tmp_path, script("groutine_adds.py"), "--", target(CASES), "ok")
    assert r.code == 2 and r.stdout == "", r
    assert f"error: groutines run: --events {tmp_path}: is a directory" in r.stderr, r


def test_outputs_are_replaced_whole_and_leave_no_temporary_file(tmp_path):
    junit, events = tmp_path / "junit.xml", tmp_path / "events.jsonl"
    junit.write_text("old")
    events.write_text("old")
    # A groutine stuck in a loop: the runner gives up 10 s after the timeout, in the middle
    # of the run, and writes none of them.
    r = run("--timeout", "1", "--junit", junit, "--events", events, script("groutine_spins.py"),
            "--", target(CASES), "ok")
    assert r.code == 4, r
    assert junit.read_text() == "old" and events.read_text() == "old"
    assert sorted(os.listdir(tmp_path)) == ["events.jsonl", "junit.xml"]
    r = run("--junit", junit, "--events", events, "--trace", "/dev/null",
            script("groutine_adds.py"), "--", target(CASES), "ok")
    assert r.code == 0, r
    assert ET.parse(junit).getroot().get("tests") == "2"
    assert all(json.loads(line) for line in events.read_text().splitlines())
    assert sorted(os.listdir(tmp_path)) == ["events.jsonl", "junit.xml"]
    assert "trace: /dev/null" in r.stderr, r


@pytest.mark.parametrize("first,second", [("--report", "--junit"), ("--junit", "--events"),
                                           ("--events", "--trace")])
def test_two_outputs_naming_one_file_are_a_usage_error_before_the_program_runs(
        tmp_path, first, second):
    # Through a link too: the last written would replace the other.
    path = tmp_path / "out"
    (tmp_path / "link").symlink_to(path)
    r = run(first, path, second, tmp_path / "link", script("groutine_adds.py"), "--",
            target(CASES), "ok")
    assert r.code == 2 and r.stdout == "", r
    said = f"error: groutines run: {second} {tmp_path / 'link'}: already the file of {first}\n"
    if first == "--report":
        assert r.stderr == "" and path.read_text() == said, r
    else:
        assert r.stderr == said, r
    if first == "--junit":  # as for any run that never starts
        error = ET.parse(path).getroot().find("testcase/error")
        assert error.get("message").endswith(said[len("error: groutines run: "):-1]), r
    assert sorted(os.listdir(tmp_path)) == (["link"] if first == "--events" else ["link", "out"])


@pytest.mark.parametrize("case", ["load error", "missing program", "bad output"])
def test_a_run_that_never_starts_still_writes_its_junit_file_with_the_error(tmp_path, case):
    junit = tmp_path / "junit.xml"
    args = {
        "load error": [script("groutine_broken.py"), "--", target(CASES), "ok"],
        "missing program": [script("groutine_adds.py"), "--", tmp_path / "nonesuch"],
        "bad output": ["--trace", tmp_path / "missing" / "trace.json",
                       script("groutine_adds.py"), "--", target(CASES), "ok"],
    }[case]
    r = run("--junit", junit, *args)
    assert r.code == 2, r
    said = r.stderr.splitlines()[-1]
    assert said.startswith("error: groutines run: "), r
    suite = ET.parse(junit).getroot()
    assert (suite.get("tests"), suite.get("errors"), suite.get("failures")) == ("1", "1", "0")
    (case,) = suite.findall("testcase")
    assert case.get("name") == "target"
    error = case.find("error")
    assert error.get("type") == "usage"
    assert error.get("message").endswith(said[len("error: groutines run: "):]), (error.attrib, r)
    assert os.listdir(tmp_path) == ["junit.xml"]


# --- Options ---

@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e400", "0", "-3", "soon", ""])
def test_a_timeout_that_is_not_a_positive_number_of_seconds_is_a_usage_error(value):
    r = run(f"--timeout={value}", script("groutine_adds.py"), "--", target(CASES), "ok")
    assert r.code == 2 and r.stdout == "", r
    assert r.stderr == f"error: groutines run: --timeout {value}: expected a positive number " \
                       "of seconds\n", r


# --- Standard streams ---

@pytest.mark.parametrize("closed", [1, 2])
def test_a_closed_stdout_or_stderr_is_left_alone_and_the_exit_code_is_the_runs(
        tmp_path, closed):
    report = tmp_path / "report.txt"
    for args in ([], ["--report", report]):
        proc = launch(*args, script("groutine_adds.py"), "--", target(CASES), "status", "7",
                      stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                      preexec_fn=lambda: os.close(closed))
        out = (proc.stdout if closed == 2 else proc.stderr).read()
        code, _ = end(proc)
        proc.stdout.close()
        proc.stderr.close()
        assert code == 5, out  # EXIT_STATUS (7 is not 0), not 1, the exit code of a traceback
        assert b"Traceback" not in out, out
        if closed == 1 and not args:
            assert b"runner_cases exited with status 7" in out, out
    assert "runner_cases exited with status 7" in report.read_text()


# --- Temporary files ---

def runs_in(tmpdir):
    """runs_in() is the runner's temporary directories left in tmpdir."""
    return [name for name in os.listdir(tmpdir) if name.startswith("groutines-run-")]


def files_in(tmpdir):
    """files_in() is every file under tmpdir (directories left empty are not files)."""
    return [os.path.join(d, f) for d, _, files in os.walk(tmpdir) for f in files]


def test_a_run_leaves_no_temporary_file_of_its_own_or_of_lldb(tmp_path):
    # LLDB writes the source of an expression it compiles to TMPDIR/lldb/PID/, and removes it
    # only when it is terminated, which the runner never does.
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    r = run(script("groutine_adds.py"), "--", target(CASES), "ok", env={"TMPDIR": str(tmpdir)})
    assert r.code == 0, r
    assert files_in(tmpdir) == [], r


def test_a_hard_timeout_leaves_no_temporary_directory(tmp_path):
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    # stdout a regular file: the runner relays it through a FIFO in a directory of its own.
    with open(tmp_path / "out.txt", "w") as out:
        proc = launch("--timeout", "1", script("groutine_spins.py"), "--", target(CASES), "ok",
                      env={"TMPDIR": str(tmpdir)}, stdin=subprocess.DEVNULL, stdout=out,
                      stderr=subprocess.PIPE)
        err = proc.stderr.read()
        code, _ = end(proc)
        proc.stderr.close()
    assert code == 4, err
    assert b"the debugger did not stop the target within" in err, err
    assert runs_in(tmpdir) == [], err


@pytest.mark.parametrize("signo", [signal.SIGTERM, signal.SIGHUP])
def test_a_runner_ended_by_a_signal_leaves_no_temporary_directory(tmp_path, signo):
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    # stderr a regular file: the runner relays it through a FIFO in a directory of its own.
    with open(tmp_path / "err.txt", "w") as err:
        proc = launch(script("groutine_adds.py"), "--", target(CASES), "hang",
                      env={"TMPDIR": str(tmpdir)}, stdin=subprocess.DEVNULL,
                      stdout=subprocess.PIPE, stderr=err)
        assert proc.stdout.readline() == b"hanging\n"
        assert len(runs_in(tmpdir)) == 1  # made, while it runs
        proc.send_signal(signo)
        proc.stdout.read()  # EOF once the target, which holds it too, is gone
        code, _ = end(proc)
        proc.stdout.close()
    said = (tmp_path / "err.txt").read_text()
    assert code == 128 + signo, said
    assert f"interrupted by {signal.Signals(signo).name}" in said, said
    assert runs_in(tmpdir) == [], said


# --- The event log ---

def test_events_and_trace_are_written_in_memory_that_does_not_grow_with_the_log(tmp_path):
    def events_run(count):
        events, trace = tmp_path / f"events-{count}.jsonl", tmp_path / f"trace-{count}.json"
        proc = launch("--events", events, "--trace", trace, "--set", f"fires.count={count}",
                      script("groutine_fires.py"), "--", target(CASES), "ok",
                      stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                      stderr=subprocess.PIPE)
        err = proc.stderr.read()
        code, usage = end(proc)
        proc.stderr.close()
        assert code == 0, err
        return events, trace, usage.ru_maxrss * 1024

    _, small_trace, small_rss = events_run(10)
    events, trace, rss = events_run(50_000)
    # Every event is there, in order, as the small run's are.
    fillers = 0
    with open(events) as f:
        for line in f:
            e = json.loads(line)
            if e["function"] == "filler":
                assert e["data"]["i"] == fillers and len(e["data"]["text"]) == 1000
                fillers += 1
    assert fillers == 50_000
    data = json.loads(small_trace.read_text())
    assert [e["args"]["i"] for e in data["traceEvents"] if e["name"] == "custom: filler"] == \
        list(range(10))
    with open(trace, "rb") as f:
        f.seek(-200, os.SEEK_END)
        assert f.read().endswith(b'"clock": "microseconds since the first event"}}\n')
    # The plugin's log holds the events (about as big as the file); read as one string, the
    # runner would hold several copies of it at once besides.
    size = events.stat().st_size
    assert size > 50_000 * 1000
    assert rss - small_rss < 2 * size, (rss, small_rss, size)
