"""The runtime hosted from Python: a pure-Python Backend and Frames (tests/python/
pure_backend.py) drive Python and C++ groutines as a debugger whose only API is Python would."""
import os

import pytest

import groutines as g
from groutines import _native
from pure_backend import PureFrame, PureTarget

EXAMPLES = os.environ.get("GROUTINES_EXAMPLES", "")


def example(name):
    """example() is the path of a built example groutine library (groutines/examples/)."""
    path = os.path.join(EXAMPLES, f"libgroutine_{name}.so")
    if not os.path.exists(path):
        pytest.fail(f"{path} is not built (set GROUTINES_EXAMPLES to build/groutines)")
    return path


@pytest.fixture
def pure():
    """A pure-Python target; when the test ends, closing it must leave no hook, no watch and
    no backend error, and its runtime must no longer be the default one."""
    t = PureTarget()
    assert _native.default_runtime() is not None
    try:
        yield t
    finally:
        t.close()
    assert t.backend.hooks == {}, "hooks left installed"
    assert t.backend.watched == {}, "returns left watched"
    assert _native.default_runtime() is None


def load(target, fn):
    return target.host.load(fn)


def test_hooks_are_installed_and_removed_as_groutines_wait(pure):
    async def one_call():
        await g.call("parse")
        await g.event("done")

    load(pure, one_call)
    assert list(pure.backend.hooks.values()) == ["parse"]
    pure.call(1, "parse")
    assert pure.backend.hooks == {}
    assert pure.backend.journal == ["install parse", "remove parse"]
    assert pure.backend.errors == []


def test_arguments_are_read_through_the_python_frame(pure):
    seen = []

    async def reader():
        c = await g.call("f")
        seen.append((c.arg(0), c.sarg(1), c.float_arg(0), c.reg("rsp"), c.args["len"]))

    load(pure, reader)
    pure.call(1, "f", args=[7, -1], floats=[1.5], regs={"rsp": 0x7ff0}, named={"len": 10})
    assert seen == [(7, -1, 1.5, 0x7ff0, 10)]


def test_a_python_frame_that_raises_is_a_groutines_error_in_the_groutine(pure):
    seen = []

    async def reader():
        c = await g.call("f")
        try:
            c.arg(3)
        except g.Error as e:
            seen.append(str(e))
        try:
            c.reg("nope")
        except g.Error as e:
            seen.append(str(e))

    load(pure, reader)
    pure.call(1, "f", args=[1])
    assert seen == ["Frame.int_argument(): IndexError: f has no integer argument 3",
                    "Frame.register_value(): KeyError: \"no register 'nope'\""]


def test_a_return_is_awaited_and_rewritten(pure):
    seen = []

    async def doubler():
        c = await g.call("fact", where=lambda c: c.arg(0) == 3)
        ret = await c.returned()
        seen.append((c.id, ret.value))
        ret.set_value(ret.value * 2)

    load(pure, doubler)
    for n in (3, 2):
        pure.call(1, "fact", args=[n])
    assert pure.ret(1, 2) == 2  # the inner call: not watched
    assert pure.ret(1, 6) == 12
    assert seen == [(1, 6)]
    assert pure.backend.journal == ["install fact", "watch fact#1", "remove fact"]


def test_a_call_is_skipped_with_a_forced_value(pure):
    async def deny():
        c = await g.call("open_file")
        c.return_now(-13)

    load(pure, deny)
    assert pure.call(1, "open_file") == -13
    assert pure.call(1, "open_file") is None  # the groutine ended: no hook, the call runs
    pure.ret(1)


def test_stops_logs_and_failures_reach_the_python_backend(pure):
    async def noisy():
        c = await g.call("f")
        g.log(f"f({c.arg(0)})")
        g.stop("seen f")
        g.check(c.arg(0) == 0, "arg is 0")
        raise ValueError("boom")

    load(pure, noisy)
    pure.call(1, "f", args=[5])
    assert pure.backend.logs == ["noisy: f(5)"]
    assert pure.backend.stops == ["noisy: seen f"]
    assert [(who, fatal) for who, _, fatal in pure.backend.failures] == [
        ("noisy", False), ("noisy", True)]
    assert "boom" in pure.backend.failures[1][1]
    assert ("call", "f") in pure.backend.observed


