#pragma once
// bind_agent() adds groutines._native.agent: the in-target agent's host side for a frontend
// written in Python (the GDB frontend). Built where the agent is (x86-64 Linux).
#include <pybind11/pybind11.h>

namespace groutines::python {

void bind_agent(pybind11::module_& m);

}  // namespace groutines::python
