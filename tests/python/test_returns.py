"""The return of one call: matched to the call that made it through recursion and threads,
read as int or float, rewritten, or unwound."""
import struct

import pytest

import groutines as g


def test_a_return_is_delivered_to_the_call_that_made_it_not_to_a_recursive_inner_call(target):
    seen = []

    async def outer_only():
        c = await g.call("fact", where=lambda c: c.arg(0) == 3)
        ret = await c.returned()
        seen.append((c.id, ret.call_id, ret.value))

    target.load(outer_only)
    for n in (3, 2, 1):
        target.call(1, "fact", args=[n])
    target.ret(1, 1)
    target.ret(1, 2)
    assert seen == []
    target.ret(1, 6)
    assert seen == [(1, 1, 6)]


def test_two_threads_in_the_same_function_each_get_their_own_return(target):
    seen = []

    async def each():
        async for c in g.calls("work"):
            thread = c.thread_id  # read while the call is current
            ret = await c.returned()
            seen.append((thread, ret.thread_id, ret.value))

    async def second():  # handles the call on thread 2 while `each` waits for thread 1's
        c = await g.call("work", where=lambda c: c.thread_id == 2)
        ret = await c.returned()
        seen.append(("second", ret.thread_id, ret.value))

    target.load(each)
    target.load(second)
    target.call(1, "work")
    target.call(2, "work")
    target.ret(2, 20)
    target.ret(1, 10)
    assert seen == [("second", 2, 20), (1, 1, 10)]


def test_a_rewritten_return_is_what_the_caller_sees_and_later_groutines_see_it(target):
    seen = []

    async def add(n):
        ret = await (await g.call("f")).returned()
        seen.append(ret.value)
        ret.set_value(ret.value + n)

    async def add10():
        await add(10)

    async def add100():
        await add(100)

    target.load(add10)
    target.load(add100)
    target.call(1, "f")
    assert target.ret(1, 1) == 111
    assert seen == [1, 11]


def test_floating_returns_are_read_with_float_value_and_rewritten_with_a_float(target):
    seen = []

    async def halve():
        ret = await (await g.call("sqrt")).returned()
        seen.append(ret.float_value)
        ret.set_value(ret.float_value / 2)
        seen.append((ret.value, ret.float_value))

    target.load(halve)
    target.call(1, "sqrt", floats=[16.0])
    assert target.ret(1, 4.0) == 2.0
    assert seen == [4.0, (2.0, 2.0)]


def test_a_skipped_call_still_returns_at_once_with_the_forced_value(target):
    seen = []

    async def skipper():
        (await g.call("f")).return_now(-1)

    async def watcher():
        ret = await (await g.call("f")).returned()
        seen.append(ret.value)
        ret.set_value(-2)

    target.load(skipper)
    target.load(watcher)
    assert target.call(1, "f") == -2
    assert seen == [-1]


def test_an_unwound_frame_has_no_return_value(target):
    seen = []

    async def watcher():
        ret = await (await g.call("f")).returned()
        seen.append(ret.unwound)
        with pytest.raises(g.Error, match=r"^call #1 of f was unwound without returning: "
                                          r"it has no return value$"):
            ret.value
        with pytest.raises(g.Error, match=r"^cannot set the return value of an unwound call$"):
            ret.set_value(0)

    target.load(watcher)
    target.call(1, "main")
    target.call(1, "f")
    target.unwind(1, 2)
    assert seen == [True]
    assert target.passed, target.report()


def test_a_return_reads_the_memory_its_value_points_at_and_the_stack_it_returns_into(target):
    seen = []

    async def reader():
        c = await g.call("strdup")
        ret = await c.returned()
        seen.append((ret.read_cstring(ret.value), ret.read_memory(ret.value, 2),
                     ret.reg("rax") == ret.value, [f.function for f in ret.stack()]))

    target.write_memory(0x2000, b"copy\0")
    target.load(reader)
    target.call(1, "main")
    target.call(1, "strdup", args=[0x1000])
    target.ret(1, 0x2000)
    assert seen == [("copy", b"co", True, ["main"])]
    assert target.passed, target.report()


def test_forced_and_rewritten_values_are_converted_to_the_declared_return_type_as_c_does(target):
    errors = []

    async def convert():
        (await g.call("count")).return_now(2.75)
        (await g.call("ratio")).return_now(0.1)
        ret = await (await g.call("scale")).returned()
        ret.set_value(-3)
        assert ret.value == -3.0 and isinstance(ret.value, float)
        pair = await g.call("pair")
        try:
            pair.return_now(1)
        except g.Error as e:
            errors.append(str(e))

    target.returns("count", "int")
    target.returns("ratio", "float")
    target.returns("scale", "double")
    target.returns("pair", "struct")
    target.load(convert)
    assert target.call(1, "count") == 2
    assert target.call(1, "ratio") == struct.unpack("f", struct.pack("f", 0.1))[0]
    target.call(1, "scale")
    assert target.ret(1, 0.5) == -3.0
    assert target.call(1, "pair") is None  # not skipped: the body runs
    target.ret(1, 7)
    assert errors == ["call #5 of pair: cannot return 1 from a function that returns a struct, "
                      "union or class by value: a forced or rewritten return value is one "
                      "number"]
    assert target.passed, target.report()


def test_an_unknown_return_type_is_refused_naming_the_known_ones(target):
    with pytest.raises(ValueError, match=r"returns\('f', 'quad'\): the type is one of 'char', "):
        target.returns("f", "quad")
