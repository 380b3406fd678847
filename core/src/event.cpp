#include "groutines/event.hpp"

#include "groutines/argument_layout.hpp"
#include "groutines/backend.hpp"
#include "groutines/error.hpp"

namespace groutines {

const char* name(EventKind kind) noexcept {
  switch (kind) {
    case EventKind::Call: return "call";
    case EventKind::Return: return "return";
    case EventKind::Custom: return "custom";
  }
  return "?";
}

namespace {
[[noreturn]] void unsupported(const char* what) {
  throw Error(std::string(what) + ": not supported by this backend");
}
}  // namespace

Frame::~Frame() = default;
std::vector<Argument> Frame::arguments() { return {}; }
std::optional<Argument> Frame::argument(std::string_view name) {
  for (Argument& a : arguments())
    if (a.name == name) return std::move(a);
  return std::nullopt;
}
std::vector<std::uint8_t> Frame::read_memory(std::uint64_t, std::size_t) {
  unsupported("read_memory");
}
std::string Frame::read_cstring(std::uint64_t, std::size_t) { unsupported("read_cstring"); }
std::vector<MemoryRegion> Frame::memory_regions() { unsupported("memory_regions"); }
std::vector<ThreadState> Frame::threads() { unsupported("threads"); }
std::vector<StackFrame> Frame::backtrace(std::size_t) { return {}; }
std::uint64_t Frame::int_return_value() { unsupported("int_return_value"); }
double Frame::float_return_value() { unsupported("float_return_value"); }
bool Frame::returns_float() { return false; }
sysv::ReturnLayout Frame::return_layout() { return {}; }
Value Frame::evaluate(std::string_view) { unsupported("evaluate"); }

Backend::~Backend() = default;
void Backend::observe(const Event&) noexcept {}
void Backend::log(const Groutine&, std::string_view) {}
std::vector<std::string> Backend::functions(std::string_view, const std::vector<std::string>&) {
  return {};
}

}  // namespace groutines
