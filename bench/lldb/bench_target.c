/* bench_target.c: the debuggee of the LLDB benchmarks.
 *
 * Calls hot(i, i + 1) N times (N = argv[1], default 1000) and prints the sum of the
 * results, so every call is made and none is folded. hot is a noinline leaf, the cheapest
 * thing a breakpoint can sit on: a run's time is launch + N * (cost of one hit). */
#include <stdio.h>
#include <stdlib.h>

#if defined(__clang__)
#define HOOKED __attribute__((noinline))
#else
#define HOOKED __attribute__((noinline, noipa))
#endif

HOOKED int hot(int a, int b) { return a + b; }

static volatile int base = 0;

int main(int argc, char **argv) {
  long n = argc > 1 ? strtol(argv[1], NULL, 10) : 1000;
  long sum = 0;
  for (long i = 0; i < n; ++i)
    sum += hot(base + (int)i, base + (int)i + 1);
  printf("hot_sum=%ld\n", sum);
  return 0;
}
