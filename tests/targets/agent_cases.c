/* agent_cases.c: the pitfalls of the agent transport (libgroutines_agent.so), one per mode.
 *
 * The plugin patches a hooked function's first bytes with a jump to a trampoline that runs
 * the displaced instructions elsewhere; each mode calls functions whose first bytes or whose
 * callers make that hard, and prints what the calls returned, so that a test sees a call that
 * went wrong. Built -O2 without debug info: `objdump -d agent_cases` shows the layouts below.
 *
 *   agent_cases riprel N       counter_plus(i) for i < N, counter = 7 * i set before each
 *                              call: its first instruction reads the global rip-relative
 *                              (mov counter(%rip), %eax), so the copy in the trampoline must
 *                              be re-aimed. Prints "riprel sum=S" (S = sum of 8 * i).
 *   agent_cases alias N        plus_alias(i), another name of counter_plus, as riprel does:
 *                              hooked by both names, one address is one hook. Prints
 *                              "alias sum=S".
 *   agent_cases fallback N     loop_back(i % 5 + 1) and too_short(i) for i < N (both in
 *                              assembly below): loop_back's `jg` jumps back to its third
 *                              byte, inside the 5 bytes a patch replaces; too_short is 4 bytes
 *                              long. Neither can be patched. Prints "fallback loop_back=S1
 *                              too_short=S2".
 *   agent_cases endbr N        endbr_add(i, 1) for i < N: starts with endbr64 (CET), which
 *                              the patch must leave in place. Prints "endbr sum=S".
 *   agent_cases signal N       outer(i, &handled, i % 2 == 0) for i < N; a SIGALRM handler
 *                              calls inner(i) and counts itself in `handled`. For even i,
 *                              outer raises SIGALRM itself (inner runs inside outer's watched
 *                              frame); for odd i a groutine sends it while the thread waits
 *                              inside the agent for outer's call to be handled. Prints
 *                              "signal outer=S1 inner=S2 handled=H".
 *   agent_cases fork N [R=1]   leaf(j) for j < N; forker(0), which returns 0 at once (a first
 *                              call is the breakpoint hit that patches a function); then R
 *                              times forker(1), which forks: the child calls leaf N times
 *                              inside forker's frame, returns from it, calls leaf N times
 *                              more, prints "child leaf=S" and exits 0; the parent prints
 *                              "parent child=PID status=X" (X: the exit status, or 128 + the
 *                              signal that killed it). The child's fork() returns only once
 *                              the parent has returned from forker (the fork gate below).
 *                              Then the parent calls leaf N times more and prints
 *                              "parent leaf=S".
 *   agent_cases threads N      8 threads, started together, each calls hot(t, i) for i < N.
 *                              Prints "threads sum[t]=S" per thread, in order.
 *   agent_cases loop N FILE    tick(i) for i < N, spending ~1 us in each; at i == 1000 it
 *                              writes "started pid P entry 0xB\n" to FILE (a FIFO the test
 *                              reads; B is tick's first byte, 0xe9 once patched) and at the
 *                              end "done sum=S\n" (S = N * (N + 1) / 2), then exits 0.
 *
 * Every mode but loop (and the fork child) calls agent_cases_done() last: a test can break
 * there to look at the agent's counters while the process still exists. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <poll.h>
#include <pthread.h>
#include <unistd.h>

#include "hooked.h"

/* --- riprel --- */

int counter;

/* At -O2: mov counter(%rip),%eax; add %edi,%eax; ret. */
HOOKED int counter_plus(int a) { return counter + a; }

/* --- alias: two names for one address (plus_alias is counter_plus) --- */

extern int plus_alias(int a) __attribute__((alias("counter_plus")));

/* --- fallback, endbr: written in assembly, so that their bytes are certain --- */

int loop_back(int n);
int too_short(int n);
int endbr_add(int a, int b);

