"""Python groutines in real LLDB, over tests/targets/calls.c, loaded through the plugin
entry point (groutines._host) from LLDB's embedded Python: deliveries come from LLDB's private
state thread, LLDB's own Python may drive the process, and LLDB exits cleanly afterwards.
Skipped when LLDB, the plugin or the test programs are not built."""
import os
import shutil
import subprocess

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPTS = os.path.join(HERE, "scripts")
LLDB = os.environ.get("GROUTINES_LLDB", "lldb-19")
PLUGIN = os.environ.get("GROUTINES_PLUGIN", "")
TARGETS = os.environ.get("GROUTINES_TARGETS", "")
EXAMPLES = os.environ.get("GROUTINES_EXAMPLES", "")
PYTHON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(
    __import__("groutines").__file__)))
TIMEOUT = 120

pytestmark = pytest.mark.skipif(
    not (shutil.which(LLDB) and os.path.exists(PLUGIN)
         and os.path.exists(os.path.join(TARGETS, "calls_O0_g"))),
    reason="needs lldb-19, the groutines plugin (GROUTINES_PLUGIN) and tests/targets "
           "(GROUTINES_TARGETS)")


def lldb(program, script, *commands, before=("groutine list",)):
    """lldb() runs LLDB in batch mode: the plugin, program, the commands before (the first
    groutine command makes the plugin's runtime, the default one), the script loaded with
    groutines._host.load_command, then commands. Returns (output, exit status)."""
    load = ("script import sys; sys.path.insert(0, %r); import groutines._host; "
            "print(groutines._host.load_command(%r))" % (PYTHON_DIR, script))
    args = [LLDB, "--batch", "--no-lldbinit", "-o", f"plugin load {PLUGIN}",
            "-o", f"file {os.path.join(TARGETS, program)}"]
    for c in before:
        args += ["-o", c]
    args += ["-o", load]
    for c in commands:
        args += ["-o", c]
    env = dict(os.environ, LLDB_DEBUGSERVER_PATH=os.environ.get(
        "LLDB_DEBUGSERVER_PATH", "/usr/lib/llvm-19/bin/lldb-server"))
    env.pop("PYTHONPATH", None)  # LLDB's Python finds the module through the script above
    try:
        proc = subprocess.run(args, capture_output=True, text=True, timeout=TIMEOUT, env=env,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"lldb did not finish within {TIMEOUT}s (deadlock?): {e.stdout}")
    output = proc.stdout + proc.stderr
    assert "PLEASE submit a bug report" not in output, output
    return output, proc.returncode


def lines(output):
    return [line.rstrip() for line in output.splitlines()]


def test_python_groutines_read_arguments_rewrite_returns_and_skip_calls_in_lldb():
    script = os.path.join(SCRIPTS, "groutine_lldb_calls.py")
    output, status = lldb("calls_O0_g", script, "run 2", "groutine list")
    got = lines(output)
    assert (f"('loaded 4 groutines from {script}\\n"
            "  1 adds                 waiting on call of add\\n"
            "  2 scales               waiting on call of scale\\n"
            "  3 greets               waiting on call of greet\\n"
            "  4 skip_parse           waiting on call of parse_header\\n', '')" in got), output
    for line in ["py: add(0,1) named={'a': 0, 'b': 1} evaluated=1 -> 1",
                 "py: add(1,2) named={'a': 1, 'b': 2} evaluated=12 -> 3", "add(0,1)=1001",
                 "add(1,2)=1003", "py: scale(1.5,2.0) -> 3.0", "py: scale(2.5,3.0) -> 7.5",
                 'parse_header("GR header 0",11)=-7', 'parse_header("XX header 1",11)=-1',
                 "py: greet ada -> hello, ada", "py: greet bob -> hello, bob",
                 "[skip_parse] skipped parse_header"]:
        assert line in got, f"{line!r} missing:\n{output}"
    assert "Process" in output and "exited with status = 0" in output, output
    assert status == 0, output


def test_a_failed_assert_has_its_file_and_line_and_a_stale_call_raises_in_lldb():
    script = os.path.join(SCRIPTS, "groutine_lldb_failures.py")
    output, status = lldb("calls_O2_g", script, "run 1", "continue", "groutine report")
    got = lines(output)
    assert "groutine 'stopper' stopped the target: mix called with a=0" in got, output
    assert ("[stale] stale: event #4 is no longer current: the target has resumed since it "
            "was delivered") in got, output
    assert any(line.startswith(f"  {script}:17: AssertionError: assert ret.value > 100 ")
               for line in got), output
    assert "2 passed, 1 failed" in got, output
    assert status == 0, output


def test_driving_the_process_from_lldb_python_does_not_deadlock():
    script = os.path.join(SCRIPTS, "groutine_lldb_calls.py")
    output, status = lldb("calls_O0_g", script, "b main", "run 2",
                          "script lldb.process.Continue()",
                          "script print('state', lldb.process.GetState())")
    got = lines(output)
    assert "add(1,2)=1003" in got, output
    assert "state 10" in got, output  # eStateExited
    assert status == 0, output


def test_python_and_cpp_groutines_fire_events_and_reply_to_each_other_in_lldb():
    events = os.path.join(EXAMPLES, "libgroutine_events.so")
    if not os.path.exists(events):
        pytest.skip(f"{events} is not built")
    script = os.path.join(SCRIPTS, "groutine_lldb_events.py")
    output, status = lldb("calls_O2_g", script, "run 2", 'groutine fire question q="hi"',
                          "groutine fire ping n=41", before=(f"groutine load {events}",))
    got = lines(output)
    for line in ["[asks_cpp] ping 0 -> [('echo', 1, 1)], count -> [('add-counter', 1)]",
                 "[asks_cpp] ping 1 -> [('echo', 1, 2)], count -> [('add-counter', 2)]",
                 'reply from answers (#4): "python heard hi"',
                 "reply from echo (#1): 42"]:
        assert line in got, f"{line!r} missing:\n{output}"
    assert status == 0, output


def test_the_value_of_a_floating_return_is_a_float_with_debug_info_and_an_int_without():
    script = os.path.join(SCRIPTS, "groutine_float_return.py")
    with_dwarf, status = lldb("calls_O0_g", script, "run 1")
    assert status == 0, with_dwarf
    assert "scale value 3.0 float returns_float" in with_dwarf, with_dwarf
    without, status = lldb("calls_O0", script, "run 1")
    assert status == 0, without
    assert "scale value " in without and " int returns_float" in without, without
