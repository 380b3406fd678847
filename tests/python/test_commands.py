"""The `groutine` commands from a Python frontend: groutines._native.command(runtime, argv,
host) runs the core's command set (the text the LLDB plugin prints) against a runtime hosted
from Python (tests/python/pure_backend.py), with a CommandHost subclass doing what only the
frontend can: load Python scripts, keep the event log, describe its hooks."""
import os
import re
import shutil
import subprocess

import pytest

import groutines as g
from groutines import _host, _native
from pure_backend import PureTarget


class LoggingTarget(PureTarget):
    """A pure-Python target whose backend puts every event it observes in an EventLog, as a
    frontend's backend does for `groutine events`."""

    def __init__(self):
        super().__init__()
        self.log = _native.EventLog()
        observe = self.backend.observe

        def logged(event):
            observe(event)
            detail = f"call #{event['call']}" if event["call"] else ""
            self.log.add(event["kind"], event["name"], seq=event["seq"], thread=event["thread"],
                         call=event["call"], detail=detail)
        self.backend.observe = logged


class Host(_native.CommandHost):
    """The frontend: Python scripts through groutines._host (as the LLDB plugin does), the
    target's event log; everything else is the core's default."""

    def __init__(self, target):
        super().__init__()
        self.target = target

    def event_log(self):
        return self.target.log

    def load_script(self, path):
        return _host.load_command(path)

    def unload_script(self, path):
        return _host.unload_command(path)


@pytest.fixture
def pure():
    t = LoggingTarget()
    try:
        yield t
    finally:
        t.close()
    assert t.backend.hooks == {}, "hooks left installed"
    assert _native.default_runtime() is None


@pytest.fixture
def run(pure):
    """run(*argv) is the (output, error) of `groutine ARGV...` against the pure target."""
    host = Host(pure)
    return lambda *argv: _native.command(pure.runtime, list(argv), host)


ADDER = """
import groutines as g

@g.groutine
async def checker():
    async for call in g.calls("add"):
        total = call.arg(0) + call.arg(1)
        ret = await call.returned()
        g.check(ret.value == total, "a wrong sum")

@g.groutine
async def echo():
    while True:
        ev = await g.event("ping")
        ev.reply(ev.data["n"] + 1)
"""


def test_load_then_list_show_the_groutines_as_the_lldb_plugin_does(run, script):
    path = os.path.realpath(script("groutine_adder.py", ADDER))
    out, err = run("load", path)
    assert err == ""
    assert out == (f"loaded 2 groutines from {path}\n"
                   "  1 checker              waiting on call of add\n"
                   "  2 echo                 waiting on event 'ping'\n")
    out, err = run("list")
    assert (out, err) == (
        "ID  NAME     STATE                    EVENTS  SOURCE\n"
        f"1   checker  waiting on call of add   0       {path}\n"
        f"2   echo     waiting on event 'ping'  0       {path}\n", "")


def test_fire_prints_the_replies_and_report_the_verdicts(run, pure, script):
    path = os.path.realpath(script("groutine_adder.py", ADDER))
    run("load", path)
    assert run("fire", "ping", "n=41") == ("reply from echo (#2): 42\n", "")
    assert run("fire", "nobody") == ("no replies\n", "")
    pure.call(1, "add", args=[2, 3])
    pure.ret(1, 5)
    pure.call(1, "add", args=[2, 2])
    pure.ret(1, 5)
    out, err = run("report")
    assert err == ""
    lines = out.splitlines()
    assert lines[0] == "FAIL checker (waiting on call of add, 4 events)"
    assert lines[1] == (f"  {path}:8: check failed: g.check(ret.value == total, \"a wrong sum\"): "
                        "a wrong sum [return #6 of add (call #5) on thread 1]"), out
    assert lines[2:] == ["PASS echo (waiting on event 'ping', 1 event)", "1 passed, 1 failed"]


