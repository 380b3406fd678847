# Used by tests/lldb/test_spawn.py over tests/targets/recursive.c (triangle) and threads.c
# (work): one groutine per function that spawns a child per call; each child awaits the
# return of its call and checks it is its own: same id, same thread, the value the target
# computes from the arguments read at the call.
import groutines as g


async def triangle_return(call):
    call_id, n, thread = call.id, call.sarg(0), call.thread_id
    ret = await call.returned()
    assert ret.call_id == call_id and ret.thread_id == thread, (ret.call_id, call_id)
    assert ret.value == n * (n + 1) // 2, (n, ret.value)


async def work_return(call):
    call_id, tid, i, thread = call.id, call.sarg(0), call.sarg(1), call.thread_id
    ret = await call.returned()
    assert ret.call_id == call_id and ret.thread_id == thread, (ret.call_id, call_id)
    assert ret.value == tid * 1000 + i, (tid, i, ret.value)


@g.groutine
async def pair_triangle():
    async for call in g.calls("triangle"):
        g.spawn(triangle_return(call))


@g.groutine
async def pair_work():
    async for call in g.calls("work"):
        g.spawn(work_return(call))
