// heap (C++): the stock heap groutine written with the C++ API. Follows malloc, calloc,
// realloc and free from the start (or from the first call of GROUTINES_HEAP_START); a double
// free or a free of a pointer never allocated is a failure recorded with
// Runtime::record_failure (the groutine goes on); blocks still allocated when the runner fires
// `exit` are leaks, one failure each, with their allocation backtrace, except the stdio
// buffers and what shared libraries' initialisers allocate before main (_dl_init). Options as
// the Python version: GROUTINES_HEAP_START, GROUTINES_HEAP_FRAMES, GROUTINES_HEAP_MAX_LEAKS
// (see docs/stock.md); a bad value fails the groutine as it starts (a load error of
// `groutines run`, naming the option).
//
//   groutines run stock:cpp/heap -- ./program
//
// One groutine, heap, spawns a child per function, which spawns a child per call (all named
// heap): that child awaits the call's return while its parent takes the next call, so calls
// that overlap (recursion, threads) are all followed.
#include <groutines/groutines.hpp>

#include <cstdio>
#include <cstdlib>
#include <map>
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

const auto kFrames = static_cast<std::size_t>(options().count("frames", 8, 1));
const auto kMaxLeaks = static_cast<std::size_t>(options().count("max_leaks", 10, 0));
// kStart is the function from whose first call on the allocator is followed ("": the start).
const std::string kStart = options().text("start");

std::string hex(std::uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%#llx", static_cast<unsigned long long>(v));
  return buf;
}

// HEAP_PROBLEM(message) records a failure of the running groutine, which goes on (GROUTINE_CHECK_MSG
// without an expression to show: the message says it all).
#define HEAP_PROBLEM(message) GROUTINE_ADD_FAILURE(message)

// chain() renders a call stack (without its innermost frame, the allocator) on one line, each
// frame as "function at file:line".
std::string chain(const std::vector<groutines::StackFrame>& stack) {
  std::string out;
  for (std::size_t i = 1; i < stack.size(); ++i) {
    const groutines::StackFrame& f = stack[i];
    std::string shown = f.function.empty() ? "??" : f.function;
    if (!f.file.empty()) shown += " at " + f.file + ":" + std::to_string(f.line);
    out += (out.empty() ? "" : " <- ") + shown;
  }
  return out;
}

struct Block {
  std::uint64_t size;
  std::string how;
  std::string where;
};

// The heap as seen so far: live blocks, and freed ones (for double frees).
std::map<std::uint64_t, Block> live;
std::map<std::uint64_t, std::string> freed;  // address -> where it was freed

void allocated(std::uint64_t address, Block block) {
  if (address == 0) return;
  freed.erase(address);
  live[address] = std::move(block);
}

void release(std::uint64_t address, const std::string& what, const Call& call) {
  auto it = live.find(address);
  if (it != live.end()) {
    live.erase(it);
    freed[address] = chain(call.stack(kFrames + 1));
    return;
  }
  auto f = freed.find(address);
  if (f != freed.end())
    HEAP_PROBLEM("double " + what + " of " + hex(address) + "; first freed at " +
                                  f->second + "; again at " + chain(call.stack(kFrames + 1)));
  else
    HEAP_PROBLEM(what + " of " + hex(address) + ", which was never allocated, at " +
                                  chain(call.stack(kFrames + 1)));
}

// handle() follows one call of function, on a child of its own: it may wait for the return.
void handle(const std::string& function, const Call& c) {
  if (function == "free") {
    if (c.arg(0) != 0) release(c.arg(0), "free", c);
    return;
  }
  std::uint64_t a0 = c.arg(0), a1 = c.arg(1);
  std::string where = chain(c.stack(kFrames + 1));
  if (function == "realloc" && a0 != 0 && !live.count(a0)) release(a0, "realloc", c);
  Return r = c.returned();
  if (r.unwound()) return;
  auto address = static_cast<std::uint64_t>(r.value());
  if (function == "malloc") {
    allocated(address, Block{a0, "malloc(" + std::to_string(a0) + ")", where});
  } else if (function == "calloc") {
    allocated(address, Block{a0 * a1, "calloc(" + std::to_string(a0) + ", " +
                                          std::to_string(a1) + ")", where});
  } else if (address != 0 || a1 == 0) {  // realloc that did not fail
    if (a0 != 0) live.erase(a0);
    allocated(address, Block{a1, "realloc(" + hex(a0) + ", " + std::to_string(a1) + ")", where});
  }
}

// follow() takes every call of function, each to a child of its own.
void follow(const std::string& function) {
  for (Call c : calls(function)) spawn("heap", [function, c] { handle(function, c); });
}

}  // namespace

GROUTINE("heap") {
  if (!options().error().empty()) GROUTINE_FAIL(options().error());
  if (!kStart.empty()) wait_call(kStart);
  for (const char* function : {"malloc", "calloc", "realloc", "free"})
    spawn("heap", [function] { follow(function); });
  CustomEvent end = wait_event("exit");
  const Value* signal = find(end.data(), "signal");
  if (signal && std::holds_alternative<std::string>(*signal) &&
      !std::get<std::string>(*signal).empty())
    return;  // a crashed program did not get to free its memory
  std::size_t shown = 0;
  for (const auto& [address, block] : live) {
    if (block.where.find("_IO_file_doallocate") != std::string::npos ||  // a stdio buffer
        block.where.find("_dl_init") != std::string::npos)  // a library's, before main
      continue;
    if (++shown > kMaxLeaks) break;
    HEAP_PROBLEM("leak: " + std::to_string(block.size) + " bytes at " + hex(address) +
                                  " from " + block.how + " at " + block.where);
  }
}
