"""A groutine that stops the target at fact()'s first call (g.stop): the run reports the stop
request and goes on."""
import groutines as g


@g.groutine
async def stops_at_fact():
    call = await g.call("fact")
    g.log(f"fact({call.arg(0)})")
    g.stop("seen fact")
