#include "groutines/agent/channel.hpp"

#include <fcntl.h>
#include <linux/futex.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <ctime>

namespace groutines::agent {

namespace {

void futex_wait(void* word, std::uint32_t value, long ns) {
  timespec ts{ns / 1000000000L, ns % 1000000000L};
  syscall(SYS_futex, word, FUTEX_WAIT, value, &ts, nullptr, 0);
}

void futex_wake(void* word) { syscall(SYS_futex, word, FUTEX_WAKE, 1, nullptr, nullptr, 0); }

std::uint32_t* word(GA_ATOMIC(std::uint32_t) & a) { return reinterpret_cast<std::uint32_t*>(&a); }

// How long the service thread spins on an empty queue before it sleeps: long enough to catch
// a thread's next hit in a loop, short enough not to hold a CPU while the target computes.
constexpr std::uint64_t kSpinTicks = 6000000;  // TSC ticks, ~2 ms

}  // namespace

bool traced(pid_t pid) {
  std::string path = "/proc/" + std::to_string(pid) + "/status";
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return true;
  char buf[4096];
  ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  if (n <= 0) return true;
  buf[n] = 0;
  const char* at = std::strstr(buf, "TracerPid:");
  return !at || std::atoi(at + 10) != 0;
}

std::variant<std::unique_ptr<Channel>, std::string> Channel::open(pid_t pid, const ga_info& info) {
  if (info.magic != GA_MAGIC) return std::string("the agent has not started yet");
  if (info.version != GA_VERSION)
    return "the agent speaks version " + std::to_string(info.version) + ", this host " +
           std::to_string(GA_VERSION) + " (a stale libgroutines_agent.so?)";
  if (info.fd < 0)
    return std::string("the agent could not create its shared memory: ") + std::strerror(-info.fd);
  if (info.shm_size != GA_SHM_SIZE) return std::string("the agent's shared memory has another size");
  std::string path = "/proc/" + std::to_string(pid) + "/fd/" + std::to_string(info.fd);
  int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return "cannot open " + path + ": " + std::strerror(errno);
  void* base = mmap(nullptr, GA_SHM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  int error = errno;
  ::close(fd);
  if (base == MAP_FAILED) return "cannot map " + path + ": " + std::strerror(error);
  auto* header = static_cast<ga_header*>(base);
  if (header->magic != GA_MAGIC || header->agent_pid != static_cast<std::uint32_t>(pid)) {
    munmap(base, GA_SHM_SIZE);
    return "the shared memory at " + path + " is not this process's agent";
  }
  return std::unique_ptr<Channel>(new Channel(pid, info, base));
}

Channel::Channel(pid_t pid, const ga_info& info, void* base)
    : pid_(pid), info_(info), base_(base), header_(static_cast<ga_header*>(base)) {
  // Hooks of an earlier host of this process stay patched but pass through: count past them.
  while (next_hook_ < GA_MAX_HOOKS && header_->hooks[next_hook_].entry != 0) ++next_hook_;
}

Channel::~Channel() {
  stop();
  munmap(base_, GA_SHM_SIZE);
}

ga_slot& Channel::slot(std::uint32_t index) noexcept {
  auto* slots = reinterpret_cast<ga_slot*>(static_cast<char*>(base_) + GA_SLOTS_OFFSET);
  return slots[index % GA_MAX_SLOTS];
}

int Channel::add_hook(std::uint64_t entry, std::uint64_t resume) {
  if (next_hook_ >= GA_MAX_HOOKS) return -1;
  ga_hook& h = header_->hooks[next_hook_];
  h.entry = entry;
  h.resume = resume;
  h.enabled.store(1, std::memory_order_release);
  return static_cast<int>(next_hook_++);
}

void Channel::set_enabled(std::uint32_t index, bool on) noexcept {
  if (index < GA_MAX_HOOKS) header_->hooks[index].enabled.store(on ? 1 : 0, std::memory_order_release);
}

bool Channel::on_service_thread() const noexcept {
  return thread_.joinable() && thread_.get_id() == std::this_thread::get_id();
}

void Channel::start(Handler& handler) {
  if (running_.exchange(true)) return;
  handler_ = &handler;
  header_->host_pid.store(static_cast<std::uint32_t>(getpid()), std::memory_order_release);
  thread_ = std::thread([this] { serve(); });
  heartbeat_ = std::thread([this] {
    while (running_.load()) {
      // A process the debugger let go of (detached) is not ours to hold any more.
      if (!traced(pid_)) {
        withdraw();
        return;
      }
      header_->heartbeat.fetch_add(1, std::memory_order_relaxed);
      std::uint32_t seen = header_->host_pid.load();
      // Sleep 10 ms, or less when stop() wakes it (it clears host_pid and wakes the word).
      futex_wait(word(header_->host_pid), seen, 10000000L);
    }
  });
}

void Channel::withdraw() noexcept {
  header_->host_pid.store(0, std::memory_order_release);
  header_->doorbell.fetch_add(1);
  futex_wake(word(header_->doorbell));
}

void Channel::stop() {
  if (!running_.exchange(false)) return;
  header_->host_pid.store(0, std::memory_order_release);
  header_->doorbell.fetch_add(1);
  futex_wake(word(header_->doorbell));
  futex_wake(word(header_->host_pid));
  if (thread_.joinable()) thread_.join();
  if (heartbeat_.joinable()) heartbeat_.join();
  // Threads that posted before they saw the host go: let them go on.
  std::uint32_t index = 0;
  while (take(index)) {
    ga_slot& s = slot(index);
    s.reply = GA_REPLY_CONTINUE;
    release(s);
  }
}

// take() pops the next posted slot index, if any (single consumer: the service thread, or
// stop() once it has joined).
bool Channel::take(std::uint32_t& index) {
  std::uint32_t pos = header_->queue_tail.load(std::memory_order_relaxed);
  auto& cell = header_->queue[pos % GA_QUEUE_SIZE];
  if (cell.seq.load(std::memory_order_acquire) != pos + 1) return false;
  index = cell.slot;
  cell.seq.store(pos + GA_QUEUE_SIZE, std::memory_order_release);
  header_->queue_tail.store(pos + 1, std::memory_order_relaxed);
  return true;
}

void Channel::park(ga_slot& s) noexcept {
  std::uint32_t expected = GA_SLOT_POSTED;
  if (s.state.compare_exchange_strong(expected, GA_SLOT_PARK)) return;
  if (expected == GA_SLOT_SLEEPING && s.state.compare_exchange_strong(expected, GA_SLOT_PARK))
    futex_wake(word(s.state));
}

void Channel::release(ga_slot& s) noexcept {
  std::uint32_t old = s.state.exchange(GA_SLOT_REPLIED, std::memory_order_acq_rel);
  if (old == GA_SLOT_SLEEPING) futex_wake(word(s.state));
}

void Channel::serve() {
  std::uint64_t idle_since = __builtin_ia32_rdtsc();
  while (running_.load(std::memory_order_relaxed)) {
    std::uint32_t index = 0;
    if (take(index)) {
      ga_slot& s = slot(index);
      handler_->handle(s);
      hits_.fetch_add(1, std::memory_order_relaxed);
      release(s);
      idle_since = __builtin_ia32_rdtsc();
      continue;
    }
    if (std::uint64_t idle = __builtin_ia32_rdtsc() - idle_since; idle < kSpinTicks) {
      // Past the first few microseconds, let a target thread that shares this CPU run.
      if (idle > 30000)
        sched_yield();
      else
        __builtin_ia32_pause();
      continue;
    }
    std::uint32_t seen = header_->doorbell.load();
    header_->host_sleeping.store(1);
    std::uint32_t pos = header_->queue_tail.load(std::memory_order_relaxed);
    if (header_->queue[pos % GA_QUEUE_SIZE].seq.load(std::memory_order_acquire) != pos + 1)
      futex_wait(word(header_->doorbell), seen, 200000000L);
    header_->host_sleeping.store(0);
    idle_since = __builtin_ia32_rdtsc();
  }
}

std::string Channel::status() const {
  const ga_counters& c = header_->counters;
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "process %d: served by the agent: %" PRIu64 " hits; passed through: %" PRIu64
                " nested in the agent, %" PRIu64 " on hooks nobody waits on, %" PRIu64
                " without a free slot, %" PRIu64 " returns not watched (shadow stack full), %" PRIu64
                " without the host\n",
                pid_, c.posted.load(), c.reentrant.load(), c.disabled.load(), c.no_slot.load(),
                c.shadow_full.load(), c.no_host.load());
  return buf;
}

}  // namespace groutines::agent
