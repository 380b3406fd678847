"""The issue's example script runs as documented, and a listener hears the injected OOM."""
import os

import pytest

import groutines as g
from groutines.testing import Target

EXAMPLE = os.path.join(os.path.dirname(__file__), "scripts", "groutine_issue_example.py")


def test_the_example_checks_headers_and_fails_the_third_big_malloc(target):
    heard = []

    async def oom_listener():
        ev = await g.event("oom-injected")
        heard.append(ev.data)

    target.load(oom_listener)
    assert target.load(EXAMPLE) == ["header_len_bounded", "fail_third_malloc"]

    target.call(1, "parse_header", named={"len": 100})
    target.ret(1, 0)
    for size in (8, 8, 8):
        assert target.call(2, "malloc", args=[size]) is None
        target.ret(2, 0x1000)
    assert target.call(2, "malloc", args=[64]) == 0
    assert heard == [{"size": 64}]
    assert target.passed, target.report()

    target.call(1, "parse_header", named={"len": 100})
    target.ret(1, -1)
    failure, = target.failures
    assert failure == (f"header_len_bounded: {os.path.realpath(EXAMPLE)}:10: AssertionError: "
                       "assert ret.value >= 0 (ret.value = -1) (during return #9 of parse_header (call #8) on "
                       "thread 1)")


# The README's testing example, verbatim, run from the scripts directory.
def test_the_third_big_malloc_fails():
    with Target() as t:
        t.load("groutine_issue_example.py")   # a path, a directory, a module or an async def
        for _ in range(3):
            assert t.call(1, "malloc", args=[8]) is None
            t.ret(1, 0x1000)
        assert t.call(1, "malloc", args=[32]) == 0      # skipped: the caller got 0
        assert t.passed, t.report()


@pytest.fixture(autouse=True)
def in_scripts_directory(monkeypatch):
    monkeypatch.chdir(os.path.dirname(EXAMPLE))
