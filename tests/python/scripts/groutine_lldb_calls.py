# Used by tests/python/test_lldb.py over tests/targets/calls.c: arguments by position, by
# name and floating, a returned string read, a return rewritten, a call skipped.
import groutines as g

@g.groutine
async def adds():
    async for c in g.calls("add"):
        a, b, named = c.arg(0), c.arg(1), c.args
        ret = await c.returned()
        print(f"py: add({a},{b}) named={named} -> {ret.value}", flush=True)
        ret.set_value(ret.value + 1000)

@g.groutine
async def scales():
    async for c in g.calls("scale"):
        x, f = c.float_arg(0), c.float_arg(1)
        ret = await c.returned()
        print(f"py: scale({x},{f}) -> {ret.float_value}", flush=True)

@g.groutine
async def greets():
    async for c in g.calls("greet"):
        name = c.read_cstring(c.arg("name"))  # a char * argument is its address
        ret = await c.returned()
        print("py: greet", name, "->", ret.read_cstring(ret.value), flush=True)

@g.groutine
async def skip_parse():
    c = await g.call("parse_header")
    c.return_now(-7)
    g.log("skipped parse_header")
