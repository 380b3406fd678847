#include <catch2/catch.hpp>

#include "scripted_host.hpp"

using namespace groutines;

TEST_CASE("fire is synchronous and returns the replies of the listeners in load order",
          "[core][custom]") {
  scripted::Host host;
  std::vector<std::string> log;
  host.load("doubler", [&] {
    for (;;) {
      CustomEvent ev = wait_event("ask");
      log.push_back("doubler");
      ev.reply(std::get<std::int64_t>(ev.get("n")) * 2);
    }
  });
  host.load("silent", [&] {
    for (;;) {
      wait_event("ask");
      log.push_back("silent");
    }
  });
  host.load("greeter", [&] {
    for (;;) {
      CustomEvent ev = wait_event("ask");
      ev.reply(std::string("hi"));
      ev.reply(std::string("hello"));  // a second reply replaces the first
    }
  });
  std::vector<Reply> replies;
  host.load("asker", [&] {
    wait_call("f");
    log.push_back("asker fires");
    replies = fire("ask", {{"n", std::int64_t{21}}});
    log.push_back("asker resumes");
  });
  host.backend.call(1, "f");
  CHECK(log ==
        std::vector<std::string>{"asker fires", "doubler", "silent", "asker resumes"});
  REQUIRE(replies.size() == 2);
  CHECK(replies[0].groutine == "doubler");
  CHECK(replies[0].value == Value(std::int64_t{42}));
  CHECK(replies[1].groutine == "greeter");
  CHECK(replies[1].value == Value(std::string("hello")));
}

TEST_CASE("firing from outside any groutine works the same way", "[core][custom]") {
  scripted::Host host;
  host.load("echo", [] {
    for (;;) {
      CustomEvent ev = wait_event("ping");
      ev.reply(ev.data().size() == 1 ? ev.get("v") : Value{});
    }
  });
  auto replies = host.runtime.fire("ping", {{"v", parse_value("1.5")}});
  REQUIRE(replies.size() == 1);
  CHECK(to_string(replies[0].value) == "1.5");
  CHECK(host.runtime.fire("nobody-listens", {}).empty());
}

TEST_CASE("a listener's reply to a nested fire reaches the nested firer", "[core][custom]") {
  scripted::Host host;
  host.load("leaf", [] {
    for (;;) wait_event("inner").reply(std::int64_t{1});
  });
  host.load("middle", [] {
    for (;;) {
      CustomEvent ev = wait_event("outer");
      auto inner = fire("inner");
      ev.reply(std::int64_t(inner.size() + 10));
    }
  });
  auto replies = host.runtime.fire("outer", {});
  REQUIRE(replies.size() == 1);
  CHECK(replies[0].value == Value(std::int64_t{11}));
}

TEST_CASE("fires nested deeper than the limit are an error reported to the firer",
          "[core][custom]") {
  scripted::Host host(RuntimeOptions{256 * 1024, 8});
  std::string error;
  // A chain: relay i listens to e<i> and fires e<i+1>; 20 relays nest deeper than 8.
  for (int i = 0; i < 20; ++i)
    host.load("relay" + std::to_string(i), [&, i] {
      wait_event("e" + std::to_string(i));
      try {
        fire("e" + std::to_string(i + 1));
      } catch (const Error& e) {
        if (error.empty()) error = "relay" + std::to_string(i) + ": " + e.what();
      }
    });
  host.runtime.fire("e0", {});
  CHECK(error ==
        "relay7: fire('e8'): custom events nested deeper than 8 (listeners firing events whose "
        "listeners fire again)");
  for (int i = 0; i < 20; ++i)
    CHECK(host.runtime.find("relay" + std::to_string(i))->state() ==
          (i <= 7 ? State::Finished : State::Waiting));
}

TEST_CASE("an uncaught fire error fails only the firer", "[core][custom]") {
  scripted::Host host(RuntimeOptions{256 * 1024, 1});
  Groutine& inner = host.load("inner", [] {
    wait_event("a");
    fire("b");
  });
  auto replies = host.runtime.fire("a", {});
  CHECK(replies.empty());
  CHECK(inner.state() == State::Failed);
  CHECK(inner.failures().at(0).event == "event 'a' #1");
}

TEST_CASE("a missing field of a custom event is an error naming it", "[core][custom]") {
  scripted::Host host;
  Groutine& g = host.load("g", [] {
    CustomEvent ev = wait_event("x");
    ev.get("size");
  });
  host.runtime.fire("x", {{"len", std::int64_t{3}}});
  CHECK(g.failures().at(0).message == "event 'x' has no field 'size'");
}

TEST_CASE("C++ predicates select custom events by their data", "[core][custom]") {
  scripted::Host host;
  std::int64_t got = 0;
  host.load("g", [&] {
    CustomEvent ev = wait_event("n", [](const CustomEvent& e) {
      return std::get<std::int64_t>(e.get("v")) > 2;
    });
    got = std::get<std::int64_t>(ev.get("v"));
  });
  for (std::int64_t v : {1, 2, 3, 4}) host.runtime.fire("n", {{"v", v}});
  CHECK(got == 3);
}

TEST_CASE("values typed at the prompt are parsed and printed back", "[core][value]") {
  CHECK(to_string(parse_value("42")) == "42");
  CHECK(to_string(parse_value("-7")) == "-7");
  CHECK(to_string(parse_value("0x10")) == "16");
  CHECK(to_string(parse_value("2.5")) == "2.5");
  CHECK(to_string(parse_value("3.0")) == "3.0");
  CHECK(to_string(parse_value("true")) == "true");
  CHECK(to_string(parse_value("none")) == "none");
  CHECK(to_string(parse_value("hello")) == "\"hello\"");
  CHECK(to_string(parse_value("'a b'")) == "\"a b\"");
  CHECK(to_string(Data{{"a", std::int64_t{1}}, {"b", std::string("x")}}) == "a=1 b=\"x\"");
}
