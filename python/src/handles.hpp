#pragma once
// The event handles as Python sees them: groutines::Call, Return and CustomEvent, with access
// to the runtime they belong to. Stale handles throw groutines::Error (groutines.Error).
#include <pybind11/pybind11.h>

#include "groutines/api.hpp"

namespace groutines::python {

namespace py = pybind11;

// Handle<H> is handle type H with its runtime exposed (for Return.value and Call.returned()).
template <class H>
class Handle : public H {
 public:
  using H::H;
  explicit Handle(const H& handle) : H(handle) {}
  // runtime() is the runtime that delivered the event (never null in a made handle).
  Runtime& runtime() const noexcept { return *this->runtime_; }
};

using CallHandle = Handle<Call>;
using ReturnHandle = Handle<Return>;
using CustomEventHandle = Handle<CustomEvent>;

// handle_for() is the Python handle of event, by its kind: Call, Return or CustomEvent.
py::object handle_for(Runtime& runtime, const Event& event);

// bind_handles() adds Call, Return and CustomEvent to module.
void bind_handles(py::module_& module);

}  // namespace groutines::python
