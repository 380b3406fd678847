#include <catch2/catch.hpp>

#include "fake_backend.hpp"

using namespace groutines;

TEST_CASE("a loaded groutine runs until its first wait", "[core][lifecycle]") {
  fake::Host host;
  int steps = 0;
  Groutine& g = host.load("g", [&] {
    ++steps;
    wait_call("f");
    ++steps;
  });
  CHECK(steps == 1);
  CHECK(g.state() == State::Waiting);
  CHECK(g.waiting_on() == "call of f");
  host.backend.call(1, "f");
  CHECK(steps == 2);
  CHECK(g.state() == State::Finished);
  CHECK(g.passed());
  CHECK(g.events_handled() == 1);
}
