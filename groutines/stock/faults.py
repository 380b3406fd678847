"""faults: make calls of a function fail, with a chosen return value and errno, as libfiu's
fiu-run does for libc's functions, but for any function of the program or its libraries.

The function's body does not run: the caller gets the value at once (return_now). Each
fault is logged ("[faults#F] fault: ...") and fired as custom event `fault` (function, call,
n).

Options (groutines run --set faults.KEY=VALUE, or GROUTINES_FAULTS_KEY):
  faults.function=F[,G]  the functions to fail (required)
  faults.caller=C[,D]    only calls made from one of these functions: a name or a shell
                         pattern (parse_*) matching any frame of the call's backtrace above
                         the call (a caller, its caller, ...), as libfiu's enable_stack_by_name
  faults.thread=T[,U]    only calls on these threads: `main` (the main thread), a thread id,
                         or a name or shell pattern of the thread's name (pthread_setname_np,
                         /proc/TID/comm: worker-*)
  faults.nth=N           fail the Nth call (1-based), once; N..M the Nth to the Mth; N.. the
                         Nth and every later one
  faults.every=N         fail every Nth call
  faults.probability=P   fail each call with probability P (0 to 1), as libfiu's
                         enable_random; reproducible: the same seed fails the same calls
  faults.seed=S          the seed of probability (default: a random one, shown in each
                         fault's log line: --set faults.seed=S repeats the run's faults)
  faults.where=EXPR      fail the calls for which EXPR holds: a Python expression over a0..a5
                         (integer arguments), args (DWARF names -> values), n (the call's
                         number) and cstr(a) (a C string read from the target)
  faults.return=V        the value the caller gets (default 0)
  faults.errno=E         errno to set first: a number or a name (ENOMEM, EIO, EAGAIN...)
  faults.max=K           at most K faults in the run (default: 1 with a single nth, else no
                         limit)
The Nth call is counted among the calls of the function that pass caller and thread (all its
calls without them); nth, every, probability and where then all have to agree. Without
nth, every, probability or where, every such call fails.

    groutines run --set faults.function=malloc --set faults.probability=0.1 \\
        --set faults.seed=7 --set faults.caller=parse_config \\
        --set faults.errno=ENOMEM stock:faults -- ./program
"""
import fnmatch
import random

import groutines as g

import _stock

KEYS = ["function", "caller", "thread", "nth", "every", "probability", "seed", "where",
        "return", "errno", "max"]


def _calls_range(text):
    """_calls_range() reads faults.nth: N, N..M or N.. as (first, last), last None for no end."""
    first, dots, last = text.partition("..")
    try:
        first = int(first, 0)
        last = (int(last, 0) if last.strip() else None) if dots else first
    except ValueError:
        first = None
    if first is None or first < 1 or (last is not None and last < first):
        raise ValueError("is not an integer (--set faults.nth=N) or a range of calls (N..M or "
                         "N.., from 1: 3..5)")
    return first, last


def _probability(text):
    try:
        p = float(text)
    except ValueError:
        p = None
    if p is None or not 0 <= p <= 1:
        raise ValueError("is not a probability (a number from 0 to 1: 0.05)")
    return p


def _positive(text):
    try:
        n = int(text, 0)
    except ValueError:
        n = 0
    if n < 1:
        raise ValueError("is not a positive integer")
    return n


_stock.check_options("faults", KEYS)
FUNCTIONS = _stock.option("faults", "function", [], list)
CALLERS = _stock.option("faults", "caller", [], list)
THREADS = _stock.option("faults", "thread", [], list)
NTH = _stock.option("faults", "nth", None, _calls_range)
EVERY = _stock.option("faults", "every", None, _positive)
PROBABILITY = _stock.option("faults", "probability", None, _probability)
SEED = _stock.option("faults", "seed", None, int)
WHERE = _stock.option("faults", "where", None)
RETURN = _stock.option("faults", "return", 0, int)
ERRNO = _stock.option("faults", "errno", None, _stock.errno_number)
MAX = _stock.option("faults", "max", 1 if NTH and NTH[0] == NTH[1] else None, int)