__asm__(
    ".text\n"
    /* loop_back(n) = n + (n-1) + ... + 1 for n >= 1. The first 5 bytes (xor, lea) are what
     * a patch would replace; the jg at +7 jumps to +2, between them. */
    ".globl loop_back\n"
    ".type loop_back, @function\n"
    ".p2align 4\n"
    "loop_back:\n"
    "  xorl %eax, %eax\n"        /* +0: 31 c0 */
    "1:\n"
    "  leal (%rax,%rdi), %eax\n" /* +2: 8d 04 38 */
    "  decl %edi\n"              /* +5: ff cf */
    "  jg 1b\n"                  /* +7: 7f f9 */
    "  ret\n"
    ".size loop_back, .-loop_back\n"
    /* too_short(n) = n + 1, in 4 bytes. */
    ".globl too_short\n"
    ".type too_short, @function\n"
    ".p2align 4\n"
    "too_short:\n"
    "  leal 1(%rdi), %eax\n" /* 8d 47 01 */
    "  ret\n"                /* c3 */
    ".size too_short, .-too_short\n"
    /* endbr_add(a, b) = 3 * (a + b), behind an endbr64. */
    ".globl endbr_add\n"
    ".type endbr_add, @function\n"
    ".p2align 4\n"
    "endbr_add:\n"
    "  endbr64\n"
    "  movl %edi, %eax\n"
    "  addl %esi, %eax\n"
    "  imull $3, %eax, %eax\n"
    "  ret\n"
    ".size endbr_add, .-endbr_add\n");

/* --- signal --- */

static volatile int handled;
static volatile int current;
static volatile long inner_sum;

/* base is 1. Reading it makes inner and leaf long enough to patch (mov base(%rip),%eax): a
 * bare `lea; ret` is shorter than the patch, or ends in a ret within its first 5 bytes. */
int base = 1;

HOOKED int inner(int i) { return 3 * i + base; }

static void on_alarm(int sig) {
  (void)sig;
  inner_sum += inner(current);
  handled++;
}

/* outer(i, counter, raise_inside) = 2 * i; counter is `handled`, for the groutine that sends
 * the signal to wait on. */
HOOKED int outer(int i, volatile int *counter_of_handled, int raise_inside) {
  (void)counter_of_handled;
  if (raise_inside) raise(SIGALRM);
  return 2 * i;
}

/* --- fork --- */

HOOKED int leaf(int j) { return j + base; }

static long leaves(long n) {
  long s = 0;
  for (long j = 0; j < n; ++j) s += leaf((int)j);
  return s;
}

static long child_leaves;
static long per_phase;

/* The fork gate: the child's first fork handler waits in fork() until the parent has
 * returned from forker, the worst order of the two, which the scheduler otherwise picks now and
 * then. It is registered from .preinit_array, before the preloaded agent's constructor
 * registers its own handler (handlers run in the order they were registered). */
static int gate[2] = {-1, -1};

static void wait_at_gate(void) {
  if (gate[0] < 0) return;
  struct pollfd p = {.fd = gate[0], .events = POLLIN};
  char c;
  if (poll(&p, 1, 10000) == 1 && read(gate[0], &c, 1) < 0) perror("read");
}

static void register_gate(void) { pthread_atfork(NULL, NULL, wait_at_gate); }
__attribute__((section(".preinit_array"), used)) static void (*const preinit)(void) = register_gate;

/* forker(1) forks; the child calls leaf inside this frame before returning 0. forker(0)
 * returns 0 at once: the first call of a hooked function is the breakpoint that patches it. */
HOOKED pid_t forker(int really) {
  if (!really) return 0;
  fflush(stdout);
  pid_t p = fork();
  if (p == 0) child_leaves = leaves(per_phase);
  return p;
}

/* --- threads --- */

enum { kThreads = 8 };

HOOKED int hot(int t, int i) { return t * 1000000 + i; }

struct worker {
  pthread_t thread;
  int t;
  long calls;
  long sum;
};

static pthread_barrier_t start;

static void *run_worker(void *arg) {
  struct worker *w = arg;
  pthread_barrier_wait(&start);
  for (long i = 0; i < w->calls; ++i) w->sum += hot(w->t, (int)i);
  return NULL;
}

/* --- loop --- */

HOOKED long tick(long i) {
  struct timespec t0, t;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  do clock_gettime(CLOCK_MONOTONIC, &t);
  while ((t.tv_sec - t0.tv_sec) * 1000000000L + (t.tv_nsec - t0.tv_nsec) < 1000);
  return i + 1;
}

/* first_byte_of_tick() is 0xe9 (jmp rel32) once the plugin patched tick for the agent. */
static unsigned first_byte_of_tick(void) {
  return *(const volatile unsigned char *)(uintptr_t)&tick;
}

