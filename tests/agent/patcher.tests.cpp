// The patcher's decisions on hand-assembled function bodies, and its trampolines decoded back
// with Zydis: every relocated instruction must still reach the absolute address it reached.
#include <Zydis/Zydis.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "groutines/agent/patcher.hpp"

using namespace groutines::agent;
using Bytes = std::vector<std::uint8_t>;

namespace {

constexpr std::uint64_t kFunction = 0x401000;
constexpr std::uint64_t kNear = kFunction + 0x100000;    // a trampoline 1 MB after the code
constexpr std::uint64_t kFar = kFunction + 0xC0000000;   // 3 GB after: out of rel32 reach
constexpr std::uint64_t kStub = 0x7f1234560000;          // the agent's ga_enter_stub

// The prologue of a malloc-like function, used by several tests.
const Bytes kPrologue = {
    0x41, 0x54,              // 0: push r12
    0x55,                    // 2: push rbp
    0x53,                    // 3: push rbx
    0x48, 0x83, 0xEC, 0x10,  // 4: sub rsp, 0x10        (the window ends here: 8 bytes)
    0x48, 0x89, 0xFB,        // 8: mov rbx, rdi
    0x48, 0x83, 0xC4, 0x10,  // b: add rsp, 0x10
    0x5B,                    // f: pop rbx
    0x5D,                    // 10: pop rbp
    0x41, 0x5C,              // 11: pop r12
    0xC3,                    // 13: ret
};

// Insn is an instruction decoded back from the bytes under test.
struct Insn {
  ZydisDecodedInstruction info;
  ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
  std::uint64_t address;
};

// decode_at() decodes the instruction at offset of bytes, which start at address base.
Insn decode_at(const Bytes& bytes, std::size_t offset, std::uint64_t base) {
  ZydisDecoder decoder;
  ZydisDecoderInit(&decoder, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
  Insn insn{};
  insn.address = base + offset;
  REQUIRE(offset < bytes.size());
  REQUIRE(ZYAN_SUCCESS(ZydisDecoderDecodeFull(&decoder, bytes.data() + offset,
                                              bytes.size() - offset, &insn.info, insn.ops)));
  return insn;
}

// absolute() is where operand i of insn points: a branch target or a memory operand's address.
std::uint64_t absolute(const Insn& insn, std::size_t i) {
  std::uint64_t address = 0;
  REQUIRE(ZYAN_SUCCESS(ZydisCalcAbsoluteAddress(&insn.info, &insn.ops[i], insn.address, &address)));
  return address;
}

// word_at() is the little-endian 8-byte word at offset of bytes.
std::uint64_t word_at(const Bytes& bytes, std::size_t offset) {
  REQUIRE(offset + 8 <= bytes.size());
  std::uint64_t word = 0;
  std::memcpy(&word, bytes.data() + offset, 8);
  return word;
}

PatchPlan plan(const Bytes& body, std::uint64_t function = kFunction) {
  auto result = plan_patch(function, body.data(), body.size());
  if (const auto* error = std::get_if<std::string>(&result)) FAIL("refused: " << *error);
  return std::get<PatchPlan>(result);
}

std::string refusal(const Bytes& body, std::uint64_t function = kFunction) {
  auto result = plan_patch(function, body.data(), body.size());
  REQUIRE(std::holds_alternative<std::string>(result));
  return std::get<std::string>(result);
}

Trampoline trampoline(const PatchPlan& p, std::uint64_t at, std::uint32_t index = 7) {
  auto result = build_trampoline(p, at, index, kStub);
  if (const auto* error = std::get_if<std::string>(&result)) FAIL("refused: " << *error);
  const Trampoline t = std::get<Trampoline>(result);
  REQUIRE(t.bytes.size() <= kTrampolineMax);
  return t;
}

std::string trampoline_refusal(const PatchPlan& p, std::uint64_t at) {
  auto result = build_trampoline(p, at, 7, kStub);
  REQUIRE(std::holds_alternative<std::string>(result));
  return std::get<std::string>(result);
}

// check_jump_back() checks that the trampoline at `at` jumps back to entry + window at offset.
void check_jump_back(const Trampoline& t, std::uint64_t at, std::size_t offset,
                     const PatchPlan& p) {
  const Insn back = decode_at(t.bytes, offset, at);
  CHECK(back.info.mnemonic == ZYDIS_MNEMONIC_JMP);
  CHECK(back.info.length == 5);
  CHECK(absolute(back, 0) == p.entry + p.window);
  CHECK(offset + 5 + 8 == t.bytes.size());  // then only the enter stub's slot
}

}  // namespace

TEST_CASE("a malloc-like prologue is displaced as whole instructions covering the 5-byte jmp",
          "[agent][patcher]") {
  const PatchPlan p = plan(kPrologue);
  CHECK(p.function == kFunction);
  CHECK(p.entry == kFunction);
  CHECK(p.window == 8);  // push r12; push rbp; push rbx; sub rsp, 0x10
  CHECK(p.original == Bytes(kPrologue.begin(), kPrologue.begin() + 8));

  // Position-independent instructions are relocated unchanged.
  const Trampoline t = trampoline(p, kNear);
  CHECK(Bytes(t.bytes.begin() + 16, t.bytes.begin() + 24) == p.original);
  check_jump_back(t, kNear, 24, p);
}

TEST_CASE("after an endbr64 the patch goes at function + 4 and the endbr64 stays in place",
          "[agent][patcher]") {
  const Bytes body = {
      0xF3, 0x0F, 0x1E, 0xFA,  // 0: endbr64
      0x55,                    // 4: push rbp
      0x48, 0x89, 0xE5,        // 5: mov rbp, rsp
      0x41, 0x57,              // 8: push r15            (the window ends here: 6 bytes)
      0x41, 0x5F,              // a: pop r15
      0x5D,                    // c: pop rbp
      0xC3,                    // d: ret
  };
  const PatchPlan p = plan(body);
  CHECK(p.function == kFunction);
  CHECK(p.entry == kFunction + 4);
  CHECK(p.window == 6);
  CHECK(p.original == Bytes{0x55, 0x48, 0x89, 0xE5, 0x41, 0x57});
  check_jump_back(trampoline(p, kNear), kNear, 22, p);
}

TEST_CASE("a rip-relative operand in the window keeps its absolute target 1 MB away",
          "[agent][patcher]") {
  Bytes body;
  std::uint64_t target = 0;
  std::size_t length = 0;
  SECTION("a load") {
    body = {
        0x48, 0x8B, 0x05, 0x00, 0x10, 0x00, 0x00,  // 0: mov rax, [rip+0x1000]
        0x48, 0x85, 0xC0,                          // 7: test rax, rax
        0xC3,                                      // a: ret
    };
    target = kFunction + 7 + 0x1000;
    length = 7;
  }
  SECTION("a compare with an immediate after the displacement") {
    body = {
        0x48, 0x83, 0x3D, 0x00, 0x20, 0x00, 0x00, 0x00,  // 0: cmp qword [rip+0x2000], 0
        0x0F, 0x94, 0xC0,                                // 8: sete al
        0xC3,                                            // b: ret
    };
    target = kFunction + 8 + 0x2000;
    length = 8;
  }
  const PatchPlan p = plan(body);
  CHECK(p.window == length);
  const Trampoline t = trampoline(p, kNear);
  const Insn moved = decode_at(t.bytes, t.resume, kNear);
  const std::size_t memory = moved.ops[0].type == ZYDIS_OPERAND_TYPE_MEMORY ? 0 : 1;
  REQUIRE(moved.ops[memory].type == ZYDIS_OPERAND_TYPE_MEMORY);
  CHECK(moved.ops[memory].mem.base == ZYDIS_REGISTER_RIP);
  CHECK(absolute(moved, memory) == target);
  CHECK(moved.info.length == length);
  check_jump_back(t, kNear, t.resume + length, p);
}

TEST_CASE("free's test and jz in the window are relocated with the jz reaching its old target",
          "[agent][patcher]") {
  const Bytes body = {
      0x48, 0x85, 0xFF,                    // 0: test rdi, rdi
      0x0F, 0x84, 0xF3, 0x00, 0x00, 0x00,  // 3: jz 0x4010fc          (the window ends here)
      0x48, 0x89, 0xF8,                    // 9: mov rax, rdi
      0xC3,                                // c: ret
  };
  const PatchPlan p = plan(body);
  CHECK(p.window == 9);
  const Trampoline t = trampoline(p, kNear);
  CHECK(Bytes(t.bytes.begin() + 16, t.bytes.begin() + 19) == Bytes{0x48, 0x85, 0xFF});
  const Insn jz = decode_at(t.bytes, 19, kNear);
  CHECK(jz.info.mnemonic == ZYDIS_MNEMONIC_JZ);
  CHECK(absolute(jz, 0) == kFunction + 0xFC);
  check_jump_back(t, kNear, 19 + jz.info.length, p);
}

TEST_CASE("a jb rel8 in the window is widened to a jb rel32 in a trampoline 1 MB away",
          "[agent][patcher]") {
  const Bytes body = {
      0x48, 0x39, 0xF7,  // 0: cmp rdi, rsi
      0x72, 0x10,        // 3: jb 0x401015             (the window ends here: 5 bytes)
      0x48, 0x89, 0xF8,  // 5: mov rax, rdi
      0xC3,              // 8: ret
  };
  const PatchPlan p = plan(body);
  CHECK(p.window == 5);
  const Trampoline t = trampoline(p, kNear);
  const Insn jb = decode_at(t.bytes, 19, kNear);
  CHECK(jb.info.mnemonic == ZYDIS_MNEMONIC_JB);
  CHECK(jb.info.length == 6);  // 0F 82 rel32
  CHECK(jb.info.raw.imm[0].size == 32);
  CHECK(absolute(jb, 0) == kFunction + 0x15);
  check_jump_back(t, kNear, 25, p);
}

TEST_CASE("a branch later in the function into the window past its first byte is refused",
          "[agent][patcher]") {
  Bytes body(kPrologue.begin(), kPrologue.begin() + 8);  // the window: 8 bytes
  body.insert(body.end(), {0x48, 0x85, 0xFF});           // 8: test rdi, rdi
  SECTION("a jnz back to push rbp") {
    body.insert(body.end(), {0x75, 0xF5});  // b: jnz 0x401002
    CHECK(refusal(body) == "a branch at 0x40100b jumps into the first 8 bytes");
  }
  SECTION("a call of the last byte of the window") {
    body.insert(body.end(), {0xE8, 0xF7, 0xFF, 0xFF, 0xFF});  // b: call 0x401007
    CHECK(refusal(body) == "a branch at 0x40100b jumps into the first 8 bytes");
  }
  SECTION("a jnz back to the entry itself is fine: the jmp starts there") {
    body.insert(body.end(), {0x75, 0xF3});  // b: jnz 0x401000
    CHECK(plan(body).window == 8);
  }
  SECTION("a jnz to the first byte after the window is fine") {
    body.insert(body.end(), {0x75, 0xFB});  // b: jnz 0x401008
    CHECK(plan(body).window == 8);
  }
}

TEST_CASE("with an endbr64, branches to the function or to its entry are fine, not past them",
          "[agent][patcher]") {
  Bytes body = {
      0xF3, 0x0F, 0x1E, 0xFA,  // 0: endbr64
      0x55,                    // 4: push rbp
      0x48, 0x89, 0xE5,        // 5: mov rbp, rsp
      0x41, 0x57,              // 8: push r15           (the window: 4..a)
  };
  SECTION("to the endbr64") {
    body.insert(body.end(), {0x75, 0xF4});  // a: jnz 0x401000
    CHECK(plan(body).entry == kFunction + 4);
  }
  SECTION("to the entry") {
    body.insert(body.end(), {0x75, 0xF8});  // a: jnz 0x401004
    CHECK(plan(body).entry == kFunction + 4);
  }
  SECTION("to mov rbp, rsp") {
    body.insert(body.end(), {0x75, 0xF9});  // a: jnz 0x401005
    CHECK(refusal(body) == "a branch at 0x40100a jumps into the first 6 bytes");
  }
}

TEST_CASE("a control transfer in the window that cannot be relocated is refused",
          "[agent][patcher]") {
  SECTION("a call") {
    const Bytes body = {
        0x55,                          // 0: push rbp
        0xE8, 0x00, 0x00, 0x00, 0x00,  // 1: call 0x401006
        0x5D, 0xC3,                    // 6: pop rbp; ret
    };
    CHECK(refusal(body) == "a call in the first 5 bytes cannot be moved");
  }
  SECTION("a ret") {
    CHECK(refusal({0xC3, 0xCC, 0xCC, 0xCC, 0xCC}) ==  // ret; int3 padding
          "a return in the first 5 bytes cannot be moved");
  }
  SECTION("an int3") {
    CHECK(refusal({0xCC, 0x90, 0x90, 0x90, 0x90}) ==  // int3; nops
          "an interrupt in the first 5 bytes cannot be moved");
  }
  SECTION("a syscall") {
    CHECK(refusal({0x0F, 0x05, 0x90, 0x90, 0x90}) ==  // syscall; nops
          "a system call in the first 5 bytes cannot be moved");
  }
  SECTION("a jrcxz") {
    CHECK(refusal({0xE3, 0x10, 0x90, 0x90, 0x90}) ==  // jrcxz +0x10; nops
          "a jrcxz in the first 5 bytes cannot be moved");
  }
  SECTION("a loop") {
    CHECK(refusal({0xE2, 0x10, 0x90, 0x90, 0x90}) ==  // loop +0x10; nops
          "a loop in the first 5 bytes cannot be moved");
  }
  SECTION("a jmp through memory") {
    CHECK(refusal({0xFF, 0x25, 0x00, 0x10, 0x00, 0x00}) ==  // jmp qword [rip+0x1000]
          "an indirect jump in the first 5 bytes cannot be moved");
  }
  SECTION("a jmp through a register") {
    CHECK(refusal({0xFF, 0xE0, 0x90, 0x90, 0x90}) ==  // jmp rax; nops
          "an indirect jump in the first 5 bytes cannot be moved");
  }
  SECTION("a jmp to a byte of the window") {
    CHECK(refusal({0xEB, 0x01, 0x90, 0x90, 0x90, 0xC3}) ==  // jmp 0x401003; nops; ret
          "the jump at 0x401000 lands inside the first 5 bytes");
  }
}

TEST_CASE("a function shorter than the patch or ending inside its window is refused",
          "[agent][patcher]") {
  SECTION("3 bytes") {
    CHECK(refusal({0x55, 0x5D, 0xC3}) ==  // push rbp; pop rbp; ret
          "the function is shorter than the 5-byte patch");
  }
  SECTION("an endbr64 and 4 bytes") {
    CHECK(refusal({0xF3, 0x0F, 0x1E, 0xFA, 0x55, 0x5D, 0x31, 0xC0}) ==  // endbr64; push rbp;
          "the function is shorter than the 5-byte patch");                // pop rbp; xor eax, eax
  }
  SECTION("an instruction cut by the end of the body") {
    const Bytes body = {
        0x55,              // 0: push rbp
        0x48, 0x89, 0xE5,  // 1: mov rbp, rsp
        0x48, 0x83,        // 4: sub rsp, ... (cut)
    };
    CHECK(refusal(body) == "the function ends inside the instruction at 0x401004");
  }
}

TEST_CASE("an instruction in the window that does not decode is refused", "[agent][patcher]") {
  CHECK(refusal({0x55, 0x06, 0x90, 0x90, 0x90}) ==  // push rbp; (push es: invalid in 64-bit)
        "cannot decode the instruction at 0x401001");
}

TEST_CASE("bytes that do not decode after the window end the sweep without a refusal",
          "[agent][patcher]") {
  Bytes body = kPrologue;
  body.insert(body.end(), {0x06, 0x06,     // data: invalid in 64-bit mode
                           0x75, 0xEA});   // jnz 0x401002, not reached by the sweep
  CHECK(plan(body).window == 8);
}

TEST_CASE("a target out of rel32 reach of a trampoline 3 GB away is refused", "[agent][patcher]") {
  SECTION("a rip-relative load") {
    const Bytes body = {
        0x48, 0x8B, 0x05, 0x00, 0x10, 0x00, 0x00,  // 0: mov rax, [rip+0x1000]
        0xC3,                                      // 7: ret
    };
    CHECK(trampoline_refusal(plan(body), kFar) ==
          "the rip-relative operand at 0x401000 is out of reach of 0xc0401010");
  }
  SECTION("a jz") {
    const Bytes body = {
        0x48, 0x85, 0xFF,                    // 0: test rdi, rdi
        0x0F, 0x84, 0xF3, 0x00, 0x00, 0x00,  // 3: jz 0x4010fc
        0xC3,                                // 9: ret
    };
    CHECK(trampoline_refusal(plan(body), kFar) ==
          "the jump at 0x401003 cannot reach its target from 0xc0401013");
  }
}

TEST_CASE("a trampoline out of rel32 reach of the function jumps back through an address",
          "[agent][patcher]") {
  const PatchPlan p = plan(kPrologue);
  const Trampoline t = trampoline(p, kFar);
  const Insn back = decode_at(t.bytes, 24, kFar);  // after the 8 bytes moved unchanged
  CHECK(back.info.mnemonic == ZYDIS_MNEMONIC_JMP);
  REQUIRE(back.ops[0].type == ZYDIS_OPERAND_TYPE_MEMORY);
  CHECK(absolute(back, 0) == kFar + 24 + 6);  // [rip+0]: the word right after the jmp
  CHECK(word_at(t.bytes, 30) == kFunction + 8);
  CHECK(t.bytes.size() == 30 + 8 + 8);  // then the enter stub's slot
}

TEST_CASE("a trampoline pushes its index, jumps to the enter stub, and has its stop pad at 11",
          "[agent][patcher]") {
  const PatchPlan p = plan(kPrologue);
  const Trampoline t = trampoline(p, kNear, 42);
  CHECK(t.stop_pad == 11);
  CHECK(t.resume == 16);

  const Insn push = decode_at(t.bytes, 0, kNear);  // T+0: push imm32 42
  CHECK(push.info.mnemonic == ZYDIS_MNEMONIC_PUSH);
  CHECK(push.info.length == 5);
  CHECK(push.ops[0].type == ZYDIS_OPERAND_TYPE_IMMEDIATE);
  CHECK(push.ops[0].imm.value.u == 42);

  const Insn enter = decode_at(t.bytes, 5, kNear);  // T+5: jmp qword [rip+disp32]
  CHECK(enter.info.mnemonic == ZYDIS_MNEMONIC_JMP);
  CHECK(enter.info.length == 6);
  REQUIRE(enter.ops[0].type == ZYDIS_OPERAND_TYPE_MEMORY);
  const std::uint64_t slot = absolute(enter, 0);
  CHECK(slot == kNear + t.bytes.size() - 8);  // the last 8 bytes
  CHECK(word_at(t.bytes, slot - kNear) == kStub);

  const Insn stop = decode_at(t.bytes, t.stop_pad, kNear);  // T+11: jmp T+16
  CHECK(stop.info.mnemonic == ZYDIS_MNEMONIC_JMP);
  CHECK(stop.info.length == 5);
  CHECK(absolute(stop, 0) == kNear + t.resume);

  check_jump_back(t, kNear, t.resume + p.window, p);
}

TEST_CASE("entry_jump is a jmp rel32 reaching its target, and reachable is the int32 range "
          "from the end of the instruction",
          "[agent][patcher]") {
  CHECK(entry_jump(kFunction, kNear) == Bytes{0xE9, 0xFB, 0xFF, 0x0F, 0x00});
  const Bytes back = entry_jump(kNear, kFunction);
  CHECK(absolute(decode_at(back, 0, kNear), 0) == kFunction);

  constexpr std::uint64_t kMax = std::numeric_limits<std::int32_t>::max();
  CHECK(reachable(kNear, kNear + kMax));
  CHECK_FALSE(reachable(kNear, kNear + kMax + 1));
  CHECK(reachable(kFar, kFar - kMax - 1));
  CHECK_FALSE(reachable(kFar, kFar - kMax - 2));
  CHECK(reachable(kFunction + 5, kFunction + 5));
}
