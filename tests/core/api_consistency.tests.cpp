// The C++ API means what the Python API means: forced and rewritten return values of any
// number type, the typed result of a return, who replied to a fire, the rendering of a
// conditional wait, and the error of a missing key (tests/python/test_api_consistency.py).
#include <catch2/catch.hpp>

#include <limits>
#include <string>
#include <type_traits>
#include <utility>

#include "groutines/argument_layout.hpp"
#include "scripted_host.hpp"
#include "groutines/runtime_internals.hpp"

using namespace groutines;

namespace {

enum Plain { PlainSeven = 7 };
enum class Scoped : short { Minus = -3 };

// forced() is the value a groutine forces with return_now(value), as the caller gets it.
template <typename T>
Value forced(T value) {
  scripted::Host host;
  host.load("skip", [value] { wait_call("f").return_now(value); });
  auto out = host.backend.call(1, "f");
  REQUIRE(out.has_value());
  return *out;
}

// rewritten() is the value a groutine rewrites with set_value(value), as the caller gets it.
template <typename T>
Value rewritten(T value) {
  scripted::Host host;
  host.load("rewrite", [value] { wait_call("f").returned().set_value(value); });
  host.backend.call(1, "f");
  return host.backend.ret(1, 99);
}

}  // namespace

TEST_CASE("return_now and set_value take any number: integers, unsigned, bool, enums and "
          "pointers are integers, float and double floating values",
          "[core][api]") {
  int object = 0;
  const auto address = static_cast<std::int64_t>(reinterpret_cast<std::uintptr_t>(&object));
  SECTION("return_now") {
    CHECK(forced(-1) == Value(std::int64_t{-1}));
    CHECK(forced(0) == Value(std::int64_t{0}));
    CHECK(forced(-1L) == Value(std::int64_t{-1}));
    CHECK(forced(-1LL) == Value(std::int64_t{-1}));
    CHECK(forced(5u) == Value(std::int64_t{5}));
    CHECK(forced(std::numeric_limits<std::uint64_t>::max()) == Value(std::int64_t{-1}));
    CHECK(forced(static_cast<unsigned char>(200)) == Value(std::int64_t{200}));
    CHECK(forced('A') == Value(std::int64_t{65}));
    CHECK(forced(true) == Value(std::int64_t{1}));
    CHECK(forced(PlainSeven) == Value(std::int64_t{7}));
    CHECK(forced(Scoped::Minus) == Value(std::int64_t{-3}));
    CHECK(forced(&object) == Value(address));
    CHECK(forced(static_cast<const void*>(&object)) == Value(address));
    CHECK(forced(nullptr) == Value(std::int64_t{0}));
    CHECK(forced(-1.5) == Value(-1.5));
    CHECK(forced(0.25f) == Value(0.25));
  }
  SECTION("set_value") {
    CHECK(rewritten(-1) == Value(std::int64_t{-1}));
    CHECK(rewritten(-1L) == Value(std::int64_t{-1}));
    CHECK(rewritten(7u) == Value(std::int64_t{7}));
    CHECK(rewritten(std::numeric_limits<std::uint64_t>::max()) == Value(std::int64_t{-1}));
    CHECK(rewritten(false) == Value(std::int64_t{0}));
    CHECK(rewritten(PlainSeven) == Value(std::int64_t{7}));
    CHECK(rewritten(Scoped::Minus) == Value(std::int64_t{-3}));
    CHECK(rewritten(&object) == Value(address));
    CHECK(rewritten(nullptr) == Value(std::int64_t{0}));
    CHECK(rewritten(2.5) == Value(2.5));
    CHECK(rewritten(0.5f) == Value(0.5));
  }
}

TEST_CASE("Return::result is the typed return value: the integer in rax, the double in xmm0 "
          "when the function returns a floating type, or what a groutine set",
          "[core][api]") {
  scripted::Host host;
  std::vector<Value> seen;
  host.load("watch", [&] {
    for (;;) {
      Occurrence o = any_of({on_call("count"), on_call("scale")});
      Return r = o.call().returned();
      seen.push_back(r.result());
      if (r.function() == "count") {
        r.set_value(2.5);  // without a declared return type, the caller sees it as given
        seen.push_back(r.result());
      } else {
        r.set_value(-4);
        seen.push_back(r.result());
      }
    }
  });
  host.backend.call(1, "count");
  CHECK(host.backend.ret(1, -7) == Value(2.5));
  host.backend.call(1, "scale");
  CHECK(host.backend.ret(1, 0.75) == Value(std::int64_t{-4}));
  CHECK(seen == std::vector<Value>{Value(std::int64_t{-7}), Value(2.5), Value(0.75),
                                   Value(std::int64_t{-4})});
}

TEST_CASE("Return::result of an unwound call is an Error naming the call", "[core][api]") {
  scripted::Host host;
  std::string error;
  host.load("watch", [&] {
    Return r = wait_call("f").returned();
    try {
      r.result();
    } catch (const Error& e) {
      error = e.what();
    }
  });
  host.backend.call(1, "f");
  host.backend.unwind(1, 1);
  CHECK(error == "call #1 of f was unwound without returning: it has no return value");
}

