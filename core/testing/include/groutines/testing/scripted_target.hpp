#pragma once
// ScriptedTarget: a scripted stand-in for a debugger and its target, with its own runtime. The
// one scripted backend: the core's Catch2 tests drive it from C++, and the Python package ships
// it as groutines.testing.Target, so that users unit-test groutine scripts with pytest in a
// plain python3. It knows no debugger.
//
// The "target" has threads (any integer id) with call stacks: call() enters a function on a
// thread (reported when hooked; skipped when a groutine forces a return), ret() returns from a
// thread's innermost frame (reported when watched), unwind() pops frames without returning.
// Every backend request is written to journal, so tests can check what would be planted.
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "groutines/api.hpp"
#include "groutines/argument_layout.hpp"
#include "groutines/backend.hpp"
#include "groutines/backtrace.hpp"
#include "groutines/event.hpp"
#include "groutines/runtime.hpp"

namespace groutines::testing {

// ScriptedFrame is one frame of a scripted thread: what a call passed, what it returned.
struct ScriptedFrame final : Frame {
  std::uint64_t thread = 0;
  std::string function;
  std::vector<std::uint64_t> ints;    // rdi, rsi, rdx, rcx, r8, r9, then the stack
  std::vector<double> floats;         // xmm0...
  std::vector<Argument> named;        // what the debug info would name
  std::map<std::string, std::uint64_t, std::less<>> registers;  // overrides
  std::optional<CallId> watched_call;  // set by watch_return
  std::uint64_t return_int = 0;
  double return_float = 0;
  bool float_result = false;  // ret() was given a float: the function returns a floating type
  sysv::ReturnLayout return_type;  // declare_return_type(); Unknown when never declared
  std::vector<std::string> stack;  // the thread's functions, innermost first (for backtrace)
  const std::map<std::string, StackFrame, std::less<>>* places = nullptr;  // place()
  const std::map<std::uint64_t, std::vector<std::uint8_t>>* memory = nullptr;
  const std::vector<MemoryRegion>* regions = nullptr;  // map_region()
  std::vector<ThreadState> thread_states;  // the target's when the frame was made

  // int_argument() is ints[index]; Error naming the call when it passed fewer.
  std::uint64_t int_argument(unsigned index) override;
  // float_argument() is floats[index]; Error naming the call when it passed fewer.
  double float_argument(unsigned index) override;
  std::vector<Argument> arguments() override { return named; }
  // register_value() is an override from registers, else an argument register (rdi...) or rax.
  std::uint64_t register_value(std::string_view name) override;
  std::vector<std::uint8_t> read_memory(std::uint64_t address, std::size_t size) override;
  std::string read_cstring(std::uint64_t address, std::size_t max_size) override;
  // memory_regions() are the regions map_region() declared; Error when none was.
  std::vector<MemoryRegion> memory_regions() override;
  // threads() are the target's threads with frames, this frame's first, each with a stack
  // pointer 0x100 below 0x7ff000000000 a frame (rsp, its one register).
  std::vector<ThreadState> threads() override { return thread_states; }
  // backtrace() is the thread's frames, innermost first: where place() put their function, or
  // only its name.
  std::vector<StackFrame> backtrace(std::size_t max_frames) override;
  std::uint64_t int_return_value() override { return return_int; }
  double float_return_value() override { return return_float; }
  bool returns_float() override { return float_result; }
  sysv::ReturnLayout return_layout() override { return return_type; }
};

class ScriptedTarget final : public Backend {
 public:
  explicit ScriptedTarget(RuntimeOptions options = {});
  // ~ScriptedTarget() closes the target (close()).
  ~ScriptedTarget() override;
  ScriptedTarget(const ScriptedTarget&) = delete;
  ScriptedTarget& operator=(const ScriptedTarget&) = delete;

