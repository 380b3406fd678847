"""A floating return read as Return.value: a float when the debug info says so."""
import groutines as g


@g.groutine
async def scale_value_is_a_float():
    call = await g.call("scale")
    ret = await call.returned()
    g.log(f"scale value {ret.value!r} {type(ret.value).__name__} returns_float")
