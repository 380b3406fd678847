#include "groutines/agent/patcher.hpp"

#include <Zydis/Zydis.h>

#include <algorithm>
#include <cassert>
#include <cstdio>
#include <iterator>
#include <limits>
#include <optional>
#include <utility>

namespace groutines::agent {

namespace {

constexpr std::size_t kPatch = 5;          // the entry's `jmp rel32`
constexpr std::uint8_t kEndbr64[] = {0xF3, 0x0F, 0x1E, 0xFA};
constexpr std::size_t kStopPad = 11;       // Trampoline::stop_pad
constexpr std::size_t kResume = 16;        // Trampoline::resume

// Insn is one decoded instruction with its visible and hidden operands.
struct Insn {
  ZydisDecodedInstruction info;
  ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
};

// decode() decodes the instruction in bytes[0, size) in 64-bit mode.
ZyanStatus decode(const std::uint8_t* bytes, std::size_t size, Insn& out) {
  ZydisDecoder decoder;
  ZydisDecoderInit(&decoder, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
  return ZydisDecoderDecodeFull(&decoder, bytes, size, &out.info, out.ops);
}

// hex() is address as the phrases show it: 0x401234.
std::string hex(std::uint64_t address) {
  char text[24];
  std::snprintf(text, sizeof text, "0x%llx", static_cast<unsigned long long>(address));
  return text;
}

// relative_target() is where the relative immediate of insn at address leads (a jmp, jcc,
// call, loop, jrcxz or xbegin), if it has one.
std::optional<std::uint64_t> relative_target(const Insn& insn, std::uint64_t address) {
  for (std::uint8_t i = 0; i < insn.info.operand_count_visible; ++i) {
    const ZydisDecodedOperand& op = insn.ops[i];
    std::uint64_t target = 0;
    if (op.type == ZYDIS_OPERAND_TYPE_IMMEDIATE && op.imm.is_relative &&
        ZYAN_SUCCESS(ZydisCalcAbsoluteAddress(&insn.info, &op, address, &target)))
      return target;
  }
  return std::nullopt;
}

// unmovable() names the kind of control transfer insn is if it cannot run from a trampoline
// (only relative jmp and jcc can: they are re-encoded for their new address), or is null.
const char* unmovable(const Insn& insn) {
  switch (insn.info.meta.category) {
    case ZYDIS_CATEGORY_CALL: return "a call";
    case ZYDIS_CATEGORY_RET: return "a return";
    case ZYDIS_CATEGORY_INTERRUPT: return "an interrupt";
    case ZYDIS_CATEGORY_SYSCALL:
    case ZYDIS_CATEGORY_SYSRET: return "a system call";
    case ZYDIS_CATEGORY_COND_BR:
    case ZYDIS_CATEGORY_UNCOND_BR: break;
    default: return nullptr;
  }
  switch (insn.info.mnemonic) {
    case ZYDIS_MNEMONIC_LOOP:
    case ZYDIS_MNEMONIC_LOOPE:
    case ZYDIS_MNEMONIC_LOOPNE: return "a loop";
    case ZYDIS_MNEMONIC_JCXZ:
    case ZYDIS_MNEMONIC_JECXZ:
    case ZYDIS_MNEMONIC_JRCXZ: return "a jrcxz";
    case ZYDIS_MNEMONIC_XBEGIN: return "an xbegin";
    default: break;
  }
  const ZydisDecodedOperand& op = insn.ops[0];
  const bool relative = op.type == ZYDIS_OPERAND_TYPE_IMMEDIATE && op.imm.is_relative;
  return relative ? nullptr : "an indirect jump";
}

// relocate() re-encodes insn, decoded at from, to run at to with the same effect, into out
// (ZYDIS_MAX_INSTRUCTION_LENGTH bytes): a rip-relative operand keeps its absolute address, a
// relative jmp or jcc its absolute target, as a rel32. It is the encoded length, or why not.
std::variant<std::size_t, std::string> relocate(const Insn& insn, std::uint64_t from,
                                                std::uint64_t to, std::uint8_t* out) {
  ZydisEncoderRequest request;
  if (ZYAN_FAILED(ZydisEncoderDecodedInstructionToEncoderRequest(
          &insn.info, insn.ops, insn.info.operand_count_visible, &request)))
    return "cannot re-encode the instruction at " + hex(from);
  // The absolute encoder wants absolute addresses where the decoder gave relative ones.
  std::optional<std::uint64_t> rip_target, branch_target;
  for (std::uint8_t i = 0; i < request.operand_count; ++i) {
    const ZydisDecodedOperand& op = insn.ops[i];
    std::uint64_t target = 0;
    if (op.type == ZYDIS_OPERAND_TYPE_MEMORY && op.mem.base == ZYDIS_REGISTER_RIP &&
        ZYAN_SUCCESS(ZydisCalcAbsoluteAddress(&insn.info, &op, from, &target))) {
      request.operands[i].mem.displacement = static_cast<ZyanI64>(target);
      rip_target = target;
    } else if (op.type == ZYDIS_OPERAND_TYPE_IMMEDIATE && op.imm.is_relative &&
               ZYAN_SUCCESS(ZydisCalcAbsoluteAddress(&insn.info, &op, from, &target))) {
      request.operands[i].imm.u = target;
      // Without this the encoder keeps a rel8, which rarely reaches from a trampoline.
      request.branch_type = ZYDIS_BRANCH_TYPE_NEAR;
      request.branch_width = ZYDIS_BRANCH_WIDTH_32;
      branch_target = target;
    }
  }
  ZyanUSize length = ZYDIS_MAX_INSTRUCTION_LENGTH;
  if (ZYAN_SUCCESS(ZydisEncoderEncodeInstructionAbsolute(&request, out, &length, to)))
    return static_cast<std::size_t>(length);
  // The encoder fails when a displacement does not fit in 32 bits: say which one.
  if (rip_target && !reachable(to, *rip_target))
    return "the rip-relative operand at " + hex(from) + " is out of reach of " + hex(to);
  if (branch_target && !reachable(to, *branch_target))
    return "the jump at " + hex(from) + " cannot reach its target from " + hex(to);
  return "cannot re-encode the instruction at " + hex(from);
}

void put8(std::vector<std::uint8_t>& bytes, std::uint8_t value) { bytes.push_back(value); }

// put() appends value's size bytes of value, little-endian.
template <typename T>
void put(std::vector<std::uint8_t>& bytes, T value) {
  for (std::size_t i = 0; i < sizeof(T); ++i)
    bytes.push_back(static_cast<std::uint8_t>(static_cast<std::uint64_t>(value) >> (8 * i)));
}

// poke32() overwrites the 4 bytes at offset with value, little-endian.
void poke32(std::vector<std::uint8_t>& bytes, std::size_t offset, std::uint32_t value) {
  for (std::size_t i = 0; i < 4; ++i)
    bytes[offset + i] = static_cast<std::uint8_t>(value >> (8 * i));
}

}  // namespace

std::variant<PatchPlan, std::string> plan_patch(std::uint64_t function, const std::uint8_t* bytes,
                                                std::size_t size) {
  const bool endbr = size >= sizeof kEndbr64 &&
                     std::equal(std::begin(kEndbr64), std::end(kEndbr64), bytes);
  const std::size_t skip = endbr ? sizeof kEndbr64 : 0;
  if (size < skip + kPatch) return "the function is shorter than the 5-byte patch";

  PatchPlan plan;
  plan.function = function;
  plan.entry = function + skip;
  // The window: whole instructions from entry covering the patch, each one movable.
  std::vector<std::pair<std::uint64_t, std::uint64_t>> window_branches;  // (at, target)
  while (plan.window < kPatch) {
    const std::size_t offset = skip + plan.window;
    const std::uint64_t address = function + offset;
    Insn insn;
    const ZyanStatus status = decode(bytes + offset, size - offset, insn);
    if (status == ZYDIS_STATUS_NO_MORE_DATA)
      return "the function ends inside the instruction at " + hex(address);
    if (ZYAN_FAILED(status)) return "cannot decode the instruction at " + hex(address);
    if (const char* kind = unmovable(insn))
      return std::string(kind) + " in the first 5 bytes cannot be moved";
    if (auto target = relative_target(insn, address))
      window_branches.emplace_back(address, *target);
    std::uint8_t scratch[ZYDIS_MAX_INSTRUCTION_LENGTH];
    auto relocated = relocate(insn, address, address, scratch);  // can it be re-encoded at all
    if (auto* error = std::get_if<std::string>(&relocated)) return *error;
    plan.window += insn.info.length;
  }
  const std::uint64_t end = plan.entry + plan.window;
  const std::string displaced = "the first " + std::to_string(plan.window) + " bytes";
  for (const auto& [at, target] : window_branches)
    if (target >= plan.entry && target < end)
      return "the jump at " + hex(at) + " lands inside " + displaced;

  // No branch elsewhere may land past entry inside the window, where the jmp's tail will be.
  // A linear sweep; it stops quietly at bytes that do not decode (padding, data).
  for (std::size_t offset = 0; offset < size;) {
    Insn insn;
    if (ZYAN_FAILED(decode(bytes + offset, size - offset, insn))) break;
    const std::uint64_t address = function + offset;
    const auto target = relative_target(insn, address);
    if (target && *target > plan.entry && *target < end)
      return "a branch at " + hex(address) + " jumps into " + displaced;
    offset += insn.info.length;
  }

  plan.original.assign(bytes + skip, bytes + skip + plan.window);
  return plan;
}

std::variant<Trampoline, std::string> build_trampoline(const PatchPlan& plan, std::uint64_t at,
                                                       std::uint32_t index,
                                                       std::uint64_t enter_stub) {
  assert(plan.original.size() == plan.window && plan.window >= kPatch);
  Trampoline t;
  std::vector<std::uint8_t>& b = t.bytes;
  b.reserve(kTrampolineMax);
  put8(b, 0x68);  // T+0: push imm32 index
  put(b, index);
  put8(b, 0xFF);  // T+5: jmp qword [rip+disp32], disp32 filled in when the slot is placed
  put8(b, 0x25);
  const std::size_t slot_disp = b.size();
  put(b, std::uint32_t{0});
  assert(b.size() == kStopPad);
  put8(b, 0xE9);  // T+11: the stop pad, jmp rel32 to T+16
  put(b, std::uint32_t{0});
  assert(b.size() == kResume);
  t.stop_pad = kStopPad;
  t.resume = kResume;

  // T+16: the window, relocated instruction by instruction.
  for (std::size_t offset = 0; offset < plan.window;) {
    const std::uint64_t from = plan.entry + offset;
    Insn insn;
    if (ZYAN_FAILED(decode(plan.original.data() + offset, plan.window - offset, insn)))
      return "cannot decode the instruction at " + hex(from);
    std::uint8_t code[ZYDIS_MAX_INSTRUCTION_LENGTH];
    auto relocated = relocate(insn, from, at + b.size(), code);
    if (auto* error = std::get_if<std::string>(&relocated)) return *error;
    b.insert(b.end(), code, code + std::get<std::size_t>(relocated));
    offset += insn.info.length;
  }

  // The jump back to the rest of the function: rel32 if it reaches, else through an address.
  const std::uint64_t back = plan.entry + plan.window;
  const std::uint64_t here = at + b.size();
  if (reachable(here + kPatch, back)) {
    const std::vector<std::uint8_t> jump = entry_jump(here, back);
    b.insert(b.end(), jump.begin(), jump.end());
  } else {
    put8(b, 0xFF);  // jmp qword [rip+0], the address right after it
    put8(b, 0x25);
    put(b, std::uint32_t{0});
    put(b, back);
  }

  // The enter stub's address, read by the jmp at T+5 (which ends at T+11).
  poke32(b, slot_disp, static_cast<std::uint32_t>(b.size() - kStopPad));
  put(b, enter_stub);
  if (b.size() > kTrampolineMax)
    return "the trampoline would be longer than " + std::to_string(kTrampolineMax) + " bytes";
  return t;
}

std::vector<std::uint8_t> entry_jump(std::uint64_t from, std::uint64_t to) {
  assert(reachable(from + kPatch, to));
  std::vector<std::uint8_t> jump{0xE9};
  put(jump, static_cast<std::uint32_t>(to - (from + kPatch)));  // two's complement rel32
  return jump;
}

bool reachable(std::uint64_t from, std::uint64_t to) noexcept {
  const auto delta = static_cast<std::int64_t>(to - from);
  return delta >= std::numeric_limits<std::int32_t>::min() &&
         delta <= std::numeric_limits<std::int32_t>::max();
}

std::uint64_t pool_address_near(std::vector<std::pair<std::uint64_t, std::uint64_t>> mapped,
                                 std::uint64_t address) {
  std::sort(mapped.begin(), mapped.end());
  constexpr std::uint64_t kAlign = 0xffff;
  std::uint64_t best = 0;
  std::uint64_t lo = 0x10000;  // below: mmap_min_addr
  for (std::size_t i = 0; i <= mapped.size(); ++i) {
    std::uint64_t hi = i < mapped.size() ? mapped[i].first : 0x7ffffffff000;
    std::uint64_t first = (lo + kPoolSize + kAlign) & ~kAlign;
    std::uint64_t last = hi > 2 * kPoolSize ? (hi - 2 * kPoolSize) & ~kAlign : 0;
    if (first <= last) {
      std::uint64_t c = address < first ? first : address > last ? last : address & ~kAlign;
      if (distance(c, address) < kReach - kPoolSize &&
          (!best || distance(c, address) < distance(best, address)))
        best = c;
    }
    if (i < mapped.size()) lo = std::max(lo, mapped[i].second);
  }
  return best;
}

}  // namespace groutines::agent
