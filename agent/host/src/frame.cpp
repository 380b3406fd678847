#include "groutines/agent/frame.hpp"

#include <sys/uio.h>

#include <cctype>
#include <cinttypes>
#include <cstddef>
#include <fstream>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "groutines/error.hpp"

namespace groutines::agent {

namespace {

struct RegisterName {
  const char* name;
  std::size_t offset;
};

#define GA_REG(r) {#r, offsetof(ga_regs, r)}
constexpr RegisterName kRegisters[] = {
    GA_REG(rax), GA_REG(rbx), GA_REG(rcx), GA_REG(rdx), GA_REG(rsi), GA_REG(rdi),
    GA_REG(rbp), GA_REG(rsp), GA_REG(r8),  GA_REG(r9),  GA_REG(r10), GA_REG(r11),
    GA_REG(r12), GA_REG(r13), GA_REG(r14), GA_REG(r15), GA_REG(rip), {"rflags", offsetof(ga_regs, rflags)},
    {"eflags", offsetof(ga_regs, rflags)}, {"pc", offsetof(ga_regs, rip)}, {"sp", offsetof(ga_regs, rsp)},
    {"fp", offsetof(ga_regs, rbp)}};
#undef GA_REG

constexpr std::size_t kIntArgumentOffsets[] = {offsetof(ga_regs, rdi), offsetof(ga_regs, rsi),
                                                offsetof(ga_regs, rdx), offsetof(ga_regs, rcx),
                                                offsetof(ga_regs, r8),  offsetof(ga_regs, r9)};

std::uint64_t at(const ga_regs& r, std::size_t offset) {
  std::uint64_t v = 0;
  std::memcpy(&v, reinterpret_cast<const char*>(&r) + offset, sizeof v);
  return v;
}

// agents_own() tells a mapping of the agent (its library, its shared memory with the host):
// the debugger's memory in the target, not the program's.
bool agents_own(const std::string& path) {
  return path.find("libgroutines_agent") != std::string::npos ||
         path.find("groutines-agent") != std::string::npos;
}

}  // namespace

std::string hex(std::uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%" PRIx64, v);
  return buf;
}

std::string as_written(std::string message, const std::string& expression, const ga_regs& regs) {
  const std::string shown = with_registers(expression, regs);
  if (std::size_t at = message.find(shown); at != std::string::npos)
    message.replace(at, shown.size(), expression);
  return message;
}

std::vector<MemoryRegion> regions_of_pid(pid_t pid) {
  std::string file = "/proc/" + std::to_string(pid) + "/maps";
  std::ifstream in(file);
  if (!in) throw Error("cannot read " + file);
  std::vector<MemoryRegion> out;
  std::string line;
  while (std::getline(in, line)) {
    // start-end perms offset dev inode   path
    unsigned long long start = 0, end = 0;
    char perms[8] = {};
    int used = 0;
    if (std::sscanf(line.c_str(), "%llx-%llx %7s %*s %*s %*s %n", &start, &end, perms, &used) < 3)
      continue;
    MemoryRegion r;
    r.start = start;
    r.end = end;
    r.readable = perms[0] == 'r';
    r.writable = perms[1] == 'w';
    r.executable = perms[2] == 'x';
    if (used > 0 && static_cast<std::size_t>(used) < line.size()) r.path = line.substr(used);
    if (!agents_own(r.path)) out.push_back(std::move(r));
  }
  return out;
}

std::string with_registers(const std::string& expression, const ga_regs& regs) {
  struct Name {
    const char* name;
    std::uint64_t value;
    bool low32;
  };
  const Name names[] = {
      {"rax", regs.rax, false}, {"rbx", regs.rbx, false}, {"rcx", regs.rcx, false},
      {"rdx", regs.rdx, false}, {"rsi", regs.rsi, false}, {"rdi", regs.rdi, false},
      {"rbp", regs.rbp, false}, {"rsp", regs.rsp, false}, {"r8", regs.r8, false},
      {"r9", regs.r9, false},   {"r10", regs.r10, false}, {"r11", regs.r11, false},
      {"r12", regs.r12, false}, {"r13", regs.r13, false}, {"r14", regs.r14, false},
      {"r15", regs.r15, false}, {"rip", regs.rip, false}, {"pc", regs.rip, false},
      {"sp", regs.rsp, false},  {"fp", regs.rbp, false},  {"eax", regs.rax, true},
      {"ebx", regs.rbx, true},  {"ecx", regs.rcx, true},  {"edx", regs.rdx, true},
      {"esi", regs.rsi, true},  {"edi", regs.rdi, true},  {"r8d", regs.r8, true},
      {"r9d", regs.r9, true}};
  std::string out;
  for (std::size_t i = 0; i < expression.size();) {
    if (expression[i] == '$') {
      std::size_t j = i + 1;
      while (j < expression.size() && (std::isalnum(static_cast<unsigned char>(expression[j])) ||
                                       expression[j] == '_'))
        ++j;
      std::string word = expression.substr(i + 1, j - i - 1);
      const Name* n = nullptr;
      for (const Name& candidate : names)
        if (word == candidate.name) n = &candidate;
      if (n) {
        char buf[64];
        if (n->low32)
          std::snprintf(buf, sizeof buf, "((unsigned int)0x%" PRIx64 "u)", n->value & 0xffffffffu);
        else
          std::snprintf(buf, sizeof buf, "((unsigned long)0x%" PRIx64 "ul)", n->value);
        out += buf;
        i = j;
        continue;
      }
    }
    out += expression[i++];
  }
  return out;
}

void profile(const char* what, std::chrono::steady_clock::time_point start) {
  static const bool on = std::getenv("GROUTINES_AGENT_PROFILE") != nullptr;
  if (!on) return;
  struct Mean {
    std::string what;
    double total = 0;
    std::uint64_t n = 0;
  };
  static std::vector<Mean> means;
  auto it = std::find_if(means.begin(), means.end(), [&](const Mean& m) { return m.what == what; });
  if (it == means.end()) it = means.insert(means.end(), Mean{what});
  it->total += std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count();
  if (++it->n % 1000 == 0)
    std::fprintf(stderr, "agent: %llu %s, %.1f us each\n", static_cast<unsigned long long>(it->n),
                 what, it->total / static_cast<double>(it->n));
}

AgentFrame::AgentFrame(pid_t pid, ga_slot& slot, Where where, Unwinder* unwinder,
                       Symbolizer symbolize, std::uint64_t return_stub, Evaluator evaluate)
    : pid_(pid),
      slot_(slot),
      where_(where),
      unwinder_(unwinder),
      symbolize_(std::move(symbolize)),
      return_stub_(return_stub),
      evaluate_(std::move(evaluate)) {}

void AgentFrame::require(Where where, const char* what) const {
  if (where_ == where) return;
  throw Error(std::string(what) + (where == Where::Entry
                                       ? " can only be read at a call"
                                       : " can only be read at a return"));
}

std::uint64_t AgentFrame::read_u64(std::uint64_t address) {
  std::uint64_t v = 0;
  std::vector<std::uint8_t> b = read_memory(address, sizeof v);
  std::memcpy(&v, b.data(), sizeof v);
  return v;
}

std::uint64_t AgentFrame::int_argument(unsigned index) {
  require(Where::Entry, "arguments");
  if (index < 6) {
    static constexpr const char* kNames[] = {"rdi", "rsi", "rdx", "rcx", "r8", "r9"};
    std::uint64_t v = at(slot_.regs, kIntArgumentOffsets[index]);
    note(kNames[index], v);
    return v;
  }
  // The seventh and later are on the stack, above the return address.
  return read_u64(slot_.regs.rsp + 8 * (index - 6 + 1));
}

double AgentFrame::float_argument(unsigned index) {
  require(Where::Entry, "arguments");
  if (index >= 8)
    throw Error("floating argument " + std::to_string(index) +
                " is not in a register (only xmm0..xmm7 are read)");
  double d = 0;
  std::memcpy(&d, slot_.regs.xmm[index], sizeof d);
  return d;
}

std::vector<Argument> AgentFrame::arguments() {
  require(Where::Entry, "arguments");
  return layout_ ? sysv::read_arguments(*this, *layout_) : std::vector<Argument>{};
}

std::optional<Argument> AgentFrame::argument(std::string_view name) {
  require(Where::Entry, "arguments");
  return layout_ ? sysv::read_argument(*this, *layout_, name) : std::nullopt;
}

std::uint64_t AgentFrame::register_value(std::string_view name) {
  for (const RegisterName& r : kRegisters)
    if (name == r.name) {
      std::uint64_t v = at(slot_.regs, r.offset);
      note(r.name, v);
      return v;
    }
  if (name.size() == 4 && name.substr(0, 3) == "xmm" && name[3] >= '0' && name[3] <= '7') {
    std::uint64_t v = 0;
    std::memcpy(&v, slot_.regs.xmm[name[3] - '0'], sizeof v);
    return v;
  }
  throw Error("no register '" + std::string(name) +
              "' (the agent transport has rax..r15, rip, rsp, rflags and xmm0..xmm7)");
}

std::vector<std::uint8_t> AgentFrame::read_memory(std::uint64_t address, std::size_t size) {
  std::vector<std::uint8_t> out(size);
  if (size == 0) return out;
  iovec local{out.data(), size};
  iovec remote{reinterpret_cast<void*>(address), size};
  ssize_t got = process_vm_readv(pid_, &local, 1, &remote, 1, 0);
  if (got != static_cast<ssize_t>(size))
    throw Error("cannot read " + std::to_string(size) + " bytes at " + hex(address) +
                (got < 0 ? std::string(": ") + std::strerror(errno) : std::string(": partial read")));
  return out;
}

std::vector<MemoryRegion> AgentFrame::memory_regions() { return regions_of_pid(pid_); }

std::vector<ThreadState> AgentFrame::threads() {
  if (!read_threads_) throw Error("threads: cannot stop the target here");
  std::vector<ThreadState> out = read_threads_(*this);
  // The hit's thread waits inside the agent: its registers at the hit are the slot's.
  ThreadState self;
  self.id = slot_.tid;
  self.stack_pointer = slot_.regs.rsp;
  for (const RegisterName& r : kRegisters) {
    std::string_view name = r.name;
    if (name != "eflags" && name != "pc" && name != "sp" && name != "fp")  // aliases
      self.registers.emplace_back(r.name, at(slot_.regs, r.offset));
  }
  out.erase(std::remove_if(out.begin(), out.end(),
                           [&](const ThreadState& t) { return t.id == self.id; }),
            out.end());
  out.insert(out.begin(), std::move(self));
  return out;
}

std::string AgentFrame::read_cstring(std::uint64_t address, std::size_t max_size) {
  std::string out;
  // Read up to each page end, so that a string at the end of a mapping reads.
  while (out.size() < max_size) {
    std::uint64_t here = address + out.size();
    std::size_t chunk = std::min<std::size_t>(4096 - (here & 4095), max_size - out.size());
    std::vector<std::uint8_t> b;
    try {
      b = read_memory(here, chunk);
    } catch (const Error&) {
      if (out.empty()) throw Error("cannot read a C string at " + hex(address));
      break;
    }
    for (std::uint8_t c : b) {
      if (c == 0) return out;
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

std::vector<StackFrame> AgentFrame::backtrace(std::size_t max_frames) {
  std::vector<StackFrame> out;
  if (max_frames == 0) return out;
  std::vector<std::uint64_t> pcs;
  if (unwinder_) {
    UnwindRegisters r;
    const ga_regs& g = slot_.regs;
    r.rax = g.rax, r.rdx = g.rdx, r.rcx = g.rcx, r.rbx = g.rbx, r.rsi = g.rsi, r.rdi = g.rdi;
    r.rbp = g.rbp, r.rsp = g.rsp, r.r8 = g.r8, r.r9 = g.r9, r.r10 = g.r10, r.r11 = g.r11;
    r.r12 = g.r12, r.r13 = g.r13, r.r14 = g.r14, r.r15 = g.r15, r.rip = g.rip;
    // Return addresses the agent replaced read as the originals.
    std::vector<std::pair<std::uint64_t, std::uint64_t>> overlay;
    for (std::uint32_t i = 0; i < slot_.depth && i < GA_SHADOW_DEPTH; ++i)
      overlay.emplace_back(slot_.shadow[i].ret_slot, slot_.shadow[i].original);
    auto start = std::chrono::steady_clock::now();
    pcs = unwinder_->unwind(r, max_frames, overlay);
    profile("unwinds", start);
  }
  if (pcs.empty()) pcs.push_back(slot_.regs.rip);
  for (std::size_t i = 0; i < pcs.size() && i < max_frames; ++i) {
    std::uint64_t pc = pcs[i] == return_stub_ ? 0 : pcs[i];
    if (symbolize_) {
      out.push_back(symbolize_(i, pc));
    } else {
      out.emplace_back().pc = pc;
    }
  }
  return out;
}

std::uint64_t AgentFrame::int_return_value() {
  require(Where::Return, "a return value");
  std::uint64_t rax = slot_.regs.rax;
  if (!return_type_.known || return_type_.floating) return rax;
  if (return_type_.size == 1 && !return_type_.is_signed) return rax & 0xff;
  return static_cast<std::uint64_t>(sysv::sized(rax, return_type_.size, return_type_.is_signed));
}

double AgentFrame::float_return_value() {
  require(Where::Return, "a return value");
  if (return_type_.known && return_type_.floating && return_type_.size == 4) {
    float f = 0;
    std::memcpy(&f, slot_.regs.xmm[0], sizeof f);
    return static_cast<double>(f);
  }
  double d = 0;
  std::memcpy(&d, slot_.regs.xmm[0], sizeof d);
  return d;
}

// evaluate() has the backend stop the target with this thread parked in the agent, as it was
// at the call or return, for the expression: a stop's cost (a millisecond or two), paid only
// by the deliveries that evaluate.
Value AgentFrame::evaluate(std::string_view expression) {
  if (!evaluate_) throw Error("cannot evaluate '" + std::string(expression) + "' here");
  return evaluate_(*this, expression);
}

void AgentFrame::note(const char* name, std::uint64_t value) {
  for (const auto& [n, v] : read_)
    if (n == name) return;
  read_.emplace_back(name, value);
}

std::string AgentFrame::cached_view() const {
  std::string out;
  for (const auto& [n, v] : read_) {
    if (n == "rsp") continue;
    if (!out.empty()) out += ' ';
    out += n + "=" + std::to_string(static_cast<std::int64_t>(v));
  }
  return out;
}

void AgentFrame::watch(CallId call) noexcept {
  slot_.reply |= GA_REPLY_WATCH;
  slot_.reply_call = call;
}

void AgentFrame::set_value(const Value& value) {
  using Reg = sysv::ReturnRegisters::Register;
  const sysv::ReturnRegisters r = sysv::return_registers(return_type_, value);
  switch (r.reg) {
    case Reg::Rax:
      slot_.regs.rax = r.bits;
      return;
    case Reg::Xmm0Float:
      std::memcpy(slot_.regs.xmm[0], &r.bits, 4);
      return;
    case Reg::Xmm0Double:
      std::memcpy(slot_.regs.xmm[0], &r.bits, 8);
      return;
    case Reg::St0:
      // The backend keeps such functions on breakpoints (agent_after_call()).
      throw Error("cannot return a long double through the agent: it returns in st0, which "
                  "the agent does not carry");
  }
}

void AgentFrame::force_return(const Value& value) {
  require(Where::Entry, "a forced return");
  set_value(value);
  slot_.reply |= GA_REPLY_SKIP;
}

void AgentFrame::set_return_value(const Value& value) {
  require(Where::Return, "a return value");
  set_value(value);
  slot_.reply |= GA_REPLY_REWRITE;
}

}  // namespace groutines::agent
