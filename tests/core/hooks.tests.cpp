#include <catch2/catch.hpp>

#include "scripted_host.hpp"

using namespace groutines;
using Journal = std::vector<std::string>;

TEST_CASE("a hook is installed when the first groutine waits and removed after the last",
          "[core][hooks]") {
  scripted::Host host;
  host.load("a", [] { wait_call("f"); });
  host.load("b", [] { wait_call("f"); });
  CHECK(host.backend.journal == Journal{"install f"});
  auto hooks = host.runtime.hooks();
  REQUIRE(hooks.size() == 1);
  CHECK(hooks[0].function == "f");
  CHECK(hooks[0].holders == 2);
  CHECK(hooks[0].installed);
  host.backend.call(1, "f");
  CHECK(host.backend.journal == Journal{"install f", "remove f"});
  CHECK(host.runtime.hooks().empty());
}

TEST_CASE("a groutine waiting on calls in a loop does not re-plant its hook at every call",
          "[core][hooks]") {
  scripted::Host host;
  host.load("one-at-a-time", [] {
    for (;;) wait_call("f");
  });
  for (int i = 0; i < 5; ++i) host.backend.call(1, "f");
  CHECK(host.backend.journal == Journal{"install f"});
}

TEST_CASE("a stream of calls keeps its hook while its body waits on something else",
          "[core][hooks]") {
  scripted::Host host;
  int calls_seen = 0;
  host.load("g", [&] {
    for (Call c : calls("f")) {
      ++calls_seen;
      c.returned();
    }
  });
  host.backend.call(1, "f");
  host.backend.call(1, "f");  // nested call while the body waits for the return: missed
  host.backend.ret(1, 0);
  host.backend.ret(1, 0);
  CHECK(calls_seen == 1);
  CHECK(host.backend.journal == Journal{"install f", "watch #1"});
  host.backend.call(1, "f");
  CHECK(calls_seen == 2);
}

TEST_CASE("hooks are released by a groutine that finishes, fails or waits on something else",
          "[core][hooks]") {
  scripted::Host host;
  host.load("finishes", [] { wait_call("a"); });
  host.load("fails", [] {
    wait_call("b");
    throw Error("boom");
  });
  host.load("moves on", [] {
    wait_call("c");
    wait_call("d");
  });
  host.backend.call(1, "a");
  host.backend.call(1, "b");
  host.backend.call(1, "c");
  CHECK(host.backend.journal ==
        Journal{"install a", "install b", "install c", "remove a", "remove b", "remove c",
                "install d"});
  CHECK(host.backend.hooked().size() == 1);
  CHECK(host.backend.is_hooked("d"));
}

TEST_CASE("nothing is hooked for a function nobody waits for", "[core][hooks]") {
  scripted::Host host;
  host.load("g", [] { wait_event("x"); });
  CHECK(host.backend.journal.empty());
  CHECK_FALSE(host.backend.call(1, "f").has_value());
}
