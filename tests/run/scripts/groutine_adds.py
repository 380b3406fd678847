"""add() returns the sum of its arguments, and fact() is never called in `status` mode."""
import groutines as g


@g.groutine
async def add_adds():
    async for call in g.calls("add"):
        a, b = call.arg(0), call.arg(1)
        ret = await call.returned()
        assert ret.value == a + b


@g.groutine
async def fact_of_5():
    call = await g.call("fact", where=lambda c: c.arg(0) == 5)
    ret = await call.returned()
    assert ret.value == 120
