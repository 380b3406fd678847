/* manyfuncs.c: thousands of functions, for hooking every function of an executable (stock
 * profile beside uftrace, tests/run/test_profile.py, bench/profile_vs_uftrace.py).
 *
 * 2048 leaves leaf_GGGL(x) (GGG: the group in octal, L: 0-7) and 256 groups group_GGG(x),
 * each calling its eight leaves. main calls, ROUNDS times, every group whose number is a
 * multiple of (round % 4) + 1: group_000 is called ROUNDS times, and each group and leaf a
 * number of times its number decides. 2305 functions with main, all HOOKED.
 *
 * Built as `manyfuncs` (-O2, no debug info, as programs ship) and `manyfuncs_pg` (the same
 * with -pg, for `uftrace record`).
 *
 * Usage: manyfuncs [ROUNDS=4]. Prints "sum=N". */
#include <stdio.h>

#include "hooked.h"

#define LEAF(g, l) \
  HOOKED long leaf_##g##l(long x) { return x * 3 + 0##g##l; }
#define GROUP(g)                                                                       \
  LEAF(g, 0) LEAF(g, 1) LEAF(g, 2) LEAF(g, 3) LEAF(g, 4) LEAF(g, 5) LEAF(g, 6) LEAF(g, 7) \
  HOOKED long group_##g(long x) {                                                      \
    x = leaf_##g##0(x) ^ leaf_##g##1(x);                                               \
    x = leaf_##g##2(x) ^ leaf_##g##3(x);                                               \
    x = leaf_##g##4(x) ^ leaf_##g##5(x);                                               \
    return leaf_##g##6(x) ^ leaf_##g##7(x);                                            \
  }
#define GROUPS8(a) GROUP(a##0) GROUP(a##1) GROUP(a##2) GROUP(a##3) \
                   GROUP(a##4) GROUP(a##5) GROUP(a##6) GROUP(a##7)
#define GROUPS64(a) GROUPS8(a##0) GROUPS8(a##1) GROUPS8(a##2) GROUPS8(a##3) \
                    GROUPS8(a##4) GROUPS8(a##5) GROUPS8(a##6) GROUPS8(a##7)
GROUPS64(0) GROUPS64(1) GROUPS64(2) GROUPS64(3)

#define CALL(g) \
  if (0##g % every == 0) sum += group_##g(r);
#define CALLS8(a) CALL(a##0) CALL(a##1) CALL(a##2) CALL(a##3) \
                  CALL(a##4) CALL(a##5) CALL(a##6) CALL(a##7)
#define CALLS64(a) CALLS8(a##0) CALLS8(a##1) CALLS8(a##2) CALLS8(a##3) \
                   CALLS8(a##4) CALLS8(a##5) CALLS8(a##6) CALLS8(a##7)

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  long rounds = iterations(argc, argv, 4);
  long sum = 0;
  for (long r = 0; r < rounds; ++r) {
    long every = r % 4 + 1;
    CALLS64(0) CALLS64(1) CALLS64(2) CALLS64(3)
  }
  printf("sum=%ld\n", sum);
  return 0;
}
