"""The debugging session: the `groutine` command and its errors, stopping the target with a
reason, re-running, firing events from the prompt, unloading, and what a process's end
releases."""
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import PLUGIN, PYTHON_BUILT, TARGETS, driver, example, lldb, \
    plugin_breakpoints, target


def test_help_documents_every_subcommand_with_examples():
    s = lldb("help groutine", "help groutine load", "help groutine events")
    overview = s.output
    for sub in ("load", "list", "unload", "fire", "events", "report", "stop-on-failure",
                "subscriptions"):
        assert re.search(rf"^\s+{sub}\s+-- ", overview, re.M), s
    assert "(lldb) groutine load build/groutines/libgroutine_calls_checks.so" in s.output, s
    assert ("groutine events [-n <count>] [--json [--output <file>]] [--capacity <count>] "
            "[--clear]") in s.output, s
    # Prose is left for LLDB to wrap: no line of it ends in the middle of a sentence.
    assert "\nThey\n" not in s.output, s


# What `groutine load x.py` says when the Python package is not built beside the plugin.
NO_PACKAGE = ("error: groutine load: Python groutines need the groutines Python package, which "
              f"is not beside the plugin (looked in {PLUGIN.parents[1]}/python, {PLUGIN.parents[1]}/"
              "share/groutines/python; set GROUTINES_PYTHON_DIR to the directory that holds "
              "groutines/)")


def test_load_errors_name_what_was_wrong_and_lldb_goes_on(tmp_path):
    script = tmp_path / "g.py"
    script.write_text("def broken(:\n")
    s = driver(
        f"groutine load {example('watch')}",
        f"file {target('calls_O0')}",
        "groutine load /nonexistent/x.so",
        f"groutine load {script}",
        f"groutine load {tmp_path}",
        "groutine load",
        f"groutine load {TARGETS / 'libdl_target.so'}",
        "groutine load /etc/hostname",
        "groutine unload nobody",
        "groutine fire",
        "groutine fire ping x",
        "groutine events -n abc",
        "groutine list extra",
        "groutine list",
    )
    errors = {
        f"groutine load {example('watch')}":
            "error: groutine load: no target: create one first (file PROGRAM), then load groutines",
        "groutine load /nonexistent/x.so": "error: groutine load: no such file '/nonexistent/x.so'",
        # Python files and directories go to the groutines Python module, which reports.
        f"groutine load {script}": f"error: groutine load: {script}:1: SyntaxError: invalid syntax"
        if PYTHON_BUILT else NO_PACKAGE,
        f"groutine load {tmp_path}":
            f"error: groutine load: no groutine scripts in '{tmp_path}' (files named groutine_*.py or *_groutines.py)"
        if PYTHON_BUILT else NO_PACKAGE,
        "groutine load": "error: groutine load: expected one path, got 0 arguments (groutine load <path>)",
        f"groutine load {TARGETS / 'libdl_target.so'}":
            f"error: groutine load: '{TARGETS / 'libdl_target.so'}' defines no groutines (no GROUTINE(...) in it)",
        "groutine unload nobody": "error: groutine unload: no groutine or library called 'nobody'",
        "groutine fire": "error: groutine fire: expected an event name (groutine fire <event> [key=value ...])",
        "groutine fire ping x": "error: groutine fire: 'x' is not key=value",
        "groutine events -n abc": "error: groutine events: 'abc' is not a count for -n",
        "groutine list extra": "error: groutine list: takes no arguments",
    }
    for command, message in errors.items():
        assert s.after(command).strip() == message, s
    assert s.after("groutine load /etc/hostname").startswith(
        "error: groutine load: cannot load '/etc/hostname': "), s
    assert s.after("groutine list").strip() == "no groutines loaded", s


def test_a_groutine_stops_the_target_with_a_reason_and_continue_resumes():
    s = lldb(f"file {target('calls_O0_g')}", f"groutine load {example('watch')}",
             "groutine fire stop-at function=add arg0=1", "run 3", "groutine list",
             "register read edi", "continue", "groutine report")
    reason = "groutine 'stop-at' stopped the target: add called with 1 on thread "
    assert reason in s.output, s
    # Stopped in add(1, 2), before it printed its result; the prompt shows where.
    assert re.search(r"stop reason = breakpoint \d+\.1", s.output), s
    # At the first instruction: the caller's arguments are in their registers.
    assert "edi = 0x00000001" in s.after("register read edi"), s
    assert s.output.index(reason) < s.output.index("add(1,2)=3"), s
    assert "last stop: " + reason in s.after("groutine list"), s
    assert s.logged("stop-at") == ["after the stop: add(2)"], s
    assert "exited with status = 0" in s.output, s
    assert "PASS stop-at (finished, 3 events)" in s.after("groutine report"), s


