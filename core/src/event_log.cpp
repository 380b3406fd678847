#include "groutines/event_log.hpp"

#include <type_traits>
#include <variant>

#include <nlohmann/json.hpp>

#include "groutines/argument_layout.hpp"

namespace groutines {

namespace {

using Json = nlohmann::ordered_json;

Json json_of(const Value& v) {
  return std::visit(
      [](const auto& x) -> Json {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::monostate>)
          return nullptr;
        else
          return x;
      },
      v);
}

}  // namespace

std::string to_json(const LogEntry& e) {
  Json args = Json::object();
  for (const auto& [name, value] : e.args) args[name] = json_of(value);
  Json data = Json::object();
  for (const Field& f : e.data) data[f.key] = json_of(f.value);
  Json j = {
      {"seq", e.seq ? Json(e.seq) : Json(nullptr)},
      {"time_ns", e.time_ns},
      {"thread", e.thread},
      {"kind", e.kind},
      {"name", e.name},
      {"call", e.call ? Json(e.call) : Json(nullptr)},
      {"args", std::move(args)},
      {"value", json_of(e.value)},
      {"skipped", e.skipped},
      {"unwound", e.unwound},
      {"rewritten", e.rewritten},
      {"data", std::move(data)},
      {"detail", e.detail},
  };
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

LogEntry entry_of(const Event& event, bool read_value) {
  LogEntry e;
  e.seq = event.seq;
  e.time_ns = time_ns(event.time);
  e.thread = event.thread_id;
  e.kind = name(event.kind);
  e.name = std::string(event.name);
  try {
    if (event.kind == EventKind::Custom) {
      if (event.data) {
        e.data = *event.data;
        e.detail = to_string(*event.data);
      }
    } else {
      e.call = event.call;
      e.detail = "call #" + std::to_string(event.call);
      if (event.kind == EventKind::Return && event.unwound) {
        e.unwound = true;
        e.detail += " unwound";
      } else if (event.kind == EventKind::Return && event.frame && read_value) {
        if (event.frame->returns_float()) {
          e.value = event.frame->float_return_value();
          const bool x87 = event.frame->return_layout().type == sysv::TypeClass::X87;
          e.detail += (x87 ? " st0=" : " xmm0=") + to_string(e.value);
        } else {
          e.value = static_cast<std::int64_t>(event.frame->int_return_value());
          e.detail += " rax=" + to_string(e.value);
        }
      }
    }
  } catch (const std::exception& ex) {
    e.detail += std::string(" (") + ex.what() + ")";
  }
  return e;
}

LogEntry line_of(std::string kind, std::string groutine, std::string text, std::uint64_t thread) {
  LogEntry e;
  e.time_ns = time_ns(Clock::now());
  e.thread = thread;
  e.kind = std::move(kind);
  e.name = std::move(groutine);
  e.detail = std::move(text);
  return e;
}

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

}  // namespace groutines
