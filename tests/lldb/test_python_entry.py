"""How `groutine load x.py` reaches the groutines Python package: one call of
groutines._host through the Python LLDB embeds, the path passed as data (quotes, blanks and
bytes that are not UTF-8 survive), the reply in memory (no file written anywhere), and the
package found beside the plugin wherever the plugin was put, never in the build tree it was
built in."""
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import DEBUGSERVER, LLDB, PLUGIN, PYTHON_BUILT, PYTHON_PACKAGE, TIMEOUT, Session, \
    target

pytestmark = pytest.mark.skipif(not PYTHON_BUILT, reason="the groutines Python module is not built")

# A script that logs each call of add; its error line is line 7 when RAISE is in it.
SCRIPT = """import groutines as g


@g.groutine
async def adds():
    async for c in g.calls("add"):
        g.log(f"add({c.arg(0)},{c.arg(1)})")
"""


def run_lldb(*commands, plugin=PLUGIN, env=None, wrapper=()):
    """run_lldb() is conftest.lldb() with another plugin, environment or wrapper, and output
    read as os.fsdecode() reads bytes (paths here need not be UTF-8)."""
    args = [*wrapper, LLDB, "--batch", "--no-lldbinit", "-o", f"plugin load {plugin}"]
    for c in commands:
        args += ["-o", c]
    full_env = dict(os.environ, LLDB_DEBUGSERVER_PATH=DEBUGSERVER, **(env or {}))
    try:
        proc = subprocess.run(args, capture_output=True, timeout=TIMEOUT, env=full_env,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"lldb did not finish within {TIMEOUT}s: {commands}\n{e.stdout}")
    output = (proc.stdout + proc.stderr).decode("utf-8", errors="surrogateescape")
    session = Session("lldb", commands, output, proc.returncode)
    assert "PLEASE submit a bug report" not in output, f"lldb crashed:\n{session}"
    return session


def quoted(path):
    """quoted() is path as one LLDB command argument."""
    return '"' + str(path).replace("\\", "\\\\").replace('"', '\\"') + '"'


def escaped(path):
    """escaped() is path as groutines prints it: bytes that are not UTF-8 as \\udcXX."""
    return str(path).encode("utf-8", "backslashreplace").decode()


@pytest.fixture
def odd_dir(tmp_path):
    """odd_dir is a directory whose name has quotes of both kinds, blanks and a byte that is
    not UTF-8 (0xff)."""
    d = tmp_path / os.fsdecode(b"it's a \"dir\" \xff here")
    d.mkdir()
    return d


def test_a_script_at_a_path_with_quotes_blanks_and_non_utf8_bytes_loads_and_runs(odd_dir):
    script = odd_dir / "my adds.py"
    script.write_text(SCRIPT)
    load = f"groutine load {quoted(script)}"
    unload = f"groutine unload {quoted(script)}"
    s = run_lldb(f"file {target('calls_O0')}", load, "run 2", "groutine list", unload)
    assert s.after(load) == (f"loaded 1 groutine from {escaped(script)}\n"
                             f"  1 adds                 waiting on call of add"), s
    assert s.logged("adds") == ["add(0,1)", "add(1,2)"], s
    assert re.search(rf"^1\s+adds\s+waiting on call of add\s+2\s+{re.escape(escaped(script))}$",
                     s.after("groutine list"), re.M), s
    assert s.after(unload) == f"unloaded 1 groutine from {escaped(script)}", s


def test_a_directory_at_an_odd_path_loads_and_unloads_with_its_scripts_modules(odd_dir):
    (odd_dir / "groutine_adds.py").write_text(SCRIPT)
    load, unload = f"groutine load {quoted(odd_dir)}", f"groutine unload {quoted(odd_dir)}"
    modules = ("script import sys; print(sorted(n for n in sys.modules "
               "if n.startswith('groutines.scripts.')))")
    s = run_lldb(f"file {target('calls_O0')}", load, unload, modules)
    assert s.after(load).startswith(
        f"loaded 1 groutine from {escaped(odd_dir / 'groutine_adds.py')}"), s
    assert s.after(unload) == f"unloaded 1 groutine from {escaped(odd_dir)}", s
    assert s.after(modules) == "[]", s


def test_an_error_in_a_script_at_an_odd_path_reaches_the_prompt_with_its_file_and_line(odd_dir):
    script = odd_dir / "broken one.py"
    script.write_text(SCRIPT.replace('g.log(', 'nope(') + "\nraise ValueError(\"bad 'x'\")\n")
    load = f"groutine load {quoted(script)}"
    s = run_lldb(f"file {target('calls_O0')}", load)
    assert s.after(load) == (
        f"error: groutine load: {escaped(script)}:9: ValueError: bad 'x'"), s


# A script that prints at module level, while its groutine starts and as it unloads.
PRINTING = """import sys
import groutines as g

print("module level")
print("to stderr", file=sys.stderr)


@g.groutine
async def adds():
    print("starting", end="")
    try:
        async for c in g.calls("add"):
            pass
    finally:
        print("ending")
"""


