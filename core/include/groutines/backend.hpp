#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "groutines/event.hpp"
#include "groutines/export.hpp"

namespace groutines {

class Groutine;
struct Failure;

// Backend is what a debugger provides to the runtime: hooks on functions, watches on the
// return of single calls, and a place for stops and logs. Every method is called with the
// runtime's lock held, from the thread that is delivering or loading. None may call back into
// the runtime.
//
// When changes are asked for (a debugger that cannot delete a breakpoint inside its own stop
// callback, as GDB, relies on this):
// - Hooks (install_call_hook, remove_call_hook) change only when the outermost runtime entry
//   ends: after a deliver_call()/deliver_return()/fire() has switched into every groutine and
//   they have all waited again or ended, still inside that deliver_*() call (so before the
//   backend lets the target resume), or at the end of a load, unload or hold from the prompt.
//   Never in the middle of a delivery. A hook asked for and dropped within one entry is not
//   asked for at all.
// - watch_return() is asked at the end of the delivery of the Call it watches, inside
//   deliver_call(), after every groutine waiting on it has waited again.
// - unwatch_return() is asked as soon as the last groutine awaiting that return stops waiting:
//   in the middle of any delivery (a groutine that ends, fails or waits on something else), at
//   an unload, or from ~Runtime(). A backend that cannot remove the watch there marks it and
//   removes it after deliver_*() returns, before the target resumes; a report of that return
//   meanwhile is harmless (deliver_return() of a call nobody awaits delivers to nobody).
//
// Reads of the target go through the Frame a backend passes with each Call and Return
// (event.hpp): arguments, registers, memory, backtraces, and the whole target's memory map
// (Frame::memory_regions()) and threads with their registers (Frame::threads(); a backend whose
// target runs during deliveries stops it for that).
//
// Errors: the methods marked noexcept are called where the runtime cannot handle an exception
// (from a destructor, at the edge of a delivery); a backend reports its own failures there (a
// hook it cannot plant, a return address it cannot read) and the runtime goes on without that
// hook or watch. request_stop() and log() are called from a groutine and may throw Error,
// which that groutine sees.
class GROUTINES_API Backend {
 public:
  virtual ~Backend();

  // install_call_hook() asks for every call of function (numbered id) to be reported with
  // Runtime::deliver_call(id, ...) until remove_call_hook(id): the first groutine started
  // waiting on calls of function (or holds a stream of them).
  virtual void install_call_hook(FunctionId id, std::string_view function) noexcept = 0;
  // remove_call_hook() undoes install_call_hook(): nobody waits on calls of id any more.
  virtual void remove_call_hook(FunctionId id) noexcept = 0;

  // watch_return() asks for the return of exactly the call `call` of function (numbered
  // function_id), whose Call event is being delivered now (frame is the target stopped at its
  // entry), to be reported with Runtime::deliver_return(call, ...), once: either returned or
  // unwound.
  virtual void watch_return(CallId call, FunctionId function_id, std::string_view function,
                            Frame& frame) noexcept = 0;
  // unwatch_return() cancels watch_return(call): nobody waits for that return any more.
  virtual void unwatch_return(CallId call) noexcept = 0;

  // request_stop() is a groutine asking to stop the target at the prompt with reason. When
  // the target is already stopped (a prompt-fired event), the backend only reports it.
  virtual void request_stop(const Groutine& by, std::string_view reason) = 0;

  // observe() sees every event as its delivery starts (for event logs); optional.
  virtual void observe(const Event& event) noexcept;
  // log() is a message a groutine wrote with groutines::log(); optional.
  virtual void log(const Groutine& by, std::string_view message);
  // on_failure() sees every failure as the runtime records it on groutine by (failure is
  // by.failures().back()): a failed check that lets it go on, and the failed REQUIRE or
  // exception that ended it (failure.fatal), of C++ and Python groutines alike. Called while
  // the event by was handling is being delivered (or as it starts, or at unload), so a
  // backend may stop the target there as request_stop() would; optional.
  virtual void on_failure(const Groutine& /*by*/, const Failure& /*failure*/) noexcept {}
  // functions() are the names of the target's code symbols (functions) that match the shell
  // pattern (fnmatch: `parse_*`, `kv_?et`, `[a-c]*`), each once, in the main executable, or,
  // when modules is not empty, in the loaded modules whose file name is one of modules
  // (`libc.so.6`). Names are as the debugger shows them (demangled C++ names). Called from a
  // groutine while it loads (where the target exists, before or after it runs) and from a
  // delivery; a backend that cannot ask its debugger from the thread delivering (LLDB while
  // a synchronous continue holds it) answers from what it saw at the last stop or module load,
  // or throws Error saying so, and never waits for the debugger. May throw Error (a module
  // that is not loaded, no target), which the calling groutine sees. Optional: the default
  // knows no symbols and returns nothing.
  virtual std::vector<std::string> functions(std::string_view pattern,
                                             const std::vector<std::string>& modules);
};

}  // namespace groutines
