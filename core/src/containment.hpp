#pragma once
// Containment keeps the fatal mistakes of a C++ groutine inside it: a stack overflow (a fault on
// its fiber stack's guard page), abort() and std::terminate() while its fiber runs end that
// fiber, and the thread that switched into it goes on; a static initialiser that throws while
// a groutine library is being opened skips the rest of that initialiser instead of ending the
// process. Anything else (a fault elsewhere, a signal sent from outside, a terminate on another
// thread) goes to whoever handled it before, exactly as before.
#include <csignal>
#include <string>

namespace groutines {

class FiberDriver;

namespace containment {

// Death is why containment ended a fiber.
enum class Death : unsigned char {
  None,           // it was not ended by containment
  StackOverflow,  // a fault on its stack's guard page, or its stack pointer left its stack
  Abort,          // abort() (SIGABRT raised by the thread running it)
  Terminate,      // std::terminate(): an exception escaped a noexcept function or a destructor
};

// t_running is the fiber running on this thread (the innermost, when fibers nest), or nullptr;
// also nullptr while a fiber runs debugger work on its caller's stack. Initial-exec TLS: a
// signal handler reads it without the dynamic TLS allocation a first access may do.
extern thread_local FiberDriver* t_running __attribute__((tls_model("initial-exec")));

// StepAside, while it lives, has containment leave alone what runs on this thread: code that
// is not the running fiber's own, although it runs on its stack or inside its switch
// (debugger work, a groutine whose driver is not a fiber run inside a fire(), a fiber being
// unwound). Its fatal mistakes take their course as anywhere else.
class StepAside {
 public:
  StepAside() noexcept : outer_(t_running) { t_running = nullptr; }
  ~StepAside() { t_running = outer_; }
  StepAside(const StepAside&) = delete;
  StepAside& operator=(const StepAside&) = delete;

 private:
  FiberDriver* outer_;
};

// ExceptionState is the start of the C++ runtime's per-thread record of exceptions being
// handled and in flight (libstdc++'s and libc++abi's __cxa_eh_globals). A fiber ended by
// containment leaves its own entries there: the thread's record is put back as it was before
// the switch (the exception objects it referenced are leaked).
struct ExceptionState {
  void* caught = nullptr;
  unsigned int uncaught = 0;
};

// t_exceptions is this thread's exception record once prepare_thread() ran on it (nullptr
// before): read and written around every switch, without a call.
extern thread_local ExceptionState* t_exceptions __attribute__((tls_model("initial-exec")));

// prepare_thread() installs the process-wide handlers (SIGSEGV, SIGBUS, SIGABRT and the
// terminate handler, once) and gives the calling thread an alternate signal stack (unless it
// has one), on which a fault of an exhausted fiber stack can be handled. Called before the
// first switch into a fiber on each thread.
void prepare_thread();

// exception_state() reads this thread's record; set_exception_state() puts one back.
ExceptionState exception_state() noexcept;
void set_exception_state(const ExceptionState& state) noexcept;

// describe_current_exception() is "std::runtime_error: boom" for the exception being handled,
// or "" when there is none.
std::string describe_current_exception();

// InitialiserGuard, while it lives on this thread, lets a static initialiser run by dlopen()
// throw without ending the process: the terminate handler skips the rest of that initialiser
// (the loader carries on with the next one) and records why in threw(). Construct it around
// dlopen() only. x86-64 Linux only; elsewhere the process ends as before.
class InitialiserGuard {
 public:
  InitialiserGuard();
  ~InitialiserGuard();
  InitialiserGuard(const InitialiserGuard&) = delete;
  InitialiserGuard& operator=(const InitialiserGuard&) = delete;

  // threw() is "std::runtime_error: boom" when an initialiser threw (the first one), else "".
  const std::string& threw() const noexcept { return threw_; }

  // --- For the terminate handler. ---
  // running() is the fiber that was running on this thread when it was made.
  FiberDriver* running() const noexcept { return running_; }
  // exceptions() is the thread's exception record when it was made.
  const ExceptionState& exceptions() const noexcept { return exceptions_; }
  // record() keeps why an initialiser was skipped (the first reason only).
  void record(std::string threw);

 private:
  InitialiserGuard* outer_;
  FiberDriver* running_;
  ExceptionState exceptions_;
  std::string threw_;
};

}  // namespace containment
}  // namespace groutines
