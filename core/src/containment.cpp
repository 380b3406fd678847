#include "containment.hpp"

#include <cxxabi.h>
#include <dlfcn.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>
#include <unwind.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <typeinfo>

#include "demangle.hpp"
#include "fiber_driver.hpp"
#include "groutines/runtime.hpp"
#include "groutines/runtime_internals.hpp"

namespace groutines::containment {

thread_local FiberDriver* t_running __attribute__((tls_model("initial-exec"))) = nullptr;
thread_local ExceptionState* t_exceptions __attribute__((tls_model("initial-exec"))) = nullptr;

namespace {

thread_local InitialiserGuard* t_initialising = nullptr;

// The handlers that were there before ours, by signal: whatever is not ours goes to them.
// Written once, before ours is installed for that signal.
struct sigaction g_previous[NSIG];
std::terminate_handler g_previous_terminate = nullptr;

// The alternate signal stack of a thread that switches into fibers (when it had none): the
// handler of a fault on an exhausted fiber stack needs a stack to run on. Large enough for
// the handlers ours passes faults on to (LLVM prints a backtrace on it).
constexpr std::size_t kAltStackSize = 128 * 1024;

struct AltStack {
  void* memory = nullptr;
  // At the thread's exit: unmapped if it is still this thread's alternate stack (and not in
  // use); left mapped otherwise.
  ~AltStack() {
    if (!memory) return;
    stack_t current{};
    if (sigaltstack(nullptr, &current) != 0 || current.ss_sp != memory ||
        (current.ss_flags & SS_ONSTACK))
      return;
    stack_t off{};
    off.ss_flags = SS_DISABLE;
    if (sigaltstack(&off, nullptr) == 0) munmap(memory, kAltStackSize);
  }
};
thread_local AltStack t_alt_stack;

std::uintptr_t stack_pointer(const ucontext_t* uc) {
#if defined(__x86_64__)
  return static_cast<std::uintptr_t>(uc->uc_mcontext.gregs[REG_RSP]);
#elif defined(__aarch64__)
  return static_cast<std::uintptr_t>(uc->uc_mcontext.sp);
#else
  (void)uc;
  return 0;
#endif
}

// The exit status of a process dying of a signal that is not a groutine's, once it has written
// the groutines' last report (GROUTINES_FATAL_EXIT, read when the handlers are installed);
// -1: none, the signal takes its course. For a runner, whose report would die with it.
int g_fatal_exit = -1;

// die_with_report() ends a process dying of sig with the groutines' report and
// g_fatal_exit. Only async-signal-safe calls, but for the report's best effort.
[[noreturn]] void die_with_report(int sig, const siginfo_t* info) {
  char line[512];
  const char* what = sig == SIGSEGV   ? "SIGSEGV (a segmentation fault)"
                     : sig == SIGBUS  ? "SIGBUS (a bus error)"
                                      : "SIGABRT (abort() or std::terminate)";
  Runtime* runtime = default_runtime();
  const Groutine* running =
      runtime && RuntimeInternals::holds_lock(*runtime) ? runtime->current_groutine()
                                                        : nullptr;
  int n = std::snprintf(line, sizeof line, "error: groutines: the debugger died of %s", what);
  if (sig != SIGABRT && info->si_code > 0)
    n += std::snprintf(line + n, sizeof line - n, " at address %p", info->si_addr);
  if (running)
    n += std::snprintf(line + n, sizeof line - n, " while groutine '%s' was running",
                       running->name().c_str());
  n += std::snprintf(line + n, sizeof line - n, "; the groutines as they stood:\n");
  if (n > 0) (void)!write(2, line, std::min<std::size_t>(static_cast<std::size_t>(n), sizeof line - 1));
  if (runtime) runtime->write_last_report(2);
  _exit(g_fatal_exit);
}

// pass_on() hands a signal that is not ours to the previous handler, or lets the default
// action (or the ignoring) happen the way it would have without ours.
void pass_on(int sig, siginfo_t* info, void* context) {
  const struct sigaction& previous = g_previous[sig];
  if (previous.sa_flags & SA_SIGINFO) {
    if (previous.sa_sigaction) previous.sa_sigaction(sig, info, context);
    return;
  }
  const bool sent = info->si_code <= 0;  // by kill/raise/abort, not by a faulting instruction
  if (previous.sa_handler == SIG_IGN && sent) return;
  if (previous.sa_handler != SIG_IGN && previous.sa_handler != SIG_DFL) {
    previous.sa_handler(sig);
    return;
  }
  // The default action: ours steps aside for good and the signal happens again (a fault
  // re-executes; a sent signal is sent again and delivered when this handler returns).
  sigaction(sig, &previous, nullptr);
  if (sent) raise(sig);
}

void on_signal(int sig, siginfo_t* info, void* context) {
  auto* uc = static_cast<ucontext_t*>(context);
  if (FiberDriver* fiber = t_running) {
    if (sig == SIGABRT) {
      // abort() raises SIGABRT at its own thread; one sent from elsewhere is not ours.
      if (info->si_code == SI_TKILL && info->si_pid == getpid())
        fiber->die(Death::Abort, &uc->uc_sigmask);
    } else if (info->si_code > 0 && fiber->overflowed(info->si_addr, stack_pointer(uc))) {
      fiber->die(Death::StackOverflow, &uc->uc_sigmask);
    }
  }
  if (g_fatal_exit >= 0 && !(g_previous[sig].sa_handler == SIG_IGN && info->si_code <= 0))
    die_with_report(sig, info);
  pass_on(sig, info, context);
}

#if defined(__x86_64__) && defined(__linux__)
// Resume is where the loader called an initialiser: the instruction after the call, the stack
// pointer as the call returns, and the registers a callee preserves.
struct Resume {
  std::uintptr_t ip, sp, rbx, rbp, r12, r13, r14, r15;
};

struct Walk {
  std::uintptr_t loader;  // the dynamic loader's load address
  Resume at{};
  bool found = false;
};

// find_loader_frame() stops at the first frame, outwards, in the dynamic loader: the one that
// called the initialiser. libgcc's CFA of a frame's context is its stack pointer at the call
// it made, which is the stack pointer once that call has returned.
_Unwind_Reason_Code find_loader_frame(_Unwind_Context* context, void* arg) {
  auto& walk = *static_cast<Walk*>(arg);
  const std::uintptr_t ip = _Unwind_GetIP(context);
  Dl_info info{};
  if (!ip || !dladdr(reinterpret_cast<void*>(ip), &info) ||
      reinterpret_cast<std::uintptr_t>(info.dli_fbase) != walk.loader)
    return _URC_NO_REASON;
  walk.at = Resume{ip,
                   _Unwind_GetCFA(context),
                   _Unwind_GetGR(context, 3),
                   _Unwind_GetGR(context, 6),
                   _Unwind_GetGR(context, 12),
                   _Unwind_GetGR(context, 13),
                   _Unwind_GetGR(context, 14),
                   _Unwind_GetGR(context, 15)};
  walk.found = true;
  return _URC_END_OF_STACK;
}

// resume_at() continues the loader as if the initialiser had returned. Everything is read
// before the stack pointer moves.
[[noreturn]] void resume_at(const Resume& r) {
  asm volatile(
      "movq 16(%%rdi), %%rbx\n\t"
      "movq 24(%%rdi), %%rbp\n\t"
      "movq 32(%%rdi), %%r12\n\t"
      "movq 40(%%rdi), %%r13\n\t"
      "movq 48(%%rdi), %%r14\n\t"
      "movq 56(%%rdi), %%r15\n\t"
      "movq 0(%%rdi), %%rax\n\t"
      "movq 8(%%rdi), %%rsp\n\t"
      "jmpq *%%rax\n\t"
      :
      : "D"(&r)
      : "memory");
  __builtin_unreachable();
}
#endif

// skip_initialiser() abandons the initialiser that called std::terminate and resumes the
// loader after it; returns when it cannot (no loader frame found, another platform).
void skip_initialiser(InitialiserGuard& guard, std::string threw) {
#if defined(__x86_64__) && defined(__linux__)
  const std::uintptr_t loader = getauxval(AT_BASE);
  if (!loader) return;
  Walk walk{loader};
  _Unwind_Backtrace(find_loader_frame, &walk);
  if (!walk.found) return;
  guard.record(std::move(threw));
  set_exception_state(guard.exceptions());
  resume_at(walk.at);
#else
  (void)guard;
  (void)threw;
#endif
}

[[noreturn]] void on_terminate() {
  std::string why;
  try {
    why = describe_current_exception();
  } catch (...) {  // out of memory: the reason stays unknown, the containment does not
  }
  InitialiserGuard* guard = t_initialising;
  FiberDriver* fiber = t_running;
  if (guard && guard->running() == fiber)
    skip_initialiser(*guard, why.empty() ? "std::terminate called" : why);
  if (fiber) {
    try {
      fiber->set_last_words(std::move(why));
    } catch (...) {
    }
    fiber->die(Death::Terminate, nullptr);
  }
  if (g_previous_terminate) g_previous_terminate();
  std::abort();
}

void install_handlers() {
  if (const char* exit = std::getenv("GROUTINES_FATAL_EXIT")) {
    char* end = nullptr;
    long status = std::strtol(exit, &end, 10);
    if (end != exit && !*end && status >= 0 && status < 256) g_fatal_exit = static_cast<int>(status);
  }
  for (int sig : {SIGSEGV, SIGBUS, SIGABRT}) {
    struct sigaction ours {};
    ours.sa_sigaction = on_signal;
    ours.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&ours.sa_mask);
    sigaction(sig, &ours, &g_previous[sig]);
  }
  g_previous_terminate = std::set_terminate(on_terminate);
}

void install_handlers_once() {
  static std::once_flag once;
  std::call_once(once, install_handlers);
}

}  // namespace

