// members: reads the arguments of L::bar(long z, int w), a C++ member function, by index
// (this in rdi, z in rsi, w in edx), by name and all at once, for tests/lldb/test_members.py:
//   [members-bar] L::bar(0x7ffd...,z=-7,w=9) by name z=-7 w=9 this=0x7ffd... args this,z,w
#include <groutines/groutines.hpp>

#include <cinttypes>
#include <cstdio>
#include <string>

namespace {

std::string hex(std::uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%" PRIx64, v);
  return buf;
}

}  // namespace

GROUTINE("members-bar") {
  for (groutines::Call call : groutines::calls("L::bar")) {
    std::string text = "L::bar(" + hex(call.arg(0)) + ",z=" + std::to_string(call.sarg(1)) +
                       ",w=" + std::to_string(static_cast<std::int32_t>(call.arg(2))) + ")";
    text += " by name z=" + groutines::to_string(call.arg("z")) +
            " w=" + groutines::to_string(call.arg("w"));
    const groutines::Value self = call.arg("this");
    const auto* pointer = std::get_if<std::int64_t>(&self);
    text += " this=" + (pointer ? hex(static_cast<std::uint64_t>(*pointer)) : groutines::to_string(self));
    text += " args";
    const char* sep = " ";
    for (const groutines::Argument& a : call.args()) {
      text += sep + a.name;
      sep = ",";
    }
    groutines::log(text);
  }
}
