// The agent transport of LldbBackend: calls of a hooked function reach groutines through
// libgroutines_agent.so in the target instead of breakpoint stops.
//
// A hook starts as a breakpoint, as on the breakpoint transport. At its first hit in a process
// whose agent is running, the function is patched while the target is stopped there: its
// entry jumps to a trampoline in memory near the code (mapped for the debugger by the agent,
// through its service stub, which the stopped thread is made to call), the breakpoint location
// is disabled and the thread moves on from the trampoline's relocated instructions. From then
// on its calls and the returns groutines await arrive on the channel's service thread, which
// delivers them into the same runtime with an AgentFrame. A function that cannot be patched
// stays on its breakpoint, with the reason in `groutine subscriptions`.
#include <dirent.h>
#include <dlfcn.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cctype>
#include <cinttypes>
#include <cstddef>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "groutines/agent/frame.hpp"
#include "groutines/agent/channel.hpp"
#include "groutines/agent/patcher.hpp"
#include "groutines/agent/preload.hpp"
#include "groutines/agent/unwinder.hpp"
#include "groutines/error.hpp"
#include "groutines/groutine.hpp"
#include "lldb_backend.hpp"
#include "target_state.hpp"

namespace groutines::plugin {

namespace {

// remote() tells whether target runs on another machine (a platform other than the host):
// its memory cannot be shared with this process.
bool remote(lldb::SBTarget& target) {
  lldb::SBPlatform platform = target.GetPlatform();
  return platform.IsValid() && platform.GetName() && std::string(platform.GetName()) != "host";
}

using agent::kPoolSize;
using agent::kReach;
constexpr std::size_t kMaxFunction = 1 << 20;  // bytes decoded to look for branches back

using agent::distance;

}  // namespace

class LldbBackend::AgentHandler final : public agent::Channel::Handler {
 public:
  explicit AgentHandler(LldbBackend& b) : b_(b) {}
  void handle(ga_slot& slot) noexcept override { b_.agent_hit(slot); }

