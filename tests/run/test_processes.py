"""`groutines run` and the target's process: the target gets the argv, environment and
standard streams a shell would give it, signals reach it as without the debugger, and every
death by a signal is reported as a kill (exit code 3). Each case runs tests/targets/
process_cases under the runner and, where it compares, without it."""
import os
import re
import signal
import subprocess
import sys

import pytest

from conftest import BUILD, LAUNCHER, TIMEOUT, Terminal, run, script, target

CASES = "process_cases"


def runner(*args):
    """runner() is the command line of `groutines run ARGS...` (ARGS str or bytes)."""
    return [sys.executable.encode(), os.fsencode(LAUNCHER), b"run", *map(os.fsencode, args)]


def launch(argv, env=None, **kwargs):
    """launch() runs argv to its end (within TIMEOUT) and returns the CompletedProcess, its
    output as bytes."""
    env = dict(os.environb if env is None else env)
    env[b"GROUTINES_BUILD_DIR"] = os.fsencode(BUILD)
    try:
        return subprocess.run(argv, capture_output=True, timeout=TIMEOUT, env=env, **kwargs)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"{argv} did not end within {TIMEOUT}s\n{e.stderr!r}")


def environment():
    """environment() is the test's environment as bytes with no locale variable (so that
    Python's locale coercion, PEP 538, happens in the runner) and one value that is not
    UTF-8."""
    env = {k: v for k, v in os.environb.items()
           if k not in (b"LANG", b"LANGUAGE", b"LC_ALL", b"LC_CTYPE")}
    env[b"GROUTINES_TEST_NOT_UTF8"] = b"caf\xe9 \xff\xfe"
    return env


def test_arguments_that_are_not_utf8_reach_the_target_byte_for_byte():
    args = [b"args", b"caf\xe9", b"\xff\xfe", "caf\u00e9".encode(), b"", b"?", b"#\xff"]
    alone = launch([target(CASES), *args])
    assert alone.returncode == 0, alone
    ran = launch(runner(script("groutine_adds.py"), "--", target(CASES), *args))
    assert ran.returncode == 0, ran
    assert ran.stdout == alone.stdout, (ran.stdout, alone.stdout, ran.stderr)
    assert b"argv[2]=" + b"caf\xe9".hex().encode() + b"\n" in ran.stdout, ran


def test_a_program_whose_path_is_not_utf8_is_a_clear_usage_error(tmp_path):
    program = os.path.join(os.fsencode(tmp_path), b"caf\xe9")
    os.symlink(target(CASES), program)
    ran = launch(runner(script("groutine_adds.py"), "--", program, "args"))
    err = ran.stderr.decode(errors="replace")
    assert ran.returncode == 2, err
    assert "Traceback" not in err, err
    assert "caf\\xe9': its path is not UTF-8" in err, err


def test_the_target_gets_the_runners_environment_byte_for_byte_and_no_lc_ctype():
    env = environment()
    alone = launch([target(CASES), "env"], env=env)
    ran = launch(runner(script("groutine_adds.py"), "--", target(CASES), "env"), env=env)
    assert ran.returncode == 0, ran
    seen = {bytes.fromhex(line.decode()) for line in ran.stdout.splitlines()}
    expected = {bytes.fromhex(line.decode()) for line in alone.stdout.splitlines()}
    expected.add(b"GROUTINES_BUILD_DIR=" + os.fsencode(BUILD))
    assert b"GROUTINES_TEST_NOT_UTF8=caf\xe9 \xff\xfe" in seen, ran
    # The agent's LD_PRELOAD is the one variable the runner adds (docs/run.md).
    assert {e for e in seen if not e.startswith(b"LD_PRELOAD=")} == expected, (
        seen ^ expected)


