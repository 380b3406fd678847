#pragma once
// Host: the one groutines runtime of this debugger process, with its LLDB backend, its event
// log and the groutine libraries it loaded. Made at the first `groutine` command and never
// destroyed: no static destructor touches LLDB while the debugger shuts down.
#include <lldb/API/LLDB.h>

#include <string>
#include <vector>

#include "groutines/event_log.hpp"
#include "groutines/libraries.hpp"
#include "groutines/runtime.hpp"
#include <memory>

#include "lldb_backend.hpp"
#include "process_watcher.hpp"

namespace groutines::plugin {

class Host {
 public:
  // get() is the host, made on first use with debugger.
  static Host& get(lldb::SBDebugger debugger);

  Runtime& runtime() noexcept { return runtime_; }
  LldbBackend& backend() noexcept { return backend_; }
  EventLog& event_log() noexcept { return log_; }

  // libraries() are the C++ groutine libraries loaded with `groutine load`.
  Libraries& libraries() noexcept { return libraries_; }

 private:
  explicit Host(lldb::SBDebugger debugger);
  static void stop_at_exit();
  static bool before_resume(void* baton, const char** argv);

  EventLog log_;
  LldbBackend backend_;
  Runtime runtime_;
  Libraries libraries_;
  std::unique_ptr<ProcessWatcher> watcher_;  // null with an LLDB older than 17
};

}  // namespace groutines::plugin