def test_a_backend_method_that_raises_is_reported_and_never_reaches_the_runtime(pure):
    async def waiter():
        await g.call("f")

    pure.backend.fail_on = "install_call_hook"
    load(pure, waiter)
    assert pure.backend.errors == ["install_call_hook: RuntimeError: install_call_hook refused"]
    pure.backend.fail_on = None
    assert pure.runtime.unload_python() == 1


def test_a_backend_exception_whose_message_raises_is_still_reported(pure):
    class Unprintable(Exception):
        def __str__(self):
            raise ValueError("no message")

    def refuse(function_id, function):
        raise Unprintable()

    async def waiter():
        await g.call("f")

    pure.backend.install_call_hook = refuse
    load(pure, waiter)
    assert pure.backend.errors == [
        "install_call_hook: Unprintable: (its message cannot be shown)"]
    del pure.backend.install_call_hook
    assert pure.runtime.unload_python() == 1


def test_a_request_stop_that_raises_is_a_groutines_error_in_the_groutine(pure):
    seen = []

    async def stopper():
        await g.call("f")
        try:
            g.stop("now")
        except g.Error as e:
            seen.append(str(e))

    pure.backend.fail_on = "request_stop"
    load(pure, stopper)
    pure.call(1, "f")
    assert seen == ["Backend.request_stop(): RuntimeError: request_stop refused"]
    pure.ret(1)


def test_spawned_children_await_their_own_calls_returns(pure):
    pairs = []

    async def pair(call):
        arg = call.arg(0)
        ret = await call.returned()
        pairs.append((arg, ret.value))

    async def every_call():
        async for call in g.calls("fib"):
            g.spawn(pair(call))

    load(pure, every_call)
    for n in (3, 2, 1):
        pure.call(1, "fib", args=[n])
    for value in (1, 1, 2):
        pure.ret(1, value)
    assert pairs == [(1, 1), (2, 1), (3, 2)]
    assert pure.runtime.unload_python() == 1


def test_the_hosted_runtime_is_the_default_one_for_fire(pure):
    async def echo():
        ev = await g.event("ping")
        ev.reply(ev["n"] + 1)

    load(pure, echo)
    assert g.fire("ping", n=1) == [2]


def test_a_cpp_groutine_library_runs_through_the_python_backend(pure):
    pure.host.load_library(example("events"))
    assert list(pure.backend.hooks.values()) == ["add"]
    for _ in range(3):
        pure.call(1, "add", args=[1, 2])
        pure.ret(1, 3)
    who = lambda replies: [(r.groutine, r.value) for r in replies]  # noqa: E731
    assert who(pure.runtime.fire("count")) == [("add-counter", 3)]
    assert who(pure.runtime.fire("ping", {"n": 41})) == [("echo", 42)]


def test_a_closed_hosted_runtime_says_so():
    t = PureTarget()
    t.close()
    with pytest.raises(g.Error, match="this groutines.Runtime is closed"):
        t.runtime
    t.close()  # again: nothing


def test_a_handle_on_the_runtime_taken_before_close_stays_valid(pure):
    async def waiter():
        await g.call("f")

    load(pure, waiter)
    core = pure.host.runtime
    assert len(core.groutines()) == 1
    pure.host.close()
    assert core.groutines() == []  # unloaded, not freed


def test_a_backend_that_is_not_one_is_refused():
    with pytest.raises(TypeError, match=r"takes a groutines.Backend, not <object object"):
        g.Runtime(object())


def test_a_script_is_loaded_into_the_hosted_runtime_and_unloaded_with_it(script):
    path = script("groutine_count.py", """
        import groutines as g

        @g.groutine
        async def counter():
            n = 0
            try:
                async for call in g.calls("tick"):
                    n += 1
            finally:
                g.log(f"ticks: {n}")
    """)
    t = PureTarget()
    assert t.host.load(path) == ["counter"]
    t.call(1, "tick")
    t.ret(1)
    t.close()
    assert t.backend.logs == ["counter: ticks: 1"]
    assert t.backend.hooks == {}


