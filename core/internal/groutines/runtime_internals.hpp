#pragma once
// Not an installed header: what the runtime's own API (api.cpp) and its adapters (drivers and
// backends: python/src, lldb_plugin) call, and groutine code must not. CMake target
// groutines::core_internal puts it on the include path of those targets only.
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "groutines/runtime.hpp"

namespace groutines {

// RuntimeInternals reaches Runtime's private entry points; each forwards to the member of the
// same name, whose contract runtime.hpp gives.
class RuntimeInternals {
 public:
  // holds_lock() tells whether the calling thread holds runtime's lock (is delivering).
  static bool holds_lock(const Runtime& runtime) noexcept { return runtime.holds_lock(); }
  // begin_wait() registers groutine's wait and marks it Waiting (a driver's suspend path).
  static void begin_wait(Runtime& runtime, Groutine& groutine, const Wait& wait) {
    runtime.begin_wait(groutine, wait);
  }
  // wait() is a blocking wait for the current groutine.
  static Delivered wait(Runtime& runtime, const Wait& wait) { return runtime.wait(wait); }
  // current_thread() is the target thread of the innermost event being delivered (0: none).
  static std::uint64_t current_thread(const Runtime& runtime) noexcept {
    return runtime.current_thread();
  }
  // is_current() tells whether event seq is still being delivered.
  static bool is_current(const Runtime& runtime, std::uint64_t seq) noexcept {
    return runtime.is_current(seq);
  }
  // outcome_of() is the Outcome being collected for event seq (must be current).
  static Outcome& outcome_of(Runtime& runtime, std::uint64_t seq) {
    return runtime.outcome_of(seq);
  }
  // reply() records the current groutine's reply to custom event seq.
  static void reply(Runtime& runtime, std::uint64_t seq, Value value) {
    runtime.reply(seq, std::move(value));
  }
  // open_stream(), close_stream(), stream_missed(): a groutine's stream of calls of fn.
  static std::uint64_t open_stream(Runtime& runtime, FunctionId fn) {
    return runtime.open_stream(fn);
  }
  static void close_stream(Runtime& runtime, std::uint64_t stream) {
    runtime.close_stream(stream);
  }
  static std::uint64_t stream_missed(const Runtime& runtime, std::uint64_t stream) {
    return runtime.stream_missed(stream);
  }
  // record_failure() adds a non-fatal failure to the current groutine.
  static void record_failure(Runtime& runtime, std::string message, Location where) {
    runtime.record_failure(std::move(message), std::move(where));
  }
  // request_stop() passes a stop request of the current groutine to the backend.
  static void request_stop(Runtime& runtime, std::string_view reason) {
    runtime.request_stop(reason);
  }
  // log() passes a message of the current groutine to the backend.
  static void log(Runtime& runtime, std::string_view message) { runtime.log(message); }
  // describe() renders groutine's current event for a failure or a log line.
  static std::string describe(const Runtime& runtime, const Groutine& groutine) {
    return runtime.describe(groutine);
  }
};

}  // namespace groutines
