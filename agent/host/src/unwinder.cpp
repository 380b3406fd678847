// unwinder.cpp: the Unwinder over elfutils' libdwfl with thread callbacks of its own, as perf
// unwinds sampled registers: one Dwfl per target process, attached once, whose modules come
// from /proc/pid/maps (reported again in place when they change, so unchanged modules keep
// their opened ELF files and CFI); the initial registers and the memory overlay of each
// unwind() call are members the callbacks read, and memory is read with process_vm_readv two
// pages at a time (one syscall for a usual stack) into a cache that lives for one call. Never
// ptrace: nobody stops the target here, its thread waits in the agent.
#include "groutines/agent/unwinder.hpp"

#include <cxxabi.h>
#include <dwarf.h>
#include <elf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <sys/uio.h>

#include <algorithm>
#include <array>
#include <cassert>
#include <cstdlib>
#include <cstring>
#include <exception>

namespace groutines::agent {

namespace {

// kChunkSize is the unit of the memory cache: a page, the granularity at which a read of the
// target can fail.
constexpr std::uint64_t kChunkSize = 4096;
// kChunkCount bounds the pages one unwind() call keeps (8 frames rarely span more than two).
constexpr std::size_t kChunkCount = 8;
static_assert(kChunkCount >= 2, "a page and the one after it are read together");
// kNoChunk is the base of a cache slot that holds nothing (no page starts there).
constexpr std::uint64_t kNoChunk = 1;
// kMaxUnknownPages bounds the pages of pcs known to lie outside every module.
constexpr std::size_t kMaxUnknownPages = 64;
// kX86_64Registers is the number of x86-64 DWARF registers libdwfl unwinds: 0-15 the general
// registers in DWARF order, 16 the return address column (rip).
constexpr unsigned kX86_64Registers = 17;

// debuginfo_path is the default search path for separate debug files (nullptr: libdwfl's).
char* debuginfo_path = nullptr;

const Dwfl_Callbacks& proc_callbacks() {
  static const Dwfl_Callbacks callbacks = [] {
    Dwfl_Callbacks c{};
    c.find_elf = dwfl_linux_proc_find_elf;
    c.find_debuginfo = dwfl_standard_find_debuginfo;
    c.debuginfo_path = &debuginfo_path;
    return c;
  }();
  return callbacks;
}

}  // namespace

struct Unwinder::State {
  using Overlay = std::vector<std::pair<std::uint64_t, std::uint64_t>>;

  // Chunk is one page of target memory as one unwind() call read it, overlay applied.
  struct Chunk {
    std::uint64_t base = kNoChunk;
    bool readable = false;
    alignas(8) unsigned char bytes[kChunkSize];
  };

  explicit State(pid_t target) : pid(target) {}

  ~State() {
    if (dwfl != nullptr) dwfl_end(dwfl);
    if (arch_elf != nullptr) elf_end(arch_elf);
  }

  // ready() is whether the Dwfl is attached and has modules, creating it at first use and
  // reporting the modules when they are unknown.
  bool ready() {
    if (broken) return false;
    if (dwfl == nullptr && !create()) {
      broken = true;
      return false;
    }
    if (!modules_known) report_modules();
    return true;
  }

  // create() makes the Dwfl and attaches the thread callbacks. The architecture comes from a
  // bare x86-64 ELF header of our own rather than from a module, so that dropping modules
  // when they are reported again never frees the backend the process state uses.
  bool create() {
    elf_version(EV_CURRENT);
    Elf64_Ehdr ehdr{};
    std::memcpy(ehdr.e_ident, ELFMAG, SELFMAG);
    ehdr.e_ident[EI_CLASS] = ELFCLASS64;
    ehdr.e_ident[EI_DATA] = ELFDATA2LSB;
    ehdr.e_ident[EI_VERSION] = EV_CURRENT;
    ehdr.e_ident[EI_OSABI] = ELFOSABI_SYSV;
    ehdr.e_type = ET_CORE;
    ehdr.e_machine = EM_X86_64;
    ehdr.e_version = EV_CURRENT;
    ehdr.e_ehsize = sizeof(Elf64_Ehdr);
    std::memcpy(arch_image.data(), &ehdr, sizeof ehdr);
    arch_elf = elf_memory(arch_image.data(), arch_image.size());
    if (arch_elf == nullptr) return false;
    dwfl = dwfl_begin(&proc_callbacks());
    if (dwfl == nullptr) return false;
    return dwfl_attach_state(dwfl, arch_elf, pid, &thread_callbacks(), this);
  }

