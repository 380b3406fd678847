/* agent.c: libgroutines_agent.so, the groutines agent inside the target.
 *
 * The debugger patches hooked functions to jump here (stubs.S); the handlers below hand each
 * hit to the host in the debugger through shared memory (protocol.h) and wait for its reply.
 * Nothing on a hit's path calls libc or allocates: system calls are made directly (errno is
 * untouched), the per-thread state is one initial-exec TLS block, and copies are plain loops.
 * A hit on a thread already inside the agent (a signal handler, a hooked function the agent
 * would call) passes through, and so does every hit in a fork child or without a host. */
#include <linux/futex.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/syscall.h>

#include "groutines_agent/protocol.h"

#define GA_EXPORT __attribute__((visibility("default")))
#define GA_HIDDEN __attribute__((visibility("hidden")))

/* Spin this many TSC ticks (~0.5 ms) for a reply before sleeping in the kernel: waking a
 * sleeping thread costs ~100 us on a VM, more than most deliveries take. */
#define GA_SPIN_TICKS 1500000ull
/* A waiting thread checks that the host is alive this often (ns). */
#define GA_WAIT_NS 100000000L

/* --- System calls, without libc --- */

static long sys6(long n, long a, long b, long c, long d, long e, long f) {
  register long r10 __asm__("r10") = d;
  register long r8 __asm__("r8") = e;
  register long r9 __asm__("r9") = f;
  long ret;
  __asm__ volatile("syscall"
                   : "=a"(ret)
                   : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                   : "rcx", "r11", "memory");
  return ret;
}
#define sys3(n, a, b, c) sys6((n), (long)(a), (long)(b), (long)(c), 0, 0, 0)

struct ga_timespec {
  long tv_sec, tv_nsec;
};

static void futex_wait(void *word, uint32_t value, long ns) {
  struct ga_timespec ts = {ns / 1000000000L, ns % 1000000000L};
  sys6(SYS_futex, (long)word, FUTEX_WAIT, value, (long)&ts, 0, 0);
}

static void futex_wake(void *word) { sys6(SYS_futex, (long)word, FUTEX_WAKE, 1, 0, 0, 0); }

static inline void cpu_relax(void) { __asm__ volatile("pause" ::: "memory"); }

/* --- State --- */

GA_EXPORT struct ga_info groutines_agent;

extern char ga_enter_stub[], ga_return_stub[], ga_service_stub[], ga_stop_pad[];
extern void ga_park_pad(void);

static struct ga_header *hdr;
static struct ga_slot *slots;
static uint32_t my_pid;
/* forked is set in a fork child: the shared memory is the parent's, so hits pass through and
 * watched returns pop the copy of the forking thread's shadow stack in child_slot. */
static volatile int forked;
static struct ga_slot child_slot;

/* Per-thread state, in the static TLS block: no __tls_get_addr, nothing to free. */
struct ga_thread {
  struct ga_slot *slot; /* claimed at the thread's first hit */
  uint32_t index;       /* of slot */
  uint32_t busy;        /* inside a handler: nested hits pass through */
  uint32_t bypass;      /* hook index + 1 whose next call passes (it resumes from a stop) */
};
static __thread struct ga_thread self __attribute__((tls_model("initial-exec")));

static void copy_words(void *to, const void *from, size_t bytes) {
  uint64_t *t = to;
  const uint64_t *f = from;
  for (size_t i = 0; i < bytes / 8; ++i) t[i] = f[i];
}

static void count(GA_ATOMIC(uint64_t) * counter) {
  __atomic_fetch_add((uint64_t *)counter, 1, __ATOMIC_RELAXED);
}

/* --- Slots --- */

/* thread_alive() tells whether thread tid of this process still exists. */
static int thread_alive(uint32_t tid) {
  return sys3(SYS_tgkill, my_pid, tid, 0) != -3 /* ESRCH */;
}

static void post_and_wait(struct ga_slot *s);

/* claim_slot() gives the calling thread a slot: a free one, or one whose thread has exited
 * (its watched calls are reported unwound first); NULL when all GA_MAX_SLOTS are in use. */
