"""The `groutine` commands in GDB: `groutine load|list|unload|fire|report|subscriptions`, with
the arguments, help and output of the LLDB plugin's.

Every subcommand goes through one function, run_command(frontend, argv) -> (output, error),
so that the day the core owns the commands' parsing and text (one command set for every
debugger) this is the one place to change."""
import errno
import os

import gdb

import groutines
from groutines import _host

from .events import render, to_json, value_text


class CommandError(Exception):
    """CommandError is what was wrong with a command; output is what it did before."""

    def __init__(self, message, output=""):
        super().__init__(message)
        self.output = output


def _state(g):
    return f"waiting on {g['waiting_on']}" if g["state"] == "waiting" else g["state"]


def _table(rows):
    width = [0] * max(len(r) for r in rows)
    for row in rows:
        for i, cell in enumerate(row):
            width[i] = max(width[i], len(cell))
    out = ""
    for row in rows:
        line = "".join(cell + (" " * (width[i] - len(cell) + 2) if i + 1 < len(row) else "")
                       for i, cell in enumerate(row))
        out += line.rstrip() + "\n"
    return out


def _no_such_function(function):
    return f"{function}: no such function (yet): the hook waits for a library that defines it"


def _require_target():
    if not gdb.current_progspace().filename:
        raise CommandError("no target: create one first (file PROGRAM), then load groutines")


def _warnings(frontend, before):
    return "".join(f"warning: {_no_such_function(f)}\n"
                   for f in frontend.backend.unresolved() if f not in before)


def _load(frontend, args):
    if len(args) != 1:
        raise CommandError(f"expected one path, got {len(args)} arguments (groutine load <path>)")
    path = args[0]
    if not os.path.exists(path):
        raise CommandError(f"no such file '{path}'")
    _require_target()
    before = frontend.backend.unresolved()
    if os.path.isdir(path) or path.endswith(".py"):
        output, error = _host.load_command(path)
        if error:
            raise CommandError(error, output + _warnings(frontend, before))
        return output + _warnings(frontend, before)
    resolved = os.path.realpath(path)
    try:
        ids = frontend.load_library(resolved)
    except groutines.Error as e:
        raise CommandError(str(e))
    out = f"loaded {len(ids)} groutine{'' if len(ids) == 1 else 's'} from {resolved}\n"
    for g in frontend.host.runtime.groutines():
        if g["id"] in ids:
            out += f"  {g['id']} {g['name']:<20} {_state(g)}\n"
    return out + _warnings(frontend, before)


def _rows(runtime):
    """_rows() is every loaded groutine (a snapshot dict), each spawned child right below its
    parent with its "depth", and "passed" telling whether it and its live descendants
    passed, as the LLDB plugin's rows()."""
    all_rows = []
    for g in runtime.groutines():
        r = dict(g)
        r["own_failures"] = [f for f in g["failures"] if not f["groutine"]]
        r["child_failures"] = [f for f in g["failures"] if f["groutine"]]
        r["passed"] = not r["own_failures"] and g["children"]["failed"] == 0
        r["depth"] = 0
        all_rows.append(r)
    index = {r["id"]: i for i, r in enumerate(all_rows)}
    for r in reversed(all_rows):  # a child's verdict goes up to its ancestors
        if r["parent"] and not r["passed"] and r["parent"] in index:
            all_rows[index[r["parent"]]]["passed"] = False
    ordered, taken = [], set()

    def below(parent, depth):
        for r in all_rows:
            if r["parent"] == parent and r["id"] not in taken:
                taken.add(r["id"])
                r["depth"] = depth
                ordered.append(r)
                below(r["id"], depth + 1)
    below(0, 0)
    ordered += [r for r in all_rows if r["id"] not in taken]  # a parent gone (not expected)
    return ordered