def test_a_hook_let_go_while_the_target_runs_leaves_no_breakpoint_once_the_process_exits():
    # stop-at stops at the 3rd call of add and ends at the 4th, after `continue`: on the agent
    # transport that call arrives on its service thread while the target runs, and no hit or
    # command comes after it. Its hook's breakpoint and the agent's stop and park pads go all
    # the same, before the process exits, without another visible stop.
    s = lldb(f"file {target('calls_O0_g')}", f"groutine load {example('watch')}",
             "groutine fire stop-at function=add after=3", "run 5", "continue",
             "breakpoint list")
    assert "groutine 'stop-at' stopped the target: add called 3 times" in s.output, s
    assert s.logged("stop-at") == ["after the stop: add(3)"], s
    assert len(re.findall(r"^Process \d+ stopped$", s.output, re.M)) == 1, s
    assert s.target_lines(r"add\(\d,\d\)=\d") == [
        f"add({i},{i + 1})={2 * i + 1}" for i in range(5)], s
    assert "exited with status = 0" in s.output, s
    assert "No breakpoints currently set." in s.after("breakpoint list"), s


def test_hooks_survive_a_rerun():
    s = lldb(f"file {target('calls_O2')}", f"groutine load {example('calls_checks')}", "run 2",
             "run 3", "groutine report", "groutine subscriptions")
    assert s.logged("check-add") == [f"add({i},{i + 1})={2 * i + 1} (no debug info)"
                                     for i in (0, 1, 0, 1, 2)], s
    assert "5 passed, 0 failed" in s.after("groutine report"), s
    # LLDB counts hits per process run.
    assert re.search(r"^add\s+1\s+1\s+\d+\s+3\s+\S+$", s.after("groutine subscriptions"), re.M), s


def test_fire_from_the_prompt_prints_the_replies_of_listeners():
    s = lldb(f"file {target('calls_O0')}", f"groutine load {example('events')}",
             "groutine fire ping n=41", "groutine fire ping n=oops", "groutine fire nobody",
             "groutine fire count", "run 2", "groutine fire count", "groutine events -n 3")
    assert s.after("groutine fire ping n=41") == "reply from echo (#1): 42", s
    assert s.after("groutine fire ping n=oops") == \
        'reply from echo (#1): "n is not an integer: \\"oops\\""', s
    assert s.after("groutine fire nobody") == "no replies", s
    counts = [line for line in s.lines() if line.startswith("reply from add-counter")]
    assert counts == ["reply from add-counter (#2): 0", "reply from add-counter (#2): 2"], s
    assert re.search(r"^\d+\s+0\s+custom\s+count\s*$", s.after("groutine events -n 3"), re.M), s


def test_fire_while_stopped_in_a_call_reaches_groutines():
    s = lldb(f"file {target('calls_O0')}", f"groutine load {example('events')}",
             f"groutine load {example('watch')}", "groutine fire stop-at function=add arg0=1",
             "run 3", "groutine fire count", "groutine fire ping n=1", "continue")
    assert s.after("groutine fire count") == "reply from add-counter (#2): 2", s
    assert s.after("groutine fire ping n=1") == "reply from echo (#1): 2", s


def test_process_exit_releases_every_return_breakpoint():
    # thrower(3) throws as the last call: its return is awaited when the process exits.
    s = lldb(f"file {target('unwind_exception')}", f"groutine load {example('watch')}",
             "groutine fire watch slot=a function=thrower", "run 4", "groutine list",
             "breakpoint list", "groutine subscriptions")
    assert s.logged("watch-a")[-1].startswith("thrower(3) unwound"), s
    assert plugin_breakpoints(s) == [], s
    assert "returns awaited: 0 calls at 0 return addresses" in s.after("groutine subscriptions")
    # The call hook stays: it resolves again when the program is re-run.
    assert re.search(r"^thrower\s+1\s+1\s+", s.after("groutine subscriptions"), re.M), s


def test_unloading_removes_the_breakpoints_nobody_waits_on():
    s = lldb(f"file {target('calls_O0')}", f"groutine load {example('calls_checks')}",
             f"groutine load {example('rewrite')}", "groutine unload check-add",
             "groutine subscriptions", f"groutine unload {example('calls_checks')}",
             "groutine list", "groutine unload --all", "breakpoint list", "groutine list")
    assert s.after("groutine unload check-add") == "unloaded 1 groutine called 'check-add'", s
    # add is still held by add-plus-1000.
    assert re.search(r"^add\s+1\s+1\s+", s.after("groutine subscriptions"), re.M), s
    assert s.after(f"groutine unload {example('calls_checks')}").startswith(
        "unloaded 4 groutines and closed "), s
    listing = s.after("groutine list")
    assert "add-plus-1000" in listing and "check-" not in listing, s
    assert s.after("groutine unload --all") == "unloaded 2 groutines", s
    assert "No breakpoints currently set." in s.after("breakpoint list"), s