static struct ga_slot *claim_slot(void) {
  uint32_t tid = (uint32_t)sys3(SYS_gettid, 0, 0, 0);
  for (int pass = 0; pass < 2; ++pass) {
    for (uint32_t i = 0; i < GA_MAX_SLOTS; ++i) {
      struct ga_slot *s = &slots[i];
      uint32_t owner = __atomic_load_n(&s->tid, __ATOMIC_ACQUIRE);
      if (owner != 0 && (pass == 0 || thread_alive(owner))) continue;
      if (!__atomic_compare_exchange_n(&s->tid, &owner, tid, 0, __ATOMIC_ACQ_REL,
                                       __ATOMIC_RELAXED))
        continue;
      self.slot = s;
      self.index = i;
      /* A dead thread's watched calls will never return. */
      while (s->depth > 0) {
        s->depth--;
        s->kind = GA_HIT_UNWOUND;
        s->call = s->shadow[s->depth].call;
        post_and_wait(s);
      }
      return s;
    }
  }
  return 0;
}

/* lost_host is a host whose heartbeat stopped: no thread waits for it again. */
static uint32_t lost_host;

static int host_gone(void) {
  uint32_t host = __atomic_load_n((uint32_t *)&hdr->host_pid, __ATOMIC_ACQUIRE);
  return host == 0 || host == __atomic_load_n(&lost_host, __ATOMIC_RELAXED) ||
         sys3(SYS_kill, host, 0, 0) == -3 /* ESRCH */;
}

/* post_and_wait() hands the slot's request to the host and waits for its reply. If the host
 * goes away meanwhile, the thread goes on within GA_WAIT_NS as if it had said continue. */
static void post_and_wait(struct ga_slot *s) {
  s->seq++;
  s->reply = GA_REPLY_CONTINUE;
  __atomic_store_n((uint32_t *)&s->state, GA_SLOT_POSTED, __ATOMIC_RELEASE);
  /* Enqueue: at most one post per slot is outstanding, so the queue is never full; a cell of
   * the previous lap may still be being released by the host for a moment. */
  uint32_t pos = __atomic_fetch_add((uint32_t *)&hdr->queue_head, 1, __ATOMIC_RELAXED);
  uint32_t *cell_seq = (uint32_t *)&hdr->queue[pos % GA_QUEUE_SIZE].seq;
  while (__atomic_load_n(cell_seq, __ATOMIC_ACQUIRE) != pos) cpu_relax();
  hdr->queue[pos % GA_QUEUE_SIZE].slot = self.index;
  __atomic_store_n(cell_seq, pos + 1, __ATOMIC_RELEASE);
  count(&hdr->counters.posted);
  __atomic_fetch_add((uint32_t *)&hdr->doorbell, 1, __ATOMIC_SEQ_CST);
  if (__atomic_load_n((uint32_t *)&hdr->host_sleeping, __ATOMIC_SEQ_CST))
    futex_wake(&hdr->doorbell);

  uint32_t *state = (uint32_t *)&s->state;
  for (uint64_t start = __builtin_ia32_rdtsc(), spins = 0;
       __builtin_ia32_rdtsc() - start < GA_SPIN_TICKS; ++spins) {
    uint32_t now = __atomic_load_n(state, __ATOMIC_ACQUIRE);
    if (now == GA_SLOT_REPLIED) goto replied;
    if (now == GA_SLOT_PARK) break;
    /* After a few microseconds, give the CPU away now and then: the host's thread may be
     * waiting for this very CPU. */
    if (spins > 256 && (spins & 15) == 0)
      sys3(SYS_sched_yield, 0, 0, 0);
    else
      cpu_relax();
  }
  uint32_t beat = __atomic_load_n((uint32_t *)&hdr->heartbeat, __ATOMIC_RELAXED);
  int still = 0; /* waits of GA_WAIT_NS the heartbeat did not move */
  for (;;) {
    uint32_t expected = GA_SLOT_POSTED;
    __atomic_compare_exchange_n(state, &expected, GA_SLOT_SLEEPING, 0, __ATOMIC_ACQ_REL,
                                __ATOMIC_ACQUIRE);
    if (expected == GA_SLOT_REPLIED) break;
    if (expected == GA_SLOT_PARK) {
      /* Back to waiting first: the host replies only after the debugger let go of us. */
      if (__atomic_compare_exchange_n(state, &expected, GA_SLOT_POSTED, 0, __ATOMIC_ACQ_REL,
                                      __ATOMIC_ACQUIRE))
        ga_park_pad();
      continue;
    }
    futex_wait(state, GA_SLOT_SLEEPING, GA_WAIT_NS);
    if (__atomic_load_n(state, __ATOMIC_ACQUIRE) == GA_SLOT_REPLIED) break;
    uint32_t now = __atomic_load_n((uint32_t *)&hdr->heartbeat, __ATOMIC_RELAXED);
    still = now == beat ? still + 1 : 0;
    beat = now;
    /* Gone, detached, or dead but not reaped yet (a zombie still answers kill(pid, 0)). */
    if (still >= 10)
      __atomic_store_n(&lost_host, __atomic_load_n((uint32_t *)&hdr->host_pid, __ATOMIC_RELAXED),
                       __ATOMIC_RELAXED);
    if (host_gone()) {
      count(&hdr->counters.no_host);
      s->reply = GA_REPLY_CONTINUE;
      break;
    }
  }
replied:
  __atomic_store_n(state, GA_SLOT_IDLE, __ATOMIC_RELEASE);
}

