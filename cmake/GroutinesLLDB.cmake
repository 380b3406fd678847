# GroutinesLLDB: finds the LLDB to build against (no CMake config ships for it in Debian).
# Sets GROUTINES_LLDB_FOUND, and the cache variables GROUTINES_LLDB_ROOT (default
# /usr/lib/llvm-19), GROUTINES_LLDB_INCLUDE_DIR and GROUTINES_LLDB_LIBRARY.
set(GROUTINES_LLDB_ROOT /usr/lib/llvm-19 CACHE PATH "Root of the LLDB installation to build against")
find_path(GROUTINES_LLDB_INCLUDE_DIR lldb/API/LLDB.h
  HINTS ${GROUTINES_LLDB_ROOT}/include NO_DEFAULT_PATH)
find_library(GROUTINES_LLDB_LIBRARY NAMES lldb lldb-19
  HINTS ${GROUTINES_LLDB_ROOT}/lib NO_DEFAULT_PATH)
if(GROUTINES_LLDB_INCLUDE_DIR AND GROUTINES_LLDB_LIBRARY)
  set(GROUTINES_LLDB_FOUND TRUE)
else()
  set(GROUTINES_LLDB_FOUND FALSE)
endif()
