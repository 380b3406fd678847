"""The stock heap groutine (Python and C++) held to Valgrind's memcheck: the same leak kinds
(definitely and indirectly lost blocks and bytes) on purpose-built programs and on Debian
programs, no failure where memcheck reports no error, the whole malloc family, and
mismatched releases. Each case runs memcheck on the same command for the expected numbers."""
import re
import shutil
import subprocess

import pytest

from conftest import BUILD, SOURCE, TIMEOUT, run, target

HEAPS = ["stock:heap", "stock:cpp/heap"]
KINDS = {"definite": "definitely lost", "indirect": "indirectly lost",
         "possible": "possibly lost", "reachable": "still reachable"}

pytestmark = pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind missing")


def memcheck(*argv):
    """memcheck() runs argv under `valgrind --leak-check=full` and returns its leak summary,
    {kind: (bytes, blocks)}, and its error count."""
    out = subprocess.run(["valgrind", "--leak-check=full", *argv], capture_output=True,
                         text=True, timeout=120, stdin=subprocess.DEVNULL)
    errors = re.search(r"ERROR SUMMARY: ([\d,]+) errors", out.stderr)
    assert errors, out.stderr
    return summary(out.stderr, r"==\d+==\s+"), int(errors[1].replace(",", ""))


def summary(text, prefix):
    """summary() reads a leak summary's kinds from text (0 for the kinds it does not name)."""
    found = {}
    for kind, words in KINDS.items():
        m = re.search(prefix + words + r": ([\d,]+) bytes in ([\d,]+) blocks", text)
        found[kind] = (int(m[1].replace(",", "")), int(m[2].replace(",", ""))) if m else (0, 0)
    return found


def heap(which, *argv, options=()):
    """heap() runs argv under the stock heap `which` and returns the run and its leak summary
    (from the summary it logs)."""
    r = run(*options, which, "--", *argv, timeout=120)
    assert "[heap] leak summary: " in r.stderr, r
    return r, summary(r.stderr, r"(?:\[heap\] leak summary: |; )")


@pytest.mark.parametrize("which", HEAPS)
def test_leak_kinds_are_memchecks_with_loss_records_grouped_by_stack_biggest_first(which):
    expected, errors = memcheck(target("leakkinds"), "kinds")
    assert expected["definite"] == (64, 2) and expected["indirect"] == (48, 2), expected
    r, found = heap(which, target("leakkinds"), "kinds")
    for kind in ("definite", "indirect", "possible"):
        assert found[kind] == expected[kind], (kind, found, expected, r)
    assert r.code == 1 and "FAIL heap" in r.stderr, r
    assert "leak: definitely lost: 64 bytes in 2 blocks; indirectly lost: 48 bytes in 2 " \
        "blocks" in r.stderr, r
    listed = re.findall(r"\[heap\] (\d+)(?: \((\d+) direct, (\d+) indirect\))? bytes in (\d+) "
                        r"blocks are (definitely|possibly) lost, allocated at (\w+)", r.stderr)
    assert listed == [("72", "24", "48", "1", "definitely", "lose_list"),
                      ("64", "", "", "1", "possibly", "keep_inside"),
                      ("40", "", "", "1", "definitely", "lose_one")], r


def test_leak_kinds_are_the_same_on_the_breakpoint_transport():
    # Frame.memory_regions() and Frame.threads() from LLDB's stopped process, not the agent.
    expected, _ = memcheck(target("leakkinds"), "kinds")
    r, found = heap("stock:heap", target("leakkinds"), "kinds",
                    options=("--transport", "breakpoint"))
    for kind in ("definite", "indirect", "possible"):
        assert found[kind] == expected[kind], (kind, found, expected, r)


@pytest.mark.parametrize("which", HEAPS)
def test_which_kinds_fail_and_which_are_listed_are_options(which):
    r, _ = heap(which, target("leakkinds"), "kinds",
                options=("--set", "heap.errors_for=possible", "--set", "heap.show=reachable"))
    assert r.code == 1 and "leak: possibly lost: 64 bytes in 1 blocks" in r.stderr, r
    assert "definitely lost, allocated" not in r.stderr, r
    assert re.search(r"32 bytes in 1 blocks are still reachable, allocated at keep_reachable",
                     r.stderr), r
    r = run("--set", "heap.errors_for=definite,bogus", which, "--", target("leakkinds"), "kinds")
    assert r.code == 2 and "'bogus' is not a leak kind" in r.stderr, r


def test_a_misspelt_option_of_the_python_heap_is_a_load_error_naming_it():
    r = run("--set", "heap.error_for=all", "stock:heap", "--", target("leakkinds"), "kinds")
    assert r.code == 2 and "stock heap: no option heap.error_for (GROUTINES_HEAP_ERROR_FOR)" \
        in r.stderr, r


@pytest.mark.parametrize("which", HEAPS)
def test_the_whole_malloc_family_and_every_new_and_delete_balance(which):
    expected, errors = memcheck(target("leakkinds"), "family")
    assert errors == 0
    r, found = heap(which, target("leakkinds"), "family")
    assert r.code == 0 and "PASS heap" in r.stderr, r
    assert found["definite"] == found["indirect"] == found["possible"] == (0, 0), r


