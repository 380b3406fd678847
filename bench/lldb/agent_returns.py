"""agent_returns: the Python call + return pair agent_bench times, the peer of the C++
"read-args-and-return" (groutines/examples/bench_returns.cpp): hot()'s two arguments at each
call, its return value at the return of that call."""
import groutines as g

total = 0


@g.groutine(name="read-args-and-return-py")
async def read_args_and_return():
    global total
    async for call in g.calls("hot"):
        args = call.arg(0) + call.arg(1)
        ret = await call.returned()
        total += args + ret.value
