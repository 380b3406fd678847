// The Unwinder over a real child process: a forked copy of this test binary runs a chain of
// functions (unwinder_test_root -> level1 -> level2 -> level3) whose innermost one captures its
// own registers into a shared mapping and waits, as a thread waits in the agent, while the
// test unwinds it. Fork keeps the layout, so the functions' addresses in this process are the
// child's; their sizes come from this binary's symbol table.
#include "groutines/agent/unwinder.hpp"

#include <catch2/catch.hpp>

#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <new>
#include <sstream>
#include <string>
#include <vector>

using groutines::agent::Unwinder;
using groutines::agent::UnwindRegisters;

namespace {

// Chain is what the child's functions do before level3 waits.
enum class Chain {
  Plain,        // nothing: the stack is as the calls made it
  BogusReturn,  // level1 replaces its own return address with kBogusReturn, as the agent's
                // return stub would, and publishes the slot and the original
};

// kBogusReturn is in the never-mapped first pages of the address space.
constexpr std::uint64_t kBogusReturn = 0x1000;

// kTimeoutMs bounds every wait on the child.
constexpr int kTimeoutMs = 10000;

// Shared is the child's report to the test, in a MAP_SHARED mapping made before fork.
struct Shared {
  UnwindRegisters regs;                 // level3's registers, complete when it sends 'r'
  std::uint64_t slot = 0;               // BogusReturn: where level1's return address is
  std::uint64_t original = 0;           // BogusReturn: the return address it held
  std::uint64_t library_function = 0;   // crypt() of libcrypt, loaded on command 'l'
  std::uint64_t fake_stack[64] = {};    // a stack the test makes up for the library's pc
  char error[160] = {};                 // what went wrong in the child, if anything
};

// ChildContext is what the child's chain of functions is given.
struct ChildContext {
  Chain chain;
  Shared* shared;
  int socket;
};

}  // namespace

// The chain: C names to find them in the symbol table, no inlining, cloning or tail calls
// (each uses its callee's result), so that each keeps a frame of its own.
extern "C" {
__attribute__((noipa)) int unwinder_test_level3(ChildContext* context);
__attribute__((noipa)) int unwinder_test_level2(ChildContext* context);
__attribute__((noipa)) int unwinder_test_level1(ChildContext* context);
__attribute__((noipa)) int unwinder_test_root(ChildContext* context);
}

namespace {

void child_reply(const ChildContext& context, char reply) {
  if (send(context.socket, &reply, 1, MSG_NOSIGNAL) != 1) _exit(3);
}

// child_serve() answers the test's commands until it says 'q' or goes away.
[[noreturn]] void child_serve(ChildContext& context) {
  for (;;) {
    char command = 0;
    if (recv(context.socket, &command, 1, 0) != 1 || command == 'q') _exit(0);
    if (command == 'l') {
      void* library = dlopen("libcrypt.so.1", RTLD_NOW | RTLD_LOCAL);
      void* function = library != nullptr ? dlsym(library, "crypt") : nullptr;
      if (function == nullptr) {
        std::snprintf(context.shared->error, sizeof context.shared->error,
                      "cannot load crypt() from libcrypt.so.1: %s", dlerror());
      }
      context.shared->library_function = reinterpret_cast<std::uintptr_t>(function);
    }
    child_reply(context, command);
  }
}

}  // namespace

extern "C" {

int unwinder_test_level3(ChildContext* context) {
  std::uint64_t captured[8];  // rip, rsp, rbp, rbx, r12, r13, r14, r15 at label 1
  asm volatile(
      "lea 1f(%%rip), %%rax\n\t"
      "1:\n\t"
      "mov %%rax, 0(%0)\n\t"
      "mov %%rsp, 8(%0)\n\t"
      "mov %%rbp, 16(%0)\n\t"
      "mov %%rbx, 24(%0)\n\t"
      "mov %%r12, 32(%0)\n\t"
      "mov %%r13, 40(%0)\n\t"
      "mov %%r14, 48(%0)\n\t"
      "mov %%r15, 56(%0)\n\t"
      :
      : "r"(captured)
      : "rax", "memory");
  UnwindRegisters& regs = context->shared->regs;
  regs.rip = captured[0];
  regs.rsp = captured[1];
  regs.rbp = captured[2];
  regs.rbx = captured[3];
  regs.r12 = captured[4];
  regs.r13 = captured[5];
  regs.r14 = captured[6];
  regs.r15 = captured[7];
  child_reply(*context, 'r');
  child_serve(*context);
}

int unwinder_test_level2(ChildContext* context) {
  const int result = unwinder_test_level3(context);
  asm volatile("" ::: "memory");
  return result + 2;
}

int unwinder_test_level1(ChildContext* context) {
  if (context->chain == Chain::BogusReturn) {
    // __builtin_frame_address gives this function a frame pointer: the return address is
    // the word above the saved rbp.
    auto* slot = static_cast<void* volatile*>(__builtin_frame_address(0)) + 1;
    Shared& shared = *context->shared;
    shared.slot = reinterpret_cast<std::uintptr_t>(slot);
    shared.original = reinterpret_cast<std::uintptr_t>(*slot);
    if (*slot != __builtin_return_address(0)) {
      std::snprintf(shared.error, sizeof shared.error,
                    "level1's return address is not above its frame pointer");
    }
    *slot = reinterpret_cast<void*>(kBogusReturn);
  }
  const int result = unwinder_test_level2(context);
  asm volatile("" ::: "memory");
  return result + 1;
}

int unwinder_test_root(ChildContext* context) {
  const int result = unwinder_test_level1(context);
  asm volatile("" ::: "memory");
  return result + 3;
}

}  // extern "C"

