/* callgraph.c: a small call tree to profile and trace beside uftrace (stock profile and
 * calls, tests/run/test_profile.py and test_calls.py).
 *
 * main calls, ROUNDS times, parse_line(text) on a line of text, which copies it upper-cased
 * with shout(dst, src) and counts its words with count_words(text); then fib(6), a
 * recursion; then two threads each call worker(id), which calls mix(a, b) 10 * id times.
 * Strings go in (parse_line, shout, count_words, greet) and come out (shout, greet).
 *
 * It is built as `callgraph` (-O0 -g) and `callgraph_O2` (-O2 -g), each with a twin built
 * with -pg for `uftrace record` (which needs mcount calls in every function):
 * `callgraph_pg`, `callgraph_O2_pg`. Each function is a HOOKED one, but at -O2 GCC still
 * turns one of fib's two recursive calls into a loop: 13 calls of fib, not 25.
 *
 * Usage: callgraph [ROUNDS=3]. Prints one line per round ("words=N SHOUT") and, at the end,
 * "fib=8 mix=N greet=hello, world". */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "hooked.h"

HOOKED size_t count_words(const char *text) {
  size_t n = 0;
  for (int in_word = 0; *text; ++text) {
    int letter = !isspace((unsigned char)*text);
    n += letter && !in_word;
    in_word = letter;
  }
  return n;
}

HOOKED char *shout(char *dst, const char *src) {
  size_t i = 0;
  for (; src[i]; ++i)
    dst[i] = (char)toupper((unsigned char)src[i]);
  dst[i] = '\0';
  return dst;
}

HOOKED int parse_line(const char *line) {
  char upper[64] = "";
  shout(upper, line);
  int words = (int)count_words(upper);
  printf("words=%d %s\n", words, upper);
  return words;
}

HOOKED int fib(int n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

HOOKED long mix(long a, long b) { return a * 31 + b; }

HOOKED const char *greet(const char *name, int times) {
  return times > 0 && strcmp(name, "world") == 0 ? "hello, world" : "hello";
}

static long mixed[3];

HOOKED void worker(long id) {
  long h = id;
  for (long i = 0; i < 10 * id; ++i)
    h = mix(h, i);
  mixed[id] = h;
}

static void *thread_main(void *arg) {
  worker((long)arg);
  return NULL;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  static const char *lines[] = {"alpha beta", "one two three", "x"};
  long rounds = iterations(argc, argv, 3);
  for (long r = 0; r < rounds; ++r)
    parse_line(lines[r % 3]);
  int f = fib(6);
  pthread_t threads[2];
  for (long t = 0; t < 2; ++t)
    pthread_create(&threads[t], NULL, thread_main, (void *)(t + 1));
  for (long t = 0; t < 2; ++t)
    pthread_join(threads[t], NULL);
  printf("fib=%d mix=%ld greet=%s\n", f, mixed[1] + mixed[2], greet("world", 1));
  return 0;
}
