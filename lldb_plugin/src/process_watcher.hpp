#pragma once
// ProcessWatcher: hears that a process exited or was detached when LLDB runs asynchronously
// (the interactive prompt), so that the calls awaited in it are delivered as unwound, and its
// return breakpoints deleted, without waiting for the next `groutine` command. It listens on
// each process's broadcaster next to the debugger, which handles every event first (LLDB
// forwards state changes to such listeners only after that). A synchronous `run` or
// `continue` keeps the events to itself: the next command notices instead (at_prompt()).
#include <lldb/API/LLDB.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <thread>

namespace groutines::plugin {

class ProcessWatcher {
 public:
  // Gone is called on the watcher's thread with a process's unique id and its final state.
  using Gone = std::function<void(std::uint32_t process_id, lldb::StateType state)>;

  explicit ProcessWatcher(Gone gone);
  // ~ProcessWatcher() stops its thread; the host, which owns it, is never destroyed, so this
  // runs only from stop_at_exit().
  ~ProcessWatcher();
  ProcessWatcher(const ProcessWatcher&) = delete;
  ProcessWatcher& operator=(const ProcessWatcher&) = delete;

  // watch() listens for the state changes of process (once per process).
  void watch(lldb::SBProcess& process);
  // stop() ends the thread and waits for it. Idempotent.
  void stop();

 private:
  void run();

  Gone gone_;
  lldb::SBListener listener_;
  lldb::SBBroadcaster wake_;  // stop() broadcasts on it to end a wait at once
  std::atomic<bool> stopping_{false};
  std::uint32_t last_watched_ = 0;
  std::thread thread_;
};

}  // namespace groutines::plugin
