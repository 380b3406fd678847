"""calls: log every call of the functions matching a pattern, with its arguments (by their
DWARF names, else the first integer registers) and its result.

    [calls] fact(n=5) = 120
    [calls] add(a=2, b=3) = 5

Options (groutines run --set calls.KEY=VALUE, or GROUTINES_CALLS_KEY):
  calls.functions=PATTERNS  comma list of names or shell patterns (parse_*) (required);
                            patterns match the code symbols of the main executable
  calls.modules=M[,N]       match patterns in these modules instead (libc.so.6)
  calls.args=3              integer registers shown for a function without debug info
  calls.returns=true        wait for each result (false: log at the call only)
  calls.output=FILE         append the lines to FILE instead of the log

Each call is followed by a child groutine of its own (spawn), so calls that overlap in
recursion or threads are all logged.

    groutines run --set 'calls.functions=parse_*,kv_*' stock:calls -- ./kvparse
"""
import groutines as g

import _stock

PATTERNS = _stock.option("calls", "functions", [], list)
MODULES = _stock.option("calls", "modules", [], list)
RAW_ARGS = _stock.option("calls", "args", 3, int)
RETURNS = _stock.option("calls", "returns", True, bool)
OUTPUT = _stock.option("calls", "output", None)

if not PATTERNS:
    raise ValueError("stock calls: say which functions to log (--set calls.functions=f,g_*)")
FUNCTIONS = _stock.functions_matching(PATTERNS, MODULES)
if not FUNCTIONS:
    raise ValueError(f"stock calls: no function matches {', '.join(PATTERNS)}")


def emit(line):
    if OUTPUT:
        _stock.write_line(OUTPUT, line)
    else:
        g.log(line)


def describe(call):
    try:
        named = call.args
    except Exception:
        named = {}
    if named:
        shown = ", ".join(f"{k}={_stock.show(v)}" for k, v in named.items())
    else:
        shown = ", ".join(_stock.show(call.arg(i)) for i in range(RAW_ARGS))
    return f"{call.function}({shown})"


async def log_call(call):
    text = describe(call)
    if not RETURNS:
        emit(f"{text} [thread {call.thread_id}]")
        return
    ret = await call.returned()
    emit(f"{text} unwound" if ret.unwound else f"{text} = {_stock.show(ret.value)}")


@g.groutine(name="calls")
async def calls():
    _stock.follow("calls", FUNCTIONS, log_call)
    await g.event("exit")
