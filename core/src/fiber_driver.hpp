#pragma once
#include <signal.h>

#include <boost/context/fiber.hpp>
#include <boost/context/protected_fixedsize_stack.hpp>
#include <functional>
#include <string>
#include <utility>

#include "containment.hpp"
#include "groutines/groutine.hpp"

namespace groutines {

// FiberDriver runs a C++ groutine body on its own Boost.Context fiber, on a protected stack
// (a guard page below it). Exactly one variable owns each suspended context: fiber_ (the
// groutine, while it is suspended) or caller_ (whoever switched into it, while it runs).
//
// Containment (containment.hpp) may end the fiber while it runs (a stack overflow, abort(),
// std::terminate()): die() switches straight back to the caller from wherever the fiber was,
// and resume() buries it: the dead context is never resumed nor unwound (its destructors do
// not run, what they would have freed is leaked), its stack is unmapped, and the thread's
// signal mask and C++ exception record are put back as they were before the switch.
class FiberDriver final : public Driver {
 public:
  FiberDriver(std::function<void()> body, std::size_t stack_size);
  ~FiberDriver() override;

  Step resume(Groutine&) override { return resume(); }
  void suspend(Groutine&) override { suspend(); }
  void cancel(Groutine& groutine) override;

  // resume() and suspend() without the virtual call: the runtime's delivery path calls these
  // directly, so that a delivery adds as few call levels as possible around the switch.
  Step resume() {
    if (!started_) start();
    if (!containment::t_exceptions) containment::prepare_thread();
    exceptions_ = *containment::t_exceptions;
    FiberDriver* const outer = std::exchange(containment::t_running, this);
    fiber_ = std::move(fiber_).resume();
    containment::t_running = outer;
    if (__builtin_expect(death_ != containment::Death::None, 0)) return bury();
    if (fiber_) return Step{};
    return Step{true, std::exchange(error_, nullptr)};
  }
  void suspend() { caller_ = std::move(caller_).resume(); }
  void on_caller_stack(const std::function<void()>& fn) override;

  // --- Containment (called on this thread while the fiber runs, see containment.cpp). ---

  // overflowed() tells whether a fault at address with the stack pointer at sp is this
  // fiber running out of its stack: address on the guard page, or sp below the stack.
  bool overflowed(const void* address, std::uintptr_t sp) const noexcept;
  // die() ends the running fiber: it records why (and, from a signal handler, the signal mask
  // to restore) and switches to the caller, never to return. Async-signal-safe.
  [[noreturn]] void die(containment::Death death, const sigset_t* mask) noexcept;
  // set_last_words() is the reason of a Terminate death (not from a signal handler).
  void set_last_words(std::string words) { last_words_ = std::move(words); }

 private:
  void start();
  void run();
  [[gnu::cold]] Step bury();

  std::function<void()> body_;
  std::size_t stack_size_;
  bool started_ = false;
  boost::context::protected_fixedsize_stack allocator_;
  boost::context::stack_context stack_{};
  boost::context::fiber fiber_;
  boost::context::fiber caller_;
  std::exception_ptr error_;
  containment::ExceptionState exceptions_;
  containment::Death death_ = containment::Death::None;
  bool restore_mask_ = false;
  sigset_t mask_;
  std::string last_words_;
  // The handle of a dead context: moved here and never destroyed (destroying it would resume
  // the dead context to unwind it).
  alignas(boost::context::fiber) unsigned char grave_[sizeof(boost::context::fiber)];
};

}  // namespace groutines