def test_events_shows_what_the_frontends_backend_logged(run, pure, script):
    run("load", script("groutine_adder.py", ADDER))
    run("fire", "ping", "n=1")
    pure.call(7, "add", args=[1, 1])
    pure.ret(7, 2)
    out, err = run("events", "-n", "2")
    assert err == ""
    assert out == ("SEQ  THREAD  KIND    NAME  DETAIL\n"
                   "2    7       call    add   call #2\n"
                   "3    7       return  add   call #2\n")
    out, err = run("events", "--json", "-n", "1")
    assert err == ""
    assert re.fullmatch(r'\{"seq":3,"time_ns":\d+,"thread":7,"kind":"return","name":"add",'
                        r'"call":2,"args":\{\},"value":null,"skipped":false,"unwound":false,'
                        r'"rewritten":false,"data":\{\},"detail":"call #2"\}\n', out), out
    assert run("events", "--clear", "--capacity", "5") == (
        "event log cleared\nevent log capacity: 5\nno events logged\n", "")
    assert pure.log.capacity == 5


def test_a_hosted_runtime_logs_its_events_for_groutine_events_by_itself(script):
    t = PureTarget()
    try:
        t.host.load(script("groutine_logger.py", """
            import groutines as g

            @g.groutine
            async def logger():
                call = await g.call("add")
                g.log("saw add")
                ret = await call.returned()
                g.stop(f"add returned {ret.value}")
                await g.event("never")
        """))
        g.fire("hello", who="you")
        t.call(9, "add", args=[2, 3])
        t.ret(9, 5)
        out, err = _native.command(t.host, ["events"], _native.CommandHost())
        assert err == ""
        assert out == ("SEQ  THREAD  KIND    NAME    DETAIL\n"
                       "1    0       custom  hello   who=\"you\"\n"
                       "2    9       call    add     call #2\n"
                       "-    9       log     logger  saw add\n"
                       "3    9       return  add     call #2 rax=5\n"
                       "-    9       stop    logger  add returned 5\n")
        assert t.host.event_log.total == 5
    finally:
        t.close()


def test_subscriptions_show_what_the_frontend_knows_of_its_hooks(run, pure, script):
    run("load", script("groutine_adder.py", ADDER))
    assert run("subscriptions") == (
        "FUNCTION  BREAKPOINT  LOCATIONS  HOLDERS  HITS  TRANSPORT\n"
        "add       -           0          2        0     breakpoint\n"
        "returns awaited: 0 calls at 0 return addresses\n", "")

    class Breakpoints(Host):
        def hook_view(self, function):
            return {"breakpoint": 4, "locations": 0, "hits": 9, "unresolved": True}

        def return_sites(self):
            return [(0x401000, "breakpoint 5", [3, 8])]

    out = _native.command(pure.runtime, ["subscriptions"], Breakpoints(pure))
    assert out == (
        "FUNCTION  BREAKPOINT  LOCATIONS  HOLDERS  HITS  TRANSPORT\n"
        "add       4           0          2        9     breakpoint\n"
        "  add: no such function (yet): the hook waits for a library that defines it\n"
        "returns awaited: 2 calls at 1 return address\n"
        "  0x401000  breakpoint 5  calls #3 #8\n", "")


def test_unload_by_name_by_script_and_everything(run, script):
    path = os.path.realpath(script("groutine_adder.py", ADDER))
    run("load", path)
    assert run("unload", "echo") == ("unloaded 1 groutine called 'echo'\n", "")
    assert run("unload", path) == (f"unloaded 1 groutine from {path}\n", "")
    assert run("list") == ("no groutines loaded\n", "")
    run("load", path)
    assert run("unload", "--all") == ("unloaded 2 groutines\n", "")
    assert run("report") == ("no groutines loaded\n", "")


