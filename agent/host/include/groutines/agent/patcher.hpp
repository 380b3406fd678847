#pragma once
// patcher: the x86-64 entry patch of a hooked function, worked out by the debugger from the
// function's bytes (decoded and re-encoded with Zydis). The agent never decodes anything.
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace groutines::agent {

// PatchPlan is where a function's entry jump goes and what it displaces.
struct PatchPlan {
  std::uint64_t function = 0;  // the function's first byte
  std::uint64_t entry = 0;     // where the 5-byte jmp goes: function, or after its endbr64
  std::size_t window = 0;      // bytes displaced at entry: whole instructions, >= 5
  std::vector<std::uint8_t> original;  // those bytes, as the function holds them
};

// plan_patch() decides how to patch the function whose bytes (its whole body, as the symbol's
// size gives it) start at address function, or says why it cannot be patched safely: a body
// shorter than the patch, an instruction it cannot decode, a call, ret or other control
// transfer it cannot relocate in the window, a relative branch anywhere in the function whose
// target falls inside the window past its first byte. The reason is one lowercase phrase,
// e.g. "a branch at 0x401234 jumps into the first 5 bytes".
std::variant<PatchPlan, std::string> plan_patch(std::uint64_t function, const std::uint8_t* bytes,
                                                std::size_t size);

// Trampoline is the code of one hook, to be written at address `at` (see protocol.h for the
// layout): push the hook index, jump to the agent's enter stub, the stop pad, the displaced
// instructions relocated for their new address, and a jump back to entry + window.
struct Trampoline {
  std::vector<std::uint8_t> bytes;
  std::size_t stop_pad = 11;   // offset of the stop pad
  std::size_t resume = 16;     // offset of the relocated instructions
};

// kTrampolineMax is an upper bound on Trampoline::bytes.size(), for reserving space.
constexpr std::size_t kTrampolineMax = 128;

// build_trampoline() builds hook index's trampoline at address at for plan, whose enter stub
// is at enter_stub; or says why not (a rip-relative operand or a branch target out of reach
// of at, as a phrase like plan_patch()'s).
std::variant<Trampoline, std::string> build_trampoline(const PatchPlan& plan, std::uint64_t at,
                                                       std::uint32_t index,
                                                       std::uint64_t enter_stub);

// entry_jump() is the 5-byte `jmp rel32` written at from to reach to: E9, to - (from + 5).
// The caller checked reachable(from + 5, to).
std::vector<std::uint8_t> entry_jump(std::uint64_t from, std::uint64_t to);

// reachable() tells whether a rel32 in an instruction ending at `from` reaches `to`, that is
// whether to - from fits in an int32 (for a 5-byte jmp written at x: reachable(x + 5, to)).
bool reachable(std::uint64_t from, std::uint64_t to) noexcept;

// Trampolines live in pools of kPoolSize bytes the agent maps near the code (its service stub).
constexpr std::uint64_t kPoolSize = 1 << 20;
// Trampolines stay this far inside the +-2 GB a rel32 reaches, so that the relocated
// instructions' rip-relative targets in the same module stay in reach too.
constexpr std::uint64_t kReach = (std::uint64_t{1} << 31) - (std::uint64_t{64} << 20);

// distance() is |a - b|.
constexpr std::uint64_t distance(std::uint64_t a, std::uint64_t b) { return a > b ? a - b : b - a; }

// pool_address_near() is the 64 KiB-aligned address nearest to address, within a pool's reach
// of it, where kPoolSize bytes are unmapped (with a pool's size of room on either side), given
// the process's mapped regions as [start, end) pairs in any order; 0 if there is none.
std::uint64_t pool_address_near(std::vector<std::pair<std::uint64_t, std::uint64_t>> mapped,
                                 std::uint64_t address);

}  // namespace groutines::agent
