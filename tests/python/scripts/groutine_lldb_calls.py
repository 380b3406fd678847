# Used by tests/python/test_lldb.py over tests/targets/calls.c: arguments by position, by
# name and floating, an expression evaluated, a returned string read, a return rewritten, a
# call skipped.
import sys

import groutines as g


def say(line):
    # One write a line: LLDB relays the target's output from another thread, and print()'s
    # separate write of the newline let a target line land between (seen once in CI).
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


@g.groutine
async def adds():
    async for c in g.calls("add"):
        a, b, named = c.arg(0), c.arg(1), c.args
        computed = c.evaluate("$rdi * 10 + $rsi")  # in the stopped thread
        assert c.evaluate("(void)0") is None
        for bad, why in [("no_such_name_here + 1", ""),
                         ("(int)strlen((const char *)1)", "Execution was interrupted, reason: "
                                                          "signal SIGSEGV")]:
            try:
                c.evaluate(bad)
            except g.Error as e:  # the target is back as it was, and goes on
                assert str(e).startswith(f"cannot evaluate '{bad}': {why}"), e
            else:
                raise AssertionError(f"evaluate({bad!r}) did not raise")
        ret = await c.returned()
        say(f"py: add({a},{b}) named={named} evaluated={computed} -> {ret.value}")
        ret.set_value(ret.value + 1000)

@g.groutine
async def scales():
    async for c in g.calls("scale"):
        x, f = c.float_arg(0), c.float_arg(1)
        ret = await c.returned()
        say(f"py: scale({x},{f}) -> {ret.float_value}")

@g.groutine
async def greets():
    async for c in g.calls("greet"):
        name = c.read_cstring(c.arg("name"))  # a char * argument is its address
        ret = await c.returned()
        say(f"py: greet {name} -> {ret.read_cstring(ret.value)}")

@g.groutine
async def skip_parse():
    c = await g.call("parse_header")
    c.return_now(-7)
    g.log("skipped parse_header")
