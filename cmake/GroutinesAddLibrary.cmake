# groutines_add_library(name source...) builds a C++ groutine library: lib<name>.so, a module
# of GROUTINE(...)s linked against groutines::core, loadable with `groutine load` (LLDB, GDB)
# and `groutines run`. The groutines of this repository are built with it, and the installed
# CMake package offers it:
#
#   find_package(groutines REQUIRED)
#   groutines_add_library(my_checks checks.cpp)
function(groutines_add_library name)
  if(NOT ARGN)
    message(FATAL_ERROR "groutines_add_library(${name}): no source files (usage: "
                        "groutines_add_library(NAME source.cpp...))")
  endif()
  if(NOT TARGET groutines::core)
    message(FATAL_ERROR "groutines_add_library(${name}): no target groutines::core "
                        "(find_package(groutines) first)")
  endif()
  add_library(${name} MODULE ${ARGN})
  target_link_libraries(${name} PRIVATE groutines::core)
  target_compile_features(${name} PRIVATE cxx_std_17)
  set_target_properties(${name} PROPERTIES
    PREFIX lib
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
endfunction()
