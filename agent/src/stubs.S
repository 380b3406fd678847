/* stubs.S: the agent's entry points that trampolines and replaced return addresses jump to.
 * Each saves the thread's registers as a struct ga_regs (protocol.h) on the stack, calls the C
 * handler with it, and resumes where the handler set regs.rip with regs.rsp and the other
 * registers as the handler left them. r11 carries the resume address: it is a scratch register
 * at a function's first instruction and after a `ret`, the only places these stubs run.
 * rflags are not restored (no caller may keep them across a call; DF stays clear). */

#define FRAME 272 /* sizeof(struct ga_regs) */
#define O_RSP 56
#define O_RIP 128
#define O_FLAGS 136
#define O_XMM 144

.macro SAVE_REGS
  sub $FRAME, %rsp
  mov %rax, 0(%rsp)
  mov %rbx, 8(%rsp)
  mov %rcx, 16(%rsp)
  mov %rdx, 24(%rsp)
  mov %rsi, 32(%rsp)
  mov %rdi, 40(%rsp)
  mov %rbp, 48(%rsp)
  mov %r8, 64(%rsp)
  mov %r9, 72(%rsp)
  mov %r10, 80(%rsp)
  mov %r11, 88(%rsp)
  mov %r12, 96(%rsp)
  mov %r13, 104(%rsp)
  mov %r14, 112(%rsp)
  mov %r15, 120(%rsp)
  movdqu %xmm0, O_XMM+0(%rsp)
  movdqu %xmm1, O_XMM+16(%rsp)
  movdqu %xmm2, O_XMM+32(%rsp)
  movdqu %xmm3, O_XMM+48(%rsp)
  movdqu %xmm4, O_XMM+64(%rsp)
  movdqu %xmm5, O_XMM+80(%rsp)
  movdqu %xmm6, O_XMM+96(%rsp)
  movdqu %xmm7, O_XMM+112(%rsp)
  mov FRAME(%rsp), %rax /* the rflags pushed first */
  mov %rax, O_FLAGS(%rsp)
.endm

.macro RESTORE_XMM
  movdqu O_XMM+0(%rsp), %xmm0
  movdqu O_XMM+16(%rsp), %xmm1
  movdqu O_XMM+32(%rsp), %xmm2
  movdqu O_XMM+48(%rsp), %xmm3
  movdqu O_XMM+64(%rsp), %xmm4
  movdqu O_XMM+80(%rsp), %xmm5
  movdqu O_XMM+96(%rsp), %xmm6
  movdqu O_XMM+112(%rsp), %xmm7
.endm

/* CALL_HANDLER calls handler(regs, esi) on a 16-byte aligned stack; rbx keeps the frame. */
.macro CALL_HANDLER handler
  mov %rsp, %rdi
  mov %rsp, %rbx
  and $-16, %rsp
  call \handler
  mov %rbx, %rsp
.endm

/* RESTORE_GPRS restores the general registers but rsp and r11. */
.macro RESTORE_GPRS
  mov 0(%rsp), %rax
  mov 8(%rsp), %rbx
  mov 16(%rsp), %rcx
  mov 24(%rsp), %rdx
  mov 32(%rsp), %rsi
  mov 40(%rsp), %rdi
  mov 48(%rsp), %rbp
  mov 64(%rsp), %r8
  mov 72(%rsp), %r9
  mov 80(%rsp), %r10
  mov 96(%rsp), %r12
  mov 104(%rsp), %r13
  mov 112(%rsp), %r14
  mov 120(%rsp), %r15
.endm

/* RESUME restores the registers but rsp and r11 and jumps to regs.rip with regs.rsp. */
.macro RESUME
  RESTORE_XMM
  RESTORE_GPRS
  mov O_RIP(%rsp), %r11
  mov O_RSP(%rsp), %rsp
  jmp *%r11
.endm

  .text

/* ga_enter_stub: a trampoline's `push imm32 index; jmp` lands here, at the hooked function's
 * entry: [rsp] is the hook index, [rsp+8] the caller's return address. */
  .globl ga_enter_stub
  .hidden ga_enter_stub
  .type ga_enter_stub, @function
  .p2align 4
ga_enter_stub:
  pushfq
  SAVE_REGS
  lea FRAME+16(%rsp), %rax /* the entry rsp: above rflags and the index */
  mov %rax, O_RSP(%rsp)
  mov FRAME+8(%rsp), %esi
  CALL_HANDLER ga_on_enter
  RESUME
  .size ga_enter_stub, .-ga_enter_stub

/* ga_return_stub: a watched call's `ret` lands here (its return address was replaced). */
  .globl ga_return_stub
  .hidden ga_return_stub
  .type ga_return_stub, @function
  .p2align 4
  nop /* a return address minus one, as unwinders look it up, stays inside this symbol */
ga_return_stub:
  push $0
  pushfq
  SAVE_REGS
  lea FRAME+16(%rsp), %rax /* rsp just after the `ret` */
  mov %rax, O_RSP(%rsp)
  xor %esi, %esi
  CALL_HANDLER ga_on_return
  RESUME
  .size ga_return_stub, .-ga_return_stub

/* ga_service_stub: the debugger makes a stopped thread call this (a return address pushed)
 * to have header.service done; every register, and rflags, is as it was. */
  .globl ga_service_stub
  .hidden ga_service_stub
  .type ga_service_stub, @function
  .p2align 4
ga_service_stub:
  pushfq
  SAVE_REGS
  CALL_HANDLER ga_on_service
  RESTORE_XMM
  RESTORE_GPRS
  mov 88(%rsp), %r11
  add $FRAME, %rsp
  popfq
  ret
  .size ga_service_stub, .-ga_service_stub

/* ga_stop_pad: GA_REPLY_STOP resumes here with the real destination pushed; the host's
 * breakpoint on it pops that into rip and stops. Without the breakpoint, the ret goes on. */
  .globl ga_stop_pad
  .hidden ga_stop_pad
  .type ga_stop_pad, @function
  .p2align 4
ga_stop_pad:
  nop
  ret
  .size ga_stop_pad, .-ga_stop_pad

/* ga_park_pad: a thread waiting for the host calls it when the host asks (GA_SLOT_PARK); the
 * host's breakpoint on it stops the thread there, where the debugger can work on it. */
  .globl ga_park_pad
  .hidden ga_park_pad
  .type ga_park_pad, @function
  .p2align 4
ga_park_pad:
  nop
  ret
  .size ga_park_pad, .-ga_park_pad

  .section .note.GNU-stack, "", @progbits
