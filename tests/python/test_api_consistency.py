"""The Python API means what the C++ API means (tests/core/api_consistency.tests.cpp): the
typed return value, who replied to a fire, the rendering of a wait with a condition, and the
error of a missing key."""
import pytest

import groutines as g


def test_return_value_is_a_float_when_the_function_returns_one_else_an_int(target):
    seen = []

    async def watch():
        while True:
            ret = await (await g.call("f")).returned()
            seen.append(ret.value)

    target.load(watch)
    target.call(1, "f")
    target.ret(1, -7)
    target.call(1, "f")
    target.ret(1, 0.75)
    assert seen == [-7, 0.75]
    assert [type(v) for v in seen] == [int, float]


def test_return_now_and_set_value_take_negative_ints_bools_and_floats(target):
    async def skip():
        (await g.call("skipped")).return_now(-1)

    async def rewrite():
        while True:
            call = await g.call("rewritten")
            as_bool = call.arg(0) == 1
            ret = await call.returned()
            ret.set_value(True if as_bool else 2.5)

    target.load(skip)
    target.load(rewrite)
    assert target.call(1, "skipped") == -1
    target.call(1, "rewritten", args=[1])
    assert target.ret(1, 5) == 1
    target.call(1, "rewritten", args=[0])
    assert target.ret(1, 5) == 2.5
    assert target.passed, target.report()


def test_fire_returns_replies_that_tell_who_replied(target):
    replies = []

    async def echo():
        while True:
            ev = await g.event("ping")
            ev.reply(ev["v"])

    async def asker():
        await g.call("f")
        replies.extend(g.fire("ping", v=3))

    target.load(echo)
    target.load(asker)
    echo_id = target.groutine("echo").id
    target.call(1, "f")
    from_prompt = target.fire("ping", v="x")
    outside = g.fire("ping", v=1.5)
    for reply, value in ((replies[0], 3), (from_prompt[0], "x"), (outside[0], 1.5)):
        assert isinstance(reply, g.Reply)
        assert (reply.value, reply.groutine, reply.id) == (value, "echo", echo_id)
        assert reply == value  # as when fire() returned bare values
    assert len(replies) == len(from_prompt) == len(outside) == 1
    assert repr(outside[0]) == f"<groutines.Reply 1.5 from echo #{echo_id}>"
    assert replies[0] != g.fire("ping", v=4)[0]


def test_a_wait_with_a_condition_reads_the_same_in_the_listing_and_the_awaitable(target):
    async def conditional():
        await g.any(g.call("f", where=lambda c: True), g.event("x", where=lambda e: False))

    target.load(conditional)
    listed = target.groutine("conditional").waiting_on
    assert listed == "any of (call of f (with a condition), event 'x' (with a condition))"
    awaitable = g.any(g.call("f", where=lambda c: True), g.event("x", where=lambda e: False))
    assert repr(awaitable) == f"<groutines awaitable: {listed}>"
    target.call(1, "f")
    assert target.groutine("conditional").state == "finished"


def test_a_missing_key_of_event_data_raises_key_error_naming_the_key_and_the_event(target):
    errors = []

    async def listener():
        ev = await g.event("cfg")
        with pytest.raises(KeyError) as raised:
            ev["missing"]
        errors.append(raised.value.args[0])

    target.load(listener)
    target.fire("cfg", present=True)
    assert errors == ["event 'cfg' has no field 'missing'"]
    assert target.passed, target.report()