/* reap() reports the watched calls of s whose frames are gone without returning, innermost
 * first: those whose return-address slot lies below sp (a longjmp or an exception unwound
 * them), and at sp itself one whose slot no longer holds the return stub (a new frame reuses
 * it). Only slots within 8 MiB below sp count: another stack (a coroutine's) is not unwound. */
static void reap(struct ga_slot *s, uint64_t sp, int at_entry, int notify) {
  while (s->depth > 0) {
    struct ga_shadow *top = &s->shadow[s->depth - 1];
    int gone = top->ret_slot < sp && sp - top->ret_slot < (8u << 20);
    if (at_entry && top->ret_slot == sp && *(uint64_t *)sp != (uint64_t)ga_return_stub) gone = 1;
    if (!gone) return;
    s->depth--;
    if (notify) {
      s->kind = GA_HIT_UNWOUND;
      s->call = top->call;
      post_and_wait(s);
    }
  }
}

/* --- Handlers (called by stubs.S) --- */

GA_HIDDEN void ga_on_enter(struct ga_regs *r, uint32_t index);
GA_HIDDEN void ga_on_return(struct ga_regs *r);
GA_HIDDEN void ga_on_service(struct ga_regs *r);

/* push_stop() makes the thread resume at the stop pad with its real destination pushed. */
static void push_stop(struct ga_regs *r) {
  r->rsp -= 8;
  *(uint64_t *)r->rsp = r->rip;
  r->rip = (uint64_t)ga_stop_pad;
}

void ga_on_enter(struct ga_regs *r, uint32_t index) {
  struct ga_hook *h = &hdr->hooks[index % GA_MAX_HOOKS];
  r->rip = h->resume;
  if (forked) return;
  if (__atomic_fetch_add(&self.busy, 1, __ATOMIC_RELAXED) != 0) {
    count(&hdr->counters.reentrant);
    goto out;
  }
  if (!__atomic_load_n((uint32_t *)&h->enabled, __ATOMIC_ACQUIRE)) {
    count(&hdr->counters.disabled);
    goto out;
  }
  if (self.bypass == index + 1) {
    self.bypass = 0;
    goto out;
  }
  if (host_gone()) {
    count(&hdr->counters.no_host);
    goto out;
  }
  struct ga_slot *s = self.slot ? self.slot : claim_slot();
  if (!s) {
    count(&hdr->counters.no_slot);
    goto out;
  }
  reap(s, r->rsp, 1, 1);
  copy_words(&s->regs, r, sizeof *r);
  s->regs.rip = h->entry;
  s->kind = GA_HIT_CALL;
  s->hook = index;
  s->call = 0;
  post_and_wait(s);
  uint32_t reply = s->reply;
  if (reply & GA_REPLY_SKIP) {
    r->rax = s->regs.rax;
    copy_words(r->xmm[0], s->regs.xmm[0], 16);
    r->rip = *(uint64_t *)r->rsp;
    r->rsp += 8;
  } else if (reply & GA_REPLY_WATCH) {
    if (s->depth < GA_SHADOW_DEPTH) {
      struct ga_shadow *e = &s->shadow[s->depth];
      e->ret_slot = r->rsp;
      e->original = *(uint64_t *)r->rsp;
      e->call = s->reply_call;
      s->depth++;
      *(uint64_t *)r->rsp = (uint64_t)ga_return_stub;
    } else {
      /* No room to watch it: its waiter hears it unwound rather than waiting forever. */
      count(&hdr->counters.shadow_full);
      s->kind = GA_HIT_UNWOUND;
      s->call = s->reply_call;
      post_and_wait(s);
    }
  }
  if ((reply & GA_REPLY_STOP) && !(reply & GA_REPLY_SKIP)) {
    self.bypass = index + 1;
    r->rip = h->entry;
    push_stop(r);
  }
out:
  __atomic_fetch_sub(&self.busy, 1, __ATOMIC_RELAXED);
}

