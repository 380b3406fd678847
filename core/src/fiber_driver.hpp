#pragma once
#include <boost/context/fiber.hpp>
#include <functional>
#include <utility>

#include "groutines/groutine.hpp"

namespace groutines {

// FiberDriver runs a C++ groutine body on its own Boost.Context fiber, on a protected stack
// (a guard page below it). Exactly one variable owns each suspended context: fiber_ (the
// groutine, while it is suspended) or caller_ (whoever switched into it, while it runs).
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
    fiber_ = std::move(fiber_).resume();
    if (fiber_) return Step{};
    return Step{true, std::exchange(error_, nullptr)};
  }
  void suspend() { caller_ = std::move(caller_).resume(); }
  void on_caller_stack(const std::function<void()>& fn) override;

 private:
  void start();
  void run();

  std::function<void()> body_;
  std::size_t stack_size_;
  bool started_ = false;
  boost::context::fiber fiber_;
  boost::context::fiber caller_;
  std::exception_ptr error_;
};

}  // namespace groutines