 private:
  LldbBackend& b_;
};

// AgentProcess is the agent of the followed process as the host sees it.
struct LldbBackend::AgentProcess {
  std::uint32_t process_id = 0;
  pid_t pid = 0;
  std::string image;        // the program it runs (image_of()): another one after an execve
  std::string unavailable;  // why the agent does not serve this process ("": it does)
  bool retry = true;        // look for the agent again at the next hit
  ga_info info{};
  std::shared_ptr<agent::Channel> channel;
  std::unique_ptr<agent::Unwinder> unwinder;
  std::unique_ptr<AgentHandler> handler;
  lldb::SBBreakpoint stop_pad;  // planted while an agent hook is held
  lldb::SBBreakpoint park_pad;  // with the stop pad
  struct Pool {
    std::uint64_t base = 0, size = 0, used = 0;
  };
  std::vector<Pool> pools;
  // pool_near() is a pool with room for a trampoline within reach of address, or null.
  Pool* pool_near(std::uint64_t address) {
    for (auto& pool : pools)
      if (pool.used + agent::kTrampolineMax <= pool.size &&
          distance(pool.base + pool.used, address) < kReach)
        return &pool;
    return nullptr;
  }
  std::uint64_t service_for = 0;  // the function a pool was asked for, awaiting its re-hit
  std::uint64_t service_thread = 0;  // the thread sent to the service stub
  std::uint32_t service_stop = 0;    // in that stop
  // HookInfo is what the service thread needs of a patched function.
  struct HookInfo {
    // names are the functions hooked at this address (an alias, a second name), each with
    // whether the runtime holds its hook: one address is one agent hook, whatever the names.
    std::vector<std::pair<FunctionId, bool>> names;
    std::string function;  // the first name
    lldb::addr_t start = 0;  // 0: retired
    lldb::addr_t entry = 0;  // where its jump is
    std::uint8_t jump[5] = {};
    std::shared_ptr<const ArgumentLayout> layout;
    ReturnType return_type;
  };
  std::vector<HookInfo> hooks;                    // by agent hook index
  std::map<lldb::addr_t, std::uint32_t> patched;  // function start -> hook index
  struct Watch {
    std::uint64_t thread = 0;
    ReturnType return_type;
    std::vector<CallId> calls;  // the calls returning with it (one a name of the function)
  };
  std::unordered_map<CallId, Watch> watched;      // by the call id the agent reports
  std::unordered_map<std::uint64_t, std::vector<std::string>> stops;  // reasons by thread
};

LldbBackend::LldbBackend(lldb::SBDebugger debugger, EventLog& log)
    : debugger_(std::move(debugger)), log_(log) {
  // GROUTINES_TRANSPORT=auto|agent|breakpoint chooses the first transport (the tests run
  // every suite on both).
  if (const char* t = std::getenv("GROUTINES_TRANSPORT")) {
    std::string_view v = t;
    if (v == "breakpoint")
      transport_ = Transport::Breakpoint;
    else if (v == "agent")
      transport_ = Transport::Agent;
  }
  update_preload();
}

LldbBackend::~LldbBackend() { shutdown(); }

const std::string& LldbBackend::agent_library() {
  static const std::string path = [] {
    Dl_info info{};
    if (!dladdr(reinterpret_cast<void*>(&LldbBackend::agent_library), &info) || !info.dli_fname)
      return std::string();
    std::string self = info.dli_fname;
    std::string dir = self.substr(0, self.rfind('/') + 1);
    std::string agent = dir + "libgroutines_agent.so";
    return access(agent.c_str(), R_OK) == 0 ? agent : std::string();
  }();
  return path;
}

void LldbBackend::set_transport(Transport transport) {
  transport_ = transport;
  update_preload();
}


// update_preload() puts the agent in the LD_PRELOAD of the processes the debugger launches
// (target.env-vars), or takes it out on the breakpoint transport. The agent takes itself out
// of the environment as it starts, so that the target's children do not load it.
void LldbBackend::update_preload() {
  const std::string& agent = agent_library();
  if (agent.empty()) return;
  lldb::SBCommandReturnObject result;
  lldb::SBCommandInterpreter ci = debugger_.GetCommandInterpreter();
  if (transport_ == Transport::Breakpoint) {
    ci.HandleCommand("settings remove target.env-vars LD_PRELOAD", result);
    return;
  }
  std::string value = agent::preloadable(agent);
  if (value.empty()) {
    print("groutines: cannot link the agent to a path LD_PRELOAD can hold (" + agent +
          " has a blank, a colon or a quote): the processes launched load it later, at their "
          "first stop");
    return;
  }
  if (const char* inherited = std::getenv("LD_PRELOAD"); inherited && *inherited)
    if (std::string(inherited).find(agent) == std::string::npos &&
        std::string(inherited).find(value) == std::string::npos)
      value += std::string(":") + inherited;
  ci.HandleCommand(("settings set target.env-vars 'LD_PRELOAD=" + value + "'").c_str(), result);
}

void LldbBackend::offer_agent() {
  if (transport_ == Transport::Breakpoint || agent_library().empty()) return;
  lldb::SBTarget target = debugger_.GetSelectedTarget();
  lldb::SBProcess process = target.GetProcess();
  if (!process.IsValid() || process.GetState() != lldb::eStateStopped) return;
  if (process.GetUniqueID() == offered_) return;
  if (remote(target)) return;
  // Before libc is loaded (a launch stopped at its entry) nothing can load it, and the
  // agent in LD_PRELOAD is about to be loaded anyway.
  bool libc = false;
  for (std::uint32_t i = 0; i < target.GetNumModules(); ++i) {
    const char* name = target.GetModuleAtIndex(i).GetFileSpec().GetFilename();
    if (!name) continue;
    if (std::string(name) == "libgroutines_agent.so") return;
    libc = libc || std::string(name).rfind("libc.so", 0) == 0;
  }
  if (!libc) return;
  offered_ = process.GetUniqueID();
  lldb::SBError error;
  lldb::SBFileSpec image(agent_library().c_str());
  process.LoadImage(image, error);
  if (error.Fail())
    print(std::string("groutines: cannot load the agent into the process (calls stay on "
                      "breakpoints): ") + (error.GetCString() ? error.GetCString() : "?"));
}

void LldbBackend::withdraw_agent(std::uint32_t process_id) {
  std::shared_ptr<agent::Channel> channel;
  {
    std::lock_guard<std::mutex> g(live_mutex_);
    if (live_process_ == process_id) channel = live_;
  }
  if (channel) channel->withdraw();
}

// agent_still_traced() is false when the process the agent serves is no longer traced by
// the debugger (detached, with LLDB's state change still on its way).
bool LldbBackend::agent_still_traced() const {
  return !agent_ || !agent_->channel || agent::traced(agent_->pid);
}

void LldbBackend::shutdown() {
  if (agent_ && agent_->channel) agent_->channel->stop();
}

// agent_connect() finds the agent in process (followed now) and starts serving it, once per
// process; a process without it (not launched by this debugger, a static executable, a remote
// target) is served by breakpoints, and says why.
namespace {

// image_of() names the program target runs: its executable's path and build id. An execve
// keeps the process (and LLDB's process object) but replaces the program.
std::string image_of(lldb::SBTarget& target) {
  lldb::SBModule exe = target.GetModuleAtIndex(0);
  const char* uuid = exe.IsValid() ? exe.GetUUIDString() : nullptr;
  char path[4096] = "";
  target.GetExecutable().GetPath(path, sizeof path);
  return std::string(path) + "\n" + (uuid ? uuid : "");
}

}  // namespace

// agent_after_exec(): after an execve, the agent, its trampolines and patches went with the
// old program (with ASLR off, at the addresses the new one's code takes again), and LLDB keeps
// the hooks' locations the agent had disabled when the program is the same. Disconnected, the
// hooks are breakpoints again in the new program, and its own agent (LD_PRELOAD is inherited)
// is found and patched anew; a program without one stays on breakpoints. Seen by another
// program or build id, or (the same program again) the target's shared memory no longer
// naming this host: the new agent's is another, with no host yet.
void LldbBackend::agent_after_exec() {
  if (!agent_) return;
  bool replaced = agent_->image != image_of(target_);
  if (!replaced && agent_->channel) {
    std::uint32_t host = agent_->channel->header().host_pid.load();
    std::uint32_t seen = 0;
    lldb::SBError error;
    lldb::SBProcess process = target_.GetProcess();
    replaced = host != 0 && (process.ReadMemory(agent_->info.shm + offsetof(ga_header, host_pid),
                                                &seen, sizeof seen, error) != sizeof seen ||
                             error.Fail() || seen != host);
  }
  if (!replaced) return;
  agent_disconnect("the process executed a new program");
  for (auto& [fn, hook] : hooks_) hook.fallback.clear();
}

void LldbBackend::agent_connect(lldb::SBProcess& process) {
  std::uint32_t id = process.GetUniqueID();
  if (agent_ && agent_->process_id != id) agent_disconnect("the process was replaced");
  agent_after_exec();
  if (agent_ && (agent_->channel || !agent_->retry)) return;
  if (!agent_) {
    agent_ = std::make_unique<AgentProcess>();
    agent_->process_id = id;
    agent_->pid = static_cast<pid_t>(process.GetProcessID());
    agent_->image = image_of(target_);
  }
  AgentProcess& ap = *agent_;
  ap.unavailable.clear();
  ap.retry = false;
  if (remote(target_)) {
    ap.unavailable = "the target is remote";
    return;
  }
  lldb::SBSymbolContextList found = target_.FindSymbols("groutines_agent", lldb::eSymbolTypeData);
  lldb::addr_t at = LLDB_INVALID_ADDRESS;
  for (std::uint32_t i = 0; i < found.GetSize() && at == LLDB_INVALID_ADDRESS; ++i) {
    lldb::SBSymbol s = found.GetContextAtIndex(i).GetSymbol();
    if (s.IsValid()) at = s.GetStartAddress().GetLoadAddress(target_);
  }
  if (at == LLDB_INVALID_ADDRESS) {
    ap.unavailable = "the agent is not loaded in the process (launched without it, or static)";
    return;
  }
  lldb::SBError error;
  if (process.ReadMemory(at, &ap.info, sizeof ap.info, error) != sizeof ap.info || error.Fail()) {
    ap.unavailable = "cannot read the agent's state";
    return;
  }
  auto opened = agent::Channel::open(ap.pid, ap.info);
  if (auto* why = std::get_if<std::string>(&opened)) {
    ap.unavailable = *why;
    ap.retry = ap.info.magic != GA_MAGIC;  // its constructor has not run yet
    return;
  }
  ap.channel = std::move(std::get<std::unique_ptr<agent::Channel>>(opened));
  {
    std::lock_guard<std::mutex> g(live_mutex_);
    live_ = ap.channel;
    live_process_ = id;
  }
  ap.unwinder = std::make_unique<agent::Unwinder>(ap.pid);
  ap.handler = std::make_unique<AgentHandler>(*this);
  symbols_.clear();
  ap.channel->start(*ap.handler);
}

// maintain_stop_pad() keeps the stop-pad breakpoint planted while an agent hook is held, and
// only then: with every hook released, the plugin leaves no breakpoint behind. Only where
// LLDB can change breakpoints (a callback, the prompt).
void LldbBackend::maintain_stop_pad() {
  if (!agent_ || !agent_->channel) return;
  AgentProcess& ap = *agent_;
  bool held = std::any_of(ap.hooks.begin(), ap.hooks.end(), [](const auto& h) {
    return std::any_of(h.names.begin(), h.names.end(), [](const auto& n) { return n.second; });
  });
  auto plant_pad = [&](lldb::SBBreakpoint& pad, std::uint64_t address,
                       lldb::SBBreakpointHitCallback callback) {
    pad = target_.BreakpointCreateByAddress(address);
    if (!pad.IsValid()) return;
    pad.SetCallback(callback, this);
    protect(pad);
  };
  if (held && !ap.stop_pad.IsValid()) {
    plant_pad(ap.stop_pad, ap.info.stop_pad, &LldbBackend::on_stop_pad_hit);
    plant_pad(ap.park_pad, ap.info.park_pad, &LldbBackend::on_park_pad_hit);
  } else if (!held && ap.stop_pad.IsValid() && ap.stops.empty()) {
    retire_pads(ap);
  }
}

// retire_pads() retires the stop and park pads' breakpoints (ours() knows them as retired).
void LldbBackend::retire_pads(AgentProcess& ap) {
  for (lldb::SBBreakpoint* pad : {&ap.stop_pad, &ap.park_pad}) {
    if (pad->IsValid() && target_.IsValid()) retire(pad->GetID());
    *pad = lldb::SBBreakpoint();
  }
}

// agent_disconnect() stops serving the agent of the followed process (it ended, or another
// replaced it): the calls it watched are delivered as unwound, and the hooks' breakpoint
// locations come back for the next process.
void LldbBackend::agent_disconnect(const std::string& why) {
  if (!agent_) return;
  std::unique_ptr<AgentProcess> ap = std::move(agent_);
  {
    std::lock_guard<std::mutex> g(live_mutex_);
    live_.reset();
    live_process_ = 0;
  }
  if (ap->channel) ap->channel->stop();
  retire_pads(*ap);
  for (auto& [id, hook] : hooks_) {
    for (auto& [location, index] : hook.agent) {
      lldb::SBBreakpointLocation l = hook.breakpoint.FindLocationByID(location);
      if (l.IsValid()) l.SetEnabled(true);
    }
    hook.agent.clear();
  }
  if (!ap->watched.empty() && runtime_) {
    LldbFrame frame = LldbFrame::gone(why);
    for (const auto& [reported, w] : ap->watched)
      for (CallId call : w.calls)
        runtime_->deliver_return(call, w.thread, Clock::now(), frame, /*unwound=*/true);
  }
}

namespace {

// free_gap_near() is agent::pool_address_near() over process's mapped regions.
std::uint64_t free_gap_near(lldb::SBProcess& process, std::uint64_t address) {
  lldb::SBMemoryRegionInfoList regions = process.GetMemoryRegions();
  std::vector<std::pair<std::uint64_t, std::uint64_t>> mapped;
  lldb::SBMemoryRegionInfo region;
  for (std::uint32_t i = 0; i < regions.GetSize(); ++i)
    if (regions.GetMemoryRegionAtIndex(i, region) && region.IsMapped())
      mapped.emplace_back(region.GetRegionBase(), region.GetRegionEnd());
  return agent::pool_address_near(std::move(mapped), address);
}

// plan_for() reads the function whose entry is location and decides its patch, or says why it
// cannot be patched.
std::variant<agent::PatchPlan, std::string> plan_for(lldb::SBTarget& target, lldb::SBProcess& process,
                                                     lldb::SBBreakpointLocation& location) {
  lldb::addr_t start = location.GetLoadAddress();
  lldb::SBAddress address = location.GetAddress();
  lldb::SBSymbol symbol = address.GetSymbol();
  lldb::SBFunction function = address.GetFunction();
  lldb::addr_t end = LLDB_INVALID_ADDRESS;
  if (symbol.IsValid() && symbol.GetStartAddress().GetLoadAddress(target) == start)
    end = symbol.GetEndAddress().GetLoadAddress(target);
  if ((end == LLDB_INVALID_ADDRESS || end <= start) && function.IsValid())
    end = function.GetEndAddress().GetLoadAddress(target);
  if (end == LLDB_INVALID_ADDRESS || end <= start) return std::string("the function's size is unknown");
  std::vector<std::uint8_t> bytes(std::min<std::size_t>(end - start, kMaxFunction));
  lldb::SBError error;
  if (process.ReadMemory(start, bytes.data(), bytes.size(), error) != bytes.size() || error.Fail())
    return std::string("cannot read the function's code");
  return agent::plan_patch(start, bytes.data(), bytes.size());
}

}  // namespace

// fall_back() records why a location of hook stays on its breakpoint (once); on the agent
// transport it says so too.
void LldbBackend::fall_back(Hook& hook, lldb::break_id_t location, const std::string& why) {
  if (!hook.fallback.try_emplace(location, why).second) return;
  if (transport_ == Transport::Agent)
    print("groutines: " + hook.function + " stays on a breakpoint: " + why);
}

// others_here() tells whether thread is stopped at a breakpoint that is not the plugin's too
// (the user's on the same function): then the user sees this stop, and the thread must be
// where the function starts, not sent to the agent or moved to a trampoline.
bool LldbBackend::others_here(lldb::SBThread& thread) const {
  if (thread.GetStopReason() != lldb::eStopReasonBreakpoint) return false;
  auto count = static_cast<std::uint32_t>(thread.GetStopReasonDataCount());
  for (std::uint32_t k = 0; k < count; k += 2)
    if (!ours(static_cast<lldb::break_id_t>(thread.GetStopReasonDataAtIndex(k)))) return true;
  return false;
}

// agent_before_call() runs in a hook's breakpoint callback before the call is delivered. It
// returns false when it sent the thread to the agent's service stub to map trampoline memory
// near the function: the thread comes back to the same breakpoint, and the call is delivered
// then.
bool LldbBackend::agent_before_call(lldb::SBProcess& process, lldb::SBThread& thread, Hook& hook,
                                    lldb::SBBreakpointLocation& location) {
  if (transport_ == Transport::Breakpoint || agent_library().empty()) return true;
  agent_connect(process);
  AgentProcess& ap = *agent_;
  if (!ap.channel) {
    // Until the agent has started (the dynamic loader and libc's start call malloc first), a
    // call goes by its breakpoint and the patch waits for a later one.
    if (!ap.retry) fall_back(hook, location.GetID(), ap.unavailable);
    return true;
  }
  if (hook.agent.count(location.GetID()) || hook.fallback.count(location.GetID())) return true;
  lldb::addr_t start = location.GetLoadAddress();
  if (ap.patched.count(start) || others_here(thread)) return true;
  ga_service& service = ap.channel->header().service;
  // Another name's breakpoint at the same address, in the stop that sent the thread to the
  // agent: its call too comes again.
  if (ap.service_for != 0 && ap.service_thread == thread.GetThreadID() &&
      ap.service_stop == process.GetStopID())
    return false;
  if (ap.service_for != 0 && ap.service_thread != thread.GetThreadID()) return true;
  if (ap.service_for == start) {
    ap.service_for = 0;
    if (service.state.load() != 2) {
      fall_back(hook, location.GetID(), "the agent did not map trampoline memory");
    } else if (service.result < 0) {
      fall_back(hook, location.GetID(), std::string("no memory for trampolines within 2 GB: ") +
                                                   std::strerror(static_cast<int>(-service.result)));
    } else {
      ap.pools.push_back({static_cast<std::uint64_t>(service.result), service.size, 0});
    }
    service.state.store(0);
    return true;
  }
  if (ap.pool_near(start)) return true;
  auto plan = plan_for(target_, process, location);
  if (auto* why = std::get_if<std::string>(&plan)) {
    fall_back(hook, location.GetID(), *why);
    return true;
  }
  // No pool in reach: find a free gap near the function and have the agent map it there.
  std::uint64_t best = free_gap_near(process, start);
  if (!best) {
    fall_back(hook, location.GetID(), "no free memory within 2 GB of the function");
    return true;
  }
  lldb::SBFrame f = thread.GetFrameAtIndex(0);
  std::uint64_t sp = f.GetSP(), pc = f.GetPC();
  service.address = best;
  service.size = kPoolSize;
  service.result = 0;
  service.state.store(1);
  lldb::SBError error;
  sp -= 8;
  if (process.WriteMemory(sp, &pc, sizeof pc, error) != sizeof pc || error.Fail() ||
      !f.FindRegister("rsp").SetValueFromCString(hex(sp).c_str(), error) ||
      !f.SetPC(ap.info.service_stub)) {
    service.state.store(0);
    fall_back(hook, location.GetID(), "cannot make the thread call the agent");
    return true;
  }
  ap.service_for = start;
  ap.service_thread = thread.GetThreadID();
  ap.service_stop = process.GetStopID();
  ++hook.service_hits;
  return false;
}

// agent_replanted(): the old breakpoint's location ids name nothing any more. An entry the
// agent patched keeps its patch and its calls come through the agent: the new breakpoint's
// location there is disabled at once, as the old one was.
void LldbBackend::agent_replanted(Hook& hook) {
  hook.agent.clear();
  if (!agent_ || !agent_->channel) return;
  for (std::size_t i = 0; i < hook.breakpoint.GetNumLocations(); ++i) {
    lldb::SBBreakpointLocation l = hook.breakpoint.GetLocationAtIndex(static_cast<std::uint32_t>(i));
    auto p = agent_->patched.find(l.GetLoadAddress());
    if (!l.IsValid() || p == agent_->patched.end()) continue;
    l.SetEnabled(false);
    hook.agent[l.GetID()] = p->second;
  }
}

// agent_after_call() runs in a hook's breakpoint callback after the call was delivered: it
// patches the function when that is safe now (no other thread in its first bytes or at its
// breakpoint, the target not stopping), so that its next calls come through the agent.
void LldbBackend::agent_after_call(lldb::SBProcess& process, lldb::SBThread& thread, FunctionId fn,
                                   lldb::SBBreakpointLocation& location, LldbFrame& frame) {
  if (!agent_ || !agent_->channel || stop_requested_ || transport_ == Transport::Breakpoint ||
      others_here(thread))
    return;
  auto h = hooks_.find(fn);
  if (h == hooks_.end()) return;
  Hook& hook = h->second;
  const lldb::break_id_t loc = location.GetID();
  AgentProcess& ap = *agent_;
  lldb::addr_t start = location.GetLoadAddress();
  if (auto a = hook.agent.find(loc); a != hook.agent.end()) {
    // A patched function's breakpoint enabled again (a re-run?): the agent serves it.
    location.SetEnabled(false);
    lldb::SBFrame f = thread.GetFrameAtIndex(0);
    if (f.GetPC() == start) f.SetPC(ap.channel->header().hooks[a->second].resume);
    return;
  }
  if (hook.fallback.count(loc)) return;
  auto refuse = [&](const std::string& why) { fall_back(hook, loc, why); };

  std::uint32_t index = 0;
  std::uint64_t resume = 0;
  std::uint64_t window_end = 0;
  if (auto p = ap.patched.find(start); p != ap.patched.end()) {
    // A library unloaded and another loaded at the same place: the old patch is gone.
    const AgentProcess::HookInfo& old = ap.hooks[p->second];
    std::uint8_t now[5] = {};
    lldb::SBError read_error;
    if (process.ReadMemory(old.entry, now, sizeof now, read_error) != sizeof now ||
        std::memcmp(now, old.jump, sizeof now) != 0) {
      ap.channel->set_enabled(p->second, false);
      ap.hooks[p->second].names.clear();
      ap.hooks[p->second].start = 0;
      ap.patched.erase(p);
    }
  }
  if (auto p = ap.patched.find(start); p != ap.patched.end()) {
    // Patched already under another name or by an earlier holder: one address, one hook.
    index = p->second;
    resume = ap.channel->header().hooks[index].resume;
    window_end = start;
  } else {
    // A long double returns in st0, which the agent does not carry: breakpoints serve such a
    // function, so that a forced or rewritten return value reaches its caller.
    bool returns_x87 = false;
    try {
      returns_x87 = frame.return_type().type == sysv::TypeClass::X87;
    } catch (const std::exception&) {
      // Without debug info: the value's own kind decides, never st0.
    }
    if (returns_x87)
      return refuse("it returns a long double, in st0, which the agent does not carry");
    auto plan = plan_for(target_, process, location);
    if (auto* why = std::get_if<std::string>(&plan)) return refuse(*why);
    const agent::PatchPlan& pp = std::get<agent::PatchPlan>(plan);
    window_end = pp.entry + pp.window;
    // No thread may be inside the bytes the patch replaces, nor stopped at this breakpoint.
    for (std::uint32_t i = 0; i < process.GetNumThreads(); ++i) {
      lldb::SBThread t = process.GetThreadAtIndex(i);
      if (t.GetThreadID() == thread.GetThreadID()) continue;
      std::uint64_t pc = t.GetFrameAtIndex(0).GetPC();
      if (pc >= start && pc < window_end) return;  // try again at the next call
    }
    AgentProcess::Pool* pool = ap.pool_near(start);
    if (!pool) return;  // the next call asks for one
    std::uint64_t at = pool->base + pool->used;
    int new_index = ap.channel->add_hook(start, 0);
    if (new_index < 0) return refuse("the agent's table of hooks is full");
    auto tramp = agent::build_trampoline(pp, at, static_cast<std::uint32_t>(new_index),
                                         ap.info.enter_stub);
    if (auto* why = std::get_if<std::string>(&tramp)) {
      ap.channel->set_enabled(static_cast<std::uint32_t>(new_index), false);
      return refuse(*why);
    }
    const agent::Trampoline& t = std::get<agent::Trampoline>(tramp);
    lldb::SBError error;
    if (process.WriteMemory(at, t.bytes.data(), t.bytes.size(), error) != t.bytes.size() ||
        error.Fail()) {
      ap.channel->set_enabled(static_cast<std::uint32_t>(new_index), false);
      return refuse("cannot write the trampoline");
    }
    pool->used += (t.bytes.size() + 15) & ~std::size_t{15};
    index = static_cast<std::uint32_t>(new_index);
    resume = at + t.resume;
    ap.channel->header().hooks[index].resume = resume;
    // Take out every breakpoint location over the patched bytes (lldb-server would keep its
    // int3 in them and lose track), write the jump, and put them back over the new bytes.
    location.SetEnabled(false);
    std::vector<lldb::SBBreakpointLocation> lifted;
    auto lift = [&](lldb::SBBreakpointLocation l) {
      if (!l.IsValid()) return;
      lldb::addr_t a = l.GetLoadAddress();
      if (a >= start && a < window_end && l.IsEnabled()) {
        l.SetEnabled(false);
        lifted.push_back(l);
      }
    };
    // Found without looking through every breakpoint of the target (with thousands of hooks,
    // that made hooking them all quadratic): the hooks' locations at an entry there, from
    // entries_ (their others, not at an entry, are disabled); the return sites there; the
    // user's breakpoints, foreign_ (current: keep_planted() ran at this hit), and those
    // retired (a return site right after a call that ends the function before).
    index_entries(process, thread.GetThreadID());
    for (auto e = entries_.lower_bound(start); e != entries_.end() && e->first < window_end; ++e)
      for (const auto& [id, location_id] : e->second)
        if (auto named = hooks_.find(id); named != hooks_.end())
          lift(named->second.breakpoint.FindLocationByID(location_id));
    for (auto s = sites_.lower_bound(start); s != sites_.end() && s->first < window_end; ++s)
      if (s->second.breakpoint.IsValid())
        for (std::size_t k = 0; k < s->second.breakpoint.GetNumLocations(); ++k)
          lift(s->second.breakpoint.GetLocationAtIndex(static_cast<std::uint32_t>(k)));
    std::vector<lldb::break_id_t> others = foreign_;
    others.insert(others.end(), retired_.begin(), retired_.end());
    for (lldb::break_id_t id : others) {
      lldb::SBBreakpoint bp = target_.FindBreakpointByID(id);
      for (std::size_t k = 0; bp.IsValid() && k < bp.GetNumLocations(); ++k)
        lift(bp.GetLocationAtIndex(static_cast<std::uint32_t>(k)));
    }
    std::vector<std::uint8_t> jump = agent::entry_jump(pp.entry, at);
    bool wrote = process.WriteMemory(pp.entry, jump.data(), jump.size(), error) == jump.size() &&
                 error.Success();
    for (auto& l : lifted) l.SetEnabled(true);
    if (!wrote) {
      location.SetEnabled(true);
      ap.channel->set_enabled(index, false);
      return refuse("cannot write the function's entry");
    }
    ap.patched[start] = index;
    if (ap.hooks.size() <= index) ap.hooks.resize(index + 1);
    AgentProcess::HookInfo& info = ap.hooks[index];
    info.start = start;
    info.entry = pp.entry;
    std::memcpy(info.jump, jump.data(), sizeof info.jump);
    try {
      info.layout = frame.argument_layout();
      info.return_type = frame.return_type();
    } catch (const std::exception&) {
      // Without debug info: arguments by position, return values raw.
    }
  }
  AgentProcess::HookInfo& info = ap.hooks[index];
  auto name = std::find_if(info.names.begin(), info.names.end(),
                           [&](const auto& n) { return n.first == fn; });
  if (name == info.names.end())
    info.names.emplace_back(fn, true);
  else
    name->second = true;
  if (info.function.empty()) info.function = hook.function;
  ap.channel->set_enabled(index, true);
  location.SetEnabled(false);
  hook.agent[loc] = index;
  hook.patched = true;
  maintain_stop_pad();
  // The thread stopped here goes on from the relocated first instructions (unless a groutine
  // made it skip the call, which moved it already).
  lldb::SBFrame f = thread.GetFrameAtIndex(0);
  if (f.GetPC() == start) f.SetPC(resume);
}

// modules_changed() is told that the target's libraries changed (a breakpoint gained or
// lost locations): the unwinder and the symbol cache read them again.
void LldbBackend::modules_changed() {
  symbols_.clear();
  agent_after_exec();
  if (agent_ && !agent_->channel) agent_->retry = true;
  if (agent_ && agent_->unwinder) agent_->unwinder->modules_changed();
}

// agent_hold() turns the agent hooks of function id on or off as groutines start or stop
// waiting on it: off, its calls pass through the agent without reaching the host.
void LldbBackend::agent_hold(FunctionId id, bool on) {
  if (!agent_ || !agent_->channel) return;
  for (std::uint32_t i = 0; i < agent_->hooks.size(); ++i) {
    AgentProcess::HookInfo& h = agent_->hooks[i];
    if (h.start == 0) continue;
    bool any = false;
    for (auto& [name, held] : h.names) {
      if (name == id) held = on;
      any = any || held;
    }
    agent_->channel->set_enabled(i, any);
  }
}

// agent_serves() tells whether function id has an agent hook in the followed process.
bool LldbBackend::agent_serves(FunctionId id) const {
  if (!agent_ || !agent_->channel) return false;
  for (const auto& h : agent_->hooks)
    if (h.start != 0)
      for (const auto& [name, held] : h.names)
        if (name == id) return true;
  return false;
}

void LldbBackend::agent_watch(CallId call, AgentFrame& frame) {
  // A second name's groutines awaiting the same call's return: it comes with the first's.
  if (frame.slot().reply & GA_REPLY_WATCH) {
    auto w = agent_->watched.find(frame.slot().reply_call);
    if (w != agent_->watched.end()) {
      w->second.calls.push_back(call);
      return;
    }
  }
  frame.watch(call);
  AgentProcess::Watch& w = agent_->watched[call];
  w.thread = frame.thread_id();
  w.calls = {call};
  if (frame.slot().hook < agent_->hooks.size()) w.return_type = agent_->hooks[frame.slot().hook].return_type;
}

void LldbBackend::agent_unwatch(CallId call) {
  if (!agent_) return;
  for (auto it = agent_->watched.begin(); it != agent_->watched.end(); ++it) {
    auto& calls = it->second.calls;
    auto found = std::find(calls.begin(), calls.end(), call);
    if (found == calls.end()) continue;
    calls.erase(found);
    if (calls.empty()) agent_->watched.erase(it);
    return;
  }
}

bool LldbBackend::is_stop_pad(lldb::break_id_t id) const {
  return agent_ && ((agent_->stop_pad.IsValid() && agent_->stop_pad.GetID() == id) ||
                    (agent_->park_pad.IsValid() && agent_->park_pad.GetID() == id));
}

bool LldbBackend::frame_at_entry(Frame& frame) {
  if (auto* a = dynamic_cast<AgentFrame*>(&frame)) return a->where() == agent::Where::Entry;
  return static_cast<LldbFrame&>(frame).where() == LldbFrame::Where::Entry;
}

// --- The service thread ---

void LldbBackend::agent_hit(ga_slot& slot) noexcept {
  if (!runtime_ || !agent_ || !agent_->channel) return;
  // Wait for the runtime without blocking a thread that stops the channel while holding it.
  std::unique_lock<RecursiveLock> lock = runtime_->try_lock();
  while (!lock.owns_lock()) {
    if (!agent_ || !agent_->channel || agent_->channel->header().host_pid.load() == 0) return;
    std::this_thread::sleep_for(std::chrono::microseconds(20));
    lock = runtime_->try_lock();
  }
  auto start = std::chrono::steady_clock::now();
  try {
    agent_deliver(slot);
    agent::profile("deliveries", start);
  } catch (const std::exception& e) {
    print(std::string("groutines: error at an agent hit: ") + e.what());
  }
  // Breakpoints to plant or delete: the thread stops on the stop pad, where LLDB can, and goes
  // on.
  if (sync_wanted_ && slot.kind != GA_HIT_UNWOUND && agent_ && agent_->stop_pad.IsValid())
    slot.reply |= GA_REPLY_STOP;
  sync_wanted_ = false;
  agent_frame_ = nullptr;
  {
    std::lock_guard<std::mutex> g(park_mutex_);
    parked_ = false;  // a thread parked for this delivery's evaluations may go
  }
  park_cv_.notify_all();
}

void LldbBackend::agent_deliver(ga_slot& slot) {
  AgentProcess& ap = *agent_;
  const std::uint64_t tid = slot.tid;
  auto make_bare_frame = [&](agent::Where where) {
    return AgentFrame(ap.pid, slot, where, ap.unwinder.get(),
                      [this](std::size_t i, std::uint64_t pc) { return symbolize(i, pc); },
                      ap.info.return_stub,
                      [this](AgentFrame& f, std::string_view e) { return agent_evaluate(f, e); });
  };
  auto make_frame = [&](agent::Where where) {
    AgentFrame frame = make_bare_frame(where);
    frame.use_thread_reader([this](AgentFrame& f) { return agent_threads(f); });
    return frame;
  };
  stop_requested_ = false;
  stop_reasons_.clear();
  if (slot.kind == GA_HIT_CALL) {
    if (slot.hook >= ap.hooks.size()) return;
    AgentProcess::HookInfo& info = ap.hooks[slot.hook];
    AgentFrame frame = make_frame(agent::Where::Entry);
    frame.use_layout(info.layout);
    frame.set_return_type(info.return_type);  // for a forced return
    agent_frame_ = &frame;
    // Each name held is a call of that function, as a breakpoint by each name would report.
    std::vector<FunctionId> names;
    for (const auto& [name, held] : info.names)
      if (held && hooks_.count(name)) names.push_back(name);
    for (FunctionId fn : names)
      if (!(frame.slot().reply & GA_REPLY_SKIP)) agent_call(frame, fn);  // skipped: no more call
    return;
  }
  auto w = ap.watched.find(slot.call);
  if (w == ap.watched.end()) return;  // nobody waits for it any more
  AgentProcess::Watch watch = std::move(w->second);
  ap.watched.erase(w);
  AgentFrame frame = make_frame(agent::Where::Return);
  frame.set_return_type(watch.return_type);
  agent_frame_ = &frame;
  const bool unwound = slot.kind == GA_HIT_UNWOUND;
  if (unwound) {
    for (CallId call : watch.calls)
      runtime_->deliver_return(call, tid, Clock::now(), frame, /*unwound=*/true);
    return;
  }
  // The names of one call, in the order their calls were delivered. (A tail call and its
  // caller return in two hits, the callee's first: the agent replaced the return address the
  // callee found with its return stub, which the callee's return leads to again.)
  for (CallId call : watch.calls) deliver_value_return(call, watch.return_type, tid, frame);
  if (stop_requested_) {
    frame.stop();
    ap.stops[tid] = stop_reasons_;
  }
}

// agent_call() delivers the call frame stands at as a call of fn, and records its outcome in
// the reply.
void LldbBackend::agent_call(AgentFrame& frame, FunctionId fn) {
  AgentProcess& ap = *agent_;
  const std::uint64_t tid = frame.thread_id();
  auto hook = hooks_.find(fn);
  ++hook->second.agent_hits;
  {
    Outcome out = runtime_->deliver_call(fn, tid, Clock::now(), frame);
    if (LogEntry* e = log_.find(last_call_seq_)) {
      std::string regs = frame.cached_view();
      if (!regs.empty()) e->detail += " " + regs;
      try {
        for (Argument& a : frame.arguments()) e->args.emplace_back(std::move(a.name), std::move(a.value));
      } catch (const std::exception&) {
      }
      if (out.forced_return) {
        e->detail += " skipped: returns " + to_string(*out.forced_return);
        e->skipped = true;
        e->value = *out.forced_return;
        if (LogEntry* r = log_.find(last_return_seq_); r && r->call == e->call && r->skipped)
          r->value = *out.forced_return;
      }
    }
    if (out.forced_return) frame.force_return(*out.forced_return);
  }
  if (stop_requested_) {
    frame.stop();
    ap.stops[tid] = stop_reasons_;
  }
}

// symbolize() names the frame at pc as LldbFrame::backtrace() does, from the modules' symbols
// and DWARF as the agent's unwinder reads them (LLDB may not be asked on the service thread:
// its locks can be held by a thread waiting for the target), cached by pc.
StackFrame LldbBackend::symbolize(std::size_t index, std::uint64_t pc) {
  auto cached = symbols_.find(pc);
  if (cached != symbols_.end()) return cached->second;
  agent::Symbol sym;
  if (agent_ && agent_->unwinder) sym = agent_->unwinder->symbolize(pc, index > 0);
  StackFrame frame{pc, std::move(sym.module), std::move(sym.function),
                   sym.start != 0 && pc > sym.start ? pc - sym.start : 0, std::move(sym.file),
                   sym.line};
  symbols_.emplace(pc, frame);
  return frame;
}

// --- Evaluation: a thread parked in the agent, the target stopped ---


// serve_parked() asks the thread of frame, which waits in the agent, to call the park pad
// (once a delivery) and waits, at most 20 s, until a breakpoint callback has served request
// there; false if the target did not stop for it.
bool LldbBackend::serve_parked(AgentFrame& frame, ParkRequest& request) {
  std::unique_lock<std::mutex> g(park_mutex_);
  park_request_ = &request;
  if (!parked_) {
    parked_ = true;
    agent_->channel->park(frame.slot());
  }
  bool done = park_cv_.wait_for(g, std::chrono::seconds(20), [&] { return request.done; });
  park_request_ = nullptr;
  return done;
}

// agent_evaluate() evaluates expression on the thread of frame, which waits in the agent: it
// asks the thread to call the park pad and waits until a breakpoint callback (the park pad's,
// or any other waiting for the runtime meanwhile) has evaluated it there, with the thread's
// registers set to the call's or the return's for the time of the evaluation.
Value LldbBackend::agent_evaluate(AgentFrame& frame, std::string_view expression) {
  if (!agent_ || !agent_->channel) throw Error("no process to evaluate in");
  ParkRequest request;
  request.thread = frame.thread_id();
  request.regs = frame.slot().regs;
  request.where = frame.where();
  request.expression = std::string(expression);
  if (!serve_parked(frame, request))
    throw Error("cannot evaluate '" + request.expression + "': the target did not stop for it");
  if (!request.error.empty()) throw Error(request.error);
  return request.result;
}

std::vector<ThreadState> LldbBackend::agent_threads(AgentFrame& frame) {
  if (!agent_ || !agent_->channel) throw Error("threads: no process");
  std::vector<ThreadState> threads;
  ParkRequest request;
  request.thread = frame.thread_id();
  request.expression = "threads()";
  request.job = [&](lldb::SBProcess& process) {
    threads = threads_of_process(process, request.thread);
  };
  if (!serve_parked(frame, request)) throw Error("threads: the target did not stop for it");
  if (!request.error.empty()) throw Error(request.error);
  return threads;
}

// serve_park() does the evaluation asked for, if any, on the stopped process (from a
// breakpoint callback).
void LldbBackend::serve_park(lldb::SBProcess& process) {
  std::unique_lock<std::mutex> g(park_mutex_);
  if (!park_request_ || park_request_->done) return;
  ParkRequest& r = *park_request_;
  g.unlock();
  lldb::SBThread thread = process.GetThreadByID(r.thread);
  if (r.job) {
    try {
      r.job(process);
    } catch (const std::exception& e) {
      r.error = r.expression + ": " + e.what();
    }
  } else if (!thread.IsValid()) {
    r.error = "cannot evaluate '" + r.expression + "': its thread is gone";
  } else {
    // The thread stays as it waits in the agent (LLDB saves and restores it around the
    // expression); the registers the expression names are the call's, put in as values.
    try {
      LldbFrame at(process, thread, LldbFrame::Where::Entry);
      r.result = at.evaluate(agent::with_registers(r.expression, r.regs));
    } catch (const std::exception& e) {
      r.error = agent::as_written(e.what(), r.expression, r.regs);
    }
  }
  g.lock();
  r.done = true;
  park_cv_.notify_all();
}

std::unique_lock<RecursiveLock> LldbBackend::lock_serving(lldb::SBProcess& process) {
  std::unique_lock<RecursiveLock> lock = runtime_->try_lock();
  while (!lock.owns_lock()) {
    serve_park(process);
    std::this_thread::sleep_for(std::chrono::microseconds(20));
    lock = runtime_->try_lock();
  }
  return lock;
}

bool LldbBackend::on_park_pad_hit(void* baton, lldb::SBProcess& process, lldb::SBThread&,
                                  lldb::SBBreakpointLocation&) {
  auto& b = *static_cast<LldbBackend*>(baton);
  // Without the runtime's lock, which the delivering service thread holds: serve its
  // evaluations until its delivery ends, then let the thread wait on for its reply.
  std::unique_lock<std::mutex> g(b.park_mutex_);
  while (b.parked_) {
    if (b.park_request_ && !b.park_request_->done) {
      g.unlock();
      b.serve_park(process);
      g.lock();
      continue;
    }
    b.park_cv_.wait_for(g, std::chrono::milliseconds(10));
  }
  return false;
}

// --- The stop pad ---

bool LldbBackend::on_stop_pad_hit(void* baton, lldb::SBProcess& process, lldb::SBThread& thread,
                                  lldb::SBBreakpointLocation&) {
  return static_cast<LldbBackend*>(baton)->stop_pad_hit(process, thread);
}

// stop_pad_hit() is a thread the agent sent to the stop pad because a groutine asked to stop
// there, or because LLDB has breakpoints to plant or delete: it is put back where it was going
// (the function's entry, or the return address) and, at a groutine's stop, the reasons are
// printed and the target stops.
bool LldbBackend::stop_pad_hit(lldb::SBProcess& process, lldb::SBThread& thread) {
  if (!runtime_) return true;
  auto lock = lock_serving(process);
  Callback in_callback(*this);
  apply_deferred();
  lldb::SBFrame f = thread.GetFrameAtIndex(0);
  std::uint64_t sp = f.GetSP();
  std::uint64_t to = 0;
  lldb::SBError error;
  if (process.ReadMemory(sp, &to, sizeof to, error) == sizeof to && error.Success()) {
    f.FindRegister("rsp").SetValueFromCString(hex(sp + 8).c_str(), error);
    f.SetPC(to);
    thread.SetSelectedFrame(0);
  }
  bool stop = false;
  if (agent_) {
    auto reasons = agent_->stops.find(thread.GetThreadID());
    if (reasons != agent_->stops.end()) {
      for (const std::string& r : reasons->second) print(r);
      agent_->stops.erase(reasons);
      stop = true;
    }
  }
  // What the service thread let go (a hook whose last groutine ended there, and with it the
  // pads) goes now: the process may make no other stop before it exits.
  maintain_stop_pad();
  delete_retired(process, thread.GetThreadID());
  if (!stop) return finish_callback(process);  // only for LLDB's breakpoints: it goes on
  process.SetSelectedThread(thread);
  stopping_stop_ = process.GetStopID();
  continuing_stop_ = 0;
  return true;
}

// --- Views ---

std::vector<LldbBackend::ReturnSiteView> LldbBackend::agent_return_sites() const {
  std::vector<ReturnSiteView> out;
  if (!agent_ || !agent_->channel || agent_->watched.empty()) return out;
  // The return addresses are in the threads' shadow stacks (read while the target may run:
  // a snapshot).
  std::map<lldb::addr_t, std::vector<CallId>> by_address;
  for (std::uint32_t i = 0; i < GA_MAX_SLOTS; ++i) {
    ga_slot& slot = agent_->channel->slot(i);
    if (__atomic_load_n(&slot.tid, __ATOMIC_ACQUIRE) == 0) continue;
    for (std::uint32_t k = 0; k < slot.depth && k < GA_SHADOW_DEPTH; ++k)
      if (auto w = agent_->watched.find(slot.shadow[k].call); w != agent_->watched.end())
        for (CallId call : w->second.calls) by_address[slot.shadow[k].original].push_back(call);
  }
  for (auto& [address, calls] : by_address)
    out.push_back(ReturnSiteView{address, LLDB_INVALID_BREAK_ID, std::move(calls)});
  return out;
}

std::string LldbBackend::agent_status() const {
  const char* names[] = {"auto", "agent", "breakpoint"};
  std::string out = std::string("transport: ") + names[static_cast<int>(transport_)] + "\n";
  if (agent_library().empty()) return out + "agent: not built (libgroutines_agent.so is not beside the plugin)\n";
  out += "agent: " + agent_library() + "\n";
  if (!agent_) return out + "process: none followed yet\n";
  if (!agent_->channel) return out + "process: served by breakpoints: " + agent_->unavailable + "\n";
  return out + agent_->channel->status();
}

}  // namespace groutines::plugin
