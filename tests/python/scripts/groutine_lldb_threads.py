# Used by tests/lldb/test_threads.py over tests/targets/threads.c: one Python groutine per
# worker thread, each following the calls work(T, i) made by its worker and their returns,
# which must come back on the calling thread with T * 1000 + i. Worker 2's returns are
# rewritten (+1), so its sum printed by the target grows by ITERATIONS and no other does.
import groutines as g


def follower(t):
    async def follow():
        seen = 0
        async for c in g.calls("work", where=lambda c: c.sarg(0) == t):
            i, thread = c.sarg(1), c.thread_id
            ret = await c.returned()
            assert ret.thread_id == thread, (ret.thread_id, thread)
            assert ret.value == t * 1000 + i, (t, i, ret.value)
            if t == 2:
                ret.set_value(ret.value + 1)
            seen += 1
            g.log(f"work({t},{i})={ret.value} call {seen}")
    return follow


for t in range(4):
    g.groutine(name=f"work-{t}")(follower(t))
