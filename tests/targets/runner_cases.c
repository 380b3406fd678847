/* runner_cases.c: one small program with many endings, for `groutines run` and the stock
 * groutines (tests/run/).
 *
 *   runner_cases ok             add(2, 3), fact(5), prints "add=5 fact=120", exits 0
 *   runner_cases status N       exits with status N
 *   runner_cases crash-thread   a second thread writes through a NULL pointer (SIGSEGV)
 *   runner_cases hang           prints "hanging", then waits forever in pause() (for --timeout)
 *   runner_cases echo           copies stdin to stdout, writes "to stderr" on stderr
 *   runner_cases resources      acquire() from two call sites, each result checked: prints
 *                               "site A ok" or "site A failed: <strerror(errno)>", same for B
 *   runner_cases threads        four threads call add() 50 times each, exits 0
 *   runner_cases exec MODE      site_a(), then runs itself again in MODE (execv)
 *   runner_cases exit-threads N 16 threads wait for good, then main calls _exit(N)
 *   runner_cases flood          prints "flood" lines until a write fails (SIGPIPE kills it) */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hooked.h"

HOOKED int add(int a, int b) { return a + b; }

HOOKED long fact(long n) { return n <= 1 ? 1 : n * fact(n - 1); }

/* acquire() gets a resource, or NULL with errno set. */
HOOKED void *acquire(int id) {
  errno = 0;
  return malloc(16 + (size_t)id);
}

HOOKED void site_a(void) {
  void *r = acquire(1);
  if (r == NULL)
    printf("site A failed: %s\n", strerror(errno));
  else
    printf("site A ok\n");
  free(r);
}

HOOKED void site_b(void) {
  void *r = acquire(2);
  if (r == NULL)
    printf("site B failed: %s\n", strerror(errno));
  else
    printf("site B ok\n");
  free(r);
}

static void *crash(void *arg) {
  volatile int *p = arg;
  *p = 1;
  return NULL;
}

static pthread_barrier_t started;

static void *waiter(void *arg) {
  (void)arg;
  pthread_barrier_wait(&started);
  for (;;)
    pause();
  return NULL;
}

static void *adder(void *arg) {
  long sum = 0;
  for (int i = 0; i < 50; ++i)
    sum += add(i, (int)(long)arg);
  return (void *)sum;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  const char *mode = argc > 1 ? argv[1] : "ok";
  if (strcmp(mode, "ok") == 0) {
    printf("add=%d fact=%ld\n", add(2, 3), fact(5));
  } else if (strcmp(mode, "status") == 0) {
    return argc > 2 ? atoi(argv[2]) : 1;
  } else if (strcmp(mode, "crash-thread") == 0) {
    pthread_t t;
    pthread_create(&t, NULL, crash, NULL);
    pthread_join(t, NULL);
  } else if (strcmp(mode, "hang") == 0) {
    add(1, 1);
    puts("hanging");
    for (;;)
      pause();
  } else if (strcmp(mode, "echo") == 0) {
    char buf[256];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, stdin)) > 0)
      fwrite(buf, 1, n, stdout);
    fprintf(stderr, "to stderr\n");
  } else if (strcmp(mode, "resources") == 0) {
    site_a();
    site_b();
  } else if (strcmp(mode, "flood") == 0) {
    while (puts("flood") >= 0)
      ;
    return 9;
  } else if (strcmp(mode, "threads") == 0) {
    pthread_t t[4];
    for (long i = 0; i < 4; ++i)
      pthread_create(&t[i], NULL, adder, (void *)i);
    for (int i = 0; i < 4; ++i)
      pthread_join(t[i], NULL);
  } else if (strcmp(mode, "exec") == 0 && argc > 2) {
    site_a();
    execv("/proc/self/exe", (char *[]){argv[0], argv[2], NULL});
    perror("execv");
    return 127;
  } else if (strcmp(mode, "exit-threads") == 0) {
    enum { WAITERS = 16 };
    pthread_t t;
    pthread_barrier_init(&started, NULL, WAITERS + 1);
    for (int i = 0; i < WAITERS; ++i)
      pthread_create(&t, NULL, waiter, NULL);
    pthread_barrier_wait(&started);
    _exit(argc > 2 ? atoi(argv[2]) : 1);
  }
  return 0;
}
