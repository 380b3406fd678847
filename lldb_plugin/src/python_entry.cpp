// The plugin calls groutines._host through the Python C API of the interpreter LLDB embeds.
// The plugin does not link libpython: liblldb does, and the functions are looked up in the
// process (dlsym), so the plugin loads in an LLDB with or without Python and `groutine load`
// of a C++ library never touches Python. No Python object outlives a call: nothing is left
// for the interpreter's finalisation at exit.
#include "python_entry.hpp"

#include <dlfcn.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <cstddef>
#include <string>
#include <type_traits>
#include <vector>

#include <lldb/API/SBStructuredData.h>

#include "groutines/error.hpp"

namespace groutines::plugin {

namespace {

// The few C API functions the entry needs, with the types of their stable ABI.
struct PyObject;
using Py_ssize_t = std::ptrdiff_t;
using PyGILState_STATE = int;

struct PythonApi {
  int (*Py_IsInitialized)();
  PyGILState_STATE (*PyGILState_Ensure)();
  void (*PyGILState_Release)(PyGILState_STATE);
  void (*Py_DecRef)(PyObject*);
  void (*Py_IncRef)(PyObject*);
  PyObject* (*PySys_GetObject)(const char*);
  int (*PySequence_Contains)(PyObject*, PyObject*);
  int (*PyList_Insert)(PyObject*, Py_ssize_t, PyObject*);
  PyObject* (*PyImport_ImportModule)(const char*);
  PyObject* (*PyObject_GetAttrString)(PyObject*, const char*);
  PyObject* (*PyObject_CallFunctionObjArgs)(PyObject*, ...);
  PyObject* (*PyUnicode_DecodeFSDefaultAndSize)(const char*, Py_ssize_t);
  PyObject* (*PyUnicode_AsEncodedString)(PyObject*, const char*, const char*);
  int (*PyBytes_AsStringAndSize)(PyObject*, char**, Py_ssize_t*);
  PyObject* (*PySequence_GetItem)(PyObject*, Py_ssize_t);
  PyObject* (*PyObject_Str)(PyObject*);
  PyObject* (*PyErr_Occurred)();
  void (*PyErr_Fetch)(PyObject**, PyObject**, PyObject**);
  void (*PyErr_NormalizeException)(PyObject**, PyObject**, PyObject**);
  PyObject* (*PyObject_Type)(PyObject*);
};

// python_api() looks the functions up once; nullptr (with missing set) when this process has
// no Python.
const PythonApi* python_api(std::string& missing) {
  static PythonApi api;
  static std::string absent = [] {
    auto find = [](auto& fn, const char* name) {
      fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(dlsym(RTLD_DEFAULT, name));
      return fn != nullptr;
    };
#define GROUTINES_PY(name) \
  if (!find(api.name, #name)) return std::string(#name);
    GROUTINES_PY(Py_IsInitialized)
    GROUTINES_PY(PyGILState_Ensure)
    GROUTINES_PY(PyGILState_Release)
    GROUTINES_PY(Py_DecRef)
    GROUTINES_PY(Py_IncRef)
    GROUTINES_PY(PySys_GetObject)
    GROUTINES_PY(PySequence_Contains)
    GROUTINES_PY(PyList_Insert)
    GROUTINES_PY(PyImport_ImportModule)
    GROUTINES_PY(PyObject_GetAttrString)
    GROUTINES_PY(PyObject_CallFunctionObjArgs)
    GROUTINES_PY(PyUnicode_DecodeFSDefaultAndSize)
    GROUTINES_PY(PyUnicode_AsEncodedString)
    GROUTINES_PY(PyBytes_AsStringAndSize)
    GROUTINES_PY(PySequence_GetItem)
    GROUTINES_PY(PyObject_Str)
    GROUTINES_PY(PyErr_Occurred)
    GROUTINES_PY(PyErr_Fetch)
    GROUTINES_PY(PyErr_NormalizeException)
    GROUTINES_PY(PyObject_Type)
#undef GROUTINES_PY
    return std::string();
  }();
  missing = absent;
  return absent.empty() ? &api : nullptr;
}

bool has_package(const std::string& dir) {
  struct stat st {};
  return stat((dir + "/groutines/_host.py").c_str(), &st) == 0;
}

std::string parent_of(const std::string& path) {
  std::size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

// Call is one call into Python: it holds the GIL and the references it made, and gives both
// back however it ends.
class Call {
 public:
  explicit Call(const PythonApi& py) : py_(py), gil_(py.PyGILState_Ensure()) {}
  ~Call() {
    for (PyObject* o : owned_) py_.Py_DecRef(o);
    py_.PyGILState_Release(gil_);
  }
  Call(const Call&) = delete;
  Call& operator=(const Call&) = delete;

  // own() keeps a new reference until the call ends; a null one throws the pending exception.
  PyObject* own(PyObject* o, const char* what) {
    if (!o) throw Error(std::string(what) + ": " + pending_exception());
    owned_.push_back(o);
    return o;
  }

  // text() is str o as UTF-8, what cannot be encoded (lone surrogates) escaped.
  std::string text(PyObject* o, const char* what) {
    PyObject* bytes = own(py_.PyUnicode_AsEncodedString(o, "utf-8", "backslashreplace"), what);
    char* data = nullptr;
    Py_ssize_t size = 0;
    if (py_.PyBytes_AsStringAndSize(bytes, &data, &size) != 0)
      throw Error(std::string(what) + ": " + pending_exception());
    return std::string(data, static_cast<std::size_t>(size));
  }

  // pending_exception() takes the pending exception as "Type: message". A step that fails
  // while rendering it (a __name__ or __str__ that raises) is left out, and its exception
  // cleared before the next call into the C API, which must not run with one pending.
  std::string pending_exception() {
    if (!py_.PyErr_Occurred()) return "(no Python exception)";
    PyObject *type = nullptr, *value = nullptr, *traceback = nullptr;
    py_.PyErr_Fetch(&type, &value, &traceback);
    py_.PyErr_NormalizeException(&type, &value, &traceback);
    if (type) owned_.push_back(type);
    if (value) owned_.push_back(value);
    if (traceback) owned_.push_back(traceback);
    clear();  // NormalizeException can fail too
    std::string out;
    if (type)
      if (PyObject* name = kept(py_.PyObject_GetAttrString(type, "__name__")))
        if (PyObject* s = kept(py_.PyObject_Str(name))) out = quiet_text(s);
    if (value)
      if (PyObject* s = kept(py_.PyObject_Str(value))) {
        std::string message = quiet_text(s);
        out += (out.empty() || message.empty() ? "" : ": ") + message;
      }
    return out.empty() ? "(an exception without a message)" : out;
  }

 private:
  // kept() owns o, or clears the exception that made it nullptr.
  PyObject* kept(PyObject* o) {
    if (o)
      owned_.push_back(o);
    else
      clear();
    return o;
  }
  // clear() drops a pending exception, if any.
  void clear() {
    if (!py_.PyErr_Occurred()) return;
    PyObject *t = nullptr, *v = nullptr, *tb = nullptr;
    py_.PyErr_Fetch(&t, &v, &tb);
    drop(t, v, tb);
  }
  std::string quiet_text(PyObject* s) {
    PyObject* bytes = kept(py_.PyUnicode_AsEncodedString(s, "utf-8", "backslashreplace"));
    if (!bytes) return "";
    char* data = nullptr;
    Py_ssize_t size = 0;
    if (py_.PyBytes_AsStringAndSize(bytes, &data, &size) != 0) {
      clear();
      return "";
    }
    return std::string(data, static_cast<std::size_t>(size));
  }
  void drop(PyObject* a, PyObject* b, PyObject* c) {
    for (PyObject* o : {a, b, c})
      if (o) py_.Py_DecRef(o);
  }

  const PythonApi& py_;
  PyGILState_STATE gil_;
  std::vector<PyObject*> owned_;
};

}  // namespace

std::string python_package_dir() {
  if (const char* env = getenv("GROUTINES_PYTHON_DIR"); env && *env) {
    if (has_package(env)) return env;
    throw Error(std::string("GROUTINES_PYTHON_DIR is '") + env +
                "', which holds no groutines Python package (groutines/_host.py)");
  }
  Dl_info info{};
  if (!dladdr(reinterpret_cast<void*>(&python_package_dir), &info) || !info.dli_fname)
    throw Error("cannot tell where the groutines plugin was loaded from (dladdr failed)");
  std::vector<std::string> plugin_dirs{parent_of(info.dli_fname)};
  char resolved[PATH_MAX];
  if (realpath(info.dli_fname, resolved) && parent_of(resolved) != plugin_dirs[0])
    plugin_dirs.push_back(parent_of(resolved));
  std::string looked;
  for (const std::string& dir : plugin_dirs)
    for (const char* relative : {"/python", "/share/groutines/python"}) {
      std::string candidate = parent_of(dir) + relative;
      if (has_package(candidate)) return candidate;
      looked += (looked.empty() ? "" : ", ") + candidate;
    }
  throw Error("Python groutines need the groutines Python package, which is not beside the "
              "plugin (looked in " + looked + "; set GROUTINES_PYTHON_DIR to the directory "
              "that holds groutines/)");
}

PythonReply call_python_entry(lldb::SBDebugger& debugger, const char* function,
                              const std::string& path) {
  debugger.GetScriptInterpreterInfo(lldb::eScriptLanguagePython);  // makes it if not yet made
  std::string missing;
  const PythonApi* py = python_api(missing);
  if (!py)
    throw Error("Python groutines need LLDB's Python, which this process lacks (no " + missing +
                ")");
  if (!py->Py_IsInitialized())
    throw Error("Python groutines need LLDB's Python, which is not initialised");
  const std::string package_dir = python_package_dir();
  Call call(*py);
  // sys.path is borrowed: a strong reference keeps it alive while the calls below run
  // Python code (an __eq__ of an item of it, an import) that could replace it.
  PyObject* sys_path = py->PySys_GetObject("path");
  if (!sys_path) throw Error("LLDB's Python has no sys.path");
  py->Py_IncRef(sys_path);
  call.own(sys_path, "sys.path");
  PyObject* dir = call.own(
      py->PyUnicode_DecodeFSDefaultAndSize(package_dir.data(), Py_ssize_t(package_dir.size())),
      "the package directory");
  int present = py->PySequence_Contains(sys_path, dir);
  if (present < 0) throw Error("sys.path: " + call.pending_exception());
  if (present == 0 && py->PyList_Insert(sys_path, 0, dir) != 0)
    throw Error("sys.path: " + call.pending_exception());
  PyObject* host = call.own(py->PyImport_ImportModule("groutines._host"),
                            ("cannot import groutines._host from " + package_dir).c_str());
  PyObject* entry = call.own(py->PyObject_GetAttrString(host, function),
                             "groutines._host has no entry point");
  PyObject* argument = call.own(
      py->PyUnicode_DecodeFSDefaultAndSize(path.data(), Py_ssize_t(path.size())), "the path");
  PyObject* reply = call.own(py->PyObject_CallFunctionObjArgs(entry, argument, nullptr),
                             "the Python entry point failed");
  PythonReply out;
  out.output = call.text(call.own(py->PySequence_GetItem(reply, 0), "the entry's reply"),
                         "the entry's output");
  out.error = call.text(call.own(py->PySequence_GetItem(reply, 1), "the entry's reply"),
                        "the entry's error");
  return out;
}

}  // namespace groutines::plugin
