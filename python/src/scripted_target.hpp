#pragma once
// ScriptedTarget: a scripted stand-in for a debugger and its target, so that groutine scripts
// are unit-tested with pytest in a plain python3 (groutines.testing.Target). The "target" has
// threads with call stacks: call() enters a function on a thread (reported when hooked; skipped
// when a groutine forces a return), ret() returns from a thread's innermost frame (reported
// when watched), unwind() pops frames without returning. Modelled on tests/core/fake_backend.hpp.
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "groutines/backend.hpp"
#include "groutines/runtime.hpp"
#include "libraries.hpp"

namespace groutines::python {

// ScriptedFrame is one frame of a scripted thread: what a call passed, what it returned.
struct ScriptedFrame final : Frame {
  std::uint64_t thread = 0;
  std::string function;
  std::vector<std::uint64_t> ints;
  std::vector<double> floats;
  std::vector<Argument> named;
  std::map<std::string, std::uint64_t, std::less<>> registers;  // overrides
  std::optional<CallId> watched_call;  // set by watch_return
  std::uint64_t return_int = 0;
  double return_float = 0;
  bool float_result = false;  // ret() was given a float: the function returns a floating type
  std::vector<std::string> stack;  // the thread's functions, innermost first (for backtrace)
  const std::map<std::uint64_t, std::vector<std::uint8_t>>* memory = nullptr;

  std::uint64_t int_argument(unsigned index) override;
  double float_argument(unsigned index) override;
  std::vector<Argument> arguments() override { return named; }
  std::uint64_t register_value(std::string_view name) override;
  std::vector<std::uint8_t> read_memory(std::uint64_t address, std::size_t size) override;
  std::string read_cstring(std::uint64_t address, std::size_t max_size) override;
  std::vector<StackFrame> backtrace(std::size_t max_frames) override;
  std::uint64_t int_return_value() override { return return_int; }
  double float_return_value() override { return return_float; }
  bool returns_float() override { return float_result; }
};

class ScriptedTarget final : public Backend {
 public:
  ScriptedTarget();
  ~ScriptedTarget() override;
  ScriptedTarget(const ScriptedTarget&) = delete;
  ScriptedTarget& operator=(const ScriptedTarget&) = delete;

  // runtime() is the target's runtime. It outlives close() (empty), so that a Python
  // reference to it stays safe for as long as the target object lives.
  Runtime& runtime() noexcept { return *runtime_; }
  // closed() tells whether close() ran.
  bool closed() const noexcept { return closed_; }
  // load_library() loads the groutines of the C++ groutine library at path; their ids.
  std::vector<GroutineId> load_library(const std::string& path);
  // close() unloads every groutine (newest first) and closes the C++ groutine libraries; the
  // target then refuses events. It stops
  // being the default runtime first (under the GIL when called from Python: see module.cpp).
  void close();
  // leave_default() makes its runtime no longer the default one, if it was.
  void leave_default() noexcept;

  // call() enters function on thread. Returns the forced value when a groutine skipped it
  // (the frame is then popped at once: the function "returned" without running).
  std::optional<Value> call(std::uint64_t thread, const std::string& function,
                            std::vector<std::uint64_t> ints, std::vector<double> floats,
                            std::vector<Argument> named,
                            std::map<std::string, std::uint64_t, std::less<>> registers);
  // ret() returns value (an int, or a float for a floating return) from thread's innermost
  // frame; returns what the caller sees.
  Value ret(std::uint64_t thread, const Value& value);
  // unwind() pops n frames of thread without returning (longjmp, exception).
  void unwind(std::uint64_t thread, unsigned n);
  // write_memory() makes bytes readable at address (Call.read_memory, read_cstring).
  void write_memory(std::uint64_t address, std::vector<std::uint8_t> bytes);
  // declare_symbols() adds names to the code symbols of module ("" is the main executable),
  // for functions().
  void declare_symbols(const std::string& module, const std::vector<std::string>& names);
  // depth() is the number of frames on thread's stack.
  std::size_t depth(std::uint64_t thread) const;
  // hooked() lists the functions hooked now.
  std::vector<std::string> hooked() const;
  // watched() counts the returns being watched now.
  unsigned watched() const noexcept { return watched_now_; }

  std::vector<std::string> journal;  // install/remove/watch/unwatch requests, in order
  std::vector<std::string> stops;    // "groutine: reason"
  std::vector<std::string> logs;     // "groutine: message"

  // --- Backend ---
  void install_call_hook(FunctionId id, std::string_view function) noexcept override;
  void remove_call_hook(FunctionId id) noexcept override;
  void watch_return(CallId call, FunctionId function_id, std::string_view function,
                    Frame& frame) noexcept override;
  void unwatch_return(CallId call) noexcept override;
  void request_stop(const Groutine& by, std::string_view reason) override;
  void log(const Groutine& by, std::string_view message) override;
  // functions() matches the declared symbols (declare_symbols()); Error for a module that has
  // none declared.
  std::vector<std::string> functions(std::string_view pattern,
                                     const std::vector<std::string>& modules) override;

 private:
  std::deque<std::unique_ptr<ScriptedFrame>>& stack(std::uint64_t thread);
  // open_runtime() is the runtime, or Error when the target is closed.
  Runtime& open_runtime();

  std::map<FunctionId, std::string> hooks_;
  std::map<std::uint64_t, std::deque<std::unique_ptr<ScriptedFrame>>> stacks_;
  std::map<std::uint64_t, std::vector<std::uint8_t>> memory_;
  std::map<std::string, std::vector<std::string>> symbols_;  // by module, "" the executable
  unsigned watched_now_ = 0;
  bool closed_ = false;
  GroutineLibraries libraries_;   // destroyed after the runtime: its groutines run their code
  std::unique_ptr<Runtime> runtime_;
};

}  // namespace groutines::python