def _list(frontend, args):
    if args:
        raise CommandError("takes no arguments")
    rows = _rows(frontend.host.runtime)
    if not rows:
        return "no groutines loaded\n"
    spawned = any(r["children"]["spawned"] > 0 for r in rows)
    table = [["ID", "NAME", "STATE", "EVENTS"] + (["CHILDREN"] if spawned else []) + ["SOURCE"]]
    for r in rows:
        row = [str(r["id"]), "  " * r["depth"] + r["name"], _state(r), str(r["events_handled"])]
        if spawned:
            c = r["children"]
            row.append("-" if c["spawned"] == 0 else f"{c['live']} live, {c['ended']} ended")
        table.append(row + [r["source"]])
    out = _table(table)
    if frontend.backend.last_stop:
        out += f"last stop: {frontend.backend.last_stop}\n"
    return out


def _unload(frontend, args):
    if len(args) != 1:
        raise CommandError("expected a groutine name, a library path or --all")
    what = args[0]
    runtime = frontend.host.runtime
    if what in ("--all", "-a"):
        n = len(runtime.groutines())
        frontend.unload_everything()
        return f"unloaded {n} groutine{'' if n == 1 else 's'}\n"
    if os.path.exists(what) and (os.path.isdir(what) or what.endswith(".py")):
        output, error = _host.unload_command(what)
        if error:
            raise CommandError(error, output)
        return output
    if os.path.exists(what):
        resolved = os.path.realpath(what)
        before = len(runtime.groutines())
        if frontend.unload_library(resolved):
            return (f"unloaded {before - len(runtime.groutines())} groutines and closed "
                    f"{resolved}\n")
    ids = [g["id"] for g in runtime.groutines() if g["name"] == what]
    if not ids:
        raise CommandError(f"no groutine or library called '{what}'")
    for i in ids:
        runtime.unload(i)
    return f"unloaded {len(ids)} groutine{'' if len(ids) == 1 else 's'} called '{what}'\n"


def _parse_value(text):
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return text[1:-1]
    if text in ("true", "false"):
        return text == "true"
    if text == "none":
        return None
    try:
        return int(text, 0)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def _fire(frontend, args):
    if not args:
        raise CommandError("expected an event name (groutine fire <event> [key=value ...])")
    data = {}
    for arg in args[1:]:
        key, eq, value = arg.partition("=")
        if not eq or not key:
            raise CommandError(f"'{arg}' is not key=value")
        data[key] = _parse_value(value)
    replies = frontend.host.runtime.fire(args[0], data)
    if not replies:
        return "no replies\n"
    return "".join(f"reply from {r.groutine} (#{r.id}): {value_text(r.value)}\n"
                   for r in replies)


def _count(option, text):
    try:
        n = int(text, 10)
    except ValueError:
        n = -1
    if n < 0:
        raise CommandError(f"'{text}' is not a count for {option}")
    return n


def _events(frontend, args):
    log = frontend.backend.events
    n, as_json, output, out = 20, False, None, ""
    rest = list(args)

    def operand(option, what):
        if not rest:
            raise CommandError(f"{option} needs {what}")
        return rest.pop(0)

    while rest:
        a = rest.pop(0)
        if a in ("-n", "--count"):
            n = _count("-n", operand("-n", "a count"))
        elif a == "--json":
            as_json = True
        elif a == "--output":
            output = operand("--output", "a file")
        elif a == "--capacity":
            log.set_capacity(_count("--capacity", operand("--capacity", "a count")))
            out += f"event log capacity: {log.capacity}\n"
        elif a == "--clear":
            log.clear()
            out += "event log cleared\n"
        else:
            raise CommandError(f"unknown option '{a}'")
    entries = log.last(n)
    if output is not None:
        if not as_json:
            raise CommandError("--output writes the --json lines: add --json")
        try:
            fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NONBLOCK, 0o666)
        except OSError as e:
            why = "a FIFO nobody reads" if e.errno == errno.ENXIO else e.strerror
            raise CommandError(f"cannot write '{output}': {why}")
        os.set_blocking(fd, True)
        with os.fdopen(fd, "w", encoding="utf-8", errors="replace") as f:
            for e in entries:
                f.write(to_json(e) + "\n")
        return out + f"wrote {len(entries)} event{'' if len(entries) == 1 else 's'} to {output}\n"
    if as_json:
        return out + "".join(to_json(e) + "\n" for e in entries)
    if not entries:
        return out + "no events logged\n"
    rows = [["SEQ", "THREAD", "KIND", "NAME", "DETAIL"]]
    for e in map(render, entries):
        rows.append([str(e["seq"]) if e["seq"] else "-", str(e["thread"]), e["kind"], e["name"],
                     e["detail"]])
    return out + _table(rows)


