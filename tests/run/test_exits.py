"""How the target ends, as the runner reports it, when a groutine hooks the call that ends it."""
import pytest

from conftest import run, script, target


@pytest.mark.parametrize("transport", ["agent", "breakpoint"])
def test_a_program_with_threads_that_calls_hooked_exit_exits_with_its_status(transport):
    # Stopped at _exit's hook and resumed with its 16 other threads, the main thread once ended
    # the process before lldb-server resumed them all; LLDB read the failed resume as a lost
    # connection: "exited with status -1", now and then.
    r = run("--transport", transport, script("groutine_exits.py"), "--",
            target("runner_cases"), "exit-threads", "3")
    assert r.code == 5 and "runner_cases exited with status 3" in r.stderr, r
    assert "1 passed, 0 failed" in r.stderr, r


@pytest.mark.parametrize("transport", ["agent", "breakpoint"])
def test_every_call_of_a_program_that_execs_itself_is_delivered(transport):
    # acquire() from site_a() before the execve, then from site_a() and site_b() after it. The
    # agent had patched acquire in the old image; with ASLR off the new one is at the same
    # address and LLDB kept its disabled location: the calls after the execve were lost.
    r = run("--transport", transport, script("groutine_exec_calls.py"), "--",
            target("runner_cases"), "exec", "resources")
    assert r.code == 0 and "PASS acquire_calls (passed, 6 events)" in r.stderr, r
    assert "PASS malloc_calls" in r.stderr, r
    assert "site A ok\nsite A ok\nsite B ok\n" == r.stdout, r


@pytest.mark.parametrize("transport", ["agent", "breakpoint"])
def test_every_call_of_a_program_that_env_execs_is_delivered(transport):
    # env calls malloc through the agent, then execs runner_cases: before, the old agent's
    # trampolines served the new program's calls (SIGSEGV).
    r = run("--transport", transport, script("groutine_exec_calls.py"), "--",
            "/usr/bin/env", target("runner_cases"), "resources")
    assert r.code == 0 and "PASS acquire_calls (passed, 4 events)" in r.stderr, r
