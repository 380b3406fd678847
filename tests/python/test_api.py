"""The rest of the module's surface: predicates on events, awaitables reused and shared,
names, reprs and the exception classes."""
import pytest

import groutines as g


def test_event_predicates_filter_custom_events(target):
    seen = []

    async def big_only():
        while True:
            ev = await g.event("size", where=lambda ev: ev["n"] > 10)
            seen.append(ev["n"])

    target.load(big_only)
    for n in (5, 50, 7, 70):
        target.fire("size", n=n)
    assert seen == [50, 70]


def test_any_alternatives_keep_their_own_predicates(target):
    seen = []

    async def chooser():
        while True:
            index, c = await g.any(g.call("f", where=lambda c: c.arg(0) == 1),
                                   g.call("f", where=lambda c: c.arg(0) == 2))
            seen.append(index)

    target.load(chooser)
    for n in (2, 3, 1):
        target.call(1, "f", args=[n])
        target.ret(1)
    assert seen == [1, 0]


def test_any_delivers_a_return_that_comes_first(target):
    seen = []

    async def bounded():
        c = await g.call("slow")
        index, ret = await g.any(c.returned(), g.event("deadline"))
        seen.append((index, ret.value))

    target.load(bounded)
    target.call(1, "slow")
    target.ret(1, 5)
    assert seen == [(0, 5)]


def test_one_awaitable_may_be_awaited_again_and_by_several_groutines(target):
    tick = g.call("tick")
    counts = {"a": 0, "b": 0}

    def counter(name):
        async def count():
            while True:
                await tick
                counts[name] += 1
        count.__name__ = name
        return count

    target.load(counter("a"))
    target.load(counter("b"))
    for _ in range(3):
        target.call(1, "tick")
        target.ret(1)
    assert counts == {"a": 3, "b": 3}
    assert repr(tick) == "<groutines awaitable: call of tick>"


def test_current_name_is_the_running_groutine(target):
    names = []

    async def who():
        names.append(g.current_name())

    target.load(who)
    assert names == ["who"]
    assert g.current_name() is None


def test_a_reply_to_an_event_no_longer_current_raises(target):
    kept = []

    async def keeper():
        kept.append(await g.event("x"))

    target.load(keeper)
    target.fire("x", a=1)
    with pytest.raises(g.Error, match=r"^event #1 is no longer current"):
        kept[0].reply(1)
    with pytest.raises(g.Error, match=r"^event #1 is no longer current"):
        kept[0].data


def test_the_exception_classes_form_one_family():
    assert issubclass(g.Error, Exception)
    assert issubclass(g.LoadError, g.Error)
    assert g.Error.__module__ == "groutines"


def test_groutine_marks_name_and_refuses_functions_with_parameters():
    @g.groutine("custom")
    async def a():
        pass

    @g.groutine(name="other")
    async def b():
        pass

    assert (a.__groutine_name__, b.__groutine_name__) == ("custom", "other")
    with pytest.raises(TypeError, match=r"^a groutine takes no parameters; "
                                        r"'.*\.c' needs x, y$"):
        @g.groutine
        async def c(x, y):
            pass


def test_a_target_report_lists_states_and_failures(target, script):
    path = script("groutine_report.py", """
        import groutines as g

        @g.groutine
        async def waits():
            await g.call("f")

        @g.groutine
        async def fails():
            raise ValueError("bad")
    """)
    target.load(path)
    assert target.report() == (
        "waits: waiting on call of f, 0 events\n"
        "fails: failed, 0 events\n"
        f"  {path}:9: ValueError: bad (during start)\n")
