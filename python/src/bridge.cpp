#include "bridge.hpp"

#include <limits>

namespace groutines::python {

thread_local int InRuntime::depth_ = 0;

std::string to_text(py::handle object) {
  PyObject* o = object.ptr();
  if (PyBytes_Check(o)) return std::string(PyBytes_AS_STRING(o), static_cast<std::size_t>(PyBytes_GET_SIZE(o)));
  Py_ssize_t size = 0;
  if (const char* utf8 = PyUnicode_AsUTF8AndSize(o, &size))
    return std::string(utf8, static_cast<std::size_t>(size));
  PyErr_Clear();  // a lone surrogate: escaped
  PyObject* bytes = PyUnicode_AsEncodedString(o, "utf-8", "backslashreplace");
  if (!bytes) throw py::error_already_set();  // not a str at all: a bug of ours
  std::string out(PyBytes_AS_STRING(bytes), static_cast<std::size_t>(PyBytes_GET_SIZE(bytes)));
  Py_DECREF(bytes);
  return out;
}

py::str from_text(const std::string& text) {
  PyObject* s = PyUnicode_DecodeUTF8(text.data(), static_cast<Py_ssize_t>(text.size()), "replace");
  if (!s) throw py::error_already_set();
  return py::reinterpret_steal<py::str>(s);
}

Value to_value(py::handle object) {
  PyObject* o = object.ptr();
  if (o == Py_None) return std::monostate{};
  if (PyBool_Check(o)) return o == Py_True;
  if (PyLong_Check(o)) {
    int overflow = 0;
    long long i = PyLong_AsLongLongAndOverflow(o, &overflow);
    if (!overflow) return static_cast<std::int64_t>(i);
    if (overflow > 0) {
      // Addresses and unsigned 64-bit values: kept as their two's complement bits.
      unsigned long long u = PyLong_AsUnsignedLongLong(o);
      if (!PyErr_Occurred()) return static_cast<std::int64_t>(u);
      PyErr_Clear();
    }
    throw py::value_error("integer " + to_text(py::repr(object)) +
                          " does not fit in 64 bits");
  }
  if (PyFloat_Check(o)) return PyFloat_AS_DOUBLE(o);
  if (PyUnicode_Check(o)) return to_text(object);
  throw py::type_error("a groutines value is None, bool, int, float or str, not " +
                       std::string(Py_TYPE(o)->tp_name));
}

py::object from_value(const Value& value) {
  struct Convert {
    py::object operator()(std::monostate) const { return py::none(); }
    py::object operator()(bool b) const { return py::bool_(b); }
    py::object operator()(std::int64_t i) const { return py::int_(i); }
    py::object operator()(double d) const { return py::float_(d); }
    py::object operator()(const std::string& s) const { return from_text(s); }
  };
  return std::visit(Convert{}, value);
}

Data to_data(const py::dict& data) {
  Data out;
  out.reserve(data.size());
  for (auto [key, value] : data) {
    if (!PyUnicode_Check(key.ptr())) throw py::type_error("event data keys are str");
    out.push_back(Field{to_text(key), to_value(value)});
  }
  return out;
}

py::dict from_data(const Data& data) {
  py::dict out;
  for (const Field& f : data) out[from_text(f.key)] = from_value(f.value);
  return out;
}

bool python_alive() noexcept {
#if PY_VERSION_HEX >= 0x030D0000
  return Py_IsInitialized() && !Py_IsFinalizing();
#else
  return Py_IsInitialized() && !_Py_IsFinalizing();
#endif
}

SharedObject::SharedObject(py::object object)
    : holder_(std::make_shared<Holder>(Holder{std::move(object)})) {}

SharedObject::Holder::~Holder() {
  if (!object) return;
  if (!python_alive()) {
    object.release();  // the interpreter is gone: leak rather than touch it
    return;
  }
  py::gil_scoped_acquire gil;
  object = py::object();
}

py::object error_type() {
  return py::module_::import("groutines._native").attr("Error");
}

void raise_error(const std::string& message) {
  PyErr_SetString(error_type().ptr(), message.c_str());
  throw py::error_already_set();
}

std::exception_ptr python_failure(const std::string& file) {
  PyObject* type = nullptr;
  PyObject* value = nullptr;
  PyObject* trace = nullptr;
  PyErr_Fetch(&type, &value, &trace);
  if (!type) return std::make_exception_ptr(Error("a Python groutine failed without an exception"));
  PyErr_NormalizeException(&type, &value, &trace);
  if (trace && value) PyException_SetTraceback(value, trace);
  py::object type_(py::reinterpret_steal<py::object>(type));
  py::object value_(py::reinterpret_steal<py::object>(value));
  py::object trace_(py::reinterpret_steal<py::object>(trace));
  try {
    py::tuple described =
        py::module_::import("groutines._failure").attr("describe")(value_, file);
    return std::make_exception_ptr(RequireFailure(
        to_text(described[0]), Location{to_text(described[1]), described[2].cast<unsigned>()}));
  } catch (py::error_already_set& e) {
    return std::make_exception_ptr(
        RequireFailure(to_text(py::str(type_)) + " (and describing it failed: " +
                           e.what() + ")",
                       Location{file, 0}));
  }
}

}  // namespace groutines::python
