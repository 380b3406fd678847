/* heapbugs.c: heap mistakes for the stock `heap` groutine (tests/run/test_stock.py).
 *
 *   heapbugs ok       allocates with malloc, calloc, realloc and frees everything
 *   heapbugs leak     leaks one block of 40 bytes from make_leak()
 *   heapbugs double   frees one block twice (glibc may abort the program)
 *   heapbugs wild     frees a pointer into the middle of a block (never allocated)
 *
 * Prints "heapbugs MODE done" at the end. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__attribute__((noinline)) char *make_leak(void) {
  char *p = malloc(40);
  memset(p, 1, 40);
  return p;
}

__attribute__((noinline)) void free_twice(char *p) {
  free(p);
  free(p);
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "ok";
  char *a = malloc(16);
  int *b = calloc(4, sizeof *b);
  a = realloc(a, 64);
  strcpy(a, "hello");
  if (strcmp(mode, "leak") == 0) {
    volatile char *leaked = make_leak();
    (void)leaked;
  } else if (strcmp(mode, "double") == 0) {
    char *c = malloc(24);
    free_twice(c);
  } else if (strcmp(mode, "wild") == 0) {
    free(a + 8);
    a = NULL;
  }
  free(a);
  free(b);
  fprintf(stderr, "heapbugs %s done\n", mode);
  return 0;
}
