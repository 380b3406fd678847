#pragma once
// EventLog: the last events the runtime delivered (and groutines' log lines), in a ring of
// bounded size, for `groutine events`. A frontend's backend fills it (Backend::observe(),
// log(), request_stop()); the command set (groutines/commands.hpp) shows it.
#include <cstddef>
#include <chrono>
#include <cstdint>
#include <deque>
#include <string>
#include <utility>
#include <vector>

#include "groutines/event.hpp"
#include "groutines/export.hpp"
#include "groutines/value.hpp"

namespace groutines {

// LogEntry is one line of the log: the event's fields as values (for `groutine events
// --json`) and a short text view of them (detail, for the table).
struct LogEntry {
  std::uint64_t seq = 0;     // the event's sequence number (0 for a log or stop line)
  std::int64_t time_ns = 0;  // Clock (steady) time of the event, or of the line when logged
  std::uint64_t thread = 0;  // target thread id (0: the debugger)
  std::string kind;          // "call", "return", "custom", "log" or "stop"
  std::string name;          // function, custom event or (log, stop) groutine
  CallId call = 0;           // call, return: the call's id (0: none)
  // args are a call's arguments: by DWARF name when the function has debug info, else the
  // registers groutines read (rdi=...), in order.
  std::vector<std::pair<std::string, Value>> args;
  Value value;               // a return's value (as rewritten), a skipped call's forced one
  bool skipped = false;      // call: the body was skipped; return: of a skipped call
  bool unwound = false;      // return: the frame was left without returning
  bool rewritten = false;    // return: a groutine changed the value the caller sees
  Data data;                 // custom: the event's data
  std::string detail;        // a short view of arguments, return value, data or message
};

// time_ns() is t in nanoseconds of Clock, as LogEntry::time_ns holds it.
inline std::int64_t time_ns(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

// to_json() is entry as one line of JSON (no newline): seq, time_ns, thread, kind, name,
// call, args, value, skipped, unwound, rewritten, data, detail. Absent seq, call and value
// are null; text that is not UTF-8 has its bad bytes replaced.
GROUTINES_API std::string to_json(const LogEntry& entry);

// entry_of() is event as a frontend without more knowledge logs it: seq, time, thread, kind,
// name, call ("call #N" in detail), a custom event's data, a return unwound, or (when
// read_value) its value read from its frame (st0 for a long double, xmm0 when
// returns_float(), else rax); a read that fails is noted in detail. (The LLDB backend adds
// what only it knows: arguments, skipped calls, rewrites.)
GROUTINES_API LogEntry entry_of(const Event& event, bool read_value = true);
// line_of() is a line of groutine's own: kind "log" (a message it logged) or "stop" (the
// reason it stopped the target), on thread (0: the debugger), timed now.
GROUTINES_API LogEntry line_of(std::string kind, std::string groutine, std::string text,
                               std::uint64_t thread = 0);

class GROUTINES_API EventLog {
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
  // for_last() calls f(entry) for each of the newest n entries, oldest first, without
  // copying them.
  template <class F>
  void for_last(std::size_t n, F&& f) const {
    std::size_t skip = entries_.size() > n ? entries_.size() - n : 0;
    for (auto it = entries_.begin() + static_cast<std::ptrdiff_t>(skip); it != entries_.end(); ++it)
      f(*it);
  }
  // size() counts the entries it holds.
  std::size_t size() const noexcept { return entries_.size(); }
  // total() counts every entry ever added (also those dropped since).
  std::uint64_t total() const noexcept { return total_; }
  // clear() empties it.
  void clear() { entries_.clear(); }

 private:
  std::size_t capacity_ = kDefaultCapacity;
  std::deque<LogEntry> entries_;
  std::uint64_t total_ = 0;
};

}  // namespace groutines