namespace {

// function_sizes() is the st_size of every unwinder_test_ function in this binary's .symtab.
std::map<std::string, std::uint64_t> read_function_sizes() {
  std::map<std::string, std::uint64_t> sizes;
  const int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return sizes;
  struct stat st {};
  void* image = MAP_FAILED;
  if (fstat(fd, &st) == 0 && st.st_size > 0) {
    image = mmap(nullptr, static_cast<std::size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
  }
  close(fd);
  if (image == MAP_FAILED) return sizes;
  const auto* bytes = static_cast<const unsigned char*>(image);
  Elf64_Ehdr ehdr;
  std::memcpy(&ehdr, bytes, sizeof ehdr);
  for (unsigned i = 0; i < ehdr.e_shnum; ++i) {
    Elf64_Shdr symtab;
    std::memcpy(&symtab, bytes + ehdr.e_shoff + i * sizeof(Elf64_Shdr), sizeof symtab);
    if (symtab.sh_type != SHT_SYMTAB) continue;
    Elf64_Shdr strtab;
    std::memcpy(&strtab, bytes + ehdr.e_shoff + symtab.sh_link * sizeof(Elf64_Shdr),
                sizeof strtab);
    for (std::uint64_t at = 0; at + sizeof(Elf64_Sym) <= symtab.sh_size;
         at += sizeof(Elf64_Sym)) {
      Elf64_Sym sym;
      std::memcpy(&sym, bytes + symtab.sh_offset + at, sizeof sym);
      if (ELF64_ST_TYPE(sym.st_info) != STT_FUNC) continue;
      const char* name = reinterpret_cast<const char*>(bytes + strtab.sh_offset + sym.st_name);
      if (std::strncmp(name, "unwinder_test_", 14) == 0) sizes[name] = sym.st_size;
    }
  }
  munmap(image, static_cast<std::size_t>(st.st_size));
  return sizes;
}

// Function is one function of the chain, where it is in this process and in the child.
struct Function {
  std::string name;
  std::uint64_t start = 0;
  std::uint64_t size = 0;

  // runs() is whether pc, a frame's own pc (frame 0), is in the function.
  bool runs(std::uint64_t pc) const { return pc >= start && pc < start + size; }
  // called() is whether return address ra returns into the function (ra follows its call).
  bool called(std::uint64_t ra) const { return ra > start && ra <= start + size; }
};

Function function(const char* name, int (*address)(ChildContext*)) {
  static const std::map<std::string, std::uint64_t> sizes = read_function_sizes();
  const auto found = sizes.find(name);
  Function f{name, reinterpret_cast<std::uintptr_t>(address), 0};
  if (found != sizes.end()) f.size = found->second;
  return f;
}

// Chain functions, resolved once per test.
struct ChainFunctions {
  Function level3 = function("unwinder_test_level3", unwinder_test_level3);
  Function level2 = function("unwinder_test_level2", unwinder_test_level2);
  Function level1 = function("unwinder_test_level1", unwinder_test_level1);
  Function root = function("unwinder_test_root", unwinder_test_root);

  // describe() names each frame by the chain function it falls in, for failure messages.
  std::string describe(const std::vector<std::uint64_t>& frames) const {
    std::ostringstream out;
    out << frames.size() << " frames:";
    for (std::size_t i = 0; i < frames.size(); ++i) {
      out << "\n  #" << i << " 0x" << std::hex << frames[i] << std::dec;
      for (const Function* f : {&level3, &level2, &level1, &root}) {
        if (i == 0 ? f->runs(frames[i]) : f->called(frames[i])) out << " in " << f->name;
      }
    }
    return out.str();
  }
};

// Child is a forked copy of this process waiting in level3; killed and reaped at the end.
class Child {
 public:
  Child() = default;
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  ~Child() {
    if (pid_ > 0 && !reaped_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (socket_ >= 0) close(socket_);
    if (shared_ != nullptr) {
      shared_->~Shared();
      munmap(shared_, sizeof(Shared));
    }
  }

  // start() forks the child, which runs the chain and sends 'r' from level3.
  void start(Chain chain) {
    void* memory =
        mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    REQUIRE(memory != MAP_FAILED);
    shared_ = new (memory) Shared();
    int sockets[2];
    REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sockets) == 0);
    socket_ = sockets[0];
    pid_ = fork();
    if (pid_ == 0) {
      close(sockets[0]);
      ChildContext context{chain, shared_, sockets[1]};
      _exit(unwinder_test_root(&context));
    }
    close(sockets[1]);
    REQUIRE(pid_ > 0);
  }

  // await() waits (bounded) for the child's reply to the last command.
  void await(char expected) {
    pollfd waiting{socket_, POLLIN, 0};
    const int ready = poll(&waiting, 1, kTimeoutMs);
    INFO("child " << pid_ << " waiting for '" << expected << "'");
    REQUIRE(ready == 1);
    char reply = 0;
    REQUIRE(recv(socket_, &reply, 1, 0) == 1);
    REQUIRE(reply == expected);
    REQUIRE(std::string(shared_->error).empty());
  }

  void command(char c) { REQUIRE(send(socket_, &c, 1, MSG_NOSIGNAL) == 1); }

  // exit_and_reap() lets the child exit by itself and reaps it.
  void exit_and_reap() {
    command('q');
    pollfd closing{socket_, POLLIN, 0};
    REQUIRE(poll(&closing, 1, kTimeoutMs) == 1);
    char ignored = 0;
    REQUIRE(recv(socket_, &ignored, 1, 0) == 0);
    int status = 0;
    REQUIRE(waitpid(pid_, &status, 0) == pid_);
    reaped_ = true;
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);
  }

