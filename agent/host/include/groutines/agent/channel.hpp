#pragma once
// Channel: the host's end of one target process's agent: the shared memory mapped from the
// agent's memfd, and the service thread that takes every hit the target's threads post and
// hands it to a Handler. Debugger-agnostic: the debugger adapter reads the agent's ga_info
// from the target, opens the channel with it, and patches functions to the hook indices it
// allocates here.
#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <variant>

#include "groutines_agent/protocol.h"

namespace groutines::agent {

// traced() tells whether process pid is traced (by a debugger), from /proc/PID/status; true
// when that cannot be read (the process is gone: the debugger will say so).
bool traced(pid_t pid);

class Channel {
 public:
  // Handler is what the service thread calls for each posted hit. handle() reads the slot's
  // request and writes its reply fields (reply, reply_call, regs.rax/xmm0); it must not throw.
  // The channel then releases the thread.
  class Handler {
   public:
    virtual ~Handler() = default;
    virtual void handle(ga_slot& slot) noexcept = 0;
  };

  // open() maps the shared memory of the agent in process pid described by info (read from
  // the target's `groutines_agent`), or says why it cannot.
  static std::variant<std::unique_ptr<Channel>, std::string> open(pid_t pid, const ga_info& info);
  ~Channel();
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  // start() announces this process as the host and starts the service thread, which calls
  // handler for every hit until stop().
  void start(Handler& handler);
  // stop() withdraws the host (threads posting from now on pass through), answers every hit
  // still posted with "continue" and joins the service thread. Not from the service thread.
  void stop();

  // withdraw() makes threads pass through from now on (and those waiting go on within their
  // next wait), without stopping the service thread. Thread-safe.
  void withdraw() noexcept;

  // add_hook() allocates a hook index for a patched entry and fills it in, enabled; -1 when
  // GA_MAX_HOOKS are in use.
  int add_hook(std::uint64_t entry, std::uint64_t resume);
  // set_enabled() turns hook index on or off (off: its calls pass through at once).
  void set_enabled(std::uint32_t index, bool on) noexcept;

  // park() asks the thread that posted slot (and waits for its reply) to call the agent's
  // park pad, where the debugger's breakpoint stops it. The service thread only.
  void park(ga_slot& slot) noexcept;

  // header() is the shared memory's header (counters, service request, hooks).
  ga_header& header() noexcept { return *header_; }
  // slot() is slot index.
  ga_slot& slot(std::uint32_t index) noexcept;
  // info() is the agent's ga_info the channel was opened with.
  const ga_info& info() const noexcept { return info_; }
  pid_t pid() const noexcept { return pid_; }
  // hits() counts the hits handled.
  std::uint64_t hits() const noexcept { return hits_.load(std::memory_order_relaxed); }
  // status() is one line for `groutine transport`: the process, the hits served and those
  // that passed through, and why ("process 123: served by the agent: 5 hits; passed ...").
  std::string status() const;
  // on_service_thread() tells whether the caller is the service thread.
  bool on_service_thread() const noexcept;

 private:
  Channel(pid_t pid, const ga_info& info, void* base);
  void serve();
  bool take(std::uint32_t& index);
  void release(ga_slot& slot) noexcept;

  pid_t pid_;
  ga_info info_;
  void* base_;
  ga_header* header_;
  Handler* handler_ = nullptr;
  std::thread thread_;
  std::thread heartbeat_;  // counts header.heartbeat up while the host lives
  std::atomic<bool> running_{false};
  std::atomic<std::uint64_t> hits_{0};
  std::uint32_t next_hook_ = 0;
};

}  // namespace groutines::agent
