"""Non-fatal checks: fact() is checked at every level of its recursion, and two of the checks
fail without ending the groutine, which goes on to see every call."""
import groutines as g


@g.groutine
async def fact_checks():
    async for call in g.calls("fact"):
        n = call.sarg(0)
        g.check(n != 3 and n != 1, f"n={n}")
        g.log(f"fact({n}) seen")
