#include <catch2/catch.hpp>

#include "scripted_host.hpp"

using namespace groutines;

TEST_CASE("an event is delivered to its waiting groutines in load order", "[core][delivery]") {
  scripted::Host host;
  std::vector<std::string> order;
  for (const char* name : {"first", "second", "third"})
    host.load(name, [&order, name] {
      for (;;) {
        wait_call("f");
        order.push_back(name);
      }
    });
  host.backend.call(1, "f");
  CHECK(order == std::vector<std::string>{"first", "second", "third"});
}

TEST_CASE("a groutine that waits again during a delivery does not receive that event twice",
          "[core][delivery]") {
  scripted::Host host;
  int a = 0, b = 0;
  host.load("a", [&] {
    for (Call c : calls("f")) {
      (void)c;
      ++a;
    }
  });
  host.load("b", [&] {
    for (;;) {
      wait_call("f");
      ++b;
    }
  });
  host.backend.call(1, "f");
  CHECK(a == 1);
  CHECK(b == 1);
  host.backend.call(1, "f");
  CHECK(a == 2);
  CHECK(b == 2);
}

TEST_CASE("the receivers are those waiting when the delivery starts", "[core][delivery]") {
  scripted::Host host;
  std::vector<std::string> log;
  // "late" starts waiting on f only when it hears "go", fired by "early" while handling f.
  host.load("late", [&] {
    wait_event("go");
    log.push_back("late heard go");
    wait_call("f");
    log.push_back("late got f");
  });
  host.load("early", [&] {
    wait_call("f");
    log.push_back("early got f");
    fire("go");
  });
  host.backend.call(1, "f");
  CHECK(log == std::vector<std::string>{"early got f", "late heard go"});
  host.backend.call(1, "f");
  CHECK(log.back() == "late got f");
}

TEST_CASE("every event has a sequence number, a thread and a timestamp", "[core][delivery]") {
  scripted::Host host;
  std::vector<std::uint64_t> seqs;
  std::vector<std::uint64_t> threads;
  std::vector<Clock::time_point> times;
  host.load("g", [&] {
    for (Call c : calls("f")) {
      seqs.push_back(c.seq());
      threads.push_back(c.thread_id());
      times.push_back(c.event().time);
    }
  });
  auto before = Clock::now();
  host.backend.call(7, "f");
  host.backend.call(8, "f");
  REQUIRE(seqs.size() == 2);
  CHECK(seqs[0] < seqs[1]);
  CHECK(threads == std::vector<std::uint64_t>{7, 8});
  CHECK(times[0] >= before);
  CHECK(times[1] >= times[0]);
}

TEST_CASE("a predicate is evaluated before switching into the groutine", "[core][delivery]") {
  scripted::Host host;
  std::vector<std::uint64_t> got;
  int predicate_calls = 0;
  host.load("g", [&] {
    for (;;) {
      Call c = wait_call("malloc", [&](const Call& call) {
        ++predicate_calls;
        return call.arg(0) > 16;
      });
      got.push_back(c.arg(0));
    }
  });
  for (std::uint64_t size : {8, 32, 16, 64}) host.backend.call(1, "malloc", {size});
  CHECK(got == std::vector<std::uint64_t>{32, 64});
  CHECK(predicate_calls == 4);
}

TEST_CASE("a predicate that throws fails its groutine, not the delivery", "[core][delivery]") {
  scripted::Host host;
  int other = 0;
  Groutine& g = host.load("g", [] {
    wait_call("f", [](const Call& c) { return c.arg(5) > 0; });  // there is no argument 5
  });
  host.load("other", [&] {
    wait_call("f");
    ++other;
  });
  host.backend.call(1, "f", {1});
  CHECK(other == 1);
  CHECK(g.state() == State::Failed);
  CHECK(g.failures().at(0).message ==
        "call of f has no integer argument 5 (the scripted call passed 1)");
  CHECK_FALSE(host.backend.is_hooked("f"));
}

TEST_CASE("any_of waits for the first of several events and tells which came",
          "[core][delivery]") {
  scripted::Host host;
  std::vector<std::string> got;
  host.load("g", [&] {
    for (int i = 0; i < 3; ++i) {
      Occurrence o = any_of({on_call("malloc"), on_call("free"), on_event("x")});
      got.push_back(std::to_string(o.index()) + ":" + name(o.kind()));
      if (o.kind() == EventKind::Call) got.back() += ":" + o.call().function();
    }
  });
  Groutine& g = *const_cast<Groutine*>(host.runtime.find("g"));
  CHECK(g.waiting_on() == "any of (call of malloc, call of free, event 'x')");
  host.backend.call(1, "free");
  host.runtime.fire("x", {});
  host.backend.call(1, "malloc");
  CHECK(got == std::vector<std::string>{"1:call:free", "2:custom", "0:call:malloc"});
  CHECK(g.state() == State::Finished);
  CHECK(host.backend.hooked().empty());
}

TEST_CASE("a return is delivered to the call that made it, not to a recursive inner call",
          "[core][return]") {
  scripted::Host host;
  std::vector<std::string> got;
  // Three groutines all take the outer call fact(3) and wait for its return: the recursive
  // inner calls and their returns, which come first, are not theirs.
  for (int i = 0; i < 3; ++i)
    host.load("fact" + std::to_string(i), [&] {
      Call c = wait_call("fact");
      std::uint64_t n = c.arg(0);
      Return r = c.returned();
      got.push_back(std::to_string(n) + "->" + std::to_string(r.value()));
    });
  host.backend.call(1, "fact", {3});
  host.backend.call(1, "fact", {2});
  host.backend.call(1, "fact", {1});
  host.backend.ret(1, 1);
  host.backend.ret(1, 2);
  host.backend.ret(1, 6);
  CHECK(got == std::vector<std::string>{"3->6", "3->6", "3->6"});
}

