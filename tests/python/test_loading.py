"""Loading groutine scripts: files, directories, reloads, and load errors with file:line."""
import os
import re

import pytest

import groutines as g
from groutines import _host

COUNTER = """
import groutines as g

@g.groutine
async def counter():
    async for c in g.calls("tick"):
        g.log("tick {}")
"""


def test_a_script_loads_every_groutine_it_marks_by_name(target, script):
    path = script("groutine_two.py", """
        import groutines as g

        @g.groutine
        async def first():
            await g.call("f")

        @g.groutine(name="the-second")
        async def second():
            await g.event("e")

        async def not_marked():
            await g.call("f")
    """)
    assert target.load(path) == ["first", "the-second"]
    first = target.groutine("first")
    assert (first.state, first.waiting_on, first.line) == ("waiting", "call of f", 4)
    assert first.source == os.path.realpath(path)
    assert target.groutine("the-second").waiting_on == "event 'e'"


def test_loading_a_script_again_replaces_its_groutines(target, script):
    path = script("groutine_counter.py", COUNTER.format("v1"))
    target.load(path)
    target.call(1, "tick")
    target.ret(1)
    script("groutine_counter.py", COUNTER.format("v2"))
    target.load(path)
    target.call(1, "tick")
    target.ret(1)
    assert target.logs == ["counter: tick v1", "counter: tick v2"]
    assert [x.name for x in target.groutines] == ["counter"]


def test_unloading_a_groutine_runs_its_finally_blocks(target, script):
    path = script("groutine_cleanup.py", """
        import groutines as g

        @g.groutine
        async def cleanup():
            try:
                await g.call("f")
            finally:
                g.log("cleaned up")
    """)
    target.load(path)
    assert target.unload(path) == 1
    assert target.logs == ["cleanup: cleaned up"]
    assert target.groutines == []


def test_a_syntax_error_is_reported_with_file_and_line(target, script):
    path = os.path.realpath(script("groutine_bad.py", """
        import groutines as g

        @g.groutine
        async def broken(:
            pass
    """))
    with pytest.raises(g.LoadError, match="^" + re.escape(path) + r":4: SyntaxError: "):
        target.load(path)
    assert target.groutines == []


def test_an_import_error_is_reported_at_the_import_line(target, script):
    path = os.path.realpath(script("groutine_import.py", """
        import groutines as g
        import no_such_module_here
    """))
    with pytest.raises(g.LoadError, match="^" + re.escape(path) +
                       r":2: ModuleNotFoundError: No module named 'no_such_module_here'$"):
        target.load(path)


def test_an_exception_at_load_is_reported_where_it_was_raised(target, script):
    path = os.path.realpath(script("groutine_raise.py", """
        import groutines as g

        LIMIT = 1 // 0
    """))
    with pytest.raises(g.LoadError, match="^" + re.escape(path) +
                       r":3: ZeroDivisionError: integer division or modulo by zero$"):
        target.load(path)


def test_an_exception_in_a_helper_module_names_the_script_line_and_where_it_was_raised(
        target, script):
    helper = os.path.realpath(script("helper_mod_for_loading.py",
                                     "def f():\n    raise KeyError('k')\n"))
    path = os.path.realpath(script("groutine_uses_helper.py", """
        import helper_mod_for_loading
        helper_mod_for_loading.f()
    """))
    with pytest.raises(g.LoadError, match="^" + re.escape(path) + r":2: KeyError: 'k' \(raised at "
                       + re.escape(helper) + r":2\)$"):
        target.load(path)


def test_a_failed_reload_leaves_what_was_loaded_running(target, script):
    path = script("groutine_counter.py", COUNTER.format("v1"))
    target.load(path)
    script("groutine_counter.py", "import groutines as g\ndef broken(:\n")
    with pytest.raises(g.LoadError, match=r":2: SyntaxError: invalid syntax$"):
        target.load(path)
    target.call(1, "tick")
    assert target.logs == ["counter: tick v1"]


def test_marking_a_plain_function_is_a_load_error_at_its_decorator(target, script):
    path = os.path.realpath(script("groutine_plain.py", """
        import groutines as g

        @g.groutine
        def not_async():
            pass
    """))
    with pytest.raises(g.LoadError, match="^" + re.escape(path) + r":3: TypeError: "
                       r"@groutines\.groutine marks an async def function; 'not_async' is a "
                       r"plain function$"):
        target.load(path)


def test_a_groutine_name_used_twice_in_a_script_is_a_load_error(target, script):
    path = os.path.realpath(script("groutine_twice.py", """
        import groutines as g

        @g.groutine(name="x")
        async def a():
            await g.call("f")

        @g.groutine(name="x")
        async def b():
            await g.call("f")
    """))
    with pytest.raises(g.LoadError, match="^" + re.escape(path) +
                       r":8: groutine name 'x' is used twice in this file \(first at line 4\)$"):
        target.load(path)
    assert target.groutines == []


def test_a_directory_loads_the_scripts_named_like_tests_and_reports_the_bad_ones(
        target, script, tmp_path):
    script("groutine_a.py", COUNTER.format("a"))
    script("sub/net_groutines.py", COUNTER.replace("counter", "net").format("net"))
    script("helpers.py", "raise RuntimeError('never imported')\n")
    bad = os.path.realpath(script("groutine_z.py", "1 +\n"))
    with pytest.raises(g.LoadError) as error:
        target.load(str(tmp_path))
    assert str(error.value) == f"{bad}:1: SyntaxError: invalid syntax"
    a = os.path.realpath(tmp_path / "groutine_a.py")
    net = os.path.realpath(tmp_path / "sub" / "net_groutines.py")
    assert error.value.output == (f"loaded 1 groutine from {a}\n"
                                  f"  1 counter              waiting on call of tick\n"
                                  f"loaded 1 groutine from {net}\n"
                                  f"  2 net                  waiting on call of tick\n")
    assert [x.name for x in target.groutines] == ["counter", "net"]


