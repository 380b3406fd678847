"""`groutine load` prints one text for a C++ library and a Python script (the core's
loaded_text()): a line for the file, then each groutine's id, name and state, a groutine that
failed while starting with where and why."""
import re
from pathlib import Path

import pytest

from conftest import PYTHON_BUILT, groutine_library, lldb, target

SCRIPT = """import groutines as g


@g.groutine
async def waits():
    await g.call("add")


@g.groutine(name="fails-early")
async def fails_early():
    assert False, "no configuration"
"""


def test_a_library_groutine_that_fails_while_starting_shows_where_and_why():
    library = groutine_library("fails_at_start")
    load = f"groutine load {library}"
    s = lldb(f"file {target('calls_O0')}", load)
    # The file as the compiler named it (ccache may make it relative to its base dir).
    assert re.fullmatch(
        re.escape(f"loaded 2 groutines from {Path(library).resolve()}\n"
                  "  1 waits                waiting on call of add\n"
                  "  2 fails-early          failed: ") + r"\S*/fails_at_start\.cpp:8: "
        "no configuration", s.after(load)), s


@pytest.mark.skipif(not PYTHON_BUILT, reason="the groutines Python module is not built")
def test_a_script_groutine_that_fails_while_starting_reads_as_a_librarys(tmp_path):
    script = tmp_path / "early.py"
    script.write_text(SCRIPT)
    load = f"groutine load {script}"
    s = lldb(f"file {target('calls_O0')}", load)
    assert s.after(load) == (f"loaded 2 groutines from {script}\n"
                             "  1 waits                waiting on call of add\n"
                             f"  2 fails-early          failed: {script}:11: "
                             "AssertionError: no configuration"), s