  pid_t pid() const { return pid_; }
  Shared& shared() { return *shared_; }

 private:
  Shared* shared_ = nullptr;
  int socket_ = -1;
  pid_t pid_ = -1;
  bool reaped_ = false;
};

std::vector<std::uint64_t> prefix(const std::vector<std::uint64_t>& frames, std::size_t n) {
  return {frames.begin(), frames.begin() + static_cast<std::ptrdiff_t>(std::min(n, frames.size()))};
}

}  // namespace

TEST_CASE("the chain's functions are found in this binary's symbol table", "[agent][unwinder]") {
  const ChainFunctions chain;
  for (const Function* f : {&chain.level3, &chain.level2, &chain.level1, &chain.root}) {
    INFO(f->name);
    CHECK(f->size > 0);
  }
}

TEST_CASE("a waiting thread's frames are its own pc and then its callers' return addresses, innermost first",
          "[agent][unwinder]") {
  const ChainFunctions chain;
  Child child;
  child.start(Chain::Plain);
  child.await('r');
  const UnwindRegisters regs = child.shared().regs;

  Unwinder unwinder(child.pid());
  const std::vector<std::uint64_t> frames = unwinder.unwind(regs, 64);
  INFO(chain.describe(frames));
  REQUIRE(frames.size() > 4);  // the chain, then the test that started it and beyond
  CHECK(frames[0] == regs.rip);
  CHECK(chain.level3.runs(frames[0]));
  CHECK(chain.level2.called(frames[1]));
  CHECK(chain.level1.called(frames[2]));
  CHECK(chain.root.called(frames[3]));

  SECTION("and a second unwind of the same registers gives the same frames") {
    CHECK(unwinder.unwind(regs, 64) == frames);
  }
  SECTION("and after modules_changed() the modules are read again to the same frames") {
    unwinder.modules_changed();
    CHECK(unwinder.unwind(regs, 64) == frames);
  }
}

TEST_CASE("an overlay word stands for the return address the agent replaced on the stack",
          "[agent][unwinder]") {
  const ChainFunctions chain;
  Child child;
  child.start(Chain::BogusReturn);
  child.await('r');
  const UnwindRegisters regs = child.shared().regs;
  const std::uint64_t slot = child.shared().slot;
  const std::uint64_t original = child.shared().original;
  REQUIRE(chain.root.called(original));

  Unwinder unwinder(child.pid());
  const std::vector<std::uint64_t> without = unwinder.unwind(regs, 64);
  {
    INFO("without the overlay: " << chain.describe(without));
    REQUIRE(without.size() == 4);  // nothing unwinds a pc outside every module
    CHECK(chain.level1.called(without[2]));
    CHECK(without[3] == kBogusReturn);
  }

  const std::vector<std::uint64_t> with = unwinder.unwind(regs, 64, {{slot, original}});
  {
    INFO("with the overlay: " << chain.describe(with));
    REQUIRE(with.size() > 4);
    CHECK(prefix(with, 3) == prefix(without, 3));
    CHECK(with[3] == original);
    CHECK(chain.root.called(with[3]));
  }

  INFO("the overlay lasts for one call");
  CHECK(unwinder.unwind(regs, 64) == without);
}

