#pragma once
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "groutines/backtrace.hpp"
#include "groutines/export.hpp"
#include "groutines/value.hpp"

namespace groutines {

class Frame;
namespace sysv {
struct ReturnLayout;  // groutines/argument_layout.hpp
}

// EventKind tells what happened in the target (Call, Return) or among groutines (Custom).
enum class EventKind : std::uint8_t {
  Call,    // a call of a hooked function, reported at its entry
  Return,  // the return of one specific call (or its unwinding without a return)
  Custom,  // a named event fired by a groutine or from the debugger prompt
};

// name() is "call", "return" or "custom".
GROUTINES_API const char* name(EventKind kind) noexcept;

// FunctionId is the runtime's number for a function name; the backend hooks by it.
using FunctionId = std::uint32_t;
// CallId identifies one call: it is the sequence number of that call's event.
using CallId = std::uint64_t;
// Clock is the clock of event timestamps.
using Clock = std::chrono::steady_clock;

// Event is one occurrence delivered to groutines. It lives on the deliverer's stack for the
// duration of its delivery; groutines see it through handles that check it is still current.
struct Event {
  EventKind kind = EventKind::Custom;
  std::uint64_t seq = 0;         // assigned by the runtime, increasing from 1
  std::uint64_t thread_id = 0;   // the target thread (0: the debugger, for prompt-fired events)
  Clock::time_point time{};      // when the backend saw it (the runtime's clock for custom)
  FunctionId function = 0;       // Call, Return: the function
  CallId call = 0;               // Call, Return: the call; for a Call event, call == seq
  bool unwound = false;          // Return: the frame was unwound without returning
  std::string_view name;         // Call, Return: the function's name; Custom: the event's
  const Data* data = nullptr;    // Custom: the payload (never null for Custom)
  Frame* frame = nullptr;        // Call, Return: the stopped target; null for Custom
};

// Argument is one argument of a call as the debug info describes it.
struct Argument {
  std::string name;
  std::string type;
  Value value;
};

// MemoryRegion is one mapping of the target's address space, as the system describes it
// (/proc/PID/maps on Linux).
struct MemoryRegion {
  std::uint64_t start = 0;  // the first address
  std::uint64_t end = 0;    // one past the last address
  bool readable = false;
  bool writable = false;
  bool executable = false;
  std::string path;  // the mapped file, "[stack]"/"[heap]" as the system names them, "" anonymous
};

// ThreadState is one thread of the stopped target: its stack pointer and general purpose
// registers (named as the debugger names them: rax, rbx... rip).
struct ThreadState {
  std::uint64_t id = 0;             // the thread's id, as Event::thread_id
  std::uint64_t stack_pointer = 0;  // rsp
  std::vector<std::pair<std::string, std::uint64_t>> registers;
};

// Frame is the backend's view of the stopped target at a Call or Return event. It is valid
// only while that event is being delivered. Reads that cannot be done throw Error naming what
// was wrong; the defaults throw "not supported by this backend".
class GROUTINES_API Frame {
 public:
  virtual ~Frame();

  // int_argument() is integer/pointer argument index (0-based) as the caller passed it
  // (SysV x86-64: rdi, rsi, rdx, rcx, r8, r9, then the stack).
  virtual std::uint64_t int_argument(unsigned index) = 0;
  // float_argument() is floating argument index (0-based: xmm0..xmm7).
  virtual double float_argument(unsigned index) = 0;
  // arguments() are the arguments named by the debug info, in declaration order (empty
  // without debug info).
  virtual std::vector<Argument> arguments();
  // argument() is the argument called name, or nullopt when the debug info has none.
  virtual std::optional<Argument> argument(std::string_view name);
  // register_value() is the value of a register by name (rax, rip, eflags...).
  virtual std::uint64_t register_value(std::string_view name) = 0;
  // read_memory() reads size bytes of the target's memory at address.
  virtual std::vector<std::uint8_t> read_memory(std::uint64_t address, std::size_t size);
  // read_cstring() reads a NUL-terminated string at address, at most max_size bytes.
  virtual std::string read_cstring(std::uint64_t address, std::size_t max_size);
  // memory_regions() are the target's mapped regions, in address order (unmapped gaps left
  // out), without the debugger's own mappings in the target (an in-target agent's code and
  // shared memory). Read with read_memory(), a region at a time.
  virtual std::vector<MemoryRegion> memory_regions();
  // threads() are the target's threads, all stopped for the time of the call (a backend
  // whose target runs while an event is delivered stops it): each one's stack pointer and
  // general purpose registers, the event's thread first, with its registers as at the event.
  virtual std::vector<ThreadState> threads();
  // backtrace() is the stopped thread's call stack, innermost first, at most max_frames
  // frames, each with the parts the backend knows (to_string() renders them: the one place
  // backtraces become text).
  virtual std::vector<StackFrame> backtrace(std::size_t max_frames);
  // int_return_value() is the integer/pointer return value (rax) at a Return event.
  virtual std::uint64_t int_return_value();
  // float_return_value() is the floating return value (xmm0; st0 for a long double, rounded
  // to a double) at a Return event.
  virtual double float_return_value();
  // returns_float() tells, at a Return event, that the function returns a float or a double
  // (in xmm0), or a long double (st0), when the debug info says so; false when it does not or
  // is not known.
  virtual bool returns_float();
  // return_layout() is how the function returns its value (its return type's class, size and
  // sign, from the debug info), at a Call and at a Return. The default, for a frame that
  // cannot tell, is Unknown: a forced or rewritten value then goes where its own kind goes
  // (sysv::return_registers()).
  virtual sysv::ReturnLayout return_layout();
  // evaluate() evaluates a C expression in the stopped thread, as the debugger's `expression`
  // command does (it may call the target's functions and write its memory; breakpoints are
  // ignored meanwhile), and returns its value: an int, float or bool, or none for void.
  virtual Value evaluate(std::string_view expression);
};

}  // namespace groutines
