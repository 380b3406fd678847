"""explore: fault-path exploration, as Valgrind's Failgrind does for allocations. Fails each
distinct call stack of a function the first time it is seen, and remembers the stacks it has
failed, and how each run ended, in a file, so that running the same program again fails the
next one. Run it until it logs that nothing new was found: every path through a failure of
that function has then been walked once, and the last run lists each stack with how its run
ended. A run that a signal ends (a crash, an abort) after a failure fails explore, naming the
stack it failed: an unchecked failure.

    [explore#malloc] explore: failing malloc (ENOMEM) at a new stack, 1 failed so far:
        kvparse`kv_strdup+26 <- ...
    FAIL explore ... malloc failing (ENOMEM) at kvparse`kv_strdup+26 <- ... was not handled:
        the program was killed by SIGSEGV
    ... (the next runs)
    [explore#exit] explore: no new stack of malloc this run (3 seen in ...): done; 2 of them
        unchecked (a signal ended the run that failed it):
    [explore#exit]   killed by SIGSEGV: malloc at kvparse`kv_strdup+26 <- ...
    ...

Options (groutines run --set explore.KEY=VALUE, or GROUTINES_EXPLORE_KEY):
  explore.function=F[,G] the functions to fail (required): malloc,calloc,realloc for the
                         allocations of a C program
  explore.return=V       the value their caller gets (default 0)
  explore.errno=E        errno to set: a number or a name (ENOMEM)
  explore.file=PATH      the stacks failed so far (default .groutines-explore-F in the
                         working directory, F the functions joined by '+'); delete it to start
                         over. A line a stack: its key, a tab, the function, a tab, how the
                         run that failed it ended ("" when it has not ended)
  explore.frames=16      callers that make up a stack
  explore.max=1          new stacks failed per run

    groutines run --set explore.function=malloc --set explore.errno=ENOMEM \\
        stock:explore -- ./program
"""
import os

import groutines as g

import _stock

_stock.check_options("explore", ["function", "return", "errno", "file", "frames", "max"])
FUNCTIONS = _stock.option("explore", "function", [], list)
RETURN = _stock.option("explore", "return", 0, int)
ERRNO = _stock.option("explore", "errno", None, _stock.errno_number)
FRAMES = _stock.option("explore", "frames", 16, int)
MAX = _stock.option("explore", "max", 1, int)
if not FUNCTIONS:
    raise ValueError("stock explore: say which function to fail (--set explore.function=F)")
FILE = os.path.abspath(_stock.option("explore", "file",
                                     f".groutines-explore-{'+'.join(FUNCTIONS)}"))


def read_stacks():
    """read_stacks() is the file's stacks, {key: [function, outcome]} in the order failed."""
    stacks = {}
    if os.path.exists(FILE):
        with open(FILE) as f:
            for line in f:
                key, _, rest = line.rstrip("\n").partition("\t")
                function, _, outcome = rest.partition("\t")
                if key.strip():
                    stacks[key] = [function or "?", outcome]
    return stacks


def write_stacks(stacks):
    """write_stacks() rewrites the file with stacks, atomically."""
    with open(FILE + ".new", "w") as f:
        for key, (function, outcome) in stacks.items():
            f.write(f"{key}\t{function}\t{outcome}\n")
    os.replace(FILE + ".new", FILE)


def short(key, frames=3):
    """short() is key cut for a log line: its first frames callers, and on to the first
    caller in the program (the module of the outermost frame, _start's) when that is further
    in (a malloc of stdio's is named by the program's call that led to it)."""
    parts = key.split(" <- ")
    program = parts[-1].split("`")[0]
    inside = next((i for i, part in enumerate(parts) if part.split("`")[0] == program), 0)
    keep = max(frames, inside + 1)
    return " <- ".join(parts[:keep]) + (" <- ..." if len(parts) > keep else "")


def how_it_ended(ev):
    """how_it_ended() is the end of the run as the runner's exit event tells it: "killed by
    SIGSEGV", "exited with status 0" or "timed out"."""
    if ev.data.get("timed_out"):
        return "timed out"
    if ev.data.get("signal"):
        return f"killed by {ev['signal']}"
    return f"exited with status {ev.data.get('status', -1)}"


def the_program(outcome):
    """the_program() is outcome to follow "the program": "was killed by SIGSEGV"."""
    return f"was {outcome}" if outcome.startswith("killed") else outcome


ERRNO_TEXT = f" ({_stock.errno_name(ERRNO)})" if ERRNO is not None else ""
stacks = read_stacks()
failed_now = []  # (function, key) failed in this run


for _function in FUNCTIONS:
    @g.groutine(name=f"explore#{_function}")
    async def explore(function=_function):
        async for call in g.calls(function):
            if len(failed_now) >= MAX:
                continue
            key = _stock.stack_key(call, FRAMES)
            if key in stacks:
                continue
            stacks[key] = [function, ""]
            _stock.write_line(FILE, f"{key}\t{function}\t")  # kept if the debugger dies
            if ERRNO is not None:
                _stock.set_errno(call, ERRNO)
            call.return_now(RETURN)
            failed_now.append((function, key))
            g.log(f"explore: failing {function}{ERRNO_TEXT} at a new stack, {len(stacks)} "
                  f"failed so far: {key}")
            g.fire("fault", function=function, call=call.id, stack=key)


@g.groutine(name="explore#exit")
async def at_exit():
    ev = await g.event("exit")
    outcome = how_it_ended(ev)
    if failed_now:
        latest = read_stacks()  # what the file holds: this run's lines and earlier ones
        for function, key in failed_now:
            latest[key] = [function, outcome]
        write_stacks(latest)
        for function, key in failed_now:
            g.log(f"explore: this run failed {function}{ERRNO_TEXT} at {short(key)}; "
                  f"the program {the_program(outcome)}")
        if ev.data.get("signal"):
            function, key = failed_now[-1]
            raise AssertionError(f"{function} failing{ERRNO_TEXT} at {short(key)} was not "
                                 f"handled: the program {the_program(outcome)}")
        return
    unchecked = sum(outcome.startswith("killed") for _, outcome in stacks.values())
    g.log(f"explore: no new stack of {','.join(FUNCTIONS)} this run ({len(stacks)} seen in "
          f"{FILE}): done; {unchecked} of them unchecked (a signal ended the run that failed "
          f"it)" + (":" if stacks else ""))
    for key, (function, ended) in stacks.items():
        g.log(f"  {ended or 'did not end'}: {function} at {short(key)}")
