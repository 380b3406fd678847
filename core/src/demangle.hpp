#pragma once
#include <cxxabi.h>

#include <cstdlib>
#include <string>

namespace groutines {

// demangled() is the readable name of a mangled C++ name (a typeid's name()), or mangled
// itself when it is not one.
inline std::string demangled(const char* mangled) {
  int status = 0;
  char* out = abi::__cxa_demangle(mangled, nullptr, nullptr, &status);
  std::string s = status == 0 && out ? out : mangled;
  std::free(out);
  return s;
}

}  // namespace groutines
