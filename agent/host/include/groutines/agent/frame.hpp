#pragma once
// AgentFrame: the core's Frame over a target thread that waits inside the agent at a hooked
// function's entry or at a watched call's return. Registers come from the thread's slot in
// shared memory, memory from process_vm_readv, the stack from the agent's unwinder; the
// target is not stopped, so nothing here asks the debugger for the thread (evaluations and
// the other threads go through callbacks the debugger's adapter gives).
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

namespace groutines::agent {

using sysv::ArgumentLayout;
using ReturnType = sysv::ReturnLayout;

// profile() adds the time since start to the mean of what (printed every 1,000 samples) when
// GROUTINES_AGENT_PROFILE is set: where an agent hit's time goes. One thread (the service
// thread) only.
void profile(const char* what, std::chrono::steady_clock::time_point start);

// regions_of_pid() are the mapped regions of local process pid read from /proc/PID/maps
// (without asking the debugger: the agent's service thread may not), the agent's own left out.
// Throws Error when the file cannot be read.
std::vector<MemoryRegion> regions_of_pid(pid_t pid);

// as_written() is message (an error evaluating with_registers(expression, regs)) naming
// expression as the groutine wrote it.
std::string as_written(std::string message, const std::string& expression, const ga_regs& regs);

// hex() is v as 0x-prefixed lowercase hex (addresses in messages).
std::string hex(std::uint64_t v);

// with_registers() is expression with the registers it names ($rdi, $edi, $rip...) replaced
// by their values in regs, so that a debugger evaluating it where the thread waits now reads
// the call's registers.
std::string with_registers(const std::string& expression, const ga_regs& regs);

// Where is what an event's thread stands at (the agent's frames are at an Entry or a Return;
// a debugger's frame may be Gone).
enum class Where : std::uint8_t {
  Entry,   // a hooked function's first instruction: arguments are the caller's
  Return,  // a watched call's return address: rax/xmm0 hold its return value
  Gone,    // no stopped thread (the process exited): every read throws Error
};
class AgentFrame final : public Frame {
 public:
  // Symbolizer names frame index at pc (its module, function, offset, file and line).
  using Symbolizer = std::function<StackFrame(std::size_t index, std::uint64_t pc)>;
  // Evaluator evaluates an expression on the frame's thread (the backend stops it for that).
  using Evaluator = std::function<Value(AgentFrame& frame, std::string_view expression)>;

  // ThreadReader reads the threads of the process, stopped for it (the backend parks the
  // frame's thread and reads the others from the debugger).
  using ThreadReader = std::function<std::vector<ThreadState>(AgentFrame& frame)>;

  // AgentFrame() reads the hit posted in slot of process pid; where is Entry or Return.
  AgentFrame(pid_t pid, ga_slot& slot, Where where, Unwinder* unwinder,
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
  ReturnType return_layout() override { return return_type_; }
  Value evaluate(std::string_view expression) override;
  // memory_regions() reads /proc/PID/maps (the target runs on: regions may change meanwhile).
  std::vector<MemoryRegion> memory_regions() override;
  // threads() has the process stopped by the ThreadReader; this thread's registers are the
  // hit's, from the slot.
  std::vector<ThreadState> threads() override;

  // --- For the backend. ---
  void use_thread_reader(ThreadReader reader) { read_threads_ = std::move(reader); }
  Where where() const noexcept { return where_; }
  std::uint64_t thread_id() const noexcept { return slot_.tid; }
  std::uint64_t stack_pointer() const noexcept { return slot_.regs.rsp; }
  ga_slot& slot() noexcept { return slot_; }
  void use_layout(std::shared_ptr<const ArgumentLayout> layout) { layout_ = std::move(layout); }
  // set_return_type() says how the function returns its value (at its entry too, for a forced
  // return).
  void set_return_type(const ReturnType& type) noexcept { return_type_ = type; }
  // watch() asks the agent to report this call's return as call.
  void watch(CallId call) noexcept;
  // force_return() asks the agent to return value to the caller without running the call,
  // in the register the return type (set_return_type(), at the entry too) returns it in:
  // rax, or xmm0 as a float or a double (sysv::return_registers()). Error, with nothing
  // written, for a value the function cannot return, and for a long double (st0).
  void force_return(const Value& value);
  // set_return_value() asks the agent to give the caller value at this return, written as
  // force_return() writes it.
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
  void require(Where where, const char* what) const;
  void set_value(const Value& value);

  pid_t pid_;
  ga_slot& slot_;
  Where where_;
  Unwinder* unwinder_;
  Symbolizer symbolize_;
  std::uint64_t return_stub_;
  Evaluator evaluate_;
  ThreadReader read_threads_;
  ReturnType return_type_;
  std::shared_ptr<const ArgumentLayout> layout_;
  std::vector<std::pair<std::string, std::uint64_t>> read_;  // registers read, in order
  void note(const char* name, std::uint64_t value);
};

}  // namespace groutines::agent
