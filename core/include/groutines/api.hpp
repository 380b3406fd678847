#pragma once
// The C++ authoring API: what a GROUTINE body calls. Every function here must be called from
// inside a groutine (Error otherwise); the blocking ones suspend it until the event comes.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "groutines/error.hpp"
#include "groutines/event.hpp"
#include "groutines/export.hpp"
#include "groutines/registry.hpp"
#include "groutines/runtime.hpp"
#include "groutines/subscription.hpp"
#include "groutines/value.hpp"
#include "groutines/wait.hpp"

namespace groutines {

class Return;

namespace detail {

// Number is the type a forced or rewritten return value of type T is stored as: an integer
// (any integral type, bool, enum, pointer: the bits the caller finds in rax) or a double (any
// floating type: xmm0). So return_now(-1), set_value(0u), set_value(nullptr) and
// set_value(1.5f) all resolve, with no ambiguity between the int and double overloads.
template <typename T>
using Number = std::conditional_t<std::is_floating_point_v<T>, double, std::int64_t>;

template <typename T>
inline constexpr bool is_number_v =
    std::is_arithmetic_v<T> || std::is_enum_v<T> || std::is_pointer_v<T> ||
    std::is_null_pointer_v<T>;

template <typename T>
Number<T> to_number(T value) noexcept {
  if constexpr (std::is_floating_point_v<T>) {
    return static_cast<double>(value);
  } else if constexpr (std::is_enum_v<T>) {
    return static_cast<std::int64_t>(static_cast<std::underlying_type_t<T>>(value));
  } else if constexpr (std::is_pointer_v<T>) {
    return static_cast<std::int64_t>(reinterpret_cast<std::uintptr_t>(value));
  } else if constexpr (std::is_null_pointer_v<T>) {
    return 0;
  } else {
    return static_cast<std::int64_t>(value);  // unsigned: the same 64 bits
  }
}

}  // namespace detail

// EventHandle is a cheap reference to an event being delivered. Its reads are valid only while
// that event is current (the target has not resumed since); after that they throw Error.
class GROUTINES_API EventHandle {
 public:
  EventHandle() = default;
  EventHandle(Runtime& runtime, const Event& event) noexcept
      : runtime_(&runtime), event_(&event), seq_(event.seq) {}

  // valid() tells whether the event is still current.
  bool valid() const noexcept;
  // seq() is the event's sequence number.
  std::uint64_t seq() const noexcept { return seq_; }
  // event() is the event itself; throws Error when it is no longer current.
  const Event& event() const;

 protected:
  Frame& frame() const;
  Runtime* runtime_ = nullptr;
  const Event* event_ = nullptr;
  std::uint64_t seq_ = 0;
};

// TargetEvent is a Call or a Return: an event at which a thread of the target is stopped,
// whose registers, memory and stack can be read while the event is current.
class GROUTINES_API TargetEvent : public EventHandle {
 public:
  using EventHandle::EventHandle;

  // reg() is a register by name, now (at a Call: the entry; at a Return: after it).
  std::uint64_t reg(std::string_view name) const;
  // read_memory() reads size bytes of target memory.
  std::vector<std::uint8_t> read_memory(std::uint64_t address, std::size_t size) const;
  // read_cstring() reads a C string of at most max_size bytes.
  std::string read_cstring(std::uint64_t address, std::size_t max_size = 4096) const;
  // memory_regions() are the target's mapped regions in address order (start, end,
  // permissions, path), for scanning its memory a region at a time with read_memory().
  std::vector<MemoryRegion> memory_regions() const;
  // threads() are the target's threads (the event's first), each with its stack pointer and
  // general purpose registers. A backend whose target runs during deliveries (the agent)
  // stops it for this: a millisecond or two.
  std::vector<ThreadState> threads() const;
  // stack() is the stopped thread's call stack, innermost first: each frame's pc, module,
  // function, offset in it, source file and line, as far as the debug info tells.
  std::vector<StackFrame> stack(std::size_t max_frames = 64) const;
  // backtrace() is stack() rendered one line a frame, "#N 0xPC module`function + offset at
  // file:line" (the parts known).
  std::vector<std::string> backtrace(std::size_t max_frames = 64) const;
  // evaluate() evaluates a C expression in the stopped thread (the debugger's `expression`:
  // it may call the target's functions and write its memory), e.g. to set errno:
  // evaluate("*(int *)__errno_location() = 12"). Its value: int, float, bool or none (void).
  Value evaluate(std::string_view expression) const;
};

// Call is a call of a hooked function, handled at its entry.
class GROUTINES_API Call : public TargetEvent {
 public:
  using TargetEvent::TargetEvent;

