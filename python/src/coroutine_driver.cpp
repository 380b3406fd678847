#include "coroutine_driver.hpp"

#include <utility>

#include "awaitables.hpp"
#include "bridge.hpp"
#include "groutines/runtime.hpp"

namespace groutines::python {

namespace {

// The Python groutine running on this thread (they nest: a groutine firing an event runs its
// listeners inside its own step).
struct Running {
  CoroutineDriver* driver = nullptr;
  Groutine* groutine = nullptr;
};
thread_local Running t_running;

class Enter {
 public:
  Enter(CoroutineDriver* driver, Groutine* groutine) noexcept
      : outer_(std::exchange(t_running, Running{driver, groutine})) {}
  ~Enter() { t_running = outer_; }
  Enter(const Enter&) = delete;
  Enter& operator=(const Enter&) = delete;

 private:
  Running outer_;
  InRuntime in_runtime_;
};

// exception() makes an exception instance of type with message, to throw into a coroutine.
py::object exception(py::handle type, const std::string& message) {
  return type(py::str(message));
}

}  // namespace

CoroutineDriver::CoroutineDriver(py::object coroutine) : coroutine_(std::move(coroutine)) {}

CoroutineDriver::~CoroutineDriver() {
  if (!python_alive()) {
    coroutine_.release();
    pending_.release();
    return;
  }
  py::gil_scoped_acquire gil;
  coroutine_ = py::object();
  pending_ = py::object();
}

Groutine* CoroutineDriver::current_groutine() noexcept { return t_running.groutine; }
CoroutineDriver* CoroutineDriver::current() noexcept { return t_running.driver; }

void CoroutineDriver::adopt(const std::shared_ptr<Subscription>& subscription) {
  subscriptions_.push_back(subscription);
}

void CoroutineDriver::release_everything() {
  for (const auto& weak : subscriptions_)
    if (auto subscription = weak.lock()) subscription->reset();
  subscriptions_.clear();
  pending_ = py::object();
  coroutine_ = py::object();
}

Step CoroutineDriver::resume(Groutine& groutine) {
  if (!python_alive())
    return Step{true, std::make_exception_ptr(
                          Error("the Python interpreter has shut down: Python groutines stop"))};
  py::gil_scoped_acquire gil;
  Enter enter(this, &groutine);
  Runtime& runtime = groutine.runtime();

  py::object value = py::none();
  if (pending_) {
    value = pending_.cast<WaitRequest&>().result(runtime, groutine.delivered());
    pending_ = py::object();
  }
  py::object to_throw;
  for (;;) {
    PyObject* out = nullptr;
    PySendResult sent;
    if (to_throw) {
      out = PyObject_CallMethod(coroutine_.ptr(), "throw", "O", to_throw.ptr());
      to_throw = py::object();
      sent = out ? PYGEN_NEXT : PYGEN_ERROR;
      if (!out && PyErr_ExceptionMatches(PyExc_StopIteration)) {
        PyErr_Clear();
        sent = PYGEN_RETURN;
      }
    } else {
      sent = PyIter_Send(coroutine_.ptr(), value.ptr(), &out);
    }
    if (sent == PYGEN_RETURN) {
      Py_XDECREF(out);
      release_everything();
      return Step{true, nullptr};
    }
    if (sent == PYGEN_ERROR) {
      std::exception_ptr failure = python_failure(groutine.location().file);
      release_everything();
      return Step{true, failure};
    }
    py::object yielded = py::reinterpret_steal<py::object>(out);
    if (!py::isinstance<WaitRequest>(yielded)) {
      to_throw = exception(
          PyExc_TypeError,
          "a groutine awaits groutines events only (g.call, g.event, g.any, call.returned(), "
          "async for in g.calls), not " +
              py::repr(yielded).cast<std::string>() + " (asyncio does not run in groutines)");
      continue;
    }
    try {
      runtime.begin_wait(groutine, yielded.cast<WaitRequest&>().wait_for(runtime));
    } catch (const Error& e) {
      to_throw = exception(error_type(), e.what());
      continue;
    }
    pending_ = std::move(yielded);
    return Step{};
  }
}

void CoroutineDriver::suspend(Groutine& groutine) {
  throw Error("groutine '" + groutine.name() +
              "' is a Python coroutine: it cannot block in a wait, it awaits");
}

void CoroutineDriver::cancel(Groutine& groutine) {
  if (!python_alive()) {
    coroutine_.release();
    pending_.release();
    return;
  }
  py::gil_scoped_acquire gil;
  Enter enter(this, &groutine);
  pending_ = py::object();
  if (coroutine_) {
    PyObject* closed = PyObject_CallMethod(coroutine_.ptr(), "close", nullptr);
    if (closed) {
      Py_DECREF(closed);
    } else {
      std::exception_ptr failure = python_failure(groutine.location().file);
      try {
        std::rethrow_exception(failure);
      } catch (const Error& e) {
        auto* located = dynamic_cast<const RequireFailure*>(&e);
        groutine.runtime().record_failure(std::string("while unloading: ") + e.what(),
                                          located ? located->where() : groutine.location());
      }
    }
  }
  release_everything();
}

bool is_python(const Groutine& groutine) noexcept {
  return dynamic_cast<const CoroutineDriver*>(&groutine.driver()) != nullptr;
}

}  // namespace groutines::python
