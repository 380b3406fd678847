"""Forced (return_now) and rewritten (set_value) return values reach the caller in the register
the function's return type returns in, encoded as that type: an int in eax, a float in the low
4 bytes of xmm0, a double in xmm0, a long double pushed onto (or written at the top of) the x87
stack; a number of the other kind converted as a C return statement converts it. A function
returning a struct refuses a number with an error naming the call. Return.value reads each
type from its register (a long double from st0). From a C++ and a Python
groutine, at -O0 and -O2, on both transports and under GDB (tests/targets/returns.c,
groutines/returns.*)."""
import os
import re
from pathlib import Path

import pytest

from conftest import PYTHON_BUILT, debug, groutine_library, target

TRANSPORT = os.environ.get("GROUTINES_TRANSPORT", "auto")
PYTHON_GROUTINES = Path(__file__).resolve().parent / "groutines" / "returns.py"

# Odd calls are forced, even ones rewritten (returns.cpp, returns.py): what the caller prints.
FORCED = {"ret_int": "2",                          # 2.75 as an int
          "ret_float": "0x1.99999ap-4",           # 0.1 as a float, not a double's low half
          "ret_double": "0x1.cp+2",               # the integer 7 as a double, in xmm0
          "ret_long_double": "0xc.cccccccccccdp-7"}  # 0.1 pushed onto the x87 stack
REWRITTEN = {"ret_int": "-7",                      # -7.9 as an int
             "ret_float": "0x1.8p+1",              # the integer 3 as a float
             "ret_double": "0x1.999999999999ap-4",  # 0.1
             "ret_long_double": "-0xcp-2"}         # the integer -3 in st0
# What the even calls return before their rewrite, as Return.value / result() reads it (the
# long double from st0).
READ = {"ret_int": lambda n: n * 10 + 1, "ret_float": lambda n: n + 0.25,
        "ret_double": lambda n: n + 0.5, "ret_long_double": lambda n: n + 0.125}
STRUCT_ERROR = ("call #N of ret_pair: cannot return 1 from a function that returns a struct, "
                "union or class by value: a forced or rewritten return value is one number")


def groutines(kind):
    if kind == "cpp":
        return groutine_library("returns")
    if not PYTHON_BUILT:
        pytest.skip("the groutines Python module is not built")
    return str(PYTHON_GROUTINES)


@pytest.mark.parametrize("build", ["returns_O0_g", "returns_O2_g"])
@pytest.mark.parametrize("kind", ["cpp", "python"])
def test_forced_and_rewritten_returns_reach_the_caller_in_the_register_of_the_return_type(
        debugger, build, kind):
    stop = "break returns_done" if debugger == "gdb" else "breakpoint set -n returns_done"
    s = debug(debugger, f"file {target(build)}", f"groutine load {groutines(kind)}", stop, "run",
              "groutine subscriptions", "groutine report")
    for function in FORCED:
        assert s.target_lines(rf"{function}\(\d\)=.*") == [
            f"{function}({n})={FORCED[function] if n % 2 else REWRITTEN[function]}"
            for n in range(1, 5)], s
    # What each groutine read before rewriting: every return type from its own register.
    prefix = "py" if kind == "python" else "cpp"
    for function, real in READ.items():
        assert s.logged(f"{prefix}-{function}") == [f"{function} returned {real(n)}"
                                                   for n in (2, 4)], s
    # A struct return: each call's return_now and set_value raise, and the body's value stands.
    assert s.target_lines(r"ret_pair\(\d\)=.*") == [f"ret_pair({n})={{{n},-{n}}}"
                                                     for n in range(1, 5)], s
    errors = [re.sub(r"#\d+", "#N", line) for line in s.logged(f"{prefix}-ret_pair")]
    assert errors == [STRUCT_ERROR] * 8, s
    assert "5 passed, 0 failed" in s.after("groutine report"), s
    # Under LLDB, calls after the first come through the agent where it serves the function; it
    # does not carry st0, so a function returning a long double stays on its breakpoint.
    if debugger == "gdb":
        return
    subscriptions = s.after("groutine subscriptions")
    if TRANSPORT == "breakpoint":
        assert "agent" not in subscriptions, s
    else:
        transports = dict(re.findall(r"^(ret_\w+)\s+.*\s(\w+)$", subscriptions, re.M))
        assert transports == {"ret_int": "agent", "ret_float": "agent", "ret_double": "agent",
                              "ret_long_double": "breakpoint", "ret_pair": "agent"}, s
        assert ("ret_long_double: on a breakpoint: it returns a long double, in st0, which the "
                "agent does not carry") in subscriptions, s
