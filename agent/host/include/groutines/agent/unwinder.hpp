#pragma once
// Unwinder: the call stack of a target thread that waits inside the agent (it is not stopped
// by the debugger, so the debugger's own unwinder cannot be asked), from the registers the
// agent captured and the target's memory read with process_vm_readv, by the modules' CFI
// (.eh_frame, .debug_frame) through elfutils' libdw. No debugger involved.
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace groutines::agent {

// UnwindRegisters are a thread's registers at the point to unwind from.
struct UnwindRegisters {
  std::uint64_t rax = 0, rdx = 0, rcx = 0, rbx = 0, rsi = 0, rdi = 0, rbp = 0, rsp = 0;
  std::uint64_t r8 = 0, r9 = 0, r10 = 0, r11 = 0, r12 = 0, r13 = 0, r14 = 0, r15 = 0;
  std::uint64_t rip = 0;
};

// Symbol names the code at one pc, as far as the module's symbols and DWARF tell.
struct Symbol {
  std::string module;     // the module's file name, without its directory ("" if none)
  std::string function;   // demangled ("" if no symbol covers the pc)
  std::uint64_t start = 0;  // the function's first byte (0 if unknown)
  std::uint64_t size = 0;   // its ELF symbol's size (0 if unknown)
  std::string file;       // the source file's name, without its directory ("" if unknown)
  unsigned line = 0;
};

class Unwinder {
 public:
  // Unwinder() unwinds threads of process pid (reads /proc/pid/maps at first use).
  explicit Unwinder(pid_t pid);
  ~Unwinder();
  Unwinder(const Unwinder&) = delete;
  Unwinder& operator=(const Unwinder&) = delete;

  // unwind() is the pcs of the thread's frames, innermost first, at most max_frames: frame 0
  // is regs.rip; the others are return addresses as the stack holds them (not minus one).
  // It stops quietly where the CFI ends or memory cannot be read. Not thread-safe: one caller.
  // overlay replaces words of the target's memory as the unwinder reads them: (address,
  // value) pairs, the return addresses the agent replaced on the stack with its return stub,
  // each with the original it stands for.
  std::vector<std::uint64_t> unwind(
      const UnwindRegisters& regs, std::size_t max_frames,
      const std::vector<std::pair<std::uint64_t, std::uint64_t>>& overlay = {});

  // symbolize() names the code at pc from the modules the unwinder knows (reread once when
  // pc is in none of them). For a return address, the function and line are looked up at pc
  // - 1 (the call instruction), as debuggers show them. Not thread-safe, as unwind().
  Symbol symbolize(std::uint64_t pc, bool return_address);

  // modules_changed() forgets the module list (a library was loaded or unloaded); unwind()
  // also rereads it by itself when a pc falls outside every known module.
  void modules_changed();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace groutines::agent
