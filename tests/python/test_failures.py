"""Failures: an exception or a failed assert ends its groutine (message, file:line, event)
and nobody else; stale handles and misuse raise groutines.Error, never crash."""
import asyncio
import re

import pytest

import groutines as g

HERE = re.escape(__file__)


def line_of(fn, text):
    """line_of() is the line of fn's source holding text."""
    import inspect
    lines, first = inspect.getsourcelines(fn)
    return first + next(i for i, l in enumerate(lines) if text in l)


def test_an_exception_fails_its_groutine_with_file_line_and_event_and_the_others_go_on(target):
    seen = []

    async def fragile():
        c = await g.call("f")
        {}["missing"]

    async def sturdy():
        async for c in g.calls("f"):
            seen.append(c.arg(0))

    target.load(fragile)
    target.load(sturdy)
    target.call(4, "f", args=[1])
    target.ret(4)
    target.call(4, "f", args=[2])
    assert seen == [1, 2]
    failure, = target.groutine("fragile").failures
    assert (failure.message, failure.file, failure.line, failure.event, failure.fatal) == (
        "KeyError: 'missing'", __file__, line_of(fragile, '{}["missing"]'),
        "call #1 of f on thread 4", True)
    assert target.groutine("fragile").state == "failed"
    assert target.groutine("sturdy").state == "waiting"


def test_a_failed_check_is_recorded_at_its_line_and_the_groutine_goes_on(target):
    seen = []

    async def checker():
        async for c in g.calls("f"):
            seen.append(g.check(c.arg(0) < 2, f"arg was {c.arg(0)}"))
            g.check(c.arg(0) != 3)

    target.load(checker)
    for n in (1, 2, 3):
        target.call(1, "f", args=[n])
        target.ret(1)
    assert seen == [True, False, False]
    info = target.groutine("checker")
    assert info.state == "waiting" and not target.passed
    first = line_of(checker, "g.check(c.arg(0) < 2")
    assert [(f.message, f.file, f.line, f.event, f.fatal) for f in info.failures] == [
        ('check failed: seen.append(g.check(c.arg(0) < 2, f"arg was {c.arg(0)}")): arg was 2',
         __file__, first, "call #2 of f on thread 1", False),
        ('check failed: seen.append(g.check(c.arg(0) < 2, f"arg was {c.arg(0)}")): arg was 3',
         __file__, first, "call #3 of f on thread 1", False),
        ("check failed: g.check(c.arg(0) != 3)", __file__, first + 1,
         "call #3 of f on thread 1", False)]


def test_a_check_outside_a_groutine_raises_groutines_error():
    with pytest.raises(g.Error, match=r"^groutines\.check\(\) is called from inside a groutine"):
        g.check(False)


def test_a_failed_assert_shows_its_message_or_its_source(target, script):
    # In a script (pytest rewrites the asserts of test files, not of loaded scripts).
    path = script("groutine_asserts.py", """
        import groutines as g

        @g.groutine
        async def with_message():
            c = await g.call("f")
            assert c.arg(0) < 10, f"arg is {c.arg(0)}"

        @g.groutine
        async def bare():
            c = await g.call("f")
            assert c.arg(0) < 10
    """)
    target.load(path)
    target.call(1, "f", args=[11])
    assert target.failures == [
        f"with_message: {path}:6: AssertionError: arg is 11 (during call #1 of f on thread 1)",
        f"bare: {path}:11: AssertionError: assert c.arg(0) < 10 (c.arg(0) = 11) "
        "(during call #1 of f on thread 1)"]


def test_a_bare_assert_shows_only_values_it_can_read_without_side_effects(target, script):
    path = script("groutine_values.py", """
        import groutines as g

        LIMIT = 3
        pending = [5]

        @g.groutine
        async def named():
            ev = await g.event("x")
            assert ev["n"] + 0 < LIMIT and ev.data

        @g.groutine
        async def compared():
            ev = await g.event("x")
            assert ev["n"] < -LIMIT

        @g.groutine
        async def popped():
            await g.event("x")
            assert pending.pop() == 1
    """)
    target.load(path)
    target.fire("x", n=4)
    assert [f.split("AssertionError: ")[1].split(" (during")[0] for f in target.failures] == [
        'assert ev["n"] + 0 < LIMIT and ev.data',  # not a comparison of readable operands
        'assert ev["n"] < -LIMIT (ev["n"] = 4, -LIMIT = -3)',
        "assert pending.pop() == 1"]  # pop() is not evaluated again


