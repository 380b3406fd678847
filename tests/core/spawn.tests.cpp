#include <catch2/catch.hpp>

#include <map>
#include <set>

#include "scripted_host.hpp"

using namespace groutines;

namespace {

// Pair is a call and the return that came to the child waiting for it.
struct Pair {
  CallId call = 0;
  CallId returned_from = 0;
  std::uint64_t arg = 0;
  std::int64_t value = 0;
};

// pairing() is a groutine that spawns, for every call of f, a child awaiting its return.
std::function<void()> pairing(std::vector<Pair>& pairs, std::uint64_t& missed) {
  return [&pairs, &missed] {
    Calls stream = calls("f");
    for (Call call : stream) {
      missed = stream.missed();
      spawn("f-return", [&pairs, call] {
        Return ret = call.returned();
        pairs.push_back(Pair{call.id(), ret.call_id(), 0, ret.value()});
      });
    }
  };
}

}  // namespace

TEST_CASE("a recursion handled with spawn pairs every call with its own return, none missed",
          "[core][spawn]") {
  scripted::Host host;
  std::vector<Pair> pairs;
  std::uint64_t missed = ~std::uint64_t{0};
  Groutine& parent = host.load("pairing", pairing(pairs, missed));
  std::vector<CallId> calls_made;
  for (std::uint64_t depth = 0; depth < 200; ++depth) host.backend.call(1, "f", {depth});
  CHECK(host.runtime.size() == 201);  // the parent and one child per pending call
  CHECK(parent.live_children() == 200);
  for (std::int64_t depth = 199; depth >= 0; --depth) host.backend.ret(1, depth * 10);
  REQUIRE(pairs.size() == 200);
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    CHECK(pairs[i].returned_from == pairs[i].call);
    // Returns come innermost first: the i-th return is of call 199 - i, valued 10 * depth.
    CHECK(pairs[i].value == static_cast<std::int64_t>(199 - i) * 10);
  }
  host.backend.call(1, "f");  // one more, to read the stream's count after the returns
  CHECK(missed == 0);
  CHECK(parent.missed().empty());
  CHECK(parent.children().spawned == 201);
  CHECK(parent.children().ended == 200);
  CHECK(parent.children().events == 200);  // each child handled its return
  CHECK(parent.passed());
  host.backend.ret(1, 0);
  CHECK(host.runtime.size() == 1);
  CHECK(host.runtime.pending_returns() == 0);
}

TEST_CASE("4 threads x 500 interleaved calls handled with spawn pair every call with its return",
          "[core][spawn]") {
  scripted::Host host;
  std::vector<Pair> pairs;
  std::uint64_t missed = ~std::uint64_t{0};
  host.load("pairing", pairing(pairs, missed));
  std::map<CallId, std::int64_t> expected;  // call -> the value its thread returns
  for (int round = 0; round < 500; ++round) {
    for (std::uint64_t thread = 1; thread <= 4; ++thread) host.backend.call(thread, "f");
    for (std::uint64_t thread = 4; thread >= 1; --thread)
      host.backend.ret(thread, static_cast<std::int64_t>(thread * 1000 + round));
  }
  REQUIRE(pairs.size() == 2000);
  std::set<CallId> seen;
  for (const Pair& p : pairs) {
    CHECK(p.returned_from == p.call);
    seen.insert(p.call);
  }
  CHECK(seen.size() == 2000);
  host.backend.call(1, "f");
  CHECK(missed == 0);
  host.backend.ret(1, 0);
  CHECK(host.runtime.size() == 1);
}

TEST_CASE("a stream counts the calls made while its groutine waits on a return", "[core][spawn]") {
  scripted::Host host;
  std::uint64_t missed = 0;
  Groutine& g = host.load("awaits-in-line", [&] {
    Calls stream = calls("f");
    for (Call call : stream) {
      call.returned();
      missed = stream.missed();
    }
  });
  host.backend.call(1, "f");  // handled: awaits its return
  host.backend.call(1, "f");  // missed: recursion
  host.backend.call(2, "f");  // missed: another thread
  host.backend.ret(2, 0);
  host.backend.ret(1, 0);
  host.backend.ret(1, 0);  // the outer call's return
  CHECK(missed == 2);
  REQUIRE(g.missed().size() == 1);
  CHECK(host.runtime.function_name(g.missed()[0].function) == "f");
  CHECK(g.missed()[0].count == 2);
}

