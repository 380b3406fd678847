#include "groutines/subscription.hpp"

#include <utility>

#include "groutines/runtime.hpp"
#include "groutines/runtime_internals.hpp"

namespace groutines {

Subscription::Subscription(Runtime& runtime, FunctionId function)
    : runtime_(&runtime),
      function_(function),
      stream_(RuntimeInternals::open_stream(runtime, function)) {}

Subscription::Subscription(Subscription&& other) noexcept
    : runtime_(std::exchange(other.runtime_, nullptr)),
      function_(other.function_),
      stream_(other.stream_) {}

Subscription& Subscription::operator=(Subscription&& other) noexcept {
  if (this != &other) {
    reset();
    runtime_ = std::exchange(other.runtime_, nullptr);
    function_ = other.function_;
    stream_ = other.stream_;
  }
  return *this;
}

Subscription::~Subscription() { reset(); }

void Subscription::reset() noexcept {
  if (Runtime* rt = std::exchange(runtime_, nullptr)) RuntimeInternals::close_stream(*rt, stream_);
}

std::uint64_t Subscription::missed() const {
  return runtime_ ? RuntimeInternals::stream_missed(*runtime_, stream_) : 0;
}

}  // namespace groutines