def _report(frontend, args):
    if args:
        raise CommandError("takes no arguments")
    rows = _rows(frontend.host.runtime)
    if not rows:
        return "no groutines loaded\n"
    out, passed, failed = "", 0, 0
    for r in rows:
        if r["depth"] == 0:
            if r["passed"]:
                passed += 1
            else:
                failed += 1
        indent = "  " * r["depth"]
        n = r["events_handled"]
        out += (f"{indent}{'PASS' if r['passed'] else 'FAIL'} {r['name']} ({_state(r)}, "
                f"{n} event{'' if n == 1 else 's'})\n")
        c = r["children"]
        if c["spawned"] > 0:
            out += (f"{indent}  children: {c['spawned']} spawned, {c['live']} live, "
                    f"{c['ended']} ended ({c['failed']} failed)\n")
        for function, count in r["missed"].items():
            out += (f"{indent}  missed {count} call{'' if count == 1 else 's'} of {function} "
                    f"(busy when {'it' if count == 1 else 'they'} came)\n")
        for f in r["own_failures"] + r["child_failures"]:
            if not f["groutine"]:
                ended = " (ended it)" if f["fatal"] else ""
            else:
                ended = (f" (ended child {f['groutine']})" if f["fatal"]
                         else f" (in child {f['groutine']})")
            out += f"{indent}  {f['file']}:{f['line']}: {f['message']} [{f['event']}]{ended}\n"
        if c["failures_dropped"] > 0:
            out += f"{indent}  ... and {c['failures_dropped']} more failures of its children\n"
    return out + f"{passed} passed, {failed} failed\n"


def _stop_on_failure(frontend, args):
    if len(args) > 1:
        raise CommandError("expected on or off")
    if args:
        if args[0] not in ("on", "off"):
            raise CommandError(f"expected on or off, not '{args[0]}'")
        frontend.backend.stop_on_failure = args[0] == "on"
    return f"stop on failure: {'on' if frontend.backend.stop_on_failure else 'off'}\n"


def _subscriptions(frontend, args):
    if args:
        raise CommandError("takes no arguments")
    backend = frontend.backend
    hooks = frontend.host.runtime.hooks()
    out = ""
    if not hooks:
        out += "no subscriptions\n"
    else:
        rows = [["FUNCTION", "BREAKPOINT", "LOCATIONS", "HOLDERS", "HITS", "TRANSPORT"]]
        notes = ""
        by_name = {h.function: h for h in backend.hooks.values()}
        unresolved = backend.unresolved()
        for function, holders, installed in hooks:
            hook = by_name.get(function)
            bp = hook.breakpoint if hook is not None else None
            rows.append([function, str(bp.number) if bp is not None else "-",
                         "1" if bp is not None else "0", str(holders),
                         str(hook.hits if hook is not None else 0), "breakpoint"])
            if function in unresolved:
                notes += f"  {_no_such_function(function)}\n"
        out += _table(rows) + notes
    calls = sum(len(s.calls) for s in backend.sites.values())
    n = len(backend.sites)
    out += (f"returns awaited: {calls} call{'' if calls == 1 else 's'} at {n} return "
            f"address{'' if n == 1 else 'es'}\n")
    for site in backend.sites.values():
        ids = "".join(f" #{c}" for c in site.calls)
        out += f"  {site.address:#x}  breakpoint {site.breakpoint.number}  calls{ids}\n"
    return out


