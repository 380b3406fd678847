#pragma once
// bind_layout() adds ArgumentLayout (the core's SysV argument layout over any groutines.Frame)
// and type_value() to the module, for hosts written in Python (the GDB frontend).
#include <pybind11/pybind11.h>

#include "groutines/argument_layout.hpp"

namespace groutines::python {

// Layout is one function's classified arguments and return value (ArgumentLayout in Python).
struct Layout {
  sysv::ArgumentLayout arguments;
  sysv::ReturnLayout returns;
  sysv::TypeDescription return_type;
};

void bind_layout(pybind11::module_& m);

}  // namespace groutines::python
