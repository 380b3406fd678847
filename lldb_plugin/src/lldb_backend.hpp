#pragma once
// LldbBackend: the core's Backend made of LLDB breakpoints. A call hook is one breakpoint by
// name on the function's first instruction; a watched return is a breakpoint on the return
// address, shared by every pending call returning there and matched to its call by thread and
// stack pointer. Every method runs under the runtime's lock; the breakpoint callbacks take it
// first, so the backend's state needs no lock of its own.
//
// On both transports one address is one hook, whatever its names (an alias symbol, `f` and
// `ns::f`): a call there is delivered as a call of every name hooked at it, and the returns
// awaited under each name come together. Calls that return at one instruction with one stack
// pointer (a tail call and its caller, one call under several names) are delivered together,
// innermost first, each groutine reading the value the previous ones left
// (deliver_value_return()).
#include <lldb/API/LLDB.h>

#include <cstdint>
#include <functional>
#include <condition_variable>
#include <map>
#include <mutex>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "groutines/event_log.hpp"
#include "groutines/backend.hpp"
#include "groutines/runtime.hpp"
#include "groutines_agent/protocol.h"
#include "lldb_frame.hpp"

namespace groutines::agent {
class AgentFrame;
class Channel;
class Unwinder;
enum class Where : std::uint8_t;
}  // namespace groutines::agent

namespace groutines::plugin {

using agent::AgentFrame;

class LldbBackend final : public Backend {
 public:
  LldbBackend(lldb::SBDebugger debugger, EventLog& log);
  ~LldbBackend() override;
  LldbBackend(const LldbBackend&) = delete;
  LldbBackend& operator=(const LldbBackend&) = delete;

  // attach() names the runtime the breakpoint callbacks deliver to.
  void attach(Runtime& runtime) noexcept { runtime_ = &runtime; }
  // use_target() makes target the one hooks are planted in: they follow the debugger's
  // selected target. Switching delivers the old target's watched calls as unwound, deletes
  // its breakpoints and plants every hook in the new one.
  void use_target(lldb::SBTarget target);
  // target() is the target hooks are planted in (invalid before the first use_target()).
  lldb::SBTarget target() const { return target_; }

  void install_call_hook(FunctionId id, std::string_view function) noexcept override;
  void remove_call_hook(FunctionId id) noexcept override;
  void watch_return(CallId call, FunctionId function_id, std::string_view function,
                    Frame& frame) noexcept override;
  void unwatch_return(CallId call) noexcept override;
  void request_stop(const Groutine& by, std::string_view reason) override;
  void observe(const Event& event) noexcept override;
  void log(const Groutine& by, std::string_view message) override;
  // on_failure() stops the target at a groutine's failure, when stop_on_failure() is on,
  // with a reason naming the groutine, the failure's file:line and its message.
  void on_failure(const Groutine& by, const Failure& failure) noexcept override;
  // functions() matches the code symbols (eSymbolTypeCode) of the target's main executable
  // (module 0) or of the modules named by file name. Each module's names are read once and
  // kept, read again when the file at the module's path is another (a program rebuilt and
  // run again; LLDB 19 itself keeps the first build of a dlopen'ed library that is rebuilt,
  // so its names stay the first's too): on the agent's service thread, where a synchronous continue may hold LLDB, it asks
  // LLDB nothing and answers from those kept names, or throws Error when a module was never
  // read (a groutine that calls functions() while it loads has them read).
  std::vector<std::string> functions(std::string_view pattern,
                                     const std::vector<std::string>& modules) override;

  // stop_on_failure() tells whether a groutine's failure stops the target (default off).
  bool stop_on_failure() const noexcept { return stop_on_failure_; }
  // set_stop_on_failure() turns it on or off.
  void set_stop_on_failure(bool on) noexcept { stop_on_failure_ = on; }

  // set_on_new_process() names what to call when the backend first sees a process (to watch
  // its state changes).
  void set_on_new_process(std::function<void(lldb::SBProcess&)> f) { on_new_process_ = std::move(f); }
  // process_gone() is the process with unique id process_id ending (exited, detached) as the
  // ProcessWatcher heard it: if it is the one followed, its awaited calls are delivered as
  // unwound and its return breakpoints deleted. Call with the runtime's lock held.
  void process_gone(std::uint32_t process_id, lldb::StateType state);

