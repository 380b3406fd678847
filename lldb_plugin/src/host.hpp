#pragma once
// Host: the one groutines runtime of this debugger process, with its LLDB backend, its event
// log and the groutine libraries it loaded. Made at the first `groutine` command and never
// destroyed: no static destructor touches LLDB while the debugger shuts down.
#include <lldb/API/LLDB.h>

#include <string>
#include <vector>

#include "groutines/event_log.hpp"
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

  // Library is a groutine library loaded with `groutine load`.
  struct Library {
    std::string path;  // canonical
    void* handle = nullptr;
  };
  const std::vector<Library>& libraries() const noexcept { return libraries_; }

  // load_library() dlopens the C++ groutine library at path (canonical) and loads every
  // groutine it registers; a library already loaded is unloaded first (a reload). Returns the
  // loaded groutines' ids. Throws Error naming what was wrong.
  std::vector<GroutineId> load_library(const std::string& path);
  // unload_library() unloads the groutines of the library at path and dlcloses it; false
  // when no library was loaded from path.
  bool unload_library(const std::string& path);
  // unload_everything() unloads every groutine and closes every library.
  void unload_everything();

 private:
  explicit Host(lldb::SBDebugger debugger);
  static void stop_at_exit();
  static bool before_resume(void* baton, const char** argv);

  EventLog log_;
  LldbBackend backend_;
  Runtime runtime_;
  std::vector<Library> libraries_;
  std::unique_ptr<ProcessWatcher> watcher_;  // null with an LLDB older than 17
};

}  // namespace groutines::plugin
