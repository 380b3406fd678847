/* returns.c: one function per return register of SysV x86-64, for return values a groutine
 * forces (return_now) or rewrites (set_value), which the caller must see exactly:
 *   ret_int          int in eax
 *   ret_float        float in the low 4 bytes of xmm0
 *   ret_double       double in xmm0
 *   ret_long_double  long double in st0, the top of the x87 stack
 *   ret_pair         a 16-byte struct in rax:rdx (one number cannot be forced into it)
 *
 * Usage: returns. Calls each function four times, with the call's number (1..4), prints each
 * result as the caller got it, floating ones in hex (exact), then calls returns_done():
 *   ret_int(1)=11
 *   ret_float(1)=0x1.4p+0
 *   ret_double(1)=0x1.8p+0
 *   ret_long_double(1)=0x9p-3
 *   ret_pair(1)={1,-1}
 * Built at -O0 and -O2 with DWARF (returns_O0_g, returns_O2_g): the return type comes from
 * the debug info. */
#include <stdio.h>

#include "hooked.h"

struct pair {
  long a, b;
};

HOOKED int ret_int(int n) { return n * 10 + 1; }
HOOKED float ret_float(int n) { return (float)n + 0.25f; }
HOOKED double ret_double(int n) { return n + 0.5; }
HOOKED long double ret_long_double(int n) { return n + 0.125L; }
HOOKED struct pair ret_pair(int n) {
  struct pair p = {n, -n};
  return p;
}
HOOKED void returns_done(void) {}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  for (volatile int n = 1; n <= 4; ++n) {
    printf("ret_int(%d)=%d\n", n, ret_int(n));
    printf("ret_float(%d)=%a\n", n, (double)ret_float(n));
    printf("ret_double(%d)=%a\n", n, ret_double(n));
    printf("ret_long_double(%d)=%La\n", n, ret_long_double(n));
    struct pair p = ret_pair(n);
    printf("ret_pair(%d)={%ld,%ld}\n", n, p.a, p.b);
  }
  returns_done();
  return 0;
}
