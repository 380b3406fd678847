# Used by tests/python/test_lldb.py over tests/targets/calls.c: a stop, a failed assert, a
# call object used after the target resumed.
import groutines as g

kept = []

@g.groutine
async def stopper():
    c = await g.call("mix")
    kept.append(c)
    g.stop(f"mix called with a={c.arg(0)}")

@g.groutine
async def failing():
    c = await g.call("add")
    ret = await c.returned()
    assert ret.value > 100

@g.groutine
async def stale():
    await g.call("scale")
    await g.call("greet")
    try:
        kept[0].arg(0)
    except g.Error as e:
        g.log(f"stale: {e}")
