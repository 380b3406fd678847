"""Two returns at one instruction and two names at one address (tests/targets/tailcalls.c and
cpp_names.cpp, -O2): a tail call's caller and callee both return where the caller was called
from, with one stack pointer, and an alias symbol (or `ns::f` and its C name) is one hook
whatever name it is awaited by. Both are delivered, innermost first, each groutine reading the
value the previous one left, on both transports and under GDB."""
import os
import re

import pytest

from conftest import PYTHON_BUILT, debug, target

pytestmark = pytest.mark.skipif(not PYTHON_BUILT, reason="the groutines Python module is not built")

BUILDS = ["tailcalls_O2_g", "tailcalls_O2"]  # with and without DWARF
TRANSPORT = os.environ.get("GROUTINES_TRANSPORT", "auto")

# leaf's groutine adds 1 to the odd calls' value, outer's adds 1000 from the third call on:
# outer's groutine reads what leaf's left, and the caller what outer's left.
TAIL_SCRIPT = '''
import groutines as g

@g.groutine
async def leaf_returns():
    async for call in g.calls("LEAF"):
        x = call.arg(0) & 0xffffffff
        ret = await call.returned()
        g.log(f"LEAF({x}) " + ("unwound" if ret.unwound else f"returned {ret.value}"))
        if not ret.unwound and x % 2:
            ret.set_value(ret.value + 1)

@g.groutine
async def outer_returns():
    async for call in g.calls("OUTER"):
        i = call.arg(0) & 0xffffffff
        ret = await call.returned()
        g.log(f"OUTER({i}) " + ("unwound" if ret.unwound else f"returned {ret.value}"))
        if not ret.unwound and i >= 2:
            ret.set_value(ret.value + 1000)
'''


def returns_in_order(s):
    return [line for line in s.lines()
            if line.startswith(("[leaf_returns] ", "[outer_returns] "))]


# outer and leaf are both served by the agent on its transport; tiny is too short to patch:
# outer_tiny's return is the agent's, tiny's a breakpoint's at the agent's return stub.
@pytest.mark.parametrize("outer,leaf", [("outer", "leaf"), ("outer_tiny", "tiny")])
@pytest.mark.parametrize("build", BUILDS)
def test_a_tail_call_and_its_caller_both_return_innermost_first_and_each_sees_the_other_rewrite(
        debugger, build, outer, leaf, tmp_path):
    script = tmp_path / "groutine_tailcalls.py"
    script.write_text(TAIL_SCRIPT.replace("OUTER", outer).replace("LEAF", leaf))
    s = debug(debugger, f"file {target(build)}", f"groutine load {script}", "run 4",
              "groutine report", "groutine subscriptions")
    # leaf(i + 100) = 3 * (i + 100) + 1.
    assert returns_in_order(s) == [
        f"[leaf_returns] {leaf}(100) returned 301", f"[outer_returns] {outer}(0) returned 301",
        f"[leaf_returns] {leaf}(101) returned 304", f"[outer_returns] {outer}(1) returned 305",
        f"[leaf_returns] {leaf}(102) returned 307", f"[outer_returns] {outer}(2) returned 307",
        f"[leaf_returns] {leaf}(103) returned 310", f"[outer_returns] {outer}(3) returned 311",
    ], s
    assert s.target_lines(rf"{outer}\(.*") == [
        f"{outer}(0)=301", f"{outer}(1)=305", f"{outer}(2)=1307", f"{outer}(3)=1311"], s
    subscriptions = s.after("groutine subscriptions")
    assert "returns awaited: 0 calls" in subscriptions, s
    if debugger == "lldb" and TRANSPORT != "breakpoint":
        assert re.search(rf"^{outer}\s.*\sagent$", subscriptions, re.M), s
        assert re.search(rf"^{leaf}\s.*\s{'breakpoint' if leaf == 'tiny' else 'agent'}$",
                         subscriptions, re.M), s


@pytest.mark.parametrize("build", BUILDS)
def test_a_tail_call_left_by_longjmp_and_its_caller_are_both_unwound_innermost_first(
        debugger, build, tmp_path):
    # escape_leaf longjmps for an odd argument: on breakpoints, the next call of escape_outer
    # at the same stack slot is a new call, not a tail call, and both are noticed unwound then
    # (the last ones at the exit); the agent sees its return stub gone from the slot.
    script = tmp_path / "groutine_escape.py"
    script.write_text(TAIL_SCRIPT.replace("OUTER", "escape_outer").replace("LEAF", "escape_leaf"))
    s = debug(debugger, f"file {target(build)}", f"groutine load {script}", "run 4",
              "groutine report", "groutine subscriptions")
    assert returns_in_order(s) == [
        "[leaf_returns] escape_leaf(100) returned 301",
        "[outer_returns] escape_outer(0) returned 301",
        "[leaf_returns] escape_leaf(101) unwound", "[outer_returns] escape_outer(1) unwound",
        "[leaf_returns] escape_leaf(102) returned 307",
        "[outer_returns] escape_outer(2) returned 307",
        "[leaf_returns] escape_leaf(103) unwound", "[outer_returns] escape_outer(3) unwound",
    ], s
    assert s.target_lines(r"escape_outer\(.*") == [
        "escape_outer(0)=301", "escape_outer(1) longjmp", "escape_outer(2)=1307",
        "escape_outer(3) longjmp"], s
    assert "returns awaited: 0 calls" in s.after("groutine subscriptions"), s


