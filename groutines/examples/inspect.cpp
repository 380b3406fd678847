// inspect: what a Call handle reads besides arguments, at the first call of greet() in
// tests/targets/calls.c: the backtrace, registers by name, memory and C strings, and the
// errors a bad read gives. Logs one line per read.
#include <groutines/groutines.hpp>

#include <string>

namespace {

void log_error(const char* what, const std::function<void()>& read) {
  try {
    read();
    groutines::log(std::string(what) + ": no error");
  } catch (const groutines::Error& e) {
    groutines::log(std::string(what) + ": " + e.what());
  }
}

}  // namespace

GROUTINE("inspect-greet") {
  groutines::Call call = groutines::wait_call("greet");
  std::vector<std::string> frames = call.backtrace(2);
  groutines::log("frames " + std::to_string(frames.size()));
  for (const std::string& f : frames) groutines::log("frame " + f);
  groutines::log("function " + call.function());
  std::uint64_t rdi = call.reg("rdi");
  groutines::log(std::string("rdi is arg 0: ") + (rdi == call.arg(0) ? "yes" : "no"));
  groutines::log(std::string("edi is its low half: ") +
                 (call.reg("edi") == (rdi & 0xffffffffu) ? "yes" : "no"));
  std::vector<std::uint8_t> bytes = call.read_memory(call.arg(0), 3);
  groutines::log("memory " + std::string(bytes.begin(), bytes.end()));
  groutines::log("cstring " + call.read_cstring(call.arg(0)));
  groutines::log("cstring max 2 " + call.read_cstring(call.arg(0), 2));
  log_error("reg nope", [&] { call.reg("nope"); });
  log_error("memory at 0", [&] { call.read_memory(0, 8); });
  log_error("float arg 8", [&] { call.float_arg(8); });
  groutines::Return r = call.returned();
  log_error("return reg rax", [&] { r.reg("rax"); });
  log_error("stale call", [&] { call.arg(0); });
}
