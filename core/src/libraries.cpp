#include "groutines/libraries.hpp"

#include <dlfcn.h>

#include <algorithm>

#include "groutines/error.hpp"
#include "groutines/library.hpp"
#include "groutines/registry.hpp"
#include "groutines/runtime.hpp"

namespace groutines {

Libraries::~Libraries() { close(); }

std::vector<GroutineId> Libraries::load(Runtime& runtime, const std::string& path) {
  unload(runtime, path);
  void* handle = open_library(path);  // a static initialiser that throws is an Error
  std::vector<Definition> definitions = Registry::global().definitions_of(path);
  if (definitions.empty()) {
    dlclose(handle);
    throw Error("'" + path + "' defines no groutines (no GROUTINE(...) in it)");
  }
  open_.push_back(Library{path, handle});
  std::vector<GroutineId> ids;
  for (const Definition& d : definitions) ids.push_back(runtime.load(d).id());
  return ids;
}

bool Libraries::unload(Runtime& runtime, const std::string& path) {
  auto it = std::find_if(open_.begin(), open_.end(),
                         [&](const Library& l) { return l.path == path; });
  if (it == open_.end()) return false;
  runtime.unload_source(path);  // before dlclose: their code lives in the library
  dlclose(it->handle);
  open_.erase(it);
  return true;
}

void Libraries::unload_all(Runtime& runtime) {
  runtime.unload_all();
  close();
}

void Libraries::close() noexcept {
  while (!open_.empty()) {
    dlclose(open_.back().handle);
    open_.pop_back();
  }
}

std::vector<std::string> Libraries::paths() const {
  std::vector<std::string> out;
  for (const Library& l : open_) out.push_back(l.path);
  return out;
}

}  // namespace groutines
