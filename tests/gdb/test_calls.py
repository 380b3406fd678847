"""The same groutines under GDB and LLDB: Python scripts and C++ libraries reading arguments
by position, by DWARF name and from registers, reading returns, rewriting them, skipping
calls, stopping the target with a reason, and following threads."""
import re

import pytest

from conftest import DEBUGGERS, debug, example, gdb, groutine_library, script, target


@pytest.mark.parametrize("debugger", DEBUGGERS)
@pytest.mark.parametrize("program", ["calls_O0_g", "calls_O2_g"])
def test_a_python_groutine_reads_arguments_rewrites_a_return_and_skips_a_call(debugger, program):
    path = script("groutine_lldb_calls.py")
    s = debug(debugger, f"file {target(program)}", f"groutine load {path}", "run 2",
              "groutine report")
    assert s.after(f"groutine load {path}") == (
        f"loaded 4 groutines from {path}\n"
        "  1 adds                 waiting on call of add\n"
        "  2 scales               waiting on call of scale\n"
        "  3 greets               waiting on call of greet\n"
        "  4 skip_parse           waiting on call of parse_header"), s
    for line in ["py: add(0,1) named={'a': 0, 'b': 1} evaluated=1 -> 1",
                 "py: add(1,2) named={'a': 1, 'b': 2} evaluated=12 -> 3",
                 "add(0,1)=1001", "add(1,2)=1003",  # rewritten
                 "py: scale(1.5,2.0) -> 3.0", "py: scale(2.5,3.0) -> 7.5",
                 'parse_header("GR header 0",11)=-7',  # skipped
                 'parse_header("XX header 1",11)=-1',
                 "py: greet ada -> hello, ada", "py: greet bob -> hello, bob",
                 "[skip_parse] skipped parse_header"]:
        assert line in s.lines(), f"{line!r} missing:\n{s}"
    assert "4 passed, 0 failed" in s.after("groutine report"), s


@pytest.mark.parametrize("debugger", DEBUGGERS)
@pytest.mark.parametrize("program", ["calls_O2_g", "calls_O0"])
def test_a_cpp_groutine_library_checks_every_call_with_and_without_debug_info(debugger, program):
    s = debug(debugger, f"file {target(program)}", f"groutine load {example('calls_checks')}",
              "run 3", "groutine report")
    add = s.logged("check-add")
    if program.endswith("_g"):
        assert add == [f"add({i},{i + 1})={2 * i + 1} named a={i} b={i + 1} type int"
                       for i in range(3)], s
    else:
        assert add == [f"add({i},{i + 1})={2 * i + 1} (no debug info)" for i in range(3)], s
    assert s.logged("check-mix") == [
        f"mix({','.join(str(i + k) for k in range(8))})="
        f"{sum((k + 1) * (i + k) for k in range(8))}" for i in range(3)], s
    assert s.logged("check-scale")[0] == "scale(1.5,2)=3", s
    assert s.logged("check-parse-header")[1] == 'parse_header("XX header 1",11)=-1', s
    assert "5 passed, 0 failed" in s.after("groutine report"), s


@pytest.mark.parametrize("debugger", DEBUGGERS)
def test_a_floating_return_is_a_float_with_debug_info_and_an_int_without(debugger):
    path = script("groutine_float_return.py")
    with_dwarf = debug(debugger, f"file {target('calls_O0_g')}", f"groutine load {path}", "run 1")
    assert with_dwarf.logged("scale_value_is_a_float") == [
        "scale value 3.0 float returns_float"], with_dwarf
    without = debug(debugger, f"file {target('calls_O0')}", f"groutine load {path}", "run 1")
    [line] = without.logged("scale_value_is_a_float")
    assert re.fullmatch(r"scale value \d+ int returns_float", line), without


@pytest.mark.parametrize("debugger", DEBUGGERS)
def test_a_groutine_stops_the_target_with_its_reason_and_a_stale_call_raises(debugger):
    path = script("groutine_lldb_failures.py")
    s = debug(debugger, f"file {target('calls_O2_g')}", f"groutine load {path}", "run 1",
              "groutine list", "continue", "groutine report")
    assert "groutine 'stopper' stopped the target: mix called with a=0" in s.lines(), s
    # Stopped at mix: the target has not printed mix's line yet.
    assert "mix(0,1,2,3,4,5,6,7)=168" not in s.after("run 1"), s
    assert "last stop: groutine 'stopper' stopped the target: mix called with a=0" in \
        s.after("groutine list"), s
    assert s.logged("stale") == ["stale: event #4 is no longer current: the target has resumed "
                                 "since it was delivered"], s
    report = s.after("groutine report")
    assert re.search(rf"^  {re.escape(path)}:17: AssertionError: assert ret.value > 100 ",
                     report, re.M), s
    assert "2 passed, 1 failed" in report, s