def test_an_exception_in_a_where_predicate_fails_its_groutine_at_the_predicate(target):
    async def divider():
        await g.call("f", where=lambda c: 1 // c.arg(0))

    target.load(divider)
    target.call(1, "f", args=[0])
    failure, = target.groutine("divider").failures
    assert failure.message == "ZeroDivisionError: integer division or modulo by zero"
    assert failure.line == line_of(divider, "where=")
    assert target.hooked == []


def test_a_call_used_after_the_target_resumed_raises_groutines_error(target):
    kept = []

    async def keeper():
        kept.append(await g.call("f"))

    target.load(keeper)
    target.call(1, "f")
    call, = kept
    assert not call.valid
    with pytest.raises(g.Error, match=r"^event #1 is no longer current: the target has resumed "
                                      r"since it was delivered$"):
        call.arg(0)
    with pytest.raises(g.Error, match=r"^event #1 is no longer current"):
        call.return_now(0)
    assert repr(call) == "<groutines.Call #1 of ? (no longer current)>"


def test_a_call_used_at_a_later_event_fails_the_groutine_with_groutines_error(target):
    async def stale():
        c = await g.call("f")
        await g.event("later")
        c.arg(0)

    target.load(stale)
    target.call(1, "f")
    target.ret(1)
    target.fire("later")
    failure, = target.groutine("stale").failures
    assert failure.message == ("groutines.Error: event #1 is no longer current: the target has "
                               "resumed since it was delivered")
    assert failure.line == line_of(stale, "c.arg(0)")


def test_the_return_of_a_call_must_be_awaited_while_the_call_is_handled(target):
    async def late():
        c = await g.call("f")
        await g.event("later")
        try:
            await c.returned()
        except g.Error as e:
            g.log(str(e))

    target.load(late)
    target.call(1, "f")
    target.fire("later")
    assert target.logs == ["late: cannot wait for the return of call #1: that call is no longer "
                           "current (wait for its return while handling it)"]


NOT_CURRENT = ("groutines.Error: cannot wait for the return of call #1: that call is no longer "
               "current (wait for its return while handling it)")


def test_awaiting_the_return_of_a_call_twice_fails_at_the_second_await(target):
    seen = []

    async def twice():
        c = await g.call("f")
        seen.append((await c.returned()).value)
        await c.returned()
        seen.append("never")

    target.load(twice)
    target.call(1, "f")
    target.ret(1, 5)
    assert seen == [5]
    failure, = target.groutine("twice").failures
    assert (failure.message, failure.line) == (NOT_CURRENT, line_of(twice, "await c.returned()\n"))
    assert not target.passed


def test_awaiting_a_return_after_another_event_fails_even_while_others_wait_for_it(target):
    # The return is watched for `handler`: `late` must not get it by accident.
    async def handler():
        c = await g.call("f")
        await c.returned()

    async def late():
        c = await g.call("f")
        await g.event("later")
        await c.returned()

    target.load(handler)
    target.load(late)
    target.call(1, "f")
    target.fire("later")
    failure, = target.groutine("late").failures
    assert (failure.message, failure.line) == (NOT_CURRENT, line_of(late, "await c.returned()"))
    target.ret(1, 5)
    assert target.groutine("handler").state == "finished"


def test_awaiting_something_else_than_a_groutines_event_raises_at_the_await(target):
    async def asyncio_user():
        await asyncio.sleep(0)

    target.load(asyncio_user)
    failure, = target.groutine("asyncio_user").failures
    assert failure.message == (
        "TypeError: a groutine awaits groutines events only (g.call, g.event, g.any, "
        "call.returned(), async for in g.calls), not None (asyncio does not run in groutines)")
    assert failure.line == line_of(asyncio_user, "asyncio.sleep")
    assert failure.event == "start"


def test_a_stream_of_calls_is_iterated_inside_a_groutine_only():
    with pytest.raises(g.Error, match=r'^g\.calls\("f"\) is iterated inside a groutine: '
                                      r'async for call in g\.calls\("f"\)$'):
        g.calls("f").__anext__()


def test_a_stream_kept_beyond_its_groutine_releases_its_hook_when_the_groutine_ends(target):
    kept = []

    async def leaky():
        stream = g.calls("f")
        kept.append(stream)
        async for c in stream:
            break
        await g.event("never")

    target.load(leaky)
    target.call(1, "f")
    assert target.hooked == ["f"]  # the stream lives on (in kept): the hook too
    target.unload("leaky")
    assert target.hooked == []
    kept.clear()


def test_fire_outside_a_groutine_without_a_runtime_is_an_error():
    with pytest.raises(g.Error, match=r"^fire\('x'\) outside a groutine needs a debugger with the "
                                      r"groutines plugin, or a groutines\.testing\.Target$"):
        g.fire("x")


def test_a_closed_target_refuses_events():
    from groutines.testing import Target
    t = Target()
    t.close()
    with pytest.raises(g.Error, match=r"^this scripted target is closed$"):
        t.call(1, "f")


def test_a_stream_handed_to_another_groutine_holds_the_hook_for_it(target):
    shared = g.calls("f")
    seen = []

    async def first():
        async for c in shared:
            seen.append(("first", c.arg(0)))
            return

    async def second():
        await g.event("go")
        async for c in shared:
            seen.append(("second", c.arg(0)))
            await c.returned()  # the stream keeps f hooked meanwhile

    target.load(first)
    target.call(1, "f", args=[1])
    target.ret(1)
    assert target.hooked == []  # first ended: its hold on f went with it
    target.load(second)
    target.fire("go")
    target.call(1, "f", args=[2])
    assert target.hooked == ["f"]
    target.ret(1)
    assert seen == [("first", 1), ("second", 2)]
    assert target.journal.count("install f") == 2


def test_an_exception_in_a_finally_block_while_closing_is_recorded(target):
    async def messy():
        try:
            await g.call("f", where=lambda c: c.arg(0) / 0)
        finally:
            raise ValueError("from finally")

    target.load(messy)
    target.call(1, "f", args=[1])
    closing, predicate = target.groutine("messy").failures
    assert (closing.message, closing.fatal) == (
        "while closing the coroutine: ValueError: from finally", False)
    assert closing.line == line_of(messy, "raise ValueError")
    assert (predicate.message, predicate.fatal) == ("ZeroDivisionError: division by zero", True)


def test_text_that_utf8_cannot_encode_is_escaped_never_an_error(target):
    # A lone surrogate (a file name's undecodable byte, say) anywhere Python text goes into
    # the runtime is written as a backslash escape; the groutine fails only where it raised.
    replies = []

    async def lone():
        c = await g.call("f")
        g.log("log \udcff")
        g.check(False, "check \udcff")
        replies.extend(g.fire("event \udcff", key="value \udcff"))
        with pytest.raises(g.Error, match=r"has no argument named 'no \\udcff'"):
            c.arg("no \udcff")  # a groutines.Error naming it, not a cast error
        raise AssertionError("raise \udcff")

    async def listener():
        e = await g.event("event \\udcff")
        e.reply(e["key"])

    g.groutine(name="name \udcff")(lone)
    target.load(listener)
    target.load(lone)
    target.call(1, "f")
    assert target.logs == ["name \\udcff: log \\udcff"]
    assert replies == ["value \\udcff"]
    check, raised = target.groutine("name \\udcff").failures
    assert check.message.endswith(": check \\udcff")
    assert (raised.message, raised.line) == ("AssertionError: raise \\udcff",
                                             line_of(lone, "raise AssertionError"))
