"""What the `groutine` commands do when a user works against them: deleting or disabling the
plugin's breakpoints by id, unloading from inside a delivery (under GDB as well), and loading
groutines that wait for a function nothing defines yet, or a script with none in it."""
import re

from conftest import PYTHON_BUILT, debug, driver, example, lldb, target

import pytest

needs_python = pytest.mark.skipif(not PYTHON_BUILT, reason="the groutines Python module is not built")

REPLANTED = re.compile(r"^groutines: breakpoint 1 was the hook of 'add', which groutines wait "
                       r"on: planted again as breakpoint (\d+) \(unload them to remove it\)$", re.M)
ENABLED = ("groutines: breakpoint 2 is the hook of 'scale', which groutines wait on: enabled "
           "again (unload them to remove it)")


def events(s, command, groutine):
    """events() is the EVENTS column of groutine in the output of command (groutine list)."""
    m = re.search(rf"^\d+\s+{re.escape(groutine)}\s+.*?\s(\d+)\s+/\S+$", s.after(command), re.M)
    assert m, s
    return int(m.group(1))


def test_a_hook_deleted_or_disabled_by_id_is_put_back_and_says_so():
    s = lldb(f"file {target('calls_O0')}", f"groutine load {example('calls_checks')}",
             "breakpoint delete 1", "breakpoint disable 2", "groutine list", "run 2",
             "groutine list")
    assert REPLANTED.search(s.output), s
    assert ENABLED in s.lines(), s
    # Each of the two calls, and its return: nothing was lost.
    assert events(s, "groutine list", "check-add") == 0, s
    last = s.output[s.output.rindex("(lldb) groutine list"):]
    for name in ("check-add", "check-scale"):
        assert re.search(rf"^\d+\s+{name}\s+waiting on call of \S+\s+4\s", last, re.M), s


def test_a_hook_deleted_while_the_target_is_stopped_is_put_back_before_it_runs_again():
    # On the agent transport add is patched at its first call, and the agent goes on serving it
    # whatever becomes of the breakpoint: its new breakpoint stays out of the way.
    s = lldb(f"file {target('calls_O0')}", f"groutine load {example('calls_checks')}",
             "breakpoint set -o true -n scale", "run 2", "breakpoint delete 1", "continue",
             "groutine list", "breakpoint list")
    replanted = REPLANTED.search(s.after("continue"))
    assert replanted, s
    assert re.search(r"^\d+\s+check-add\s+waiting on call of add\s+4\s", s.after("groutine list"),
                     re.M), s
    assert re.search(rf"^{replanted.group(1)}: name = 'add'", s.after("breakpoint list"), re.M), s


# A groutine that runs `groutine unload --all` from a delivery, through each debugger's API.
UNLOADER = {"lldb": """
import lldb
import groutines as g

# The plugin calls into Python directly, not through the `script` command: lldb.debugger is
# not set while a script loads. lldb --batch made one debugger, the first.
DEBUGGER = lldb.SBDebugger.FindDebuggerWithID(1)


@g.groutine
async def unloader():
    await g.call("add")
    result = lldb.SBCommandReturnObject()
    DEBUGGER.GetCommandInterpreter().HandleCommand("groutine unload --all", result)
    g.log("unload --all: " + result.GetError().strip())
""", "gdb": """
import gdb
import groutines as g


@g.groutine
async def unloader():
    await g.call("add")
    # From a delivery the command prints its error rather than raising it: an error inside a
    # breakpoint's stop() would end GDB's wait for the target.
    text = gdb.execute("groutine unload --all", to_string=True)
    g.log("unload --all: " + "".join(line for line in text.splitlines()
                                     if not line.startswith("+")))  # trace-commands' echo
"""}


@needs_python
def test_unload_all_from_inside_a_delivery_fails_unloads_nothing_and_the_target_goes_on(
        debugger, tmp_path):
    script = tmp_path / "unloader.py"
    script.write_text(UNLOADER[debugger])
    s = debug(debugger, f"file {target('calls_O0')}", f"groutine load {script}",
              f"groutine load {example('calls_checks')}", "run 1", "groutine list",
              "groutine unload --all", "groutine list", "groutine subscriptions")
    assert s.logged("unloader") == [
        "unload --all: error: groutine unload: groutine 'unloader' is running: it cannot be "
        "unloaded from a delivery (nothing was unloaded)"], s
    listing = s.after("groutine list")
    for name in ("check-add", "check-scale", "check-parse-header", "check-mix", "check-greet"):
        assert re.search(rf"^\d+\s+{name}\s+waiting on call of ", listing, re.M), s
    assert s.target_lines(r"greet\(.*") == ['greet("ada")="hello, ada"'], s
    assert s.after("groutine unload --all") == "unloaded 6 groutines", s
    last_list = s.output.rsplit(s.echo("groutine list"), 1)[1]
    assert last_list.splitlines()[1] == "no groutines loaded", s
    assert s.after("groutine subscriptions").startswith("no subscriptions"), s


