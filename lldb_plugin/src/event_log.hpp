#pragma once
// EventLog: the last events the runtime delivered (and groutines' log lines), in a ring of
// bounded size, for `groutine events`.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

namespace groutines::plugin {

// LogEntry is one line of the log.
struct LogEntry {
  std::uint64_t seq = 0;     // the event's sequence number (0 for a log line)
  std::uint64_t thread = 0;  // target thread id (0: the debugger)
  std::string kind;          // "call", "return", "custom" or "log"
  std::string name;          // function, custom event or (log) groutine
  std::string detail;        // a short view of arguments, return value, data or message
};

class EventLog {
 public:
  // kDefaultCapacity is how many entries a new log keeps.
  static constexpr std::size_t kDefaultCapacity = 1000;

  // capacity() is how many entries it keeps; 0 turns logging off.
  std::size_t capacity() const noexcept { return capacity_; }
  // set_capacity() changes it, dropping the oldest entries that no longer fit.
  void set_capacity(std::size_t capacity);
  // add() appends entry, dropping the oldest when full; returns it, or nullptr when off.
  LogEntry* add(LogEntry entry);
  // find() is the entry of event seq still in the ring, or nullptr.
  LogEntry* find(std::uint64_t seq);
  // last() is the newest n entries, oldest first.
  std::vector<LogEntry> last(std::size_t n) const;
  // total() counts every entry ever added (also those dropped since).
  std::uint64_t total() const noexcept { return total_; }
  // clear() empties it.
  void clear() { entries_.clear(); }

 private:
  std::size_t capacity_ = kDefaultCapacity;
  std::deque<LogEntry> entries_;
  std::uint64_t total_ = 0;
};

}  // namespace groutines::plugin
