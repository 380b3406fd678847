#pragma once
// AgentFrame: the core's Frame over a target thread that waits inside the agent at a hooked
// function's entry or at a watched call's return. Registers come from the thread's slot in
// shared memory, memory from process_vm_readv, the stack from the agent's unwinder; the
// target is not stopped, so nothing here asks LLDB for the thread.
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "groutines/agent/unwinder.hpp"
#include "groutines/argument_layout.hpp"
#include "groutines/event.hpp"
#include "groutines_agent/protocol.h"
#include "lldb_frame.hpp"

namespace groutines::plugin {

// profile() adds the time since start to the mean of what (printed every 1,000 samples) when
// GROUTINES_AGENT_PROFILE is set: where an agent hit's time goes. One thread (the service
// thread) only.
void profile(const char* what, std::chrono::steady_clock::time_point start);

class AgentFrame final : public Frame {
 public:
  // Symbolizer names frame index at pc (its module, function, offset, file and line).
  using Symbolizer = std::function<StackFrame(std::size_t index, std::uint64_t pc)>;
  // Evaluator evaluates an expression on the frame's thread (the backend stops it for that).
  using Evaluator = std::function<Value(AgentFrame& frame, std::string_view expression)>;

  // AgentFrame() reads the hit posted in slot of process pid; where is Entry or Return.
  AgentFrame(pid_t pid, ga_slot& slot, LldbFrame::Where where, agent::Unwinder* unwinder,
             Symbolizer symbolize, std::uint64_t return_stub, Evaluator evaluate);

  std::uint64_t int_argument(unsigned index) override;
  double float_argument(unsigned index) override;
  std::vector<Argument> arguments() override;
  std::optional<Argument> argument(std::string_view name) override;
  std::uint64_t register_value(std::string_view name) override;
  std::vector<std::uint8_t> read_memory(std::uint64_t address, std::size_t size) override;
  std::string read_cstring(std::uint64_t address, std::size_t max_size) override;
  std::vector<StackFrame> backtrace(std::size_t max_frames) override;
  std::uint64_t int_return_value() override;
  double float_return_value() override;
  bool returns_float() override { return return_type_.known && return_type_.floating; }
  std::string return_type_name() override { return return_type_.type; }
  Value evaluate(std::string_view expression) override;

  // --- For the backend. ---
  LldbFrame::Where where() const noexcept { return where_; }
  std::uint64_t thread_id() const noexcept { return slot_.tid; }
  std::uint64_t stack_pointer() const noexcept { return slot_.regs.rsp; }
  ga_slot& slot() noexcept { return slot_; }
  void use_layout(std::shared_ptr<const ArgumentLayout> layout) { layout_ = std::move(layout); }
  void set_return_type(const ReturnType& type) noexcept { return_type_ = type; }
  // watch() asks the agent to report this call's return as call.
  void watch(CallId call) noexcept;
  // force_return() asks the agent to return value to the caller without running the call.
  void force_return(const Value& value);
  // set_return_value() asks the agent to give the caller value at this return.
  void set_return_value(const Value& value);
  // stop() asks the agent to stop the thread at the function's entry (or the return address)
  // on the host's stop-pad breakpoint.
  void stop() noexcept { slot_.reply |= GA_REPLY_STOP; }
  // read_u64() reads 8 bytes of target memory.
  std::uint64_t read_u64(std::uint64_t address);
  // cached_view() renders the integer registers groutines read ("rdi=1 rsi=2"), for the log,
  // as LldbFrame::cached_view() does.
  std::string cached_view() const;

 private:
  void require(LldbFrame::Where where, const char* what) const;
  void set_value(const Value& value);

  pid_t pid_;
  ga_slot& slot_;
  LldbFrame::Where where_;
  agent::Unwinder* unwinder_;
  Symbolizer symbolize_;
  std::uint64_t return_stub_;
  Evaluator evaluate_;
  ReturnType return_type_;
  std::shared_ptr<const ArgumentLayout> layout_;
  std::vector<std::pair<std::string, std::uint64_t>> read_;  // registers read, in order
  void note(const char* name, std::uint64_t value);
};

}  // namespace groutines::plugin