  // runtime() is the target's runtime. It outlives close() (empty), so that a reference to it
  // stays safe for as long as the target lives.
  Runtime& runtime() noexcept { return *runtime_; }
  // closed() tells whether close() ran.
  bool closed() const noexcept { return closed_; }
  // close() unloads every groutine (newest first; their cleanups run); the target then refuses
  // to run (Error "this scripted target is closed"). Idempotent.
  void close();

  // call() enters function on thread with these arguments. Returns the forced value when a
  // groutine skipped it (the frame is then popped at once: the function "returned" without
  // running), else nullopt and the frame stays until ret() or unwind().
  std::optional<Value> call(std::uint64_t thread, const std::string& function,
                            std::vector<std::uint64_t> ints = {}, std::vector<double> floats = {},
                            std::vector<Argument> named = {},
                            std::map<std::string, std::uint64_t, std::less<>> registers = {});
  // ret() returns value from thread's innermost frame: an integer (rax), or a double for a
  // function that returns a floating type (xmm0). Returns what the caller sees (as a groutine
  // rewrote it). Error when the thread has no frame, or value is neither.
  Value ret(std::uint64_t thread, const Value& value);
  // ret() of any number: ret(1, 0), ret(1, -1L), ret(1, 0.5f) (a float is a floating return).
  template <typename T, typename = std::enable_if_t<detail::is_number_v<T>>>
  Value ret(std::uint64_t thread, T value) {
    return ret(thread, Value(detail::to_number(value)));
  }
  // unwind() pops n frames of thread without returning (longjmp, exception).
  void unwind(std::uint64_t thread, unsigned n);
  // write_memory() makes bytes readable at address (read_memory, read_cstring).
  void write_memory(std::uint64_t address, std::vector<std::uint8_t> bytes);
  // map_region() adds region to the target's memory map (Frame::memory_regions()), kept in
  // address order.
  void map_region(MemoryRegion region);
  // declare_symbols() adds names to the code symbols of module ("" is the main executable),
  // for functions().
  void declare_symbols(const std::string& module, const std::vector<std::string>& names);
  // declare_return_type() gives function a return type, as debug info would: forced and
  // rewritten values are converted to it (or refused). Without one, a value reaches the caller
  // as given.
  void declare_return_type(const std::string& function, const sysv::TypeDescription& type);
  // place() says where the frames of function are in the program (pc, module, offset, file,
  // line) for backtraces; the frames of a function never placed have only its name.
  void place(const std::string& function, StackFrame where);
  // depth() is the number of frames on thread's stack.
  std::size_t depth(std::uint64_t thread) const;
  // hooked() lists the functions hooked now, sorted.
  std::vector<std::string> hooked() const;
  // is_hooked() tells whether function is hooked now.
  bool is_hooked(std::string_view function) const;
  // watched() counts the returns being watched now.
  unsigned watched() const noexcept { return watched_now_; }

  std::vector<std::string> journal;  // install/remove f, watch/unwatch #call, in order
  std::vector<std::string> stops;    // "groutine: reason"
  std::vector<std::string> logs;     // "groutine: message"
  std::vector<std::uint64_t> observed;  // the seq of every event delivered (observe())
  std::map<CallId, std::string> watched_functions;  // the function watch_return was told

  // --- Backend ---
  void install_call_hook(FunctionId id, std::string_view function) noexcept override;
  void remove_call_hook(FunctionId id) noexcept override;
  void watch_return(CallId call, FunctionId function_id, std::string_view function,
                    Frame& frame) noexcept override;
  void unwatch_return(CallId call) noexcept override;
  void request_stop(const Groutine& by, std::string_view reason) override;
  void observe(const Event& event) noexcept override;
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
  std::vector<MemoryRegion> regions_;
  std::map<std::string, StackFrame, std::less<>> places_;
  std::map<std::string, sysv::ReturnLayout, std::less<>> return_types_;
  std::map<std::string, std::vector<std::string>> symbols_;  // by module, "" the executable
  unsigned watched_now_ = 0;
  bool closed_ = false;
  std::unique_ptr<Runtime> runtime_;  // last: destroyed first, while the backend is whole
};

}  // namespace groutines::testing
