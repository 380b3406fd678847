/* stripped_main.c: calls lib_func in libstripped.so, linked at build time (found by RPATH).
 *
 * The hooked function lives in a stripped library; see stripped.c. This executable itself
 * keeps its symbols and debug info, so only the library side is bare.
 *
 * Usage: stripped_main [ITERATIONS=3]. Calls lib_func(i, i + 2) and prints one line each:
 *   lib_func(0,2)=7
 *   lib_func(1,3)=10
 *   lib_func(2,4)=15 */
#include <stdio.h>

#include "hooked.h"

int lib_func(int a, int b);

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  long n = iterations(argc, argv, 3);
  for (int i = 0; i < n; ++i)
    printf("lib_func(%d,%d)=%d\n", i, i + 2, lib_func(i, i + 2));
  return 0;
}
