"""heap: the malloc family and C++ new/delete followed call by call, and memcheck's leak
kinds at exit.

Followed: malloc, calloc, realloc (realloc(NULL, n) allocates, realloc(p, 0) frees),
reallocarray, free, posix_memalign, aligned_alloc, memalign, valloc, pvalloc, and every
operator new and delete (plain, [], nothrow, sized, aligned: their mangled names). glibc's
strdup and strndup allocate with malloc, which is followed. A call made inside another
(operator new's malloc, realloc(p, 0)'s free, sized delete's delete and free) is the outer
call's: one block, one release.

Fails (a failure of the child following that call; the others go on) on a double free (with
where it was first freed and allocated), on a free of a pointer that was never allocated, and
on a mismatched release (a block from new[] freed with delete or free(), one from malloc
released with delete...).

Leaks, as Valgrind's memcheck defines them: when the program calls _exit (after its atexit
handlers and destructors, with its memory still there), the target's roots are scanned for
pointers to the blocks still allocated: its writable memory that is not glibc malloc's (the
data and bss of every module, other mappings the program made; not the brk heap, mmapped
chunks, thread arenas' heaps), each thread's stack from its stack pointer to the top, and its
registers; then the blocks reached, in turn. A block pointed
to at its start from a root or a reached block is still reachable; one pointed to only in its
middle is possibly lost (and what it points to); one not pointed to is definitely lost, and the
blocks reached only from definitely lost ones are indirectly lost. The summary and the loss
records (the blocks of one kind allocated at one stack: their count and bytes, biggest first)
are logged; the groutine fails when there are blocks of the kinds heap.errors_for names.
Leaks are not checked when the target crashed or timed out, or never called _exit.

A program that execs another (env, a shell's last command) leaves the heap of the one it
started: an execve that does not return ends the image's heap (one that fails, as execvp's
tries along PATH, changes nothing).

Followed from the start, every allocation is seen (those before main included). Loaded into a
process that already allocated (attached to, or heap.start=FUNCTION), the blocks allocated
before are unknown: their frees are counted, not errors, and the allocator's memory is scanned
as a root (a pointer kept only in an unknown block is not missed; a block it points to is
still reachable).

Options (groutines run --set heap.KEY=VALUE, or GROUTINES_HEAP_KEY; another heap.KEY is a
load error naming it):
  heap.start=            follow the allocator from the first call of this function on
                         (`--set heap.start=main`); empty (the default): from the very start
  heap.frames=8          frames kept per allocation backtrace
  heap.errors_for=definite,indirect   leak kinds that fail (memcheck's
                         --errors-for-leak-kinds): definite, indirect, possible, reachable,
                         all or none
  heap.show=definite,possible   leak kinds whose loss records are logged (memcheck's
                         --show-leak-kinds)
  heap.max_leaks=10      loss records logged, and named in the failure
  heap.ignore=           comma list of function names: blocks whose allocation backtrace
                         contains one of them are left out of the leak check

    groutines run stock:heap -- ./program
"""
import bisect
import os

import groutines as g

import _stock

_stock.check_options("heap", ["start", "frames", "errors_for", "show", "max_leaks", "ignore"])
START = os.environ.get("GROUTINES_HEAP_START", "")  # empty: from the start
FRAMES = _stock.option("heap", "frames", 8, int)
MAX_LEAKS = _stock.option("heap", "max_leaks", 10, int)
IGNORE = _stock.option("heap", "ignore", [], list)

KINDS = ("definite", "indirect", "possible", "reachable")
KIND_TEXT = {"definite": "definitely lost", "indirect": "indirectly lost",
             "possible": "possibly lost", "reachable": "still reachable"}


def _kinds(key, default):
    names = _stock.option("heap", key, default, list)
    out = set()
    for name in names:
        if name == "all":
            out.update(KINDS)
        elif name in KINDS:
            out.add(name)
        elif name != "none":
            raise ValueError(f"stock heap: --set heap.{key}={','.join(names)}: '{name}' is "
                             f"not a leak kind (definite, indirect, possible, reachable, "
                             f"all, none)")
    return out


ERRORS_FOR = _kinds("errors_for", ["definite", "indirect"])
SHOW = _kinds("show", ["definite", "possible"])