TEST_CASE("fire returns who replied: the groutine's name and id with each value",
          "[core][api]") {
  scripted::Host host;
  Groutine& echo = host.load("echo", [] {
    for (;;) {
      CustomEvent ev = wait_event("ping");
      ev.reply(ev.get("v"));
    }
  });
  auto replies = host.runtime.fire("ping", {{"v", Value(std::int64_t{3})}});
  REQUIRE(replies.size() == 1);
  CHECK(replies[0].groutine == "echo");
  CHECK(replies[0].id == echo.id());
  CHECK(replies[0].value == Value(std::int64_t{3}));
}

TEST_CASE("a wait with a condition is shown as '(with a condition)'", "[core][api]") {
  scripted::Host host;
  Groutine& g = host.load("g", [] {
    any_of({on_call("f", [](const Call&) { return true; }),
            on_event("x", [](const CustomEvent&) { return false; })});
  });
  CHECK(g.waiting_on() ==
        "any of (call of f (with a condition), event 'x' (with a condition))");
  host.backend.call(1, "f");
  CHECK(g.state() == State::Finished);
}

TEST_CASE("reading a missing key of event data throws Error naming the key and the event",
          "[core][api]") {
  scripted::Host host;
  std::string error;
  host.load("g", [&] {
    CustomEvent ev = wait_event("cfg");
    try {
      ev.get("missing");
    } catch (const Error& e) {
      error = e.what();
    }
  });
  host.runtime.fire("cfg", {{"present", Value(true)}});
  CHECK(error == "event 'cfg' has no field 'missing'");
}

namespace {
// Detects, from outside the runtime, whether Runtime's members are callable: a private member
// makes the substitution fail, as a missing one does.
template <typename R, typename = void>
struct exposes_outcome_of : std::false_type {};
template <typename R>
struct exposes_outcome_of<R, std::void_t<decltype(std::declval<R&>().outcome_of(0))>>
    : std::true_type {};
template <typename R, typename = void>
struct exposes_begin_wait : std::false_type {};
template <typename R>
struct exposes_begin_wait<R, std::void_t<decltype(std::declval<R&>().begin_wait(
                                 std::declval<Groutine&>(), std::declval<const Wait&>()))>>
    : std::true_type {};
template <typename R, typename = void>
struct exposes_fire : std::false_type {};
template <typename R>
struct exposes_fire<R, std::void_t<decltype(std::declval<R&>().fire("x", Data{}))>>
    : std::true_type {};
}  // namespace

TEST_CASE("the runtime's internal entry points are not public: adapters reach them through "
          "RuntimeInternals",
          "[core][api]") {
  STATIC_REQUIRE_FALSE(exposes_outcome_of<Runtime>::value);
  STATIC_REQUIRE_FALSE(exposes_begin_wait<Runtime>::value);
  STATIC_REQUIRE(exposes_fire<Runtime>::value);  // the detector sees public members
  scripted::Host host;
  std::uint64_t thread = 99;
  host.load("g", [&] {
    wait_call("f");
    thread = RuntimeInternals::current_thread(*Runtime::current());
  });
  host.backend.call(7, "f");
  CHECK(thread == 7);
}

TEST_CASE("a forced or rewritten value is converted to the function's return type as a C "
          "return converts it, and a struct return refuses it with an Error in the groutine",
          "[core][api][return]") {
  using sysv::TypeClass;
  scripted::Host host;
  host.backend.declare_return_type("count", {TypeClass::Integer, "int", 4, 0, true, {}});
  host.backend.declare_return_type("ratio", {TypeClass::Float, "float", 4, 0, false, {}});
  host.backend.declare_return_type("scale", {TypeClass::Float, "double", 8, 0, false, {}});
  host.backend.declare_return_type("pair", {TypeClass::Aggregate, "struct pair", 16, 0, false, {}});
  std::vector<std::string> errors;
  Groutine& g = host.load("convert", [&] {
    wait_call("count").return_now(2.75);
    wait_call("ratio").return_now(0.1);
    wait_call("scale").returned().set_value(-3);
    Call pair = wait_call("pair");
    try {
      pair.return_now(1);
    } catch (const Error& e) {
      errors.push_back(e.what());
    }
    try {
      pair.returned().set_value(1.5);
    } catch (const Error& e) {
      errors.push_back(e.what());
    }
  });
  CHECK(host.backend.call(1, "count") == Value(std::int64_t{2}));
  CHECK(host.backend.call(1, "ratio") == Value(static_cast<double>(0.1f)));
  host.backend.call(1, "scale");
  CHECK(host.backend.ret(1, 0.5) == Value(-3.0));
  CHECK_FALSE(host.backend.call(1, "pair").has_value());  // not skipped: the body runs
  host.backend.ret(1, 7);
  CHECK(errors == std::vector<std::string>{
                      "call #5 of pair: cannot return 1 from a function that returns a struct, "
                      "union or class by value: a forced or rewritten return value is one "
                      "number",
                      "call #5 of pair: cannot return 1.5 from a function that returns a "
                      "struct, union or class by value: a forced or rewritten return value is "
                      "one number"});
  CHECK(g.state() == State::Finished);
}
