#include "host.hpp"

#include <algorithm>
#include <cstdlib>

#include "groutines/error.hpp"

namespace groutines::plugin {

namespace {

// Fiber stacks are larger than the core's default: groutine code calls into LLDB (register
// and type lookups) from its fiber. GROUTINES_STACK_SIZE sets another size.
RuntimeOptions host_options() {
  RuntimeOptions o;
  o.stack_size = 1024 * 1024;
  return with_environment(o);
}

// The host is deliberately leaked: see host.hpp.
Host* g_host = nullptr;

// kResuming are the commands that resume the target (aliases such as continue, run, next and
// step resolve to them).
const char* const kResuming[] = {
    "process continue", "process launch",   "thread continue",    "thread step-in",
    "thread step-over", "thread step-out",  "thread step-inst",   "thread step-inst-over",
    "thread until",     "thread step-scripted"};

// forwards_state_events() tells whether this LLDB gives a listener other than the debugger's
// a process's state changes only after the debugger handled them (LLDB 17 and later). Older
// ones hand every listener the same event to act on, which would run breakpoint actions twice.
bool forwards_state_events() {
  const char* version = lldb::SBDebugger::GetVersionString();  // "lldb version 19.1.7 ..."
  const char* digits = version;
  while (*digits && (*digits < '0' || *digits > '9')) ++digits;
  return std::atoi(digits) >= 17;
}

}  // namespace

Host::Host(lldb::SBDebugger debugger)
    : backend_(debugger, log_), runtime_(backend_, host_options()) {
  backend_.attach(runtime_);
  set_default_runtime(&runtime_);  // the Python module and groutine libraries share it
  if (forwards_state_events()) {
    watcher_ = std::make_unique<ProcessWatcher>([this](std::uint32_t id, lldb::StateType state) {
      // The agent's threads stop reaching the host at once: the service thread would
      // otherwise keep the runtime (and this thread) busy with a process already gone.
      backend_.withdraw_agent(id);
      auto lock = runtime_.lock();
      backend_.process_gone(id, state);
    });
    backend_.set_on_new_process([this](lldb::SBProcess& p) { watcher_->watch(p); });
  }
  // A user's `breakpoint delete` of a hook is undone before the target runs again.
  // (SetCommandOverrideCallback() resolves "process launch" to the subcommand's object.)
  lldb::SBCommandInterpreter interpreter = debugger.GetCommandInterpreter();
  for (const char* command : kResuming)
    interpreter.SetCommandOverrideCallback(command, &Host::before_resume, this);
  // Its threads (and the agent's) must end before liblldb's static destructors run: handlers
  // registered now run before those of liblldb, loaded earlier.
  std::atexit(&Host::stop_at_exit);
}

// before_resume() is LLDB's override callback of the commands that resume the target: it lets
// them run (false), once the backend is in line with the process as at a `groutine` command
// (the hooks a user deleted or disabled put back, a process that ended let go).
bool Host::before_resume(void* baton, const char** /*argv*/) {
  auto* host = static_cast<Host*>(baton);
  try {
    auto lock = host->runtime_.lock();
    host->backend_.before_resume();
  } catch (const std::exception& e) {
    host->backend_.print(std::string("groutines: cannot put the hooks back: ") + e.what());
  }
  return false;
}

void Host::stop_at_exit() {
  if (!g_host) return;
  if (g_host->watcher_) g_host->watcher_->stop();
  g_host->backend_.shutdown();  // the agent's service and heartbeat threads
}

Host& Host::get(lldb::SBDebugger debugger) {
  if (!g_host) g_host = new Host(std::move(debugger));
  return *g_host;
}

}  // namespace groutines::plugin
