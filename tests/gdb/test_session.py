"""GDB-only behaviours of the frontend: loading it, the commands' errors, a process that
ends or is started again, breakpoints nobody needs any more, libraries loaded later, and
GDB's exit."""
import json
import re
import shutil
from pathlib import Path

from conftest import FRONTEND, SCRIPTS, example, gdb, target

# A groutine that stops at each call of mix and awaits its return (held across a stop), and
# one that logs every call of add.
HELD = """import groutines as g

@g.groutine
async def held():
    while True:
        c = await g.call("mix")
        g.stop(f"at mix a={c.arg(0)}")
        r = await c.returned()
        g.log(f"mix returned unwound={r.unwound}")

@g.groutine
async def adds():
    async for c in g.calls("add"):
        g.log(f"add({c.arg(0)},{c.arg(1)})")
"""

# One call of add, then the groutine ends: nobody waits on add any more.
ONCE = """import groutines as g

@g.groutine
async def once():
    c = await g.call("add")
    r = await c.returned()
    g.log(f"add returned {r.value}")
"""

PLANTED = ("python import groutines_gdb; "
           "print('planted', groutines_gdb.frontend().backend.planted())")


def test_the_commands_report_bad_input_with_the_subcommand_and_what_was_wrong():
    s = gdb("groutine load /no/such.so", "groutine load", "groutine list",
            "groutine load " + example("watch"), f"file {target('calls_O0')}",
            "groutine unload nobody", "groutine fire", "groutine fire ev x", "groutine report")
    errors = [line for line in s.lines() if line.startswith("error: ")]
    assert errors == [
        "error: groutine load: no such file '/no/such.so'",
        "error: groutine load: expected one path, got 0 arguments (groutine load <path>)",
        "error: groutine load: no target: create one first (file PROGRAM), then load groutines",
        "error: groutine unload: no groutine or library called 'nobody'",
        "error: groutine fire: expected an event name (groutine fire <event> [key=value ...])",
        "error: groutine fire: 'x' is not key=value"], s
    assert s.after("groutine list") == "no groutines loaded", s
    assert s.after("groutine report") == "no groutines loaded", s
    assert s.returncode == 0, s


def test_help_shows_each_subcommand_with_its_syntax_and_examples():
    s = gdb("help groutine", "help groutine unload")
    assert "groutine load -- Load groutines from a C++ shared library." in \
        s.after("help groutine"), s
    unload = s.after("help groutine unload")
    assert unload.startswith("Unload groutines by name, by library, or all of them.\n"
                             "Syntax: groutine unload <name> | <path> | --all"), s
    assert "(gdb) groutine unload --all" in unload, s


def test_a_return_awaited_when_the_process_is_killed_is_unwound_and_a_new_run_is_served(tmp_path):
    held = tmp_path / "held.py"
    held.write_text(HELD)
    s = gdb(f"file {target('calls_O0')}", f"groutine load {held}", "run 1",
            "groutine subscriptions", "kill", "groutine subscriptions", "run 2", "continue",
            "groutine list", PLANTED)
    assert "groutine 'held' stopped the target: at mix a=0" in s.after("run 1"), s
    assert "returns awaited: 1 call at 1 return address" in s.after("groutine subscriptions"), s
    assert "[held] mix returned unwound=True" in s.after("kill"), s
    # The next run: hooks resolve again, calls and returns are delivered.
    assert s.logged("adds") == ["add(0,1)", "add(0,1)", "add(1,2)"], s
    assert s.logged("held") == ["mix returned unwound=True", "mix returned unwound=False"], s
    assert "groutine 'held' stopped the target: at mix a=1" in s.after("continue"), s
    assert re.search(r"^1\s+held\s+waiting on return of call #\d+\s+5\s", s.after("groutine list"),
                     re.M), s


def test_quit_with_groutines_waiting_and_the_target_stopped_by_one_exits_cleanly(tmp_path):
    held = tmp_path / "held.py"
    held.write_text(HELD)
    s = gdb(f"file {target('calls_O0')}", f"groutine load {held}",
            f"groutine load {example('calls_checks')}", "run 1", "quit")
    assert "groutine 'held' stopped the target: at mix a=0" in s.lines(), s
    assert s.returncode == 0, s


def test_a_hook_nobody_waits_on_is_deleted_and_the_process_end_releases_every_breakpoint(tmp_path):
    once = tmp_path / "once.py"
    once.write_text(ONCE)
    s = gdb(f"file {target('calls_O0')}", f"groutine load {once}", PLANTED, "run 3",
            "groutine subscriptions", PLANTED)
    assert re.fullmatch(r"planted \[-\d+\]", s.after(PLANTED)), s
    assert s.logged("once") == ["add returned 1"], s
    assert s.after("groutine subscriptions") == (
        "no subscriptions\nreturns awaited: 0 calls at 0 return addresses"), s
    assert s.lines().count("planted []") == 1, s
    assert [line for line in s.lines() if re.fullmatch(r"add\(\d,\d\)=\d", line)] == [
        "add(0,1)=1", "add(1,2)=3", "add(2,3)=5"], s