def test_bad_input_is_an_error_naming_what_was_wrong(run, pure, tmp_path):
    assert run() == ("", "groutine: expected a subcommand (one of load, list, unload, fire, "
                         "events, report, stop-on-failure, subscriptions, transport)")
    assert run("lsit") == ("", "groutine: no subcommand 'lsit' (one of load, list, unload, fire, "
                               "events, report, stop-on-failure, subscriptions, transport)")
    assert run("list", "x") == ("", "groutine list: takes no arguments")
    assert run("load") == ("", "groutine load: expected one path, got 0 arguments "
                               "(groutine load <path>)")
    assert run("load", "/no/such.py") == ("", "groutine load: no such file '/no/such.py'")
    assert run("unload", "nobody") == ("", "groutine unload: no groutine or library called "
                                           "'nobody'")
    assert run("fire", "ping", "n") == ("", "groutine fire: 'n' is not key=value")
    assert run("events", "-n", "x") == ("", "groutine events: 'x' is not a count for -n")
    assert run("events", "--output", "f") == (
        "", "groutine events: --output writes the --json lines: add --json")
    assert run("transport", "fast") == (
        "", "groutine transport: expected auto, agent or breakpoint, not 'fast'")
    # What this frontend does not do is an error too, from the core's defaults.
    assert run("transport", "agent") == (
        "", "groutine transport: this debugger has one transport: breakpoints")
    assert run("stop-on-failure") == (
        "", "groutine stop-on-failure: this debugger cannot stop the target on a failure")
    library = tmp_path / "libx.so"
    library.write_bytes(b"")
    assert run("load", str(library)) == (
        "", "groutine load: this debugger loads no C++ groutine libraries")
    assert _native.command(pure.runtime, ["events"], _native.CommandHost()) == (
        "", "groutine events: this debugger keeps no event log")


def test_a_hosted_runtime_loads_reloads_and_closes_cpp_libraries_for_the_commands(pure):
    library = os.path.realpath(os.path.join(os.environ.get("GROUTINES_EXAMPLES", ""),
                                            "libgroutine_calls_checks.so"))
    if not os.path.exists(library):
        pytest.fail(f"{library} is not built (set GROUTINES_EXAMPLES to build/groutines)")
    host = Host(pure)
    out, err = _native.command(pure.host, ["load", library], host)
    assert err == ""
    assert out.startswith(f"loaded 5 groutines from {library}\n"
                          "  1 check-add            waiting on call of add\n"), out
    out, err = _native.command(pure.host, ["load", library], host)  # a reload
    assert out.startswith(f"loaded 5 groutines from {library}\n"
                          "  6 check-add            waiting on call of add\n"), out
    assert len(pure.runtime.groutines()) == 5
    assert _native.command(pure.host, ["unload", library], host) == (
        f"unloaded 5 groutines and closed {library}\n", "")
    assert _native.command(pure.host, ["load", library], host)[1] == ""
    assert _native.command(pure.host, ["unload", "--all"], host) == ("unloaded 5 groutines\n", "")
    assert pure.runtime.groutines() == []


def test_a_failing_script_load_prints_what_loaded_then_the_error(run, script, tmp_path):
    good = os.path.realpath(script("scripts/groutine_good.py", ADDER))
    script("scripts/groutine_bad.py", "raise ValueError('broken')\n")
    out, err = run("load", str(tmp_path / "scripts"))
    assert out.startswith(f"loaded 2 groutines from {good}\n"), out
    assert re.fullmatch(r"groutine load: .*groutine_bad\.py:1: ValueError: broken", err), err


def test_a_host_method_that_raises_is_the_commands_error(pure, script):
    class Running(Host):
        def require_stopped(self):
            raise RuntimeError("the process is running: interrupt it first")

    host = Running(pure)
    assert _native.command(pure.runtime, ["load", script("groutine_adder.py", ADDER)], host) == (
        "", "groutine load: the process is running: interrupt it first")
    assert _native.command(pure.runtime, ["fire", "ping"], host) == (
        "", "groutine fire: the process is running: interrupt it first")
    assert _native.command(pure.runtime, ["list"], host) == ("no groutines loaded\n", "")


def test_a_frontend_that_stops_on_failures_and_chooses_transports(run, pure):
    class Frontend(Host):
        stop = False
        transport = "auto"

        def stop_on_failure(self):
            return self.stop

        def set_stop_on_failure(self, on):
            self.stop = on

        def set_transport(self, name):
            self.transport = name

        def transport_status(self):
            return f"transport: {self.transport}\n"

    host = Frontend(pure)
    assert _native.command(pure.runtime, ["stop-on-failure", "on"], host) == (
        "stop on failure: on\n", "")
    assert host.stop is True
    assert _native.command(pure.runtime, ["transport", "breakpoint"], host) == (
        "transport: breakpoint\n", "")
    # The hosted runtime itself is accepted too.
    assert _native.command(pure.host, ["transport"], host) == ("transport: breakpoint\n", "")


