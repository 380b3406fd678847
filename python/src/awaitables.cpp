#include "awaitables.hpp"

#include <utility>

#include "coroutine_driver.hpp"
#include "handles.hpp"

namespace groutines::python {

namespace {

// predicate() is the core's view of a Python `where`: called by the runtime on the delivering
// thread, without the GIL, before the groutine is switched into. An exception in it fails the
// groutine (not the delivery), at the predicate's line.
std::function<bool(const Event&)> predicate(Runtime& runtime, SharedObject where) {
  if (!where) return {};
  return [runtime = &runtime, where = std::move(where)](const Event& event) -> bool {
    if (!python_alive()) throw Error("the Python interpreter has shut down");
    py::gil_scoped_acquire gil;
    InRuntime in_runtime;
    py::object handle = handle_for(*runtime, event);
    PyObject* result = PyObject_CallOneArg(where.get().ptr(), handle.ptr());
    int truth = result ? PyObject_IsTrue(result) : -1;
    Py_XDECREF(result);
    if (truth < 0) {
      const Groutine* g = runtime->current_groutine();
      std::rethrow_exception(python_failure(g ? g->location().file : std::string()));
    }
    return truth != 0;
  };
}

SharedObject optional_callable(const py::object& where) {
  if (where.is_none()) return {};
  if (!PyCallable_Check(where.ptr()))
    throw py::type_error("where= takes a function of the event (a lambda), not " +
                         to_text(py::repr(where)));
  return SharedObject(where);
}

py::object one(EventKind kind, std::string name, const py::object& where) {
  WaitRequest::Alternative a;
  a.kind = kind;
  a.name = std::move(name);
  a.where = optional_callable(where);
  return py::cast(WaitRequest({std::move(a)}, false));
}

// request_send() is WaitRequest.send, in the C API: send(None) yields the request, send(result)
// ends the await with result (StopIteration(result); a tuple stays one value). Every await
// ends through it, so it raises StopIteration without a C++ exception.
PyObject* request_send(PyObject* self, PyObject* value) {
  if (value == Py_None) {
    Py_INCREF(self);
    return self;
  }
  PyObject* args = PyTuple_Pack(1, value);
  if (!args) return nullptr;
  PyErr_SetObject(PyExc_StopIteration, args);
  Py_DECREF(args);
  return nullptr;
}

PyMethodDef g_request_send = {"send", request_send, METH_O,
                              "send(value): the await protocol (the driver sends results)."};

}  // namespace

// --- WaitRequest ---

WaitRequest::WaitRequest(std::vector<Alternative> alternatives, bool any)
    : alternatives_(std::move(alternatives)), any_(any) {}

const Wait& WaitRequest::wait_for(Runtime& runtime) {
  if (built_for_ == &runtime) return wait_;
  if (built_for_)
    throw Error("this awaitable was made for another runtime's groutines: make a new one");
  Wait wait;
  wait.reserve(alternatives_.size());
  for (const Alternative& a : alternatives_) {
    Matcher m;
    m.kind = a.kind;
    switch (a.kind) {
      case EventKind::Call: m.key = runtime.function_id(a.name); break;
      case EventKind::Custom: m.key = runtime.event_id(a.name); break;
      case EventKind::Return: m.key = a.call; break;
    }
    m.where = predicate(runtime, a.where);
    wait.push_back(std::move(m));
  }
  wait_ = std::move(wait);
  built_for_ = &runtime;
  return wait_;
}

py::object WaitRequest::result(Runtime& runtime, const Delivered& delivered) const {
  py::object event = handle_for(runtime, *delivered.event);
  if (!any_) return event;
  return py::make_tuple(delivered.index, std::move(event));
}

std::string WaitRequest::describe() const {
  std::vector<WaitText> parts;
  for (const Alternative& a : alternatives_)
    parts.push_back(WaitText{a.kind, a.name, a.call, static_cast<bool>(a.where)});
  return groutines::describe(parts);  // as Groutine::waiting_on() and `groutine list`
}

// --- CallStream ---

CallStream::CallStream(std::string function, SharedObject where) : function_(std::move(function)) {
  WaitRequest::Alternative a;
  a.kind = EventKind::Call;
  a.name = function_;
  a.where = std::move(where);
  request_ = py::cast(WaitRequest({std::move(a)}, false));
}

CallStream::~CallStream() {
  if (!hold_ || hold_->released) return;
  if (InRuntime::here() || !python_alive()) {
    hold_->release();
  } else {
    // Not called by the runtime (a stream dropped outside its groutine): release the hook
    // without holding the GIL, which a delivering thread may be waiting for.
    py::gil_scoped_release release;
    hold_->release();
  }
}

py::object CallStream::next() {
  if (!hold_ || hold_->released) {
    Groutine* g = CoroutineDriver::current_groutine();
    if (!g)
      raise_error("g.calls(\"" + function_ + "\") is iterated inside a groutine: "
                  "async for call in g.calls(\"" + function_ + "\")");
    Runtime& runtime = g->runtime();
    hold_ = std::make_shared<HookHold>(Subscription(runtime, runtime.function_id(function_)));
    CoroutineDriver::current()->adopt(hold_);
  }
  return request_;
}

std::uint64_t CallStream::missed() const {
  if (!hold_) return 0;
  if (hold_->released) return hold_->missed_at_release;
  if (InRuntime::here() || !python_alive()) return hold_->subscription.missed();
  py::gil_scoped_release release;  // the runtime's lock may be held by a delivering thread
  return hold_->subscription.missed();
}

// --- Python ---

void bind_awaitables(py::module_& m) {
  py::class_<WaitRequest>(m, "Awaitable",
                          "What a groutine awaits: made by call(), event(), any(), "
                          "Call.returned(); await it inside a groutine.")
      .def("__await__", [](py::object self) { return self; })
      .def("__iter__", [](py::object self) { return self; })
      .def("__next__", [](py::object self) { return self; })
      .def("__repr__", [](const WaitRequest& w) {
        return "<groutines awaitable: " + w.describe() + ">";
      });
  {
    py::object awaitable = m.attr("Awaitable");
    py::object send = py::reinterpret_steal<py::object>(PyDescr_NewMethod(
        reinterpret_cast<PyTypeObject*>(awaitable.ptr()), &g_request_send));
    if (!send) throw py::error_already_set();
    awaitable.attr("send") = send;
  }

  py::class_<CallStream>(m, "CallStream", "Every call of a function: async for call in calls(f).")
      .def("__aiter__", [](py::object self) { return self; })
      .def("__anext__", &CallStream::next)
      .def_property_readonly("missed", &CallStream::missed,
                             "The calls of the function made while the groutine iterating the "
                             "stream was busy (awaiting something else): it missed them.")
      .def("__repr__", [](const CallStream& s) {
        return "<groutines calls of " + s.function() + ">";
      });

  m.def("call", [](Text function, py::object where) {
        return one(EventKind::Call, std::move(function.value), where);
      },
      py::arg("function"), py::kw_only(), py::arg("where") = py::none(),
      "call(function, where=None): await the next call of function (on any thread) for which "
      "where(call) is true.");
  m.def("event", [](Text name, py::object where) {
        return one(EventKind::Custom, std::move(name.value), where);
      },
      py::arg("name"), py::kw_only(), py::arg("where") = py::none(),
      "event(name, where=None): await the next custom event called name.");
  m.def("calls", [](Text function, py::object where) {
        return std::make_unique<CallStream>(std::move(function.value), optional_callable(where));
      },
      py::arg("function"), py::kw_only(), py::arg("where") = py::none(),
      "calls(function, where=None): async for call in calls(f) -- every call of f.");
  m.def("any", [](py::args awaitables) {
        if (awaitables.empty()) throw py::type_error("any() needs at least one awaitable");
        std::vector<WaitRequest::Alternative> alternatives;
        for (py::handle a : awaitables) {
          if (!py::isinstance<WaitRequest>(a))
            throw py::type_error("any() takes g.call(), g.event() or call.returned() "
                                 "awaitables, not " + to_text(py::repr(a)));
          const WaitRequest& w = a.cast<const WaitRequest&>();
          if (w.any()) throw py::type_error("any() of any() is not supported: flatten it");
          alternatives.push_back(w.alternatives().front());
        }
        return WaitRequest(std::move(alternatives), true);
      },
      "any(*awaitables): await the first of several; evaluates to (index, event).");
}

}  // namespace groutines::python