# name -> (function, help, syntax, long help)
SUBCOMMANDS = {
    "load": (_load, "Load groutines from a C++ shared library.", "groutine load <path>",
             "Load every groutine a C++ shared library defines with GROUTINE(...), and start each\n"
             "one: it runs until its first wait. Subscribing to calls of a function plants one\n"
             "breakpoint on it in the current program, so a program must be loaded first (file).\n"
             "Loading a library again reloads it. A .py file, or a directory of groutine_*.py and\n"
             "*_groutines.py scripts, is loaded by the groutines Python module into the same\n"
             "runtime. A function the groutines wait on that no module defines yet is a warning:\n"
             "its hook waits for a library that defines it.\n"
             "\n"
             "Examples:\n"
             "\n"
             "(gdb) file build/tests/targets/calls_O2\n"
             "(gdb) groutine load build/groutines/libgroutine_calls_checks.so\n"
             "loaded 5 groutines from /.../libgroutine_calls_checks.so\n"
             "  1 check-add            waiting on call of add\n"
             "(gdb) groutine load tests/python/scripts/groutine_lldb_calls.py\n"),
    "list": (_list, "List the loaded groutines.", "groutine list",
             "List every loaded groutine: its id, its name, its state (what it waits on, finished\n"
             "or failed), how many events it has handled, and the library it came from.\n"
             "\n"
             "Examples:\n"
             "\n"
             "(gdb) groutine list\n"
             "ID  NAME        STATE                     EVENTS  SOURCE\n"
             "1   check-add   waiting on call of add    6       /.../libgroutine_calls_checks.so"
             "\n"),
    "unload": (_unload, "Unload groutines by name, by library, or all of them.",
               "groutine unload <name> | <path> | --all",
               "Unload groutines. A suspended groutine is unwound (its destructors run) and the\n"
               "breakpoints nobody waits on any more are removed. Unloading by path also closes\n"
               "the library (a .py file or a directory goes to the groutines Python module);\n"
               "--all unloads everything.\n"
               "\n"
               "Examples:\n"
               "\n"
               "(gdb) groutine unload check-add\n"
               "(gdb) groutine unload --all\n"),
    "fire": (_fire, "Fire a custom event at the groutines; print replies.",
             "groutine fire <event> [<key>=<value> ...]",
             "Fire custom event <event> with the given data to every groutine waiting for it,\n"
             "synchronously, and print their replies. Values are integers (42, -1, 0x10), floats\n"
             "(1.5), true/false, none, or strings (optionally \"quoted\").\n"
             "\n"
             "Examples:\n"
             "\n"
             "(gdb) groutine fire ping n=41\n"
             "reply from echo (#3): 42\n"),
    "events": (_events, "Show the last events delivered to groutines.",
               "groutine events [-n <count>] [--json [--output <file>]] [--capacity <count>] "
               "[--clear]",
               "Show the newest events (default 20) from a bounded log: sequence number, target\n"
               "thread, kind (call, return, custom; log and stop lines from groutines), function\n"
               "or event name, and a short view of the registers the groutines read or the\n"
               "return value. --capacity sets how many entries the log keeps (default 1000; 0\n"
               "turns it off); --clear empties it. --json prints one JSON object per line and\n"
               "entry instead (seq, time_ns, thread, kind, name, call, args, value, skipped,\n"
               "unwound, rewritten, data, detail); --output <file> writes them to the file.\n"
               "\n"
               "Examples:\n"
               "\n"
               "(gdb) groutine events -n 3\n"
               "SEQ   THREAD   KIND     NAME          DETAIL\n"
               "7     4242     call     add           call #7 rdi=2 rsi=3\n"
               "8     4242     return   add           call #7 rax=5\n"
               "(gdb) groutine events --json -n 100000 --output /tmp/events.jsonl\n"),
    "report": (_report, "Report pass/fail of every groutine.", "groutine report",
               "Report every groutine as PASS or FAIL; under a failing one, each failed check or\n"
               "the exception that ended it, with its file:line and the event it was handling.\n"
               "\n"
               "Examples:\n"
               "\n"
               "(gdb) groutine report\n"
               "PASS check-add (finished, 6 events)\n"
               "1 passed, 0 failed\n"),
    "stop-on-failure": (_stop_on_failure, "Stop the target when a groutine fails (on|off).",
                        "groutine stop-on-failure [on | off]",
                        "With on, every failure of a groutine while it handles a call or a return\n"
                        "(a failed GROUTINE_CHECK, a failed REQUIRE, an exception, a Python\n"
                        "assert) stops the target at the prompt, at that call or return, with a\n"
                        "reason naming the groutine, the file:line and the message, as if the\n"
                        "groutine had called stop(). The failure is recorded as always: `groutine\n"
                        "report` shows it. Off (the default) lets the target run on. Without an\n"
                        "argument, shows the setting.\n"
                        "\n"
                        "Examples:\n"
                        "\n"
                        "(gdb) groutine stop-on-failure on\n"
                        "stop on failure: on\n"
                        "(gdb) run\n"
                        "groutine 'check-add' failed, stopping the target: add_checks.cpp:21: "
                        "GROUTINE_CHECK_EQ(result, a + b) failed: 5 != 4\n"),
    "subscriptions": (_subscriptions, "Show the functions groutines subscribe to.",
                      "groutine subscriptions",
                      "Show each hooked function with its breakpoint, how many waits and streams\n"
                      "hold it and its hits, the functions no module defines yet, then the\n"
                      "returns awaited, by return address.\n"
                      "\n"
                      "Examples:\n"
                      "\n"
                      "(gdb) groutine subscriptions\n"
                      "FUNCTION  BREAKPOINT  LOCATIONS  HOLDERS  HITS  TRANSPORT\n"
                      "add       -1          1          2        11    breakpoint\n"
                      "returns awaited: 0 calls at 0 return addresses\n"),
}