DL_WATCHER = """
import groutines as g


@g.groutine
async def dl_watcher():
    async for c in g.calls("dl_func"):
        g.log(f"dl_func({c.arg(0)})")
"""

NO_SUCH = ("dl_func: no such function (yet): the hook waits for a library that defines it")


@needs_python
def test_a_function_nothing_defines_yet_is_a_warning_and_is_hooked_when_a_library_defines_it(
        tmp_path):
    script = tmp_path / "dl_watcher.py"
    script.write_text(DL_WATCHER)
    s = lldb(f"file {target('dlopen_main')}", f"groutine load {script}",
             "groutine subscriptions", "run 2", "groutine subscriptions")
    assert s.after(f"groutine load {script}").splitlines()[-1] == "warning: " + NO_SUCH, s
    assert "  " + NO_SUCH in s.after("groutine subscriptions").splitlines(), s
    assert s.logged("dl_watcher") == ["dl_func(0)", "dl_func(1)"], s
    last = s.output[s.output.rindex("(lldb) groutine subscriptions"):]
    assert NO_SUCH not in last, s  # defined now


@needs_python
def test_a_script_with_no_groutines_is_a_load_error(tmp_path):
    script = tmp_path / "empty.py"
    script.write_text("import groutines as g\n")
    s = driver(f"file {target('calls_O0')}", f"groutine load {script}", "groutine list")
    assert s.after(f"groutine load {script}") == (
        f"error: groutine load: no groutines in {script} (mark an async def with "
        f"@groutines.groutine)"), s
    assert s.after("groutine list") == "no groutines loaded", s


def test_a_library_whose_functions_the_target_lacks_loads_with_a_warning_for_each():
    s = lldb(f"file {target('dlopen_main')}", f"groutine load {example('calls_checks')}")
    warnings = [line for line in s.after(f"groutine load {example('calls_checks')}").splitlines()
                if line.startswith("warning: ")]
    assert warnings == [f"warning: {f}: no such function (yet): the hook waits for a library "
                        f"that defines it" for f in ("add", "scale", "parse_header", "mix",
                                                     "greet")], s


@needs_python
def test_a_load_error_with_text_utf8_cannot_encode_is_reported_escaped(tmp_path):
    script = tmp_path / "lone.py"
    script.write_text('raise RuntimeError("lone \\udcff")\n', errors="surrogatepass")
    s = driver(f"file {target('calls_O0')}", f"groutine load {script}")
    assert s.after(f"groutine load {script}") == (
        f"error: groutine load: {script}:1: RuntimeError: lone \\udcff"), s


def test_a_second_run_right_after_the_first_delivers_every_call_again():
    # In synchronous mode the first process's exit is heard only at the next command: `run`
    # itself brings the hooks in line (the agent's patches died with that process).
    s = lldb(f"file {target('calls_O0')}", f"groutine load {example('calls_checks')}", "run 2",
             "run 2", "groutine list")
    for name in ("check-add", "check-scale", "check-parse-header", "check-mix", "check-greet"):
        assert re.search(rf"^\d+\s+{name}\s+waiting on call of \S+\s+8\s", s.after("groutine list"),
                         re.M), s


def test_hooks_follow_a_new_target_after_target_delete_once_each_and_without_a_word():
    # The deleted target's hook ids (2..6, after the user's breakpoint 1) are not the new
    # one's (1..5): none is taken for a hook the user deleted, none is planted twice.
    s = lldb(f"file {target('calls_O0')}", "breakpoint set -n main",
             f"groutine load {example('calls_checks')}", "target delete",
             f"file {target('calls_O0')}", "run 2", "groutine list", "breakpoint list")
    assert "planted again" not in s.output, s
    hooks = re.findall(r"^\d+: name = '(\w+)'", s.after("breakpoint list"), re.M)
    assert sorted(hooks) == ["add", "greet", "mix", "parse_header", "scale"], s
    for name in ("check-add", "check-scale", "check-parse-header", "check-mix", "check-greet"):
        assert re.search(rf"^\d+\s+{name}\s+waiting on call of \S+\s+4\s", s.after("groutine list"),
                         re.M), s
