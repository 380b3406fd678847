#include <catch2/catch.hpp>

#include "scripted_host.hpp"

using namespace groutines;

TEST_CASE("a call skipped with return_now gives the caller the forced value", "[core][results]") {
  scripted::Host host;
  host.load("oom", [] {
    for (int i = 0; i < 2; ++i) wait_call("malloc");
    Call c = wait_call("malloc", [](const Call& call) { return call.arg(0) > 16; });
    c.return_now(std::int64_t{0});
  });
  CHECK_FALSE(host.backend.call(1, "malloc", {8}).has_value());
  host.backend.ret(1, 0x1000);
  CHECK_FALSE(host.backend.call(1, "malloc", {8}).has_value());
  host.backend.ret(1, 0x2000);
  CHECK_FALSE(host.backend.call(1, "malloc", {8}).has_value());  // not > 16
  host.backend.ret(1, 0x3000);
  auto forced = host.backend.call(1, "malloc", {32});
  REQUIRE(forced.has_value());
  CHECK(*forced == Value(std::int64_t{0}));
  CHECK(host.backend.depth(1) == 0);  // the body did not run: its frame is gone
}

TEST_CASE("waiting for the return of a skipped call gets the forced value at once",
          "[core][results]") {
  scripted::Host host;
  std::vector<std::int64_t> seen;
  host.load("skipper", [] { wait_call("f").return_now(std::int64_t{-1}); });
  host.load("watcher", [&] {
    Return r = wait_call("f").returned();
    seen.push_back(r.value());
    r.set_value(std::int64_t{-2});
  });
  auto forced = host.backend.call(1, "f");
  CHECK(seen == std::vector<std::int64_t>{-1});
  REQUIRE(forced.has_value());
  CHECK(*forced == Value(std::int64_t{-2}));  // the watcher rewrote the forced return
  CHECK(host.backend.watched() == 0);
  CHECK(host.runtime.pending_returns() == 0);
}

TEST_CASE("a return value rewritten by several groutines: the last in load order wins, and "
          "each sees the rewrites before it",
          "[core][results]") {
  scripted::Host host;
  std::vector<std::int64_t> seen;
  for (std::int64_t add : {10, 100})
    host.load("add" + std::to_string(add), [&, add] {
      Return r = wait_call("f").returned();
      seen.push_back(r.value());
      r.set_value(r.value() + add);
    });
  host.backend.call(1, "f");
  CHECK(host.backend.ret(1, 1) == Value(std::int64_t{111}));
  CHECK(seen == std::vector<std::int64_t>{1, 11});
}

TEST_CASE("floating return values are read and rewritten", "[core][results]") {
  scripted::Host host;
  double seen = 0;
  host.load("g", [&] {
    Return r = wait_call("scale").returned();
    seen = r.float_value();
    r.set_value(seen * 2);
  });
  host.backend.call(1, "scale");
  CHECK(host.backend.ret(1, 1.25) == Value(2.5));
  CHECK(seen == 1.25);
}

TEST_CASE("when several groutines skip the same call, the last in load order wins",
          "[core][results]") {
  scripted::Host host;
  host.load("a", [] { wait_call("f").return_now(std::int64_t{1}); });
  host.load("b", [] { wait_call("f").return_now(std::int64_t{2}); });
  CHECK(host.backend.call(1, "f") == Value(std::int64_t{2}));
}

TEST_CASE("a groutine asks the backend to stop the target, with a reason", "[core][results]") {
  scripted::Host host;
  host.load("stopper", [] {
    Call c = wait_call("f");
    stop("f called with " + std::to_string(c.arg(0)));
    log("asked to stop");
  });
  host.backend.call(1, "f", {9});
  CHECK(host.backend.stops == std::vector<std::string>{"stopper: f called with 9"});
  CHECK(host.backend.logs == std::vector<std::string>{"stopper: asked to stop"});
}

TEST_CASE("the backend observes every event as its delivery starts", "[core][results]") {
  scripted::Host host;
  host.load("g", [] {
    Call c = wait_call("f");
    fire("x");
    c.returned();
  });
  host.backend.call(1, "f");
  host.backend.ret(1, 0);
  CHECK(host.backend.observed == std::vector<std::uint64_t>{1, 2, 3});
}
