"""Custom events and replies between groutines (Python and C++), firing from the prompt,
waiting for the first of several events, stop and log."""
import os

import pytest

import groutines as g


def cpp_groutine(name):
    """cpp_groutine() is the path of tests/python/cpp/<name>.cpp built as a groutine library."""
    path = os.path.join(os.environ.get("GROUTINES_TEST_GROUTINES", ""),
                        f"libgroutine_test_{name}.so")
    if not os.path.exists(path):
        pytest.fail(f"{path} is not built (set GROUTINES_TEST_GROUTINES to build/tests/python/cpp)")
    return path


def test_fire_returns_the_replies_of_the_listeners_in_load_order(target):
    order = []
    replies = []

    async def doubler():
        while True:
            ev = await g.event("ask")
            order.append("doubler")
            ev.reply(ev["n"] * 2)

    async def silent():
        while True:
            await g.event("ask")
            order.append("silent")

    async def greeter():
        while True:
            ev = await g.event("ask")
            ev.reply("hi")
            ev.reply("hello")  # a second reply replaces the first

    async def asker():
        await g.call("f")
        order.append("asker fires")
        replies.extend(g.fire("ask", n=21))
        order.append("asker resumes")

    for fn in (doubler, silent, greeter, asker):
        target.load(fn)
    target.call(1, "f")
    assert order == ["asker fires", "doubler", "silent", "asker resumes"]
    assert replies == [42, "hello"]


def test_event_data_keeps_its_types_and_order(target):
    seen = []

    async def listener():
        ev = await g.event("cfg")
        seen.append((ev.name, ev.data))
        ev.reply(None)

    target.load(listener)
    data = {"flag": True, "n": -3, "ratio": 0.25, "who": "me", "nothing": None,
            "address": 2**64 - 1}
    assert target.fire("cfg", **data) == [None]
    assert seen == [("cfg", {**data, "address": -1})]  # 64-bit values are signed


def test_an_event_value_must_be_none_bool_int_float_or_str(target):
    with pytest.raises(TypeError, match=r"^a groutines value is None, bool, int, float or str, "
                                        r"not list$"):
        target.fire("x", items=[1, 2])
    with pytest.raises(ValueError, match=r"^integer 18446744073709551616 does not fit in 64 "
                                         r"bits$"):
        target.fire("x", n=2**64)


def test_g_fire_outside_a_groutine_fires_as_from_the_prompt(target):
    async def echo():
        while True:
            ev = await g.event("ping")
            ev.reply(ev["v"])

    target.load(echo)
    assert g.fire("ping", v=1.5) == [1.5]
    assert g.fire("nobody-listens") == []


def test_a_python_groutine_asks_a_cpp_groutine_and_gets_its_reply(target):
    replies = []

    async def asker():
        await g.call("f")
        replies.extend(g.fire("double", n=21))

    target.load_library(cpp_groutine("doubler"))
    target.load(asker)
    target.call(1, "f")
    assert replies == [42]


def test_a_cpp_groutine_asks_python_groutines_and_gets_their_replies(target):
    async def yes():
        while True:
            ev = await g.event("question")
            ev.reply(f"yes to {ev['from']}")

    async def number():
        while True:
            (await g.event("question")).reply(7)

    target.load_library(cpp_groutine("asker"))
    target.load(yes)
    target.load(number)
    target.call(1, "ask")
    target.ret(1)
    target.call(1, "ask")
    assert target.logs == ['cpp-asker: yes="yes to c++" number=7'] * 2


def test_any_tells_which_event_came_first(target):
    seen = []

    async def first_of():
        while True:
            index, ev = await g.any(g.call("malloc"), g.call("free"), g.event("x"))
            seen.append((index, type(ev).__name__))

    target.load(first_of)
    target.call(1, "free")
    target.ret(1)
    target.fire("x")
    target.call(1, "malloc")
    target.ret(1)
    assert seen == [(1, "Call"), (2, "CustomEvent"), (0, "Call")]


def test_any_can_wait_for_a_return_or_a_timeout_event(target):
    seen = []

    async def bounded():
        c = await g.call("slow")
        index, ev = await g.any(c.returned(), g.event("deadline"))
        seen.append(index if index == 1 else ev.value)

    target.load(bounded)
    target.call(1, "slow")
    target.fire("deadline")
    target.ret(1, 5)
    assert seen == [1]
    assert target.watched == 0  # the return nobody waits for any more is no longer watched


def test_any_takes_awaitables_only(target):
    with pytest.raises(TypeError, match=r"^any\(\) takes g\.call\(\), g\.event\(\) or "
                                        r"call\.returned\(\) awaitables, not 'malloc'$"):
        g.any("malloc")


def test_stop_and_log_reach_the_debugger(target):
    async def stopper():
        c = await g.call("abort")
        g.log(f"abort on thread {c.thread_id}")
        g.stop("abort() called")

    target.load(stopper)
    target.call(3, "abort")
    assert target.logs == ["stopper: abort on thread 3"]
    assert target.stops == ["stopper: abort() called"]


def test_stop_and_log_outside_a_groutine_are_an_error():
    with pytest.raises(g.Error, match=r"^groutines\.stop\(\) is called from inside a groutine "
                                      r"\(an @groutine async function\)$"):
        g.stop("why")
    with pytest.raises(g.Error, match=r"^groutines\.log\(\) is called from inside a groutine"):
        g.log("hello")
