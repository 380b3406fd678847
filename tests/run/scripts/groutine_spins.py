"""A groutine that never yields after its first event: the debugger is stuck in it."""
import groutines as g


@g.groutine
async def spins():
    await g.call("add")
    while True:
        pass
