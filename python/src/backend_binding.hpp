#pragma once
// HostedRuntime: a runtime over a Backend implemented in Python (groutines.Backend), which a
// Python host (a debugger whose only API is Python) constructs and reports events to.
#include <pybind11/pybind11.h>

#include <memory>
#include <string>
#include <vector>

#include "groutines/runtime.hpp"
#include "groutines/event_log.hpp"
#include "groutines/libraries.hpp"

namespace groutines::python {

namespace py = pybind11;

class HostedRuntime {
 public:
  // HostedRuntime() makes a runtime over backend (a groutines.Backend), the default runtime
  // when make_default. It holds backend: the backend outlives the runtime.
  HostedRuntime(py::object backend, bool make_default);
  // ~HostedRuntime() closes it.
  ~HostedRuntime();
  HostedRuntime(const HostedRuntime&) = delete;
  HostedRuntime& operator=(const HostedRuntime&) = delete;

  // runtime() is the runtime; Error once closed.
  Runtime& runtime();
  // backend() is the Python backend.
  py::object backend() const { return backend_object_; }
  // closed() tells whether close() ran.
  bool closed() const noexcept { return closed_; }
  // close() stops being the default runtime, unloads every groutine (newest first) and
  // closes the C++ libraries it loaded. The Runtime object itself lives until the host is
  // destroyed, so that a Python handle on it (`.runtime`) never dangles. Called with the GIL
  // held; marks it closed before releasing the GIL, so a second close() or a delivery from
  // another thread meanwhile finds it closed; again does nothing.
  void close();
  // load_library() loads the groutines of the C++ groutine library at path; their ids. A
  // library already loaded from path is reloaded.
  std::vector<GroutineId> load_library(const std::string& path);
  // libraries() are the C++ groutine libraries it loaded (also by `groutine load` through
  // groutines._native.command()).
  Libraries& libraries() noexcept { return libraries_; }
  // event_log() is the log of the events its backend observed and of its groutines' log and
  // stop lines, which `groutine events` shows (groutines._native.command()).
  EventLog& event_log() noexcept { return log_; }

 private:
  py::object backend_object_;  // declared first: destroyed after the runtime
  Backend& backend_;
  EventLog log_;  // filled by the backend (a groutines.Backend): outlives the runtime
  std::unique_ptr<Runtime> runtime_;
  bool closed_ = false;
  Libraries libraries_;  // closed after its groutines are unloaded
};

// describe_exception() is a Python exception as "ValueError: message" (the GIL held); never
// throws.
std::string describe_exception(py::error_already_set& e) noexcept;

// threads_from_python() reads the threads a Python frame reports ([(id, {register: value})],
// rsp the stack pointer), or Error naming what returned something else.
std::vector<ThreadState> threads_from_python(py::handle list, const char* what);

// bind_backend() adds Backend, Frame, Outcome and HostedRuntime to the module.
void bind_backend(py::module_& m);

}  // namespace groutines::python