TEST_CASE("returns of recursive calls each reach their own call", "[core][return]") {
  scripted::Host host;
  std::vector<std::string> got;
  host.load("outer", [&] {
    Call c = wait_call("fact", [](const Call& call) { return call.arg(0) == 3; });
    got.push_back("3->" + std::to_string(c.returned().value()));
  });
  host.load("inner", [&] {
    Call c = wait_call("fact", [](const Call& call) { return call.arg(0) == 1; });
    got.push_back("1->" + std::to_string(c.returned().value()));
  });
  host.backend.call(1, "fact", {3});
  host.backend.call(1, "fact", {2});
  host.backend.call(1, "fact", {1});
  host.backend.ret(1, 1);
  host.backend.ret(1, 2);
  host.backend.ret(1, 6);
  CHECK(got == std::vector<std::string>{"1->1", "3->6"});
  CHECK(host.runtime.pending_returns() == 0);
  CHECK(host.backend.watched() == 0);
}

TEST_CASE("calls and returns on two interleaved threads are matched to their own call",
          "[core][return][threads]") {
  scripted::Host host;
  std::vector<std::string> got;
  for (int i = 0; i < 2; ++i)
    host.load("g" + std::to_string(i), [&, i] {
      Call c = wait_call("work", [i](const Call& call) { return call.thread_id() == 10u + i; });
      std::uint64_t arg = c.arg(0);
      Return r = c.returned();
      got.push_back("t" + std::to_string(r.thread_id()) + " " + std::to_string(arg) + "->" +
                    std::to_string(r.value()) + " call#" + std::to_string(r.call_id()) +
                    (r.call_id() == c.id() ? " same" : " other"));
    });
  host.backend.call(10, "work", {100});
  host.backend.call(11, "work", {200});
  host.backend.ret(11, 201);
  host.backend.ret(10, 101);
  CHECK(got == std::vector<std::string>{"t11 200->201 call#2 same", "t10 100->101 call#1 same"});
}

TEST_CASE("a frame unwound without returning gives an unwound result", "[core][return]") {
  scripted::Host host;
  bool unwound = false;
  std::string error;
  host.load("g", [&] {
    Call c = wait_call("risky");
    Return r = c.returned();
    unwound = r.unwound();
    try {
      (void)r.value();
    } catch (const Error& e) {
      error = e.what();
    }
  });
  host.backend.call(1, "main");
  host.backend.call(1, "risky");
  host.backend.call(1, "helper");
  host.backend.unwind(1, 2);
  CHECK(unwound);
  CHECK(error == "call #1 of risky was unwound without returning: it has no return value");
}

TEST_CASE("a handle used after its event is over is an error, not a crash", "[core][api]") {
  scripted::Host host;
  std::string error;
  host.load("g", [&] {
    Call first = wait_call("f");
    wait_call("f");
    try {
      first.arg(0);
    } catch (const Error& e) {
      error = e.what();
    }
    try {
      first.returned();
    } catch (const Error& e) {
      error += " | " + std::string(e.what());
    }
  });
  host.backend.call(1, "f", {1});
  host.backend.call(1, "f", {2});
  CHECK(error ==
        "event #1 is no longer current: the target has resumed since it was delivered | "
        "cannot wait for the return of call #1: that call is no longer current (wait for its "
        "return while handling it)");
}

TEST_CASE("call handles read arguments, registers and names", "[core][api]") {
  scripted::Host host;
  std::string got;
  host.load("g", [&] {
    Call c = wait_call("scale");
    got = c.function() + " " + std::to_string(c.arg(0)) + " " +
          std::to_string(c.float_arg(1)) + " rdi=" + std::to_string(c.reg("rdi")) + " n=" +
          to_string(c.arg("n")) + " bt=" + c.backtrace().at(0);
    try {
      c.arg("nope");
    } catch (const Error& e) {
      got += std::string(" | ") + e.what();
    }
  });
  host.backend.place("scale", {0x401000, "prog", "scale", 4, "prog.c", 10});
  host.backend.call(1, "scale", {5}, {0.0, 2.5}, {{"n", "int", std::int64_t{5}}});
  CHECK(got ==
        "scale 5 2.500000 rdi=5 n=5 bt=#0 0x401000 prog`scale + 4 at prog.c:10 | call of scale has no argument named 'nope' (no "
        "debug info for it?)");
}

TEST_CASE("a failure while handling a call records the target's backtrace", "[core][failure]") {
  scripted::Host host;
  Groutine& g = host.load("g", [] {
    wait_event("x");
    Call c = wait_call("f");
    GROUTINE_CHECK(c.arg(0) == 1);
    throw Error("boom");
  });
  host.runtime.fire("x", {});
  CHECK(g.failures().empty());
  host.backend.place("f", {0x401000, "prog", "f", 4, "prog.c", 10});
  host.backend.place("main", {0x401100, "prog", "main", 22, "prog.c", 20});
  host.backend.call(4, "main");
  host.backend.call(4, "f", {2});
  REQUIRE(g.failures().size() == 2);
  for (const Failure& f : g.failures()) {
    CHECK(f.thread == 4);
    CHECK(f.backtrace == std::vector<std::string>{"#0 0x401000 prog`f + 4 at prog.c:10",
                                                  "#1 0x401100 prog`main + 22 at prog.c:20"});
  }
}

TEST_CASE("a failure while handling a custom event has no backtrace", "[core][failure]") {
  scripted::Host host;
  Groutine& g = host.load("g", [] {
    wait_event("x");
    throw Error("boom");
  });
  host.runtime.fire("x", {});
  REQUIRE(g.failures().size() == 1);
  CHECK(g.failures()[0].backtrace.empty());
}
