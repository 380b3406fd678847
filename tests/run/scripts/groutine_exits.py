"""_exit() is called once, with the status the target was given (runner_cases exit-threads)."""
import groutines as g


@g.groutine
async def exits_once():
    call = await g.call("_exit")
    assert call.arg(0) == 3