def test_a_hook_on_a_dlopened_function_is_planted_when_the_library_loads():
    s = gdb(f"file {target('dlopen_main')}", f"groutine load {example('watch')}",
            "groutine fire watch slot=a function=dl_func", "groutine subscriptions", "run 3",
            "groutine subscriptions")
    assert re.search(r"^dl_func\s+-\s+0\s+", s.after("groutine subscriptions"), re.M), s
    assert [line.rsplit(" thread ", 1)[0] for line in s.logged("watch-a")] == [
        "dl_func(0)=1", "dl_func(1)=4", "dl_func(2)=7"], s
    assert s.output.index("dlopen libdl_target.so") < s.output.index("[watch-a]"), s
    # Three hits; the target dlclosed the library before it ended: no function (yet) again.
    after = s.output[s.output.rindex("+groutine subscriptions"):]
    assert re.search(r"^dl_func\s+-\s+0\s+\d+\s+3\s+breakpoint$", after, re.M), s


def test_a_cpp_library_unloads_by_path_and_loads_again():
    lib = example("calls_checks")
    s = gdb(f"file {target('calls_O0')}", f"groutine load {lib}", f"groutine unload {lib}",
            "groutine subscriptions", f"groutine load {lib}", "run 1", "groutine report")
    assert s.after(f"groutine unload {lib}") == f"unloaded 5 groutines and closed {lib}", s
    assert s.after("groutine subscriptions").startswith("no subscriptions"), s
    assert s.logged("check-add") == ["add(0,1)=1 (no debug info)"], s
    assert "5 passed, 0 failed" in s.after("groutine report"), s


def test_sourcing_the_frontend_twice_adds_nothing_and_a_wrong_python_dir_is_named(tmp_path):
    s = gdb(f"source {FRONTEND}", "groutine list")
    assert s.after("groutine list") == "no groutines loaded", s
    bad = gdb("groutine list", env={"GROUTINES_PYTHON_DIR": str(tmp_path)})
    assert (f"error: groutines: GROUTINES_PYTHON_DIR is '{tmp_path}', which holds no groutines "
            "Python package (groutines/_host.py)") in bad.lines(), bad
    # A copy of the frontend with no package beside it says where it looked.
    copy = tmp_path / "gdb"
    shutil.copytree(FRONTEND.parent, copy)
    alone = gdb("groutine list", frontend=copy / "groutines.py",
                env={"GROUTINES_PYTHON_DIR": ""})
    assert any(line.startswith("error: groutines: the GDB frontend needs the groutines Python "
                               f"package, which is not beside it (looked in {tmp_path}/python")
               for line in alone.lines()), alone
    # With the package pointed at, the copy works.
    moved = gdb("groutine list", frontend=copy / "groutines.py",
                env={"GROUTINES_PYTHON_DIR": str(FRONTEND.parents[1] / "python")})
    assert moved.after("groutine list") == "no groutines loaded", moved