if not FUNCTIONS:
    raise ValueError("stock faults: say which function to fail (--set faults.function=F)")
if SEED is None:
    SEED = random.SystemRandom().randrange(1 << 31)
CONDITION = compile(WHERE, "faults.where", "eval") if WHERE else None


def _names(function):
    """_names() is function as a frame names it and without what optimisation or C++ adds:
    'f(int)' -> 'f', 'f.isra.0' -> 'f', 'f.cold' -> 'f'."""
    names = {function}
    bare = function.split("(")[0]
    names.add(bare)
    names.add(bare.split(".")[0])
    return names


def from_caller(call):
    """from_caller() tells whether a frame above call (its caller, their caller, ...) is one
    of CALLERS."""
    for frame in call.stack()[1:]:
        if frame.function and any(fnmatch.fnmatchcase(name, pattern)
                                  for name in _names(frame.function) for pattern in CALLERS):
            return True
    return False


def _thread_file(tid, name):
    try:
        with open(f"/proc/{tid}/{name}") as f:
            return f.read()
    except OSError as e:
        raise g.Error(f"faults.thread: cannot read thread {tid}'s /proc/{tid}/{name} "
                      f"({e.strerror}): the thread filter needs the target on this "
                      "machine") from None


def thread_name(tid):
    """thread_name() is the name of thread tid of the target (/proc/TID/comm)."""
    return _thread_file(tid, "comm").rstrip("\n")


def on_thread(call):
    """on_thread() tells whether call was made on one of THREADS."""
    tid = call.thread_id
    for spec in THREADS:
        if spec.isdigit():
            if int(spec) == tid:
                return True
        elif spec == "main":
            status = _thread_file(tid, "status")
            if f"\nTgid:\t{tid}\n" in status:  # the main thread's id is the process's
                return True
        elif fnmatch.fnmatchcase(thread_name(tid), spec):
            return True
    return False


def by_chance(function, n):
    """by_chance() draws call n of function: True with probability PROBABILITY, the same
    draw for the same SEED, function and n in every run."""
    return random.Random(f"{SEED}:{function}:{n}").random() < PROBABILITY


def chosen(function, call, n):
    """chosen() tells whether call, the nth of its function (among those that pass caller
    and thread), is to fail."""
    if NTH is not None and (n < NTH[0] or (NTH[1] is not None and n > NTH[1])):
        return False
    if EVERY is not None and n % EVERY != 0:
        return False
    if PROBABILITY is not None and not by_chance(function, n):
        return False
    if CONDITION is not None:
        names = {f"a{i}": call.arg(i) for i in range(6)}
        names.update(args=call.args, n=n, call=call,
                     cstr=lambda a, size=4096: call.read_cstring(a, size))
        return bool(eval(CONDITION, {}, names))
    return True


def describe(function, call, n):
    """describe() is the log line of a fault injected at call."""
    text = f"fault: call {n} of {function} (#{call.id})"
    if THREADS:
        text += f" on thread {call.thread_id} ('{thread_name(call.thread_id)}')"
    text += f" returns {RETURN}"
    if ERRNO is not None:
        text += f" with errno {ERRNO} ({_stock.errno_name(ERRNO)})"
    if PROBABILITY is not None:
        text += f" (probability {PROBABILITY:g}, seed {SEED})"
    return text + f", from {_stock.chain(call.stack(4)[1:], 3)}"


injected = 0

for _function in FUNCTIONS:
    @g.groutine(name=f"faults#{_function}")
    async def _fail(function=_function):
        global injected
        n = 0
        async for call in g.calls(function):
            if THREADS and not on_thread(call):
                continue
            if CALLERS and not from_caller(call):
                continue
            n += 1
            if (MAX is not None and injected >= MAX) or not chosen(function, call, n):
                continue
            if ERRNO is not None:
                _stock.set_errno(call, ERRNO)
            call.return_now(RETURN)
            injected += 1
            g.log(describe(function, call, n))
            g.fire("fault", function=function, call=call.id, n=n)
