/* inlined.c: a function that -O2 inlines at one call site and calls out of line at another,
 * for hooks that must plant only at a function's real entry (tests/lldb/test_entries.py).
 *
 * bump() is small and extern: at -O2 GCC inlines the direct call in main, and keeps the
 * out-of-line copy, which main calls through a volatile function pointer. With -g, LLDB
 * resolves a breakpoint on bump to both places; only the entry is a call of bump.
 *
 * Usage: inlined [ITERATIONS=3]. Each iteration prints one line with both results:
 *   bump(0)=1 bump(10)=11 */
#include <stdio.h>

#include "hooked.h"

int bump(int x) { return x + 1; }

static int (*volatile bump_out_of_line)(int) = bump;
static volatile int base = 0;

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  long n = iterations(argc, argv, 3);
  for (long i = 0; i < n; ++i) {
    int a = base + (int)i;
    int inlined = bump(a);
    int called = bump_out_of_line(a + 10);
    printf("bump(%d)=%d bump(%d)=%d\n", a, inlined, a + 10, called);
  }
  return 0;
}
