/* agent_target.c: the debuggee of agent_bench, bench_target.c with a hot() the agent can patch.
 *
 * Calls hot(i, i + 1) N times (N = argv[1], default 1000), prints the sum of the results, then
 * calls bench_done(N) once, where agent_bench stops the target to read the plugin's account
 * of the run while the process is still there. bench_target's hot() is `lea; ret`, 4 bytes: too
 * short for the agent's 5-byte jump, so it stays on a breakpoint. Here hot() first stores its
 * first argument in a volatile (a rip-relative `mov`, 6 bytes, which the patcher relocates), so
 * that it is patched as most real functions are. */
#include <stdio.h>
#include <stdlib.h>

#if defined(__clang__)
#define HOOKED __attribute__((noinline))
#else
#define HOOKED __attribute__((noinline, noipa))
#endif

static volatile int last_a;

HOOKED int hot(int a, int b) {
  last_a = a;
  return a + b;
}

HOOKED void bench_done(long calls) { __asm__ volatile("" ::"r"(calls)); }

static volatile int base = 0;

int main(int argc, char **argv) {
  long n = argc > 1 ? strtol(argv[1], NULL, 10) : 1000;
  long sum = 0;
  for (long i = 0; i < n; ++i)
    sum += hot(base + (int)i, base + (int)i + 1);
  printf("hot_sum=%ld\n", sum);
  bench_done(n);
  return 0;
}
