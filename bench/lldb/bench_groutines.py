"""bench_groutines: the Python groutine python_bench times, reading hot()'s two arguments."""
import groutines as g

total = 0


@g.groutine(name="read-two-args-py")
async def read_two_args():
    global total
    async for call in g.calls("hot"):
        total += call.arg(0) + call.arg(1)
