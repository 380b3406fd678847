#pragma once
// CoroutineDriver runs a Python groutine: an `async def` coroutine, stepped on the calling
// thread's own stack (never on a fiber), from whichever thread the runtime delivers on.
#include <pybind11/pybind11.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "groutines/groutine.hpp"
#include "groutines/subscription.hpp"

namespace groutines::python {

namespace py = pybind11;

class WaitRequest;

// HookHold is a call stream's hold on its function's hook. The stream owns it; the driver of
// the groutine that iterated the stream releases it when that groutine ends or is unloaded,
// even if the stream lives on (kept in a global, say).
struct HookHold {
  explicit HookHold(Subscription s) : subscription(std::move(s)) {}
  // release() lets the hook go (idempotent).
  void release() noexcept {
    try {
      missed_at_release = subscription.missed();
    } catch (...) {  // the count is lost, not the release
    }
    subscription.reset();
    released = true;
  }
  Subscription subscription;
  bool released = false;
  std::uint64_t missed_at_release = 0;
};

class CoroutineDriver final : public Driver {
 public:
  // Stage is where the coroutine is. Transitions are asserted (debug builds).
  enum class Stage : std::uint8_t {
    Fresh,      // made, not started
    Suspended,  // awaiting pending_, registered with the runtime
    Running,    // inside send(), throw() or close(), with the GIL
    Done,       // returned, raised or closed: it holds nothing
  };

  // CoroutineDriver() takes coroutine (made by calling the groutine's async function, not yet
  // started). Made with the GIL held.
  explicit CoroutineDriver(py::object coroutine);
  // ~CoroutineDriver() releases the coroutine with the GIL (or leaks it when Python is gone).
  ~CoroutineDriver() override;

  // resume() takes the GIL and sends the coroutine the result of its last wait (None at the
  // start) until it yields its next wait, which it registers with the runtime, or ends.
  // Awaiting something that is not a groutines wait, or a wait the runtime refuses, raises
  // in the coroutine at the await (TypeError, groutines.Error). An exception that escapes
  // ends the groutine as failed with the Python message and its file:line.
  Step resume(Groutine& groutine) override;
  // suspend() throws Error: a Python groutine cannot block, it awaits.
  void suspend(Groutine& groutine) override;
  // cancel() closes the coroutine (its finally blocks run, with the GIL). An exception from a
  // finally block is recorded as a failure of the groutine.
  void cancel(Groutine& groutine) override;

  // adopt() makes the driver release hold when its groutine ends or is unloaded.
  void adopt(const std::shared_ptr<HookHold>& hold);

  // current_groutine() is the Python groutine whose code runs on this thread now, or nullptr.
  static Groutine* current_groutine() noexcept;
  // current() is its driver, or nullptr.
  static CoroutineDriver* current() noexcept;
  // stage() is where its coroutine is.
  Stage stage() const noexcept { return stage_; }

 private:
  void transition([[maybe_unused]] Stage from, Stage to) {
#ifndef NDEBUG
    if (stage_ != from) bad_transition(from, to);
#endif
    stage_ = to;
  }
  [[noreturn]] void bad_transition(Stage from, Stage to) const;
  Step step(Groutine& groutine);
  void release_everything();

  Stage stage_ = Stage::Fresh;
  py::object coroutine_;              // none once Done
  py::object pending_;                // while Suspended: the WaitRequest awaited
  WaitRequest* pending_request_ = nullptr;  // the same, as C++
  std::vector<std::weak_ptr<HookHold>> holds_;  // of the streams it iterated
};

// is_python() tells whether groutine is run by a CoroutineDriver.
bool is_python(const Groutine& groutine) noexcept;

}  // namespace groutines::python