ALIAS_SCRIPT = '''
import groutines as g

async def follow(name, add):
    async for call in g.calls(name):
        x = call.arg(0) & 0xffffffff
        ret = await call.returned()
        g.log(f"{name}({x}) " + ("unwound" if ret.unwound else "returned"))
        if not ret.unwound:
            ret.set_value(ret.value + add)

@g.groutine
async def by_name():
    await follow("twice", 100)

@g.groutine
async def by_alias():
    await follow("twice_alias", 10)
'''


@pytest.mark.parametrize("build", BUILDS)
def test_two_names_for_one_address_each_hear_every_call_and_its_return(debugger, build,
                                                                      tmp_path):
    script = tmp_path / "groutine_alias.py"
    script.write_text(ALIAS_SCRIPT)
    n = 4
    s = debug(debugger, f"file {target(build)}", f"groutine load {script}", f"run {n}",
              "groutine report", "groutine subscriptions")
    assert s.logged("by_name") == [f"twice({i}) returned" for i in range(n)], s
    assert s.logged("by_alias") == [f"twice_alias({i}) returned" for i in range(n)], s
    # Each name's groutine rewrote the value the other left: the caller sees both.
    assert s.target_lines(r"twice_alias\(.*") == [
        f"twice_alias({i})={2 * i + 7 + 110}" for i in range(n)], s
    assert "returns awaited: 0 calls" in s.after("groutine subscriptions"), s


REALLOC_SCRIPT = '''
import groutines as g

def ours(size):
    return 4000 <= size < 4100

@g.groutine
async def realloc_returns():
    async for call in g.calls("realloc", where=lambda c: c.arg(0) == 0 and ours(c.arg(1))):
        size = call.arg(1)
        ret = await call.returned()
        g.log(f"realloc(NULL,{size}) " + ("unwound" if ret.unwound else f"returned {ret.value:#x}"))

@g.groutine
async def malloc_returns():
    async for call in g.calls("malloc", where=lambda c: ours(c.arg(0))):
        size = call.arg(0)
        ret = await call.returned()
        g.log(f"malloc({size}) " + ("unwound" if ret.unwound else f"returned {ret.value:#x}"))
'''


def test_realloc_of_null_returns_what_the_malloc_it_jumps_to_returned(debugger, tmp_path):
    script = tmp_path / "groutine_realloc.py"
    script.write_text(REALLOC_SCRIPT)
    n = 3
    s = debug(debugger, f"file {target('tailcalls_O2_g')}", f"groutine load {script}", f"run {n}",
              "groutine report")
    # Under GDB the target's stdout is a pipe, which stdio buffers in a malloc(4096): not ours.
    lines = [line for line in s.lines()
             if line.startswith(("[realloc_returns] ", "[malloc_returns] "))
             and not (debugger == "gdb" and "(4096)" in line)]
    assert len(lines) == 2 * n, s
    for i in range(n):
        inner, outer = lines[2 * i], lines[2 * i + 1]
        assert inner.startswith(f"[malloc_returns] malloc({4000 + i}) returned 0x"), s
        value = inner.rsplit(" ", 1)[1]
        assert outer == f"[realloc_returns] realloc(NULL,{4000 + i}) returned {value}", s


CPP_NAMES_SCRIPT = '''
import groutines as g

async def follow(name, add):
    async for call in g.calls(name):
        x = call.arg("x")
        ret = await call.returned()
        g.log(f"{name}({x}) " + ("unwound" if ret.unwound else f"returned {ret.value}"))
        if not ret.unwound:
            ret.set_value(ret.value + add)

@g.groutine
async def by_namespace():
    await follow("ns::scaled", 100)

@g.groutine
async def by_c_name():
    await follow("scaled", 10)
'''


def test_a_cpp_function_and_its_c_alias_are_one_hook(debugger, tmp_path):
    script = tmp_path / "groutine_cpp_names.py"
    script.write_text(CPP_NAMES_SCRIPT)
    n = 3
    s = debug(debugger, f"file {target('cpp_names_O2_g')}", f"groutine load {script}", f"run {n}",
              "groutine report", "groutine subscriptions")
    # Which name is delivered first is the order they were first awaited in; each reads the
    # value the other may have rewritten, so only the sum is certain.
    namespace = s.logged("by_namespace")
    c_name = s.logged("by_c_name")
    assert len(namespace) == n and len(c_name) == n, s
    for i in range(n):
        assert namespace[i].startswith(f"ns::scaled({i}) returned "), s
        assert c_name[i].startswith(f"scaled({i}) returned "), s
    assert s.target_lines(r"scaled\(.*") == [f"scaled({i})={5 * i + 1 + 110}" for i in range(n)], s
    assert "returns awaited: 0 calls" in s.after("groutine subscriptions"), s
