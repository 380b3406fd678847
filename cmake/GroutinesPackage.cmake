# GroutinesPackage: what `cmake --install` adds beside the targets' own install rules (the
# `groutines` command, the CMake package, the docs), and the .deb (`cpack -G DEB` in the build).
# The layout is in GroutinesInstall.cmake and docs/install.md.
include(CMakePackageConfigHelpers)

# The `groutines` command: scripts/groutines with INSTALLED set to the installed layout, each
# path relative to PREFIX/bin, so the installed tree works wherever it is put.
set(groutines_layout)
foreach(entry
    "prefix=."
    "python=${GROUTINES_INSTALL_PYTHONDIR}"
    "plugin=${GROUTINES_INSTALL_LIBDIR}/libgroutines_lldb.so"
    "stock=${GROUTINES_INSTALL_STOCKDIR}"
    "stock_lib=${GROUTINES_INSTALL_STOCKLIBDIR}"
    "gdb=${GROUTINES_INSTALL_GDBDIR}/groutines.py")
  string(REPLACE "=" ";" pair ${entry})
  list(GET pair 0 key)
  list(GET pair 1 path)
  groutines_relative_path(relative ${CMAKE_INSTALL_BINDIR} ${path})
  string(APPEND groutines_layout "\n    \"${key}\": \"${relative}\",")
endforeach()
file(READ ${PROJECT_SOURCE_DIR}/scripts/groutines groutines_launcher)
set(groutines_marker "\nINSTALLED = None\n")
string(FIND "${groutines_launcher}" "${groutines_marker}" groutines_marker_at)
if(groutines_marker_at EQUAL -1)
  message(FATAL_ERROR "scripts/groutines has no line 'INSTALLED = None' for the install to set")
endif()
string(REPLACE "${groutines_marker}"
  "\nINSTALLED = {\n    \"version\": \"${PROJECT_VERSION}\",${groutines_layout}\n}\n"
  groutines_launcher "${groutines_launcher}")
file(WRITE ${PROJECT_BINARY_DIR}/install/groutines "${groutines_launcher}")
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/scripts/groutines)
install(PROGRAMS ${PROJECT_BINARY_DIR}/install/groutines DESTINATION ${CMAKE_INSTALL_BINDIR})

# The CMake package: find_package(groutines) gives groutines::core and groutines_add_library().
install(EXPORT groutinesTargets NAMESPACE groutines:: DESTINATION ${GROUTINES_INSTALL_CMAKEDIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/groutinesConfig.cmake.in
  ${PROJECT_BINARY_DIR}/install/groutinesConfig.cmake
  INSTALL_DESTINATION ${GROUTINES_INSTALL_CMAKEDIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/install/groutinesConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES
  ${PROJECT_BINARY_DIR}/install/groutinesConfig.cmake
  ${PROJECT_BINARY_DIR}/install/groutinesConfigVersion.cmake
  ${PROJECT_SOURCE_DIR}/cmake/GroutinesAddLibrary.cmake
  DESTINATION ${GROUTINES_INSTALL_CMAKEDIR})

file(GLOB groutines_docs ${PROJECT_SOURCE_DIR}/docs/*.md)
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(FILES ${groutines_docs} DESTINATION ${CMAKE_INSTALL_DOCDIR}/docs)

# The .deb: `cpack -G DEB` in the build, then `apt install ./groutines_*.deb`. The libraries'
# dependencies come from dpkg-shlibdeps; what is not linked is listed here.
set(CPACK_PACKAGE_NAME groutines)
set(CPACK_PACKAGE_VENDOR groutines)
set(CPACK_PACKAGE_CONTACT "groutines maintainers <groutines@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
  "scripts that live in the debugger beside a running program (LLDB, GDB)")
set(CPACK_PACKAGE_DESCRIPTION "groutines are small scripts (Python coroutines or C++ libraries) \
that subscribe to calls of a running program's functions from inside the debugger: to test it, \
inject faults, log, or debug. This package has the LLDB plugin, the in-target agent, the Python \
package, the stock groutines, the C++ headers with a CMake package, and the `groutines` command.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_GENERATOR DEB)
set(CPACK_STRIP_FILES ON)  # the build keeps its debug info; the package does not
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# The Python module is built for one Python (the one LLDB 19 embeds on Debian 12: 3.11).
set(groutines_python_depends "python3")
if(GROUTINES_PYTHON_EXECUTABLE)
  execute_process(COMMAND ${GROUTINES_PYTHON_EXECUTABLE} -c
    "import sys; print('%d.%d' % sys.version_info[:2])"
    OUTPUT_VARIABLE groutines_python_version OUTPUT_STRIP_TRAILING_WHITESPACE)
endif()
if(groutines_python_version MATCHES "^([0-9]+)\\.([0-9]+)$")
  math(EXPR groutines_python_next "${CMAKE_MATCH_2} + 1")
  set(groutines_python_depends
    "python3 (>= ${CMAKE_MATCH_1}.${CMAKE_MATCH_2}), python3 (<< ${CMAKE_MATCH_1}.${groutines_python_next})")
endif()
set(CPACK_DEBIAN_PACKAGE_DEPENDS "lldb-19, python3-lldb-19, ${groutines_python_depends}")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "gdb")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "cmake, g++")
# prerm removes the bytecode Python wrote beside the installed sources (dpkg does not know it).
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${PROJECT_SOURCE_DIR}/cmake/debian/prerm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