TEST_CASE("no more than max_frames pcs are returned, the innermost ones", "[agent][unwinder]") {
  Child child;
  child.start(Chain::Plain);
  child.await('r');
  const UnwindRegisters regs = child.shared().regs;

  Unwinder unwinder(child.pid());
  const std::vector<std::uint64_t> all = unwinder.unwind(regs, 64);
  REQUIRE(all.size() > 4);
  CHECK(unwinder.unwind(regs, 0).empty());
  for (std::size_t n = 1; n <= 4; ++n) {
    INFO("max_frames " << n);
    CHECK(unwinder.unwind(regs, n) == prefix(all, n));
  }
  CHECK(unwinder.unwind(regs, all.size()) == all);
  CHECK(unwinder.unwind(regs, all.size() + 1) == all);
}

TEST_CASE("a stack that cannot be read ends the frames quietly after the first",
          "[agent][unwinder]") {
  Child child;
  child.start(Chain::Plain);
  child.await('r');
  UnwindRegisters regs = child.shared().regs;

  Unwinder unwinder(child.pid());
  // Neither by CFI (from rsp) nor by the frame-pointer fallback (from rbp) can it go on.
  regs.rsp = 0x100;
  regs.rbp = 0x200;
  CHECK(unwinder.unwind(regs, 64) == std::vector<std::uint64_t>{regs.rip});
  regs.rip = kBogusReturn;
  CHECK(unwinder.unwind(regs, 64) == std::vector<std::uint64_t>{kBogusReturn});
}

TEST_CASE("a pc in a library loaded after the first unwind is found without modules_changed()",
          "[agent][unwinder]") {
  Child child;
  child.start(Chain::Plain);
  child.await('r');
  Unwinder unwinder(child.pid());
  const std::vector<std::uint64_t> first = unwinder.unwind(child.shared().regs, 64);
  REQUIRE(first.size() > 4);

  child.command('l');
  child.await('l');
  Shared& shared = child.shared();
  // At crypt()'s first instruction the return address is at rsp: make one up that returns
  // into level2. rbp 0 leaves no frame-pointer fallback: only crypt()'s CFI unwinds this.
  shared.fake_stack[0] = first[1];
  UnwindRegisters at_entry;
  at_entry.rip = shared.library_function;
  at_entry.rsp = reinterpret_cast<std::uintptr_t>(&shared.fake_stack[0]);
  const std::vector<std::uint64_t> frames = unwinder.unwind(at_entry, 2);
  CHECK(frames == std::vector<std::uint64_t>{at_entry.rip, first[1]});
}

TEST_CASE("a process that has exited gives at most the frame of its registers",
          "[agent][unwinder]") {
  Child child;
  child.start(Chain::Plain);
  child.await('r');
  const UnwindRegisters regs = child.shared().regs;
  Unwinder warm(child.pid());
  REQUIRE(warm.unwind(regs, 64).size() > 4);
  const pid_t pid = child.pid();
  child.exit_and_reap();

  std::vector<std::uint64_t> frames;
  SECTION("to an unwinder that unwound it before") { frames = warm.unwind(regs, 64); }
  SECTION("to a new unwinder") {
    Unwinder fresh(pid);
    frames = fresh.unwind(regs, 64);
  }
  CHECK(frames.size() <= 1);
  if (!frames.empty()) CHECK(frames[0] == regs.rip);
}

TEST_CASE("a warm unwinder takes a few microseconds for five frames",
          "[agent][unwinder][.benchmark]") {
  Child child;
  child.start(Chain::Plain);
  child.await('r');
  const UnwindRegisters regs = child.shared().regs;
  Unwinder unwinder(child.pid());
  for (const std::size_t depth : {std::size_t{5}, std::size_t{8}, std::size_t{64}}) {
    std::size_t frames = 0;
    for (int i = 0; i < 1000; ++i) frames = unwinder.unwind(regs, depth).size();
    constexpr int kCalls = 20000;
    const auto begin = std::chrono::steady_clock::now();
    for (int i = 0; i < kCalls; ++i) frames = unwinder.unwind(regs, depth).size();
    const std::chrono::duration<double, std::nano> spent = std::chrono::steady_clock::now() - begin;
    WARN("max_frames " << depth << ": " << frames << " frames in " << spent.count() / kCalls
                       << " ns per unwind()");
  }
}
