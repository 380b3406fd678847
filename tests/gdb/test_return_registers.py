"""Forced (return_now) and rewritten (set_value) return values reach the caller in the register
the function's return type returns in, under GDB as under LLDB: an int in eax, a float in the
low 4 bytes of xmm0, a double in xmm0, a long double pushed onto (or written at the top of) the
x87 stack; a number of the other kind converted as a C return statement converts it; a struct
return refuses a number. Return.value reads each type from its register. The LLDB suite's
expectations and groutines (tests/lldb/groutines/returns.*)."""
import re
from pathlib import Path

import pytest

from conftest import DEBUGGERS, debug, from_lldb_test, groutine_library, target

FORCED, REWRITTEN, READ, STRUCT_ERROR = from_lldb_test(
    "test_return_registers", "FORCED", "REWRITTEN", "READ", "STRUCT_ERROR")
PYTHON_GROUTINES = Path(__file__).resolve().parents[1] / "lldb" / "groutines" / "returns.py"


@pytest.mark.parametrize("debugger", DEBUGGERS)
@pytest.mark.parametrize("build", ["returns_O0_g", "returns_O2_g"])
@pytest.mark.parametrize("kind", ["cpp", "python"])
def test_forced_and_rewritten_returns_reach_the_caller_in_the_register_of_the_return_type(
        debugger, build, kind):
    groutines = groutine_library("returns") if kind == "cpp" else PYTHON_GROUTINES
    stop = "breakpoint set -n returns_done" if debugger == "lldb" else "break returns_done"
    s = debug(debugger, f"file {target(build)}", f"groutine load {groutines}", stop, "run",
              "groutine report")
    for function in FORCED:
        assert s.target_lines(rf"{function}\(\d\)=.*") == [
            f"{function}({n})={FORCED[function] if n % 2 else REWRITTEN[function]}"
            for n in range(1, 5)], s
    prefix = "py" if kind == "python" else "cpp"
    for function, real in READ.items():
        assert s.logged(f"{prefix}-{function}") == [f"{function} returned {real(n)}"
                                                   for n in (2, 4)], s
    assert s.target_lines(r"ret_pair\(\d\)=.*") == [f"ret_pair({n})={{{n},-{n}}}"
                                                     for n in range(1, 5)], s
    errors = [re.sub(r"#\d+", "#N", line) for line in s.logged(f"{prefix}-ret_pair")]
    assert errors == [STRUCT_ERROR] * 8, s
    assert "5 passed, 0 failed" in s.after("groutine report"), s