# process_cases_stripped has no `main` symbol: the runner closes the descriptor where libc
# starts the program instead.
@pytest.mark.parametrize("program", [CASES, "process_cases_stripped"])
def test_a_closed_stdin_is_closed_in_the_target_as_under_a_shell_and_the_run_ends(program):
    shell = ["/bin/sh", "-c", 'exec "$@" <&-', "sh"]
    alone = launch(shell + [target(program), "stdin"])
    assert alone.stdout == b"stdin: closed\n", alone
    ran = launch(shell + runner(script("groutine_adds.py"), "--", target(program), "stdin"))
    assert ran.returncode == 0, ran
    assert ran.stdout == b"stdin: closed\n", ran


def test_a_descriptor_the_runner_cannot_close_in_a_static_program_is_said_in_one_line():
    shell = ["/bin/sh", "-c", 'exec "$@" <&-', "sh"]
    ran = launch(shell + runner(script("groutine_adds.py"), "--", target("process_cases_static"),
                                "stdin"))
    err = ran.stderr.decode(errors="replace")
    assert ran.returncode == 0, err
    assert ran.stdout == b"stdin: 0 bytes\n", ran
    assert ("groutines run: cannot close descriptor 0 in the target (use of undeclared "
            "identifier 'close'): it stays /dev/null\n") in err, err
    assert "user expression" not in err, err


def test_a_stop_on_failure_session_with_stdin_closed_ends_at_once_and_the_run_goes_on():
    shell = ["/bin/sh", "-c", 'exec "$@" <&-', "sh"]
    ran = launch(shell + runner("--stop-on-failure", script("groutine_wrong.py"), "--",
                                target("runner_cases"), "ok"))
    err = ran.stderr.decode(errors="replace")
    assert ran.returncode == 1, err
    assert "internal error" not in err, err
    assert "FAIL add_is_wrong" in err and "runner_cases exited with status 0" in err, err


def test_a_piped_stop_on_failure_session_that_continues_the_target_ends_at_quit():
    # `continue` resumes the target, `quit` comes at once: the run goes on to the end of the
    # target and its report.
    r = run("--stop-on-failure", script("groutine_wrong.py"), "--", target("runner_cases"),
            "ok", stdin="continue\nquit\n")
    assert r.code == 1, r
    assert r.stdout == "add=5 fact=120\n", r
    assert "FAIL add_is_wrong" in r.stderr, r
    assert "runner_cases exited with status 0" in r.stderr, r


@pytest.mark.parametrize("transport", ["agent", "breakpoint"])
def test_a_piped_stop_on_failure_session_ends_at_quit_while_hooks_stop_the_target_often(
        transport):
    # After `continue` the hooks of add_adds stop the target at each of 200 calls, and LLDB
    # resumes it at once: the session must not end on one of those stops, which read
    # "stopped" while the target runs on (the run then waited forever).
    r = run("--transport", transport, "--stop-on-failure", script("groutine_wrong.py"),
            script("groutine_adds.py"), "--", target("runner_cases"), "threads",
            stdin="continue\nquit\n")
    assert r.code == 1, r
    # The session's `continue` returns when the target has ended, before `quit` is read.
    assert re.search(r"\(lldb\) continue\nProcess \d+ resuming\n"
                     r"Process \d+ exited with status = 0 .*\n\(lldb\) quit\n", r.stderr), r
    assert "FAIL add_is_wrong" in r.stderr, r
    assert "PASS add_adds" in r.stderr, r
    assert "stop requested" not in r.stderr, r
    assert "runner_cases exited with status 0" in r.stderr, r
    assert "internal error" not in r.stderr, r


def test_a_target_killed_at_a_stop_on_failure_prompt_is_reported_killed_by_sigkill():
    r = run("--stop-on-failure", script("groutine_wrong.py"), "--", target("runner_cases"),
            "ok", stdin="process kill\nquit\n")
    assert r.code == 3, r
    assert "runner_cases was killed by SIGKILL" in r.stderr, r


