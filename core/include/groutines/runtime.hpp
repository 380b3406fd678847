#pragma once
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "groutines/backend.hpp"
#include "groutines/event.hpp"
#include "groutines/export.hpp"
#include "groutines/groutine.hpp"
#include "groutines/recursive_lock.hpp"
#include "groutines/registry.hpp"
#include "groutines/value.hpp"
#include "groutines/wait.hpp"

namespace groutines {

// RuntimeOptions tune a runtime.
struct RuntimeOptions {
  // stack_size is the size of each C++ groutine's fiber stack, below a guard page.
  std::size_t stack_size = 256 * 1024;
  // max_fire_depth is how deep fire() may nest (a listener firing, whose listener fires...)
  // before fire() throws Error at the firer.
  unsigned max_fire_depth = 32;
};

// with_environment() is options with the environment's settings applied:
// GROUTINES_STACK_SIZE, the fiber stack size of C++ groutines, in bytes or with a K or M
// suffix ("4M"), from 64K to 1G. Throws Error naming a bad value.
GROUTINES_API RuntimeOptions with_environment(RuntimeOptions options);

// Outcome is what groutines decided about a Call or Return event, for the backend to apply
// before the target resumes. When several groutines decide, the last one in load order wins,
// and each sees the decisions of those before it (a return value rewritten earlier reads as
// rewritten).
struct Outcome {
  // forced_return: at a Call, skip the function's body and return this to the caller.
  std::optional<Value> forced_return;
  // return_value: at a Return, the value the caller sees instead of the real one.
  std::optional<Value> return_value;
};

// Reply is one listener's answer to a fired custom event.
struct Reply {
  GroutineId id = 0;
  std::string groutine;
  Value value;
};

// HookInfo describes one function hook: who holds it and whether the backend has it.
struct HookInfo {
  FunctionId id = 0;
  std::string function;
  unsigned holders = 0;  // waits and streams on calls of the function
  bool installed = false;
};

// Runtime hosts groutines: it loads them, mirrors the backend's events into them and keeps
// the backend's hooks to exactly what groutines wait for. One per process is the intent (the
// debugger plugin and the Python module share it), but tests make as many as they like.
// Every public method takes the runtime's lock; deliveries are serialised.
class GROUTINES_API Runtime {
 public:
  explicit Runtime(Backend& backend, RuntimeOptions options = {});
  // ~Runtime() unloads every groutine (suspended ones are unwound) and removes every hook.
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  // load() starts a C++ groutine on its own fiber and runs it until its first wait (or its
  // end). A failure while starting marks it failed; it is still loaded, for the report.
  Groutine& load(const Definition& definition);
  // load() starts a groutine run by driver (e.g. a Python coroutine).
  Groutine& load(std::string name, std::string source, Location location,
                 std::unique_ptr<Driver> driver);
  // spawn() starts a child of the running groutine, named name, running body on its own
  // fiber, at once, until its first wait (or its end), and returns its id. Called from inside
  // a groutine handling an event: that event stays current for the child, which can wait for
  // the return of the call being handled (the return's watch is the child's, not the
  // parent's). The child inherits the parent's source and location; it fails on its own (its
  // failure does not end the parent); once ended it is reaped when the runtime is next idle,
  // and what it leaves is folded into the parent's Groutine::children(). Unloading the
  // parent unloads its children first. Throws Error outside a groutine.
  GroutineId spawn(std::string name, std::function<void()> body);
  // spawn() starts a child run by driver (e.g. a Python coroutine), defined at location.
  GroutineId spawn(std::string name, Location location, std::unique_ptr<Driver> driver);
  // unload() removes groutine id (and first its spawned children, newest first), unwinding it
  // if suspended; false when there is no such groutine. Throws Error from inside a delivery: the groutine is running, or may be one the
  // delivery has yet to switch into.
  bool unload(GroutineId id);
  // unload_source() unloads every groutine loaded from source; returns how many. All or
  // nothing: throws Error, unloading none, when one of them is running (from a delivery).
  std::size_t unload_source(std::string_view source);
  // unload_all() unloads every groutine, newest first. All or nothing: throws Error,
  // unloading none, from inside a delivery (a groutine is running).
  void unload_all();
  // unload_where() unloads every groutine for which chosen is true, newest first (each with
  // its children); returns how many were chosen. All or nothing, as unload_source(). chosen is
  // called under the lock, once per groutine, and must not call the runtime.
  std::size_t unload_where(const std::function<bool(const Groutine&)>& chosen);

