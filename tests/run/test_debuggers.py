"""`groutines run --debugger gdb` against `--debugger lldb`: the same run under each debugger
gives the same exit code, the same report (but thread ids), the same JUnit, trace and events
files (but where said), and the target's standard streams byte for byte as a plain run of
the program gives them: GDB's own messages never reach them (docs/run.md, "Drivers").

Each scenario runs under both debuggers and compares; what differs under GDB, and why, is
said where it is checked."""
import json
import os
import re
import shutil
import signal
import subprocess
import xml.etree.ElementTree as ET

import pytest

from conftest import BUILD, LAUNCHER, TIMEOUT, run, script, target

CASES = "runner_cases"
PROCESS = "process_cases"
HAVE_GDB = shutil.which("gdb") is not None and (BUILD / "python" / "groutines_gdb_driver").exists()
pytestmark = pytest.mark.skipif(not HAVE_GDB, reason="gdb or the GDB driver is not built")


def normalized(report):
    """normalized() is a report without what differs between two runs of one program: thread
    ids (tid N, thread N: of a failure's backtrace; a thread's index, thread 2, stays); and
    without what differs between the debuggers: the frames of a backtrace outside the
    program (in libc, GDB shows an inlined function as a frame of its own, as
    __pthread_kill_internal below __pthread_kill_implementation, and names some by another
    alias, clone3 for LLDB's __clone3), and so the frames' numbers."""
    report = re.sub(r"\b(tid|thread) \d{3,}", r"\1 N", report)
    lines = []
    for line in report.splitlines():
        frame = re.match(r"^(\s*)#\d+ (0x[0-9a-f]+ (\S+?)`.*)$", line)
        if frame and frame.group(3) not in (CASES, PROCESS):
            continue
        lines.append(f"{frame.group(1)}#N {frame.group(2)}" if frame else line)
    return "\n".join(lines)


def both(*args, **kwargs):
    """both() runs `groutines run --debugger D ARGS` under LLDB and GDB: (lldb, gdb) Runs.
    LLDB's with --transport breakpoint (the agent preloaded under LLDB moves the libraries'
    addresses in its backtraces), GDB's on its default transport (the agent where it can)."""
    return (run("--debugger", "lldb", "--transport", "breakpoint", *args, **kwargs),
            run("--debugger", "gdb", *args, **kwargs))


def alone(*argv, stdin=""):
    """alone() runs a program without the runner: its CompletedProcess (text)."""
    return subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=TIMEOUT)


@pytest.mark.parametrize("args, code", [
    pytest.param([script("groutine_adds.py"), "--", target(CASES), "ok"], 0, id="pass"),
    pytest.param([script("groutine_wrong.py"), "--", target(CASES), "ok"], 1, id="fail"),
    pytest.param([script("groutine_adds.py"), "--", target(CASES), "status", "7"], 5,
                 id="status"),
    pytest.param([script("groutine_adds.py"), "--", target(CASES), "crash-thread"], 3,
                 id="crash"),
    pytest.param([script("groutine_adds.py"), "--", target(PROCESS), "raise",
                  str(int(signal.SIGUSR1))], 3, id="signal"),
    pytest.param([script("groutine_adds.py"), "--", target(PROCESS), "abort"], 3, id="abort"),
    pytest.param(["--timeout", "2", script("groutine_adds.py"), "--", target(CASES), "hang"], 4,
                 id="timeout"),
    pytest.param([script("groutine_stops.py"), "--", target(CASES), "ok"], 0, id="stop"),
    pytest.param(["nowhere.py", "--", target(CASES)], 2, id="usage"),
    pytest.param([script("groutine_broken.py"), "--", target(CASES)], 2, id="load-error"),
])
def test_a_run_under_gdb_has_the_exit_code_report_and_output_of_the_run_under_lldb(args, code):
    lldb, gdb = both(*args)
    assert lldb.code == code, lldb
    assert gdb.code == code, gdb
    assert normalized(gdb.stderr) == normalized(lldb.stderr), (gdb, lldb)
    assert gdb.stdout == lldb.stdout, (gdb, lldb)


