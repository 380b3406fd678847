#include <catch2/catch.hpp>

#include <stdexcept>

#include "scripted_host.hpp"

using namespace groutines;

TEST_CASE("a loaded groutine runs until its first wait", "[core][lifecycle]") {
  scripted::Host host;
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

TEST_CASE("all loaded groutines are alive together", "[core][lifecycle]") {
  scripted::Host host;
  Groutine& a = host.load("a", [] { wait_call("f"); });
  Groutine& b = host.load("b", [] { wait_event("x"); });
  Groutine& c = host.load("c", [] {});
  CHECK(a.state() == State::Waiting);
  CHECK(b.state() == State::Waiting);
  CHECK(c.state() == State::Finished);
  CHECK(host.runtime.size() == 3);
  CHECK(a.id() < b.id());
}

TEST_CASE("an exception in a groutine fails it with its message and event; the others go on",
          "[core][lifecycle][failure]") {
  scripted::Host host;
  int other = 0;
  Groutine& bad = host.load("bad", [] {
    wait_call("f");
    throw std::out_of_range("index 7 past the end");
  });
  Groutine& good = host.load("good", [&] {
    for (;;) {
      wait_call("f");
      ++other;
    }
  });
  host.backend.call(3, "f");
  host.backend.call(3, "f");
  CHECK(other == 2);
  CHECK(good.state() == State::Waiting);
  REQUIRE(bad.state() == State::Failed);
  REQUIRE(bad.failures().size() == 1);
  const Failure& f = bad.failures()[0];
  CHECK(f.message == "std::out_of_range: index 7 past the end");
  CHECK(f.fatal);
  CHECK(f.event == "call #1 of f on thread 3");
  CHECK(f.where.file == bad.location().file);
}

TEST_CASE("a failed REQUIRE ends the groutine with the check's file:line", "[core][failure]") {
  scripted::Host host;
  unsigned line = 0;
  Groutine& g = host.load("g", [&] {
    Call c = wait_call("add");
    line = __LINE__ + 1;
    GROUTINE_REQUIRE_EQ(c.arg(0), 5u);
    FAIL("not reached");
  });
  host.backend.call(1, "add", {4, 2});
  REQUIRE(g.state() == State::Failed);
  REQUIRE(g.failures().size() == 1);
  CHECK(g.failures()[0].message == "GROUTINE_REQUIRE(c.arg(0) == 5u) failed: 4 != 5");
  CHECK(g.failures()[0].where.line == line);
  CHECK(g.failures()[0].where.file == __FILE__);
}

TEST_CASE("a failed CHECK is recorded and the groutine goes on", "[core][failure]") {
  scripted::Host host;
  int seen = 0;
  Groutine& g = host.load("g", [&] {
    for (Call c : calls("f")) {
      GROUTINE_CHECK(c.arg(0) < 10);
      ++seen;
    }
  });
  host.backend.call(1, "f", {3});
  host.backend.call(1, "f", {30});
  host.backend.call(1, "f", {4});
  CHECK(seen == 3);
  CHECK(g.state() == State::Waiting);
  CHECK_FALSE(g.passed());
  REQUIRE(g.failures().size() == 1);
  CHECK(g.failures()[0].message == "GROUTINE_CHECK(c.arg(0) < 10) failed");
  CHECK_FALSE(g.failures()[0].fatal);
  CHECK(g.failures()[0].event == "call #2 of f on thread 1");
}

TEST_CASE("GROUTINE_CHECK_MSG records its message beside the expression", "[core][failure]") {
  scripted::Host host;
  Groutine& g = host.load("g", [] {
    Call c = wait_call("f");
    GROUTINE_CHECK_MSG(c.arg(0) < 10, "f got " + std::to_string(c.arg(0)));
  });
  host.backend.call(1, "f", {12});
  CHECK(g.state() == State::Finished);
  CHECK(g.failures().at(0).message == "GROUTINE_CHECK(c.arg(0) < 10) failed: f got 12");
}

TEST_CASE("GROUTINE_FAIL ends the groutine with its message", "[core][failure]") {
  scripted::Host host;
  Groutine& g = host.load("g", [] { GROUTINE_FAIL("nothing to do here"); });
  CHECK(g.state() == State::Failed);
  CHECK(g.failures().at(0).message == "nothing to do here");
  CHECK(g.failures().at(0).event == "start");
}

TEST_CASE("a failure at start leaves the groutine loaded, failed, for the report",
          "[core][failure]") {
  scripted::Host host;
  Groutine& g = host.load("g", [] { throw 42; });
  CHECK(g.state() == State::Failed);
  CHECK(g.failures().at(0).message == "unknown exception");
  CHECK(host.runtime.size() == 1);
}

namespace {
struct Sentinel {
  int* destroyed;
  ~Sentinel() { ++*destroyed; }
};
}  // namespace

TEST_CASE("unloading a groutine suspended mid-wait unwinds it and releases its hooks",
          "[core][lifecycle][unload]") {
  scripted::Host host;
  int destroyed = 0;
  Groutine& g = host.load("g", [&] {
    Sentinel s{&destroyed};
    for (Call c : calls("f")) (void)c;
  });
  GroutineId id = g.id();
  host.load("h", [] { wait_event("never"); });
  CHECK(host.backend.is_hooked("f"));
  CHECK(host.runtime.unload(id));
  CHECK(destroyed == 1);
  CHECK_FALSE(host.backend.is_hooked("f"));
  CHECK(host.runtime.size() == 1);
  CHECK_FALSE(host.runtime.unload(id));
}

TEST_CASE("unloading a groutine waiting for a return cancels the watch", "[core][unload]") {
  scripted::Host host;
  Groutine& g = host.load("g", [] {
    Call c = wait_call("f");
    c.returned();
  });
  host.backend.call(1, "f");
  CHECK(host.backend.watched() == 1);
  CHECK(host.runtime.pending_returns() == 1);
  host.runtime.unload(g.id());
  CHECK(host.backend.watched() == 0);
  CHECK(host.runtime.pending_returns() == 0);
  CHECK(host.backend.journal.back() == "unwatch #1");
}

TEST_CASE("unload by source unloads every groutine of that source", "[core][unload]") {
  scripted::Host host;
  host.load("a", [] { wait_event("x"); }, "lib1.so");
  host.load("b", [] { wait_event("x"); }, "lib2.so");
  host.load("c", [] { wait_event("x"); }, "lib1.so");
  CHECK(host.runtime.unload_source("lib1.so") == 2);
  CHECK(host.runtime.size() == 1);
  CHECK(host.runtime.find("b") != nullptr);
}

TEST_CASE("destroying the runtime unwinds every groutine and removes every hook",
          "[core][lifecycle][unload]") {
  int destroyed = 0;
  scripted::ScriptedTarget backend;
  {
    Runtime runtime(backend);  // a runtime of its own over the target's backend
    runtime.load(scripted::definition("a", [&] {
      Sentinel s{&destroyed};
      wait_call("f");
    }));
    runtime.load(scripted::definition("b", [&] {
      Sentinel s{&destroyed};
      for (Call c : calls("g")) (void)c;
    }));
    CHECK(backend.hooked().size() == 2);
  }
  CHECK(destroyed == 2);
  CHECK(backend.hooked().empty());
  CHECK(backend.journal == std::vector<std::string>{"install f", "install g", "remove g", "remove f"});
}

TEST_CASE("a groutine cannot be unloaded while it runs", "[core][unload]") {
  scripted::Host host;
  std::string error;
  Groutine& g = host.load("g", [&] {
    wait_call("f");
    try {
      Runtime::current()->unload(Runtime::current()->current_groutine()->id());
    } catch (const Error& e) {
      error = e.what();
    }
  });
  host.backend.call(1, "f");
  CHECK(error == "groutine 'g' is running: it cannot be unloaded from a delivery");
  CHECK(g.state() == State::Finished);
}

TEST_CASE("a groutine cannot unload another from a delivery", "[core][unload]") {
  scripted::Host host;
  std::string error;
  host.load("first", [&] {
    wait_call("f");
    try {
      Runtime::current()->unload(2);
    } catch (const Error& e) {
      error = e.what();
    }
  });
  host.load("second", [] { wait_call("f"); });  // a receiver of the same call
  host.backend.call(1, "f");
  CHECK(error == "an event is being delivered: groutine 'second' cannot be unloaded from a "
                 "delivery");
  CHECK(host.runtime.find("second")->state() == State::Finished);
}

TEST_CASE("unloading everything from a delivery unloads nothing", "[core][unload]") {
  scripted::Host host;
  std::string error;
  host.load("first", [] { wait_event("never"); });
  host.load("unloader", [&] {
    wait_call("f");
    try {
      Runtime::current()->unload_all();
    } catch (const Error& e) {
      error = e.what();
    }
    wait_event("never");
  });
  host.load("last", [] { wait_event("never"); });
  host.backend.call(1, "f");
  CHECK(error ==
        "groutine 'unloader' is running: it cannot be unloaded from a delivery (nothing was "
        "unloaded)");
  CHECK(host.runtime.size() == 3);
}

TEST_CASE("unloading everything from a predicate unloads nothing", "[core][unload]") {
  scripted::Host host;
  std::string error;
  host.load("picky", [&] {
    wait_call("f", [&](const Call&) {
      try {
        host.runtime.unload_all();
      } catch (const Error& e) {
        error = e.what();
      }
      return true;
    });
  });
  host.load("other", [] { wait_event("never"); });
  host.backend.call(1, "f");
  CHECK(error ==
        "an event is being delivered: groutines cannot be unloaded from a delivery (nothing "
        "was unloaded)");
  CHECK(host.runtime.find("other") != nullptr);
}

TEST_CASE("unloading a source from a delivery of one of its groutines unloads nothing",
          "[core][unload]") {
  scripted::Host host;
  std::string error;
  host.load("unloader", [&] {
    wait_call("f");
    try {
      Runtime::current()->unload_source("lib1.so");
    } catch (const Error& e) {
      error = e.what();
    }
  }, "lib1.so");
  host.load("later", [] { wait_event("never"); }, "lib1.so");
  host.backend.call(1, "f");
  CHECK(error ==
        "groutine 'unloader' is running: it cannot be unloaded from a delivery (nothing was "
        "unloaded)");
  CHECK(host.runtime.find("later") != nullptr);
}

TEST_CASE("the authoring API called outside a groutine is an error", "[core][api]") {
  scripted::Host host;
  CHECK_THROWS_WITH(wait_call("f"), "groutines::wait_call() called outside a groutine");
  CHECK_THROWS_WITH(fire("x"), "groutines::fire() called outside a groutine");
}

TEST_CASE("a fiber's stack size is configurable", "[core][lifecycle]") {
  scripted::Host host(RuntimeOptions{1024 * 1024, 32});
  bool ran = false;
  host.load("big", [&] {
    volatile char buffer[512 * 1024];  // would overflow the default 256 KiB stack
    buffer[0] = 1;
    buffer[sizeof buffer - 1] = 1;
    ran = buffer[0] == 1;
  });
  CHECK(ran);
}

TEST_CASE("a destroyed runtime is no longer the default runtime", "[core][lifecycle]") {
  {
    scripted::Host host;
    set_default_runtime(&host.runtime);
    CHECK(default_runtime() == &host.runtime);
  }
  CHECK(default_runtime() == nullptr);
}

TEST_CASE("on_caller_stack runs work on the delivering thread's stack and returns into it",
          "[core][lifecycle]") {
  scripted::Host host;
  const char* fiber_local = nullptr;
  const char* caller_local = nullptr;
  std::vector<std::string> log;
  Groutine& g = host.load("deep", [&] {
    Call c = wait_call("f");
    char here = 0;
    fiber_local = &here;
    Driver& driver = host.runtime.current_groutine()->driver();
    driver.on_caller_stack([&] {
      char there = 0;
      caller_local = &there;
      log.push_back("ran with arg " + std::to_string(c.arg(0)));
    });
    try {
      driver.on_caller_stack([] { throw Error("thrown on the caller's stack"); });
    } catch (const Error& e) {
      log.push_back(e.what());
    }
    wait_call("f");
    log.push_back("second call");
  });
  char delivering = 0;
  host.backend.call(1, "f", {7});
  // The work ran near the delivering thread's frame, far from the fiber's stack.
  auto distance = [](const char* a, const char* b) { return a > b ? a - b : b - a; };
  CHECK(distance(caller_local, &delivering) < distance(fiber_local, &delivering));
  CHECK(log == std::vector<std::string>{"ran with arg 7", "thrown on the caller's stack"});
  host.backend.call(1, "f", {8});
  CHECK(log.back() == "second call");
  CHECK(g.state() == State::Finished);
  CHECK(g.passed());
}