  // deliver_call() reports a call of hooked function fn on thread, the target stopped at its
  // entry (frame). Every groutine waiting on it is switched into, in load order.
  Outcome deliver_call(FunctionId fn, std::uint64_t thread, Clock::time_point time, Frame& frame);
  // deliver_return() reports the return (or, when unwound, the unwinding) of a watched call.
  Outcome deliver_return(CallId call, std::uint64_t thread, Clock::time_point time, Frame& frame,
                         bool unwound);
  // fire() delivers custom event name to every groutine waiting for it, synchronously, and
  // returns their replies in load order. From a groutine, the firer is suspended meanwhile.
  // Throws Error when nested deeper than max_fire_depth.
  std::vector<Reply> fire(std::string_view name, Data data, std::uint64_t thread = 0);

  // functions() asks the backend for the target's functions matching a shell pattern, in the
  // main executable or in modules (Backend::functions()). Throws Error from the backend.
  std::vector<std::string> functions(std::string_view pattern,
                                     const std::vector<std::string>& modules = {});

  // function_id() is the number of a function name (interned; ids are stable).
  FunctionId function_id(std::string_view function);
  // function_name() is the name of function id.
  std::string_view function_name(FunctionId id) const;
  // event_id() is the number of a custom event name (interned).
  std::uint64_t event_id(std::string_view name);
  // event_name() is the name of custom event id.
  std::string event_name(std::uint64_t id) const;

  // for_each() calls visit on every loaded groutine, in load order, under the lock.
  void for_each(const std::function<void(const Groutine&)>& visit) const;
  // find() is the groutine called name (the first loaded), or nullptr.
  const Groutine* find(std::string_view name) const;
  // size() counts loaded groutines.
  std::size_t size() const;
  // hooks() lists the functions with holders or with a hook installed.
  std::vector<HookInfo> hooks() const;
  // pending_returns() counts calls whose return is being watched.
  std::size_t pending_returns() const;
  // options() are the options it was made with.
  const RuntimeOptions& options() const noexcept { return options_; }
  // backend() is the backend it was made with.
  Backend& backend() const noexcept { return backend_; }
  // lock() holds the runtime's (recursive) lock. A backend holds it for the whole of a target
  // stop, so that the deliveries of that stop re-enter it at almost no cost.
  std::unique_lock<RecursiveLock> lock() const { return std::unique_lock(mutex_); }
  // try_lock() is lock() if the lock is free now (check owns_lock()), for a thread that must
  // not block while another holds it.
  std::unique_lock<RecursiveLock> try_lock() const {
    return std::unique_lock(mutex_, std::try_to_lock);
  }

  // write_last_report() writes every groutine's state and failures to fd, the way
  // `groutine report` does, for a process about to die: without the lock (the dying thread
  // may hold it) and without allocating. Best effort: the runtime may be mid-change.
  void write_last_report(int fd) const noexcept;

  // --- The running groutine ---

  // current() is the runtime switched into the running groutine, or nullptr.
  static Runtime* current() noexcept;
  // current_groutine() is the groutine whose code is running now, or nullptr.
  Groutine* current_groutine() const noexcept { return current_; }

 private:
  // What only the runtime, the authoring API (api.cpp) and the adapters (drivers and
  // backends: python/src, lldb_plugin) call is private, reached through RuntimeInternals
  // (core/internal/groutines/runtime_internals.hpp, not an installed header). Groutine code
  // uses api.hpp instead.
  friend class RuntimeInternals;