void ga_on_return(struct ga_regs *r) {
  struct ga_slot *s = forked ? &child_slot : self.slot;
  uint64_t ret_slot = r->rsp - 8;
  /* The entry this return pops: the innermost one for this return-address slot. */
  uint32_t k = s ? s->depth : 0;
  while (k > 0 && s->shadow[k - 1].ret_slot != ret_slot) --k;
  if (k == 0) {
    /* Not ours (cannot happen unless the stack was copied): resume at the innermost. */
    count(&hdr->counters.lost_return);
    k = s ? s->depth : 0;
    if (k == 0) {
      /* No return address to go back to: end the process, saying why, rather than jump
       * anywhere. */
      static const char why[] = "groutines agent: a return with no watched call to return to\n";
      sys3(SYS_write, 2, why, sizeof why - 1);
      sys3(SYS_kill, my_pid, 6 /* SIGABRT */, 0);
      sys3(SYS_exit_group, 134, 0, 0);
    }
  }
  struct ga_shadow e = s->shadow[k - 1];
  int notify = !forked && __atomic_fetch_add(&self.busy, 1, __ATOMIC_RELAXED) == 0 &&
               !host_gone();
  /* Entries above it lost their frames. */
  while (s->depth > k) {
    s->depth--;
    if (notify) {
      s->kind = GA_HIT_UNWOUND;
      s->call = s->shadow[s->depth].call;
      post_and_wait(s);
    }
  }
  s->depth = k - 1;
  r->rip = e.original;
  if (notify) {
    copy_words(&s->regs, r, sizeof *r);
    s->kind = GA_HIT_RETURN;
    s->call = e.call;
    post_and_wait(s);
    if (s->reply & GA_REPLY_REWRITE) {
      r->rax = s->regs.rax;
      copy_words(r->xmm[0], s->regs.xmm[0], 16);
    }
    if (s->reply & GA_REPLY_STOP) push_stop(r);
  }
  if (!forked) __atomic_fetch_sub(&self.busy, 1, __ATOMIC_RELAXED);
}

void ga_on_service(struct ga_regs *r) {
  (void)r;
  struct ga_service *req = &hdr->service;
  if (__atomic_load_n((uint32_t *)&req->state, __ATOMIC_ACQUIRE) != 1) return;
  long at = sys6(SYS_mmap, (long)req->address, (long)req->size, 7 /* rwx */,
                 0x22 | 0x100000 /* MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED_NOREPLACE */, -1, 0);
  if (at >= 0 && (uint64_t)at != req->address) {
    /* A kernel older than 4.17 took the address as a hint. */
    sys3(SYS_munmap, at, req->size, 0);
    at = -17; /* EEXIST */
  }
  req->result = at;
  __atomic_store_n((uint32_t *)&req->state, 2, __ATOMIC_RELEASE);
}