def test_the_targets_stdout_and_stderr_under_gdb_are_byte_for_byte_those_of_a_plain_run():
    # A crash and a thread: GDB prints "Thread 2 received signal SIGSEGV", "[New Thread ...]",
    # "Program terminated with signal" on its own stdout, none of which may reach these.
    text = "line one\nline two\x00\x01 binary\n" * 50
    plain = alone(target(CASES), "echo", stdin=text)
    r = run("--debugger", "gdb", script("groutine_adds.py"), "--", target(CASES), "echo",
            stdin=text)
    assert r.code == 0, r
    assert r.stdout == plain.stdout == text, r
    assert r.stderr.startswith(plain.stderr), r  # the target's, then the runner's report
    r = run("--debugger", "gdb", script("groutine_adds.py"), "--", target(CASES),
            "crash-thread")
    assert r.code == 3 and r.stdout == "", r
    # Four threads hitting hooks (how many calls a busy groutine misses varies from run to
    # run: the report is not compared).
    r = run("--debugger", "gdb", script("groutine_adds.py"), "--", target(CASES), "threads")
    assert r.code == 0 and r.stdout == alone(target(CASES), "threads").stdout, r
    assert "PASS add_adds" in r.stderr, r


def test_a_target_writing_to_a_regular_file_under_gdb_appends_to_it(tmp_path):
    out = tmp_path / "out.txt"
    out.write_text("before\n")
    with open(out, "a") as f:
        proc = subprocess.run(
            ["/usr/bin/python3", str(LAUNCHER), "run", "--debugger", "gdb",
             script("groutine_adds.py"), "--", target(CASES), "ok"],
            stdout=f, stderr=subprocess.PIPE, text=True, timeout=TIMEOUT,
            env=dict(os.environ, GROUTINES_BUILD_DIR=str(BUILD)))
    assert proc.returncode == 0, proc.stderr
    assert out.read_text() == "before\nadd=5 fact=120\n", proc.stderr


def test_arguments_and_environment_reach_the_target_under_gdb_byte_for_byte():
    args = [b"args", b"caf\xe9", b"\xff\xfe", "caf\u00e9".encode(), b"", b"?", b"#\xff",
            b"a b", b"$HOME", b"'\"`\\"]
    plain = subprocess.run([target(PROCESS), *args], capture_output=True, timeout=TIMEOUT)
    env = dict(os.environb, GROUTINES_BUILD_DIR=os.fsencode(BUILD),
               GROUTINES_TEST_NOT_UTF8=b"caf\xe9 \xff\xfe")
    ran = subprocess.run([b"/usr/bin/python3", os.fsencode(LAUNCHER),
                          b"run", b"--debugger", b"gdb", os.fsencode(script("groutine_adds.py")),
                          b"--", os.fsencode(target(PROCESS)), *args],
                         capture_output=True, timeout=TIMEOUT, env=env)
    assert ran.returncode == 0, ran
    assert ran.stdout == plain.stdout, (ran.stdout, plain.stdout)
    envs = subprocess.run([b"/usr/bin/python3", os.fsencode(LAUNCHER),
                           b"run", b"--debugger", b"gdb",
                           os.fsencode(script("groutine_adds.py")), b"--",
                           os.fsencode(target(PROCESS)), b"env"],
                          capture_output=True, timeout=TIMEOUT, env=env)
    seen = {bytes.fromhex(line.decode()) for line in envs.stdout.splitlines()}
    expected = {bytes.fromhex(line.decode()) for line in subprocess.run(
        [target(PROCESS), "env"], capture_output=True, timeout=TIMEOUT,
        env=env).stdout.splitlines()}
    assert seen == expected, seen ^ expected


def test_junit_under_gdb_is_the_junit_under_lldb(tmp_path):
    files = {}
    for debugger in ("lldb", "gdb"):
        files[debugger] = tmp_path / f"{debugger}.xml"
        r = run("--debugger", debugger, "--transport", "breakpoint", "--junit", files[debugger], script("groutine_adds.py"),
                script("groutine_wrong.py"), "--", target(CASES), "crash-thread")
        assert r.code == 3, r

    def shape(path):
        suite = ET.parse(path).getroot()
        for case in suite.iter("testcase"):
            case.attrib.pop("time", None)
        suite.attrib.pop("time", None)
        suite.attrib.pop("timestamp", None)
        return normalized(ET.tostring(suite, encoding="unicode"))

    assert shape(files["gdb"]) == shape(files["lldb"])


