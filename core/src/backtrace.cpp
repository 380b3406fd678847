#include "groutines/backtrace.hpp"

#include <cinttypes>
#include <cstdio>

namespace groutines {

std::string to_string(const StackFrame& frame) {
  char pc[32];
  std::snprintf(pc, sizeof pc, "0x%" PRIx64, frame.pc);
  std::string line = std::string(pc) + " " + (frame.module.empty() ? "?" : frame.module) + "`" +
                     (frame.function.empty() ? "??" : frame.function);
  if (frame.offset != 0) line += " + " + std::to_string(frame.offset);
  if (!frame.file.empty()) line += " at " + frame.file + ":" + std::to_string(frame.line);
  return line;
}

std::string to_string(const StackFrame& frame, std::size_t index) {
  return "#" + std::to_string(index) + " " + to_string(frame);
}

std::vector<std::string> to_strings(const std::vector<StackFrame>& frames) {
  std::vector<std::string> out;
  out.reserve(frames.size());
  for (std::size_t i = 0; i < frames.size(); ++i) out.push_back(to_string(frames[i], i));
  return out;
}

}  // namespace groutines