@pytest.mark.parametrize("debugger", DEBUGGERS)
@pytest.mark.parametrize("program", ["threads", "threads_O2"])
def test_python_groutines_follow_every_thread_and_rewrite_the_returns_of_one(debugger, program):
    n = 10
    s = debug(debugger, f"file {target(program)}",
              f"groutine load {script('groutine_lldb_threads.py')}", f"run {n}",
              "groutine report")
    for t in range(4):
        value = (lambda i: t * 1000 + i + (1 if t == 2 else 0))
        assert s.logged(f"work-{t}") == [f"work({t},{i})={value(i)} call {i + 1}"
                                         for i in range(n)], s
    base = [t * 1000 * n + n * (n - 1) // 2 for t in range(4)]
    assert s.target_lines(r"work_sum\(\d\)=\d+") == [
        f"work_sum({t})={base[t] + (n if t == 2 else 0)}" for t in range(4)], s
    assert "4 passed, 0 failed" in s.after("groutine report"), s

PLANTED = ("python import groutines_gdb; "
           "print('planted', groutines_gdb.frontend().backend.planted())")

EVALUATES = """import groutines as g

@g.groutine
async def evaluates():
    async for c in g.calls("add"):
        v = c.evaluate("add(40, 2)")
        g.log(f"add({c.arg(0)},{c.arg(1)}) evaluated add(40, 2)={v}")

@g.groutine
async def counts():
    async for c in g.calls("add"):
        g.log(f"add({c.arg(0)},{c.arg(1)})")
"""


@pytest.mark.parametrize("debugger", DEBUGGERS)
def test_an_expression_calling_a_hooked_function_does_not_deliver_its_call(debugger, tmp_path):
    path = tmp_path / "groutine_evaluates.py"
    path.write_text(EVALUATES)
    s = debug(debugger, f"file {target('calls_O0_g')}", f"groutine load {path}", "run 2",
              "groutine report")
    assert s.logged("evaluates") == ["add(0,1) evaluated add(40, 2)=42",
                                     "add(1,2) evaluated add(40, 2)=42"], s
    assert s.logged("counts") == ["add(0,1)", "add(1,2)"], s
    assert "2 passed, 0 failed" in s.after("groutine report"), s


@pytest.mark.parametrize("debugger", DEBUGGERS)
def test_an_expression_evaluated_deep_in_a_cpp_groutines_stack_works(debugger):
    s = debug(debugger, f"file {target('calls_O2')}",
              f"groutine load {groutine_library('deep_evaluate')}", "run 2", "groutine report")
    assert s.logged("deep-evaluate") == ["add(0,1) evaluated 1", "add(1,2) evaluated 12"], s
    assert "1 passed, 0 failed" in s.after("groutine report"), s


READS = """import groutines as g

@g.groutine
async def reads():
    c = await g.call("greet")
    for name in ("nope", "rip+1"):
        try:
            c.reg(name)
        except g.Error as e:
            g.log(f"reg: {e}")
    g.log(f"rsp aligned: {c.reg('rsp') % 16 == 8}, rip: {c.reg('rip') > 0}")
    g.log(f"name: {c.read_cstring(c.arg(0))!r}, 2 bytes: {c.read_cstring(c.arg(0), 2)!r}")
    try:
        c.read_cstring(0)
    except g.Error as e:
        g.log("a C string at 0: error")
    r = await c.returned()
    try:
        c.arg(0)
    except g.Error as e:
        g.log("an argument after the return: error")
    g.log(f"returned {r.read_cstring(r.value)!r}")
"""


@pytest.mark.parametrize("debugger", DEBUGGERS)
def test_registers_and_c_strings_read_and_bad_reads_are_errors_naming_what_was_wrong(
        debugger, tmp_path):
    path = tmp_path / "groutine_reads.py"
    path.write_text(READS)
    s = debug(debugger, f"file {target('calls_O2_g')}", f"groutine load {path}", "run 1",
              "groutine report")
    assert s.logged("reads") == [
        "reg: unknown register 'nope'", "reg: unknown register 'rip+1'",
        "rsp aligned: True, rip: True", "name: 'ada', 2 bytes: 'ad'",
        "a C string at 0: error", "an argument after the return: error",
        "returned 'hello, ada'"], s
    assert "1 passed, 0 failed" in s.after("groutine report"), s


def test_a_hook_released_while_other_threads_are_stopped_at_it_stops_nobody():
    # stop-at stops at the 5th call of work, takes one more call and ends: its hook goes while
    # the other threads of that stop may be stopped at it. None of them may stay stopped.
    s = gdb(f"file {target('threads')}", f"groutine load {example('watch')}",
            "groutine fire stop-at function=work after=5", "run 50", "continue", PLANTED)
    assert s.output.count("groutine 'stop-at' stopped the target: work called 5 times") == 1, s
    assert len(s.logged("stop-at")) == 1, s
    assert len(s.target_lines(r"work_sum\(\d\)=\d+")) == 4, s
    assert "exited normally" in s.after("continue"), s
    assert s.after(PLANTED) == "planted []", s