  // before_resume() runs before a command resumes the target (continue, run, a step): it is
  // at_prompt(), so that the hooks a user deleted or disabled are put back (keep_planted())
  // and a process that ended since the last command is let go before another starts. Call
  // with the runtime's lock held.
  void before_resume();

  // at_prompt() brings the backend in line with the process before a command reads or
  // changes the runtime: the watched calls of a process that exited, was detached or was
  // replaced are delivered as unwound and their breakpoints removed, and breakpoints retired
  // during the last stop are deleted. Call with the runtime's lock held.
  void at_prompt();

  // auto_continuing() tells whether process, though its public state reads "stopped", is
  // only stopped at the plugin's breakpoints, whose callbacks all said to go on: LLDB is about
  // to resume it (or has callbacks of this stop still to run). Commands treat it as running.
  bool auto_continuing(lldb::SBProcess& process) const;

  // Transport is how calls of hooked functions reach groutines.
  enum class Transport : std::uint8_t {
    Auto,        // the agent where it can serve a function, else breakpoints (the default)
    Agent,       // as Auto, and every function that falls back to breakpoints says why
    Breakpoint,  // breakpoints only: every hit stops the target
  };
  Transport transport() const noexcept { return transport_; }
  // set_transport() chooses the transport of functions hooked from now on (hooks already
  // patched stay so while their process lives), and whether launches preload the agent.
  void set_transport(Transport transport);
  // agent_library() is libgroutines_agent.so beside the plugin ("" when it is not there).
  static const std::string& agent_library();
  // agent_status() describes the agent in the followed process for `groutine transport`:
  // connected or why not, the hits it served and those that passed through, and why.
  std::string agent_status() const;
  // offer_agent() loads the agent into the selected target's process when it is stopped at
  // the prompt and runs without it (attached to rather than launched), once per process.
  // Call without the runtime's lock: the target runs dlopen meanwhile.
  void offer_agent();
  // withdraw_agent() makes the agent of process process_id (a unique id) stop handing hits to
  // this host, at once: they pass through. Thread-safe, without the runtime's lock.
  void withdraw_agent(std::uint32_t process_id);
  // shutdown() stops the agent's service thread (the debugger exits).
  void shutdown();

  // HookView describes one call hook for `groutine subscriptions`.
  struct HookView {
    std::string function;
    lldb::break_id_t breakpoint = LLDB_INVALID_BREAK_ID;
    std::size_t locations = 0;
    std::uint32_t hits = 0;
    std::size_t patched = 0;    // locations served by the agent
    std::uint64_t agent_hits = 0;
    std::string fallback;       // why a location stays on a breakpoint ("" if none)
  };
  // hook_view() describes the hook of function id (breakpoint invalid when not planted).
  HookView hook_view(FunctionId id) const;
  // ReturnSiteView describes one return-address breakpoint.
  struct ReturnSiteView {
    lldb::addr_t address = 0;
    lldb::break_id_t breakpoint = LLDB_INVALID_BREAK_ID;
    std::vector<CallId> calls;
  };
  std::vector<ReturnSiteView> return_sites() const;
  // agent_return_sites() describes the returns the agent watches, by return address
  // (breakpoint invalid).
  std::vector<ReturnSiteView> agent_return_sites() const;
  // planted() lists the ids of every breakpoint the plugin has in the target now.
  std::vector<lldb::break_id_t> planted() const;
  // last_stop() is the reason of the last stop a groutine asked for ("" if none).
  const std::string& last_stop() const noexcept { return last_stop_; }
  // print() writes text to the debugger's output.
  void print(const std::string& text);