/* --- Unwinding through replaced return addresses ---
 *
 * The unwinder reads return addresses from the stack: where the agent put ga_return_stub it
 * would find no frame to unwind. While the target runs with the agent preloaded, the agent
 * takes the unwinder's entry points first and puts the original return addresses back before
 * unwinding: for an exception up to the handler (__cxa_begin_catch puts the stub back in the
 * frames that live on; those unwound are reported at the thread's next hook or return), for
 * pthread_exit and cancellation for good (every watched call of the thread is reported
 * unwound), for backtrace() just for the walk. Loaded into a running process (attach), the
 * agent cannot come first: an exception through a watched frame there ends the program. */

struct _Unwind_Exception;
struct _Unwind_Context;
typedef int (*ga_trace_fn)(struct _Unwind_Context *, void *);
typedef int (*ga_stop_fn)(int, int, uint64_t, struct _Unwind_Exception *, struct _Unwind_Context *,
                          void *);
extern void *dlsym(void *handle, const char *name);
#define GA_RTLD_NEXT ((void *)-1l)

static struct ga_slot *my_shadow(void) { return forked ? &child_slot : self.slot; }

/* restore_returns() puts back the original return address of every watched call of the
 * thread (innermost first, so that tail calls sharing a slot end with the caller's). */
static void restore_returns(struct ga_slot *s) {
  if (!s) return;
  for (uint32_t i = s->depth; i-- > 0;) {
    uint64_t *slot = (uint64_t *)s->shadow[i].ret_slot;
    if (*slot == (uint64_t)ga_return_stub) *slot = s->shadow[i].original;
  }
}

/* rearm_returns() puts the stub back for the watched calls whose frames are above sp (alive). */
static void rearm_returns(struct ga_slot *s, uint64_t sp) {
  if (!s) return;
  for (uint32_t i = 0; i < s->depth; ++i) {
    uint64_t *slot = (uint64_t *)s->shadow[i].ret_slot;
    if (s->shadow[i].ret_slot >= sp && *slot == s->shadow[i].original)
      *slot = (uint64_t)ga_return_stub;
  }
}

#define GA_NEXT(type, name, args)                              \
  static type (*real)args;                                     \
  if (!real) *(void **)&real = dlsym(GA_RTLD_NEXT, name);

GA_EXPORT int _Unwind_RaiseException(struct _Unwind_Exception *e) {
  GA_NEXT(int, "_Unwind_RaiseException", (struct _Unwind_Exception *))
  restore_returns(my_shadow());
  return real ? real(e) : 5 /* _URC_END_OF_STACK */;
}

GA_EXPORT int _Unwind_Resume_or_Rethrow(struct _Unwind_Exception *e) {
  GA_NEXT(int, "_Unwind_Resume_or_Rethrow", (struct _Unwind_Exception *))
  restore_returns(my_shadow());
  return real ? real(e) : 5;
}

GA_EXPORT int _Unwind_ForcedUnwind(struct _Unwind_Exception *e, ga_stop_fn stop, void *arg) {
  GA_NEXT(int, "_Unwind_ForcedUnwind", (struct _Unwind_Exception *, ga_stop_fn, void *))
  struct ga_slot *s = my_shadow();
  restore_returns(s);
  /* The whole stack goes: every watched call of the thread is unwound. */
  if (s && !forked) {
    int notify = __atomic_fetch_add(&self.busy, 1, __ATOMIC_RELAXED) == 0 && !host_gone();
    while (s->depth > 0) {
      s->depth--;
      if (notify) {
        s->kind = GA_HIT_UNWOUND;
        s->call = s->shadow[s->depth].call;
        post_and_wait(s);
      }
    }
    __atomic_fetch_sub(&self.busy, 1, __ATOMIC_RELAXED);
  }
  return real ? real(e, stop, arg) : 5;
}

GA_EXPORT int _Unwind_Backtrace(ga_trace_fn trace, void *arg) {
  GA_NEXT(int, "_Unwind_Backtrace", (ga_trace_fn, void *))
  struct ga_slot *s = my_shadow();
  restore_returns(s);
  int r = real ? real(trace, arg) : 5;
  rearm_returns(s, 0);
  return r;
}

GA_EXPORT void *__cxa_begin_catch(void *e) {
  GA_NEXT(void *, "__cxa_begin_catch", (void *))
  /* The catching frame's stack pointer: frames below it were unwound. */
  rearm_returns(my_shadow(), (uint64_t)__builtin_frame_address(0) + 16);
  return real ? real(e) : 0;
}

