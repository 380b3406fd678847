// The Backend contract (core/include/groutines/backend.hpp): when the runtime asks for hook
// and watch changes, and what it tells the backend with them.
#include <catch2/catch.hpp>

#include "scripted_host.hpp"
#include "groutines/runtime_internals.hpp"

using namespace groutines;
using Journal = std::vector<std::string>;

TEST_CASE("watch_return is told the function of the call whose return it watches",
          "[core][backend]") {
  scripted::Host host;
  host.load("g", [] {
    Call c = wait_call("f");
    c.returned();
  });
  host.backend.call(1, "f");
  CHECK(host.backend.journal == Journal{"install f", "watch #1", "remove f"});
  CHECK(host.backend.watched_functions == std::map<CallId, std::string>{{1, "f"}});
  host.backend.ret(1, 0);
}

TEST_CASE("hooks change after the delivery ends, not while a groutine runs in it",
          "[core][backend]") {
  scripted::Host host;
  Journal seen_inside;
  host.load("g", [] {
    wait_call("f");  // lets go of f's hook as it waits on g instead
    wait_call("g");
  });
  host.load("spy", [&] {
    wait_call("f");
    seen_inside = host.backend.journal;
    wait_call("f");
  });
  host.backend.call(1, "f");
  // During the delivery of f's call neither g's hook nor f's removal had been asked for...
  CHECK(seen_inside == Journal{"install f"});
  // ...both were by the time deliver_call() returned to the backend.
  CHECK(host.backend.journal == Journal{"install f", "install g"});
  host.runtime.unload_all();
  CHECK(host.backend.journal == Journal{"install f", "install g", "remove f", "remove g"});
}

TEST_CASE("unwatch_return comes as soon as nobody awaits the return, in the middle of a delivery",
          "[core][backend]") {
  scripted::Host host;
  Journal seen_inside;
  host.load("awaits", [&] {
    Call c = wait_call("f");
    // The return of c, or "give-up", whichever comes first.
    Wait w{Matcher{EventKind::Return, c.id(), {}},
           Matcher{EventKind::Custom, host.runtime.event_id("give-up"), {}}};
    RuntimeInternals::wait(host.runtime, w);
    wait_event("never");
  });
  host.load("gives-up", [&] {
    wait_call("g");
    fire("give-up");
    seen_inside = host.backend.journal;  // still inside the delivery of g's call
  });
  host.backend.call(1, "f");
  host.backend.call(1, "g");
  CHECK(seen_inside == Journal{"install f", "install g", "watch #1", "remove f", "unwatch #1"});
}

TEST_CASE("functions() asks the backend for the main executable's or the named modules' "
          "functions, and a backend that knows no symbols has none",
          "[core][backend][functions]") {
  scripted::Host host;
  host.backend.declare_symbols("", {"parse_header", "main", "parse_body"});
  host.backend.declare_symbols("libc.so.6", {"malloc", "free"});
  std::vector<std::string> in_executable, in_libc, none;
  host.load("g", [&] {
    in_executable = functions("parse_*");
    in_libc = functions("mallo?", {"libc.so.6"});
    none = functions("nothing_*");
    wait_call("f");
  });
  CHECK(in_executable == std::vector<std::string>{"parse_header", "parse_body"});
  CHECK(in_libc == std::vector<std::string>{"malloc"});
  CHECK(none.empty());
  CHECK(host.backend.Backend::functions("*", {}).empty());
  CHECK_THROWS_WITH(functions("parse_*"), "groutines::functions() called outside a groutine");
  host.runtime.unload_all();
}

TEST_CASE("a call reads the target's memory regions and its threads through its frame, the "
          "calling thread first; a backend that cannot is an error naming what",
          "[core][backend][memory]") {
  scripted::Host host;
  host.backend.map_region({0x7ff0000000, 0x7ff0021000, true, true, false, "[stack]"});
  host.backend.map_region({0x1000, 0x2000, true, true, false, "/bin/prog"});
  std::vector<MemoryRegion> regions;
  std::vector<ThreadState> threads;
  host.load("g", [&] {
    Call c = wait_call("f");
    regions = c.memory_regions();
    threads = c.threads();
  });
  host.backend.call(1, "main");
  host.backend.call(2, "g");
  host.backend.call(2, "f");
  REQUIRE(regions.size() == 2);
  CHECK(regions[1].path == "[stack]");
  CHECK((regions[0].start == 0x1000 && regions[0].end == 0x2000 && regions[0].writable));
  REQUIRE(threads.size() == 2);
  CHECK(threads[0].id == 2);
  CHECK(threads[0].stack_pointer == 0x7ff000000000 - 0x200);
  CHECK(threads[1].id == 1);
  CHECK(threads[1].registers == std::vector<std::pair<std::string, std::uint64_t>>{
                                    {"rsp", 0x7ff000000000 - 0x100}});
  scripted::Host unmapped;
  std::string error;
  unmapped.load("g", [&] {
    try {
      wait_call("f").memory_regions();
    } catch (const Error& e) {
      error = e.what();
    }
  });
  unmapped.backend.call(1, "f");
  CHECK(error == "memory_regions: the scripted target has no memory map (map_region() declares "
                 "one)");
  struct Bare final : Frame {
    std::uint64_t int_argument(unsigned) override { return 0; }
    double float_argument(unsigned) override { return 0; }
    std::uint64_t register_value(std::string_view) override { return 0; }
  } bare;
  CHECK_THROWS_WITH(bare.memory_regions(), "memory_regions: not supported by this backend");
  CHECK_THROWS_WITH(bare.threads(), "threads: not supported by this backend");
  host.runtime.unload_all();
}
