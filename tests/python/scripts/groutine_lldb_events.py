# Used by tests/python/test_lldb.py with the C++ library groutines/examples/events.cpp:
# custom events and replies between Python and C++ groutines, and from the prompt.
import groutines as g

@g.groutine
async def asks_cpp():
    async for c in g.calls("add"):
        a = c.arg(0)
        echoed = g.fire("ping", n=a)            # the C++ "echo" replies n + 1
        counted = g.fire("count")               # the C++ "add-counter" replies its count
        assert echoed == [a + 1]                # a Reply compares equal to its value
        g.log(f"ping {a} -> {[(r.groutine, r.id, r.value) for r in echoed]}, "
              f"count -> {[(r.groutine, r.value) for r in counted]}")

@g.groutine
async def answers():
    while True:
        ev = await g.event("question")
        ev.reply(f"python heard {ev['q']}")
