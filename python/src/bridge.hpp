#pragma once
// The thin boundary between Python and the core: value conversions, the GIL rules, and how a
// Python exception becomes a groutine failure. Every other file of the module uses these.
//
// The GIL rules, which keep LLDB from deadlocking:
//  - The runtime calls Python (drivers, predicates) from whatever thread delivers, without the
//    GIL: they take it with py::gil_scoped_acquire.
//  - Python never waits for the runtime's lock while holding the GIL: an entry into the runtime
//    from outside a groutine (load, fire from the prompt, a scripted target's events) releases
//    the GIL first (ReleaseGil). Inside a groutine, this thread already holds the runtime's lock.
//  - No Python object lives in a C++ static: it would be released after the interpreter is gone.
#include <pybind11/pybind11.h>

#include <exception>
#include <memory>
#include <optional>
#include <string>

#include "groutines/error.hpp"
#include "groutines/value.hpp"

namespace groutines::python {

namespace py = pybind11;

// Text from scripts and targets is never an error. to_text() is str object as UTF-8, with
// what UTF-8 cannot encode (a lone surrogate: "\udcff") written as a backslash escape
// (Python's errors="backslashreplace"); bytes are taken as they are. Every str that crosses
// into C++ goes through it: names, messages, logs, keys and values. from_text() is the way
// back: invalid UTF-8 becomes U+FFFD (errors="replace").
std::string to_text(py::handle object);
py::str from_text(const std::string& text);

// Text is a str argument of a bound function, converted by to_text() (see the caster below).
struct Text {
  std::string value;
};

// to_value() converts None, bool, int (-2**63 .. 2**64-1), float or str; TypeError otherwise.
Value to_value(py::handle object);
// from_value() converts a Value to None, bool, int, float or str.
py::object from_value(const Value& value);
// to_data() converts a dict of str -> value.
Data to_data(const py::dict& data);
// from_data() converts data to a dict, in the firer's order.
py::dict from_data(const Data& data);

// python_alive() is false once the interpreter is finalizing or gone: nothing may then take
// the GIL (a thread that tries would be stopped by Python).
bool python_alive() noexcept;

// InRuntime marks, on this thread, that the code running is called by the runtime (a driver
// or a predicate), which means this thread holds the runtime's lock.
class InRuntime {
 public:
  InRuntime() noexcept { ++depth_; }
  ~InRuntime() { --depth_; }
  InRuntime(const InRuntime&) = delete;
  InRuntime& operator=(const InRuntime&) = delete;
  // here() tells whether this thread is inside the runtime (and so holds its lock).
  static bool here() noexcept { return depth_ > 0; }

 private:
  static thread_local int depth_;
};

// ReleaseGil releases the GIL for its lifetime unless this thread is inside the runtime
// (where the runtime's lock is already held and waiting for it cannot deadlock).
class ReleaseGil {
 public:
  ReleaseGil() {
    if (!InRuntime::here()) release_.emplace();
  }

 private:
  std::optional<py::gil_scoped_release> release_;
};

// SharedObject holds a Python object that C++ may copy and destroy on any thread, without
// the GIL: the last copy releases it with the GIL held (or leaks it when Python is gone).
class SharedObject {
 public:
  SharedObject() = default;
  explicit SharedObject(py::object object);  // with the GIL held
  // get() is the object; use it with the GIL held.
  py::handle get() const noexcept { return holder_ ? holder_->object : py::handle(); }
  explicit operator bool() const noexcept { return holder_ != nullptr; }

 private:
  struct Holder {
    py::object object;
    ~Holder();
  };
  std::shared_ptr<Holder> holder_;
};

// python_failure() turns the Python exception being raised (the error indicator, which it
// clears) into a RequireFailure for the runtime to record: the Python message ("AssertionError:
// assert ret.value >= 0") and the file:line of the innermost traceback frame in file (the
// groutine's source), or the innermost frame when none is in file. Called with the GIL held.
std::exception_ptr python_failure(const std::string& file);

// raise_error() raises groutines.Error with message (with the GIL held) and throws
// py::error_already_set.
[[noreturn]] void raise_error(const std::string& message);
// error_type() is groutines.Error (a borrowed reference, from the module's namespace).
py::object error_type();

}  // namespace groutines::python

namespace pybind11::detail {
// Text binds a str (or bytes) argument through to_text(): never a cast error.
template <>
struct type_caster<groutines::python::Text> {
  PYBIND11_TYPE_CASTER(groutines::python::Text, const_name("str"));
  bool load(handle source, bool) {
    if (!source || !(PyUnicode_Check(source.ptr()) || PyBytes_Check(source.ptr()))) return false;
    value.value = groutines::python::to_text(source);
    return true;
  }
  static handle cast(const groutines::python::Text& text, return_value_policy, handle) {
    return groutines::python::from_text(text.value).release();
  }
};
}  // namespace pybind11::detail