def test_events_and_trace_under_gdb_have_the_events_of_lldb(tmp_path):
    got = {}
    for debugger in ("lldb", "gdb"):
        events, trace = tmp_path / f"{debugger}.jsonl", tmp_path / f"{debugger}.json"
        r = run("--debugger", debugger, "--events", events, "--trace", trace,
                script("groutine_adds.py"), "--", target(CASES), "ok")
        assert r.code == 0, r
        got[debugger] = ([json.loads(line) for line in events.read_text().splitlines()],
                         json.loads(trace.read_text()))
    (lldb_events, lldb_trace), (gdb_events, gdb_trace) = got["lldb"], got["gdb"]
    # The same events in the same order, with the same calls, values and data. A call's
    # args differ: GDB's event log has the registers the groutines read (rdi=2), not every
    # argument by DWARF name (gdb_frontend/README.md, "The commands").
    keys = ("seq", "kind", "function", "call", "value", "skipped", "unwound", "rewritten")
    assert [{k: e[k] for k in keys} for e in gdb_events] == \
        [{k: e[k] for k in keys} for e in lldb_events]
    assert next(e for e in gdb_events if e["kind"] == "call" and e["function"] == "add")[
        "args"] == {"rdi": 2, "rsi": 3}

    def slices(trace):
        return sorted((e["name"], e["ph"]) for e in trace["traceEvents"] if e["ph"] != "M")

    assert slices(gdb_trace) == slices(lldb_trace)


def test_stock_calls_and_a_cpp_groutine_library_run_under_gdb_as_under_lldb():
    lldb, gdb = both("--set", "calls.functions=fa*,add", "stock:calls", "--", target(CASES),
                     "ok")
    assert lldb.code == gdb.code == 0, (lldb, gdb)
    def tids(text):  # calls names the thread of each line: [  2250] |
        return re.sub(r"^\[calls\] \[ *\d+\] \|", "[calls] [N] |", text, flags=re.M)

    assert tids(gdb.stderr) == tids(lldb.stderr), (gdb, lldb)
    assert "| add(a=2, b=3) = 5;" in gdb.stderr, gdb
    library = BUILD / "tests" / "lldb" / "libgroutine_failing_checks.so"
    lldb, gdb = both(library, "--", target(CASES), "ok")
    assert lldb.code == gdb.code == 1, (lldb, gdb)
    assert normalized(gdb.stderr) == normalized(lldb.stderr), (gdb, lldb)


