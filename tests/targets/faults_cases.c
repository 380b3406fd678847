/* faults_cases.c: calls for the controls of the stock faults groutine (tests/run/test_faults.py):
 * which calls of acquire() fail, told by what the program prints.
 *
 *   faults_cases calls N    N calls of acquire() in a row; prints one character per call, '.'
 *                           when it got its buffer, 'x' when it failed, then a line
 *                           "errno: <strerror(errno)>" of the last failure (none: "errno: -")
 *   faults_cases callers    load_config() and load_cache() both get their buffer from
 *                           read_file(), which calls acquire(): acquire()'s direct caller is
 *                           read_file() for both; prints "config ok" or
 *                           "config failed: <strerror>", then the same for cache
 *   faults_cases threads N  threads named worker-1, worker-2, worker-3 (pthread_setname_np) and
 *                           the main thread make N calls of acquire() each, at the same time; once
 *                           all are done, prints a line per thread in that order, "main ....",
 *                           "worker-1 ..x.", ... ('.' and 'x' as for calls)
 *   faults_cases abort      gets two buffers with xacquire(), which aborts when acquire()
 *                           fails (as xmalloc does), then prints "both acquired"
 *
 * acquire() and every caller named above stay real frames at -O2 (HOOKED, and each caller uses
 * the result after the call: none ends in a tail call). */
#define _GNU_SOURCE /* pthread_setname_np */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hooked.h"

/* acquire() gets a buffer of n bytes, or NULL with errno set. */
HOOKED void *acquire(size_t n) {
  errno = 0;
  return malloc(n);
}

static int last_errno;

/* take() calls acquire() and frees its buffer: '.' when it came, 'x' when it failed. */
static char take(size_t n) {
  void *p = acquire(n);
  if (p == NULL) {
    last_errno = errno;
    return 'x';
  }
  free(p);
  return '.';
}

HOOKED int read_file(size_t n) {
  void *buffer = acquire(n);
  if (buffer == NULL)
    return -1;
  memset(buffer, 0, n);
  free(buffer);
  return 0;
}

HOOKED int load_config(void) { return read_file(64) < 0 ? errno : 0; }

HOOKED int load_cache(void) { return read_file(128) < 0 ? errno : 0; }

/* xacquire() is acquire() or abort(), at two call sites. */
HOOKED void *xacquire(size_t n) {
  void *p = acquire(n);
  if (p == NULL)
    abort();
  return p;
}

struct worker {
  pthread_t thread;
  char name[16];
  long calls;
  char results[256];
};

static void *work(void *arg) {
  struct worker *w = arg;
  pthread_setname_np(pthread_self(), w->name);
  for (long i = 0; i < w->calls; ++i)
    w->results[i] = take(32);
  return NULL;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  const char *mode = argc > 1 ? argv[1] : "calls";
  long n = argc > 2 ? strtol(argv[2], NULL, 10) : 10;
  if (n < 0 || n > 255)
    n = 10;
  if (strcmp(mode, "calls") == 0) {
    char results[256] = {0};
    for (long i = 0; i < n; ++i)
      results[i] = take(16);
    printf("%s\n", results);
    printf("errno: %s\n", last_errno ? strerror(last_errno) : "-");
  } else if (strcmp(mode, "callers") == 0) {
    int config = load_config();
    int cache = load_cache();
    printf("config %s%s\n", config ? "failed: " : "ok", config ? strerror(config) : "");
    printf("cache %s%s\n", cache ? "failed: " : "ok", cache ? strerror(cache) : "");
  } else if (strcmp(mode, "threads") == 0) {
    static struct worker workers[4];
    strcpy(workers[0].name, "main");
    for (int i = 0; i < 4; ++i) {
      if (i > 0)
        snprintf(workers[i].name, sizeof workers[i].name, "worker-%d", i);
      workers[i].calls = n;
    }
    for (int i = 1; i < 4; ++i)
      pthread_create(&workers[i].thread, NULL, work, &workers[i]);
    for (long i = 0; i < n; ++i)
      workers[0].results[i] = take(32);
    for (int i = 1; i < 4; ++i)
      pthread_join(workers[i].thread, NULL);
    for (int i = 0; i < 4; ++i)
      printf("%s %s\n", workers[i].name, workers[i].results);
  } else if (strcmp(mode, "abort") == 0) {
    void *a = xacquire(8);
    void *b = xacquire(16);
    printf("both acquired\n");
    free(a);
    free(b);
  } else {
    fprintf(stderr, "usage: faults_cases calls N | callers | threads N | abort\n");
    return 2;
  }
  return 0;
}
