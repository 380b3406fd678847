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
