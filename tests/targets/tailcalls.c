/* tailcalls.c: two returns at one instruction, and two names for one address.
 *
 * Built at -O2, with DWARF (tailcalls_O2_g) and without (tailcalls_O2), where the compiler
 * turns outer's last call into a jump: `outer` ends in `jmp leaf`, so leaf returns straight
 * to outer's caller, and both returns happen at the same instruction with the same stack
 * pointer. twice_alias is another name of twice (__attribute__((alias))): one address, two
 * symbols.
 *
 * Usage: tailcalls [ITERATIONS=3]. Each iteration i calls, and prints:
 *   outer(i)=V        outer(i) = leaf(i + 100) = 3 * (i + 100) + 1, as its caller sees it
 *   outer_tiny(i)=V   the same through tiny, which the agent cannot patch
 *   escape_outer(i)=V the same through escape_leaf, for an even i; for an odd i escape_leaf
 *                     longjmps back to main, which prints "escape_outer(i) longjmp"
 *   twice_alias(i)=V  twice(i) = 2 * i + 7, called by the alias's name
 *   realloc(NULL,N)   realloc(NULL, 4000 + i), which glibc's realloc hands to malloc
 * so a test sees a rewritten return next to the call that made it. */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>

#include "hooked.h"

/* Inputs go through volatile objects so -O2 cannot fold any call; reading mask first makes
 * leaf and twice long enough before their `ret` for the agent to patch. */
static volatile int offset = 100;
static volatile int mask = 0;
/* realloc(NULL, n) with a constant NULL would be compiled as malloc(n). */
static void *volatile nothing = NULL;

HOOKED int leaf(int x) { return (3 * x + 1) ^ mask; }

/* At -O2: add offset to edi, then `jmp leaf`: a tail call, leaf returns to outer's caller. */
HOOKED int outer(int x) { return leaf(x + offset); }

/* tiny's `ret` is within its first 5 bytes: the agent leaves it on a breakpoint, while it
 * serves outer_tiny, which ends in `jmp tiny`. */
HOOKED int tiny(int x) { return 3 * x + 1; }

HOOKED int outer_tiny(int x) { return tiny(x + offset); }

/* escape_leaf longjmps back to main for an odd x: neither it nor escape_outer, which ends in
 * `jmp escape_leaf`, returns. */
static jmp_buf escape;

HOOKED int escape_leaf(int x) {
  if (x % 2)
    longjmp(escape, 1);
  return (3 * x + 1) ^ mask;
}

HOOKED int escape_outer(int x) { return escape_leaf(x + offset); }

static void __attribute__((noinline)) try_escape(long i) {
  if (setjmp(escape) == 0)
    printf("escape_outer(%ld)=%d\n", i, escape_outer((int)i));
  else
    printf("escape_outer(%ld) longjmp\n", i);
}

HOOKED int twice(int x) { return (2 * x + 7) ^ mask; }

extern int twice_alias(int x) __attribute__((alias("twice")));

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  long n = iterations(argc, argv, 3);
  for (long i = 0; i < n; ++i) {
    printf("outer(%ld)=%d\n", i, outer((int)i));
    printf("outer_tiny(%ld)=%d\n", i, outer_tiny((int)i));
    try_escape(i);
    printf("twice_alias(%ld)=%d\n", i, twice_alias((int)i));
    void *p = realloc(nothing, 4000 + (size_t)i);
    printf("realloc(NULL,%ld) %s\n", 4000 + i, p ? "ok" : "failed");
    free(p);
  }
  return 0;
}