 private:
  struct Hook {
    std::string function;
    lldb::SBBreakpoint breakpoint;  // invalid while there is no target
    // at_entry tells, by location id, whether a location is the function's first instruction
    // (enabled) or not (an inlined copy, a line inside another function: disabled).
    std::unordered_map<lldb::break_id_t, bool> at_entry;
    // layouts are the argument layouts of the locations at an entry, by location id, worked
    // out from DWARF at the first call that needs them.
    std::unordered_map<lldb::break_id_t, std::shared_ptr<const ArgumentLayout>> layouts;
    std::size_t filtered = 0;  // how many locations filter() has disabled or kept
    // agent holds, by location id, the agent hook index of a location patched in the
    // followed process; fallback, why a location stays on its breakpoint.
    std::unordered_map<lldb::break_id_t, std::uint32_t> agent;
    std::unordered_map<lldb::break_id_t, std::string> fallback;
    std::uint32_t service_hits = 0;  // breakpoint hits that only took the thread to the agent
    std::uint64_t agent_hits = 0;    // calls the agent delivered
    bool patched = false;            // the agent served it (in this process or the last)
  };
  struct Pending {
    CallId call = 0;
    std::uint64_t thread = 0;
    std::uint64_t entry_sp = 0;  // rsp at the function's first instruction
    lldb::addr_t return_address = 0;
    lldb::addr_t entry = 0;  // the function's first instruction
    std::uint64_t hit = 0;   // the entry hit that delivered it (one for all its names)
    ReturnType return_type;
  };
  // EntryHit is a hook's breakpoint hit whose call was delivered to every name at its address:
  // the other names' callbacks of the same stop deliver nothing more.
  struct EntryHit {
    std::uint32_t process = 0;  // SBProcess::GetUniqueID()
    std::uint32_t stop = 0;     // SBProcess::GetStopID()
    std::uint64_t thread = 0;
    lldb::addr_t entry = 0;
    bool operator==(const EntryHit& o) const {
      return process == o.process && stop == o.stop && thread == o.thread && entry == o.entry;
    }
  };
  struct ReturnSite {
    lldb::SBBreakpoint breakpoint;
    std::vector<CallId> calls;
  };
  struct AgentProcess;  // the agent in the followed process (agent_transport.cpp)
  class AgentHandler;
  // Callback marks a breakpoint callback in progress (breakpoints are retired, not deleted,
  // while other threads of the same stop may be stopped at them).
  class Callback;

  static bool on_call_hit(void* baton, lldb::SBProcess& process, lldb::SBThread& thread,
                          lldb::SBBreakpointLocation& location);
  static bool on_return_hit(void* baton, lldb::SBProcess& process, lldb::SBThread& thread,
                            lldb::SBBreakpointLocation& location);
  bool call_hit(lldb::SBProcess& process, lldb::SBThread& thread,
                lldb::SBBreakpointLocation& location);
  bool return_hit(lldb::SBProcess& process, lldb::SBThread& thread,
                  lldb::SBBreakpointLocation& location);
  bool finish_callback(lldb::SBProcess& process);
  bool ours(lldb::break_id_t id) const;
  bool busy_stop(lldb::SBProcess& process) const;
  bool at_our_breakpoints_only(lldb::SBProcess& process) const;

  void protect(lldb::SBBreakpoint& breakpoint);
  void plant(FunctionId id, Hook& hook);
  void filter(Hook& hook, lldb::SBProcess& process, std::uint64_t current);
  void retire(lldb::break_id_t id);
  void delete_retired(lldb::SBProcess& process, std::uint64_t current);
  void follow_process(lldb::SBProcess& process);
  void end_process(const std::string& why);
  void forget(CallId call);
  static bool innermost_first(const Pending& a, const Pending& b);
  void deliver_unwound(const std::vector<Pending>& gone, LldbFrame& frame);
  // names_at() are the hooks with a location at the function entry entry, and its id, in
  // hook order: the names one call there is delivered to.
  std::vector<std::pair<FunctionId, lldb::break_id_t>> names_at(lldb::addr_t entry,
                                                                lldb::SBProcess& process,
                                                                std::uint64_t current);
  // index_entries() makes entries_ current: built again when a hook was planted or removed,
  // a hook's locations changed, or the target's modules or process changed.
  void index_entries(lldb::SBProcess& process, std::uint64_t current);
  // own_breakpoint_change() runs change, which makes or deletes a breakpoint of the plugin's,
  // and keeps breakpoints_seen_ in step when no one else changed the target's breakpoints
  // since the last keep_planted(): a hit then looks at the hooks' breakpoints only when the
  // user changed some, not whenever a return site comes or goes.
  template <class Change>
  auto own_breakpoint_change(Change change);
  // deliver_value_return() delivers the return of call at frame, its value read as
  // return_type. A value its groutines set becomes frame's return value: calls returning
  // there together (a tail call and its caller, one call under several names), delivered one
  // after the other innermost first, each read the value the previous ones left, and the
  // caller gets the last. ReturnFrame is LldbFrame or AgentFrame.
  template <class ReturnFrame>
  void deliver_value_return(CallId call, const ReturnType& return_type, std::uint64_t thread,
                            ReturnFrame& frame);
  bool has_pending_on(std::uint64_t thread) const;
  void log_arguments(LldbFrame& frame, LogEntry& e);
  void stop_at_this_stop(std::string reason);
  void log_stop(const Groutine& by, std::string_view reason);

