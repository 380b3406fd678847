// unwind_exception.cpp: a hooked frame left by a C++ exception, never returning.
//
// thrower(n) returns 3n for even n and throws std::runtime_error for odd n; main catches
// it. For odd n the return breakpoint planted for thrower is never hit: a test checks
// that a groutine waiting for that return is told "unwound" instead of hanging, and that
// the stale breakpoint is removed. thrower has C++ linkage (symbol _Z7throweri), so the
// hook also exercises lookup by a C++ function's base name.
//
// Usage: unwind_exception [ITERATIONS=4]. Calls thrower(0), thrower(1), ... and prints one
// line each:
//   thrower(0)=0
//   thrower(1) threw odd 1
//   thrower(2)=6
#include <cstdio>
#include <stdexcept>
#include <string>

#include "hooked.h"

HOOKED int thrower(int n) {
  if (n % 2)
    throw std::runtime_error("odd " + std::to_string(n));
  return 3 * n;
}

int main(int argc, char **argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  long n = iterations(argc, argv, 4);
  for (int i = 0; i < n; ++i) {
    try {
      std::printf("thrower(%d)=%d\n", i, thrower(i));
    } catch (const std::runtime_error &e) {
      std::printf("thrower(%d) threw %s\n", i, e.what());
    }
  }
  return 0;
}
