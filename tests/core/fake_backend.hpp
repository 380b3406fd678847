#pragma once
// FakeBackend: a scripted stand-in for a debugger and its target, for the core's unit tests.
// The "target" has threads with call stacks: call() enters a function on a thread (reported
// when hooked, skipped when a groutine forces a return), ret() returns from a thread's
// innermost frame (reported when watched), unwind() pops frames without returning. Every
// backend request is written to journal, so tests can check what would be planted.
#include <cstdint>
#include <deque>
#include <fnmatch.h>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "groutines/api.hpp"
#include "groutines/backend.hpp"
#include "groutines/runtime.hpp"

namespace fake {

using groutines::CallId;
using groutines::FunctionId;

struct FakeFrame final : groutines::Frame {
  std::uint64_t thread = 0;
  std::string function;
  std::vector<std::uint64_t> ints;
  std::vector<double> floats;
  std::vector<groutines::Argument> named;
  std::optional<CallId> watched_call;  // set by watch_return
  std::uint64_t return_int = 0;
  double return_float = 0;
  bool float_result = false;  // the function returns a floating type (FakeBackend::floating)

  std::uint64_t int_argument(unsigned index) override {
    if (index >= ints.size())
      throw groutines::Error("no integer argument " + std::to_string(index));
    return ints[index];
  }
  double float_argument(unsigned index) override {
    if (index >= floats.size())
      throw groutines::Error("no float argument " + std::to_string(index));
    return floats[index];
  }
  std::vector<groutines::Argument> arguments() override { return named; }
  std::uint64_t register_value(std::string_view name) override {
    if (name == "rdi" && !ints.empty()) return ints[0];
    if (name == "rax") return return_int;
    throw groutines::Error("unknown register '" + std::string(name) + "'");
  }
  std::vector<groutines::StackFrame> backtrace(std::size_t) override {
    groutines::StackFrame here{0x401000, "prog", function, 4, "prog.c", 10};
    groutines::StackFrame caller{0x401100, "prog", "main", 22, "prog.c", 20};
    return {here, caller};
  }
  std::uint64_t int_return_value() override { return return_int; }
  double float_return_value() override { return return_float; }
  bool returns_float() override { return float_result; }
  // regions and thread_states are the target's when the frame was made (FakeBackend::call()).
  std::vector<groutines::MemoryRegion> regions;
  std::vector<groutines::ThreadState> thread_states;
  std::vector<groutines::MemoryRegion> memory_regions() override { return regions; }
  std::vector<groutines::ThreadState> threads() override { return thread_states; }
};

class FakeBackend final : public groutines::Backend {
 public:
  groutines::Runtime* runtime = nullptr;
  std::vector<std::string> journal;      // install/remove/watch/unwatch requests, in order
  std::map<FunctionId, std::string> hooks;  // installed now
  std::vector<std::string> stops;        // "groutine: reason"
  std::vector<std::string> logs;
  std::vector<std::uint64_t> observed;   // seq of every event delivered
  unsigned watched_now = 0;
  // floating: the functions whose frames say they return a floating type (returns_float()).
  std::set<std::string> floating;
  std::map<CallId, std::string> watched_functions;  // the function watch_return was told

  void install_call_hook(FunctionId id, std::string_view function) noexcept override {
    hooks[id] = std::string(function);
    journal.push_back("install " + std::string(function));
  }
  void remove_call_hook(FunctionId id) noexcept override {
    journal.push_back("remove " + hooks.at(id));
    hooks.erase(id);
  }
  void watch_return(CallId call, FunctionId, std::string_view function,
                    groutines::Frame& frame) noexcept override {
    static_cast<FakeFrame&>(frame).watched_call = call;
    watched_functions[call] = std::string(function);
    ++watched_now;
    journal.push_back("watch #" + std::to_string(call));
  }
  void unwatch_return(CallId call) noexcept override {
    for (auto& [thread, stack] : stacks_)
      for (auto& f : stack)
        if (f->watched_call == call) f->watched_call.reset();
    --watched_now;
    journal.push_back("unwatch #" + std::to_string(call));
  }
  void request_stop(const groutines::Groutine& by, std::string_view reason) override {
    stops.push_back(by.name() + ": " + std::string(reason));
  }
  void observe(const groutines::Event& event) noexcept override { observed.push_back(event.seq); }
  void log(const groutines::Groutine& by, std::string_view message) override {
    logs.push_back(by.name() + ": " + std::string(message));
  }
  // symbols are the code symbols by module file name ("" the main executable).
  std::map<std::string, std::vector<std::string>> symbols;
  std::vector<std::string> functions(std::string_view pattern,
                                     const std::vector<std::string>& modules) override {
    std::vector<std::string> found;
    for (const std::string& module : modules.empty() ? std::vector<std::string>{""} : modules)
      for (const std::string& name : symbols[module])
        if (fnmatch(std::string(pattern).c_str(), name.c_str(), 0) == 0) found.push_back(name);
    return found;
  }

