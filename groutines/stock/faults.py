"""faults: make calls of a function fail, with a chosen return value and errno.

The function's body does not run: the caller gets the value at once (return_now). Each
fault is logged ("[faults] ...") and fired as custom event `fault` (function, call, n).

Options (groutines run --set faults.KEY=VALUE, or GROUTINES_FAULTS_KEY):
  faults.function=F[,G]  the functions to fail (required)
  faults.nth=N           fail the Nth call (1-based), once
  faults.every=N         fail every Nth call
  faults.where=EXPR      fail the calls for which EXPR holds: a Python expression over a0..a5
                         (integer arguments), args (DWARF names -> values), n (the call's
                         number) and cstr(a) (a C string read from the target)
  faults.return=V        the value the caller gets (default 0)
  faults.errno=E         errno to set first (a number or a name: ENOMEM)
  faults.max=K           at most K faults in the run (default: 1 with nth, else no limit)
Without nth, every or where, every call fails.

    groutines run --set faults.function=malloc --set faults.nth=3 \\
        --set faults.errno=ENOMEM stock:faults -- ./program
"""
import groutines as g

import _stock

FUNCTIONS = _stock.option("faults", "function", [], list)
NTH = _stock.option("faults", "nth", None, int)
EVERY = _stock.option("faults", "every", None, int)
WHERE = _stock.option("faults", "where", None)
RETURN = _stock.option("faults", "return", 0, int)
ERRNO = _stock.errno_number(_stock.option("faults", "errno", None))
MAX = _stock.option("faults", "max", 1 if NTH else None, int)

if not FUNCTIONS:
    raise ValueError("stock faults: say which function to fail (--set faults.function=F)")
CONDITION = compile(WHERE, "faults.where", "eval") if WHERE else None


def chosen(call, n):
    """chosen() tells whether call, the nth of its function, is to fail."""
    if NTH is not None and n != NTH:
        return False
    if EVERY is not None and n % EVERY != 0:
        return False
    if CONDITION is not None:
        names = {f"a{i}": call.arg(i) for i in range(6)}
        names.update(args=call.args, n=n, call=call,
                     cstr=lambda a, size=4096: call.read_cstring(a, size))
        return bool(eval(CONDITION, {}, names))
    return True


injected = 0

for _function in FUNCTIONS:
    @g.groutine(name=f"faults#{_function}")
    async def _fail(function=_function):
        global injected
        n = 0
        async for call in g.calls(function):
            n += 1
            if (MAX is not None and injected >= MAX) or not chosen(call, n):
                continue
            if ERRNO is not None:
                _stock.set_errno(call, ERRNO)
            call.return_now(RETURN)
            injected += 1
            g.log(f"fault: call {n} of {function} (#{call.id}) returns {RETURN}"
                  + (f" with errno {ERRNO}" if ERRNO is not None else "")
                  + f", from {_stock.chain(call.stack(4)[1:], 3)}")
            g.fire("fault", function=function, call=call.id, n=n)
