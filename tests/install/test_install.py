"""The installed tree works on its own: `cmake --install` into a temporary prefix, then, from a
directory outside the checkout, with no build or source path in the environment, the installed
`groutines` command runs the README's tour (`groutines run`, `groutines lldb`), the stock
groutines, and a C++ groutine library built out of tree with find_package(groutines)."""
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

SOURCE = Path(os.environ.get("GROUTINES_SOURCE_DIR", Path(__file__).resolve().parents[2]))
BUILD = Path(os.environ.get("GROUTINES_BUILD_DIR", SOURCE / "build"))
TARGETS = Path(os.environ.get("GROUTINES_TARGETS_DIR", BUILD / "tests" / "targets"))
CMAKE = os.environ.get("GROUTINES_CMAKE", "cmake")

# Every command must end within this many seconds, or the test fails.
TIMEOUT = 120

# A Python groutine that logs where the groutines libraries and the Python package this process
# uses were loaded from (the runner is LLDB's process: /proc/self/maps shows its libraries).
WHERE_FROM = '''
import os

import groutines as g

@g.groutine
async def where_from():
    await g.call("add")
    with open("/proc/self/maps") as f:
        paths = {line.split(None, 5)[5].strip() for line in f if len(line.split(None, 5)) == 6}
    loaded = sorted(p for p in paths if os.path.isfile(p)
                    and ("groutine" in os.path.basename(p) or "_native" in p))
    g.log("loaded: " + " ".join(loaded + [g.__file__]))
'''

# The C++ groutine of README.md, built out of tree against the installed CMake package.
ADD_IS_RIGHT = '''
#include <groutines/groutines.hpp>
using namespace groutines;

GROUTINE("add is right") {
  for (Call call : calls("add")) {
    auto a = static_cast<int>(call.arg(0)), b = static_cast<int>(call.arg(1));
    Return ret = call.returned();                  // the return of THIS call
    GROUTINE_CHECK_EQ(ret.value(), a + b);
  }
}
'''

PROJECT = '''
cmake_minimum_required(VERSION 3.20)
project(add_checks CXX)
find_package(groutines 0.1 REQUIRED)
groutines_add_library(add_checks add_checks.cpp)
'''


class Ran:
    def __init__(self, args, proc):
        self.args, self.code = args, proc.returncode
        self.stdout, self.stderr = proc.stdout, proc.stderr

    def __repr__(self):
        return (f"{' '.join(map(str, self.args))}\nexit {self.code}\n--- stdout\n{self.stdout}"
                f"\n--- stderr\n{self.stderr}")