  // --- The agent transport (agent_transport.cpp) ---
  static bool on_stop_pad_hit(void* baton, lldb::SBProcess& process, lldb::SBThread& thread,
                              lldb::SBBreakpointLocation& location);
  bool stop_pad_hit(lldb::SBProcess& process, lldb::SBThread& thread);
  void agent_connect(lldb::SBProcess& process);
  // agent_after_exec() starts the agent transport over when the process ran execve since.
  void agent_after_exec();
  void agent_disconnect(const std::string& why);
  bool agent_before_call(lldb::SBProcess& process, lldb::SBThread& thread, Hook& hook,
                         lldb::SBBreakpointLocation& location);
  void agent_after_call(lldb::SBProcess& process, lldb::SBThread& thread, FunctionId fn,
                        lldb::SBBreakpointLocation& location, LldbFrame& frame);
  void agent_hit(ga_slot& slot) noexcept;
  void agent_deliver(ga_slot& slot);
  void agent_call(AgentFrame& frame, FunctionId fn);
  void agent_hold(FunctionId id, bool on);
  bool agent_serves(FunctionId id) const;
  void apply_deferred();
  void maintain_stop_pad();
  // keep_planted() plants again the hook whose breakpoint the user deleted, and enables again
  // the one the user disabled, saying so: groutines wait on its calls. At a hit (at_hit), it
  // looks only when the target's number of breakpoints changed (a deletion): disables are
  // undone before the commands that resume the target.
  void keep_planted(bool at_hit = false);
  // agent_replanted() disables the locations of hook's new breakpoint at entries the agent
  // serves already in the followed process.
  void agent_replanted(Hook& hook);
  void modules_changed();
  bool agent_still_traced() const;
  Value agent_evaluate(AgentFrame& frame, std::string_view expression);
  // agent_threads() parks frame's thread, as agent_evaluate() does, and reads every thread
  // of the stopped process there (threads_of_process()).
  std::vector<ThreadState> agent_threads(AgentFrame& frame);
  void serve_park(lldb::SBProcess& process);
  std::unique_lock<RecursiveLock> lock_serving(lldb::SBProcess& process);
  static bool on_park_pad_hit(void* baton, lldb::SBProcess& process, lldb::SBThread& thread,
                              lldb::SBBreakpointLocation& location);
  void agent_watch(CallId call, AgentFrame& frame);
  void agent_unwatch(CallId call);
  bool is_stop_pad(lldb::break_id_t id) const;
  bool others_here(lldb::SBThread& thread) const;
  void fall_back(Hook& hook, lldb::break_id_t location, const std::string& why);
  void retire_pads(AgentProcess& ap);
  // frame_at_entry() tells whether frame is a thread at a function's entry (either transport).
  static bool frame_at_entry(Frame& frame);
  void update_preload();
  StackFrame symbolize(std::size_t index, std::uint64_t pc);

  lldb::SBDebugger debugger_;
  lldb::SBTarget target_;
  EventLog& log_;
  Runtime* runtime_ = nullptr;