def test_events_shows_calls_returns_skips_rewrites_and_logs_as_a_table_and_as_json(tmp_path):
    out = tmp_path / "events.jsonl"
    calls = SCRIPTS / "groutine_lldb_calls.py"
    s = gdb(f"file {target('calls_O0_g')}", "groutine events", f"groutine load {calls}", "run 1",
            "groutine events -n 8", "groutine events --json -n 2",
            'groutine fire ping n=41 s="a b" f=0.1', "groutine events -n 1",
            f"groutine events --json --output {out}", "groutine events --capacity 0 --clear",
            "groutine events -n x", "groutine events --output /tmp/x", "groutine events --bogus")
    assert s.after("groutine events") == "no events logged", s
    table = s.after("groutine events -n 8").splitlines()
    assert table[0].split() == ["SEQ", "THREAD", "KIND", "NAME", "DETAIL"], s
    rows = [re.sub(r"^(\S+)\s+\d+\s+", r"\1 T ", line) for line in table[1:]]
    assert [re.sub(r"\s+", " ", r) for r in rows] == [
        "1 T call add call #1 rdi=0 rsi=1",
        "2 T return add call #1 rax=1 rewritten to 1001",
        "3 T call scale call #3",
        "4 T return scale call #3 xmm0=3.0",
        "5 T call parse_header call #5 skipped: returns -7",
        "- T log skip_parse skipped parse_header",
        f"6 T call greet call #6 rdi={rows[6].rsplit('=', 1)[1]}",
        f"7 T return greet call #6 rax={rows[7].rsplit('=', 1)[1]}"], s
    last = [json.loads(line) for line in s.after("groutine events --json -n 2").splitlines()]
    assert [(e["seq"], e["kind"], e["name"], e["call"]) for e in last] == [
        (6, "call", "greet", 6), (7, "return", "greet", 6)], s
    assert re.sub(r"\s+", " ", s.after("groutine events -n 1").splitlines()[1]) == \
        '8 0 custom ping n=41 s="a b" f=0.10000000000000001', s
    assert s.after(f"groutine events --json --output {out}") == f"wrote 9 events to {out}", s
    written = [json.loads(line) for line in out.read_text().splitlines()]
    assert written[1]["rewritten"] and written[1]["value"] == 1001, written
    assert written[4]["skipped"] and written[4]["value"] == -7, written
    assert s.after("groutine events --capacity 0 --clear") == (
        "event log capacity: 0\nevent log cleared\nno events logged"), s
    assert s.after("groutine events -n x") == "error: groutine events: 'x' is not a count for -n", s
    assert s.after("groutine events --output /tmp/x") == (
        "error: groutine events: --output writes the --json lines: add --json"), s
    assert s.after("groutine events --bogus") == \
        "error: groutine events: unknown option '--bogus'", s


def test_the_readme_tour_runs_in_gdb_as_in_lldb():
    tour = Path(__file__).resolve().parents[2] / "groutines" / "examples" / "tour.py"
    s = gdb(f"file {target('calls_O0_g')}", f"groutine load {tour}", "run 2",
            "groutine fire how-many", "continue", "groutine report")
    run = s.after("run 2")
    for line in ["scale(1.5,2)=6", "scale(2.5,3)=15",
                 "[reject_headers] skipping parse_header('XX header 1', 11)",
                 'parse_header("XX header 1",11)=-1',
                 "groutine 'stop_at_bob' stopped the target: greet called with 'bob'"]:
        assert line in run.splitlines(), f"{line!r} missing:\n{s}"
    # Where it stopped: GDB's frame line, our breakpoints being silent.
    assert re.search(r"^#0  greet \(name=.*\) at .*calls\.c:\d+$", run, re.M), s
    assert 'greet("bob")="hello, bob"' not in run, s
    assert s.after("groutine fire how-many") == "reply from counter (#4): 2", s
    assert "5 passed, 0 failed" in s.after("groutine report"), s


def test_a_second_run_right_after_the_first_delivers_every_call_again():
    s = gdb(f"file {target('calls_O0_g')}", f"groutine load {example('calls_checks')}", "run 2",
            "run 2", "groutine list", PLANTED)
    assert s.logged("check-add") == [
        "add(0,1)=1 named a=0 b=1 type int", "add(1,2)=3 named a=1 b=2 type int"] * 2, s
    assert re.search(r"^\d+\s+check-add\s+waiting on call of add\s+8\s", s.after("groutine list"),
                     re.M), s
    # The five hooks, by name again for a next run; no return breakpoint left.
    assert len(s.after(PLANTED).split(",")) == 5, s


def test_hooks_follow_a_new_program_loaded_with_file():
    s = gdb(f"file {target('calls_O0')}", f"groutine load {example('calls_checks')}",
            f"file {target('calls_O2_g')}", "run 1", "groutine report")
    # The new program's functions, with its debug info (the first had none).
    assert s.logged("check-add") == ["add(0,1)=1 named a=0 b=1 type int"], s
    assert "5 passed, 0 failed" in s.after("groutine report"), s


LISTER = """import gdb
import groutines as g


@g.groutine
async def lister():
    c = await g.call("add")
    r = await c.returned()       # its return breakpoint is retired as it is delivered
    gdb.execute("groutine list", to_string=True)   # from inside that breakpoint's stop()
    g.log(f"listed at the return of add: {r.value}")
"""


def test_a_groutine_command_run_from_a_delivery_deletes_no_breakpoint_there(tmp_path):
    # Deleting the return breakpoint whose stop() runs (the command's clean-up) crashed GDB.
    script = tmp_path / "lister.py"
    script.write_text(LISTER)
    s = gdb(f"file {target('calls_O0_g')}", f"groutine load {script}", "run 2", PLANTED)
    assert s.logged("lister") == ["listed at the return of add: 1"], s
    assert s.target_lines(r"add\(.*") == ["add(0,1)=1", "add(1,2)=3"], s
    assert s.after(PLANTED) == "planted []", s
