/* protocol.h: the shared memory between the groutines agent (libgroutines_agent.so, inside the
 * target) and its host (a service thread in the debugger). C, so that the agent and every host
 * (LLDB, GDB) read the same layout. x86-64 Linux only.
 *
 * The agent creates one memfd of GA_SHM_SIZE bytes in its constructor and publishes its number
 * in the exported `groutines_agent` (struct ga_info); the host opens /proc/PID/fd/N and maps it.
 * The debugger patches a hooked function's entry with `jmp` to a per-hook trampoline it writes
 * into memory near the code:
 *
 *   T+0   push imm32 <hook index>
 *   T+5   jmp [rip+disp]           -> ga_enter_stub (the agent's, address in ga_info)
 *   T+11  reserved (5 bytes: jmp T+16)
 *   T+16  the displaced instructions, relocated; then jmp back to entry + window
 *
 * ga_enter_stub saves the registers (struct ga_regs) and calls the agent's handler, which copies
 * them into the thread's slot, posts the slot's index on the queue and waits for the host's
 * reply (spinning briefly, then futex). A hit on a thread already inside the agent, with no
 * host, or without a free slot passes through and is counted. */
#ifndef GROUTINES_AGENT_PROTOCOL_H
#define GROUTINES_AGENT_PROTOCOL_H

#include <stdint.h>

