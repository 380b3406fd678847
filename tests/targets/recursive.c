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
 * With a DEPTH, it recurses deeper instead, through triangle(DEPTH) = DEPTH + ... + 1 (no
 * overflow at depth 200): DEPTH nested calls whose returns come innermost first, for the
 * groutines that spawn a child per call to await its return.
 *
 * Usage: recursive [ITERATIONS=3] [DEPTH]. Each iteration prints one line:
 *   fact(5)=120               (no DEPTH)
 *   triangle(200)=20100       (DEPTH=200) */
#include <stdio.h>

#include "hooked.h"

HOOKED int fact(int n) {
  if (n <= 1)
    return 1;
  return n * fact(n - 1);
}

HOOKED long triangle(int n) {
  if (n <= 0)
    return 0;
  return n + triangle(n - 1);
}

static volatile int depth = 5;

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  long n = iterations(argc, argv, 3);
  if (argc > 2) {
    int deep = atoi(argv[2]);
    for (long i = 0; i < n; ++i)
      printf("triangle(%d)=%ld\n", deep, triangle(deep));
    return 0;
  }
  for (long i = 0; i < n; ++i)
    printf("fact(%d)=%d\n", depth, fact(depth));
  return 0;
}
