"""_stock: what the stock groutines share (options, following calls, matching functions).

Options come from environment variables GROUTINES_<GROUTINE>_<KEY>, which
`groutines run --set heap.frames=4` sets (or export them before starting lldb).

A stock groutine that follows calls to their returns is one groutine, NAME, that spawns a
child per function (follow()), which spawns a child per call: the child awaits that call's
return while its parent takes the next call, so calls that overlap (recursion, other threads)
are all followed, none missed.
"""
import fnmatch
import os

import groutines as g

MASK64 = (1 << 64) - 1


def option(groutine, key, default=None, kind=str):
    """option() is the value of GROUTINES_<GROUTINE>_<KEY> converted by kind, or default."""
    name = f"GROUTINES_{groutine}_{key}".upper().replace(".", "_").replace("-", "_")
    text = os.environ.get(name)
    if text is None or text == "":
        return default
    if kind is bool:
        return text.lower() in ("1", "true", "yes", "on")
    if kind is int:
        try:
            return int(text, 0)
        except ValueError:
            raise ValueError(f"stock {groutine}: {name}='{text}' is not an integer "
                             f"(--set {groutine}.{key}=N)") from None
    if kind is list:
        return [item.strip() for item in text.replace(";", ",").split(",") if item.strip()]
    try:
        return kind(text)
    except ValueError as e:  # a kind's reason: "is not an errno (...)"
        raise ValueError(f"stock {groutine}: {name}='{text}' {e}") from None


def errno_number(text):
    """errno_number() is an errno given as a number (0 to 4095) or a name, ENOMEM in any case;
    an option kind: ValueError saying why otherwise."""
    import errno
    text = str(text).strip()
    try:
        value = int(text, 0)
    except ValueError:
        value = getattr(errno, text.upper(), None) if text.upper().startswith("E") else None
    if not isinstance(value, int) or not 0 <= value < 4096:
        raise ValueError("is not an errno (a number, or a name: ENOMEM)")
    return value


def errno_name(value):
    """errno_name() is the name of errno value (ENOMEM), or its number as text."""
    import errno
    return errno.errorcode.get(value, str(value))


def check_options(groutine, keys):
    """check_options() raises ValueError naming the first GROUTINES_<GROUTINE>_* variable that
    is none of keys (a misspelt --set groutine.key=...), with the keys it knows."""
    prefix = f"GROUTINES_{groutine}_".upper()
    known = {f"{prefix}{key}".upper().replace(".", "_").replace("-", "_") for key in keys}
    for name in sorted(os.environ):
        if name.startswith(prefix) and name not in known:
            key = name[len(prefix):].lower()
            raise ValueError(f"stock {groutine}: no option {groutine}.{key} ({name}); its "
                             f"options: {', '.join(keys)}")


def follow(name, functions, handle):
    """follow() spawns, from the running groutine (name), a child per function of functions
    that takes every call of it and spawns handle(call) for each: a child of its own, named
    name, that may await call.returned() while the next calls come. A failure in handle ends
    that call's child only."""
    for function in functions:
        g.spawn(_follower(name, function, handle), name=name)


async def _follower(name, function, handle):
    async for call in g.calls(function):
        g.spawn(handle(call), name=name)


def follow_at_main(name, later, modules, handle, found=None):
    """follow_at_main() spawns, from the running groutine (name), a child that waits for the
    first call of main (the libraries loaded; a hook's first call stops at its breakpoint,
    where their symbols can be read) and then follows (follow()) the functions the patterns
    of later match (functions_matching()): patterns in libraries that were not loaded yet
    when the groutine loaded. found(functions) is told what they matched first."""
    if later:
        g.spawn(_at_main(name, later, modules, handle, found), name=name)


async def _at_main(name, later, modules, handle, found):
    await g.call("main")
    functions = functions_matching(later, modules)
    if found:
        found(functions)
    follow(name, functions, handle)


