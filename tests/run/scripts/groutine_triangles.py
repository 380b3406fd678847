# Used by tests/run/test_spawn.py over tests/targets/recursive.c (run 1 200): one groutine awaits
# each return of triangle in line (it misses the nested calls), one spawns a child per call
# (none missed), and one spawns children of which those of n = 100 and n = 200 fail.
import groutines as g


@g.groutine
async def in_line():
    async for call in g.calls("triangle"):
        await call.returned()


async def check(call):
    n = call.sarg(0)
    ret = await call.returned()
    assert n % 100 != 0 or n == 0, f"n={n} returned {ret.value}"


@g.groutine
async def spawning():
    async for call in g.calls("triangle"):
        g.spawn(check(call))