void prepare_thread() {
  install_handlers_once();
  stack_t current{};
  if (sigaltstack(nullptr, &current) == 0 && (current.ss_flags & SS_DISABLE)) {
    void* memory = mmap(nullptr, kAltStackSize, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (memory != MAP_FAILED) {
      stack_t alt{};
      alt.ss_sp = memory;
      alt.ss_size = kAltStackSize;
      if (sigaltstack(&alt, nullptr) == 0)
        t_alt_stack.memory = memory;
      else
        munmap(memory, kAltStackSize);
    }
  }
  t_exceptions = reinterpret_cast<ExceptionState*>(abi::__cxa_get_globals());
}

ExceptionState exception_state() noexcept {
  return *reinterpret_cast<ExceptionState*>(abi::__cxa_get_globals());
}

void set_exception_state(const ExceptionState& state) noexcept {
  *reinterpret_cast<ExceptionState*>(abi::__cxa_get_globals()) = state;
}

std::string describe_current_exception() {
  std::exception_ptr current = std::current_exception();
  if (!current) return {};
  try {
    std::rethrow_exception(current);
  } catch (const std::exception& e) {
    return demangled(typeid(e).name()) + ": " + e.what();
  } catch (...) {
    const std::type_info* type = abi::__cxa_current_exception_type();
    return type ? demangled(type->name()) : "unknown exception";
  }
}

InitialiserGuard::InitialiserGuard()
    : outer_(t_initialising), running_(t_running), exceptions_(exception_state()) {
  install_handlers_once();
  t_initialising = this;
}

InitialiserGuard::~InitialiserGuard() { t_initialising = outer_; }

void InitialiserGuard::record(std::string threw) {
  if (threw_.empty()) threw_ = std::move(threw);
}

}  // namespace groutines::containment