@pytest.mark.parametrize("which", HEAPS)
def test_a_block_from_new_array_released_with_delete_is_a_mismatch(which):
    r = run(which, "--", target("leakkinds"), "mismatch")
    assert r.code == 1, r
    # (delete of an int is the sized operator delete(void*, size_t): _ZdlPvm)
    assert re.search(r"mismatched _ZdlPvm of 0x[0-9a-f]+ \(16 bytes from _Znam\(16\), released "
                     r"with delete\[\]\) at main at leakkinds.cpp:\d+", r.stderr), r


@pytest.mark.parametrize("which", HEAPS)
def test_a_block_held_only_on_another_threads_stack_is_still_reachable(which):
    expected, _ = memcheck(target("leakkinds"), "thread")
    r, found = heap(which, target("leakkinds"), "thread")
    assert found["definite"] == expected["definite"] == (0, 0), (found, r)
    assert r.code == 0 and "PASS heap" in r.stderr and "FAIL" not in r.stderr, r


@pytest.mark.parametrize("which", HEAPS)
def test_frees_of_blocks_allocated_before_following_began_are_not_errors(which):
    r, _ = heap(which, target("leakkinds"), "family", options=("--set", "heap.start=halfway"))
    assert r.code == 0 and "PASS heap" in r.stderr, r
    assert "the blocks allocated before the heap started following are unknown" in r.stderr, r
    assert re.search(r"\[heap\] [1-9]\d* frees of blocks allocated before the heap started "
                     r"following", r.stderr), r


@pytest.mark.parametrize("which", ["heap.py", "libgroutine_stock_heap.so"])
def test_on_attach_the_blocks_allocated_before_are_unknown_and_their_frees_not_errors(which):
    path = SOURCE / "groutines" / "stock" / "heap.py" if which == "heap.py" else \
        BUILD / "groutines" / "stock" / which
    proc = subprocess.Popen([target("leakkinds"), "attach"], stdout=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout.readline() == "ready\n"  # its 3 blocks are allocated
        out = subprocess.run(
            ["lldb-19", "--batch", "--no-lldbinit",
             "-o", f"plugin load {BUILD / 'lldb_plugin' / 'libgroutines_lldb.so'}",
             "-o", f"process attach --pid {proc.pid}", "-o", f"groutine load {path}",
             "-o", "expr go = 1", "-o", "continue", "-o", "groutine fire exit",
             "-o", "groutine report"],
            capture_output=True, text=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL)
    finally:
        proc.kill()
        proc.wait()
    text = out.stdout + out.stderr
    assert "exited with status = 0" in text, text
    assert "the blocks allocated before the heap started following are unknown" in text, text
    assert "3 frees of blocks allocated before the heap started following" in text, text
    assert "PASS heap (finished, 1 event)" in text and "FAIL heap" not in text, text


@pytest.mark.parametrize("which", HEAPS)
def test_heapbugs_leak_is_memchecks(which):
    expected, _ = memcheck(target("heapbugs"), "leak")
    r, found = heap(which, target("heapbugs"), "leak")
    assert found["definite"] == expected["definite"] == (40, 1), (found, r)
    assert r.code == 1, r
    assert re.search(r"40 bytes in 1 blocks are definitely lost, allocated at make_leak at "
                     r"heapbugs.c:14", r.stderr), r
    # The 32 functions it hooks before libc is loaded are one warning, not 32.
    warnings = [line for line in r.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and warnings[0].startswith(
        "warning: 32 functions nothing defines yet (malloc, calloc, "), r


@pytest.mark.parametrize("which", HEAPS)
def test_a_program_that_execs_another_leaves_the_heap_of_the_one_it_started(which):
    # env execs heapbugs: env's blocks went with its image.
    expected, _ = memcheck("--trace-children=yes", "/usr/bin/env", target("heapbugs"), "leak")
    r, found = heap(which, "/usr/bin/env", target("heapbugs"), "leak")
    assert found == expected == {"definite": (40, 1), "indirect": (0, 0), "possible": (0, 0),
                                 "reachable": (0, 0)}, (found, expected, r)
    assert "allocated before the heap started following" not in r.stderr, r


DEBIAN = {
    "ls -l": ["/bin/ls", "-l", "/usr/bin"],
    "sort": ["/usr/bin/sort", "/etc/passwd"],
    "python3 -c pass": ["/usr/bin/python3", "-c", "pass"],
    # Its C extensions' objects are kept in pymalloc's arenas, anonymous mappings the kernel
    # may merge with an mmapped malloc chunk: roots all the same.
    "python3 -c import": ["/usr/bin/python3", "-c", "import json, re, subprocess"],
    # It frees little at exit: 30 blocks definitely lost, 15 indirectly, 700 possibly.
    "perl -e 1": ["/usr/bin/perl", "-e", "1"],
}


@pytest.mark.parametrize("program", DEBIAN)
@pytest.mark.parametrize("which", HEAPS)
def test_debian_programs_lose_what_memcheck_says_and_fail_only_where_it_reports_errors(
        which, program):
    argv = DEBIAN[program]
    expected, errors = memcheck(*argv)
    r, found = heap(which, *argv)
    assert found["definite"] == expected["definite"], (found, expected, r)
    assert found["indirect"] == expected["indirect"], (found, expected, r)
    lost = expected["definite"] != (0, 0) or expected["indirect"] != (0, 0)
    assert r.code == (1 if lost else 0), (expected, errors, r)
