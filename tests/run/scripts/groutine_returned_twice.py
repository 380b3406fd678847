"""A Python groutine that awaits the return of one call twice: the second await raises
groutines.Error, as in C++ (it used to wait forever and the groutine was reported PASS)."""
import groutines as g


@g.groutine
async def awaits_a_return_twice():
    call = await g.call("add")
    await call.returned()
    await call.returned()
