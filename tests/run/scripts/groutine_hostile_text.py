"""Text UTF-8 cannot encode, from groutines on a real target: a log line and an exception
message with a lone surrogate are shown escaped, never an error of their own."""
import groutines as g


@g.groutine
async def logs_a_surrogate():
    await g.call("add")
    g.log("half \udcff of a pair")


@g.groutine
async def raises_a_surrogate():
    await g.call("add")
    raise ValueError("lone \ud800 here")