  // function() is the called function's name.
  std::string function() const;
  // thread_id() is the target thread that made the call.
  std::uint64_t thread_id() const;
  // id() identifies this call (its Return carries the same).
  CallId id() const noexcept { return seq_; }
  // arg() is integer/pointer argument index (SysV x86-64 order), as an unsigned 64-bit value.
  std::uint64_t arg(unsigned index) const;
  // sarg() is integer argument index read as signed.
  std::int64_t sarg(unsigned index) const { return static_cast<std::int64_t>(arg(index)); }
  // float_arg() is floating argument index (xmm0..7).
  double float_arg(unsigned index) const;
  // arg() by name is the argument's value from the debug info; Error when there is none.
  Value arg(std::string_view name) const;
  // args() are the arguments the debug info names.
  std::vector<Argument> args() const;
  // return_now() skips the call: the body does not run, the caller gets value. An integral,
  // bool, enum or pointer value is an integer (rax; unsigned keeps its 64 bits), a float or
  // double a floating value (xmm0): return_now(-1), return_now(0u), return_now(nullptr) and
  // return_now(2.5f) all compile.
  void return_now(std::int64_t value) const;
  void return_now(double value) const;
  template <typename T, typename = std::enable_if_t<detail::is_number_v<T>>>
  void return_now(T value) const {
    return_now(detail::to_number(value));
  }
  // returned() waits for the return of exactly this call. Must be called while this call is
  // current (before waiting on anything else).
  Return returned() const;
};

// Return is the return (or unwinding) of one call.
class GROUTINES_API Return : public TargetEvent {
 public:
  using TargetEvent::TargetEvent;

  // function() is the function that returned.
  std::string function() const;
  // call_id() is the id of the Call this returns from.
  CallId call_id() const;
  // thread_id() is the returning thread.
  std::uint64_t thread_id() const;
  // unwound() is true when the frame was unwound (longjmp, exception) without returning.
  bool unwound() const;
  // result() is the return value as the caller will see it, typed: the value a groutine set
  // (set_value()) when one did, else a double (xmm0) when the function returns a floating
  // type (returns_float()), else the signed integer in rax. Python's Return.value is this.
  // Error when unwound.
  Value result() const;
  // value() is the integer/pointer return value, as rewritten so far; Error when unwound.
  std::int64_t value() const;
  // float_value() is the floating return value, as rewritten so far; Error when unwound.
  double float_value() const;
  // returns_float() tells that the function returns a float or double (debug info), so that
  // float_value() is the value to read; false when it does not or is not known.
  bool returns_float() const;
  // type() is the function's return type as the debug info spells it ("void", "char *"),
  // "" when not known: a `char *` result is a string to read, a void one no value at all.
  std::string type() const;
  // set_value() rewrites the return value the caller will see. Integral, bool, enum and
  // pointer values are integers, float and double floating values (as for return_now()):
  // set_value(-1), set_value(0u) and set_value(0.5f) all compile.
  void set_value(std::int64_t value) const;
  void set_value(double value) const;
  template <typename T, typename = std::enable_if_t<detail::is_number_v<T>>>
  void set_value(T value) const {
    set_value(detail::to_number(value));
  }
};

// CustomEvent is a fired custom event.
class GROUTINES_API CustomEvent : public EventHandle {
 public:
  using EventHandle::EventHandle;

