#pragma once
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "groutines/error.hpp"
#include "groutines/export.hpp"
#include "groutines/wait.hpp"

namespace groutines {

class FiberDriver;
class Groutine;
class Runtime;

// GroutineId numbers groutines in load order, from 1; ids are never reused by a runtime.
using GroutineId = std::uint64_t;

// State is where a groutine is in its life. Transitions are asserted (debug builds).
enum class State : std::uint8_t {
  Ready,     // loaded, not yet started
  Running,   // its code is executing (or it is suspended inside fire(), delivering)
  Waiting,   // suspended in a wait, until a matching event is delivered
  Finished,  // its code returned; it holds nothing
  Failed,    // its code ended with an exception or a failed REQUIRE; it holds nothing
};

// name() is "ready", "running", "waiting", "finished" or "failed".
GROUTINES_API const char* name(State state) noexcept;

// Failure is one failed check or the exception that ended a groutine.
struct Failure {
  std::string message;
  Location where;      // the check's file:line; for an exception, the groutine's definition
  std::string event;   // the event the groutine was handling, or "start"
  bool fatal = false;  // it ended the groutine
  // backtrace is the target's stack when it failed, innermost first, when it was handling a
  // call or return (empty otherwise); thread is that target thread.
  std::vector<std::string> backtrace;
  std::uint64_t thread = 0;
  // groutine is the spawned child it happened in, once that child ended and was folded into
  // its parent's Children ("" : the groutine that holds the failure).
  std::string groutine;
};

// Children is what a groutine's spawned children came to once they ended. An ended child is
// reaped (its Groutine freed) when the runtime is next idle; what it leaves is folded in
// here: counts, and the first kept_failures of its failures (and those of its own children).
struct Children {
  static constexpr std::size_t kept_failures = 32;
  std::uint64_t spawned = 0;   // children spawned (with, once reaped, their own descendants)
  std::uint64_t ended = 0;     // of those, reaped after they finished or failed
  std::uint64_t failed = 0;    // of the reaped, the ones with a failure
  std::uint64_t events = 0;    // the events the reaped ones handled
  std::vector<Failure> failures;     // the first kept_failures failures of reaped ones
  std::uint64_t failures_dropped = 0;  // failures beyond those, counted only
};

// MissedCalls counts the calls of function that a groutine's streams of calls (calls(f))
// missed: made while the groutine was busy, not waiting on a call of function.
struct MissedCalls {
  std::uint32_t function = 0;  // FunctionId
  std::uint64_t count = 0;
};

// Step is what a driver reports after resuming a groutine: it waits again, or it ended
// (with error set when an exception ended it). abandoned: it was ended where it stood, without
// unwinding (a stack overflow, abort(), std::terminate()): what it held was not released.
struct Step {
  bool ended = false;
  std::exception_ptr error;
  bool abandoned = false;
};

// Driver runs a groutine's code: on a Boost.Context fiber for C++ bodies, or by stepping a
// coroutine on the caller's stack (Python). The runtime owns one per groutine.
class GROUTINES_API Driver {
 public:
  virtual ~Driver();
  // resume() runs the groutine's code until it starts a wait or ends.
  virtual Step resume(Groutine& groutine) = 0;
  // suspend() is called from inside the groutine's code by a blocking wait, after the wait is
  // registered; it returns when the wait ends. Drivers that cannot block throw Error.
  virtual void suspend(Groutine& groutine) = 0;
  // cancel() unwinds the code of a suspended groutine: its destructors run.
  virtual void cancel(Groutine& groutine) = 0;
  // on_caller_stack() is called from inside the running groutine's code: it runs fn on the
  // stack of the thread that switched into the groutine, not on a fiber's small one, and
  // returns (or throws what fn threw) back in the groutine. For debugger work that needs a
  // deep stack (evaluating an expression compiles it). The default runs fn where it is.
  virtual void on_caller_stack(const std::function<void()>& fn);
};

// Groutine is one loaded groutine: a named piece of code, its state and its record.
class GROUTINES_API Groutine {
 public:
  Groutine(const Groutine&) = delete;
  Groutine& operator=(const Groutine&) = delete;
  ~Groutine();

