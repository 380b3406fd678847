#include "target.hpp"

namespace groutines::python {

namespace {
// The runtime a Target made the default (in a plain python3, no debugger made one). Read and
// written with the GIL held.
Runtime* g_scripted_default = nullptr;
}  // namespace

Target::Target() {
  Runtime* current = default_runtime();
  if (!current || current == g_scripted_default) {
    g_scripted_default = &target_.runtime();
    set_default_runtime(g_scripted_default);
  }
}

Target::~Target() { close(); }

void Target::leave_default() noexcept {
  if (default_runtime() == &target_.runtime()) {
    set_default_runtime(nullptr);
    g_scripted_default = nullptr;
  }
}

void Target::close() {
  if (target_.closed()) return;
  leave_default();
  target_.close();
  libraries_.close();
}

std::vector<GroutineId> Target::load_library(const std::string& path) {
  if (target_.closed()) throw Error("this scripted target is closed");
  return libraries_.load(target_.runtime(), path);
}

}  // namespace groutines::python