# Families: what a block was allocated with, and what releases it.
MALLOC, NEW, NEW_ARRAY = "malloc", "new", "new[]"
RELEASER = {MALLOC: "free()", NEW: "delete", NEW_ARRAY: "delete[]"}

# The allocating functions: name -> (family, how the size is read from the call's arguments).
ALLOCATORS = {
    "malloc": (MALLOC, lambda a: a(0)),
    "calloc": (MALLOC, lambda a: a(0) * a(1)),
    "aligned_alloc": (MALLOC, lambda a: a(1)),
    "memalign": (MALLOC, lambda a: a(1)),
    "valloc": (MALLOC, lambda a: a(0)),
    "pvalloc": (MALLOC, lambda a: (a(0) + 4095) & ~4095),
}
for _new, _family in (("_Znwm", NEW), ("_Znam", NEW_ARRAY)):
    for _suffix in ("", "RKSt9nothrow_t", "St11align_val_t", "St11align_val_tRKSt9nothrow_t"):
        ALLOCATORS[_new + _suffix] = (_family, lambda a: a(0))
# The releasing functions: name -> family.
RELEASERS = {"free": MALLOC}
for _delete, _family in (("_ZdlPv", NEW), ("_ZdaPv", NEW_ARRAY)):
    for _suffix in ("", "m", "RKSt9nothrow_t", "St11align_val_t", "mSt11align_val_t",
                    "St11align_val_tRKSt9nothrow_t"):
        RELEASERS[_delete + _suffix] = _family

live = {}    # address -> (size, family, how, backtrace)
freed = {}   # address -> (backtrace of the free, allocation description, its backtrace)
inside = {}  # thread -> allocating calls of it awaiting their return (nested ones are theirs)
releasing = {}  # thread -> the pointer a delete is releasing (its inner delete and free)
state = {"late": None, "unknown_frees": 0, "leaks": None, "no_check": None}
execs = {}  # call id -> thread, of the execve calls that have not returned


def _new_image():
    """_new_image() forgets the heap of a process image an execve replaced: the next one
    starts empty, followed from its start."""
    if execs:
        execs.clear()
        for table in (live, freed, inside, releasing):
            table.clear()
        state.update(late=None, unknown_frees=0)


def _where(bt):
    return _stock.chain(bt, FRAMES)


def _check_start(call):
    """_check_start() decides, at the first call followed, whether blocks may exist that the
    heap did not see allocated: heap.start was given, or the process has a brk heap."""
    if state["late"] is None:
        try:
            regions = call.memory_regions()
        except g.Error:
            regions = []
        state["late"] = bool(START) or any(r.path == "[heap]" for r in regions)
        if state["late"]:
            g.log("the blocks allocated before the heap started following are unknown: "
                  "their frees are not checked")


def _allocated(address, size, family, how, bt):
    if address:
        live[address] = (size, family, how, bt)
        freed.pop(address, None)


def _release(address, family, what, bt):
    """_release() forgets address, released by what (of family); AssertionError when it was
    not live (and the heap knows every block), or allocated by another family."""
    if address in live:
        size, allocated_by, how, alloc_bt = live.pop(address)
        freed[address] = (bt, f"{size} bytes from {how}", alloc_bt)
        if allocated_by != family:
            raise AssertionError(f"mismatched {what} of {address:#x} ({size} bytes from {how}, "
                                 f"released with {RELEASER[allocated_by]}) at {_where(bt)}; "
                                 f"allocated at {_where(alloc_bt)}")
        return
    if address in freed:
        first, desc, alloc_bt = freed[address]
        raise AssertionError(f"double {what} of {address:#x} ({desc}); first freed at "
                             f"{_where(first)}; allocated at {_where(alloc_bt)}")
    if state["late"]:
        state["unknown_frees"] += 1
        return
    raise AssertionError(f"{what} of {address:#x}, which was never allocated, at {_where(bt)}")


def _nested(call):
    """_nested() tells a call made inside an allocating call of the same thread."""
    return inside.get(call.thread_id, 0) > 0


async def _awaiting(call):
    """_awaiting() is call's return, counted as an allocating call in progress meanwhile."""
    thread = call.thread_id  # read while the call is current
    inside[thread] = inside.get(thread, 0) + 1
    releasing.pop(thread, None)
    try:
        return await call.returned()
    finally:
        inside[thread] -= 1


