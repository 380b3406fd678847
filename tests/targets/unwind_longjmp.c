/* unwind_longjmp.c: a hooked frame left by longjmp, never returning.
 *
 * risky(n) calls risky_deep(n). For even n both return (risky(n) = 2n + 1); for odd n
 * risky_deep longjmps straight back to main, so neither risky nor risky_deep returns and a
 * return breakpoint planted for them is never hit. A test checks that a groutine waiting
 * for that return is told "unwound" (at the next event, or when the stack moves above the
 * frame) instead of hanging, and that the stale breakpoint is removed.
 *
 * Usage: unwind_longjmp [ITERATIONS=4]. Calls risky(0), risky(1), ... and prints one line each:
 *   risky(0)=1
 *   risky(1) longjmp
 *   risky(2)=5 */
#include <setjmp.h>
#include <stdio.h>

#include "hooked.h"

static jmp_buf escape;

/* risky_deep() returns 2n for even n and longjmps to main for odd n. */
HOOKED int risky_deep(int n) {
  if (n % 2)
    longjmp(escape, 1);
  return 2 * n;
}

HOOKED int risky(int n) { return risky_deep(n) + 1; }

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  long n = iterations(argc, argv, 4);
  for (volatile int i = 0; i < n; ++i) {
    if (setjmp(escape) == 0)
      printf("risky(%d)=%d\n", i, risky(i));
    else
      printf("risky(%d) longjmp\n", i);
  }
  return 0;
}