  // name() is the event's name.
  std::string name() const;
  // data() is its payload.
  const Data& data() const;
  // get() is the value of key; Error ("event 'name' has no field 'key'") when the event has
  // none. Python's CustomEvent[key] raises KeyError with the same message.
  const Value& get(std::string_view key) const;
  // reply() answers the firer; a second reply replaces the first.
  void reply(Value value) const;
};

// On is one alternative of any_of().
struct On {
  EventKind kind;
  std::string name;  // function (Call) or event name (Custom)
  CallId call = 0;   // Return
  std::function<bool(const Event&)> where;
};

// on_call() matches the next call of function (where: an optional predicate).
GROUTINES_API On on_call(std::string_view function, std::function<bool(const Call&)> where = {});
// on_return() matches the return of call.
GROUTINES_API On on_return(const Call& call);
// on_event() matches the next custom event called name.
GROUTINES_API On on_event(std::string_view name,
                          std::function<bool(const CustomEvent&)> where = {});

// Occurrence is what any_of() returns: which alternative came, and its event.
class GROUTINES_API Occurrence : public EventHandle {
 public:
  Occurrence(Runtime& runtime, const Event& event, std::size_t index) noexcept
      : EventHandle(runtime, event), index_(index) {}
  // index() is the position of the alternative that matched.
  std::size_t index() const noexcept { return index_; }
  // kind() is the kind of its event.
  EventKind kind() const;
  // call(), returned(), custom() view the event as what it is; Error on the wrong kind.
  Call call() const;
  Return returned() const;
  CustomEvent custom() const;

 private:
  std::size_t index_;
};

// wait_call() waits for the next call of function (any thread) that satisfies where.
GROUTINES_API Call wait_call(std::string_view function,
                             std::function<bool(const Call&)> where = {});
// wait_event() waits for the next custom event called name that satisfies where.
GROUTINES_API CustomEvent wait_event(std::string_view name,
                                     std::function<bool(const CustomEvent&)> where = {});
// any_of() waits for the first event matching any alternative.
GROUTINES_API Occurrence any_of(std::vector<On> alternatives);
// fire() fires custom event name with data and returns the replies of its listeners.
GROUTINES_API std::vector<Reply> fire(std::string_view name, Data data = {});
// spawn() starts a child groutine called name that runs body on its own fiber, at once, until
// its first wait, and returns its id. The event being handled stays current for the child, so
// it can wait for the return of the call its parent handles, while the parent goes on to the
// next call (no call is missed while one waits for a return):
//   for (groutines::Call call : groutines::calls("parse")) {
//     groutines::spawn("parse-call", [call] {
//       groutines::Return ret = call.returned();
//       GROUTINE_CHECK(ret.value() >= 0);
//     });
//   }
// A child fails on its own (its failure does not end the parent) and is listed under its
// parent; once ended it is reaped and counted in the parent's Groutine::children(). It is
// unloaded with its parent.
GROUTINES_API GroutineId spawn(std::string_view name, std::function<void()> body);
// stop() asks the debugger to stop the target at the prompt with reason.
GROUTINES_API void stop(std::string_view reason);
// log() writes message to the debugger's event log.
GROUTINES_API void log(std::string_view message);
// functions() are the target's functions whose names match the shell pattern (`parse_*`), in
// the main executable, or in the modules named by file name (`{"libc.so.6"}`): each name once,
// as the debugger shows it, ready for calls() or wait_call(). Empty when none matches (or the
// backend knows no symbols). Works while the groutine loads and from a delivery; throws Error
// when the debugger cannot tell (see Backend::functions()).
//   for (const std::string& f : groutines::functions("parse_*")) ...
GROUTINES_API std::vector<std::string> functions(std::string_view pattern,
                                                 const std::vector<std::string>& modules = {});

// Calls is an endless range over the calls of a function: each step waits for the next call.
// It keeps the function hooked for as long as it lives, so calls made while the loop body
// waits on something else are not delivered to it (they are missed, and counted: missed()),
// but the hook stays. To await the return of each call without missing the next, spawn().
//   for (groutines::Call call : groutines::calls("parse_header")) { ... }
class GROUTINES_API Calls {
 public:
  Calls(std::string_view function, std::function<bool(const Call&)> where);

  class iterator {
   public:
    using value_type = Call;
    explicit iterator(Calls* owner) : owner_(owner) {}
    const Call& operator*() const { return owner_->current_; }
    const Call* operator->() const { return &owner_->current_; }
    iterator& operator++() {
      owner_->next();
      return *this;
    }
    bool operator!=(const iterator&) const { return true; }  // endless

