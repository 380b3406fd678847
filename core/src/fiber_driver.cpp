#include "fiber_driver.hpp"

#include <boost/context/protected_fixedsize_stack.hpp>

#include "assert.hpp"

namespace ctx = boost::context;

namespace groutines {

FiberDriver::FiberDriver(std::function<void()> body, std::size_t stack_size)
    : body_(std::move(body)), stack_size_(stack_size) {}

// The runtime cancels a suspended fiber before destroying its driver; destroying fiber_ here
// would unwind it just the same, but at a point the runtime does not control.
FiberDriver::~FiberDriver() = default;

void FiberDriver::start() {
  started_ = true;
  fiber_ = ctx::fiber(std::allocator_arg, ctx::protected_fixedsize_stack(stack_size_),
                      [this](ctx::fiber&& caller) {
                        caller_ = std::move(caller);
                        run();
                        return std::move(caller_);
                      });
}

// run() is the fiber's body wrapper: forced_unwind (the fiber being destroyed while
// suspended) must propagate to Boost.Context; anything else is kept for the runtime to report.
// No fiber switch happens inside a catch block.
void FiberDriver::run() {
  try {
    body_();
  } catch (const ctx::detail::forced_unwind&) {
    throw;
  } catch (...) {
    error_ = std::current_exception();
  }
}

// on_caller_stack() switches to the caller and runs fn on top of its stack (resume_with);
// from there it switches straight back into this fiber, so that the caller's resume() still
// returns only when the groutine waits or ends. Nothing fn throws crosses a switch: it is
// kept and rethrown here.
void FiberDriver::on_caller_stack(const std::function<void()>& fn) {
  std::exception_ptr error;
  caller_ = std::move(caller_).resume_with([&](ctx::fiber&& self) {
    try {
      fn();
    } catch (...) {
      error = std::current_exception();
    }
    return std::move(self).resume();
  });
  if (error) std::rethrow_exception(error);
}

void FiberDriver::cancel(Groutine&) {
  // Destroying a suspended fiber throws forced_unwind inside it: its destructors run.
  fiber_ = {};
}

}  // namespace groutines