async def on_allocate(call):
    function = call.function
    family, size_of = ALLOCATORS[function]
    size, bt = size_of(call.arg), call.stack(FRAMES + 1)[1:]
    ret = await _awaiting(call)
    if not ret.unwound:
        _allocated(ret.value & _stock.MASK64, size, family, f"{function}({size})", bt)


async def on_posix_memalign(call):
    at, size, bt = call.arg(0), call.arg(2), call.stack(FRAMES + 1)[1:]
    ret = await _awaiting(call)
    if ret.unwound or ret.value & 0xffffffff:
        return  # failed: nothing allocated
    address = int.from_bytes(ret.read_memory(at, 8), "little")
    _allocated(address, size, MALLOC, f"posix_memalign({size})", bt)


async def on_realloc(call):
    old, bt, function = call.arg(0), call.stack(FRAMES + 1)[1:], call.function
    if function == "reallocarray":
        n, each = call.arg(1), call.arg(2)
        size, how = n * each, f"reallocarray({old:#x}, {n}, {each})"
    else:
        size, how = call.arg(1), f"realloc({old:#x}, {call.arg(1)})"
    if old and old not in live:
        _release(old, MALLOC, function, bt)  # raises unless an unknown block
    ret = await _awaiting(call)
    new = ret.value & _stock.MASK64
    if ret.unwound or (new == 0 and size != 0):
        return  # failed: the old block is still allocated
    try:
        if old and old in live:
            _release(old, MALLOC, function, bt)  # raises when a new block is realloc'ed
    finally:
        _allocated(new, size, MALLOC, how, bt)  # known even then


async def on_release(call):
    address, thread = call.arg(0), call.thread_id
    if not address:
        return
    if releasing.get(thread) == address:  # the inner delete or free of a delete
        if call.function == "free":
            del releasing[thread]
        return
    if call.function != "free":
        releasing[thread] = address
    _release(address, RELEASERS[call.function], call.function, call.stack(FRAMES + 1)[1:])


async def on_execve(call):
    """on_execve() follows an execve: its return is a failure (the image goes on); a call
    the heap follows on its thread before it returns, or its frame gone, is the new image's
    start."""
    key = call.id
    execs[key] = call.thread_id
    ret = await call.returned()
    if key in execs:  # not already the new image's
        if ret.unwound:
            _new_image()
        else:
            del execs[key]


async def on_exit(call):
    if state["leaks"] is None and state["no_check"] is None:
        try:
            state["leaks"] = _check_leaks(call)
        except g.Error as e:  # a debugger that cannot read the memory map or the threads
            state["no_check"] = str(e)


def _handler(function):
    if function in RELEASERS:
        return on_release
    if function in ("realloc", "reallocarray"):
        return on_realloc
    if function == "posix_memalign":
        return on_posix_memalign
    return on_allocate


HANDLERS = {f: _handler(f) for f in [*ALLOCATORS, "realloc", "reallocarray",
                                     "posix_memalign", *RELEASERS]}


async def _handle(call):
    if call.thread_id in execs.values():
        _new_image()  # its execve never returned: this is the program it started
    if call.function == "execve":
        await on_execve(call)
        return
    if call.function == "_exit":
        await on_exit(call)
        return
    if _nested(call):
        return  # the outer allocating call accounts for it
    _check_start(call)
    await HANDLERS[call.function](call)


# --- The leak check ---

UNREACHED, POSSIBLE, REACHABLE, INDIRECT = 0, 1, 2, 3


class Memory:
    """Memory is the target's readable regions, each read once, whole, on demand."""

    def __init__(self, call, regions):
        self.call = call
        self.regions = [r for r in regions if r.readable]
        self.starts = [r.start for r in self.regions]
        self.data = {}

    def words(self, start, end):
        """words() are the 8-byte words of [start, end) (start aligned up to 8), from the
        region that holds them; empty when none does or it cannot be read."""
        start = (start + 7) & ~7
        i = bisect.bisect_right(self.starts, start) - 1
        if i < 0 or start >= self.regions[i].end:
            return memoryview(b"").cast("Q")
        region = self.regions[i]
        data = self.data.get(region.start)
        if data is None:
            try:
                data = self.call.read_memory(region.start, region.end - region.start)
            except g.Error:
                data = b""
            self.data[region.start] = data
        lo, hi = start - region.start, min(end, region.end) - region.start
        hi = lo + (max(hi - lo, 0) & ~7)
        if hi > len(data):
            return memoryview(b"").cast("Q")
        return memoryview(data)[lo:hi].cast("Q")


