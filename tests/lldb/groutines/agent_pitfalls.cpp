// agent_pitfalls: groutines for tests/lldb/test_agent.py over tests/targets/agent_cases.c. Each
// waits for a custom event from the prompt that says what to do, so that one library serves
// every mode of the target.
//
// "count-0" .. "count-7" wait for `count function=F [threads=N]`. With threads=N > 1, count-T
// (T < N) follows the calls of F whose first argument is T (agent_cases' hot(t, i): one
// worker thread each); with threads=1 (the default) count-0 follows every call of F. Each
// awaits the return of every call it follows and counts calls, returns, unwound calls and
// calls made on another thread than the first, and sums the returned values. At
// `totals`, each replies and logs
//   [count-T] F[T] calls=C returns=R unwound=U moved=M sum=S
// "kick" waits for `kick function=F`, then at each call F(i, &handled, raise_inside) with
// raise_inside == 0 sends SIGALRM to the calling thread (the target's main thread) while that
// call is being handled, so that the signal lands while the thread waits inside the agent, and
// holds the call until the target's handler has counted itself in `handled` (an int the second
// argument points to). It logs
//   [kick] F(i): handled N -> N+1
#include <groutines/groutines.hpp>

#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <string>
#include <thread>

namespace {

std::int64_t int_field(const groutines::CustomEvent& ev, const char* key, std::int64_t fallback) {
  const groutines::Value* v = groutines::find(ev.data(), key);
  if (!v) return fallback;
  if (const auto* i = std::get_if<std::int64_t>(v)) return *i;
  throw groutines::Error(std::string("field ") + key + " must be an integer");
}

std::string string_field(const groutines::CustomEvent& ev, const char* key) {
  const groutines::Value& v = ev.get(key);
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  throw groutines::Error(std::string("field ") + key + " must be a string");
}

void count(std::int64_t index) {
  groutines::CustomEvent ev = groutines::wait_event("count");
  const std::string function = string_field(ev, "function");
  const std::int64_t threads = int_field(ev, "threads", 1);
  if (index >= threads) return;
  ev.reply("counting " + function + "[" + std::to_string(index) + "]");
  std::function<bool(const groutines::Call&)> mine;
  if (threads > 1)
    mine = [index](const groutines::Call& c) { return static_cast<std::int32_t>(c.arg(0)) == index; };
  // Holds F's hook while every counter awaits a return: no call goes by unhooked.
  groutines::Calls hold = groutines::calls(function);
  std::uint64_t thread = 0;
  std::int64_t calls = 0, returns = 0, unwound = 0, moved = 0, sum = 0;
  for (;;) {
    groutines::Occurrence o = groutines::any_of({groutines::on_call(function, mine),
                                                 groutines::on_event("totals")});
    if (o.kind() == groutines::EventKind::Custom) {
      std::string text = function + "[" + std::to_string(index) + "] calls=" +
                         std::to_string(calls) + " returns=" + std::to_string(returns) +
                         " unwound=" + std::to_string(unwound) + " moved=" + std::to_string(moved) +
                         " sum=" + std::to_string(sum);
      groutines::log(text);
      o.custom().reply(text);
      continue;
    }
    groutines::Call c = o.call();
    const std::uint64_t caller = c.thread_id();
    if (thread == 0) thread = caller;
    if (caller != thread) ++moved;
    ++calls;
    groutines::Return r = c.returned();
    GROUTINE_CHECK_EQ(r.thread_id(), caller);
    if (r.unwound()) {
      ++unwound;
    } else {
      ++returns;
      sum += static_cast<std::int32_t>(r.value());
    }
  }
}

}  // namespace

GROUTINE("count-0") { count(0); }
GROUTINE("count-1") { count(1); }
GROUTINE("count-2") { count(2); }
GROUTINE("count-3") { count(3); }
GROUTINE("count-4") { count(4); }
GROUTINE("count-5") { count(5); }
GROUTINE("count-6") { count(6); }
GROUTINE("count-7") { count(7); }

GROUTINE("kick") {
  groutines::CustomEvent ev = groutines::wait_event("kick");
  const std::string function = string_field(ev, "function");
  ev.reply("kicking " + function);
  for (groutines::Call call : groutines::calls(function)) {
    if (call.arg(2) != 0) continue;  // it raises the signal itself
    const auto i = static_cast<std::int32_t>(call.arg(0));
    const std::uint64_t counter = call.arg(1);
    auto handled = [&] {
      std::int32_t v = 0;
      std::vector<std::uint8_t> b = call.read_memory(counter, sizeof v);
      std::memcpy(&v, b.data(), sizeof v);
      return v;
    };
    const std::int32_t before = handled();
    const auto tid = static_cast<pid_t>(call.thread_id());
    // The target's main thread: its tid is the process id.
    GROUTINE_REQUIRE(syscall(SYS_tgkill, tid, tid, SIGALRM) == 0);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    std::int32_t after = before;
    while ((after = handled()) == before) {
      if (std::chrono::steady_clock::now() > deadline)
        GROUTINE_FAIL(function + "(" + std::to_string(i) +
                      "): the target did not handle SIGALRM within 10 s");
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    groutines::log(function + "(" + std::to_string(i) + "): handled " + std::to_string(before) +
                   " -> " + std::to_string(after));
  }
}