  // report_modules() rereads /proc/pid/maps; modules still mapped where they were are kept.
  void report_modules() {
    dwfl_report_begin(dwfl);
    const int rc = dwfl_linux_proc_report(dwfl, pid);
    dwfl_report_end(dwfl, nullptr, nullptr);
    modules_known = rc == 0;  // a process that is gone is asked again next time
    may_report = false;
    unknown_pages.clear();
  }

  // walk() runs libdwfl over the current call's registers, collecting pcs into frames.
  void walk() {
    frames->clear();
    unknown_pc = false;
    dwfl_getthread_frames(dwfl, pid, on_frame, this);
  }

  // read_word() is the 8 bytes of target memory at addr as the unwinder should see them.
  bool read_word(std::uint64_t addr, std::uint64_t& value) {
    for (const auto& [at, original] : *overlay) {
      if (at == addr) {
        value = original;
        return true;
      }
    }
    unsigned char bytes[8];
    const std::uint64_t base = addr & ~(kChunkSize - 1);
    const std::size_t offset = addr - base;
    const std::size_t first = std::min<std::size_t>(sizeof bytes, kChunkSize - offset);
    const Chunk* chunk = chunk_at(base);
    if (chunk == nullptr) return false;
    std::memcpy(bytes, chunk->bytes + offset, first);
    if (first < sizeof bytes) {
      chunk = chunk_at(base + kChunkSize);
      if (chunk == nullptr) return false;
      std::memcpy(bytes + first, chunk->bytes, sizeof bytes - first);
    }
    std::memcpy(&value, bytes, sizeof value);
    return true;
  }

  // chunk_at() is the page at base, read now if this call has not read it yet (with the
  // page after it, where the callers' frames are); nullptr where it cannot be read.
  const Chunk* chunk_at(std::uint64_t base) {
    for (std::size_t i = 0; i < chunks_used; ++i) {
      if (chunks[i].base == base) return chunks[i].readable ? &chunks[i] : nullptr;
    }
    Chunk* page = take_chunk();
    page->base = kNoChunk;
    Chunk* next = nullptr;
    const std::uint64_t next_base = base + kChunkSize;
    if (next_base != 0 && !cached(next_base)) next = take_chunk();
    iovec local[2] = {{page->bytes, kChunkSize}, {nullptr, 0}};
    iovec remote[2] = {{reinterpret_cast<void*>(base), kChunkSize}, {nullptr, 0}};
    unsigned long count = 1;
    if (next != nullptr) {
      local[1] = {next->bytes, kChunkSize};
      remote[1] = {reinterpret_cast<void*>(next_base), kChunkSize};
      count = 2;
    }
    const ssize_t got = process_vm_readv(pid, local, count, remote, count, 0);
    const std::uint64_t transferred = got < 0 ? 0 : static_cast<std::uint64_t>(got);
    page->base = base;
    page->readable = transferred >= kChunkSize;
    if (page->readable) apply_overlay(*page);
    if (next != nullptr) {
      // Past an unreadable page nothing is known of the next one: leave it to be asked.
      next->base = page->readable ? next_base : kNoChunk;
      next->readable = transferred >= 2 * kChunkSize;
      if (next->readable) apply_overlay(*next);
    }
    return page->readable ? page : nullptr;
  }

  bool cached(std::uint64_t base) const {
    for (std::size_t i = 0; i < chunks_used; ++i) {
      if (chunks[i].base == base) return true;
    }
    return false;
  }

  Chunk* take_chunk() {
    if (chunks_used < kChunkCount) return &chunks[chunks_used++];
    Chunk* victim = &chunks[next_victim];
    next_victim = (next_victim + 1) % kChunkCount;
    return victim;
  }

  // apply_overlay() writes the overlay's words over the bytes of chunk they cover.
  void apply_overlay(Chunk& chunk) const {
    for (const auto& [at, original] : *overlay) {
      unsigned char bytes[8];
      std::memcpy(bytes, &original, sizeof bytes);
      for (std::size_t i = 0; i < sizeof bytes; ++i) {
        const std::uint64_t byte_at = at + i;
        if (byte_at - chunk.base < kChunkSize) chunk.bytes[byte_at - chunk.base] = bytes[i];
      }
    }
  }

  // in_module() is whether pc lies in a reported module. dwfl_addrmodule() alone is not
  // enough: it gives a neighbouring module for an address in a gap between two of them.
  bool in_module(std::uint64_t pc) const {
    Dwfl_Module* module = dwfl_addrmodule(dwfl, pc);
    if (module == nullptr) return false;
    Dwarf_Addr low = 0;
    Dwarf_Addr high = 0;
    dwfl_module_info(module, nullptr, &low, &high, nullptr, nullptr, nullptr, nullptr);
    return pc >= low && pc < high;
  }