@pytest.mark.parametrize("args, name", [
    (["raise", str(int(signal.SIGALRM))], "SIGALRM"),
    (["raise", str(int(signal.SIGUSR1))], "SIGUSR1"),
    (["raise", str(int(signal.SIGTERM))], "SIGTERM"),
    (["raise", str(int(signal.SIGTRAP))], "SIGTRAP"),
    (["segv"], "SIGSEGV"),
    (["abort"], "SIGABRT"),
])
def test_a_target_killed_by_any_signal_is_reported_killed_by_it_with_exit_3(args, name):
    r = run(script("groutine_adds.py"), "--", target(CASES), *args)
    assert r.code == 3, r
    assert f"{CASES} was killed by {name}" in r.stderr, r
    assert "survived" not in r.stdout, r


def test_a_crash_signal_is_reported_with_the_crashing_threads_backtrace():
    r = run(script("groutine_adds.py"), "--", target(CASES), "segv")
    assert r.code == 3, r
    assert "crash: SIGSEGV on thread 1" in r.stderr, r
    assert "process_cases`main" in r.stderr, r


def test_a_signal_the_target_handles_and_survives_is_not_a_kill():
    # It exits with the signal's number as its status: an exit all the same.
    r = run(script("groutine_adds.py"), "--", target(CASES), "handle",
            str(int(signal.SIGTERM)), str(int(signal.SIGTERM)))
    assert r.code == 5, r
    assert r.stdout == f"handled {int(signal.SIGTERM)}\n", r
    assert f"{CASES} exited with status {int(signal.SIGTERM)}" in r.stderr, r


def wait_for_pid(proc):
    """wait_for_pid() reads the target's "pid P" line from a runner's stdout, within
    TIMEOUT."""
    import select
    ready, _, _ = select.select([proc.stdout], [], [], TIMEOUT)
    if not ready:
        proc.terminate()  # the runner kills its target
        pytest.fail(f"the target printed no pid within {TIMEOUT}s")
    line = proc.stdout.readline()
    assert line.startswith(b"pid "), line
    return int(line.split()[1])


def runner_process(*args):
    return subprocess.Popen(runner(*args), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE,
                            env=dict(os.environ, GROUTINES_BUILD_DIR=str(BUILD)))


def finish(proc):
    try:
        out, err = proc.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.terminate()  # the runner kills its target
        out, err = proc.communicate()
        pytest.fail(f"groutines run did not end within {TIMEOUT}s\n{err!r}")
    return proc.returncode, out, err.decode(errors="replace")


@pytest.mark.parametrize("signo", [signal.SIGKILL, signal.SIGINT, signal.SIGUSR2])
def test_a_signal_sent_to_the_target_from_outside_kills_it_as_without_the_runner(signo):
    proc = runner_process(script("groutine_adds.py"), "--", target(CASES), "wait")
    os.kill(wait_for_pid(proc), signo)
    code, _, err = finish(proc)
    assert code == 3, err
    assert f"{CASES} was killed by {signal.Signals(signo).name}" in err, err


def test_a_sigint_sent_to_the_target_reaches_its_handler():
    proc = runner_process(script("groutine_adds.py"), "--", target(CASES), "wait-sigint")
    os.kill(wait_for_pid(proc), signal.SIGINT)
    code, out, err = finish(proc)
    assert code == 0, err
    assert out == b"got SIGINT\n", (out, err)


def test_ctrl_c_on_the_terminal_reaches_the_target_which_dies_of_it():
    term = Terminal("--timeout", "30", script("groutine_adds.py"), "--", target(CASES), "wait")
    term.expect(b"pid ")
    term.expect(b"\r\n")
    term.send("\x03")
    assert term.wait() == 3, term.output
    assert b"process_cases was killed by SIGINT" in term.output, term.output


def test_ctrl_c_on_the_terminal_reaches_the_target_when_stdin_is_not_the_terminal():
    term = Terminal("--timeout", "30", script("groutine_adds.py"), "--", target(CASES),
                    "wait-sigint", stdin=os.devnull)
    term.expect(b"pid ")
    term.expect(b"\r\n")
    term.send("\x03")
    assert term.wait() == 0, term.output
    assert b"got SIGINT\r\n" in term.output, term.output