@pytest.fixture(scope="module")
def prefix(tmp_path_factory):
    """prefix is the build installed into a temporary directory."""
    where = tmp_path_factory.mktemp("prefix")
    proc = subprocess.run([CMAKE, "--install", str(BUILD), "--prefix", str(where)],
                          capture_output=True, text=True, timeout=TIMEOUT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return where


@pytest.fixture
def work(tmp_path):
    """work is a directory outside the checkout holding a copy of the test program."""
    shutil.copy2(TARGETS / "calls_O0_g", tmp_path / "calls_O0_g")
    return tmp_path


def clean_environment(prefix):
    """clean_environment() is the environment of a user who has only the installed tree: PATH
    with PREFIX/bin and the system's directories, no GROUTINES_* variable, no Python or loader
    path, no build or source path anywhere."""
    keep = ("HOME", "LANG", "LC_ALL", "TERM", "USER", "TMPDIR")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env["PATH"] = f"{prefix}/bin:/usr/local/bin:/usr/bin:/bin"
    for value in env.values():
        assert str(SOURCE) not in value and str(BUILD) not in value, env
    return env


def run(prefix, cwd, *args, timeout=TIMEOUT, env=None):
    """run() runs a command with the clean environment (and env) in cwd."""
    args = [str(a) for a in args]
    try:
        proc = subprocess.run(args, capture_output=True, text=True, timeout=timeout, cwd=cwd,
                              env=dict(clean_environment(prefix), **(env or {})),
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"{args} did not end within {timeout}s\n{e.stdout}\n{e.stderr}")
    return Ran(args, proc)


def test_the_installed_tree_finds_its_pieces_by_relative_paths_only(prefix):
    for library in prefix.rglob("*.so"):
        dynamic = subprocess.run(["readelf", "-d", str(library)], capture_output=True,
                                 text=True, check=True).stdout
        for runpath in re.findall(r"R(?:UN)?PATH\)\s+Library r(?:un)?path: \[(.*)\]", dynamic):
            for entry in runpath.split(":"):
                assert entry.startswith("$ORIGIN"), f"{library}: RUNPATH {runpath}"
    texts = [prefix / "bin" / "groutines", *prefix.rglob("*.py"), *prefix.rglob("*.cmake")]
    for text in texts:
        content = text.read_text()
        assert str(BUILD) not in content and str(SOURCE) not in content, text
    assert (prefix / "lib" / "libgroutines_lldb.so").exists()
    assert (prefix / "lib" / "libgroutines_agent.so").exists()
    assert (prefix / "share" / "groutines" / "python" / "groutines" / "_host.py").exists()


def test_groutines_version_and_help_come_from_the_installed_tree(prefix, work):
    r = run(prefix, work, "groutines", "--version")
    assert r.code == 0, r
    assert r.stdout == f"groutines 0.1.0 (installed in {prefix})\n", r
    r = run(prefix, work, "groutines", "--help")
    assert r.code == 0 and "groutines lldb [PROGRAM [ARGS...]]" in r.stderr, r
    r = run(prefix, work, "groutines", "frobnicate")
    assert r.code == 2 and "error: groutines: unknown command 'frobnicate'" in r.stderr, r


def test_groutines_run_runs_the_readme_tour_and_the_stock_groutines_from_the_prefix(prefix, work):
    (work / "where_from.py").write_text(WHERE_FROM)
    tour = prefix / "share" / "groutines" / "examples" / "tour.py"
    r = run(prefix, work, "groutines", "run", tour, "stock:heap", "stock:cpp/heap",
            "where_from.py", "--", "./calls_O0_g", "2")
    assert r.code == 0, r
    assert "[reject_headers] skipping parse_header('XX header 1', 11)" in r.stderr, r
    assert "groutine 'stop_at_bob' stopped the target: greet called with 'bob'" in r.stderr, r
    assert "8 passed, 0 failed, 0 never triggered; calls_O0_g exited with status 0" in r.stderr, r
    assert 'parse_header("XX header 1",11)=-1' in r.stdout, r
    loaded = re.search(r"\[where_from\] loaded: (.*)", r.stderr)
    assert loaded, r
    paths = loaded.group(1).split()
    names = {os.path.basename(p) for p in paths}
    assert {"libgroutines_lldb.so", "libgroutines_core.so", "libgroutine_stock_heap.so",
            "__init__.py"} <= names, paths
    assert any(n.startswith("_native.") for n in names), paths
    for path in paths:
        assert Path(path).resolve().is_relative_to(prefix.resolve()), paths


def test_the_installed_runner_finds_the_plugin_and_stock_beside_its_package_on_its_own(
        prefix, work):
    r = run(prefix, work, "groutines", "run", "--help")
    assert r.code == 0, r
    # argparse wraps the help at blanks and after hyphens: compared without whitespace.
    assert (f"default$GROUTINES_PLUGIN,else{prefix}/lib/libgroutines_lldb.so"
            in "".join(r.stderr.split())), r
    # The package run without the launcher: no --plugin, no stock directory given.
    python = prefix / "share" / "groutines" / "python"
    r = run(prefix, work, "/usr/bin/python3", "-c",
            "import sys; from groutines import run; sys.exit(run.main(sys.argv[1:]))",
            "stock:cpp/heap", "--", "./calls_O0_g", "2", env={"PYTHONPATH": str(python)})
    assert r.code == 0, r
    assert "1 passed, 0 failed, 0 never triggered; calls_O0_g exited with status 0" in r.stderr, r


def test_groutines_lldb_starts_lldb_with_the_plugin_and_its_agent_from_the_prefix(prefix, work):
    tour = prefix / "share" / "groutines" / "examples" / "tour.py"
    r = run(prefix, work, "groutines", "lldb", "-b", "-o", f"groutine load {tour}",
            "-o", "run 2", "-o", "groutine fire how-many", "-o", "groutine transport",
            "-o", "continue", "-o", "groutine report", "--", "./calls_O0_g")
    assert r.code == 0, r
    assert f"(lldb) plugin load {prefix}/lib/libgroutines_lldb.so" in r.stdout, r
    assert f"loaded 5 groutines from {tour}" in r.stdout, r
    assert "reply from counter (#4): 2" in r.stdout, r
    assert f"agent: {prefix}/lib/libgroutines_agent.so" in r.stdout, r
    assert "5 passed, 0 failed" in r.stdout, r


def test_groutines_lldb_preloads_the_agent_from_a_prefix_whose_path_has_a_blank_and_a_colon(
        prefix, work, tmp_path):
    # LD_PRELOAD splits at blanks and colons: the plugin preloads a link to the agent instead.
    # (PATH splits at colons too: the command is run by its path.)
    odd = tmp_path / "my tools:x" / "prefix"
    shutil.copytree(prefix, odd, symlinks=True)
    tour = odd / "share" / "groutines" / "examples" / "tour.py"
    temp = tmp_path / "tmp"
    temp.mkdir()
    # The link an earlier debugger left (it ended with _exit(), as `groutines run` does): its
    # process is gone, so the next debugger that makes a link removes it.
    gone = subprocess.run(["/bin/sh", "-c", "echo $$"], capture_output=True, text=True)
    stale = temp / f"groutines-agent-{int(gone.stdout)}-AbCdEf"
    stale.mkdir()
    (stale / "libgroutines_agent.so").symlink_to(odd / "lib" / "libgroutines_agent.so")
    r = run(odd, work, odd / "bin" / "groutines", "lldb", "-b", "-o", f"groutine load \"{tour}\"",
            "-o", "run 2", "-o", "groutine transport", "-o", "continue",
            "-o", "groutine report", "--", "./calls_O0_g", env={"TMPDIR": str(temp)})
    assert r.code == 0, r
    assert "cannot be preloaded" not in r.stdout + r.stderr, r
    assert f"agent: {odd}/lib/libgroutines_agent.so" in r.stdout, r
    assert re.search(r"process \d+: served by the agent: [1-9]", r.stdout), r
    assert "5 passed, 0 failed" in r.stdout, r
    # The link was made in $TMPDIR and is gone with LLDB, the stale one with it.
    assert not list(temp.iterdir()), list(temp.iterdir())


def test_a_cpp_groutine_library_builds_out_of_tree_with_find_package_and_loads(prefix, work):
    project = work / "add_checks"
    project.mkdir()
    (project / "CMakeLists.txt").write_text(PROJECT)
    (project / "add_checks.cpp").write_text(ADD_IS_RIGHT)
    r = run(prefix, work, CMAKE, "-S", project, "-B", project / "build",
            f"-DCMAKE_PREFIX_PATH={prefix}")
    assert r.code == 0, r
    r = run(prefix, work, CMAKE, "--build", project / "build")
    assert r.code == 0, r
    library = project / "build" / "libadd_checks.so"
    assert library.exists(), r
    r = run(prefix, work, "groutines", "run", library, "--", "./calls_O0_g", "3")
    assert r.code == 0, r
    assert "PASS add is right (passed, 6 events)" in r.stderr, r
    r = run(prefix, work, "groutines", "lldb", "-b", "-o", f"groutine load {library}",
            "-o", "run 1", "-o", "groutine report", "--", "./calls_O0_g")
    assert r.code == 0, r
    assert f"loaded 1 groutine from {library}" in r.stdout, r
    assert "PASS add is right" in r.stdout and "1 passed, 0 failed" in r.stdout, r


def test_groutines_add_library_without_sources_is_a_clear_cmake_error(prefix, work):
    project = work / "no_sources"
    project.mkdir()
    (project / "CMakeLists.txt").write_text(PROJECT.replace(" add_checks.cpp)", ")"))
    r = run(prefix, work, CMAKE, "-S", project, "-B", project / "build",
            f"-DCMAKE_PREFIX_PATH={prefix}")
    assert r.code != 0, r
    assert "groutines_add_library(add_checks): no source files" in r.stderr, r


def test_groutines_gdb_runs_the_tour_in_gdb_or_says_the_frontend_is_not_installed(prefix, work):
    frontend = prefix / "share" / "groutines" / "gdb" / "groutines.py"
    tour = prefix / "share" / "groutines" / "examples" / "tour.py"
    r = run(prefix, work, "groutines", "gdb", "-nx", "-batch", "-ex", f"groutine load {tour}",
            "-ex", "run 2", "-ex", "groutine fire how-many", "-ex", "continue",
            "-ex", "groutine report", "--", "./calls_O0_g")
    if frontend.exists():
        assert r.code == 0, r
        assert "reply from counter (#4): 2" in r.stdout, r
        assert "5 passed, 0 failed" in r.stdout, r
    else:
        assert r.code == 2, r
        assert r.stderr == (f"error: groutines gdb: the GDB frontend is not installed "
                            f"(no {frontend}); groutines lldb works without it\n"), r


# The same command from the checkout: scripts/groutines over the build (tests/run runs its
# `run` through every runner test).
LAUNCHER = SOURCE / "scripts" / "groutines"


def run_checkout(cwd, *args, env=None):
    args = ["/usr/bin/python3", str(LAUNCHER), *map(str, args)]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=TIMEOUT, cwd=cwd,
                          env={**os.environ, "GROUTINES_BUILD_DIR": str(BUILD), **(env or {})},
                          stdin=subprocess.DEVNULL)
    return Ran(args, proc)