  bool known_unknown(std::uint64_t pc) const {
    return std::find(unknown_pages.begin(), unknown_pages.end(), pc / kChunkSize) !=
           unknown_pages.end();
  }

  void remember_unknown(std::uint64_t pc) {
    if (unknown_pages.size() >= kMaxUnknownPages) unknown_pages.clear();
    unknown_pages.push_back(pc / kChunkSize);
  }

  // on_frame() takes one frame's pc. It ends the walk at max_frames, before a zero pc (the
  // end of the stack), and after a pc outside every module: no CFI covers it, and what
  // libdwfl would do there (take a neighbouring module's CFI, guess by frame pointer) gives
  // frames nobody can trust. At such a pc, if this call has not reread the modules yet, it
  // ends the walk for unwind() to reread them and walk again.
  static int on_frame(Dwfl_Frame* frame, void* arg) noexcept {
    State& s = *static_cast<State*>(arg);
    try {
      Dwarf_Addr pc = 0;
      if (!dwfl_frame_pc(frame, &pc, nullptr)) return DWARF_CB_ABORT;
      const bool initial = s.frames->empty();
      if (!initial && pc == 0) return DWARF_CB_ABORT;
      // A return address may be one past the call's function: look up the call instead.
      const std::uint64_t lookup = initial ? pc : pc - 1;
      if (!s.in_module(lookup)) {
        if (!s.known_unknown(lookup)) {
          if (s.may_report) {
            s.unknown_pc = true;
            return DWARF_CB_ABORT;
          }
          s.remember_unknown(lookup);
        }
        s.frames->push_back(pc);
        return DWARF_CB_ABORT;
      }
      s.frames->push_back(pc);
      return s.frames->size() < s.max_frames ? DWARF_CB_OK : DWARF_CB_ABORT;
    } catch (...) {
      s.error = std::current_exception();
      return DWARF_CB_ABORT;
    }
  }

  static pid_t next_thread(Dwfl*, void* arg, void** thread_arg) noexcept {
    if (*thread_arg != nullptr) return 0;
    *thread_arg = arg;
    return static_cast<State*>(arg)->pid;
  }

  static bool get_thread(Dwfl*, pid_t, void* arg, void** thread_arg) noexcept {
    *thread_arg = arg;
    return true;
  }

  static bool memory_read(Dwfl*, Dwarf_Addr addr, Dwarf_Word* result, void* arg) noexcept {
    std::uint64_t value = 0;
    if (!static_cast<State*>(arg)->read_word(addr, value)) return false;
    *result = value;
    return true;
  }

  static bool set_initial_registers(Dwfl_Thread* thread, void* arg) noexcept {
    const State& s = *static_cast<const State*>(arg);
    assert(s.regs != nullptr && "set_initial_registers outside unwind()");
    const UnwindRegisters& r = *s.regs;
    const Dwarf_Word dwarf[kX86_64Registers] = {r.rax, r.rdx, r.rcx, r.rbx, r.rsi, r.rdi,
                                                r.rbp, r.rsp, r.r8,  r.r9,  r.r10, r.r11,
                                                r.r12, r.r13, r.r14, r.r15, r.rip};
    if (!dwfl_thread_state_registers(thread, 0, kX86_64Registers, dwarf)) return false;
    dwfl_thread_state_register_pc(thread, r.rip);
    return true;
  }

  static const Dwfl_Thread_Callbacks& thread_callbacks() {
    static const Dwfl_Thread_Callbacks callbacks = [] {
      Dwfl_Thread_Callbacks c{};
      c.next_thread = next_thread;
      c.get_thread = get_thread;
      c.memory_read = memory_read;
      c.set_initial_registers = set_initial_registers;
      return c;
    }();
    return callbacks;
  }

  const pid_t pid;
  alignas(Elf64_Ehdr) std::array<char, sizeof(Elf64_Ehdr)> arch_image{};
  Elf* arch_elf = nullptr;
  Dwfl* dwfl = nullptr;
  bool broken = false;          // libdwfl could not be set up: frame 0 only
  bool modules_known = false;   // the module list reflects the target's maps
  // unknown_pages are pages of pcs found in no module by the last report: they do not make
  // every unwind() reread /proc/pid/maps (JIT code, stray pcs); modules_changed() or another
  // unknown pc's reread forgets them.
  std::vector<std::uint64_t> unknown_pages;

