#include "fiber_driver.hpp"

#include <boost/context/preallocated.hpp>
#include <new>

#include "assert.hpp"
#include "groutines/error.hpp"

namespace ctx = boost::context;

namespace groutines {

FiberDriver::FiberDriver(std::function<void()> body, std::size_t stack_size)
    : body_(std::move(body)), stack_size_(stack_size), allocator_(stack_size) {}

// The runtime cancels a suspended fiber before destroying its driver; destroying fiber_ here
// would unwind it just the same, but at a point the runtime does not control.
FiberDriver::~FiberDriver() = default;

void FiberDriver::start() {
  started_ = true;
  // The stack is allocated here, not by the fiber, so that its guard page is known and a dead
  // fiber's stack can be freed without its (never resumed) context.
  stack_ = allocator_.allocate();
  fiber_ = ctx::fiber(std::allocator_arg, ctx::preallocated(stack_.sp, stack_.size, stack_),
                      allocator_, [this](ctx::fiber&& caller) {
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
// kept and rethrown here. fn is debugger work, not the groutine's: containment leaves it alone
// (on an outer fiber's stack too: ending that one would strand this one).
void FiberDriver::on_caller_stack(const std::function<void()>& fn) {
  std::exception_ptr error;
  caller_ = std::move(caller_).resume_with([&](ctx::fiber&& self) {
    {
      containment::StepAside aside;
      try {
        fn();
      } catch (...) {
        error = std::current_exception();
      }
    }
    return std::move(self).resume();
  });
  if (error) std::rethrow_exception(error);
}

void FiberDriver::cancel(Groutine&) {
  // Destroying a suspended fiber throws forced_unwind inside it: its destructors run. Not
  // contained: with the caller's context inside forced_unwind, there is nowhere to go back to.
  containment::StepAside aside;
  fiber_ = {};
}

bool FiberDriver::overflowed(const void* address, std::uintptr_t sp) const noexcept {
  if (!stack_.sp) return false;
  const auto top = reinterpret_cast<std::uintptr_t>(stack_.sp);
  const std::uintptr_t guard = top - stack_.size;  // the guard page is the mapping's first
  const std::uintptr_t bottom = guard + ctx::stack_traits::page_size();
  const auto a = reinterpret_cast<std::uintptr_t>(address);
  if (a >= guard && a < bottom) return true;
  // A frame larger than the guard page can jump over it: the stack pointer is then below the
  // stack (within a stack's size of it) and the fault is wherever it landed.
  return sp < bottom && sp + stack_.size >= guard;
}

void FiberDriver::die(containment::Death death, const sigset_t* mask) noexcept {
  death_ = death;
  restore_mask_ = mask != nullptr;
  if (mask) mask_ = *mask;
  // Straight to the caller's resume(), which buries this context: this call never returns.
  std::move(caller_).resume();
  std::abort();  // unreachable: nobody resumes a dead fiber
}

// bury() disposes of a fiber ended by containment, on the caller's side of the switch.
Step FiberDriver::bury() {
  containment::Death death = std::exchange(death_, containment::Death::None);
  // The thread's state as it was before the switch: a handler left without returning did not
  // restore the signal mask, and the dead fiber's exceptions are still on the thread's record.
  if (restore_mask_) pthread_sigmask(SIG_SETMASK, &mask_, nullptr);
  *containment::t_exceptions = exceptions_;
  // The dead context's handle is kept, never destroyed, and its stack unmapped: nothing on it
  // is ever touched again. What the fiber's frames owned (heap blocks, locks) is leaked.
  new (grave_) ctx::fiber(std::move(fiber_));
  allocator_.deallocate(stack_);
  stack_ = {};
  std::string why;
  switch (death) {
    case containment::Death::StackOverflow:
      why = "stack overflow (fiber stack " + std::to_string(stack_size_ / 1024) +
            " KiB; set GROUTINES_STACK_SIZE to raise it)";
      break;
    case containment::Death::Abort: why = "abort() called"; break;
    case containment::Death::Terminate:
      why = last_words_.empty() ? "std::terminate called" : "std::terminate: " + last_words_;
      break;
    case containment::Death::None: break;
  }
  Step step{true, std::make_exception_ptr(Error(why))};
  step.abandoned = true;
  return step;
}

}  // namespace groutines
