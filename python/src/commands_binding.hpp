#pragma once
// The `groutine` command set for a Python frontend (a debugger whose only API is Python):
// groutines._native.command(runtime, argv, host) runs the core's commands
// (groutines/commands.hpp), the same text as the LLDB plugin's, with host, a
// groutines._native.CommandHost subclass, doing what only the frontend can. EventLog is the
// log `groutine events` shows, which the frontend's backend fills.
#include <pybind11/pybind11.h>

namespace groutines::python {

// bind_commands() adds command(), CommandHost and EventLog to the module.
void bind_commands(pybind11::module_& m);

}  // namespace groutines::python
