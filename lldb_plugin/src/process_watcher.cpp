#include "process_watcher.hpp"

namespace groutines::plugin {

namespace {
constexpr std::uint32_t kWake = 1;
}  // namespace

ProcessWatcher::ProcessWatcher(Gone gone)
    : gone_(std::move(gone)), listener_("groutines.process-watcher"), wake_("groutines.wake") {
  listener_.StartListeningForEvents(wake_, kWake);
  thread_ = std::thread([this] { run(); });
}

ProcessWatcher::~ProcessWatcher() { stop(); }

void ProcessWatcher::watch(lldb::SBProcess& process) {
  std::uint32_t id = process.GetUniqueID();
  if (id == 0 || id == last_watched_) return;
  last_watched_ = id;
  listener_.StartListeningForEvents(process.GetBroadcaster(),
                                    lldb::SBProcess::eBroadcastBitStateChanged);
}

void ProcessWatcher::stop() {
  if (stopping_.exchange(true)) return;
  wake_.BroadcastEventByType(kWake);
  if (thread_.joinable()) thread_.join();
}

void ProcessWatcher::run() {
  while (!stopping_) {
    lldb::SBEvent event;
    if (!listener_.WaitForEvent(60, event) || stopping_) continue;
    if (!lldb::SBProcess::EventIsProcessEvent(event)) continue;
    lldb::StateType state = lldb::SBProcess::GetStateFromEvent(event);
    if (state != lldb::eStateExited && state != lldb::eStateDetached) continue;
    lldb::SBProcess process = lldb::SBProcess::GetProcessFromEvent(event);
    gone_(process.GetUniqueID(), state);
  }
}

}  // namespace groutines::plugin
