#pragma once
#include <string_view>

#include "groutines/event.hpp"
#include "groutines/export.hpp"

namespace groutines {

class Groutine;
struct Failure;

// Backend is what a debugger provides to the runtime: hooks on functions, watches on the
// return of single calls, and a place for stops and logs. Every method is called with the
// runtime's lock held, from the thread that is delivering or loading. None may call back into
// the runtime.
class GROUTINES_API Backend {
 public:
  virtual ~Backend();

  // install_call_hook() asks for every call of function to be reported with
  // Runtime::deliver_call(id, ...) until remove_call_hook(id). Called when the first groutine
  // starts waiting on calls of function (or holds a stream of them).
  virtual void install_call_hook(FunctionId id, std::string_view function) = 0;
  // remove_call_hook() undoes install_call_hook(): nobody waits on calls of id any more.
  virtual void remove_call_hook(FunctionId id) = 0;

  // watch_return() asks for the return of exactly the call `call`, whose Call event is being
  // delivered now (frame is the target stopped at its entry), to be reported with
  // Runtime::deliver_return(call, ...), once: either returned or unwound.
  virtual void watch_return(CallId call, Frame& frame) = 0;
  // unwatch_return() cancels watch_return(call): nobody waits for that return any more.
  virtual void unwatch_return(CallId call) = 0;

  // request_stop() is a groutine asking to stop the target at the prompt with reason. When
  // the target is already stopped (a prompt-fired event), the backend only reports it.
  virtual void request_stop(const Groutine& by, std::string_view reason) = 0;

  // observe() sees every event as its delivery starts (for event logs); optional.
  virtual void observe(const Event& event);
  // log() is a message a groutine wrote with groutines::log(); optional.
  virtual void log(const Groutine& by, std::string_view message);
  // on_failure() sees every failure as the runtime records it on groutine by (failure is
  // by.failures().back()): a failed check that lets it go on, and the failed REQUIRE or
  // exception that ended it (failure.fatal), of C++ and Python groutines alike. Called while
  // the event by was handling is being delivered (or as it starts, or at unload), so a
  // backend may stop the target there as request_stop() would; optional.
  virtual void on_failure(const Groutine& /*by*/, const Failure& /*failure*/) {}
};

}  // namespace groutines
