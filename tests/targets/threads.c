/* threads.c: one hooked function called concurrently from several threads.
 *
 * Four threads wait on a barrier, then each calls work(tid, i) for i = 0 .. ITERATIONS-1,
 * so calls from different threads overlap (work spins a little, so a thread is usually
 * inside it when another one stops): a test checks every call and every return is
 * delivered exactly once and matched to its own thread. work() returns tid * 1000 + i, so
 * each thread's sum is known in advance and a rewritten return value changes exactly one sum.
 *
 * Usage: threads [ITERATIONS=3]. After all threads joined, prints one line per thread, in
 * thread order:
 *   work_sum(0)=3          (ITERATIONS=3: 0 + 1 + 2)
 *   work_sum(1)=3003
 *   work_sum(2)=6003
 *   work_sum(3)=9003 */
#include <pthread.h>
#include <stdio.h>

#include "hooked.h"

enum { kThreads = 4 };

HOOKED int work(int tid, int i) {
  /* Threads spend most of their time inside work(), so their calls overlap. */
  for (volatile int spin = 0; spin < 10000; ++spin) {
  }
  return tid * 1000 + i;
}

struct worker {
  pthread_t thread;
  int tid;
  long calls;
  long sum;
};

static pthread_barrier_t start;

static void *run_worker(void *arg) {
  struct worker *w = arg;
  pthread_barrier_wait(&start);
  for (long i = 0; i < w->calls; ++i)
    w->sum += work(w->tid, (int)i);
  return NULL;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  long n = iterations(argc, argv, 3);
  struct worker workers[kThreads];
  pthread_barrier_init(&start, NULL, kThreads);
  for (int t = 0; t < kThreads; ++t) {
    workers[t] = (struct worker){.tid = t, .calls = n, .sum = 0};
    if (pthread_create(&workers[t].thread, NULL, run_worker, &workers[t]) != 0) {
      perror("pthread_create");
      return 1;
    }
  }
  for (int t = 0; t < kThreads; ++t)
    pthread_join(workers[t].thread, NULL);
  pthread_barrier_destroy(&start);
  for (int t = 0; t < kThreads; ++t)
    printf("work_sum(%d)=%ld\n", t, workers[t].sum);
  return 0;
}