def run_command(frontend, argv):
    """run_command() runs `groutine ARGV...` and returns (output, error): error is "" on
    success, else the line to show (output is what was done first). The one entry point of
    every subcommand: the core's command set replaces this body."""
    if not argv or argv[0] not in SUBCOMMANDS:
        what = f"'{argv[0]}'" if argv else "nothing"
        return "", (f"groutine: unknown subcommand {what}: expected one of "
                    f"{', '.join(SUBCOMMANDS)}")
    name = argv[0]
    try:
        frontend.at_prompt()
        return SUBCOMMANDS[name][0](frontend, argv[1:]), ""
    except CommandError as e:
        return e.output, f"groutine {name}: {e}"
    except (groutines.Error, groutines.LoadError) as e:
        return "", f"groutine {name}: {e}"
    finally:
        frontend.at_prompt()


class GroutineCommand(gdb.Command):
    """Load, inspect and drive groutines: small scripts that live beside the target and wait
for calls of its functions.

Groutines subscribe to calls of the target's functions by name, read arguments and return
values, skip calls, rewrite results, talk to each other with custom events, and can stop the
target with a reason.

Examples:

(gdb) source build/gdb/groutines.py
(gdb) file build/tests/targets/calls_O2
(gdb) groutine load build/groutines/libgroutine_calls_checks.so
(gdb) run
(gdb) groutine report"""

    def __init__(self):
        super().__init__("groutine", gdb.COMMAND_USER, prefix=True)


class _Subcommand(gdb.Command):
    def __init__(self, frontend, name):
        function, brief, syntax, long_help = SUBCOMMANDS[name]
        self.__doc__ = f"{brief}\nSyntax: {syntax}\n\n{long_help}"
        super().__init__(f"groutine {name}", gdb.COMMAND_USER,
                         gdb.COMPLETE_FILENAME if name in ("load", "unload") else gdb.COMPLETE_NONE)
        self.frontend = frontend
        self.name = name

    def invoke(self, argument, from_tty):
        output, error = run_command(self.frontend, [self.name, *gdb.string_to_argv(argument)])
        if output:
            gdb.write(output)
        if not error:
            return
        if self.frontend.backend.in_hit:
            # Run by a groutine from a delivery (inside a breakpoint's stop()): a command that
            # fails there ends GDB's wait for the target (`run` returns with it stopped), so
            # the error is printed, not raised.
            gdb.write(f"error: {error}\n")
            return
        gdb.flush()
        raise gdb.GdbError(f"error: {error}")


def register(frontend):
    """register() adds the `groutine` command and its subcommands to GDB."""
    GroutineCommand()
    for name in SUBCOMMANDS:
        _Subcommand(frontend, name)
