# tour.py: the README's five-minute tour, over tests/targets/calls_O0_g
# (tests/lldb/test_session.py runs it as the README shows).
import groutines as g


@g.groutine
async def add_is_right():
    """Every add(a, b) returns a + b."""
    async for call in g.calls("add"):
        a, b = call.arg("a"), call.arg("b")      # by DWARF name
        ret = await call.returned()              # the return of this very call
        assert ret.value == a + b, f"add({a}, {b}) returned {ret.value}"


@g.groutine
async def reject_headers():
    """The second parse_header is skipped: the caller gets -1 without the body running."""
    await g.call("parse_header")
    call = await g.call("parse_header")
    text = call.read_cstring(call.arg(0))
    g.log(f"skipping parse_header({text!r}, {call.arg(1)})")
    call.return_now(-1)


@g.groutine
async def double_scale():
    """scale() results are doubled before the caller sees them."""
    async for call in g.calls("scale"):
        ret = await call.returned()
        ret.set_value(ret.float_value * 2)


@g.groutine
async def counter():
    """Answers `groutine fire how-many` with the number of greet() calls so far."""
    seen = 0
    while True:
        which, ev = await g.any(g.call("greet"), g.event("how-many"))
        if which == 0:
            seen += 1
        else:
            ev.reply(seen)


@g.groutine
async def stop_at_bob():
    """Stops the target at the prompt when greet() is called with "bob"."""
    call = await g.call("greet", where=lambda c: c.read_cstring(c.arg(0)) == "bob")
    g.stop(f"greet called with {call.read_cstring(call.arg(0))!r}")