def _next_chunk(memory, start, word):
    """_next_chunk() tells an interior pointer to the header of the glibc malloc chunk that
    follows the block at start (its last bytes overlap that header): the allocator's own
    pointer (its arena's top chunk, a bin), not the program's, which memcheck does not see."""
    size = memory.words(start - 8, start)
    return len(size) == 1 and not size[0] & 2 and word == start - 16 + (size[0] & ~7)


HEAP_MAX_SIZE = 64 << 20  # glibc's non-main arenas: heaps aligned to it, heap_info first


def _allocator_ranges(memory, starts):
    """_allocator_ranges() are the address ranges of glibc malloc's memory, sorted: the brk
    heap ([heap]), each mmapped chunk of a block (its size field has IS_MMAPPED), and the heap
    of a thread's arena holding a block (HEAP_MAX_SIZE aligned, its size in its heap_info).
    Not roots: the blocks in them are scanned when reached. (A region /proc/PID/maps shows may
    be several mappings merged: the program's own beside an mmapped chunk.)"""
    ranges = [(r.start, r.end) for r in memory.regions if r.path == "[heap]"]
    brk = list(ranges)
    arenas = set()
    for start in starts:
        if any(lo <= start < hi for lo, hi in brk):
            continue
        size = memory.words(start - 8, start)
        if len(size) != 1:
            continue
        if size[0] & 2:  # IS_MMAPPED: the chunk starts 16 bytes before the block
            ranges.append((start - 16, start - 16 + (size[0] & ~7)))
            continue
        base = start & ~(HEAP_MAX_SIZE - 1)
        if base not in arenas:
            arenas.add(base)
            info = memory.words(base + 16, base + 24)  # heap_info.size
            if len(info) == 1:
                ranges.append((base, base + info[0]))
    return sorted(ranges)


def _less(lo, hi, ranges):
    """_less() are the parts of [lo, hi) outside the sorted ranges."""
    parts = []
    for a, b in ranges:
        if b <= lo or a >= hi:
            continue
        if a > lo:
            parts.append((lo, a))
        lo = max(lo, b)
    if lo < hi:
        parts.append((lo, hi))
    return parts


def _check_leaks(call):
    """_check_leaks() classifies the blocks still allocated as memcheck does, from the target
    stopped in _exit; returns {address: kind, ...} and the indirect bytes of each leader."""
    blocks = sorted((a, v) for a, v in live.items()
                    if not any(f in frame.function for f in IGNORE for frame in v[3]))
    starts = [a for a, _ in blocks]
    ends = [a + v[0] for a, v in blocks]
    states = [UNREACHED] * len(blocks)
    if not blocks:
        return blocks, states, {}
    regions = call.memory_regions()
    threads = call.threads()
    memory = Memory(call, regions)
    low, high = starts[0], max(ends)
    marks = []

    def found(word, definite):
        if not low <= word <= high:
            return
        i = bisect.bisect_right(starts, word) - 1
        if i < 0 or word != starts[i] and (word >= ends[i] or
                                           _next_chunk(memory, starts[i], word)):
            return
        if word == starts[i] and definite:
            if states[i] != REACHABLE:
                states[i] = REACHABLE
                marks.append(i)
        elif states[i] == UNREACHED:
            states[i] = POSSIBLE
            marks.append(i)

    def scan(words, definite):
        for word in words:
            if low <= word <= high:
                found(word, definite)

    # The roots: registers, each thread's stack from its stack pointer up, and the writable
    # regions that are not a stack, less the allocator's memory (followed from the start).
    stacks = set()
    for t in threads:
        for value in t.registers.values():
            found(value, True)
        i = bisect.bisect_right(memory.starts, t.stack_pointer) - 1
        if i >= 0 and t.stack_pointer < memory.regions[i].end:
            stacks.add(memory.regions[i].start)
            scan(memory.words(t.stack_pointer, memory.regions[i].end), True)
    allocators = [] if state["late"] else _allocator_ranges(memory, starts)
    for r in memory.regions:
        if not r.writable or r.start in stacks or r.path.startswith("/dev/") and \
                r.path != "/dev/zero":
            continue
        for lo, hi in _less(r.start, r.end, allocators):
            scan(memory.words(lo, hi), True)
    while marks:
        i = marks.pop()
        scan(memory.words(starts[i], ends[i]), states[i] == REACHABLE)

    # What is left unreached: each block not reached from an earlier one leads a clique of the
    # blocks reached from it, which are indirectly lost (a leader found so is too).
    indirect = {}  # leader -> indirect bytes
    for leader in range(len(blocks)):
        if states[leader] != UNREACHED or leader in indirect:
            continue
        indirect[leader] = 0
        todo = [leader]
        while todo:
            k = todo.pop()
            for word in memory.words(starts[k], ends[k]):
                if not low <= word <= high:
                    continue
                j = bisect.bisect_right(starts, word) - 1
                if j < 0 or j == leader or states[j] != UNREACHED or \
                        (word != starts[j] and word >= ends[j]):
                    continue
                states[j] = INDIRECT
                indirect[leader] += blocks[j][1][0] + indirect.pop(j, 0)
                todo.append(j)
    return blocks, states, indirect


