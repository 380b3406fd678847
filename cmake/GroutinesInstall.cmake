# GroutinesInstall: where `cmake --install` puts each piece, relative to the prefix
# (docs/install.md).
# The pieces find each other by these relative paths (RUNPATHs with $ORIGIN, the plugin's search
# for its Python package, the `groutines` command's layout), never by an absolute path, so an
# installed tree works wherever it is put.
#
#   GROUTINES_INSTALL_LIBDIR      libgroutines_core.so, libgroutines_lldb.so and the agent, and
#                                 cmake/groutines/ (the CMake package)
#   GROUTINES_INSTALL_DATADIR     share/groutines: python/ (the Python packages), gdb/ (the GDB
#                                 frontend), stock/ (the Python stock groutines), examples/
#   GROUTINES_INSTALL_PYTHONDIR   share/groutines/python
#   GROUTINES_INSTALL_STOCKDIR    share/groutines/stock
#   GROUTINES_INSTALL_STOCKLIBDIR lib/groutines/stock: the C++ stock groutines
#   GROUTINES_INSTALL_CMAKEDIR    lib/cmake/groutines
include(GNUInstallDirs)

# The plugin looks for its package in PREFIX/share/groutines/python from PREFIX/DIR/ (the parent
# of its own directory: lldb_plugin/src/python_entry.cpp): the libraries go in a directory one
# level under the prefix. A multiarch libdir (lib/x86_64-linux-gnu, what GNUInstallDirs picks for
# the prefix /usr) is replaced by lib.
if(CMAKE_INSTALL_LIBDIR MATCHES "^[^/]+$")
  set(GROUTINES_INSTALL_LIBDIR ${CMAKE_INSTALL_LIBDIR})
else()
  set(GROUTINES_INSTALL_LIBDIR lib)
  message(STATUS "groutines: the libraries install in PREFIX/lib, not ${CMAKE_INSTALL_LIBDIR} "
                 "(the plugin finds its Python package from PREFIX/DIR/)")
endif()
if(NOT CMAKE_INSTALL_DATADIR STREQUAL "share")
  message(WARNING "groutines: CMAKE_INSTALL_DATADIR is ${CMAKE_INSTALL_DATADIR}: the installed "
                  "plugin looks for its Python package in PREFIX/share/groutines/python and "
                  "will need GROUTINES_PYTHON_DIR")
endif()
set(GROUTINES_INSTALL_DATADIR ${CMAKE_INSTALL_DATADIR}/groutines)
set(GROUTINES_INSTALL_PYTHONDIR ${GROUTINES_INSTALL_DATADIR}/python)
set(GROUTINES_INSTALL_GDBDIR ${GROUTINES_INSTALL_DATADIR}/gdb)
set(GROUTINES_INSTALL_STOCKDIR ${GROUTINES_INSTALL_DATADIR}/stock)
set(GROUTINES_INSTALL_EXAMPLESDIR ${GROUTINES_INSTALL_DATADIR}/examples)
set(GROUTINES_INSTALL_STOCKLIBDIR ${GROUTINES_INSTALL_LIBDIR}/groutines/stock)
set(GROUTINES_INSTALL_CMAKEDIR ${GROUTINES_INSTALL_LIBDIR}/cmake/groutines)

# groutines_relative_path(out from to) sets out to the path of the install directory `to` seen
# from the install directory `from` (both relative to the prefix), "." when they are the same.
function(groutines_relative_path out from to)
  file(RELATIVE_PATH relative /prefix/${from} /prefix/${to})
  string(REGEX REPLACE "/+$" "" relative "${relative}")
  if(relative STREQUAL "")
    set(relative .)
  endif()
  set(${out} ${relative} PARENT_SCOPE)
endfunction()

# groutines_install_rpath(target dir) gives target, installed in dir, a RUNPATH that finds
# libgroutines_core.so in GROUTINES_INSTALL_LIBDIR from wherever the tree is installed.
function(groutines_install_rpath target dir)
  groutines_relative_path(relative ${dir} ${GROUTINES_INSTALL_LIBDIR})
  if(relative STREQUAL ".")
    set_target_properties(${target} PROPERTIES INSTALL_RPATH "$ORIGIN")
  else()
    set_target_properties(${target} PROPERTIES INSTALL_RPATH "$ORIGIN/${relative}")
  endif()
endfunction()
