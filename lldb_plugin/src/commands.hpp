#pragma once
#include <lldb/API/LLDB.h>

namespace groutines::plugin {

// add_groutine_command() adds the `groutine` multiword command and its subcommands to
// debugger's command interpreter. It only builds the command tree.
bool add_groutine_command(lldb::SBDebugger debugger);

}  // namespace groutines::plugin
