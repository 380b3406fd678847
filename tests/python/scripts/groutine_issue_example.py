# The example of issue 4 and of python/README.md, as written there: a test runs it
# (tests/python/test_example.py).
import groutines as g

@g.groutine                      # or @g.groutine(name="...")
async def header_len_bounded():
    async for call in g.calls("parse_header"):          # every call
        assert call.arg("len") <= 4096                  # by DWARF name
        ret = await call.returned()                     # the return of THIS call
        assert ret.value >= 0

@g.groutine
async def fail_third_malloc():
    for _ in range(2):
        await g.call("malloc")                          # next call, any thread
    c = await g.call("malloc", where=lambda c: c.arg(0) > 16)
    c.return_now(0)                                     # skip the body, caller gets 0
    g.fire("oom-injected", size=c.arg(0))
