// heap (C++): the stock heap groutine written with the C++ API, as groutines/stock/heap.py
// (its docstring says what is followed and checked). Follows the malloc family and every
// operator new/delete from the start (or from the first call of GROUTINES_HEAP_START); a double
// free, a free of a pointer never allocated and a mismatched release are failures recorded with
// GROUTINE_ADD_FAILURE (the groutine goes on). When the program calls _exit, the blocks still
// allocated are classified as memcheck does (definitely, indirectly, possibly lost, still
// reachable) by scanning the roots (writable memory that is not the allocator's, each thread's
// stack from its stack pointer up, registers) and the blocks reached; the summary and the loss
// records are logged, and the kinds of heap.errors_for fail at the runner's `exit` event.
// Options as the Python version: GROUTINES_HEAP_START, _FRAMES, _MAX_LEAKS, _ERRORS_FOR, _SHOW
// (see docs/stock.md); a bad value fails the groutine as it starts (a load error of
// `groutines run`, naming the option).
//
//   groutines run stock:cpp/heap -- ./program
//
// One groutine, heap, spawns a child per function, which spawns a child per call (all named
// heap): that child awaits the call's return while its parent takes the next call, so calls
// that overlap (recursion, threads) are all followed.
#include <groutines/groutines.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "options.hpp"

