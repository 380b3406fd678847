"""acquire() is called by site_a() before and after runner_cases execs itself (exec MODE), and
by site_b() in `resources` mode: every call and its return are events of its groutine. malloc
is hooked too, which env (before it execs) calls through the agent."""
import groutines as g


@g.groutine
async def acquire_calls():
    async for call in g.calls("acquire"):
        ret = await call.returned()
        assert ret.value != 0


@g.groutine
async def malloc_calls():
    async for call in g.calls("malloc"):
        pass