def test_scripts_groutines_in_the_checkout_uses_the_build(work):
    r = run_checkout(work, "--version")
    assert r.code == 0, r
    assert r.stdout == f"groutines 0.1.0 (source checkout {SOURCE}, build {BUILD})\n", r
    tour = SOURCE / "groutines" / "examples" / "tour.py"
    r = run_checkout(work, "lldb", "-b", "-o", f"groutine load {tour}", "-o", "run 1",
                     "-o", "groutine report", "--", "./calls_O0_g")
    assert r.code == 0, r
    assert f"(lldb) plugin load {BUILD}/lldb_plugin/libgroutines_lldb.so" in r.stdout, r
    assert "5 passed, 0 failed" in r.stdout, r


def test_scripts_groutines_without_a_build_says_where_it_looked(work):
    missing = work / "no-build"
    r = run_checkout(work, "run", "x.py", "--", "./calls_O0_g",
                     env={"GROUTINES_BUILD_DIR": str(missing)})
    assert r.code == 2, r
    assert r.stderr == (f"error: groutines run: no build at {missing} (cmake --build build first, "
                        f"or set GROUTINES_BUILD_DIR): no groutines Python package in "
                        f"{missing}/python\n"), r
    r = run_checkout(work, "lldb", "./calls_O0_g", env={"GROUTINES_BUILD_DIR": str(missing)})
    assert r.code == 2, r
    assert r.stderr.startswith(f"error: groutines lldb: no build at {missing} "), r
