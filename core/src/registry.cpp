#include "groutines/registry.hpp"

#include <algorithm>
#include <utility>

namespace groutines {

Registry& Registry::global() {
  static Registry registry;
  return registry;
}

std::uint64_t Registry::add(std::string name, std::function<void()> body, Location location) {
  std::lock_guard lock(mutex_);
  std::uint64_t serial = next_serial_++;
  definitions_.push_back(
      Definition{std::move(name), std::move(body), std::move(location), capturing_, serial});
  return serial;
}

void Registry::remove(std::uint64_t serial) {
  std::lock_guard lock(mutex_);
  definitions_.erase(std::remove_if(definitions_.begin(), definitions_.end(),
                                    [&](const Definition& d) { return d.serial == serial; }),
                     definitions_.end());
}

std::vector<Definition> Registry::definitions() const {
  std::lock_guard lock(mutex_);
  return definitions_;
}

std::vector<Definition> Registry::definitions_of(std::string_view source) const {
  std::lock_guard lock(mutex_);
  std::vector<Definition> out;
  for (const Definition& d : definitions_)
    if (d.source == source) out.push_back(d);
  return out;
}

Registry::Capture::Capture(std::string source) {
  Registry& r = global();
  std::lock_guard lock(r.mutex_);
  previous_ = std::exchange(r.capturing_, std::move(source));
}

Registry::Capture::~Capture() {
  Registry& r = global();
  std::lock_guard lock(r.mutex_);
  r.capturing_ = std::move(previous_);
}

Registrar::Registrar(const char* name, void (*body)(), const char* file, unsigned line)
    : serial_(Registry::global().add(name, body, Location{file, line})) {}

Registrar::~Registrar() { Registry::global().remove(serial_); }

}  // namespace groutines
