# groutines_target_defaults(target) applies the project's warnings, visibility and
# sanitizers (GROUTINES_SANITIZE) to target. Every target of the project calls it.
function(groutines_target_defaults target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast
    -Wcast-align -Woverloaded-virtual -Wnull-dereference -Wimplicit-fallthrough)
  set_target_properties(${target} PROPERTIES
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  if(GROUTINES_ASSERTS)
    target_compile_options(${target} PRIVATE -UNDEBUG)
  endif()
  if(GROUTINES_SANITIZE)
    target_compile_options(${target} PRIVATE -fsanitize=${GROUTINES_SANITIZE} -fno-omit-frame-pointer)
    target_link_options(${target} PRIVATE -fsanitize=${GROUTINES_SANITIZE})
  endif()
endfunction()

# groutines_add_groutine_library(target source output_dir) builds a C++ groutine library,
# lib<target>.so in output_dir, loadable with `(lldb) groutine load`: groutines_add_library()
# (what the installed CMake package offers) with the project's warnings.
include(GroutinesAddLibrary)
function(groutines_add_groutine_library target source output_dir)
  groutines_add_library(${target} ${source})
  groutines_target_defaults(${target})
  set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${output_dir})
endfunction()