TEST_CASE("a child's failure is its own: the parent goes on and holds it once the child is reaped",
          "[core][spawn]") {
  scripted::Host host;
  int handled = 0;
  Groutine& parent = host.load("parent", [&] {
    for (Call call : calls("f")) {
      ++handled;
      spawn("checker", [call] {
        Return ret = call.returned();
        GROUTINE_CHECK(ret.value() != 1);
        GROUTINE_REQUIRE(ret.value() != 2);
      });
    }
  });
  host.backend.call(1, "f");
  host.backend.ret(1, 1);  // a failed check: the child goes on and finishes
  host.backend.call(1, "f");
  host.backend.ret(1, 2);  // a failed REQUIRE ends the child
  host.backend.call(1, "f");
  host.backend.ret(1, 3);
  CHECK(handled == 3);
  CHECK(parent.state() == State::Waiting);
  CHECK(parent.failures().empty());
  CHECK_FALSE(parent.passed());
  CHECK(host.runtime.size() == 1);
  const Children& c = parent.children();
  CHECK(c.spawned == 3);
  CHECK(c.ended == 3);
  CHECK(c.failed == 2);
  REQUIRE(c.failures.size() == 2);
  CHECK(c.failures[0].groutine == "checker");
  CHECK_FALSE(c.failures[0].fatal);
  CHECK(c.failures[1].fatal);
  CHECK(c.failures[1].message.find("ret.value() != 2") != std::string::npos);
}

TEST_CASE("a live child is listed under its parent and unloaded with it", "[core][spawn]") {
  scripted::Host host;
  bool unwound = false;
  Groutine& parent = host.load("parent", [&] {
    for (Call call : calls("f"))
      spawn("child", [call, &unwound] {
        struct Guard {
          bool& flag;
          ~Guard() { flag = true; }
        } guard{unwound};
        call.returned();
      });
  });
  host.backend.call(1, "f");
  std::vector<std::pair<std::string, GroutineId>> listed;
  host.runtime.for_each([&](const Groutine& g) { listed.emplace_back(g.name(), g.parent()); });
  REQUIRE(listed.size() == 2);
  CHECK(listed[1] == std::make_pair(std::string("child"), parent.id()));
  CHECK(host.backend.watched() == 1);
  CHECK(host.runtime.unload(parent.id()));
  CHECK(unwound);
  CHECK(host.runtime.size() == 0);
  CHECK(host.backend.watched() == 0);
  CHECK(host.backend.hooked().empty());
}

TEST_CASE("ended children are reaped: many spawns keep one Groutine", "[core][spawn]") {
  scripted::Host host;
  Groutine& parent = host.load("parent", [&] {
    for (Call call : calls("f")) spawn("quick", [call] { (void)call.arg(0); });
  });
  for (int i = 0; i < 5000; ++i) {
    host.backend.call(1, "f", {1});
    host.backend.ret(1, 0);
    REQUIRE(host.runtime.size() == 1);
  }
  CHECK(parent.children().spawned == 5000);
  CHECK(parent.children().ended == 5000);
  CHECK(parent.live_children() == 0);
}

TEST_CASE("a child spawns children of its own, folded into it, then into its parent",
          "[core][spawn]") {
  scripted::Host host;
  Groutine& parent = host.load("parent", [&] {
    wait_call("f");
    spawn("child", [] {
      Call inner = wait_call("g");
      spawn("grandchild", [inner] { GROUTINE_CHECK(inner.returned().value() == 0); });
    });
    wait_event("never");
  });
  host.backend.call(1, "f");
  host.backend.call(1, "g");
  CHECK(host.runtime.size() == 3);  // the child ended, but its child lives: not reaped yet
  host.backend.ret(1, 5);
  CHECK(host.runtime.size() == 1);
  CHECK(parent.children().spawned == 2);
  CHECK(parent.children().ended == 2);
  CHECK(parent.children().failed == 1);
  REQUIRE(parent.children().failures.size() == 1);
  CHECK(parent.children().failures[0].groutine == "grandchild");
}

TEST_CASE("spawn outside a groutine, or from a predicate, is an error", "[core][spawn]") {
  scripted::Host host;
  CHECK_THROWS_WITH(spawn("x", [] {}), "groutines::spawn() called outside a groutine");
  std::string error;
  Groutine& g = host.load("spawns-in-where", [&] {
    wait_call("f", [&](const Call&) {
      try {
        spawn("x", [] {});
      } catch (const Error& e) {
        error = e.what();
      }
      return true;
    });
  });
  host.backend.call(1, "f");
  CHECK(error == "groutines::spawn() called outside a groutine");  // as every call of the API
  CHECK(g.state() == State::Finished);
  CHECK(g.children().spawned == 0);
  CHECK(host.runtime.size() == 1);
}

TEST_CASE("a child that waits on a call no longer current fails alone", "[core][spawn]") {
  scripted::Host host;
  Groutine& parent = host.load("parent", [&] {
    Call first = wait_call("f");
    wait_call("g");
    spawn("late", [first] { first.returned(); });
    wait_event("never");
  });
  host.backend.call(1, "f");
  host.backend.call(1, "g");
  CHECK(parent.state() == State::Waiting);
  REQUIRE(parent.children().failures.size() == 1);
  CHECK(parent.children().failures[0].message.find("no longer current") != std::string::npos);
}