def functions_now_or_later(patterns, modules=None):
    """functions_now_or_later() is (functions, later): functions_matching() of patterns, but
    a pattern with wildcards in a library that is not loaded yet (the groutine loads before
    the process starts) is left in later, for follow_at_main()."""
    now, later = [], []
    for pattern in patterns:
        where, bare = split_module(pattern, modules)
        try:
            names = functions_matching([pattern], modules)
        except g.Error:
            if not where or not any(c in bare for c in "*?["):
                raise
            later.append(pattern)
            continue
        now.extend(name for name in names if name not in now)
    return now, later


def set_errno(call, value):
    """set_errno() sets errno of the thread that made call (stopped at its entry), by
    evaluating `*__errno_location() = value` in it. Raises groutines.Error."""
    call.evaluate(f"*(int *)__errno_location() = {int(value)}")


# The C runtime's start-up and tear-down code that gcc links into every executable (crt1.o,
# crti.o, crtbegin.o): a wildcard leaves it out (a hook hears a name in every module, and the
# dynamic loader has a _start of its own); named, it is hooked.
C_RUNTIME = {"_start", "_init", "_fini", "frame_dummy", "register_tm_clones",
             "deregister_tm_clones", "__do_global_dtors_aux"}


def functions_matching(patterns, modules=None):
    """functions_matching() expands shell patterns (parse_*) into the functions of the target
    that match them (groutines.functions()), in the main executable (or the modules named in
    modules); a pattern MODULE:PATTERN, where MODULE is a shared library's file name
    (libc.so.6:str*), matches in that library. Names without wildcards are kept as they
    are; wildcards leave out C_RUNTIME."""
    found = []
    for pattern in patterns:
        where, pattern = split_module(pattern, modules)
        if not any(c in pattern for c in "*?["):
            names = [pattern]
        else:
            names = [n for n in g.functions(pattern, where) if n not in C_RUNTIME]
        found.extend(name for name in names if name not in found)
    return found


def split_module(pattern, modules=None):
    """split_module() is (modules, pattern) for a pattern MODULE:PATTERN, where MODULE is a
    shared library's file name (libc.so.6:str*): ([MODULE], PATTERN); else (modules,
    pattern). A C++ name's :: is no module."""
    module, colon, rest = pattern.partition(":")
    if colon and ".so" in module and rest and not rest.startswith(":"):
        return [module], rest
    return modules or None, pattern


def modules_of(patterns, modules, functions):
    """modules_of() is {function: set of module file names} for the functions of functions
    that patterns (or modules) place in named modules: a hook hears a name in every module
    that defines it, and a groutine that wants one module's calls checks where each is."""
    found = {}
    for pattern in patterns:
        where, pattern = split_module(pattern, modules)
        if not where:
            continue
        for name in functions:
            if fnmatch.fnmatchcase(name, pattern):
                found.setdefault(name, set()).update(where)
    return found


def chain(stack, frames=6):
    """chain() renders at most frames frames of a Call.stack() on one line, innermost
    first: 'make_leak at heapbugs.c:14 <- main at heapbugs.c:31'. (A failure's message is
    one line.)"""
    names = [(f.function or "??") + (f" at {f.file}:{f.line}" if f.file else "")
             for f in stack[:frames]]
    more = " <- ..." if len(stack) > frames else ""
    return " <- ".join(names) + more


def stack_key(call, frames):
    """stack_key() names the call stack of call (at its entry) by its callers, as
    'module`function+offset' joined with ' <- ', at most frames of them: the same call
    site gives the same key from run to run (with or without ASLR)."""
    return " <- ".join(f"{f.module or '?'}`{f.function or '?'}+{f.offset}"
                       for f in call.stack(frames + 1)[1:])


def write_line(path, text):
    """write_line() appends text and a newline to the file at path."""
    with open(path, "a") as f:
        f.write(text + "\n")


def show(value):
    """show() renders an argument or result for a log line: integers in decimal, and in hex
    when they look like addresses."""
    if isinstance(value, bool) or not isinstance(value, int):
        return repr(value)
    return f"{value:#x}" if abs(value) >= 1 << 32 else str(value)
