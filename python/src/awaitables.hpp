#pragma once
// What a Python groutine awaits. `await g.call("f")`, `await g.event("x")`,
// `await call.returned()`, `await g.any(...)` and each step of `async for c in g.calls("f")`
// yield a WaitRequest to the CoroutineDriver, which registers its core Wait with the runtime;
// the value sent back when the wait ends is what the await evaluates to.
#include <pybind11/pybind11.h>

#include <memory>
#include <string>
#include <vector>

#include "bridge.hpp"
#include "coroutine_driver.hpp"
#include "groutines/runtime.hpp"
#include "groutines/subscription.hpp"

namespace groutines::python {

// WaitRequest is one awaitable wait: one alternative, or the first of several (any). It is its
// own await iterator and holds no per-await state, so one request may be awaited again and by
// several groutines: `__next__`/send(None) yields the request, send(result) ends the await.
class WaitRequest {
 public:
  struct Alternative {
    EventKind kind = EventKind::Custom;
    std::string name;   // Call: the function; Custom: the event's name
    CallId call = 0;    // Return: the call
    SharedObject where; // a Python predicate, or empty
  };

  WaitRequest(std::vector<Alternative> alternatives, bool any);

  // alternatives() are what it waits for, in order.
  const std::vector<Alternative>& alternatives() const noexcept { return alternatives_; }
  // any() tells whether its result is (index, event) rather than the event.
  bool any() const noexcept { return any_; }
  // wait_for() is the core Wait of this request in runtime, built at first use; it lives as
  // long as the request. Throws Error for a request already used in another runtime.
  const Wait& wait_for(Runtime& runtime);
  // result() is what the await evaluates to when delivered ends the wait. GIL held.
  py::object result(Runtime& runtime, const Delivered& delivered) const;
  // describe() renders it: "call of malloc", "any of (call of f, event 'x')".
  std::string describe() const;

 private:
  std::vector<Alternative> alternatives_;
  bool any_;
  Runtime* built_for_ = nullptr;
  Wait wait_;
};

// CallStream is `g.calls(function, where)`: an async iterator over every call of function.
// From its first step it keeps the function hooked, until it is destroyed or the groutine
// iterating it ends (a stream handed to another groutine holds the hook again for that one).
class CallStream {
 public:
  CallStream(std::string function, SharedObject where);
  ~CallStream();
  CallStream(const CallStream&) = delete;
  CallStream& operator=(const CallStream&) = delete;

  // next() is the awaitable of the next call (`__anext__`). Inside a groutine only.
  py::object next();
  // function() is the function streamed.
  const std::string& function() const noexcept { return function_; }
  // missed() counts the calls of function made while the groutine iterating it was busy
  // (not awaiting its next step): 0 before its first step; kept once it is released.
  std::uint64_t missed() const;

 private:
  std::string function_;
  py::object request_;  // a WaitRequest
  std::shared_ptr<HookHold> hold_;  // from the first step, until released
};

// bind_awaitables() adds the awaitable types and call(), event(), any(), calls() to module.
void bind_awaitables(py::module_& module);

}  // namespace groutines::python
