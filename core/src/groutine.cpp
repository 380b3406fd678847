#include "groutines/groutine.hpp"

#include <cstdio>
#include <cstdlib>

#include "assert.hpp"
#include "groutines/runtime.hpp"

namespace groutines {

const char* name(State state) noexcept {
  switch (state) {
    case State::Ready: return "ready";
    case State::Running: return "running";
    case State::Waiting: return "waiting";
    case State::Finished: return "finished";
    case State::Failed: return "failed";
  }
  return "?";
}

Driver::~Driver() = default;
void Driver::on_caller_stack(const std::function<void()>& fn) { fn(); }

Groutine::Groutine(Runtime& runtime, GroutineId id, std::string name, std::string source,
                   Location location, std::unique_ptr<Driver> driver)
    : runtime_(&runtime),
      id_(id),
      name_(std::move(name)),
      source_(std::move(source)),
      location_(std::move(location)),
      driver_(std::move(driver)) {}

Groutine::~Groutine() = default;

void Groutine::bad_transition(State from, State to) const {
  std::fprintf(stderr, "groutines: internal error: groutine '%s': %s -> %s expected from %s\n",
               name_.c_str(), groutines::name(state_), groutines::name(to), groutines::name(from));
  std::abort();
}

std::string Groutine::waiting_on() const {
  if (state_ != State::Waiting || wait_ == nullptr) return {};
  auto lock = runtime_->lock();
  auto one = [&](const Matcher& m) {
    std::string s;
    switch (m.kind) {
      case EventKind::Call:
        s = "call of " + std::string(runtime_->function_name(static_cast<FunctionId>(m.key)));
        break;
      case EventKind::Return: s = "return of call #" + std::to_string(m.key); break;
      case EventKind::Custom: s = "event '" + runtime_->event_name(m.key) + "'"; break;
    }
    if (m.where) s += " (with a condition)";
    return s;
  };
  if (wait_->size() == 1) return one(wait_->front());
  std::string s = "any of (";
  for (std::size_t i = 0; i < wait_->size(); ++i) s += (i ? ", " : "") + one((*wait_)[i]);
  return s + ")";
}

}  // namespace groutines
