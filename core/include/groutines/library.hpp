#pragma once
#include <string>

#include "groutines/export.hpp"

namespace groutines {

// open_library() dlopens the groutine library at path (RTLD_NOW | RTLD_LOCAL) and tags the
// groutines it registers with path (Registry::Capture); returns its handle. Throws Error naming
// path and what was wrong: dlopen's own error, or a static initialiser that threw (of the
// library or of one it brings in): "cannot load 'libx.so': a static initialiser threw
// std::runtime_error: boom". Such an initialiser does not end the process: the rest of it is
// skipped, the loader goes on, and the library is closed again (the objects it had finished
// constructing are destroyed; its groutines are not registered).
GROUTINES_API void* open_library(const std::string& path);

}  // namespace groutines