def test_a_missing_path_is_a_load_error(target):
    with pytest.raises(g.LoadError, match=r"^no such file or directory '/no/such\.py'$"):
        target.load("/no/such.py")


def test_the_plugin_entry_point_loads_into_the_default_runtime_and_returns_the_text(
        target, script):
    path = os.path.realpath(script("groutine_counter.py", COUNTER.format("x")))
    assert _host.load_path(path) == (f"loaded 1 groutine from {path}\n"
                                     f"  1 counter              waiting on call of tick\n")
    assert _host.load_path(path) == (f"loaded 1 groutine from {path}\n"  # a reload
                                     f"  2 counter              waiting on call of tick\n")
    assert [x.id for x in target.groutines] == [2]
    assert _host.unload_path(path) == f"unloaded 1 groutine from {path}\n"
    with pytest.raises(g.LoadError, match=r"^no Python groutines were loaded from "):
        _host.unload_path(path)


def test_the_plugin_command_entry_points_never_raise(target, script):
    path = os.path.realpath(script("groutine_counter.py", COUNTER.format("x")))
    assert _host.load_command(path) == (f"loaded 1 groutine from {path}\n"
                                        f"  1 counter              waiting on call of tick\n", "")
    assert _host.load_command("/no/such.py") == ("", "no such file or directory '/no/such.py'")
    assert _host.unload_command(path) == (f"unloaded 1 groutine from {path}\n", "")


def test_the_plugin_entry_point_reports_a_groutine_that_fails_at_start(target, script):
    path = os.path.realpath(script("groutine_early.py", """
        import groutines as g

        @g.groutine
        async def early():
            assert 1 == 2, "not today"
    """))
    assert _host.load_path(path) == (
        f"loaded 1 groutine from {path}\n"
        f"  1 early                failed: {path}:5: AssertionError: not today\n")


def test_the_plugin_entry_point_without_a_runtime_says_what_to_do():
    with pytest.raises(g.LoadError, match=r"^no groutines runtime in this process: load the "
                                          r"groutines LLDB plugin first"):
        _host.load_path("x.py")


def test_a_module_imported_by_a_test_can_be_loaded_as_a_whole(target, script, monkeypatch,
                                                               tmp_path):
    script("my_groutines_mod.py", COUNTER.format("m"))
    monkeypatch.syspath_prepend(str(tmp_path))
    import my_groutines_mod
    assert target.load(my_groutines_mod) == ["counter"]
    assert target.load(my_groutines_mod.counter) == ["counter"]
    assert len(target.groutines) == 2


def test_unloading_a_directory_from_a_delivery_unloads_nothing(target, script, tmp_path):
    script("groutine_a.py", COUNTER.format("a"))
    script("groutine_b.py", f"""
        import groutines as g
        from groutines import _host

        @g.groutine
        async def unloader():
            await g.call("f")
            try:
                _host.unload_path({str(tmp_path)!r})
            except g.LoadError as e:
                g.log(str(e))
            await g.call("f")
    """)
    target.load(str(tmp_path))
    target.call(1, "f")
    assert target.logs == ["unloader: groutine 'unloader' is running: it cannot be unloaded "
                           "from a delivery (nothing was unloaded)"]
    assert [x.name for x in target.groutines] == ["counter", "unloader"]


def test_a_script_without_groutines_is_a_load_error(target, script):
    path = os.path.realpath(script("groutine_empty.py", "import groutines as g\n"))
    with pytest.raises(g.LoadError, match="^" + re.escape(
            f"no groutines in {path} (mark an async def with @groutines.groutine)") + "$"):
        target.load(path)
    assert target.groutines == []


def test_a_module_without_groutines_is_a_load_error(target, script, monkeypatch, tmp_path):
    path = os.path.realpath(script("plain_mod_for_loading.py", "X = 1\n"))
    monkeypatch.syspath_prepend(str(tmp_path))
    import plain_mod_for_loading
    with pytest.raises(g.LoadError, match="^" + re.escape(f"no groutines in {path} ")):
        target.load(plain_mod_for_loading)


def test_a_directory_reports_its_script_without_groutines_and_loads_the_others(
        target, script, tmp_path):
    script("groutine_a.py", COUNTER.format("a"))
    empty = os.path.realpath(script("groutine_empty.py", "# nothing yet\n"))
    with pytest.raises(g.LoadError, match="^" + re.escape(f"no groutines in {empty} ")):
        target.load(str(tmp_path))
    assert [x.name for x in target.groutines] == ["counter"]


def test_each_script_directory_imports_its_own_sibling_modules(target, script, tmp_path):
    for side in ("left", "right"):
        script(f"{side}/helpers.py", f"SIDE = {side!r}\n")
        script(f"{side}/groutine_{side}.py", f"""
            import groutines as g
            import helpers

            @g.groutine(name="{side}")
            async def report():
                await g.event("which")
                g.log(helpers.SIDE)
        """)
    target.load(str(tmp_path / "left"))
    target.load(str(tmp_path / "right"))
    target.load(str(tmp_path / "left" / "groutine_left.py"))  # a reload: still its own
    target.fire("which")
    assert sorted(target.logs) == ["left: left", "right: right"]
