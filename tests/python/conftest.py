"""Fixtures of the groutines Python tests: a scripted target that must end clean, and
scripts written to a temporary directory."""
import textwrap

import pytest

from groutines.testing import Target


@pytest.fixture
def target():
    """A scripted target; when the test ends, closing it must leave no hook and no watch."""
    t = Target()
    try:
        yield t
    finally:
        t.close()
    assert t._target.hooked == [], "hooks left installed"
    assert t._target.watched == 0, "returns left watched"


@pytest.fixture
def script(tmp_path):
    """script(name, text) writes a groutine script and returns its path (as a str)."""
    def write(name, text):
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))
        return str(path)
    return write
