"""g.functions(pattern, modules): the target's functions matching a shell pattern, asked of the
backend (Backend.functions), from a loading groutine module and from inside a groutine."""
import pytest

import groutines as g
from pure_backend import PureTarget


def test_a_pattern_matches_the_main_executables_functions_each_once(target):
    target.symbols("parse_header", "parse_body", "main", "parse_header", "kv_get")
    seen = []

    async def lister():
        seen.append(g.functions("parse_*"))
        await g.call("main")

    target.load(lister)
    assert seen == [["parse_header", "parse_body"]]
    assert g.functions("kv_?et") == ["kv_get"]
    assert g.functions("[km]*") == ["main", "kv_get"]


def test_a_pattern_in_named_modules_matches_only_their_functions(target):
    target.symbols("main", "malloc_wrapper")
    target.symbols("malloc", "calloc", "free", module="libc.so.6")
    target.symbols("mallocx", module="libjemalloc.so.2")
    assert g.functions("*alloc*", ["libc.so.6"]) == ["malloc", "calloc"]
    assert g.functions("*alloc*", ["libc.so.6", "libjemalloc.so.2"]) == [
        "malloc", "calloc", "mallocx"]
    assert g.functions("*alloc*") == ["malloc_wrapper"]


def test_no_match_is_an_empty_list_and_an_unknown_module_an_error(target):
    target.symbols("main")
    assert g.functions("parse_*") == []
    with pytest.raises(g.Error, match=r"functions\('f\*'\): the target has no module "
                                      r"'libnope\.so'"):
        g.functions("f*", ["libnope.so"])
    with pytest.raises(TypeError, match=r"modules is a list of module file names"):
        g.functions("f*", "libc.so.6")


def test_a_groutine_calls_functions_from_a_delivery(target):
    target.symbols("parse_a", "parse_b", "main")
    seen = []

    async def on_main():
        await g.call("main")
        seen.append(g.functions("parse_*"))

    target.load(on_main)
    target.call(1, "main")
    assert seen == [["parse_a", "parse_b"]]
    target.ret(1)


def test_stock_patterns_expand_through_functions(target, monkeypatch):
    import os
    import sys
    stock = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__)))), "groutines", "stock")
    monkeypatch.syspath_prepend(stock)
    sys.modules.pop("_stock", None)
    import _stock
    target.symbols("parse_a", "main", "parse_b")
    target.symbols("malloc", module="libc.so.6")
    assert _stock.functions_matching(["parse_*", "main", "parse_a"]) == [
        "parse_a", "parse_b", "main"]
    assert _stock.functions_matching(["m*"], ["libc.so.6"]) == ["malloc"]
    assert _stock.functions_matching(["nothing_*"]) == []


def test_a_python_backend_answers_functions():
    t = PureTarget()
    try:
        t.backend.symbols = {"": ["parse_x", "main"], "libc.so.6": ["puts"]}
        assert g.functions("parse_*") == ["parse_x"]
        assert g.functions("p*", ["libc.so.6"]) == ["puts"]
        t.backend.fail_on = "functions"
        with pytest.raises(g.Error, match=r"Backend\.functions\(\): .*functions refused"):
            g.functions("parse_*")
    finally:
        t.close()


def test_functions_outside_a_groutine_without_a_target_is_an_error():
    with pytest.raises(g.Error, match=r"functions\('parse_\*'\) outside a groutine needs"):
        g.functions("parse_*")