  // regions is the fake target's memory map (Frame::memory_regions()).
  std::vector<groutines::MemoryRegion> regions;
  // threads_now() are the threads with frames, first's first, each with a stack pointer
  // below 0x7ff000000000 by 0x100 a frame, in rsp.
  std::vector<groutines::ThreadState> threads_now(std::uint64_t first) const {
    std::vector<groutines::ThreadState> out;
    for (const auto& [thread, stack] : stacks_) {
      std::uint64_t sp = 0x7ff000000000 - 0x100 * stack.size();
      groutines::ThreadState t{thread, sp, {{"rsp", sp}}};
      if (thread == first)
        out.insert(out.begin(), t);
      else
        out.push_back(t);
    }
    return out;
  }

  bool hooked(const std::string& function) const {
    for (auto& [id, name] : hooks)
      if (name == function) return true;
    return false;
  }

  // call() enters function on thread. Returns the forced value when a groutine skipped it
  // (the frame is then popped at once, as the function "returned" without running).
  std::optional<groutines::Value> call(std::uint64_t thread, const std::string& function,
                                       std::vector<std::uint64_t> ints = {},
                                       std::vector<double> floats = {},
                                       std::vector<groutines::Argument> named = {}) {
    auto frame = std::make_unique<FakeFrame>();
    frame->thread = thread;
    frame->function = function;
    frame->ints = std::move(ints);
    frame->floats = std::move(floats);
    frame->named = std::move(named);
    frame->float_result = floating.count(function) > 0;
    FakeFrame& f = *frame;
    stacks_[thread].push_back(std::move(frame));
    f.regions = regions;
    f.thread_states = threads_now(thread);
    if (!hooked(function)) return std::nullopt;
    groutines::Outcome out =
        runtime->deliver_call(runtime->function_id(function), thread, groutines::Clock::now(), f);
    if (out.forced_return) {
      if (f.watched_call) throw std::logic_error("a skipped call's return was watched");
      stacks_[thread].pop_back();
    }
    return out.forced_return;
  }

  // ret() returns value from thread's innermost frame; returns what the caller sees.
  groutines::Value ret(std::uint64_t thread, std::int64_t value, double float_value = 0) {
    auto& stack = stacks_.at(thread);
    std::unique_ptr<FakeFrame> f = std::move(stack.back());
    stack.pop_back();
    f->return_int = static_cast<std::uint64_t>(value);
    f->return_float = float_value;
    if (!f->watched_call) return value;
    --watched_now;
    groutines::Outcome out = runtime->deliver_return(*f->watched_call, thread,
                                                     groutines::Clock::now(), *f, false);
    return out.return_value ? *out.return_value : groutines::Value(value);
  }

  // unwind() pops n frames of thread without returning (longjmp, exception).
  void unwind(std::uint64_t thread, unsigned n) {
    auto& stack = stacks_.at(thread);
    for (unsigned i = 0; i < n; ++i) {
      std::unique_ptr<FakeFrame> f = std::move(stack.back());
      stack.pop_back();
      if (f->watched_call) {
        --watched_now;
        runtime->deliver_return(*f->watched_call, thread, groutines::Clock::now(), *f, true);
      }
    }
  }

  std::size_t depth(std::uint64_t thread) const {
    auto it = stacks_.find(thread);
    return it == stacks_.end() ? 0 : it->second.size();
  }

 private:
  std::map<std::uint64_t, std::deque<std::unique_ptr<FakeFrame>>> stacks_;
};

// definition() makes a groutine definition from a lambda.
inline groutines::Definition definition(const std::string& name, std::function<void()> body,
                                        std::string source = "test") {
  groutines::Definition d;
  d.name = name;
  d.body = std::move(body);
  d.location = {__FILE__, 1};
  d.source = std::move(source);
  return d;
}

// Host: a runtime over a fake backend, loading groutines from lambdas.
struct Host {
  FakeBackend backend;
  groutines::Runtime runtime;

  explicit Host(groutines::RuntimeOptions options = {}) : runtime(backend, options) {
    backend.runtime = &runtime;
  }

  groutines::Groutine& load(const std::string& name, std::function<void()> body,
                            std::string source = "test") {
    return runtime.load(definition(name, std::move(body), std::move(source)));
  }
};

}  // namespace fake
