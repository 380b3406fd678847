// spawn_failures: children that fail on their own (test_spawn.py): over recursive.c's
// triangle(), each child checks its call's return, and the calls of a multiple of 50 fail.
#include <groutines/api.hpp>

using namespace groutines;

GROUTINE("fifties-fail") {
  for (Call call : calls("triangle")) {
    spawn("fifty-check", [call] {
      const std::int64_t n = call.sarg(0);
      Return ret = call.returned();
      GROUTINE_CHECK_MSG(n % 50 != 0, "n=" + std::to_string(n));  // recorded, goes on
      GROUTINE_REQUIRE(n != 100);                                 // ends the child
      GROUTINE_CHECK_EQ(ret.value(), n * (n + 1) / 2);
    });
  }
}
