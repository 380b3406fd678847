#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "groutines/event.hpp"
#include "groutines/export.hpp"

namespace groutines {

// Matcher is one thing a groutine can wait for: a call of a function, the return of one call,
// or a custom event by name; with an optional predicate, evaluated by the runtime on the
// delivering thread before the groutine is switched into (false: not delivered to it).
struct Matcher {
  EventKind kind = EventKind::Custom;
  std::uint64_t key = 0;  // Call: FunctionId; Return: CallId; Custom: the runtime's name id
  std::function<bool(const Event&)> where;
};

// Wait is what a groutine waits for: the first event matching any of its matchers. The
// groutine keeps it alive (on its stack, or in its awaitable) until the wait ends.
using Wait = std::vector<Matcher>;

// WaitText is one alternative of a wait as text names it: a call of a function, the return of
// a call, or a custom event, with or without a condition.
struct WaitText {
  EventKind kind = EventKind::Custom;
  std::string_view name;  // Call: the function; Custom: the event's name
  CallId call = 0;        // Return: the call
  bool condition = false;
};

// describe() is the one rendering of a wait, for `groutine list`, Groutine::waiting_on() and a
// Python awaitable's repr: "call of malloc", "return of call #7", "event 'x' (with a
// condition)"; several alternatives as "any of (call of malloc, event 'x')".
GROUTINES_API std::string describe(const std::vector<WaitText>& alternatives);

// Delivered is how a wait ended: which matcher matched, and the event, current until the
// groutine waits again.
struct Delivered {
  std::size_t index = 0;
  const Event* event = nullptr;
};

}  // namespace groutines