/* --- Start --- */

/* before_fork() and in_child() run around a fork: in the child, the forking thread's watched
 * returns keep popping from a private copy of its slot, and nothing reaches the parent's
 * host. */
static void before_fork(void) {
  /* The snapshot is taken in the parent: once forked, the parent goes on popping the shared
   * slot while the child would copy it. */
  if (self.slot) copy_words(&child_slot, self.slot, sizeof child_slot);
}

static void in_child(void) {
  if (self.slot) self.slot = &child_slot;
  forked = 1;
}

extern int pthread_atfork(void (*prepare)(void), void (*parent)(void), void (*child)(void));
extern char **environ;

static int is_agent_path(const char *s, const char *end) {
  static const char name[] = "libgroutines_agent.so";
  const size_t n = sizeof name - 1;
  if ((size_t)(end - s) < n) return 0;
  for (size_t i = 0; i < n; ++i)
    if (end[-(long)n + (long)i] != name[i]) return 0;
  return 1;
}

/* unexport() takes the agent out of LD_PRELOAD in the environment, so that the programs the
 * target runs do not load it; an LD_PRELOAD left empty goes. */
static void unexport(void) {
  if (!environ) return;
  for (char **e = environ; *e; ++e) {
    const char *key = "LD_PRELOAD=";
    char *v = *e;
    int match = 1;
    for (int i = 0; key[i]; ++i)
      if (v[i] != key[i]) {
        match = 0;
        break;
      }
    if (!match) continue;
    char *in = v + 11, *out = v + 11;
    while (*in) {
      char *start = in;
      while (*in && *in != ':' && *in != ' ') ++in;
      int skip = is_agent_path(start, in);
      if (!skip) {
        if (out != v + 11) *out++ = ':';
        while (start < in) *out++ = *start++;
      }
      while (*in == ':' || *in == ' ') ++in;
    }
    *out = 0;
    if (out == v + 11) {
      char **p = e;
      do p[0] = p[1];
      while (*p++);
    }
    return;
  }
}

__attribute__((constructor)) static void ga_start(void) {
  my_pid = (uint32_t)sys3(SYS_getpid, 0, 0, 0);
  groutines_agent.version = GA_VERSION;
  groutines_agent.enter_stub = (uint64_t)ga_enter_stub;
  groutines_agent.return_stub = (uint64_t)ga_return_stub;
  groutines_agent.service_stub = (uint64_t)ga_service_stub;
  groutines_agent.stop_pad = (uint64_t)ga_stop_pad;
  groutines_agent.park_pad = (uint64_t)ga_park_pad;
  groutines_agent.shm_size = GA_SHM_SIZE;
  unexport();
  long fd = sys3(SYS_memfd_create, "groutines-agent", 1 /* MFD_CLOEXEC */, 0);
  if (fd < 0 || sys3(SYS_ftruncate, fd, GA_SHM_SIZE, 0) < 0) {
    groutines_agent.fd = fd < 0 ? (int32_t)fd : -12;
    return;
  }
  long at = sys6(SYS_mmap, 0, GA_SHM_SIZE, 3 /* rw */, 1 /* MAP_SHARED */, fd, 0);
  if (at < 0 && at > -4096) {
    groutines_agent.fd = (int32_t)at;
    return;
  }
  hdr = (struct ga_header *)at;
  slots = (struct ga_slot *)(at + GA_SLOTS_OFFSET);
  hdr->magic = GA_MAGIC;
  hdr->version = GA_VERSION;
  hdr->agent_pid = my_pid;
  for (uint32_t i = 0; i < GA_QUEUE_SIZE; ++i) __atomic_store_n((uint32_t *)&hdr->queue[i].seq, i, __ATOMIC_RELAXED);
  pthread_atfork(before_fork, 0, in_child);
  groutines_agent.fd = (int32_t)fd;
  groutines_agent.shm = (uint64_t)at;
  __atomic_store_n(&groutines_agent.magic, GA_MAGIC, __ATOMIC_RELEASE);
}