   private:
    Calls* owner_;
  };
  iterator begin() {
    next();
    return iterator(this);
  }
  iterator end() { return iterator(this); }
  // missed() counts the calls made while its groutine was busy (not waiting on the next).
  std::uint64_t missed() const { return subscription_.missed(); }

 private:
  void next();
  Runtime* runtime_;
  Subscription subscription_;
  Wait wait_;
  Call current_;
};

// calls() is the range of every call of function that satisfies where.
GROUTINES_API Calls calls(std::string_view function, std::function<bool(const Call&)> where = {});

namespace detail {
GROUTINES_API void check_failed(const char* expression, std::string detail, const char* file,
                                unsigned line);
[[noreturn]] GROUTINES_API void require_failed(const char* expression, std::string detail,
                                               const char* file, unsigned line);
}  // namespace detail

}  // namespace groutines

#define GROUTINES_INTERNAL_CAT2(a, b) a##b
#define GROUTINES_INTERNAL_CAT(a, b) GROUTINES_INTERNAL_CAT2(a, b)
#define GROUTINES_INTERNAL_DEFINE(name, id)                                              \
  static void GROUTINES_INTERNAL_CAT(groutines_body_, id)();                            \
  static const ::groutines::Registrar GROUTINES_INTERNAL_CAT(groutines_registrar_, id)( \
      name, &GROUTINES_INTERNAL_CAT(groutines_body_, id), __FILE__, __LINE__);           \
  static void GROUTINES_INTERNAL_CAT(groutines_body_, id)()

// GROUTINE("name") { body } defines a groutine, registered when its program or library loads.
#define GROUTINE(name) GROUTINES_INTERNAL_DEFINE(name, __COUNTER__)

// GROUTINE_CHECK(expr) records a failure with file:line when expr is false, and goes on.
#define GROUTINE_CHECK(...)                                                        \
  do {                                                                              \
    if (!static_cast<bool>(__VA_ARGS__))                                            \
      ::groutines::detail::check_failed(#__VA_ARGS__, {}, __FILE__, __LINE__);      \
  } while (false)

// GROUTINE_CHECK_MSG(expr, message) records message (a std::string) with file:line when expr
// is false, and goes on.
#define GROUTINE_CHECK_MSG(expr, message)                                           \
  do {                                                                               \
    if (!static_cast<bool>(expr))                                                    \
      ::groutines::detail::check_failed(#expr, (message), __FILE__, __LINE__);       \
  } while (false)

// GROUTINE_ADD_FAILURE(message) records message (a std::string) with file:line as a failure,
// and goes on (GROUTINE_CHECK_MSG without an expression: the message says it all).
#define GROUTINE_ADD_FAILURE(message) \
  ::groutines::detail::check_failed(nullptr, (message), __FILE__, __LINE__)

// GROUTINE_REQUIRE(expr) ends the groutine as failed, with file:line, when expr is false.
#define GROUTINE_REQUIRE(...)                                                      \
  do {                                                                              \
    if (!static_cast<bool>(__VA_ARGS__))                                            \
      ::groutines::detail::require_failed(#__VA_ARGS__, {}, __FILE__, __LINE__);    \
  } while (false)

// GROUTINE_CHECK_EQ(a, b) / GROUTINE_REQUIRE_EQ(a, b) also show both values.
#define GROUTINES_INTERNAL_EQ(fail, a, b)                                             \
  do {                                                                                 \
    const auto groutines_a_ = (a);                                                     \
    const auto groutines_b_ = (b);                                                     \
    if (!(groutines_a_ == groutines_b_)) {                                             \
      std::ostringstream groutines_os_;                                                \
      groutines_os_ << groutines_a_ << " != " << groutines_b_;                         \
      ::groutines::detail::fail(#a " == " #b, groutines_os_.str(), __FILE__, __LINE__); \
    }                                                                                  \
  } while (false)
#define GROUTINE_CHECK_EQ(a, b) GROUTINES_INTERNAL_EQ(check_failed, a, b)
#define GROUTINE_REQUIRE_EQ(a, b) GROUTINES_INTERNAL_EQ(require_failed, a, b)

// GROUTINE_FAIL(message) ends the groutine as failed with message and file:line.
#define GROUTINE_FAIL(message) \
  ::groutines::detail::require_failed(nullptr, (message), __FILE__, __LINE__)
