#pragma once
// StackFrame: one frame of a stopped target thread's call stack, as a backend's unwinder and
// debug info give it. Backtraces cross the Frame seam as these; their text is made here only.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "groutines/export.hpp"

namespace groutines {

// StackFrame is one frame of a call stack: where it is and what the debug info names it.
struct StackFrame {
  std::uint64_t pc = 0;      // the frame's program counter (a caller's: its return address)
  std::string module;        // the module's file name ("" when unknown)
  std::string function;      // the function's (display) name ("" when unknown)
  std::uint64_t offset = 0;  // pc - the function's start (0 at the start, or when unknown)
  std::string file;          // the source file's name ("" without line info)
  unsigned line = 0;         // the source line (0 without line info)
};

// to_string() renders frame without a number: "0x401136 calls`main + 22 at calls.c:40".
GROUTINES_API std::string to_string(const StackFrame& frame);

// to_string() renders frame number index as a backtrace line, the parts it knows:
// "#1 0x401136 calls`main + 22 at calls.c:40" ("?" for an unknown module, "??" for an
// unknown function; no "+ offset" at a function's start, no "at" without line info).
GROUTINES_API std::string to_string(const StackFrame& frame, std::size_t index);

// to_strings() renders a whole call stack, innermost first, numbered from 0.
GROUTINES_API std::vector<std::string> to_strings(const std::vector<StackFrame>& frames);

}  // namespace groutines
