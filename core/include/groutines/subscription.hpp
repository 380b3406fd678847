#pragma once
#include "groutines/event.hpp"
#include "groutines/export.hpp"

namespace groutines {

class Runtime;

// Subscription keeps a function's hook installed for as long as it lives, even while its
// holder is busy waiting on something else: a stream of calls holds one, so that a loop over
// calls does not remove and re-plant a breakpoint at every iteration. Move-only.
class GROUTINES_API Subscription {
 public:
  Subscription() = default;
  Subscription(Runtime& runtime, FunctionId function);
  Subscription(Subscription&& other) noexcept;
  Subscription& operator=(Subscription&& other) noexcept;
  Subscription(const Subscription&) = delete;
  Subscription& operator=(const Subscription&) = delete;
  ~Subscription();

  // function() is the function whose hook it holds.
  FunctionId function() const noexcept { return function_; }
  // reset() releases the hook now.
  void reset() noexcept;

 private:
  Runtime* runtime_ = nullptr;
  FunctionId function_ = 0;
};

}  // namespace groutines
