// Backtraces cross the Frame seam as StackFrames and become text in one place.
#include <catch2/catch.hpp>

#include "scripted_host.hpp"
#include "groutines/backtrace.hpp"

using namespace groutines;

TEST_CASE("a stack frame renders the parts it knows as one backtrace line", "[core][backtrace]") {
  CHECK(to_string(StackFrame{0x401136, "calls", "main", 22, "calls.c", 40}, 1) ==
        "#1 0x401136 calls`main + 22 at calls.c:40");
  SECTION("at a function's first instruction there is no offset") {
    CHECK(to_string(StackFrame{0x401000, "calls", "add", 0, "calls.c", 12}, 0) ==
          "#0 0x401000 calls`add at calls.c:12");
  }
  SECTION("without line info, module or symbol") {
    CHECK(to_string(StackFrame{0x7f0010, "libc.so.6", "__libc_start_call_main", 128, "", 0}, 2) ==
          "#2 0x7f0010 libc.so.6`__libc_start_call_main + 128");
    CHECK(to_string(StackFrame{0xdead, "", "", 0, "", 0}, 3) == "#3 0xdead ?`??");
  }
  CHECK(to_string(StackFrame{0x401136, "calls", "main", 22, "calls.c", 40}) ==
        "0x401136 calls`main + 22 at calls.c:40");
  CHECK(to_strings({StackFrame{1, "m", "f", 0, "", 0}, StackFrame{2, "m", "g", 0, "", 0}}) ==
        std::vector<std::string>{"#0 0x1 m`f", "#1 0x2 m`g"});
}

TEST_CASE("a call's stack is the backend's frames, its backtrace their rendering",
          "[core][backtrace]") {
  scripted::Host host;
  std::vector<StackFrame> stack;
  std::vector<std::string> lines;
  host.load("g", [&] {
    Call c = wait_call("f");
    stack = c.stack();
    lines = c.backtrace();
  });
  host.backend.place("f", {0x401000, "prog", "f", 4, "prog.c", 10});
  host.backend.place("main", {0x401100, "prog", "main", 22, "prog.c", 20});
  host.backend.call(1, "main");
  host.backend.call(1, "f");
  REQUIRE(stack.size() == 2);
  CHECK(stack[0].function == "f");
  CHECK(stack[0].pc == 0x401000);
  CHECK(stack[0].module == "prog");
  CHECK(stack[0].offset == 4);
  CHECK(stack[0].file == "prog.c");
  CHECK(stack[0].line == 10);
  CHECK(stack[1].function == "main");
  CHECK(lines == to_strings(stack));
}
