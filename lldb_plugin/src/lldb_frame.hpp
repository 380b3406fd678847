#pragma once
// LldbFrame: the core's Frame over a thread stopped by LLDB at a hooked function's first
// instruction (a Call event) or at a watched call's return address (a Return event). This is
// the one place SB types are converted into the core's types.
#include <lldb/API/LLDB.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "groutines/agent/frame.hpp"
#include "groutines/argument_layout.hpp"
#include "groutines/event.hpp"

namespace groutines::plugin {

// The argument layout and return layout come from the core's SysV classification, which
// this adapter feeds with TypeDescriptions read from DWARF (describe() in lldb_frame.cpp).
using sysv::ArgumentLayout;
using sysv::ArgumentSlot;
using sysv::read_argument;
using sysv::read_arguments;
using sysv::sized;
using ReturnType = sysv::ReturnLayout;

using agent::hex;

class LldbFrame final : public Frame {
 public:
  // Where is what the thread is stopped at (the agent's frames' too).
  using Where = agent::Where;

  LldbFrame(lldb::SBProcess process, lldb::SBThread thread, Where where);
  // gone() is a frame for events delivered when there is no target to read (process exit).
  static LldbFrame gone(std::string why);

  std::uint64_t int_argument(unsigned index) override;
  double float_argument(unsigned index) override;
  std::vector<Argument> arguments() override;
  std::optional<Argument> argument(std::string_view name) override;
  std::uint64_t register_value(std::string_view name) override;
  std::vector<std::uint8_t> read_memory(std::uint64_t address, std::size_t size) override;
  std::string read_cstring(std::uint64_t address, std::size_t max_size) override;
  std::vector<MemoryRegion> memory_regions() override;
  std::vector<ThreadState> threads() override;
  std::vector<StackFrame> backtrace(std::size_t max_frames) override;
  std::uint64_t int_return_value() override;
  double float_return_value() override;
  Value evaluate(std::string_view expression) override;

  // --- For the backend. ---

  // where() is what the thread is stopped at.
  Where where() const noexcept { return where_; }
  // thread_id() is the stopped thread's system id (0 for a gone frame).
  std::uint64_t thread_id() const noexcept { return thread_id_; }
  // stack_pointer() is rsp now (cached).
  std::uint64_t stack_pointer();
  // read_u64() reads 8 bytes of target memory.
  std::uint64_t read_u64(std::uint64_t address);
  // force_return() makes the thread, stopped at a function's entry, return value to its
  // caller without running the body: the value where the function's return type (DWARF)
  // returns it (sysv::return_registers(): rax, xmm0 as a float or a double, pushed onto the
  // x87 stack for a long double), rip = [rsp], rsp += 8. Error, with nothing written, for a
  // value the function cannot return.
  void force_return(const Value& value);
  // set_return_value() rewrites the return value at a Return, where the return type
  // (set_return_type()) returns it: rax, xmm0 as a float or a double, st0.
  void set_return_value(const Value& value);
  // return_type() is the hooked function's return type from DWARF (at its entry; once per
  // frame, kept after a forced return moved the thread to the caller).
  ReturnType return_type();
  // set_return_type() says how to read the return value at a Return.
  void set_return_type(const ReturnType& type) noexcept { return_type_ = type; }
  // returns_float() tells that the return type is a float or a double (xmm0), or a long
  // double (st0, read as a double).
  bool returns_float() override {
    return (return_type_.known && return_type_.floating) ||
           return_type_.type == sysv::TypeClass::X87;
  }
  // return_layout() is the return type from DWARF: at a Call return_type(), at a Return what
  // set_return_type() said.
  ReturnType return_layout() override;
  // use_layout() gives the argument layout of the stopped function when it is known already
  // (null: arguments() works it out from DWARF at first use).
  void use_layout(std::shared_ptr<const ArgumentLayout> layout) noexcept {
    layout_ = std::move(layout);
  }
  // argument_layout() works out the stopped function's argument layout from DWARF (once per
  // frame; the one use_layout() gave if any). Empty without debug info.
  std::shared_ptr<const ArgumentLayout> argument_layout();
  // layout() is the argument layout used during this stop (null if none was needed).
  const std::shared_ptr<const ArgumentLayout>& layout() const noexcept { return layout_; }
  // cached_view() renders the integer arguments read so far ("rdi=1 rsi=2"), for the log.
  std::string cached_view() const;
  // cached_registers() are the integer registers read so far during this stop, in order.
  const std::vector<std::pair<std::string, std::uint64_t>>& cached_registers() const noexcept {
    return cache_;
  }

 private:
  explicit LldbFrame(std::string why);
  lldb::SBFrame& frame();
  void require(Where where, const char* what) const;
  lldb::SBValue find_register(std::string_view name);
  std::vector<std::uint8_t> register_bytes(std::string_view name);
  void write_register(std::string_view name, std::uint64_t value);
  void write_vector(std::string_view name, const void* data, std::size_t size);
  void push_x87();
  void write_return(const sysv::ReturnRegisters& value, bool push);

  lldb::SBProcess process_;
  lldb::SBThread thread_;
  lldb::SBFrame frame_;  // frame 0, fetched at first use
  Where where_;
  std::uint64_t thread_id_ = 0;
  std::string gone_why_;
  ReturnType return_type_;
  std::optional<ReturnType> entry_return_type_;  // return_type(), worked out once
  std::shared_ptr<const ArgumentLayout> layout_;
  // Integer registers read during this stop, by name: a groutine reading an argument the
  // event log already read does not ask LLDB twice.
  std::vector<std::pair<std::string, std::uint64_t>> cache_;
};

}  // namespace groutines::plugin