def test_the_help_is_the_lldb_plugins_at_the_frontends_prompt():
    help = {name: (short, syntax, long) for name, short, syntax, long
            in _native.command_help("(gdb) ")}
    assert list(help) == ["", "load", "list", "unload", "fire", "events", "report",
                          "stop-on-failure", "subscriptions", "transport"]
    assert help["fire"][1] == "groutine fire <event> [<key>=<value> ...]"
    assert "(gdb) groutine fire ping n=41\nreply from echo (#3): 42\n" in help["fire"][2]
    assert "(lldb)" not in "".join(long for _, _, long in help.values())


def test_the_help_is_in_the_gdb_frontends_words_when_it_asks():
    help = {name: long for name, _, _, long in _native.command_help(frontend="gdb")}
    text = "".join(help.values())
    assert "(gdb) source build/gdb/groutines.py\n(gdb) file build/" in help[""]
    assert "(`interrupt` or Ctrl-C)" in help[""]
    for word in ("(lldb)", "plugin load", "process interrupt"):
        assert word not in text
    with pytest.raises(ValueError, match="frontend is 'lldb' or 'gdb', not 'vim'"):
        _native.command_help(frontend="vim")


def test_a_wait_reads_the_same_in_the_list_and_in_the_awaitables_repr(run, pure):
    seen = {}

    async def chooser():
        awaitable = g.any(g.call("f", where=lambda c: True))
        seen["repr"] = repr(awaitable)
        await awaitable

    pure.host.load(g.groutine(chooser))
    listed = [line for line in run("list")[0].splitlines() if "chooser" in line][0]
    assert seen["repr"] == "<groutines awaitable: call of f (with a condition)>"
    assert "  waiting on call of f (with a condition)  " in listed
    run("unload", "--all")


# --- The same text in real LLDB ---

LLDB = os.environ.get("GROUTINES_LLDB", "lldb-19")
PLUGIN = os.environ.get("GROUTINES_PLUGIN", "")
TARGETS = os.environ.get("GROUTINES_TARGETS", "")
EXAMPLES = os.environ.get("GROUTINES_EXAMPLES", "")
PYTHON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(g.__file__)))


needs_lldb = pytest.mark.skipif(
    not (shutil.which(LLDB) and os.path.exists(PLUGIN) and os.path.exists(
        os.path.join(TARGETS, "calls_O0"))),
    reason="needs lldb-19, the groutines plugin (GROUTINES_PLUGIN) and tests/targets")


def run_lldb(*commands):
    """run_lldb() runs commands in LLDB's batch mode, one -o each, with this Python's
    PYTHONPATH left out (LLDB embeds its own), and returns the finished process."""
    args = [LLDB, "--batch", "--no-lldbinit"]
    for c in commands:
        args += ["-o", c]
    env = dict(os.environ, LLDB_DEBUGSERVER_PATH=os.environ.get(
        "LLDB_DEBUGSERVER_PATH", "/usr/lib/llvm-19/bin/lldb-server"))
    env.pop("PYTHONPATH", None)
    try:
        return subprocess.run(args, capture_output=True, text=True, timeout=120, env=env,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"lldb did not finish within 120s: {commands}\n{e.stdout}")


def python_command(*argv):
    """python_command() is an LLDB `script` line that prints what groutines._native.command()
    answers for argv against the plugin's runtime (the default one), between markers."""
    return ("script import sys; sys.path.insert(0, %r); from groutines import _native as n; "
            "o, e = n.command(n.default_runtime(), %r, n.CommandHost()); "
            "print('@@BEGIN@@' + o + e + '@@END@@')" % (PYTHON_DIR, list(argv)))


