"""calls: log every call of the functions matching a pattern, with its arguments and its
result, nested per thread as `uftrace replay` shows them.

    [calls] [  4242] | parse_line(line="alpha beta") {
    [calls] [  4242] |   shout(dst=0x7fffffffe3a0, src="alpha beta") = 0x7fffffffe3a0;
    [calls] [  4242] |   count_words(text="ALPHA BETA") = 2;
    [calls] [  4242] | } = 2; /* parse_line */

Arguments come by their DWARF names and types: a `char *` is shown as the string it points
to, other pointers in hex. A function without debug info shows the first integer registers
(calls.args), unless it is one of the C library's string and memory functions, whose
prototypes are known here (strlen(s="abc") = 3), as uftrace's --auto-args does. A call
that makes no hooked call before it returns is one line, `f(...) = value;`; one that does
opens a block, `f(...) {`, closed by `} = value; /* f */` at its return (`} unwound` when a
longjmp or an exception took its frame). The indentation is the number of shown calls the
thread is inside.

Options (groutines run --set calls.KEY=VALUE, or GROUTINES_CALLS_KEY):
  calls.functions=PATTERNS  comma list of names or shell patterns (required): patterns match
                            the functions of the executable (parse_*, or * for all of them);
                            MODULE:PATTERN matches in a library (libc.so.6:str*;
                            with wildcards, from main on when the groutine loads before
                            the library does, as `groutines run` loads it)
  calls.modules=M[,N]       match the patterns without MODULE: in these modules instead
  calls.depth=N             show only calls inside fewer than N shown calls (1: the outermost)
  calls.caller=PATTERNS     show only calls made directly by a function matching one of these
                            (the function their return address is in: hooked or not)
  calls.args=3              integer registers shown for a function without debug info
  calls.strlen=64           characters shown of a string argument
  calls.returns=true        wait for each result (false: log at the call only, not nested)
  calls.output=FILE         append the lines to FILE instead of the log

Each call is followed by a child groutine of its own (spawn), so calls that overlap in
recursion or threads are all logged, in the order they happen.

    groutines run --set 'calls.functions=parse_*,libc.so.6:str*' stock:calls -- ./program
"""
import fnmatch

import groutines as g

import _stock

PATTERNS = _stock.option("calls", "functions", [], list)
MODULES = _stock.option("calls", "modules", [], list)
DEPTH = _stock.option("calls", "depth", None, int)
CALLERS = _stock.option("calls", "caller", [], list)
RAW_ARGS = _stock.option("calls", "args", 3, int)
STRLEN = _stock.option("calls", "strlen", 64, int)
RETURNS = _stock.option("calls", "returns", True, bool)
OUTPUT = _stock.option("calls", "output", None)

if not PATTERNS:
    raise ValueError("stock calls: say which functions to log (--set calls.functions=f,g_*)")
if DEPTH is not None and DEPTH < 1:
    raise ValueError(f"stock calls: GROUTINES_CALLS_DEPTH='{DEPTH}' must be at least 1 "
                     "(--set calls.depth=1 shows the outermost calls only)")
if DEPTH is not None and not RETURNS:
    raise ValueError("stock calls: calls.depth needs the returns (calls.returns=true): the "
                     "depth of a call is the calls it is inside")
FUNCTIONS, LATER = _stock.functions_now_or_later(PATTERNS, MODULES)
# A hook hears its function by name in every module (ld.so has a strcmp of its own): the
# modules a MODULE:PATTERN or calls.modules named, by function, to show its calls there only.
IN_MODULES = _stock.modules_of(PATTERNS, MODULES, FUNCTIONS)
if not FUNCTIONS and not LATER:
    raise ValueError(f"stock calls: no function matches {', '.join(PATTERNS)}")

# The C library's functions have no debug info: their prototypes, as (argument kinds, result
# kind), s a string, p a pointer, i an int, l a long, u a size_t, c a character.
PROTOTYPES = {
    "strlen": ("s", "u"), "strnlen": ("su", "u"), "strcmp": ("ss", "i"),
    "strncmp": ("ssu", "i"), "strcasecmp": ("ss", "i"), "strncasecmp": ("ssu", "i"),
    "strcpy": ("ps", "p"), "strncpy": ("psu", "p"), "stpcpy": ("ps", "p"),
    "strcat": ("ps", "p"), "strncat": ("psu", "p"), "strchr": ("sc", "p"),
    "strrchr": ("sc", "p"), "strstr": ("ss", "p"), "strdup": ("s", "p"),
    "strndup": ("su", "p"), "strtol": ("spi", "l"), "strtoul": ("spi", "u"),
    "atoi": ("s", "i"), "atol": ("s", "l"), "puts": ("s", "i"), "fputs": ("sp", "i"),
    "printf": ("s", "i"), "fopen": ("ss", "p"), "open": ("si", "i"), "getenv": ("s", "s"),
    "memcpy": ("ppu", "p"), "memmove": ("ppu", "p"), "memset": ("pcu", "p"),
    "memcmp": ("ppu", "i"), "memchr": ("pcu", "p"), "malloc": ("u", "p"),
    "calloc": ("uu", "p"), "realloc": ("pu", "p"), "free": ("p", ""),
}

active = {}  # thread -> [[call id, shown]], outermost first
opened = {}  # thread -> (call id, text, indent) of a shown call whose line waits


