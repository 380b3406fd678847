"""groutines.functions(pattern, modules) under GDB as under LLDB (the LLDB suite's scripts), a
C++ groutine hooking what a pattern finds, a stripped library's function hooked through its
dynamic symbol, and Python and C++ groutines firing events at each other."""
import pytest

from conftest import DEBUGGERS, debug, example, from_lldb_test, groutine_library, script, target

SYMBOLS = from_lldb_test("test_symbols", "SCRIPT")


@pytest.mark.parametrize("debugger", DEBUGGERS)
def test_a_python_groutine_expands_patterns_in_the_executable_and_in_libc(debugger, tmp_path):
    path = tmp_path / "groutine_symbols.py"
    path.write_text(SYMBOLS)
    stop_at_main = "breakpoint set -n main" if debugger == "lldb" else "break main"
    s = debug(debugger, f"file {target('kvparse')}", stop_at_main, "run", f"groutine load {path}",
              "continue", "groutine report")
    logged = s.logged("symbols")
    assert logged[:4] == [
        "at load: ['kv_parse_line', 'kv_strdup']",
        "in groutine: ['parse_port']",
        "libc: ['malloc']",
        "none: []"], s
    assert logged[4].startswith("error: functions('f*'): "), s
    assert "libnope.so" in logged[4], s
    assert logged[5] == "in delivery: ['kv_parse_line', 'parse_port'] ['malloc']", s
    assert "1 passed, 0 failed" in s.after("groutine report"), s


@pytest.mark.parametrize("debugger", DEBUGGERS)
def test_a_cpp_groutine_hooks_the_functions_a_pattern_finds(debugger):
    s = debug(debugger, f"file {target('kvparse')}",
              f"groutine load {groutine_library('symbols')}", "run", "groutine unload cpp-symbols")
    found = s.logged("cpp-symbols")[0]
    assert sorted(found.split()[1:]) == ["kv_parse_line", "kv_strdup"], s
    calls = [line for name in ("cpp-symbols-kv_parse_line", "cpp-symbols-kv_strdup")
             for line in s.logged(name)]
    assert "call of kv_parse_line" in calls and "call of kv_strdup" in calls, s


@pytest.mark.parametrize("debugger", DEBUGGERS)
def test_a_stripped_library_function_is_hooked_through_its_dynamic_symbol(debugger):
    s = debug(debugger, f"file {target('stripped_main')}", f"groutine load {example('watch')}",
              "groutine fire watch slot=a function=lib_func args=2", "run 3")
    lines = [line.rsplit(" thread ", 1)[0] for line in s.logged("watch-a")]
    assert lines == ["lib_func(0,2)=7", "lib_func(1,3)=10", "lib_func(2,4)=15"], s


@pytest.mark.parametrize("debugger", DEBUGGERS)
def test_python_and_cpp_groutines_fire_events_and_reply_to_each_other(debugger):
    s = debug(debugger, f"file {target('calls_O2_g')}", f"groutine load {example('events')}",
              f"groutine load {script('groutine_lldb_events.py')}", "run 2",
              'groutine fire question q="hi"', "groutine fire ping n=41")
    for line in ["[asks_cpp] ping 0 -> [('echo', 1, 1)], count -> [('add-counter', 1)]",
                 "[asks_cpp] ping 1 -> [('echo', 1, 2)], count -> [('add-counter', 2)]",
                 'reply from answers (#4): "python heard hi"',
                 "reply from echo (#1): 42"]:
        assert line in s.lines(), f"{line!r} missing:\n{s}"
