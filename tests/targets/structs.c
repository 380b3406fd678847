/* structs.c: arguments the SysV classification places by class, which the argument layout
 * must follow to read every argument after them by name:
 *   pair      `long pair(struct Pair p, int n)`: p {long a; double x} in rdi and xmm0, n in esi
 *   two       `int two(struct Two t, int n)`: t {int a, b} in rdi, n in esi
 *   big       `long big(struct Big b, int n, double x)`: b (24 bytes) on the stack, n in edi,
 *             x in xmm0
 *   floats    `double floats(double f0, ..., double f8, int n)`: f0..f7 in xmm0..xmm7, f8 on
 *             the stack, n in edi
 *   spill     `long spill(long a0, ..., long a7, short s)`: a0..a5 in registers, a6, a7, s
 *             on the stack
 *   late      `long late(long a0, ..., long a4, struct Pair2 p, long tail)`: p {long a, b}
 *             needs two integer registers where one is left: p goes on the stack, tail in r9
 *
 * Built at -O0 and -O2 with DWARF (structs_O0_g, structs_O2_g). Usage: structs [ITERATIONS=2].
 * Iteration i prints, with i added to every integer:
 *   pair(a=1,x=2.5,n=3)=V
 *   two(a=4,b=5,n=6)=V
 *   big(a=7,b=8,c=9,n=10,x=1.25)=V
 *   floats(f8=8.5,n=11)=V
 *   spill(a6=16,a7=17,s=-18)=V
 *   late(a4=24,p.a=25,p.b=26,tail=27)=V
 */
#include <stdio.h>

#include "hooked.h"

struct Pair {
  long a;
  double x;
};
struct Two {
  int a, b;
};
struct Big {
  long a, b, c;
};
struct Pair2 {
  long a, b;
};

HOOKED long pair(struct Pair p, int n) { return p.a + (long)p.x + n; }
HOOKED int two(struct Two t, int n) { return t.a + t.b + n; }
HOOKED long big(struct Big b, int n, double x) { return b.a + b.b + b.c + n + (long)x; }
HOOKED double floats(double f0, double f1, double f2, double f3, double f4, double f5,
                     double f6, double f7, double f8, int n) {
  return f0 + f1 + f2 + f3 + f4 + f5 + f6 + f7 + f8 + n;
}
HOOKED long spill(long a0, long a1, long a2, long a3, long a4, long a5, long a6, long a7,
                  short s) {
  return a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + s;
}
HOOKED long late(long a0, long a1, long a2, long a3, long a4, struct Pair2 p, long tail) {
  return a0 + a1 + a2 + a3 + a4 + p.a + p.b + tail;
}

/* Inputs go through a volatile object so -O2 cannot fold any call. */
static volatile int seed = 0;

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  long n = iterations(argc, argv, 2);
  for (long i = 0; i < n; ++i) {
    int d = seed + (int)i;
    struct Pair p = {1 + d, 2.5};
    printf("pair(a=%ld,x=%g,n=%d)=%ld\n", p.a, p.x, 3 + d, pair(p, 3 + d));
    struct Two t = {4 + d, 5 + d};
    printf("two(a=%d,b=%d,n=%d)=%d\n", t.a, t.b, 6 + d, two(t, 6 + d));
    struct Big b = {7 + d, 8 + d, 9 + d};
    printf("big(a=%ld,b=%ld,c=%ld,n=%d,x=%g)=%ld\n", b.a, b.b, b.c, 10 + d, 1.25,
           big(b, 10 + d, 1.25));
    printf("floats(f8=%g,n=%d)=%g\n", 8.5, 11 + d,
           floats(0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5, 8.5, 11 + d));
    printf("spill(a6=%d,a7=%d,s=%d)=%ld\n", 16 + d, 17 + d, -18 - d,
           spill(10 + d, 11 + d, 12 + d, 13 + d, 14 + d, 15 + d, 16 + d, 17 + d,
                 (short)(-18 - d)));
    struct Pair2 q = {25 + d, 26 + d};
    printf("late(a4=%d,p.a=%ld,p.b=%ld,tail=%d)=%ld\n", 24 + d, q.a, q.b, 27 + d,
           late(20 + d, 21 + d, 22 + d, 23 + d, 24 + d, q, 27 + d));
  }
  return 0;
}
