#include <catch2/catch.hpp>

#include <algorithm>

#include "scripted_host.hpp"

using namespace groutines;

namespace {
int registered_runs = 0;
unsigned check_line = 0;
}  // namespace

constexpr unsigned kDefinedAt = __LINE__ + 1;
GROUTINE("a groutine registered by the GROUTINE macro") {
  ++registered_runs;
  Call c = wait_call("registered_f");
  check_line = __LINE__ + 1;
  GROUTINE_CHECK(c.arg(0) == 1);
}

TEST_CASE("GROUTINE registers a definition with its name and file:line at static init",
          "[core][registry]") {
  auto defs = Registry::global().definitions_of("");
  auto it = std::find_if(defs.begin(), defs.end(), [](const Definition& d) {
    return d.name == "a groutine registered by the GROUTINE macro";
  });
  REQUIRE(it != defs.end());
  CHECK(it->location.file == __FILE__);
  CHECK(it->location.line == kDefinedAt);

  scripted::Host host;
  Groutine& g = host.runtime.load(*it);
  CHECK(registered_runs == 1);
  host.backend.call(1, "registered_f", {2});
  CHECK(g.failures().size() == 1);
  CHECK(g.failures().at(0).where.line == check_line);
}

TEST_CASE("definitions registered during a capture are tagged with its source",
          "[core][registry]") {
  std::uint64_t serial = 0;
  {
    Registry::Capture capture("libexample.so");
    serial = Registry::global().add("captured", [] {}, Location{"x.cpp", 3});
  }
  auto defs = Registry::global().definitions_of("libexample.so");
  REQUIRE(defs.size() == 1);
  CHECK(defs[0].name == "captured");
  Registry::global().remove(serial);
  CHECK(Registry::global().definitions_of("libexample.so").empty());
}
