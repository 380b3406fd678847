# Used by tests/run/test_runner.py over tests/targets/threads.c: fails at worker 2's third
# call of work(), naming the thread that made it, while the other workers run (and stop) too.
import groutines as g


@g.groutine
async def worker_2_fails():
    n = 0
    async for c in g.calls("work", where=lambda c: c.sarg(0) == 2):
        n += 1
        assert n < 3, f"worker 2 on thread {c.thread_id}"