  // The current unwind() call, read by the callbacks.
  const UnwindRegisters* regs = nullptr;
  const Overlay* overlay = nullptr;
  std::vector<std::uint64_t>* frames = nullptr;
  std::size_t max_frames = 0;
  bool may_report = false;  // this call has not reread the modules yet
  bool unknown_pc = false;  // the walk stopped at a pc outside the modules to report them
  std::exception_ptr error;
  std::array<Chunk, kChunkCount> chunks;
  std::size_t chunks_used = 0;
  std::size_t next_victim = 0;
};

Unwinder::Unwinder(pid_t pid) : state_(std::make_unique<State>(pid)) {}

Unwinder::~Unwinder() = default;

std::vector<std::uint64_t> Unwinder::unwind(
    const UnwindRegisters& regs, std::size_t max_frames,
    const std::vector<std::pair<std::uint64_t, std::uint64_t>>& overlay) {
  std::vector<std::uint64_t> frames;
  if (max_frames == 0) return frames;
  frames.reserve(std::min<std::size_t>(max_frames, 64));
  State& s = *state_;
  s.regs = &regs;
  s.overlay = &overlay;
  s.frames = &frames;
  s.max_frames = max_frames;
  s.may_report = true;
  s.chunks_used = 0;
  s.next_victim = 0;
  if (s.ready()) {
    s.walk();
    if (s.unknown_pc && s.error == nullptr) {
      s.report_modules();
      s.walk();
    }
  }
  s.regs = nullptr;
  s.overlay = nullptr;
  s.frames = nullptr;
  if (s.error != nullptr) std::rethrow_exception(std::exchange(s.error, nullptr));
  if (frames.empty()) frames.push_back(regs.rip);
  return frames;
}

Symbol Unwinder::symbolize(std::uint64_t pc, bool return_address) {
  Symbol out;
  State& s = *state_;
  if (!s.ready()) return out;
  const std::uint64_t at = return_address && pc > 0 ? pc - 1 : pc;
  if (!s.in_module(at)) {
    s.report_modules();
    if (!s.in_module(at)) return out;
  }
  Dwfl_Module* module = dwfl_addrmodule(s.dwfl, at);
  const char* name = dwfl_module_info(module, nullptr, nullptr, nullptr, nullptr, nullptr,
                                      nullptr, nullptr);
  auto base = [](const char* path) {
    std::string p = path ? path : "";
    return p.substr(p.rfind('/') + 1);
  };
  out.module = base(name);
  GElf_Off offset = 0;
  GElf_Sym sym{};
  const char* symbol = dwfl_module_addrinfo(module, at, &offset, &sym, nullptr, nullptr, nullptr);
  auto demangle = [](const char* mangled) {
    int status = -1;
    char* demangled = abi::__cxa_demangle(mangled, nullptr, nullptr, &status);
    std::string r = status == 0 && demangled ? demangled : mangled;
    std::free(demangled);
    return r;
  };
  if (symbol != nullptr) {
    out.start = at - offset;
    out.size = sym.st_size;
    std::string plain = symbol;
    plain = plain.substr(0, plain.find('@'));  // the ELF version: __libc_start_main@@GLIBC_2.34
    out.function = demangle(plain.c_str());
  }
  // The function as DWARF names it, as debuggers show it (the ELF symbol may be an alias).
  Dwarf_Addr bias = 0;
  if (Dwarf_Die* cu = dwfl_module_addrdie(module, at, &bias)) {
    Dwarf_Die* scopes = nullptr;
    int n = dwarf_getscopes(cu, at - bias, &scopes);
    for (int i = 0; i < n; ++i) {
      if (dwarf_tag(&scopes[i]) != DW_TAG_subprogram) continue;
      Dwarf_Attribute attr;
      const char* linkage = dwarf_formstring(dwarf_attr_integrate(&scopes[i], DW_AT_linkage_name, &attr));
      const char* dwarf_name = dwarf_diename(&scopes[i]);
      if (linkage != nullptr)
        out.function = demangle(linkage);
      else if (dwarf_name != nullptr)
        out.function = dwarf_name;
      break;
    }
    std::free(scopes);
  }
  if (Dwfl_Line* line = dwfl_module_getsrc(module, at)) {
    int lineno = 0;
    const char* file = dwfl_lineinfo(line, nullptr, &lineno, nullptr, nullptr, nullptr);
    if (file != nullptr && lineno > 0) {
      out.file = base(file);
      out.line = static_cast<unsigned>(lineno);
    }
  }
  return out;
}

void Unwinder::modules_changed() { state_->modules_known = false; }

}  // namespace groutines::agent
