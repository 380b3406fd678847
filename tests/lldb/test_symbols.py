"""groutines.functions(pattern, modules): a groutine asks for the target's functions matching
a shell pattern, from LLDB's symbols: while it loads, inside the groutine, and from a delivery
(on the agent's service thread, answered from the symbols kept when they were first read);
a C++ groutine hooking what a pattern finds. The first and the last run under GDB as well."""
import shutil

import pytest

from conftest import PYTHON_BUILT, debug, groutine_library, lldb, target

pytestmark = pytest.mark.skipif(not PYTHON_BUILT, reason="the groutines Python module is not built")

SCRIPT = '''
import groutines as g

AT_LOAD = sorted(g.functions("kv_*"))


@g.groutine(name="symbols")
async def symbols():
    g.log(f"at load: {AT_LOAD}")
    g.log(f"in groutine: {g.functions('parse_*')}")
    g.log(f"libc: {sorted(set(g.functions('mallo?', ['libc.so.6'])))}")
    g.log(f"none: {g.functions('no_such_*')}")
    try:
        g.functions("f*", ["libnope.so"])
    except g.Error as e:
        g.log(f"error: {e}")
    call = await g.call("parse_port")
    g.log(f"in delivery: {sorted(g.functions('*parse*'))} "
          f"{sorted(set(g.functions('mallo?', ['libc.so.6'])))}")
'''


def test_a_python_groutine_expands_patterns_in_the_executable_and_in_libc(debugger, tmp_path):
    script = tmp_path / "groutine_symbols.py"
    script.write_text(SCRIPT)
    # Loaded at main, where libc is loaded (before the launch, only the executable is).
    stop_at_main = "break main" if debugger == "gdb" else "breakpoint set -n main"
    s = debug(debugger, f"file {target('kvparse')}", stop_at_main, "run",
              f"groutine load {script}", "continue", "groutine report")
    logged = s.logged("symbols")
    assert logged[:4] + logged[5:] == [
        "at load: ['kv_parse_line', 'kv_strdup']",
        "in groutine: ['parse_port']",
        "libc: ['malloc']",
        "none: []",
        "in delivery: ['kv_parse_line', 'parse_port'] ['malloc']"], s
    missing = "error: functions('f*'): the target has no module 'libnope.so'"
    if debugger == "lldb":  # how to name a loaded module, in LLDB's words
        assert logged[4] == (f"{missing} (name a loaded module by its file name, as "
                             "`image list -b` shows it)"), s
    else:
        assert logged[4].startswith(missing), s
    assert "1 passed, 0 failed" in s.after("groutine report"), s


def test_a_module_asked_for_before_the_process_starts_is_an_error_saying_so(tmp_path):
    script = tmp_path / "groutine_early.py"
    script.write_text('import groutines as g\n\nNAMES = g.functions("mallo?", ["libc.so.6"])\n')
    s = lldb(f"file {target('kvparse')}", f"groutine load {script}")
    assert ("groutines.Error: functions('mallo?'): the target has no module 'libc.so.6' (the "
            "process has not started: shared libraries load when it runs)") in s.output, s


def test_a_cpp_groutine_hooks_the_functions_a_pattern_finds(debugger):
    s = debug(debugger, f"file {target('kvparse')}",
              f"groutine load {groutine_library('symbols')}", "run", "groutine unload cpp-symbols")
    found = s.logged("cpp-symbols")[0]
    assert sorted(found.split()[1:]) == ["kv_parse_line", "kv_strdup"], s
    calls = [line for name in ("cpp-symbols-kv_parse_line", "cpp-symbols-kv_strdup")
             for line in s.logged(name)]
    assert "call of kv_parse_line" in calls and "call of kv_strdup" in calls, s


# Logs the functions a pattern finds in the executable and in libx.so, at each load.
RELOADED = '''
import groutines as g

try:
    IN_LIB = sorted(g.functions("dl_*", ["libx.so"]))
except g.Error as e:
    IN_LIB = str(e)
MAIN = sorted(g.functions("kv_*"))


@g.groutine(name="names")
async def names():
    g.log(f"main: {MAIN} lib: {IN_LIB}")
'''


def test_names_are_read_again_when_a_library_loads_later_or_the_program_is_rebuilt(tmp_path):
    # One session: a library dlopen'ed after the first look, then the program at the same path
    # rebuilt (another program) and run again. (A rebuilt library LLDB does not read again at
    # the next run, at least LLDB 19: `image list` keeps the first build.)
    script = tmp_path / "names.py"
    script.write_text(RELOADED)
    program, library = tmp_path / "prog", tmp_path / "libx.so"
    shutil.copy(target("dlopen_main"), program)
    shutil.copy(target("libdl_target.so"), library)
    load = f"groutine load {script}"
    s = lldb(f"file {program}", "breakpoint set -n main", "breakpoint set -n dlsym",
             f"process launch -- 1 {library}", load, "continue", load, "process kill",
             f"platform shell cp {target('kvparse')} {program}", "process launch", load)
    no_library = ("functions('dl_*'): the target has no module 'libx.so' (name a loaded module "
                  "by its file name, as `image list -b` shows it)")
    assert s.logged("names") == [
        f"main: [] lib: {no_library}",
        "main: [] lib: ['dl_func']",
        f"main: ['kv_parse_line', 'kv_strdup'] lib: {no_library}"], s