def test_a_library_that_cannot_be_loaded_is_an_error_naming_it(pure):
    with pytest.raises(g.Error, match=r"cannot load '/nonexistent/libx.so': "):
        pure.host.load_library("/nonexistent/libx.so")
    python_module = _native.__file__  # a shared library without GROUTINE(...)s
    with pytest.raises(g.Error, match=r"defines no groutines \(no GROUTINE\(...\) in it\)"):
        pure.host.load_library(python_module)
    assert pure.runtime.groutines() == []


def test_a_cpp_groutine_reads_returns_through_the_python_frame_and_rewrites_them(pure):
    pure.host.load_library(example("rewrite"))
    pure.call(1, "add", args=[1, 2])
    assert pure.ret(1, 3) == 1003
    pure.call(1, "scale", floats=[1.5, 2.0])
    assert pure.ret(1, 3.0) == 30.0
    assert pure.backend.errors == []


def test_threads_deliver_at_once_through_the_python_backend_and_every_call_gets_its_return(pure):
    import threading

    pairs = []

    async def pair(call):
        thread, arg = call.thread_id, call.arg(0)
        ret = await call.returned()
        pairs.append((thread, arg, ret.value))

    async def every_call():
        async for call in g.calls("work"):
            g.spawn(pair(call))

    pure.host.load(every_call)
    errors = []

    def run(thread):
        try:
            for i in range(200):
                pure.call(thread, "work", args=[i])
                pure.ret(thread, i * 10 + thread)
        except Exception as e:  # reported below: a thread's exception would be lost
            errors.append(e)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(1, 5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
        assert not t.is_alive(), "a delivering thread hangs"
    assert errors == []
    assert sorted(pairs) == sorted((n, i, i * 10 + n) for n in range(1, 5) for i in range(200))
    [counter] = [x for x in pure.runtime.groutines() if x["name"] == "every_call"]
    assert counter["missed"] == {}
    assert pure.runtime.unload_python() == 1


def test_a_python_frame_that_returns_the_wrong_shape_is_an_error_naming_it(pure):
    seen = []

    class BadFrame(PureFrame):
        def arguments(self):
            return [["len", "int", 1]]

        def backtrace(self, max_frames):
            return ["main"]

    async def reader():
        c = await g.call("f")
        for read in (lambda: c.args, lambda: c.stack()):
            try:
                read()
            except g.Error as e:
                seen.append(str(e))

    pure.host.load(reader)
    [fid] = pure.backend.hooks
    pure.host.deliver_call(fid, 1, BadFrame("f"))
    assert seen == [
        "Frame.arguments() returned ['len', 'int', 1] in its list, not a "
        "(name, type, value) tuple",
        "Frame.backtrace() returned 'main' in its list, not a dict (pc, module, "
        "function, offset, file, line)"]


def test_a_python_frame_gives_the_memory_map_and_the_threads_and_a_bad_shape_is_named(pure):
    seen = []

    class MapFrame(PureFrame):
        def memory_regions(self):
            return [(0x1000, 0x2000, "r-x", "/bin/prog"), (0x7ff000, 0x800000, "rw-", "[stack]")]

        def threads(self):
            return [(2, {"rsp": 0x7ff100, "rip": 0x1010}), (1, {"rsp": 0x7ff800})]

    class BadFrame(MapFrame):
        def threads(self):
            return [(1, 0x7ff100)]

    async def reader():
        for _ in range(2):
            c = await g.call("f")
            try:
                regions, threads = c.memory_regions(), c.threads()
            except g.Error as e:
                seen.append(str(e))
                continue
            seen.append([(r.start, r.end, r.readable, r.writable, r.executable, r.path)
                         for r in regions])
            seen.append([(t.id, t.stack_pointer, t.registers) for t in threads])

    pure.host.load(reader)
    [fid] = pure.backend.hooks
    pure.host.deliver_call(fid, 2, MapFrame("f"))
    pure.host.deliver_call(fid, 2, BadFrame("f"))
    assert seen == [
        [(0x1000, 0x2000, True, False, True, "/bin/prog"),
         (0x7ff000, 0x800000, True, True, False, "[stack]")],
        [(2, 0x7ff100, {"rsp": 0x7ff100, "rip": 0x1010}), (1, 0x7ff800, {"rsp": 0x7ff800})],
        "Frame.threads() returned (1, 8384768) in its list, not an (id, {register: value}) "
        "tuple"]