  // holds_lock() tells whether the calling thread holds the runtime's lock (is delivering).
  bool holds_lock() const noexcept { return mutex_.held(); }
  // begin_wait() registers groutine's wait (kept alive by the caller until it ends) and marks
  // it Waiting. Throws Error for a Return matcher whose Call event is no longer current.
  // Called from inside the groutine, that is, inside a runtime entry.
  void begin_wait(Groutine& groutine, const Wait& wait);
  // wait() is a blocking wait for the current groutine: begin_wait(), then its driver's
  // suspend(); returns how the wait ended.
  Delivered wait(const Wait& wait);
  // current_thread() is the target thread of the innermost event being delivered (0: none).
  std::uint64_t current_thread() const noexcept;
  // is_current() tells whether event seq is still being delivered (its handles are valid).
  bool is_current(std::uint64_t seq) const noexcept;
  // outcome_of() is the Outcome being collected for event seq (must be current).
  Outcome& outcome_of(std::uint64_t seq);
  // reply() records the current groutine's reply to custom event seq (a second replaces it).
  void reply(std::uint64_t seq, Value value);
  // open_stream() opens a stream of calls of fn for the current groutine: it holds fn's hook,
  // and counts the calls of fn delivered while that groutine was not waiting on a call of fn
  // (missed: it was busy). close_stream() closes it (a stream id not open is ignored).
  std::uint64_t open_stream(FunctionId fn);
  void close_stream(std::uint64_t stream);
  // stream_missed() is how many calls stream missed (0 when it is not open).
  std::uint64_t stream_missed(std::uint64_t stream) const;
  // record_failure() adds a non-fatal failure to the current groutine.
  void record_failure(std::string message, Location where);
  // request_stop() passes a stop request of the current groutine to the backend.
  void request_stop(std::string_view reason);
  // log() passes a message of the current groutine to the backend.
  void log(std::string_view message);
  // describe() renders an event for a failure or a log line: "call of f #3 (thread 12)".
  std::string describe(const Groutine& groutine) const;

  struct Delivery;
  struct Waiters;  // groutines waiting on one key, in load order
  struct Hook {
    unsigned holders = 0;
    bool installed = false;
    bool queued = false;  // in hooks_to_reconcile_
  };
  struct ReturnWatch;
  // Stream is an open stream of calls (open_stream()).
  struct Stream {
    FunctionId function = 0;
    Groutine* owner = nullptr;  // nullptr once the owner is removed
    std::uint64_t missed = 0;
  };

  class Entry;  // marks a public entry; reconciles hooks when the outermost one ends
  Groutine& add(std::string name, std::string source, Location location,
                std::unique_ptr<Driver> driver);
  void start(Groutine& groutine);
  void deliver(Event& event, std::uint64_t key, Outcome& outcome, std::vector<Reply>* replies);
  void switch_in(Groutine& groutine);
  void finish(Groutine& groutine, const std::exception_ptr& error);
  void record(Groutine& groutine, Failure failure);
  void end_wait(Groutine& groutine);
  void list(Groutine& groutine, const Wait& wait);
  void unlist(Groutine& groutine);
  void cancel(Groutine& groutine);
  void remove(Groutine& groutine);
  void reap();
  void count_missed(FunctionId fn);
  GroutineId start_child(Groutine& child);
  void check_unloadable(const std::function<bool(const Groutine&)>& chosen) const;
  void add_hook_holder(FunctionId fn);
  void drop_hook_holder(FunctionId fn);
  void reconcile();
  Waiters& waiters_for(EventKind kind, std::uint64_t key);
  Waiters* find_waiters(EventKind kind, std::uint64_t key);

  Backend& backend_;
  RuntimeOptions options_;
  mutable RecursiveLock mutex_;
  std::vector<std::unique_ptr<Groutine>> groutines_;  // load order
  GroutineId next_id_ = 1;
  std::uint64_t seq_ = 0;
  unsigned entry_depth_ = 0;
  unsigned fire_depth_ = 0;
  Delivery* active_ = nullptr;  // innermost delivery in progress
  Groutine* current_ = nullptr;

  std::deque<std::string> function_names_;
  std::unordered_map<std::string_view, FunctionId> function_ids_;
  std::deque<std::string> event_names_;
  std::unordered_map<std::string_view, std::uint64_t> event_ids_;

  std::vector<Hook> hooks_;                    // by FunctionId
  std::vector<FunctionId> hooks_to_reconcile_;
  std::vector<std::unique_ptr<Waiters>> call_waiters_;    // by FunctionId
  std::vector<std::unique_ptr<Waiters>> event_waiters_;   // by event id
  std::unordered_map<CallId, std::unique_ptr<ReturnWatch>> returns_;
  std::unordered_map<std::uint64_t, Stream> streams_;
  std::vector<std::vector<std::uint64_t>> function_streams_;  // by FunctionId: open streams
  std::uint64_t next_stream_ = 1;
  bool reap_pending_ = false;  // an ended child waits to be reaped
};

// default_runtime() is the process-wide runtime that the debugger plugin made and that the
// Python module and groutine libraries loaded into the same debugger share; nullptr before the
// plugin made one (or in a plain python3, until the module makes its own).
GROUTINES_API Runtime* default_runtime() noexcept;
// set_default_runtime() sets it (nullptr to clear it, before that runtime is destroyed).
GROUTINES_API void set_default_runtime(Runtime* runtime) noexcept;

}  // namespace groutines
