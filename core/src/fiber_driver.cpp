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

void FiberDriver::cancel(Groutine&) {
  // Destroying a suspended fiber throws forced_unwind inside it: its destructors run.
  fiber_ = {};
}

}  // namespace groutines
