"""A call as a Python groutine sees it: arguments by position and by name, floats, registers,
memory, the stack, and skipping the call with return_now."""
import pytest

import groutines as g


def test_positional_arguments_are_the_integer_registers_read_unsigned_or_signed(target):
    seen = []

    async def reader():
        c = await g.call("f")
        seen.append((c.function, c.thread_id, c.arg(0), c.arg(1), c.sarg(1), c.reg("rdi")))

    target.load(reader)
    target.call(7, "f", args=[42, -1])
    assert seen == [("f", 7, 42, 2**64 - 1, -1, 42)]


def test_named_arguments_come_typed_from_the_debug_info(target):
    seen = []

    async def reader():
        c = await g.call("parse")
        seen.append((c.arg("len"), c.arg("scale"), c.arg("name"), c.args))

    target.load(reader)
    target.call(1, "parse", named={"len": 10, "scale": 0.5, "name": "hdr"})
    assert seen == [(10, 0.5, "hdr", {"len": 10, "scale": 0.5, "name": "hdr"})]


def test_float_arguments_are_read_from_the_floating_registers(target):
    seen = []

    async def reader():
        c = await g.call("lerp")
        seen.append((c.float_arg(0), c.float_arg(1), c.arg(0)))

    target.load(reader)
    target.call(1, "lerp", args=[3], floats=[1.5, -2.25])
    assert seen == [(1.5, -2.25, 3)]


def test_a_missing_argument_raises_groutines_error_inside_the_groutine(target):
    errors = []

    async def reader():
        c = await g.call("f")
        for read in (lambda: c.arg("nope"), lambda: c.arg(2), lambda: c.reg("xmm9")):
            try:
                read()
            except g.Error as e:
                errors.append(str(e))

    target.load(reader)
    target.call(1, "f", args=[1, 2])
    assert errors == [
        "call of f has no argument named 'nope' (no debug info for it?)",
        "call of f has no integer argument 2 (the scripted call passed 2)",
        "unknown register 'xmm9'",
    ]
    assert target.passed, target.report()


def test_memory_and_c_strings_are_read_from_the_target(target):
    seen = []

    async def reader():
        c = await g.call("puts")
        seen.append((c.read_cstring(c.arg(0)), c.read_memory(c.arg(0), 3)))
        with pytest.raises(g.Error, match=r"^cannot read 4 bytes at 0x10$"):
            c.read_memory(0x10, 4)

    target.write_memory(0x1000, b"hello\0world")
    target.load(reader)
    target.call(1, "puts", args=[0x1000])
    assert seen == [("hello", b"hel")]
    assert target.passed, target.report()


def test_stack_lists_the_frames_innermost_first_and_backtrace_renders_them(target):
    seen = []

    async def reader():
        c = await g.call("leaf")
        seen.append(([(f.function, f.module, f.pc, f.offset, f.file, f.line) for f in c.stack()],
                     c.backtrace(), [str(f) for f in c.stack(2)]))

    target.load(reader)
    target.call(1, "main")
    target.call(1, "middle")
    target.call(1, "leaf")
    # A scripted thread knows its functions' names only.
    assert seen == [([("leaf", "", 0, 0, "", 0), ("middle", "", 0, 0, "", 0),
                      ("main", "", 0, 0, "", 0)],
                     ["#0 0x0 ?`leaf", "#1 0x0 ?`middle", "#2 0x0 ?`main"],
                     ["0x0 ?`leaf", "0x0 ?`middle"])]


def test_a_backtrace_with_names_that_are_not_utf8_reads_with_them_replaced(target):
    seen = []

    async def reader():
        c = await g.call("leaf")
        seen.append((c.backtrace(), c.stack()[1].function))

    target.load(reader)
    target.call(1, b"caf\xe9")  # a target's name, in Latin-1
    target.call(1, "leaf")
    assert seen == [(["#0 0x0 ?`leaf", "#1 0x0 ?`caf\ufffd"], "caf\ufffd")]


def test_return_now_skips_the_call_and_the_caller_gets_the_value(target):
    async def oom():
        for _ in range(2):
            await g.call("malloc")
        c = await g.call("malloc", where=lambda c: c.arg(0) > 16)
        c.return_now(0)

    async def nan():
        c = await g.call("sqrt")
        c.return_now(float("inf"))

    target.load(oom)
    target.load(nan)
    for size in (8, 8, 8):
        assert target.call(1, "malloc", args=[size]) is None
        target.ret(1, 0x1000)
    assert target.call(1, "malloc", args=[32]) == 0
    assert target.depth(1) == 0  # the body did not run: its frame is gone
    assert target.call(1, "sqrt", floats=[-1.0]) == float("inf")
    assert target.passed, target.report()


def test_return_now_takes_an_int_or_a_float(target):
    errors = []

    async def skipper():
        c = await g.call("f")
        try:
            c.return_now("zero")
        except TypeError as e:
            errors.append(str(e))
        c.return_now(True)

    target.load(skipper)
    assert target.call(1, "f") == 1
    assert errors == ["return_now() takes an int or a float, not str"]


def test_where_sees_the_call_and_filters_it_before_the_groutine_runs(target):
    seen = []

    async def big():
        async for c in g.calls("malloc", where=lambda c: c.arg(0) >= 100):
            seen.append(c.arg(0))

    target.load(big)
    for size in (1, 100, 5, 300):
        target.call(1, "malloc", args=[size])
        target.ret(1, 0)
    assert seen == [100, 300]
    assert target.groutine("big").events_handled == 2


def test_a_stream_of_calls_keeps_its_hook_while_the_body_awaits_a_return(target):
    async def watcher():
        async for c in g.calls("f"):
            await c.returned()

    target.load(watcher)
    for _ in range(3):
        target.call(1, "f")
        target.ret(1, 0)
    assert target.journal == ["install f", "watch #1", "watch #3", "watch #5"]
    target.unload("watcher")
    assert target.hooked == []


def test_evaluate_needs_a_debugger_and_says_so_offline(target):
    errors = []

    async def evaluator():
        c = await g.call("f")
        with pytest.raises(g.Error) as e:
            c.evaluate("1 + 1")
        errors.append(str(e.value))

    target.load(evaluator)
    target.call(1, "f")
    assert errors == ["evaluate: not supported by this backend"]
    assert target.passed, target.report()
