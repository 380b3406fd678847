"""The stock heap groutine (groutines/stock/heap.py) on a scripted target, without a debugger:
a call made inside another allocator call is the outer call's (one block, one release), and a
backend that cannot read the memory map gives no leak check rather than a failure. (Against
Valgrind on real programs: tests/run/test_heap.py.)"""
import os
from pathlib import Path

import pytest

HEAP = Path(__file__).resolve().parents[2] / "groutines" / "stock" / "heap.py"
CPP_HEAP = Path(os.environ.get("GROUTINES_EXAMPLES", "")) / "stock" / "libgroutine_stock_heap.so"


def load(target, which):
    if which == "python":
        target.load(HEAP)
    else:
        assert CPP_HEAP.exists(), f"{CPP_HEAP} is not built (GROUTINES_EXAMPLES: build/groutines)"
        target.load_library(CPP_HEAP)


@pytest.mark.parametrize("which", ["python", "cpp"])
def test_new_and_a_sized_delete_with_their_inner_malloc_delete_and_free_are_one_block(
        target, which):
    load(target, which)
    target.call(1, "_Znwm", args=[16])
    target.call(1, "malloc", args=[16])       # operator new's own malloc
    target.ret(1, 0x5000)
    target.ret(1, 0x5000)
    target.call(1, "_ZdlPvm", args=[0x5000, 16])
    target.call(1, "_ZdlPv", args=[0x5000])   # the sized delete's plain delete
    target.call(1, "free", args=[0x5000])     # and its free
    for _ in range(3):
        target.ret(1)
    target.call(1, "realloc", args=[0, 24])   # realloc(NULL, n) allocates, with malloc
    target.call(1, "malloc", args=[24])
    target.ret(1, 0x6000)
    target.ret(1, 0x6000)
    target.call(1, "realloc", args=[0x6000, 0])  # realloc(p, 0) frees, with free
    target.call(1, "free", args=[0x6000])
    target.ret(1)
    target.ret(1, 0)
    target.call(1, "free", args=[0x6000])     # a double free after all
    target.ret(1)
    assert len(target.failures) == 1 and "double free of 0x6000" in target.failures[0], \
        target.report()


@pytest.mark.parametrize("which", ["python", "cpp"])
def test_without_a_memory_map_from_the_backend_there_is_no_leak_check_and_no_failure(
        target, which):
    load(target, which)
    target.call(1, "malloc", args=[40])
    target.ret(1, 0x7000)
    target.call(1, "_exit", args=[0])
    target.fire("exit", status=0, signal="", timed_out=False)
    assert "heap: no leak check: memory_regions: the scripted target has no memory map " \
        "(map_region() declares one)" in target.logs, target.logs
    assert target.passed, target.report()


@pytest.mark.parametrize("which", ["python", "cpp"])
def test_a_failed_execve_keeps_the_heap_and_one_that_replaced_the_program_forgets_it(
        target, which):
    load(target, which)
    target.call(1, "malloc", args=[16])
    target.ret(1, 0x5000)
    target.call(1, "execve", args=[0x100, 0x200, 0x300])
    target.ret(1, -1)                          # ENOENT: the program goes on
    target.call(1, "free", args=[0x5000])      # its block is still known
    target.ret(1)
    target.call(1, "malloc", args=[24])
    target.ret(1, 0x7000)
    target.call(1, "execve", args=[0x100, 0x200, 0x300])
    target.call(1, "free", args=[0x7000])      # the new program's: execve did not return
    target.ret(1)
    assert len(target.failures) == 1 and "free of 0x7000, which was never allocated" in \
        target.failures[0], target.report()
