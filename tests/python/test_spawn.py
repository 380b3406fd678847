"""g.spawn(coroutine): a child groutine per call awaits that call's return while its parent
takes the next call; streams count the calls they missed while busy."""
import pytest

import groutines as g


def pairing(seen):
    """pairing() is a groutine spawning, for every call of f, a child awaiting its return."""
    async def await_return(call):
        arg, thread = call.arg(0), call.thread_id
        ret = await call.returned()
        seen.append((call.id, ret.call_id, arg, thread, ret.thread_id, ret.value))

    async def pair_returns():
        stream = g.calls("f")
        async for call in stream:
            g.spawn(await_return(call))
            pair_returns.missed = stream.missed
    return pair_returns


def test_a_recursion_of_depth_200_handled_with_spawn_pairs_every_call_with_its_return(target):
    seen = []
    groutine = pairing(seen)
    target.load(groutine)
    for depth in range(200):
        target.call(1, "f", args=[depth])
    parent = target.groutine("pair_returns")
    assert parent.children == {"spawned": 200, "live": 200, "ended": 0, "failed": 0,
                               "events": 0, "failures_dropped": 0}
    children = [x for x in target.groutines if x.parent == parent.id]
    assert len(children) == 200 and {c.name for c in children} == {"await_return"}
    assert all(c.waiting_on.startswith("return of call #") for c in children)
    for depth in reversed(range(200)):
        target.ret(1, depth * 10)
    assert len(seen) == 200
    assert all(call == returned for call, returned, *_ in seen)
    assert [(arg, value) for _, _, arg, _, _, value in seen] == [
        (d, d * 10) for d in reversed(range(200))]
    assert groutine.missed == 0
    parent = target.groutine("pair_returns")
    assert parent.missed == {}
    assert parent.children["ended"] == 200 and parent.children["live"] == 0
    assert [x.name for x in target.groutines] == ["pair_returns"]  # the ended ones are reaped
    assert target.passed


def test_four_threads_of_500_interleaved_calls_handled_with_spawn_pair_every_call(target):
    seen = []
    target.load(pairing(seen))
    for i in range(500):
        for thread in (1, 2, 3, 4):
            target.call(thread, "f", args=[i])
        for thread in (3, 1, 4, 2):
            target.ret(thread, thread * 1000 + i)
    assert len(seen) == 2000
    assert all(call == returned for call, returned, *_ in seen)
    assert all(thread == ret_thread and value == thread * 1000 + arg
               for _, _, arg, thread, ret_thread, value in seen)
    assert target.groutine("pair_returns").missed == {}


def test_a_stream_counts_the_calls_made_while_its_groutine_awaits_a_return(target):
    counts = []

    async def in_line():
        stream = g.calls("f")
        async for call in stream:
            await call.returned()
            counts.append(stream.missed)

    target.load(in_line)
    target.call(1, "f")
    target.call(1, "f")  # recursion: missed
    target.call(2, "f")  # another thread: missed
    target.ret(2, 0)
    target.ret(1, 0)
    target.ret(1, 0)
    assert counts == [2]
    assert target.groutine("in_line").missed == {"f": 2}


def test_a_child_fails_alone_and_its_failure_is_reported_under_its_parent(target):
    handled = []

    async def check(call):
        ret = await call.returned()
        assert ret.value >= 0, f"negative: {ret.value}"

    async def parent():
        async for call in g.calls("f"):
            handled.append(call.id)
            g.spawn(check(call), name="check-f")

    target.load(parent)
    for value in (1, -1, 2):
        target.call(1, "f")
        target.ret(1, value)
    assert len(handled) == 3
    info = target.groutine("parent")
    assert info.state == "waiting"
    assert info.children == {"spawned": 3, "live": 0, "ended": 3, "failed": 1,
                             "events": 3, "failures_dropped": 0}
    assert len(info.failures) == 1
    failure = info.failures[0]
    assert failure.groutine == "check-f" and failure.fatal
    assert "negative: -1" in failure.message
    assert not target.passed
    assert "(in child check-f)" in target.failures[0]


def test_children_are_unloaded_with_their_parent_and_their_finally_blocks_run(target):
    closed = []

    async def child(call):
        try:
            await call.returned()
        finally:
            closed.append(call.id)

    async def parent():
        async for call in g.calls("f"):
            g.spawn(child(call))

    target.load(parent)
    target.call(1, "f")
    target.call(1, "f")
    assert target.watched == 2
    assert target.unload("parent") == 1
    assert len(closed) == 2
    assert target.groutines == []


def test_spawn_takes_a_coroutine_inside_a_groutine(target):
    errors = []

    async def handler(call):
        await call.returned()

    async def wrong():
        call = await g.call("f")
        try:
            g.spawn(handler)
        except TypeError as e:
            errors.append(str(e))

    target.load(wrong)
    target.call(1, "f")
    target.ret(1, 0)
    assert errors == ["groutines.spawn() takes a coroutine, made by calling an async function: "
                      "g.spawn(handler(call)), not " + repr(handler)]
    coroutine = handler(None)
    with pytest.raises(g.Error, match=r"groutines.spawn\(\) is called from inside a groutine"):
        g.spawn(coroutine)
    coroutine.close()