namespace {

using namespace groutines;

// options() are the heap's options, read as the library loads; a bad one fails heap as it
// starts (a load error of `groutines run`).
stock::Options& options() {
  static stock::Options options("heap");
  return options;
}

// Kind is a leak kind, as memcheck names them.
enum Kind { kDefinite, kIndirect, kPossible, kReachable, kKinds };
const char* const kKindNames[kKinds] = {"definite", "indirect", "possible", "reachable"};
const char* const kKindTexts[kKinds] = {"definitely lost", "indirectly lost", "possibly lost",
                                        "still reachable"};

// kinds() reads option key as a set of leak kinds (a comma list of definite, indirect,
// possible, reachable, all, none), or fallback when unset.
std::set<Kind> kinds(const std::string& key, std::set<Kind> fallback) {
  std::string text = options().text(key);
  if (text.empty()) return fallback;
  std::set<Kind> out;
  std::size_t at = 0;
  while (at <= text.size()) {
    std::size_t comma = std::min(text.find(',', at), text.size());
    std::string name = text.substr(at, comma - at);
    at = comma + 1;
    if (name.empty() || name == "none") continue;
    if (name == "all") {
      for (int k = 0; k < kKinds; ++k) out.insert(static_cast<Kind>(k));
      continue;
    }
    auto found = std::find(std::begin(kKindNames), std::end(kKindNames), name);
    if (found == std::end(kKindNames)) {
      options().fail(options().variable(key) + "='" + text + "': '" + name +
                     "' is not a leak kind (definite, indirect, possible, reachable, all, none)");
      return fallback;
    }
    out.insert(static_cast<Kind>(found - std::begin(kKindNames)));
  }
  return out;
}

const auto kFrames = static_cast<std::size_t>(options().count("frames", 8, 1));
const auto kMaxLeaks = static_cast<std::size_t>(options().count("max_leaks", 10, 0));
// kStart is the function from whose first call on the allocator is followed ("": the start).
const std::string kStart = options().text("start");
const std::set<Kind> kErrorsFor = kinds("errors_for", {kDefinite, kIndirect});
const std::set<Kind> kShow = kinds("show", {kDefinite, kPossible});

std::string hex(std::uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%#llx", static_cast<unsigned long long>(v));
  return buf;
}

// HEAP_PROBLEM(message) records a failure of the running groutine, which goes on.
#define HEAP_PROBLEM(message) GROUTINE_ADD_FAILURE(message)

// chain() renders a call stack (without its innermost frame, the allocator) on one line, each
// frame as "function at file:line".
std::string chain(const std::vector<StackFrame>& stack) {
  std::string out;
  for (std::size_t i = 1; i < stack.size(); ++i) {
    const StackFrame& f = stack[i];
    std::string shown = f.function.empty() ? "??" : f.function;
    if (!f.file.empty()) shown += " at " + f.file + ":" + std::to_string(f.line);
    out += (out.empty() ? "" : " <- ") + shown;
  }
  return out;
}

// Family is what allocated a block, and so what must release it.
enum class Family { Malloc, New, NewArray };
const char* releaser(Family f) {
  return f == Family::Malloc ? "free()" : f == Family::New ? "delete" : "delete[]";
}

// family_of() is the family of an operator new or delete by its mangled name (_Znw, _Zdl:
// New; _Zna, _Zda: NewArray); Malloc for the C functions.
Family family_of(const std::string& function) {
  if (function.rfind("_Znw", 0) == 0 || function.rfind("_Zdl", 0) == 0) return Family::New;
  if (function.rfind("_Zna", 0) == 0 || function.rfind("_Zda", 0) == 0) return Family::NewArray;
  return Family::Malloc;
}

struct Block {
  std::uint64_t size;
  Family family;
  std::string how;
  std::string where;
};

// The heap as seen so far.
std::map<std::uint64_t, Block> live;
std::map<std::uint64_t, std::string> freed;   // address -> where it was freed
std::map<std::uint64_t, int> inside;          // thread -> allocating calls awaiting return
std::map<std::uint64_t, std::uint64_t> releasing;  // thread -> the pointer a delete releases
std::optional<bool> late;  // blocks may exist that were allocated before following began
std::size_t unknown_frees = 0;
std::map<CallId, std::uint64_t> execs;  // execve calls that have not returned -> their thread

// new_image() forgets the heap of a process image an execve replaced: the next one starts
// empty, followed from its start.
void new_image() {
  if (execs.empty()) return;
  execs.clear();
  live.clear();
  freed.clear();
  inside.clear();
  releasing.clear();
  late.reset();
  unknown_frees = 0;
}

// Leaks, classified at _exit.
struct Leaks {
  bool checked = false;
  std::vector<std::pair<std::uint64_t, Block>> blocks;  // by address, as at _exit
  std::vector<Kind> kinds;
  std::map<std::size_t, std::uint64_t> indirect;  // leader -> indirect bytes
  std::string no_check;  // why there is no leak check, when the debugger could not do it
};
Leaks leaks;

void check_start(const Call& c) {
  if (late) return;
  bool brk_heap = false;
  try {
    for (const MemoryRegion& r : c.memory_regions()) brk_heap |= r.path == "[heap]";
  } catch (const Error&) {
  }
  late = !kStart.empty() || brk_heap;
  if (*late)
    log("the blocks allocated before the heap started following are unknown: their frees "
        "are not checked");
}

void allocated(std::uint64_t address, Block block) {
  if (address == 0) return;
  freed.erase(address);
  live[address] = std::move(block);
}

// release() forgets address, released by what (of family) at where (the call's stack).
void release(std::uint64_t address, Family family, const std::string& what,
             const std::string& where) {
  auto it = live.find(address);
  if (it != live.end()) {
    if (it->second.family != family)
      HEAP_PROBLEM("mismatched " + what + " of " + hex(address) + " (" +
                   std::to_string(it->second.size) + " bytes from " + it->second.how +
                   ", released with " + releaser(it->second.family) + ") at " + where +
                   "; allocated at " + it->second.where);
    live.erase(it);
    freed[address] = where;
    return;
  }
  auto f = freed.find(address);
  if (f != freed.end())
    HEAP_PROBLEM("double " + what + " of " + hex(address) + "; first freed at " + f->second +
                 "; again at " + where);
  else if (late.value_or(false))
    ++unknown_frees;
  else
    HEAP_PROBLEM(what + " of " + hex(address) + ", which was never allocated, at " + where);
}

// --- The leak check ---

// Memory is the target's readable regions, each read once, whole, when first needed.
class Memory {
 public:
  Memory(const Call& call, std::vector<MemoryRegion> regions) : call_(call) {
    for (MemoryRegion& r : regions)
      if (r.readable && r.end > r.start) regions_.push_back(std::move(r));
  }
  const std::vector<MemoryRegion>& regions() const { return regions_; }

  // region() is the index of the region holding address, or -1.
  long region(std::uint64_t address) const {
    auto it = std::upper_bound(regions_.begin(), regions_.end(), address,
                               [](std::uint64_t a, const MemoryRegion& r) { return a < r.start; });
    if (it == regions_.begin()) return -1;
    --it;
    return address < it->end ? it - regions_.begin() : -1;
  }

