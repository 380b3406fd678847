#pragma once
// bind_layout() adds ArgumentLayout (the core's SysV argument layout over any groutines.Frame)
// and type_value() to the module, for hosts written in Python (the GDB frontend).
#include <pybind11/pybind11.h>

namespace groutines::python {

void bind_layout(pybind11::module_& m);

}  // namespace groutines::python
