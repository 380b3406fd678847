#include "event_log.hpp"

namespace groutines::plugin {

void EventLog::set_capacity(std::size_t capacity) {
  capacity_ = capacity;
  while (entries_.size() > capacity_) entries_.pop_front();
}

LogEntry* EventLog::add(LogEntry entry) {
  if (capacity_ == 0) return nullptr;
  ++total_;
  if (entries_.size() == capacity_) entries_.pop_front();
  entries_.push_back(std::move(entry));
  return &entries_.back();
}

LogEntry* EventLog::find(std::uint64_t seq) {
  for (auto it = entries_.rbegin(); it != entries_.rend(); ++it)
    if (it->seq == seq) return &*it;
  return nullptr;
}

std::vector<LogEntry> EventLog::last(std::size_t n) const {
  std::size_t skip = entries_.size() > n ? entries_.size() - n : 0;
  return std::vector<LogEntry>(entries_.begin() + static_cast<std::ptrdiff_t>(skip),
                               entries_.end());
}

}  // namespace groutines::plugin
