#include "libraries.hpp"

#include <dlfcn.h>

#include "groutines/error.hpp"
#include "groutines/library.hpp"
#include "groutines/registry.hpp"

namespace groutines::python {

GroutineLibraries::~GroutineLibraries() { close(); }

std::vector<GroutineId> GroutineLibraries::load(Runtime& runtime, const std::string& path) {
  void* handle = open_library(path);  // a static initialiser that throws is an Error
  std::vector<Definition> definitions = Registry::global().definitions_of(path);
  if (definitions.empty()) {
    dlclose(handle);
    throw Error("'" + path + "' defines no groutines (no GROUTINE(...) in it)");
  }
  handles_.push_back(handle);
  std::vector<GroutineId> ids;
  for (const Definition& d : definitions) ids.push_back(runtime.load(d).id());
  return ids;
}

void GroutineLibraries::close() noexcept {
  while (!handles_.empty()) {
    dlclose(handles_.back());
    handles_.pop_back();
  }
}

}  // namespace groutines::python
