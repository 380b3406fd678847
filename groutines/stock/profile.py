"""profile: call counts and wall time from call to return, per function and thread.

At exit it logs a table (and writes JSON with profile.output=FILE):

    [profile] FUNCTION  THREAD  CALLS  TOTAL_MS  MEAN_US  MAX_US
    [profile] fact      4242    5      3.120     624.0    1402.1

Times are measured in the debugger between the breakpoint at the entry and the one at the
return: they include the debugger's own cost of each stop (a few hundred microseconds), so
compare functions and runs with each other, not with a profiler's numbers.

Options (groutines run --set profile.KEY=VALUE, or GROUTINES_PROFILE_KEY):
  profile.functions=PATTERNS  comma list of names or shell patterns (required)
  profile.modules=M[,N]       match patterns in these modules instead of the executable
  profile.output=FILE         also write {function: {thread: {calls, total_s, max_s}}}

Each call is timed by a child groutine of its own (spawn), which awaits its return while the
next calls come: calls that overlap in recursion or threads are all timed.

    groutines run --set profile.functions=fact,add stock:profile -- ./program
"""
import json
import time

import groutines as g

import _stock

PATTERNS = _stock.option("profile", "functions", [], list)
MODULES = _stock.option("profile", "modules", [], list)
OUTPUT = _stock.option("profile", "output", None)

if not PATTERNS:
    raise ValueError("stock profile: say which functions to time (--set profile.functions=f)")
FUNCTIONS = _stock.functions_matching(PATTERNS, MODULES)

stats = {}  # (function, thread) -> [calls, total seconds, max seconds]


async def timed(call):
    start = time.perf_counter()
    key = (call.function, call.thread_id)
    ret = await call.returned()
    elapsed = time.perf_counter() - start
    s = stats.setdefault(key, [0, 0.0, 0.0])
    s[0] += 1
    s[1] += elapsed
    s[2] = max(s[2], elapsed)
    del ret


@g.groutine(name="profile")
async def profile():
    _stock.follow("profile", FUNCTIONS, timed)
    await g.event("exit")
    rows = [("FUNCTION", "THREAD", "CALLS", "TOTAL_MS", "MEAN_US", "MAX_US")]
    for (function, thread), (n, total, longest) in sorted(stats.items()):
        rows.append((function, str(thread), str(n), f"{total * 1e3:.3f}",
                     f"{total / n * 1e6:.1f}", f"{longest * 1e6:.1f}"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        g.log("  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip())
    if OUTPUT:
        out = {}
        for (function, thread), (n, total, longest) in stats.items():
            out.setdefault(function, {})[str(thread)] = {"calls": n, "total_s": total,
                                                          "max_s": longest}
        with open(OUTPUT, "w") as f:
            json.dump(out, f, indent=1)