def _report(blocks, states, indirect):
    """_report() logs memcheck's leak summary and loss records, and returns the failure
    message for the kinds in ERRORS_FOR ("" when none)."""
    kind_of = {UNREACHED: "definite", INDIRECT: "indirect", POSSIBLE: "possible",
               REACHABLE: "reachable"}
    totals = {k: [0, 0] for k in KINDS}
    records = {}  # (kind, stack) -> [blocks, bytes, indirect bytes, backtrace]
    for i, (address, (size, family, how, bt)) in enumerate(blocks):
        kind = kind_of[states[i]]
        totals[kind][0] += 1
        totals[kind][1] += size
        key = (kind, tuple((f.function, f.file, f.line, f.pc) for f in bt[:FRAMES]))
        r = records.setdefault(key, [0, 0, 0, bt])
        r[0] += 1
        r[1] += size
        r[2] += indirect.get(i, 0)
    summary = "; ".join(f"{KIND_TEXT[k]}: {totals[k][1]} bytes in {totals[k][0]} blocks"
                        for k in KINDS)
    g.log(f"leak summary: {summary}")
    if state["unknown_frees"]:
        g.log(f"{state['unknown_frees']} frees of blocks allocated before the heap started "
              "following")
    shown = sorted(((r, kind) for (kind, _), r in records.items() if kind in SHOW),
                   key=lambda item: -(item[0][1] + item[0][2]))
    lines = []
    for r, kind in shown[:MAX_LEAKS]:
        count, size, extra, bt = r
        amount = f"{size + extra} ({size} direct, {extra} indirect)" if extra else f"{size}"
        lines.append(f"{amount} bytes in {count} blocks are {KIND_TEXT[kind]}, allocated at "
                     f"{_where(bt)}")
    for line in lines:
        g.log(line)
    if len(shown) > MAX_LEAKS:
        g.log(f"... and {len(shown) - MAX_LEAKS} more loss records")
    failing = [k for k in KINDS if k in ERRORS_FOR and totals[k][0]]
    if not failing:
        return ""
    text = "; ".join(f"{KIND_TEXT[k]}: {totals[k][1]} bytes in {totals[k][0]} blocks"
                     for k in failing)
    named = [line for line, (_, kind) in zip(lines, shown) if kind in ERRORS_FOR]
    return "leak: " + "; ".join([text, *named])


@g.groutine(name="heap")
async def heap():
    if START:
        await g.call(START)
    _stock.follow("heap", [*HANDLERS, "_exit", "execve"], _handle)
    end = await g.event("exit")
    if end.data.get("signal") or end.data.get("timed_out"):
        return  # a crashed or stopped program did not get to free its memory
    if state["leaks"] is None:
        g.log(f"no leak check: {state['no_check'] or 'the program ended without calling _exit'}")
        return
    message = _report(*state["leaks"])
    if message:
        raise AssertionError(message)
