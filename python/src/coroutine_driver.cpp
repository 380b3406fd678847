#include "coroutine_driver.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <utility>

#include "awaitables.hpp"
#include "bridge.hpp"
#include "groutines/runtime.hpp"
#include "groutines/runtime_internals.hpp"

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

namespace {
const char* name(CoroutineDriver::Stage stage) {
  switch (stage) {
    case CoroutineDriver::Stage::Fresh: return "fresh";
    case CoroutineDriver::Stage::Suspended: return "suspended";
    case CoroutineDriver::Stage::Running: return "running";
    case CoroutineDriver::Stage::Done: return "done";
  }
  return "?";
}
}  // namespace

void CoroutineDriver::bad_transition(Stage from, Stage to) const {
  std::fprintf(stderr,
               "groutines: internal error: Python groutine driver: %s -> %s expected from %s\n",
               name(stage_), name(to), name(from));
  std::abort();
}

Groutine* CoroutineDriver::current_groutine() noexcept { return t_running.groutine; }
CoroutineDriver* CoroutineDriver::current() noexcept { return t_running.driver; }

void CoroutineDriver::adopt(const std::shared_ptr<HookHold>& hold) {
  // Streams made in a loop come and go: forget the dead ones first.
  holds_.erase(std::remove_if(holds_.begin(), holds_.end(),
                              [](const std::weak_ptr<HookHold>& h) { return h.expired(); }),
               holds_.end());
  holds_.push_back(hold);
}

// release_everything() ends the driver's hold on the groutine's resources: hooks of its
// streams, the wait and the coroutine (whose frame, released, releases its locals).
void CoroutineDriver::release_everything() {
  for (const auto& weak : holds_)
    if (auto hold = weak.lock()) hold->release();
  holds_.clear();
  pending_request_ = nullptr;
  pending_ = py::object();
  coroutine_ = py::object();
}

namespace {

// keep_thread_state() keeps the calling thread's Python thread state from one delivery to the
// next: on a thread Python did not start (the agent's service thread, LLDB's private state
// thread), pybind11 would make one at each acquisition and destroy it at each release.
void keep_thread_state(py::gil_scoped_acquire& gil) {
  thread_local bool kept = false;
  if (!kept) {
    gil.inc_ref();
    kept = true;
  }
}

}  // namespace

Step CoroutineDriver::resume(Groutine& groutine) {
  if (!python_alive())
    return Step{true, std::make_exception_ptr(
                          Error("the Python interpreter has shut down: Python groutines stop"))};
  py::gil_scoped_acquire gil;
  keep_thread_state(gil);
  Enter enter(this, &groutine);
  // Nothing may escape into the runtime: a failure of ours ends the groutine, reported.
  try {
    return step(groutine);
  } catch (py::error_already_set& e) {
    e.restore();
    std::exception_ptr failure = python_failure(groutine.location().file);
    stage_ = Stage::Done;
    release_everything();
    return Step{true, failure};
  } catch (...) {
    std::exception_ptr failure = std::current_exception();
    stage_ = Stage::Done;
    release_everything();
    return Step{true, failure};
  }
}

// step() is resume() with the GIL held: one send (or throw) after another until the coroutine
// yields a wait the runtime takes, or ends.
Step CoroutineDriver::step(Groutine& groutine) {
  Runtime& runtime = groutine.runtime();

  py::object value = py::none();
  if (stage_ == Stage::Suspended) {
    value = pending_request_->result(runtime, groutine.delivered());
    pending_request_ = nullptr;
    pending_ = py::object();
    transition(Stage::Suspended, Stage::Running);
  } else {
    transition(Stage::Fresh, Stage::Running);
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
      transition(Stage::Running, Stage::Done);
      release_everything();
      return Step{true, nullptr};
    }
    if (sent == PYGEN_ERROR) {
      std::exception_ptr failure = python_failure(groutine.location().file);
      transition(Stage::Running, Stage::Done);
      release_everything();
      return Step{true, failure};
    }
    py::object yielded = py::reinterpret_steal<py::object>(out);
    if (!py::isinstance<WaitRequest>(yielded)) {
      to_throw = exception(
          PyExc_TypeError,
          "a groutine awaits groutines events only (g.call, g.event, g.any, call.returned(), "
          "async for in g.calls), not " +
              to_text(py::repr(yielded)) + " (asyncio does not run in groutines)");
      continue;
    }
    auto& request = yielded.cast<WaitRequest&>();
    try {
      RuntimeInternals::begin_wait(runtime, groutine, request.wait_for(runtime));
    } catch (const Error& e) {
      to_throw = exception(error_type(), e.what());
      continue;
    }
    pending_request_ = &request;
    pending_ = std::move(yielded);
    transition(Stage::Running, Stage::Suspended);
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
  if (stage_ == Stage::Done) return;
  transition(stage_ == Stage::Fresh ? Stage::Fresh : Stage::Suspended, Stage::Running);
  pending_request_ = nullptr;
  pending_ = py::object();
  PyObject* closed = PyObject_CallMethod(coroutine_.ptr(), "close", nullptr);
  if (closed) {
    Py_DECREF(closed);
  } else {
    // A finally block raised (or awaited): recorded, for a groutine that stays loaded.
    std::exception_ptr failure = python_failure(groutine.location().file);
    try {
      std::rethrow_exception(failure);
    } catch (const Error& e) {
      auto* located = dynamic_cast<const RequireFailure*>(&e);
      RuntimeInternals::record_failure(
          groutine.runtime(), std::string("while closing the coroutine: ") + e.what(),
          located ? located->where() : groutine.location());
    }
  }
  transition(Stage::Running, Stage::Done);
  release_everything();
}

bool is_python(const Groutine& groutine) noexcept {
  return dynamic_cast<const CoroutineDriver*>(&groutine.driver()) != nullptr;
}

}  // namespace groutines::python