#ifdef __cplusplus
#include <atomic>
#define GA_ATOMIC(t) std::atomic<t>
extern "C" {
#else
#include <stdatomic.h>
#define GA_ATOMIC(t) _Atomic t
#endif

#define GA_MAGIC 0x454e4954554f5247ull /* "GROUTINE" */
#define GA_VERSION 2u
#define GA_MAX_SLOTS 1024u    /* target threads that can be in a hit at once, with a slot each */
#define GA_MAX_HOOKS 16384u   /* patched function entries per process */
#define GA_SHADOW_DEPTH 1024u /* watched calls per thread awaiting their return */
#define GA_QUEUE_SIZE 1024u   /* >= GA_MAX_SLOTS: a thread has at most one hit posted */

/* ga_regs: the registers of a thread at a hook's entry or a watched return, in the order the
 * stubs store them. rsp is the thread's stack pointer at the function's first instruction
 * ([rsp] is the caller's return address) or, at a return, just after `ret`; rip is where the
 * thread resumes (the agent sets it). */
struct ga_regs {
  uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp, rsp;
  uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
  uint64_t rip, rflags;
  uint8_t xmm[8][16]; /* xmm0..xmm7 */
};

/* ga_hit_kind: what a posted slot reports. */
enum ga_hit_kind {
  GA_HIT_CALL = 1,    /* a call of hooks[hook]; regs are the entry's */
  GA_HIT_RETURN = 2,  /* watched call `call` returned; regs are after its `ret` (rax, xmm0) */
  GA_HIT_UNWOUND = 3, /* watched call `call` lost its frame without returning (longjmp,
                         exception), noticed at the thread's next hook or return */
};

/* ga_reply: the host's answer, bits of slot.reply. */
enum ga_reply {
  GA_REPLY_CONTINUE = 0,   /* run the call (or return) as it was */
  GA_REPLY_SKIP = 1,       /* at a call: return to the caller at once with regs.rax, xmm0 */
  GA_REPLY_WATCH = 2,      /* at a call: report this call's return as slot.reply_call */
  GA_REPLY_REWRITE = 4,    /* at a return: the caller sees regs.rax and xmm0 from the slot */
  GA_REPLY_STOP = 8,       /* push where the thread would resume (the function's first byte
                              at a call, the return address at a return) and resume at
                              ga_info.stop_pad (`nop; ret`), where the host's breakpoint stops
                              it; a call stopped so is not reported again as it resumes */
};

/* ga_slot_state: the futex word of a slot. */
enum ga_slot_state {
  GA_SLOT_IDLE = 0,     /* the thread owns the slot */
  GA_SLOT_POSTED = 1,   /* the host owns the request; the thread spins */
  GA_SLOT_SLEEPING = 2, /* the host owns the request; the thread sleeps in FUTEX_WAIT */
  GA_SLOT_REPLIED = 3,  /* the reply is written; the thread owns the slot again */
  GA_SLOT_PARK = 4,     /* the host wants the thread stopped by the debugger while it waits
                           (to evaluate an expression on it): the thread calls
                           ga_info.park_pad, where the host's breakpoint is, and waits on */
};

/* ga_shadow: one watched call whose return address was replaced by ga_return_stub. */
struct ga_shadow {
  uint64_t ret_slot; /* the stack address holding the return address (entry rsp) */
  uint64_t original; /* the return address it held */
  uint64_t call;     /* the host's id for the call */
};

/* ga_slot: one target thread's mailbox. The request fields are written by the thread before it
 * posts; the reply fields by the host before it sets GA_SLOT_REPLIED. */
struct ga_slot {
  GA_ATOMIC(uint32_t) state; /* enum ga_slot_state, futex word */
  uint32_t tid;              /* the owning thread (0: free) */
  uint32_t kind;             /* enum ga_hit_kind */
  uint32_t hook;             /* GA_HIT_CALL: index into hooks[] */
  uint64_t call;             /* GA_HIT_RETURN, GA_HIT_UNWOUND: the host's call id */
  uint64_t seq;              /* hits posted by this slot, for the host's checks */
  struct ga_regs regs;
  uint32_t reply;      /* enum ga_reply bits */
  uint32_t depth;      /* entries used in shadow[] (the thread's own; the host only reads) */
  uint64_t reply_call; /* GA_REPLY_WATCH: the id the return is reported with */
  uint64_t pad[6];
  struct ga_shadow shadow[GA_SHADOW_DEPTH];
};

/* ga_hook: one patched entry, written by the host before the entry's jmp is written. */
struct ga_hook {
  GA_ATOMIC(uint32_t) enabled; /* 0: calls pass through without the host (nobody waits) */
  uint32_t flags;
  uint64_t entry;    /* the function's address (before any endbr64) */
  uint64_t resume;   /* T+16: the relocated instructions */
  uint64_t reserved;
};

/* ga_counters: hits that did not reach the host, and why. */
struct ga_counters {
  GA_ATOMIC(uint64_t) posted;       /* hits handed to the host */
  GA_ATOMIC(uint64_t) reentrant;    /* on a thread already inside the agent */
  GA_ATOMIC(uint64_t) no_host;      /* no host attached, or the host went away */
  GA_ATOMIC(uint64_t) no_slot;      /* more threads than GA_MAX_SLOTS */
  GA_ATOMIC(uint64_t) shadow_full;  /* a watched return not watched: GA_SHADOW_DEPTH reached */
  GA_ATOMIC(uint64_t) disabled;     /* on a hook nobody waits on */
  GA_ATOMIC(uint64_t) lost_return;  /* a return whose shadow entry was not found */
  GA_ATOMIC(uint64_t) forked;       /* in a fork child */
};

/* ga_service: one request the host makes of the agent through ga_service_stub, which a thread
 * stopped by the debugger is made to call: map `size` bytes of rwx memory at `address` exactly
 * (MAP_FIXED_NOREPLACE), for trampolines within +-2 GB of the code they serve. */
struct ga_service {
  GA_ATOMIC(uint32_t) state; /* 0: none, 1: requested, 2: done */
  uint32_t pad;
  uint64_t address;
  uint64_t size;
  int64_t result; /* the mapped address, or -errno */
};

/* ga_header: the start of the shared memory. */
struct ga_header {
  uint64_t magic;   /* GA_MAGIC */
  uint32_t version; /* GA_VERSION */
  uint32_t agent_pid;
  GA_ATOMIC(uint32_t) host_pid;      /* 0: no host: every hit passes through */
  GA_ATOMIC(uint32_t) doorbell;      /* futex word: incremented at each post */
  GA_ATOMIC(uint32_t) host_sleeping; /* the host waits on doorbell: wake it */
  GA_ATOMIC(uint32_t) heartbeat;     /* the host counts it up every 10 ms: a waiting thread
                                        that sees it stand still for a second goes on */
  struct ga_counters counters;
  struct ga_service service;
  GA_ATOMIC(uint32_t) queue_head; /* next cell to write (threads) */
  GA_ATOMIC(uint32_t) queue_tail; /* next cell to read (host) */
  struct {
    GA_ATOMIC(uint32_t) seq; /* Vyukov bounded queue: cell i is free for position p when seq == p */
    uint32_t slot;
  } queue[GA_QUEUE_SIZE];
  struct ga_hook hooks[GA_MAX_HOOKS];
};

#define GA_SLOTS_OFFSET ((sizeof(struct ga_header) + 4095ull) & ~4095ull)
#define GA_SHM_SIZE (GA_SLOTS_OFFSET + 1ull * GA_MAX_SLOTS * sizeof(struct ga_slot))

/* ga_info: exported by the agent as `groutines_agent`, read by the host with the debugger. */
struct ga_info {
  uint64_t magic;   /* GA_MAGIC once the constructor is done */
  uint32_t version; /* GA_VERSION */
  int32_t fd;       /* the memfd, or -errno when the agent could not make it */
  uint64_t shm;     /* where the agent mapped it */
  uint64_t shm_size;
  uint64_t enter_stub;       /* ga_enter_stub */
  uint64_t return_stub;      /* ga_return_stub: the return address a watched call gets */
  uint64_t service_stub;     /* ga_service_stub: serves header.service, preserves registers */
  uint64_t stop_pad;         /* GA_REPLY_STOP resumes here, the target pushed */
  uint64_t park_pad;         /* a waiting thread calls this at GA_SLOT_PARK */
};

#ifdef __cplusplus
}
#endif
#endif
