// cpp_names.cpp: one C++ function with two names, ns::scaled and its C alias scaled (a second
// symbol at the same address), for hooks by either name. -O2 with DWARF.
//
// Usage: cpp_names [ITERATIONS=3]. Iteration i calls scaled(i), by the C name, and prints
//   scaled(i)=V      V = 5 * i + 1, as the caller sees it
#include <cstdio>

#include "hooked.h"

namespace ns {
// Reads mask first: long enough before its `ret` for the agent to patch.
static volatile int mask = 0;
HOOKED int scaled(int x) { return (5 * x + 1) ^ mask; }
}  // namespace ns

extern "C" int scaled(int x) noexcept __attribute__((alias("_ZN2ns6scaledEi")));

int main(int argc, char **argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  long n = iterations(argc, argv, 3);
  for (long i = 0; i < n; ++i) std::printf("scaled(%ld)=%d\n", i, scaled(static_cast<int>(i)));
  return 0;
}
