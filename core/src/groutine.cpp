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
  std::vector<std::string> names(wait_->size());  // the views below point into them
  std::vector<WaitText> parts;
  parts.reserve(wait_->size());
  for (std::size_t i = 0; i < wait_->size(); ++i) {
    const Matcher& m = (*wait_)[i];
    WaitText t{m.kind, {}, 0, static_cast<bool>(m.where)};
    if (m.kind == EventKind::Call)
      names[i] = std::string(runtime_->function_name(static_cast<FunctionId>(m.key)));
    else if (m.kind == EventKind::Custom)
      names[i] = runtime_->event_name(m.key);
    else
      t.call = m.key;
    t.name = names[i];
    parts.push_back(t);
  }
  return describe(parts);
}

}  // namespace groutines