def emit(thread, indent, text):
    line = f"[{thread:>6}] | {'  ' * indent}{text}"
    if OUTPUT:
        _stock.write_line(OUTPUT, line)
    else:
        g.log(line)


def quoted(call, address):
    """quoted() is the C string at address in the target, quoted, at most STRLEN characters
    (then ...), or the address in hex when it cannot be read."""
    if address == 0:
        return "NULL"
    try:
        text = call.read_cstring(address, STRLEN + 1)
    except g.Error:
        return f"{address:#x}"
    more = "..." if len(text) > STRLEN else ""
    body = text[:STRLEN].encode("unicode_escape").decode("ascii").replace('"', '\\"')
    return f'"{body}"{more}'


def shown(call, kind, value):
    """shown() renders value, read as kind (s, p, i, l, u, c), for a log line."""
    if kind == "s":
        return quoted(call, value & _stock.MASK64)
    if kind == "p":
        return f"{value & _stock.MASK64:#x}"
    if kind == "c":
        c = value & 0xff
        return repr(chr(c)) if 32 <= c < 127 else str(c)
    if kind == "i":
        value &= 0xffffffff
        return str(value - (1 << 32) if value >> 31 else value)
    if kind == "l":
        value &= _stock.MASK64
        return str(value - (1 << 64) if value >> 63 else value)
    return str(value & _stock.MASK64)


def is_string(type_name):
    """is_string() tells whether a C type (from DWARF) is a pointer to characters."""
    t = type_name.replace("const ", "").replace("volatile ", "").strip()
    return t in ("char *", "signed char *", "unsigned char *")


def describe(call):
    """describe() is `function(arguments)` for call at its entry."""
    try:
        typed = call.typed_args
    except g.Error:
        typed = []
    if typed:
        parts = []
        for name, type_name, value in typed:
            if value is None:
                text = "?"
            elif isinstance(value, int) and not isinstance(value, bool) and is_string(type_name):
                text = quoted(call, value & _stock.MASK64)
            elif isinstance(value, int) and not isinstance(value, bool) and "*" in type_name:
                text = f"{value & _stock.MASK64:#x}"
            else:
                text = _stock.show(value)
            parts.append(f"{name}={text}" if name else text)
        return f"{call.function}({', '.join(parts)})"
    prototype = PROTOTYPES.get(call.function)
    if prototype:
        kinds = prototype[0]
        return f"{call.function}({', '.join(shown(call, k, call.arg(i)) for i, k in enumerate(kinds))})"
    return f"{call.function}({', '.join(_stock.show(call.arg(i)) for i in range(RAW_ARGS))})"


def result(ret, function):
    """result() renders the value ret returns, as its DWARF return type (or function's
    prototype, if known) says: None for a void function."""
    type_name = ret.type
    value = ret.value
    if type_name == "void":
        return None
    if type_name and isinstance(value, int) and not isinstance(value, bool):
        if is_string(type_name):
            return quoted(ret, value & _stock.MASK64)
        if "*" in type_name:
            return f"{value & _stock.MASK64:#x}"
    prototype = PROTOTYPES.get(function)
    if not type_name and prototype is not None and isinstance(value, int):
        return shown(ret, prototype[1], value) if prototype[1] else None
    return _stock.show(value)


def wanted(call, stack):
    """wanted() tells whether call is shown: in the modules asked for, within calls.depth,
    and made by calls.caller."""
    modules = IN_MODULES.get(call.function)
    if modules and call.stack(1)[0].module not in modules:
        return False
    depth = sum(1 for _, on in stack if on)
    if DEPTH is not None and depth >= DEPTH:
        return False
    if CALLERS:
        frames = call.stack(2)
        caller = frames[1].function if len(frames) > 1 else ""
        if not any(fnmatch.fnmatchcase(caller, p) for p in CALLERS):
            return False
    return True


def flush(thread):
    """flush() writes the line of thread's opened call as the start of a block."""
    waiting = opened.pop(thread, None)
    if waiting:
        emit(thread, waiting[2], waiting[1] + " {")


async def log_call(call):
    thread = call.thread_id
    stack = active.setdefault(thread, [])
    show = wanted(call, stack)
    text = describe(call) if show else None
    if not RETURNS:
        if show:
            emit(thread, 0, text)
        return
    indent = sum(1 for _, on in stack if on)
    frame = [call.id, show]
    stack.append(frame)
    if show:
        flush(thread)
        opened[thread] = (call.id, text, indent)
    function = call.function
    ret = await call.returned()
    while stack and stack[-1] is not frame:
        stack.pop()
    if stack:
        stack.pop()
    if not show:
        return
    value = None if ret.unwound else result(ret, function)
    waiting = opened.get(thread)
    if waiting and waiting[0] == call.id:
        del opened[thread]
        if ret.unwound:
            emit(thread, indent, f"{text} unwound")
        else:
            emit(thread, indent, f"{text} = {value};" if value is not None else f"{text};")
        return
    flush(thread)
    if ret.unwound:
        emit(thread, indent, f"}} unwound /* {function} */")
    else:
        emit(thread, indent, f"}} = {value}; /* {function} */" if value is not None
             else f"}} /* {function} */")


@g.groutine(name="calls")
async def calls():
    _stock.follow("calls", FUNCTIONS, log_call)
    _stock.follow_at_main("calls", LATER, MODULES, log_call, found=lambda functions:
                          IN_MODULES.update(_stock.modules_of(LATER, MODULES, functions)))
    await g.event("exit")
