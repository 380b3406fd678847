/* recursive.c: one hooked function active several times on the same thread.
 *
 * fact(5) calls fact(4) ... fact(1): five calls of the same function, nested, each
 * returning to a different frame of itself. A test matches every return to its own call
 * by stack pointer (fact(1) returns 1 first, fact(5) returns 120 last), and a rewritten
 * inner return value shows up in every outer result.
 *
 * Built at -O0 -g only: at -O2 GCC turns n * fact(n - 1) into a loop (tail recursion with
 * an accumulator), and there would be one call left to hook.
 *
 * Usage: recursive [ITERATIONS=3]. Each iteration prints one line:
 *   fact(5)=120 */
#include <stdio.h>

#include "hooked.h"

HOOKED int fact(int n) {
  if (n <= 1)
    return 1;
  return n * fact(n - 1);
}

static volatile int depth = 5;

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  long n = iterations(argc, argv, 3);
  for (long i = 0; i < n; ++i)
    printf("fact(%d)=%d\n", depth, fact(depth));
  return 0;
}