def test_loading_a_library_again_reloads_it():
    lib = example("calls_checks")
    s = lldb(f"file {target('calls_O0')}", f"groutine load {lib}", f"groutine load {lib}",
             "groutine list", "run 1", "groutine report")
    listing = s.after("groutine list")
    assert listing.count("check-add") == 1 and "\n6 " in listing, s  # ids 6..10 now
    assert "5 passed, 0 failed" in s.after("groutine report"), s
    assert s.logged("check-add") == ["add(0,1)=1 (no debug info)"], s


@pytest.mark.skipif(not PYTHON_BUILT, reason="the groutines Python module is not built")
def test_python_groutines_load_through_the_same_command_and_share_the_runtime():
    script = Path(__file__).resolve().parents[1] / "python" / "scripts" / "groutine_lldb_calls.py"
    s = lldb(f"file {target('calls_O0_g')}", f"groutine load {example('calls_checks')}",
             f"groutine load {script}", "run 1", "groutine report", f"groutine unload {script}",
             "groutine list")
    assert s.after(f"groutine load {script}").startswith(f"loaded 4 groutines from {script}"), s
    # Both languages see the same call; the Python one rewrites add's result afterwards.
    assert s.logged("check-add") == ["add(0,1)=1 named a=0 b=1 type int"], s
    assert "add(0,1)=1001" in s.lines(), s
    assert "9 passed, 0 failed" in s.after("groutine report"), s
    assert s.after(f"groutine unload {script}") == f"unloaded 4 groutines from {script}", s
    assert "adds" not in s.after("groutine list") and "check-add" in s.after("groutine list"), s


def test_hooks_follow_the_selected_target():
    s = lldb(f"file {target('calls_O2')}", f"groutine load {example('calls_checks')}",
             f"file {target('calls_O0_g')}", "groutine subscriptions", "run 1",
             "target select 0", "groutine subscriptions", "run 1", "breakpoint list")
    assert s.logged("check-add") == ["add(0,1)=1 named a=0 b=1 type int",
                                     "add(0,1)=1 (no debug info)"], s
    assert "where = calls_O2`add" in s.after("breakpoint list"), s


@pytest.mark.skipif(not shutil.which("nm"), reason="nm is not installed")
def test_the_plugin_exports_only_its_entry_point():
    out = subprocess.run(["nm", "-D", "--defined-only", str(PLUGIN)], capture_output=True,
                         text=True, timeout=60, check=True).stdout
    assert [line.split()[-1] for line in out.splitlines()] == [
        "_ZN4lldb16PluginInitializeENS_10SBDebuggerE"], out


def test_the_users_breakpoint_delete_and_disable_leave_the_hooks_alone():
    s = lldb(
        f"file {target('calls_O0_g')}",
        f"groutine load {example('calls_checks')}",
        "b greet",
        "run 2",
        "breakpoint delete -f",
        "breakpoint disable",
        "continue",
        "groutine report",
    )
    # The user's own breakpoint is gone, the plugin's stay enabled and keep delivering.
    assert s.returncode == 0, s
    assert "greet(\"bob\")=\"hello, bob\"" in s.output, s
    assert "Process" in s.output and "exited with status = 0" in s.output, s
    assert re.search(r"PASS check-add \(.*, 4 events\)", s.output), s


def test_the_readme_tour_runs_as_shown():
    if not PYTHON_BUILT:
        pytest.skip("the groutines Python module is not built")
    tour = Path(__file__).resolve().parents[2] / "groutines" / "examples" / "tour.py"
    s = lldb(
        f"file {target('calls_O0_g')}",
        f"groutine load {tour}",
        "run 2",
        "groutine fire how-many",
        "continue",
        "groutine report",
    )
    assert "loaded 5 groutines from" in s.output, s
    assert "scale(1.5,2)=6" in s.output, s                     # doubled by double_scale
    assert "parse_header(\"XX header 1\",11)=-1" in s.output, s  # skipped by reject_headers
    assert "groutine 'stop_at_bob' stopped the target: greet called with 'bob'" in s.output, s
    assert "reply from counter (#4): 2" in s.output, s
    assert "5 passed, 0 failed" in s.output, s
