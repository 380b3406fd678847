/* process_cases.c: what a process gets from `groutines run` and how it ends, compared with
 * what it gets from a shell (tests/run/test_processes.py).
 *
 *   process_cases args ARG...      prints each of its argv, argv[0] included, as hex
 *                                  ("argv[N]=HEX"), and calls add(1, 2)
 *   process_cases env              prints each entry of its environment as hex, one a line
 *   process_cases stdin            "stdin: closed" when fd 0 is closed, else reads it to its
 *                                  end and prints "stdin: N bytes"
 *   process_cases raise N          raise(N); prints "survived" and exits 0 if it survives
 *   process_cases abort            abort()
 *   process_cases segv             writes through a NULL pointer
 *   process_cases handle N S       handles signal N, raises it, prints "handled N", exits S
 *   process_cases wait             prints "pid P", waits in pause() until a signal kills it
 *   process_cases wait-sigint      handles SIGINT: prints "pid P", waits for it, prints
 *                                  "got SIGINT" and exits 0 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hooked.h"

extern char **environ;

HOOKED int add(int a, int b) { return a + b; }

static volatile sig_atomic_t caught;

static void on_signal(int signo) { caught = signo; }

static void print_hex(const char *s) {
  for (const unsigned char *p = (const unsigned char *)s; *p; ++p)
    printf("%02x", *p);
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  const char *mode = argc > 1 ? argv[1] : "";
  if (strcmp(mode, "args") == 0) {
    for (int i = 0; i < argc; ++i) {
      printf("argv[%d]=", i);
      print_hex(argv[i]);
      printf("\n");
    }
    return add(1, 2) == 3 ? 0 : 1;
  }
  if (strcmp(mode, "env") == 0) {
    for (char **e = environ; *e; ++e) {
      print_hex(*e);
      printf("\n");
    }
    return 0;
  }
  if (strcmp(mode, "stdin") == 0) {
    if (fcntl(0, F_GETFD) < 0 && errno == EBADF) {
      printf("stdin: closed\n");
      return 0;
    }
    char buf[4096];
    long total = 0;
    ssize_t n;
    while ((n = read(0, buf, sizeof buf)) > 0)
      total += n;
    printf("stdin: %ld bytes\n", total);
    return 0;
  }
  if (strcmp(mode, "raise") == 0 && argc > 2) {
    raise(atoi(argv[2]));
    printf("survived\n");
    return 0;
  }
  if (strcmp(mode, "abort") == 0)
    abort();
  if (strcmp(mode, "segv") == 0) {
    volatile int *p = NULL;
    *p = 1;
    return 0;
  }
  if (strcmp(mode, "handle") == 0 && argc > 3) {
    int signo = atoi(argv[2]);
    signal(signo, on_signal);
    raise(signo);
    printf("handled %d\n", (int)caught);
    return atoi(argv[3]);
  }
  if (strcmp(mode, "wait") == 0) {
    printf("pid %d\n", (int)getpid());
    for (;;)
      pause();
  }
  if (strcmp(mode, "wait-sigint") == 0) {
    signal(SIGINT, on_signal);
    printf("pid %d\n", (int)getpid());
    while (!caught)
      pause();
    printf("got SIGINT\n");
    return 0;
  }
  fprintf(stderr, "usage: process_cases args|env|stdin|raise N|abort|segv|handle N S|wait|"
                  "wait-sigint\n");
  return 2;
}
