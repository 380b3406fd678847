/* calls.c: the argument and return-value conventions of SysV x86-64, one function each.
 *
 * Built four times (calls_O0_g, calls_O2_g, calls_O0, calls_O2) so a test can check that a
 * hook reads the caller's arguments and the return value the same way at -O0 and -O2, with
 * DWARF and with only the symbol table:
 *   add          two ints in rdi/rsi, int in rax
 *   scale        two doubles in xmm0/xmm1, double in xmm0
 *   parse_header a pointer and a length; a value test can skip the body by forcing a return
 *   mix          eight longs: a..f in rdi, rsi, rdx, rcx, r8, r9; g and h on the stack
 *   greet        a C string in, a C string out
 *
 * Usage: calls [ITERATIONS=3]. Each iteration calls every function once, in the order
 * above, and prints one line per call with its arguments and result:
 *   add(0,1)=1
 *   scale(1.5,2)=3
 *   parse_header("GR header 0",11)=11      (or =-1 when the buffer does not start "GR")
 *   mix(0,1,2,3,4,5,6,7)=168
 *   greet("ada")="hello, ada"
 * so a test sees a rewritten or skipped result next to the arguments that produced it.
 *
 * add and scale are written on one line on purpose. For those, at -O0 -g, `b add` lands at
 * the entry (LLDB finds no line after the prologue), where the arguments' DWARF locations
 * (frame-base relative) are not written yet and show garbage; for the others `b` lands after
 * the prologue, where rsp no longer points at the return address and the stack arguments of
 * mix are at rsp+16, not rsp+8. Without -g, and at -O2 -g, `b` lands at the entry. */
#include <stdio.h>
#include <string.h>

#include "hooked.h"

HOOKED int add(int a, int b) { return a + b; }

HOOKED double scale(double x, double factor) { return x * factor; }

/* parse_header() returns len if buf starts with "GR", else -1. */
HOOKED long parse_header(const char *buf, unsigned long len) {
  if (len < 2 || buf[0] != 'G' || buf[1] != 'R')
    return -1;
  return (long)len;
}

HOOKED long mix(long a, long b, long c, long d, long e, long f, long g, long h) {
  return a + 2 * b + 3 * c + 4 * d + 5 * e + 6 * f + 7 * g + 8 * h;
}

/* greet() returns "hello, <name>" in a static buffer, valid until the next call. */
HOOKED const char *greet(const char *name) {
  static char buf[64];
  snprintf(buf, sizeof buf, "hello, %s", name);
  return buf;
}

/* Inputs go through volatile objects so -O2 cannot fold any call's arguments or result. */
static volatile int base = 0;
static volatile double half = 0.5;

int main(int argc, char **argv) {
  static const char *const names[] = {"ada", "bob", "cy"};
  setvbuf(stdout, NULL, _IOLBF, 0);
  long n = iterations(argc, argv, 3);
  for (long i = 0; i < n; ++i) {
    int a = base + (int)i;
    printf("add(%d,%d)=%d\n", a, a + 1, add(a, a + 1));

    double x = half * (double)(3 + 2 * i);
    double factor = 2.0 + (double)a;
    printf("scale(%g,%g)=%g\n", x, factor, scale(x, factor));

    char buf[32];
    snprintf(buf, sizeof buf, "%s header %ld", i % 2 ? "XX" : "GR", i);
    unsigned long len = strlen(buf);
    printf("parse_header(\"%s\",%lu)=%ld\n", buf, len, parse_header(buf, len));

    long m = base + i;
    printf("mix(%ld,%ld,%ld,%ld,%ld,%ld,%ld,%ld)=%ld\n", m, m + 1, m + 2, m + 3, m + 4, m + 5,
           m + 6, m + 7, mix(m, m + 1, m + 2, m + 3, m + 4, m + 5, m + 6, m + 7));

    const char *name = names[(base + i) % 3];
    printf("greet(\"%s\")=\"%s\"\n", name, greet(name));
  }
  return 0;
}
