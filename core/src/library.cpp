#include "groutines/library.hpp"

#include <dlfcn.h>

#include "containment.hpp"
#include "groutines/error.hpp"
#include "groutines/registry.hpp"

namespace groutines {

void* open_library(const std::string& path) {
  void* handle = nullptr;
  std::string threw;
  {
    Registry::Capture capture(path);
    containment::InitialiserGuard guard;
    handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    threw = guard.threw();
  }
  if (!handle) {
    const char* why = dlerror();
    throw Error("cannot load '" + path + "': " + (why ? why : "dlopen failed"));
  }
  if (!threw.empty()) {
    dlclose(handle);
    throw Error("cannot load '" + path + "': a static initialiser threw " + threw);
  }
  return handle;
}

}  // namespace groutines