  // id() is its load-order number.
  GroutineId id() const noexcept { return id_; }
  // name() is the name it was defined with.
  const std::string& name() const noexcept { return name_; }
  // source() is where it was loaded from: a library or script path ("" for the program).
  const std::string& source() const noexcept { return source_; }
  // location() is the file:line of its definition.
  const Location& location() const noexcept { return location_; }
  // state() is where it is in its life.
  State state() const noexcept { return state_; }
  // failures() are its failed checks, and the exception that ended it, in order.
  const std::vector<Failure>& failures() const noexcept { return failures_; }
  // passed() is true while nothing failed in it nor in a child reaped into it (a live child
  // is a groutine of its own: see parent()).
  bool passed() const noexcept { return failures_.empty() && children_.failed == 0; }
  // parent() is the groutine that spawned it (Runtime::spawn), or 0 for a loaded one.
  GroutineId parent() const noexcept { return parent_; }
  // live_children() counts its spawned children still loaded.
  std::uint64_t live_children() const noexcept { return live_children_; }
  // children() is what its ended children came to.
  const Children& children() const noexcept { return children_; }
  // missed() counts, per function, the calls its streams missed while it was busy.
  const std::vector<MissedCalls>& missed() const noexcept { return missed_; }
  // events_handled() counts the events delivered to it.
  std::uint64_t events_handled() const noexcept { return events_handled_; }
  // delivered() is how its last wait ended.
  const Delivered& delivered() const noexcept { return delivered_; }
  // waiting_on() describes its current wait: "call of malloc", "any of (event 'x', ...)".
  std::string waiting_on() const;
  // runtime() is the runtime it belongs to.
  Runtime& runtime() const noexcept { return *runtime_; }
  // driver() is what runs its code.
  Driver& driver() const noexcept { return *driver_; }

 private:
  friend class Runtime;
  Groutine(Runtime& runtime, GroutineId id, std::string name, std::string source,
           Location location, std::unique_ptr<Driver> driver);
  // transition() moves from state `from` (asserted in debug builds) to `to`.
  void transition(State from, State to) {
#ifndef NDEBUG
    if (state_ != from) bad_transition(from, to);
#endif
    (void)from;
    state_ = to;
  }
  [[noreturn]] void bad_transition(State from, State to) const;

  Runtime* runtime_;
  GroutineId id_;
  std::string name_;
  std::string source_;
  Location location_;
  std::unique_ptr<Driver> driver_;
  FiberDriver* fiber_ = nullptr;  // driver_, when it is a fiber (called without a virtual call)
  State state_ = State::Ready;
  bool cancelling_ = false;
  std::uint64_t wait_generation_ = 0;  // bumped by every wait; delivery snapshots check it
  const Wait* wait_ = nullptr;         // valid while Waiting
  // The keys it is listed under in the runtime's waiter lists (and the hooks it holds). A
  // wait that ends leaves them listed (the groutine is no longer Waiting, so it receives
  // nothing) until it waits on other keys or ends: a loop over calls re-arms for free.
  struct Listing {
    EventKind kind;
    std::uint64_t key;
  };
  std::vector<Listing> listed_;
  bool listed_return_ = false;  // listed_ has a Return key: unlisted as soon as the wait ends
  Delivered delivered_;
  std::uint64_t events_handled_ = 0;
  // The last event switched into it, kept cheaply to describe a failure.
  EventKind last_kind_ = EventKind::Custom;
  std::uint64_t last_seq_ = 0;
  std::uint64_t last_name_ = 0;  // FunctionId, or event id for Custom
  CallId last_call_ = 0;
  std::uint64_t last_thread_ = 0;
  std::vector<Failure> failures_;
  // The streams of calls it opened (Runtime::open_stream), closed for it if it is ended
  // without unwinding.
  std::vector<std::uint64_t> held_streams_;
  GroutineId parent_ = 0;
  Groutine* parent_groutine_ = nullptr;  // while it is loaded (children are unloaded first)
  std::uint64_t live_children_ = 0;
  Children children_;
  std::vector<MissedCalls> missed_;
};

}  // namespace groutines