def test_a_runner_under_gdb_ended_by_sigterm_kills_its_target():
    proc = subprocess.Popen(
        ["/usr/bin/python3", str(LAUNCHER), "run", "--debugger", "gdb", script("groutine_adds.py"),
         "--", target(PROCESS), "wait"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env=dict(os.environ, GROUTINES_BUILD_DIR=str(BUILD)))
    import select
    ready, _, _ = select.select([proc.stdout], [], [], TIMEOUT)
    if not ready:
        proc.kill()
        pytest.fail("the target printed no pid")
    pid = int(proc.stdout.readline().split()[1])
    proc.terminate()
    try:
        _, err = proc.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail("the runner did not end at SIGTERM")
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert b"interrupted by SIGTERM; the target was killed" in err, err
    assert not os.path.exists(f"/proc/{pid}") or \
        open(f"/proc/{pid}/stat").read().split(")")[1].split()[0] == "Z", "target left running"


def runner_command(*args):
    return ["/usr/bin/python3", str(LAUNCHER), "run", *map(str, args)]


def test_a_closed_stdin_is_closed_in_the_target_under_gdb_and_the_report_is_lldbs():
    shell = ["/bin/sh", "-c", 'exec "$@" <&-', "sh"]
    runs = {}
    for debugger in ("lldb", "gdb"):
        runs[debugger] = subprocess.run(
            shell + runner_command("--debugger", debugger, "--transport", "breakpoint",
                                   script("groutine_adds.py"), "--", target(PROCESS), "stdin"),
            capture_output=True, text=True, timeout=TIMEOUT,
            env=dict(os.environ, GROUTINES_BUILD_DIR=str(BUILD)))
    assert runs["gdb"].returncode == 0, runs["gdb"]
    assert runs["gdb"].stdout == "stdin: closed\n", runs["gdb"]
    # The runner's warning comes before the program's first line, as under LLDB.
    assert runs["gdb"].stderr == runs["lldb"].stderr, runs


def test_a_sigint_sent_to_the_target_under_gdb_reaches_its_handler():
    # GDB keeps SIGINT by default; the driver passes it on, as LLDB's does.
    proc = subprocess.Popen(runner_command("--debugger", "gdb", script("groutine_adds.py"), "--",
                                           target(PROCESS), "wait-sigint"),
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE,
                            env=dict(os.environ, GROUTINES_BUILD_DIR=str(BUILD)))
    import select
    ready, _, _ = select.select([proc.stdout], [], [], TIMEOUT)
    if not ready:
        proc.kill()
        pytest.fail("the target printed no pid")
    os.kill(int(proc.stdout.readline().split()[1]), signal.SIGINT)
    try:
        out, err = proc.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    assert proc.returncode == 0, err
    assert out == b"got SIGINT\n", (out, err)


def test_a_piped_stop_on_failure_session_under_gdb_runs_gdb_commands_then_the_run_goes_on():
    # Differs: the session is a (gdb) prompt, each line a GDB command whose output goes to
    # stderr (GDB's interactive command loop cannot run inside a batch-mode GDB's Python).
    r = run("--debugger", "gdb", "--stop-on-failure", script("groutine_wrong.py"), "--",
            target(CASES), "ok", stdin="bt 1\ncontinue\nquit\n")
    assert r.code == 1, r
    assert r.stdout == "add=5 fact=120\n", r
    assert "the (gdb) prompt is yours" in r.stderr, r
    assert "(gdb) #0  " in r.stderr and " in main (" in r.stderr, r
    assert "FAIL add_is_wrong" in r.stderr, r
    assert "runner_cases exited with status 0" in r.stderr, r


def test_ctrl_c_on_the_terminal_reaches_the_target_under_gdb_which_dies_of_it():
    from conftest import Terminal
    term = Terminal("--debugger", "gdb", "--timeout", "30", script("groutine_adds.py"), "--",
                    target(PROCESS), "wait")
    term.expect(b"pid ")
    term.expect(b"\r\n")
    term.send("\x03")
    assert term.wait() == 3, term.output
    assert b"process_cases was killed by SIGINT" in term.output, term.output


def test_a_program_and_a_temporary_directory_with_blanks_and_quotes_run_under_gdb(tmp_path):
    awkward = tmp_path / "aw k'd \"x\""
    (awkward / "tmp dir").mkdir(parents=True)
    program = awkward / "run ner"
    shutil.copy(target(CASES), program)
    r = run("--debugger", "gdb", "--events", awkward / "ev.jsonl", script("groutine_adds.py"),
            "--", program, "ok", env={"TMPDIR": str(awkward / "tmp dir")})
    assert r.code == 0, r
    assert r.stdout == "add=5 fact=120\n", r
    assert "run ner exited with status 0" in r.stderr, r
    assert (awkward / "ev.jsonl").read_text(), r
    assert list((awkward / "tmp dir").iterdir()) == [], "temporary files left"


def test_the_agent_transport_under_gdb_gives_the_breakpoint_transports_run():
    # Four threads call add() 50 times each: after the first call, the agent serves them.
    args = [script("groutine_adds.py"), "--", target(CASES), "threads"]
    agent = run("--debugger", "gdb", "--transport", "agent", *args)
    breakpoints = run("--debugger", "gdb", "--transport", "breakpoint", *args)
    assert agent.code == breakpoints.code == 0, (agent, breakpoints)
    assert agent.stdout == breakpoints.stdout, (agent, breakpoints)
    # add_adds awaits each return before taking the next call: the calls made meanwhile (by
    # the other threads) are missed, as many as the timing makes; each run accounts for all.
    for r in (agent, breakpoints):
        m = re.search(r"PASS add_adds \(passed, (\d+) events\)\n(?:  missed (\d+) calls of "
                      r"add \(busy when they came\)\n)?", r.stderr)
        assert m and int(m.group(1)) // 2 + int(m.group(2) or 0) == 200, r
        assert r.stderr.endswith("1 passed, 0 failed, 1 never triggered; runner_cases exited "
                                 "with status 0\n"), r
