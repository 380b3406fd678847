"""Python and C++ groutines firing events at each other, under GDB as under LLDB.
(groutines.functions() and a stripped library's hook under GDB are tests/lldb/test_symbols.py
and test_libraries.py, run here as gdb.shared.NAME.)"""
import pytest

from conftest import DEBUGGERS, debug, example, script, target


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
