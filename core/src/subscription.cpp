#include "groutines/subscription.hpp"

#include <utility>

#include "groutines/runtime.hpp"

namespace groutines {

Subscription::Subscription(Runtime& runtime, FunctionId function)
    : runtime_(&runtime), function_(function) {
  runtime_->hold_hook(function_);
}

Subscription::Subscription(Subscription&& other) noexcept
    : runtime_(std::exchange(other.runtime_, nullptr)), function_(other.function_) {}

Subscription& Subscription::operator=(Subscription&& other) noexcept {
  if (this != &other) {
    reset();
    runtime_ = std::exchange(other.runtime_, nullptr);
    function_ = other.function_;
  }
  return *this;
}

Subscription::~Subscription() { reset(); }

void Subscription::reset() noexcept {
  if (Runtime* rt = std::exchange(runtime_, nullptr)) rt->release_hook(function_);
}

}  // namespace groutines
