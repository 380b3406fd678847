"""profile: call counts and inclusive and self time per function and thread, as `uftrace
report` shows them.

At exit it logs a table sorted like `uftrace report` (by total time, biggest first), for
all threads, and, when calls came from more than one thread, one per thread:

    [profile]   Total time   Self time       Calls  Function
    [profile]   ==========  ==========  ==========  ====================
    [profile]    12.345 ms    1.234 ms           1  main
    [profile]     2.100 ms    2.100 ms          25  fib
    [profile] thread 4242:
    ...

Total time runs from a call to its return (for a recursive function, its outermost calls
only); self time is the total less the total time of the hooked calls made inside it (on the
same thread), as uftrace counts them. Times are
taken in the debugger as each call and return is delivered: they include the cost of the
deliveries (microseconds on the agent transport, a millisecond or more on breakpoints), so
compare them with each other, not with uftrace's; the counts are exact.

Options (groutines run --set profile.KEY=VALUE, or GROUTINES_PROFILE_KEY):
  profile.functions=PATTERNS  comma list of names or shell patterns (required): `*` is
                              every function of the executable; MODULE:PATTERN matches in a
                              library (libc.so.6:str*; with wildcards, from main on when the
                              groutine loads before the library does)
  profile.modules=M[,N]       match the patterns without MODULE: in these modules instead
  profile.sort=KEY            total (default), self, call or func
  profile.output=FILE         also write {function: {thread: {calls, total_s, self_s, max_s}}}

Each call is timed by a child groutine of its own (spawn), which awaits its return while
the next calls come: calls that overlap in recursion or threads are all timed.

    groutines run --set 'profile.functions=*' stock:profile -- ./program
"""
import json
import time

import groutines as g

import _stock

PATTERNS = _stock.option("profile", "functions", [], list)
MODULES = _stock.option("profile", "modules", [], list)
SORT = _stock.option("profile", "sort", "total")
OUTPUT = _stock.option("profile", "output", None)

SORT_KEYS = {
    "total": lambda name, s: (-s[1], name),
    "self": lambda name, s: (-s[2], name),
    "call": lambda name, s: (-s[0], name),
    "func": lambda name, s: (name,),
}
if not PATTERNS:
    raise ValueError("stock profile: say which functions to time (--set profile.functions=f)")
if SORT not in SORT_KEYS:
    raise ValueError(f"stock profile: GROUTINES_PROFILE_SORT='{SORT}' is not one of "
                     f"{', '.join(SORT_KEYS)} (--set profile.sort=total)")
FUNCTIONS, LATER = _stock.functions_now_or_later(PATTERNS, MODULES)
if not FUNCTIONS and not LATER:
    raise ValueError(f"stock profile: no function matches {', '.join(PATTERNS)}")

stats = {}   # (function, thread) -> [calls, total seconds, self seconds, max seconds]
active = {}  # thread -> [[call id, start, time in hooked callees, function]], outermost first


async def timed(call):
    key = (call.function, call.thread_id)
    stack = active.setdefault(call.thread_id, [])
    frame = [call.id, time.perf_counter(), 0.0, call.function]
    stack.append(frame)
    await call.returned()  # or its unwinding (longjmp, exception): its time ends there too
    elapsed = time.perf_counter() - frame[1]
    # Calls above it on the stack that are still there were unwound with it.
    while stack and stack[-1] is not frame:
        stack.pop()
    if stack:
        stack.pop()
    if stack:
        stack[-1][2] += elapsed
    s = stats.setdefault(key, [0, 0.0, 0.0, 0.0])
    s[0] += 1
    s[2] += max(0.0, elapsed - frame[2])
    # A recursive call's time is in its outermost call's already (as uftrace counts it).
    if not any(f[3] == frame[3] for f in stack):
        s[1] += elapsed
        s[3] = max(s[3], elapsed)


def duration(seconds):
    """duration() writes a time as uftrace does: 1.234 us, 12.345 ms, 1.234  s."""
    for unit, scale in (("us", 1e6), ("ms", 1e3)):
        if seconds * scale < 1000:
            return f"{seconds * scale:.3f} {unit}"
    return f"{seconds:.3f}  s"


def table(rows):
    """table() logs rows ({function: [calls, total, self, max]}) in the columns of `uftrace
    report`, sorted by profile.sort."""
    g.log(f"  {'Total time':>10}  {'Self time':>10}  {'Calls':>10}  Function")
    g.log(f"  {'=' * 10}  {'=' * 10}  {'=' * 10}  {'=' * 20}")
    for name, s in sorted(rows.items(), key=lambda item: SORT_KEYS[SORT](*item)):
        g.log(f"  {duration(s[1]):>10}  {duration(s[2]):>10}  {s[0]:>10}  {name}")


@g.groutine(name="profile")
async def profile():
    _stock.follow("profile", FUNCTIONS, timed)
    _stock.follow_at_main("profile", LATER, MODULES, timed)
    await g.event("exit")
    overall = {}
    threads = {}
    for (function, thread), s in stats.items():
        o = overall.setdefault(function, [0, 0.0, 0.0, 0.0])
        for i in range(3):
            o[i] += s[i]
        o[3] = max(o[3], s[3])
        threads.setdefault(thread, {})[function] = s
    table(overall)
    if len(threads) > 1:
        for thread in sorted(threads):
            g.log(f"thread {thread}:")
            table(threads[thread])
    if OUTPUT:
        out = {}
        for (function, thread), (n, total, own, longest) in stats.items():
            out.setdefault(function, {})[str(thread)] = {
                "calls": n, "total_s": total, "self_s": own, "max_s": longest}
        with open(OUTPUT, "w") as f:
            json.dump(out, f, indent=1)
