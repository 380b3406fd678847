"""explore: fault-path exploration. Fails each distinct call stack of a function the first
time it is seen, and remembers the stacks it has seen in a file, so that running the same
test again fails the next one (as Valgrind's Failgrind does for allocations). Run it until it
logs that nothing new was found: every path through a failure of that function has been
walked once.

    [explore] explore: failing acquire at a new stack (2 seen so far): runner_cases`site_b+17 <- ...
    [explore] explore: no new stack of acquire this run (2 seen in .groutines-explore-acquire)

Options (groutines run --set explore.KEY=VALUE, or GROUTINES_EXPLORE_KEY):
  explore.function=F     the function to fail (required)
  explore.return=V       the value its caller gets (default 0)
  explore.errno=E        errno to set (a number or a name: ENOMEM)
  explore.file=PATH      the stacks seen so far (default .groutines-explore-F in the
                         working directory); delete it to start over
  explore.frames=16      callers that make up a stack
  explore.max=1          new stacks failed per run

    groutines run --set explore.function=malloc --set explore.errno=ENOMEM \\
        stock:explore -- ./program
"""
import os

import groutines as g

import _stock

FUNCTION = _stock.option("explore", "function")
RETURN = _stock.option("explore", "return", 0, int)
ERRNO = _stock.errno_number(_stock.option("explore", "errno", None))
FRAMES = _stock.option("explore", "frames", 16, int)
MAX = _stock.option("explore", "max", 1, int)
if not FUNCTION:
    raise ValueError("stock explore: say which function to fail (--set explore.function=F)")
FILE = os.path.abspath(_stock.option("explore", "file", f".groutines-explore-{FUNCTION}"))

seen = set()
if os.path.exists(FILE):
    with open(FILE) as _f:
        seen = {line.rstrip("\n") for line in _f if line.strip()}
failed_now = []


@g.groutine(name="explore")
async def explore():
    async for call in g.calls(FUNCTION):
        if len(failed_now) >= MAX:
            continue
        key = _stock.stack_key(call, FRAMES)
        if key in seen:
            continue
        seen.add(key)
        _stock.write_line(FILE, key)
        if ERRNO is not None:
            _stock.set_errno(call, ERRNO)
        call.return_now(RETURN)
        failed_now.append(key)
        g.log(f"explore: failing {FUNCTION} at a new stack ({len(seen)} seen so far): {key}")
        g.fire("fault", function=FUNCTION, call=call.id, stack=key)


@g.groutine(name="explore#exit")
async def summary_at_exit():
    await g.event("exit")
    if not failed_now:
        g.log(f"explore: no new stack of {FUNCTION} this run ({len(seen)} seen in {FILE})")
