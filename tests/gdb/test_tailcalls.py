"""Two returns at one instruction and two names at one address under GDB as under LLDB
(tests/targets/tailcalls.c and cpp_names.cpp, -O2): a tail call and its caller both return
where the caller was called from, innermost first; a tail call left by longjmp and its caller
are both unwound; an alias (or `ns::f` and its C name) is one breakpoint delivering every call
to each name. The LLDB suite's scripts, run by both debuggers."""
import pytest

from conftest import DEBUGGERS, debug, from_lldb_test, target

TAIL, ALIAS, REALLOC, CPP_NAMES = from_lldb_test(
    "test_tailcalls", "TAIL_SCRIPT", "ALIAS_SCRIPT", "REALLOC_SCRIPT", "CPP_NAMES_SCRIPT")
BUILDS = ["tailcalls_O2_g", "tailcalls_O2"]  # with and without DWARF


def returns_in_order(s):
    return [line for line in s.lines()
            if line.startswith(("[leaf_returns] ", "[outer_returns] "))]


@pytest.mark.parametrize("debugger", DEBUGGERS)
@pytest.mark.parametrize("build", BUILDS)
def test_a_tail_call_and_its_caller_both_return_innermost_first(debugger, build, tmp_path):
    script = tmp_path / "groutine_tailcalls.py"
    script.write_text(TAIL.replace("OUTER", "outer").replace("LEAF", "leaf"))
    s = debug(debugger, f"file {target(build)}", f"groutine load {script}", "run 4",
              "groutine subscriptions")
    assert returns_in_order(s) == [
        "[leaf_returns] leaf(100) returned 301", "[outer_returns] outer(0) returned 301",
        "[leaf_returns] leaf(101) returned 304", "[outer_returns] outer(1) returned 305",
        "[leaf_returns] leaf(102) returned 307", "[outer_returns] outer(2) returned 307",
        "[leaf_returns] leaf(103) returned 310", "[outer_returns] outer(3) returned 311"], s
    assert s.target_lines(r"outer\(.*") == [
        "outer(0)=301", "outer(1)=305", "outer(2)=1307", "outer(3)=1311"], s
    assert "returns awaited: 0 calls" in s.after("groutine subscriptions"), s


@pytest.mark.parametrize("debugger", DEBUGGERS)
@pytest.mark.parametrize("build", BUILDS)
def test_a_tail_call_left_by_longjmp_and_its_caller_are_both_unwound(debugger, build, tmp_path):
    script = tmp_path / "groutine_escape.py"
    script.write_text(TAIL.replace("OUTER", "escape_outer").replace("LEAF", "escape_leaf"))
    s = debug(debugger, f"file {target(build)}", f"groutine load {script}", "run 4",
              "groutine subscriptions")
    assert returns_in_order(s) == [
        "[leaf_returns] escape_leaf(100) returned 301",
        "[outer_returns] escape_outer(0) returned 301",
        "[leaf_returns] escape_leaf(101) unwound", "[outer_returns] escape_outer(1) unwound",
        "[leaf_returns] escape_leaf(102) returned 307",
        "[outer_returns] escape_outer(2) returned 307",
        "[leaf_returns] escape_leaf(103) unwound", "[outer_returns] escape_outer(3) unwound"], s
    assert "returns awaited: 0 calls" in s.after("groutine subscriptions"), s


@pytest.mark.parametrize("debugger", DEBUGGERS)
@pytest.mark.parametrize("build", BUILDS)
def test_two_names_for_one_address_each_hear_every_call_and_its_return(debugger, build, tmp_path):
    script = tmp_path / "groutine_alias.py"
    script.write_text(ALIAS)
    n = 4
    s = debug(debugger, f"file {target(build)}", f"groutine load {script}", f"run {n}",
              "groutine subscriptions")
    assert s.logged("by_name") == [f"twice({i}) returned" for i in range(n)], s
    assert s.logged("by_alias") == [f"twice_alias({i}) returned" for i in range(n)], s
    assert s.target_lines(r"twice_alias\(.*") == [
        f"twice_alias({i})={2 * i + 7 + 110}" for i in range(n)], s
    assert "returns awaited: 0 calls" in s.after("groutine subscriptions"), s


@pytest.mark.parametrize("debugger", DEBUGGERS)
def test_realloc_of_null_returns_what_the_malloc_it_jumps_to_returned(debugger, tmp_path):
    script = tmp_path / "groutine_realloc.py"
    script.write_text(REALLOC)
    n = 3
    s = debug(debugger, f"file {target('tailcalls_O2_g')}", f"groutine load {script}", f"run {n}")
    # (Not the target's stdout buffer, malloc(4096) when stdout is a pipe, as here.)
    lines = [line for line in s.lines()
             if line.startswith(("[realloc_returns] ", "[malloc_returns] "))
             and "(4096)" not in line]
    assert len(lines) == 2 * n, s
    for i in range(n):
        inner, outer = lines[2 * i], lines[2 * i + 1]
        assert inner.startswith(f"[malloc_returns] malloc({4000 + i}) returned 0x"), s
        assert outer == f"[realloc_returns] realloc(NULL,{4000 + i}) returned " \
                        f"{inner.rsplit(' ', 1)[1]}", s


@pytest.mark.parametrize("debugger", DEBUGGERS)
def test_a_cpp_function_and_its_c_alias_are_one_hook(debugger, tmp_path):
    script = tmp_path / "groutine_cpp_names.py"
    script.write_text(CPP_NAMES)
    n = 3
    s = debug(debugger, f"file {target('cpp_names_O2_g')}", f"groutine load {script}",
              f"run {n}", "groutine subscriptions")
    namespace, c_name = s.logged("by_namespace"), s.logged("by_c_name")
    assert len(namespace) == n and len(c_name) == n, s
    for i in range(n):
        assert namespace[i].startswith(f"ns::scaled({i}) returned "), s
        assert c_name[i].startswith(f"scaled({i}) returned "), s
    assert s.target_lines(r"scaled\(.*") == [f"scaled({i})={5 * i + 1 + 110}" for i in range(n)], s
    assert "returns awaited: 0 calls" in s.after("groutine subscriptions"), s
