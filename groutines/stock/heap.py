"""heap: malloc, calloc, realloc and free, followed call by call.

Fails on a free (or realloc) of a pointer that was never allocated, on a double free (with
the backtraces of the allocation and of the first free), and at exit on every block still
allocated (a leak), with the backtrace of its allocation. Leaks are not checked when the
target crashed or timed out.

Options (groutines run --set heap.KEY=VALUE, or GROUTINES_HEAP_KEY):
  heap.start=         follow the allocator from the first call of this function on
                      (`--set heap.start=main`); empty (the default): from the very start
  heap.frames=8       frames kept per allocation backtrace
  heap.max_leaks=10   leaks listed in detail
  heap.ignore=        comma list of function names: allocations whose backtrace contains
                      one of them are not leaks (default: _IO_file_doallocate, the stdio
                      buffer, and _dl_init, what shared libraries' initialisers allocate
                      before main, such as libstdc++'s emergency exception pool)

    groutines run stock:heap -- ./program

Each call is followed by a child groutine of its own (spawn), so calls that overlap in
threads or recursion are all followed; a failure (a double free) is that child's, reported
under heap, and the others go on.
"""
import os

import groutines as g

import _stock

START = os.environ.get("GROUTINES_HEAP_START", "")  # empty: from the start
FRAMES = _stock.option("heap", "frames", 8, int)
MAX_LEAKS = _stock.option("heap", "max_leaks", 10, int)
IGNORE = _stock.option("heap", "ignore", ["_IO_file_doallocate", "_dl_init"], list)

live = {}    # address -> (size, how, backtrace)
freed = {}   # address -> (backtrace of the free, allocation description)


def _where(bt):
    return _stock.chain(bt, FRAMES)


def _allocated(address, size, how, bt):
    if address:
        live[address] = (size, how, bt)
        freed.pop(address, None)


def _release(address, what, bt):
    """_release() forgets address, freed by what; AssertionError when it was not live."""
    if address in live:
        size, how, alloc_bt = live.pop(address)
        freed[address] = (bt, f"{size} bytes from {how}", alloc_bt)
        return
    if address in freed:
        first, desc, alloc_bt = freed[address]
        raise AssertionError(f"double {what} of {address:#x} ({desc}); first freed at "
                             f"{_where(first)}; allocated at {_where(alloc_bt)}")
    raise AssertionError(f"{what} of {address:#x}, which was never allocated")


async def on_malloc(call):
    size, bt = call.arg(0), call.stack(FRAMES + 1)[1:]
    ret = await call.returned()
    if not ret.unwound:
        _allocated(ret.value & _stock.MASK64, size, f"malloc({size})", bt)


async def on_calloc(call):
    n, size, bt = call.arg(0), call.arg(1), call.stack(FRAMES + 1)[1:]
    ret = await call.returned()
    if not ret.unwound:
        _allocated(ret.value & _stock.MASK64, n * size, f"calloc({n}, {size})", bt)


async def on_realloc(call):
    old, size, bt = call.arg(0), call.arg(1), call.stack(FRAMES + 1)[1:]
    if old and old not in live:
        _release(old, "realloc", bt)  # raises: never allocated, or freed
    ret = await call.returned()
    new = ret.value & _stock.MASK64
    if ret.unwound or (new == 0 and size != 0):
        return  # failed: the old block is still allocated
    if old:
        _release(old, "realloc", bt)
    _allocated(new, size, f"realloc({old:#x}, {size})", bt)


async def on_free(call):
    address = call.arg(0)
    if address:
        _release(address, "free", call.stack(FRAMES + 1)[1:])


HANDLERS = {"malloc": on_malloc, "calloc": on_calloc, "realloc": on_realloc, "free": on_free}

async def _handle(call):
    await HANDLERS[call.function](call)


@g.groutine(name="heap")
async def heap():
    if START:
        await g.call(START)
    _stock.follow("heap", HANDLERS, _handle)
    end = await g.event("exit")
    if end.data.get("signal") or end.data.get("timed_out"):
        return  # a crashed or stopped program did not get to free its memory
    leaks = [(a, v) for a, v in live.items()
             if not any(f in frame.function for f in IGNORE for frame in v[2])]
    if not leaks:
        return
    total = sum(size for _, (size, _, _) in leaks)
    text = [f"{len(leaks)} block{'s' if len(leaks) != 1 else ''} ({total} bytes) "
            "still allocated at exit"]
    for address, (size, how, bt) in leaks[:MAX_LEAKS]:
        text.append(f"{size} bytes at {address:#x} from {how} at {_where(bt)}")
    if len(leaks) > MAX_LEAKS:
        text.append(f"... and {len(leaks) - MAX_LEAKS} more")
    raise AssertionError("leak: " + "; ".join(text))
