"""A groutine that expects add(2, 3) to be 6: it fails, with the target's backtrace."""
import groutines as g


@g.groutine
async def add_is_wrong():
    call = await g.call("add")
    ret = await call.returned()
    assert ret.value == 6, f"add returned {ret.value}"