@needs_lldb
def test_python_frontends_print_the_lldb_plugins_tables_byte_for_byte_on_a_real_target():
    library = os.path.join(EXAMPLES, "libgroutine_calls_checks.so")
    assert os.path.exists(library), library
    commands = [f"plugin load {PLUGIN}", f"file {os.path.join(TARGETS, 'calls_O0')}",
                f"groutine load {library}",
                "process launch -o /dev/null -- 2"]  # its output never among the tables
    compared = [["list"], ["report"], ["fire", "nobody", "n=1"], ["unload", "nobody"]]
    for argv in compared:
        commands += ["groutine " + " ".join(argv), python_command(*argv)]
    # An error ends LLDB's batch: the failing command goes last, after its Python twin.
    commands[-2:] = reversed(commands[-2:])
    proc = run_lldb(*commands)
    output = proc.stdout + proc.stderr
    python = re.findall(r"^@@BEGIN@@(.*?)@@END@@$", proc.stdout, re.S | re.M)
    assert len(python) == len(compared), output
    for argv, text in zip(compared, python):
        # What LLDB printed for the command: its lines up to the next command.
        echoed = f"(lldb) groutine {' '.join(argv)}\n"
        assert echoed in proc.stdout, output
        plugin = proc.stdout.split(echoed, 1)[1].split("(lldb) ", 1)[0]
        if argv[0] == "unload":  # an error, which LLDB prints on stderr as "error: ..."
            assert plugin == "" and f"error: {text}\n" in proc.stderr, output
            continue
        assert text == plugin, output
    assert re.search(r"^1\s+check-add\s+waiting on call of add\s+[1-9]\d*\s", python[0], re.M), output


@needs_lldb
def test_in_lldb_a_wait_reads_the_same_in_groutine_list_and_in_the_awaitables_repr(tmp_path):
    script = tmp_path / "groutine_chooser.py"
    script.write_text(
        "import groutines as g\n\n"
        "@g.groutine\n"
        "async def chooser():\n"
        "    awaitable = g.any(g.call('add', where=lambda c: True))\n"
        "    g.log(repr(awaitable))\n"
        "    await awaitable\n")
    proc = run_lldb(f"plugin load {PLUGIN}", f"file {os.path.join(TARGETS, 'calls_O0')}",
                    f"groutine load {script}", "groutine list")
    output = proc.stdout + proc.stderr
    assert "[chooser] <groutines awaitable: call of add (with a condition)>" in output, output
    assert re.search(r"^1\s+chooser\s+waiting on call of add \(with a condition\)\s+0\s",
                     proc.stdout.split("(lldb) groutine list\n", 1)[1], re.M), output


@needs_lldb
def test_in_lldb_groutine_list_nests_grandchildren_below_their_parents(tmp_path):
    script = tmp_path / "groutine_family.py"
    script.write_text(
        "import groutines as g\n\n"
        "async def idle():\n"
        "    await g.event('never')\n\n"
        "async def child():\n"
        "    g.spawn(idle(), name='grandchild')\n"
        "    await g.event('never')\n\n"
        "@g.groutine\n"
        "async def parent():\n"
        "    await g.call('add')\n"
        "    g.spawn(child(), name='first')\n"
        "    g.spawn(idle(), name='second')\n"
        "    await g.event('never')\n\n"
        "@g.groutine\n"
        "async def other():\n"
        "    await g.event('never')\n")
    proc = run_lldb(f"plugin load {PLUGIN}", f"file {os.path.join(TARGETS, 'calls_O0')}",
                    f"groutine load {script}", "process launch -o /dev/null -- 1",
                    "groutine list")
    output = proc.stdout + proc.stderr
    assert "(lldb) groutine list\n" in proc.stdout, output
    listed = proc.stdout.split("(lldb) groutine list\n", 1)[1].splitlines()
    header = next(line for line in listed if line.startswith("ID  NAME"))
    start, end = header.index("NAME"), header.index("STATE")
    names = [line[start:end].rstrip() for line in listed if re.match(r"^\d+ ", line)]
    assert names == ["parent", "  first", "    grandchild", "  second", "other"], output