/* --- --- */

HOOKED void agent_cases_done(void) {}

static int usage(void) {
  fprintf(stderr,
          "usage: agent_cases riprel|fallback|endbr|signal|threads N | fork N [R] | loop N FILE\n");
  return 2;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc < 3) return usage();
  const char *mode = argv[1];
  long n = strtol(argv[2], NULL, 10);

  if (strcmp(mode, "riprel") == 0) {
    long s = 0;
    for (long i = 0; i < n; ++i) {
      counter = 7 * (int)i;
      s += counter_plus((int)i);
    }
    printf("riprel sum=%ld\n", s);
  } else if (strcmp(mode, "alias") == 0) {
    long s = 0;
    for (long i = 0; i < n; ++i) {
      counter = 7 * (int)i;
      s += plus_alias((int)i);
    }
    printf("alias sum=%ld\n", s);
  } else if (strcmp(mode, "fallback") == 0) {
    long s1 = 0, s2 = 0;
    for (long i = 0; i < n; ++i) {
      s1 += loop_back((int)(i % 5 + 1));
      s2 += too_short((int)i);
    }
    printf("fallback loop_back=%ld too_short=%ld\n", s1, s2);
  } else if (strcmp(mode, "endbr") == 0) {
    long s = 0;
    for (long i = 0; i < n; ++i) s += endbr_add((int)i, 1);
    printf("endbr sum=%ld\n", s);
  } else if (strcmp(mode, "signal") == 0) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, NULL);
    long s = 0;
    for (long i = 0; i < n; ++i) {
      current = (int)i;
      s += outer((int)i, &handled, i % 2 == 0);
    }
    printf("signal outer=%ld inner=%ld handled=%d\n", s, inner_sum, handled);
  } else if (strcmp(mode, "fork") == 0) {
    long rounds = argc > 3 ? strtol(argv[3], NULL, 10) : 1;
    per_phase = n;
    long before = leaves(n);
    forker(0);
    for (long r = 0; r < rounds; ++r) {
      if (pipe(gate) != 0) {
        perror("pipe");
        return 1;
      }
      pid_t p = forker(1);
      if (p < 0) {
        perror("fork");
        return 1;
      }
      if (p == 0) {
        long after = leaves(n);
        printf("child leaf=%ld\n", child_leaves + after);
        return 0;
      }
      /* Back from forker: let the child's fork() return. */
      if (write(gate[1], "", 1) != 1) perror("write");
      close(gate[0]);
      close(gate[1]);
      gate[0] = gate[1] = -1;
      int status = -1;
      if (waitpid(p, &status, 0) != p) perror("waitpid");
      printf("parent child=%d status=%d\n", (int)p,
             WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    }
    printf("parent leaf=%ld\n", before + leaves(n));
  } else if (strcmp(mode, "threads") == 0) {
    struct worker workers[kThreads];
    pthread_barrier_init(&start, NULL, kThreads);
    for (int t = 0; t < kThreads; ++t) {
      workers[t] = (struct worker){.t = t, .calls = n, .sum = 0};
      if (pthread_create(&workers[t].thread, NULL, run_worker, &workers[t]) != 0) {
        perror("pthread_create");
        return 1;
      }
    }
    for (int t = 0; t < kThreads; ++t) pthread_join(workers[t].thread, NULL);
    pthread_barrier_destroy(&start);
    for (int t = 0; t < kThreads; ++t) printf("threads sum[%d]=%ld\n", t, workers[t].sum);
  } else if (strcmp(mode, "loop") == 0) {
    if (argc < 4) return usage();
    FILE *out = fopen(argv[3], "w");
    if (!out) {
      perror(argv[3]);
      return 1;
    }
    setvbuf(out, NULL, _IOLBF, 0);
    const long mark = n < 2000 ? n / 2 : 1000;
    long s = 0;
    for (long i = 0; i < n; ++i) {
      if (i == mark) fprintf(out, "started pid %d entry 0x%02x\n", (int)getpid(), first_byte_of_tick());
      s += tick(i);
    }
    fprintf(out, "done sum=%ld\n", s);
    fclose(out);
    return 0;
  } else {
    return usage();
  }
  agent_cases_done();
  return 0;
}