  std::unordered_map<FunctionId, Hook> hooks_;
  std::unordered_map<lldb::break_id_t, FunctionId> hook_by_breakpoint_;
  std::unordered_map<CallId, Pending> pending_;
  // Return types by function name, read from DWARF once per function.
  std::unordered_map<std::string, ReturnType> return_types_;
  std::map<lldb::addr_t, ReturnSite> sites_;
  std::unordered_map<lldb::break_id_t, lldb::addr_t> site_by_breakpoint_;
  std::vector<lldb::break_id_t> retired_;  // to delete once no thread is stopped at them
  std::uint32_t breakpoints_seen_ = 0;     // the target's breakpoints at the last keep_planted()
  // foreign_ are the breakpoints that are not the plugin's (the user's) at the last
  // keep_planted() that looked through them: the patcher lifts those over the bytes it patches.
  std::vector<lldb::break_id_t> foreign_;
  // entries_ are the hooks' locations at a function's entry, by load address, in hook order:
  // the names a call there is delivered to, found without asking every hook's breakpoint at
  // every hit (an SBBreakpoint looks itself up in the target's list, which is linear: with
  // thousands of hooks, each hit was quadratic). index_entries() keeps it current.
  std::map<lldb::addr_t, std::vector<std::pair<FunctionId, lldb::break_id_t>>> entries_;
  bool entries_stale_ = true;
  std::uint32_t entries_modules_ = 0;  // the target's modules when entries_ was built
  std::uint32_t entries_process_ = 0;  // the process (SBProcess::GetUniqueID()) it was built in
  std::uint32_t process_id_ = 0;           // SBProcess::GetUniqueID() of the process followed
  std::function<void(lldb::SBProcess&)> on_new_process_;

  Transport transport_ = Transport::Auto;
  std::unique_ptr<AgentProcess> agent_;
  // live_ is the channel of the followed process while it is served, for withdraw_agent().
  std::shared_ptr<agent::Channel> live_;
  std::uint32_t live_process_ = 0;
  std::mutex live_mutex_;
  AgentFrame* agent_frame_ = nullptr;  // the agent hit being delivered, if any
  std::vector<FunctionId> deferred_plants_;  // hooks installed while the target ran
  bool sync_wanted_ = false;  // an agent delivery needs a stop to plant or delete breakpoints
  std::unordered_map<std::uint64_t, StackFrame> symbols_;  // frames by pc
  std::uint32_t offered_ = 0;  // the process offer_agent() last tried
  // ParkRequest is an expression the service thread needs evaluated on a thread waiting in
  // the agent; a breakpoint callback does it while the target is stopped.
  struct ParkRequest {
    std::uint64_t thread = 0;
    ga_regs regs{};
    agent::Where where{};
    std::string expression;
    // job, when set, is done on the stopped process instead of evaluating expression.
    std::function<void(lldb::SBProcess&)> job;
    bool done = false;
    Value result;
    std::string error;
  };
  std::mutex park_mutex_;
  std::condition_variable park_cv_;
  ParkRequest* park_request_ = nullptr;  // guarded by park_mutex_
  bool parked_ = false;  // a thread was asked to park for the current delivery
  bool serve_parked(AgentFrame& frame, ParkRequest& request);

  unsigned in_callback_ = 0;
  bool stop_on_failure_ = false;
  bool stop_requested_ = false;
  std::vector<std::string> stop_reasons_;
  std::string last_stop_;
  // SymbolNames are a module's code symbol names, in symbol table order, once each, read
  // from the file that identity names (module_identity(): its UUID, size and time).
  struct SymbolNames {
    std::string identity;
    std::vector<std::string> names;
  };
  // symbol_names_ are the names of each module read by functions(), by the module's full
  // path; read again when the file at the path is another (rebuilt, or another library
  // loaded from it). main_module_path_ is the main executable's path among them.
  std::unordered_map<std::string, SymbolNames> symbol_names_;
  std::string main_module_path_;
  std::uint32_t continuing_stop_ = 0;  // stop id whose callbacks said to go on
  std::uint32_t stopping_stop_ = 0;    // stop id in which a groutine asked to stop
  lldb::addr_t pending_entry_ = 0;     // its first instruction (breakpoint transport)
  std::uint64_t entry_hits_ = 0;       // entry hits delivered (breakpoint transport)
  EntryHit entry_hit_;                 // the last one
  std::uint64_t last_call_seq_ = 0;    // the newest Call event logged
  std::uint64_t last_return_seq_ = 0;  // the newest Return event logged
};

class LldbBackend::Callback {
 public:
  explicit Callback(LldbBackend& b) : b_(b) {
    if (b_.in_callback_++ == 0) {
      b_.stop_requested_ = false;
      b_.stop_reasons_.clear();
    }
  }
  ~Callback() { --b_.in_callback_; }
  Callback(const Callback&) = delete;
  Callback& operator=(const Callback&) = delete;

 private:
  LldbBackend& b_;
};

}  // namespace groutines::plugin
