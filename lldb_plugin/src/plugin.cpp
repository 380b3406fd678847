// The plugin's entry point: `(lldb) plugin load libgroutines_lldb.so` calls it. It only
// builds the command tree; the runtime is made at the first `groutine` command.
#include <lldb/API/LLDB.h>

#include "commands.hpp"

namespace lldb {
__attribute__((visibility("default"))) bool PluginInitialize(lldb::SBDebugger debugger);
}  // namespace lldb

bool lldb::PluginInitialize(lldb::SBDebugger debugger) {
  return groutines::plugin::add_groutine_command(debugger);
}
