#pragma once
#include "groutines/event.hpp"
#include "groutines/export.hpp"

namespace groutines {

class Runtime;

// Subscription is a stream of calls of a function (Runtime::open_stream), made inside a
// groutine: it keeps the function's hook installed for as long as it lives, even while the
// groutine is busy waiting on something else, so that a loop over calls does not remove and
// re-plant a breakpoint at every iteration; and it counts the calls missed meanwhile.
// Move-only.
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
  // missed() counts the calls made while its groutine was busy (0 once reset).
  std::uint64_t missed() const;
  // reset() releases the hook now.
  void reset() noexcept;

 private:
  Runtime* runtime_ = nullptr;
  FunctionId function_ = 0;
  std::uint64_t stream_ = 0;
};

}  // namespace groutines