  // scan() calls found(word) for each aligned 8-byte word of [start, end) that can be read.
  template <class Found>
  void scan(std::uint64_t start, std::uint64_t end, Found&& found) {
    start = (start + 7) & ~std::uint64_t{7};
    long i = region(start);
    if (i < 0) return;
    const MemoryRegion& r = regions_[i];
    auto cached = data_.find(r.start);
    if (cached == data_.end()) {
      std::vector<std::uint8_t> bytes;
      try {
        bytes = call_.read_memory(r.start, r.end - r.start);
      } catch (const Error&) {
      }
      cached = data_.emplace(r.start, std::move(bytes)).first;
    }
    const std::vector<std::uint8_t>& bytes = cached->second;
    std::uint64_t lo = start - r.start, hi = std::min(end, r.end) - r.start;
    hi = std::min<std::uint64_t>(hi, bytes.size());
    for (std::uint64_t at = lo; at + 8 <= hi; at += 8) {
      std::uint64_t word;
      std::memcpy(&word, bytes.data() + at, 8);
      found(word);
    }
  }

 private:
  const Call& call_;
  std::vector<MemoryRegion> regions_;
  std::map<std::uint64_t, std::vector<std::uint8_t>> data_;
};

// word() reads the 8 bytes at address into value; false when they cannot be read.
bool word(Memory& memory, std::uint64_t address, std::uint64_t& value) {
  bool read = false;
  memory.scan(address, address + 8, [&](std::uint64_t w) { value = w, read = true; });
  return read;
}

// kHeapMaxSize: glibc's non-main arenas are heaps aligned to it, their heap_info first.
constexpr std::uint64_t kHeapMaxSize = 64 << 20;

// allocator_ranges() are the address ranges of glibc malloc's memory, sorted: the brk heap
// ([heap]), each mmapped chunk of a block (its size field has IS_MMAPPED), and the heap of a
// thread's arena holding a block (kHeapMaxSize aligned, its size in its heap_info). Not roots:
// the blocks in them are scanned when reached. (A region /proc/PID/maps shows may be several
// mappings merged: the program's own beside an mmapped chunk.)
std::vector<std::pair<std::uint64_t, std::uint64_t>> allocator_ranges(
    Memory& memory, const std::vector<std::uint64_t>& starts) {
  std::vector<std::pair<std::uint64_t, std::uint64_t>> ranges, brk;
  for (const MemoryRegion& r : memory.regions())
    if (r.path == "[heap]") brk.emplace_back(r.start, r.end);
  ranges = brk;
  std::set<std::uint64_t> arenas;
  for (std::uint64_t start : starts) {
    bool in_brk = false;
    for (const auto& [lo, hi] : brk) in_brk |= lo <= start && start < hi;
    std::uint64_t size = 0;
    if (in_brk || !word(memory, start - 8, size)) continue;
    if (size & 2) {  // IS_MMAPPED: the chunk starts 16 bytes before the block
      ranges.emplace_back(start - 16, start - 16 + (size & ~std::uint64_t{7}));
      continue;
    }
    std::uint64_t base = start & ~(kHeapMaxSize - 1), heap_size = 0;
    if (arenas.insert(base).second && word(memory, base + 16, heap_size))  // heap_info.size
      ranges.emplace_back(base, base + heap_size);
  }
  std::sort(ranges.begin(), ranges.end());
  return ranges;
}

// check_leaks() classifies the blocks still allocated, from the target stopped in _exit, and
// sets leaks.checked; throws Error when the debugger cannot read the memory map or threads.
void check_leaks(const Call& c) {
  for (const auto& [address, block] : live) leaks.blocks.emplace_back(address, block);
  const auto& blocks = leaks.blocks;
  const std::size_t n = blocks.size();
  enum State { Unreached, Possible, Reachable, Indirect };
  std::vector<State> state(n, Unreached);
  if (n == 0) {
    leaks.checked = true;
    return;
  }
  std::vector<std::uint64_t> starts(n), ends(n);
  for (std::size_t i = 0; i < n; ++i) {
    starts[i] = blocks[i].first;
    ends[i] = blocks[i].first + blocks[i].second.size;
  }
  const std::uint64_t low = starts.front(), high = *std::max_element(ends.begin(), ends.end());
  Memory memory(c, c.memory_regions());
  // next_chunk() tells an interior pointer to the header of the glibc malloc chunk that
  // follows block i (its last bytes overlap that header): the allocator's own pointer (its
  // arena's top chunk, a bin), not the program's, which memcheck does not see.
  auto next_chunk = [&](std::size_t i, std::uint64_t word) {
    std::uint64_t size = 0;
    bool read = false;
    memory.scan(starts[i] - 8, starts[i], [&](std::uint64_t w) { size = w, read = true; });
    return read && !(size & 2) && word == starts[i] - 16 + (size & ~std::uint64_t{7});
  };
  // block() is the index of the block word points to (its start or inside it), or -1.
  auto block = [&](std::uint64_t word) -> long {
    if (word < low || word > high) return -1;
    auto it = std::upper_bound(starts.begin(), starts.end(), word);
    if (it == starts.begin()) return -1;
    long i = (it - starts.begin()) - 1;
    if (word == starts[i]) return i;
    return word < ends[i] && !next_chunk(i, word) ? i : -1;
  };
  std::vector<std::size_t> marks;
  auto found = [&](std::uint64_t word, bool definite) {
    long i = block(word);
    if (i < 0) return;
    if (word == starts[i] && definite) {
      if (state[i] != Reachable) state[i] = Reachable, marks.push_back(i);
    } else if (state[i] == Unreached) {
      state[i] = Possible, marks.push_back(i);
    }
  };
  std::set<std::uint64_t> stacks;
  // The roots: registers, each thread's stack from its stack pointer up, and the writable
  // regions that are not a stack, less the allocator's memory (followed from the start).
  for (const ThreadState& t : c.threads()) {
    for (const auto& [name, value] : t.registers) found(value, true);
    long r = memory.region(t.stack_pointer);
    if (r < 0) continue;
    stacks.insert(memory.regions()[r].start);
    memory.scan(t.stack_pointer, memory.regions()[r].end,
                [&](std::uint64_t w) { found(w, true); });
  }
  const std::vector<std::pair<std::uint64_t, std::uint64_t>> allocators =
      late.value_or(false) ? std::vector<std::pair<std::uint64_t, std::uint64_t>>{}
                           : allocator_ranges(memory, starts);
  for (const MemoryRegion& r : memory.regions()) {
    if (!r.writable || stacks.count(r.start) ||
        (r.path.rfind("/dev/", 0) == 0 && r.path != "/dev/zero"))
      continue;
    std::uint64_t lo = r.start;  // scan [r.start, r.end) less the allocator's ranges
    for (const auto& [a, b] : allocators) {
      if (b <= lo || a >= r.end) continue;
      if (a > lo) memory.scan(lo, a, [&](std::uint64_t w) { found(w, true); });
      lo = std::max(lo, b);
    }
    if (lo < r.end) memory.scan(lo, r.end, [&](std::uint64_t w) { found(w, true); });
  }
  while (!marks.empty()) {
    std::size_t i = marks.back();
    marks.pop_back();
    bool definite = state[i] == Reachable;
    memory.scan(starts[i], ends[i], [&](std::uint64_t w) { found(w, definite); });
  }
  // Each block left unreached and not reached from an earlier one leads a clique: the blocks
  // reached from it are indirectly lost (an earlier leader among them too).
  for (std::size_t leader = 0; leader < n; ++leader) {
    if (state[leader] != Unreached || leaks.indirect.count(leader)) continue;
    leaks.indirect[leader] = 0;
    std::vector<std::size_t> todo{leader};
    while (!todo.empty()) {
      std::size_t k = todo.back();
      todo.pop_back();
      memory.scan(starts[k], ends[k], [&](std::uint64_t w) {
        long j = block(w);
        if (j < 0 || static_cast<std::size_t>(j) == leader || state[j] != Unreached) return;
        state[j] = Indirect;
        std::uint64_t more = blocks[j].second.size;
        if (auto led = leaks.indirect.find(j); led != leaks.indirect.end()) {
          more += led->second;
          leaks.indirect.erase(led);
        }
        leaks.indirect[leader] += more;
        todo.push_back(j);
      });
    }
  }
  for (State s : state)
    leaks.kinds.push_back(s == Unreached ? kDefinite
                          : s == Indirect ? kIndirect
                          : s == Possible ? kPossible
                                          : kReachable);
  leaks.checked = true;
}

// report() logs the leak summary and the loss records, and records a failure for the kinds
// of heap.errors_for.
void report() {
  std::uint64_t blocks[kKinds] = {}, bytes[kKinds] = {};
  struct Record {
    Kind kind;
    std::uint64_t blocks = 0, bytes = 0, indirect = 0;
    std::string where;
  };
  std::map<std::pair<int, std::string>, Record> records;
  for (std::size_t i = 0; i < leaks.blocks.size(); ++i) {
    const Block& b = leaks.blocks[i].second;
    Kind k = leaks.kinds[i];
    ++blocks[k];
    bytes[k] += b.size;
    Record& r = records[{k, b.where}];
    r.kind = k;
    r.where = b.where;
    ++r.blocks;
    r.bytes += b.size;
    if (auto it = leaks.indirect.find(i); it != leaks.indirect.end()) r.indirect += it->second;
  }
  auto totals = [&](auto wanted) {
    std::string out;
    for (int k = 0; k < kKinds; ++k)
      if (wanted(static_cast<Kind>(k)))
        out += std::string(out.empty() ? "" : "; ") + kKindTexts[k] + ": " +
               std::to_string(bytes[k]) + " bytes in " + std::to_string(blocks[k]) + " blocks";
    return out;
  };
  log("leak summary: " + totals([](Kind) { return true; }));
  if (unknown_frees)
    log(std::to_string(unknown_frees) +
        " frees of blocks allocated before the heap started following");
  std::vector<const Record*> shown;
  for (const auto& [key, r] : records)
    if (kShow.count(r.kind)) shown.push_back(&r);
  std::stable_sort(shown.begin(), shown.end(), [](const Record* a, const Record* b) {
    return a->bytes + a->indirect > b->bytes + b->indirect;
  });
  std::string named;
  for (std::size_t i = 0; i < shown.size() && i < kMaxLeaks; ++i) {
    const Record& r = *shown[i];
    std::string amount = std::to_string(r.bytes + r.indirect);
    if (r.indirect)
      amount += " (" + std::to_string(r.bytes) + " direct, " + std::to_string(r.indirect) +
                " indirect)";
    std::string line = amount + " bytes in " + std::to_string(r.blocks) + " blocks are " +
                       kKindTexts[r.kind] + ", allocated at " + r.where;
    log(line);
    if (kErrorsFor.count(r.kind)) named += "; " + line;
  }
  if (shown.size() > kMaxLeaks)
    log("... and " + std::to_string(shown.size() - kMaxLeaks) + " more loss records");
  std::string failing = totals([&](Kind k) { return kErrorsFor.count(k) && blocks[k] > 0; });
  if (!failing.empty()) HEAP_PROBLEM("leak: " + failing + named);
}

// --- Following the calls ---

// awaiting() is c's return, counted as an allocating call of its thread in progress meanwhile
// (the calls it makes are its own).
Return awaiting(const Call& c) {
  std::uint64_t thread = c.thread_id();
  ++inside[thread];
  releasing.erase(thread);
  struct Done {
    std::uint64_t thread;
    ~Done() { --inside[thread]; }
  } done{thread};
  return c.returned();
}

// handle() follows one call of function, on a child of its own: it may wait for the return.
void handle(const std::string& function, const Call& c) {
  for (const auto& [id, thread] : execs)
    if (thread == c.thread_id()) {
      new_image();  // its execve never returned: this is the program it started
      break;
    }
  if (function == "execve") {
    // A return is a failed execve (the image goes on); a call on its thread before it
    // returns, or its frame gone, is the new image's start.
    const CallId id = c.id();
    execs[id] = c.thread_id();
    Return r = c.returned();
    if (execs.count(id)) {
      if (r.unwound())
        new_image();
      else
        execs.erase(id);
    }
    return;
  }
  if (function == "_exit") {
    if (leaks.checked || !leaks.no_check.empty()) return;  // a second _exit
    try {
      check_leaks(c);
    } catch (const std::exception& e) {  // a debugger that cannot read the memory map...
      leaks = Leaks{};
      leaks.no_check = e.what();
    }
    return;
  }
  if (inside[c.thread_id()] > 0) return;  // the outer allocating call accounts for it
  check_start(c);
  const Family family = family_of(function);
  const bool releases = function == "free" || function.rfind("_Zd", 0) == 0;
  if (releases) {
    std::uint64_t address = c.arg(0);
    if (address == 0) return;
    auto pending = releasing.find(c.thread_id());
    if (pending != releasing.end() && pending->second == address) {
      if (function == "free") releasing.erase(pending);  // a delete's own free
      return;
    }
    if (function != "free") releasing[c.thread_id()] = address;
    release(address, family, function, chain(c.stack(kFrames + 1)));
    return;
  }
  std::string where = chain(c.stack(kFrames + 1));
  if (function == "posix_memalign") {
    std::uint64_t at = c.arg(0), size = c.arg(2);
    Return r = awaiting(c);
    if (r.unwound() || (static_cast<std::uint64_t>(r.value()) & 0xffffffffu) != 0) return;
    std::vector<std::uint8_t> bytes = r.read_memory(at, 8);
    std::uint64_t address = 0;
    std::memcpy(&address, bytes.data(), 8);
    allocated(address,
              Block{size, Family::Malloc, "posix_memalign(" + std::to_string(size) + ")", where});
    return;
  }
  if (function == "realloc" || function == "reallocarray") {
    std::uint64_t old = c.arg(0);
    std::uint64_t size = function == "realloc" ? c.arg(1) : c.arg(1) * c.arg(2);
    if (old != 0 && !live.count(old)) release(old, Family::Malloc, function, where);
    Return r = awaiting(c);
    auto address = static_cast<std::uint64_t>(r.value());
    if (r.unwound() || (address == 0 && size != 0)) return;  // failed: old is still allocated
    if (old != 0 && live.count(old)) release(old, Family::Malloc, function, where);
    allocated(address, Block{size, Family::Malloc,
                             function + "(" + hex(old) + ", " + std::to_string(size) + ")", where});
    return;
  }
  std::uint64_t size = c.arg(0);
  if (function == "calloc") size = c.arg(0) * c.arg(1);
  if (function == "aligned_alloc" || function == "memalign") size = c.arg(1);
  if (function == "pvalloc") size = (size + 4095) & ~std::uint64_t{4095};
  Return r = awaiting(c);
  if (r.unwound()) return;
  allocated(static_cast<std::uint64_t>(r.value()),
            Block{size, family, function + "(" + std::to_string(size) + ")", where});
}

// functions() are the functions followed: the malloc family, operator new and delete in all
// their forms (mangled), _exit and execve.
std::vector<std::string> functions() {
  std::vector<std::string> out = {"malloc",  "calloc", "realloc", "reallocarray",
                                  "free",    "posix_memalign", "aligned_alloc", "memalign",
                                  "valloc",  "pvalloc", "_exit", "execve"};
  for (const char* n : {"_Znwm", "_Znam"})
    for (const char* s : {"", "RKSt9nothrow_t", "St11align_val_t", "St11align_val_tRKSt9nothrow_t"})
      out.push_back(std::string(n) + s);
  for (const char* d : {"_ZdlPv", "_ZdaPv"})
    for (const char* s : {"", "m", "RKSt9nothrow_t", "St11align_val_t", "mSt11align_val_t",
                          "St11align_val_tRKSt9nothrow_t"})
      out.push_back(std::string(d) + s);
  return out;
}

// follow() takes every call of function, each to a child of its own.
void follow(const std::string& function) {
  for (Call c : calls(function)) spawn("heap", [function, c] { handle(function, c); });
}

}  // namespace

GROUTINE("heap") {
  if (!options().error().empty()) GROUTINE_FAIL(options().error());
  if (!kStart.empty()) wait_call(kStart);
  for (const std::string& function : functions())
    spawn("heap", [function] { follow(function); });
  CustomEvent end = wait_event("exit");
  const Value* signal = find(end.data(), "signal");
  if (signal && std::holds_alternative<std::string>(*signal) &&
      !std::get<std::string>(*signal).empty())
    return;  // a crashed program did not get to free its memory
  const Value* timed_out = find(end.data(), "timed_out");
  if (timed_out && std::holds_alternative<bool>(*timed_out) && std::get<bool>(*timed_out))
    return;
  if (!leaks.checked) {
    log("no leak check: " + (leaks.no_check.empty()
                                 ? std::string("the program ended without calling _exit")
                                 : leaks.no_check));
    return;
  }
  report();
}
