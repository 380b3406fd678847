// watch: groutines configured from the prompt with custom events, for any function.
//
// "watch-a" and "watch-b" wait for `watch slot=a function=F [args=N]`, then log every call of
// F with its first N integer arguments (default 1) and how it ended:
//   [watch-a] risky(0)=1 thread 1234
//   [watch-a] risky(1) unwound thread 1234
// "stop-at" waits for `stop-at function=F arg0=V` (or `after=N`), then stops the target at the
// first call of F whose first argument is V (or at its Nth call), with a reason, and logs the
// next call after that.
#include <groutines/groutines.hpp>

#include <string>

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

void watch(const char* slot) {
  groutines::CustomEvent ev = groutines::wait_event(
      "watch", [slot](const groutines::CustomEvent& e) {
        const groutines::Value* s = groutines::find(e.data(), "slot");
        return s && groutines::to_string(*s) == "\"" + std::string(slot) + "\"";
      });
  std::string function = string_field(ev, "function");
  auto arity = static_cast<unsigned>(int_field(ev, "args", 1));
  ev.reply("watching " + function);
  for (groutines::Call call : groutines::calls(function)) {
    std::string text = function + "(";
    for (unsigned i = 0; i < arity; ++i)
      text += (i ? "," : "") + std::to_string(static_cast<std::int32_t>(call.arg(i)));
    text += ")";
    std::uint64_t thread = call.thread_id();
    groutines::Return r = call.returned();
    GROUTINE_CHECK_EQ(r.thread_id(), thread);
    if (r.unwound())
      text += " unwound";
    else
      text += "=" + std::to_string(static_cast<std::int32_t>(r.value()));
    groutines::log(text + " thread " + std::to_string(thread));
  }
}

}  // namespace

GROUTINE("watch-a") { watch("a"); }
GROUTINE("watch-b") { watch("b"); }

GROUTINE("stop-at") {
  groutines::CustomEvent ev = groutines::wait_event("stop-at");
  std::string function = string_field(ev, "function");
  std::int64_t value = int_field(ev, "arg0", 0);
  std::int64_t after = int_field(ev, "after", 0);
  if (after > 0) {
    ev.reply("stopping at call " + std::to_string(after) + " of " + function);
    for (std::int64_t i = 1; i < after; ++i) groutines::wait_call(function);
    groutines::Call hit = groutines::wait_call(function);
    groutines::stop(function + " called " + std::to_string(after) + " times, the last on thread " +
                    std::to_string(hit.thread_id()));
  } else {
    ev.reply("stopping at " + function + "(" + std::to_string(value) + ")");
    groutines::Call hit = groutines::wait_call(function, [value](const groutines::Call& c) {
      return static_cast<std::int32_t>(c.arg(0)) == value;
    });
    groutines::stop(function + " called with " + std::to_string(value) + " on thread " +
                    std::to_string(hit.thread_id()));
  }
  groutines::Call next = groutines::wait_call(function);
  groutines::log("after the stop: " + function + "(" +
                 std::to_string(static_cast<std::int32_t>(next.arg(0))) + ")");
}
