// The plugin's one way into Python: a call of groutines._host in the Python LLDB embeds.
#pragma once

#include <string>

#include <lldb/API/SBDebugger.h>

namespace groutines::plugin {

// PythonReply is what an entry point of groutines._host answered: the text to print, and the
// error to show after "error: " ("" on success; output is then what was done nonetheless).
struct PythonReply {
  std::string output;
  std::string error;
};

// python_package_dir() is the directory that holds the `groutines` Python package for this
// plugin, searched in this order:
//   1. $GROUTINES_PYTHON_DIR, when set (an error if it holds no groutines/ package);
//   2. UP/python, UP being the parent of the plugin's own directory (the build tree:
//      build/lldb_plugin/libgroutines_lldb.so beside build/python/groutines/);
//   3. UP/share/groutines/python (an installed tree: PREFIX/lib/ beside PREFIX/share/);
//   4. 2 and 3 again from the plugin's path with symlinks resolved, if its directory differs.
// The plugin's directory is the one it was loaded from (dladdr), as given to `plugin load`
// (a symlink's, not its target's, comes first), never a path compiled in. Throws Error
// naming the places searched when none holds groutines/_host.py.
std::string python_package_dir();

// call_python_entry() calls groutines._host.FUNCTION(path) in the Python that LLDB embeds,
// through the Python C API under the GIL (looked up in the process: the plugin does not link
// libpython), with path passed as a str decoded like os.fsdecode() (any bytes survive), and
// returns its (output, error) reply from memory. python_package_dir() goes first on sys.path
// unless already there. The debugger's script interpreter is made first (LLDB may make it
// lazily: it sets up sys.path for `import lldb`). Throws Error when Python is not there or the
// call itself fails.
PythonReply call_python_entry(lldb::SBDebugger& debugger, const char* function,
                              const std::string& path);

}  // namespace groutines::plugin