def test_what_a_script_prints_while_it_loads_or_unloads_is_the_commands_output(tmp_path):
    script = tmp_path / "printing.py"
    script.write_text(PRINTING)
    broken = tmp_path / "broken.py"
    broken.write_text('print("before the error")\nraise ValueError("bad")\n')
    load, unload = f"groutine load {script}", f"groutine unload {script}"
    load_broken = f"groutine load {broken}"
    s = run_lldb(f"file {target('calls_O0')}", load, unload, load_broken)
    assert s.after(load) == ("module level\nto stderr\nstarting\n"
                             f"loaded 1 groutine from {script}\n"
                             "  1 adds                 waiting on call of add"), s
    assert s.after(unload) == f"ending\nunloaded 1 groutine from {script}", s
    assert s.after(load_broken) == (
        f"before the error\nerror: groutine load: {broken}:2: ValueError: bad"), s
    assert s.output.count("module level") == 1, s


def test_a_load_writes_no_file_in_tmpdir_or_tmp(tmp_path):
    # The reply came back through a file in /tmp before: it was unlinked at once, so only a
    # trace of the system calls sees it.
    strace = shutil.which("strace")
    if not strace:
        pytest.skip("strace is not installed")
    script = tmp_path / "adds.py"
    script.write_text(SCRIPT)
    tmpdir = tmp_path / "tmpdir"
    tmpdir.mkdir()
    trace = tmp_path / "trace.txt"
    load = f"groutine load {script}"
    s = run_lldb(f"file {target('calls_O0')}", load, env={"TMPDIR": str(tmpdir)},
                 wrapper=(strace, "-f", "-qq", "-e", "trace=openat,open,creat",
                          "-o", str(trace)))
    assert s.after(load).startswith(f"loaded 1 groutine from {script}"), s
    assert list(tmpdir.iterdir()) == [], s
    created = [line for line in trace.read_text(errors="replace").splitlines()
               if "O_CREAT" in line and re.search(rf'"({re.escape(str(tmpdir))}|/tmp)/', line)
               and not line.split('"')[1].startswith(str(tmp_path))]
    assert created == [], "\n".join(created)


def place(kind, source, destination):
    """place() puts source at destination, a copy or a symbolic link."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    if kind == "symlink":
        destination.symlink_to(source)
    elif source.is_dir():
        shutil.copytree(source, destination, ignore=shutil.ignore_patterns("__pycache__"))
    else:
        shutil.copy2(source, destination)


# Where a relocated tree puts the plugin and the package: next to each other as in the build
# tree, or as an installation under a prefix.
LAYOUTS = {
    "build": ("lldb_plugin", "python"),
    "installed": ("lib", "share/groutines/python"),
}


@pytest.mark.parametrize("kind", ["copy", "symlink"])
@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_a_plugin_put_elsewhere_finds_the_package_beside_it_not_the_build_trees(
        tmp_path, kind, layout):
    plugin_dir, package_dir = LAYOUTS[layout]
    plugin = tmp_path / plugin_dir / PLUGIN.name
    package = tmp_path / package_dir / "groutines"
    place(kind, PLUGIN, plugin)
    place(kind, PYTHON_PACKAGE, package)
    script = tmp_path / "adds.py"
    script.write_text(SCRIPT)
    load = f"groutine load {script}"
    where = "script import groutines; print(groutines.__file__)"
    s = run_lldb(f"file {target('calls_O0')}", load, where, plugin=plugin)
    assert s.after(load).startswith(f"loaded 1 groutine from {script}"), s
    assert s.after(where) == str(package / "__init__.py"), s


def test_groutines_python_dir_overrides_the_search_and_must_hold_the_package(tmp_path):
    script = tmp_path / "adds.py"
    script.write_text(SCRIPT)
    load = f"groutine load {script}"
    where = "script import groutines; print(groutines.__file__)"
    other = tmp_path / "other"
    place("symlink", PYTHON_PACKAGE, other / "groutines")
    s = run_lldb(f"file {target('calls_O0')}", load, where,
                 env={"GROUTINES_PYTHON_DIR": str(other)})
    assert s.after(where) == str(other / "groutines" / "__init__.py"), s
    empty = tmp_path / "empty"
    empty.mkdir()
    s = run_lldb(f"file {target('calls_O0')}", load, env={"GROUTINES_PYTHON_DIR": str(empty)})
    assert s.after(load) == (
        f"error: groutine load: GROUTINES_PYTHON_DIR is '{empty}', which holds no groutines "
        "Python package (groutines/_host.py)"), s


# A groutines._host whose entry raises an exception whose type's __name__ raises, and whose
# __str__ is Python code (which sees an exception left pending, if one is).
BAD_HOST = '''class NoName(type):
    def __getattribute__(cls, name):
        if name == "__name__":
            raise RuntimeError("no name for you")
        return super().__getattribute__(name)


class Odd(Exception, metaclass=NoName):
    def __str__(self):
        return "the odd message"


def load_command(path):
    raise Odd()
'''


def test_an_exception_whose_type_has_no_name_still_reaches_the_prompt_with_its_message(
        tmp_path):
    package = tmp_path / "fake" / "groutines"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "_host.py").write_text(BAD_HOST)
    script = tmp_path / "adds.py"
    script.write_text(SCRIPT)
    load = f"groutine load {script}"
    s = run_lldb(f"file {target('calls_O0')}", load,
                 env={"GROUTINES_PYTHON_DIR": str(tmp_path / "fake")})
    assert s.after(load) == (
        "error: groutine load: the Python entry point failed: the odd message"), s
