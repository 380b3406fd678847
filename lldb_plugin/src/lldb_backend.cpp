#include "lldb_backend.hpp"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <exception>
#include <fnmatch.h>
#include <optional>
#include <set>
#include <sys/stat.h>

#include "groutines/error.hpp"
#include "groutines/groutine.hpp"
#include "groutines/runtime_internals.hpp"
#include "groutines/agent/frame.hpp"
#include "lldb_frame.hpp"

namespace groutines::plugin {

namespace {

constexpr const char* kSkipPrologue = "target.skip-prologue";

bool gone_state(lldb::StateType s) {
  return s == lldb::eStateExited || s == lldb::eStateDetached || s == lldb::eStateInvalid ||
         s == lldb::eStateUnloaded || s == lldb::eStateConnected;
}

bool running_state(lldb::StateType s) {
  return s == lldb::eStateRunning || s == lldb::eStateStepping || s == lldb::eStateLaunching ||
         s == lldb::eStateAttaching;
}

// SkipPrologueOff turns target.skip-prologue off for its lifetime: a breakpoint by name made
// meanwhile sits on the function's first instruction, where the argument registers and [rsp]
// are still the caller's at every optimisation level. LLDB records the choice in the
// breakpoint's resolver, so later resolutions (a dlopen, a re-run) keep it.
class SkipPrologueOff {
 public:
  explicit SkipPrologueOff(lldb::SBDebugger& debugger) : debugger_(debugger) {
    const char* instance = debugger_.GetInstanceName();
    lldb::SBStringList old = lldb::SBDebugger::GetInternalVariableValue(kSkipPrologue, instance);
    previous_ = old.GetSize() > 0 && old.GetStringAtIndex(0) ? old.GetStringAtIndex(0) : "true";
    lldb::SBDebugger::SetInternalVariable(kSkipPrologue, "false", instance);
  }
  ~SkipPrologueOff() {
    lldb::SBDebugger::SetInternalVariable(kSkipPrologue, previous_.c_str(),
                                          debugger_.GetInstanceName());
  }
  SkipPrologueOff(const SkipPrologueOff&) = delete;
  SkipPrologueOff& operator=(const SkipPrologueOff&) = delete;

 private:
  lldb::SBDebugger& debugger_;
  std::string previous_;
};

// base_name() is a function's name without its parameters and its scopes: "ns::f(int)" -> "f".
std::string_view base_name(std::string_view name) {
  name = name.substr(0, name.find('('));
  std::size_t scope = name.rfind("::");
  return scope == std::string_view::npos ? name : name.substr(scope + 2);
}

// at_entry() tells whether a breakpoint location on function is at its first instruction: the
// start of a function (or, without debug info, of a symbol), and not a copy of function
// inlined there. A breakpoint by name also resolves to the places function is inlined at, in
// the middle of its callers, where [rsp] is not a return address and the registers are not
// its arguments.
bool at_entry(lldb::SBBreakpointLocation& location, const std::string& function) {
  lldb::SBAddress address = location.GetAddress();
  if (!address.IsValid()) return false;
  lldb::SBSymbolContext sc = address.GetSymbolContext(
      lldb::eSymbolContextFunction | lldb::eSymbolContextBlock | lldb::eSymbolContextSymbol);
  lldb::addr_t at = address.GetFileAddress();
  lldb::SBFunction f = sc.GetFunction();
  lldb::SBSymbol s = sc.GetSymbol();
  bool start = (f.IsValid() && f.GetStartAddress().GetFileAddress() == at) ||
               (s.IsValid() && s.GetStartAddress().GetFileAddress() == at);
  if (!start) return false;
  // At the start of a caller whose first instructions are an inlined copy of function.
  lldb::SBBlock inlined = sc.GetBlock().GetContainingInlinedBlock();
  const char* name = inlined.IsValid() ? inlined.GetInlinedName() : nullptr;
  return !(name && base_name(name) == base_name(function));
}

// stopped_at() tells whether a thread of process other than except is stopped at breakpoint.
bool stopped_at(lldb::SBProcess& process, lldb::break_id_t breakpoint, std::uint64_t except) {
  if (!process.IsValid()) return false;
  for (std::uint32_t i = 0; i < process.GetNumThreads(); ++i) {
    lldb::SBThread t = process.GetThreadAtIndex(i);
    if (t.GetThreadID() == except || t.GetStopReason() != lldb::eStopReasonBreakpoint) continue;
    auto count = static_cast<std::uint32_t>(t.GetStopReasonDataCount());
    for (std::uint32_t k = 0; k < count; k += 2)
      if (static_cast<lldb::break_id_t>(t.GetStopReasonDataAtIndex(k)) == breakpoint) return true;
  }
  return false;
}

// ends_process() tells whether address is the entry of _exit (or its alias _Exit): the
// exit_group system call a few instructions on, no handlers, never a return.
bool ends_process(lldb::SBAddress address) {
  lldb::SBSymbol symbol = address.GetSymbol();
  const char* name = symbol.GetName();
  if (!name || address.GetFileAddress() != symbol.GetStartAddress().GetFileAddress())
    return false;
  const std::string_view n = name;
  return n == "_exit" || n == "_Exit" || n == "__GI__exit";
}

// run_alone() suspends every thread of process but thread, which is about to end the process
// (ends_process()): lldb-server resumes a process's threads one by one, and a thread resumed
// first that ends the process at once takes the others with it before their turn, whose
// resume then fails; LLDB reads that failure as a lost connection and the process as exited
// with status -1. Resumed alone, the thread ends the process and LLDB sees its exit.
void run_alone(lldb::SBProcess& process, lldb::SBThread& thread) {
  for (std::uint32_t i = 0; i < process.GetNumThreads(); ++i) {
    lldb::SBThread t = process.GetThreadAtIndex(i);
    if (t.GetThreadID() != thread.GetThreadID()) t.Suspend();
  }
}

}  // namespace

void LldbBackend::print(const std::string& text) {
  std::string line = text;
  if (line.empty() || line.back() != '\n') line += '\n';
  lldb::SBFile out = debugger_.GetOutputFile();
  if (out.IsValid()) {
    std::size_t written = 0;
    out.Write(reinterpret_cast<const std::uint8_t*>(line.data()), line.size(), &written);
    out.Flush();
  } else {
    std::fputs(line.c_str(), stdout);
    std::fflush(stdout);
  }
}

template <class Change>
auto LldbBackend::own_breakpoint_change(Change change) {
  bool in_step = target_.GetNumBreakpoints() == breakpoints_seen_;
  auto result = change();
  if (in_step) breakpoints_seen_ = target_.GetNumBreakpoints();
  return result;
}

// --- Call hooks ---

void LldbBackend::use_target(lldb::SBTarget target) {
  if (!target.IsValid() || target == target_) return;
  // Hooks follow the selected target: whatever was planted in the old one goes. The old one
  // may be gone (`target delete`), its breakpoints with it: their ids are forgotten all the
  // same, or keep_planted() would take them for hooks the user deleted in the new one.
  end_process("the debugger switched to another target");
  for (auto& [id, hook] : hooks_) {
    if (hook.breakpoint.IsValid()) target_.BreakpointDelete(hook.breakpoint.GetID());
    hook.breakpoint = lldb::SBBreakpoint();
  }
  for (lldb::break_id_t id : retired_) target_.BreakpointDelete(id);
  retired_.clear();
  hook_by_breakpoint_.clear();
  entries_stale_ = true;
  target_ = std::move(target);
  breakpoints_seen_ = 0;
  symbol_names_.clear();
  main_module_path_.clear();
  process_id_ = 0;
  for (auto& [id, hook] : hooks_)
    if (!hook.breakpoint.IsValid()) plant(id, hook);
}

void LldbBackend::plant(FunctionId id, Hook& hook) {
  if (!target_.IsValid()) return;
  if (agent_frame_) {
    // On the agent's service thread the target runs: LLDB cannot plant now. At the next stop
    // (one the agent makes at once unless it serves the function already).
    deferred_plants_.push_back(id);
    if (!agent_serves(id)) sync_wanted_ = true;
    return;
  }
  {
    SkipPrologueOff first_instruction(debugger_);
    hook.breakpoint = own_breakpoint_change(
        [&] { return target_.BreakpointCreateByName(hook.function.c_str()); });
  }
  entries_stale_ = true;
  if (!hook.breakpoint.IsValid()) {
    print("groutines: could not set a breakpoint on '" + hook.function + "'");
    return;
  }
  hook.breakpoint.SetCallback(&LldbBackend::on_call_hit, this);
  protect(hook.breakpoint);
  hook_by_breakpoint_[hook.breakpoint.GetID()] = id;
  hook.at_entry.clear();
  hook.layouts.clear();
  hook.filtered = 0;
  hook.service_hits = 0;
  hook.agent_hits = 0;
  lldb::SBProcess none;
  filter(hook, none, 0);
}

// filter() keeps enabled only the locations of hook's breakpoint at the function's entry, and
// disables the others (see at_entry()). Locations come as modules load (the dynamic loader,
// the libraries, a dlopen): it checks again whenever their number changed, at each hit of the
// hook and before each command. Inside a callback (current is the thread whose callback
// runs), it disables nothing while another thread is stopped at the breakpoint, whose stop
// LLDB has yet to look at: it tries again at the next hit.
void LldbBackend::filter(Hook& hook, lldb::SBProcess& process, std::uint64_t current) {
  if (!hook.breakpoint.IsValid()) return;
  std::size_t n = hook.breakpoint.GetNumLocations();
  if (n == hook.filtered) return;
  if (hook.filtered != 0) modules_changed();
  entries_stale_ = true;
  bool busy = current != 0 && stopped_at(process, hook.breakpoint.GetID(), current);
  for (std::size_t i = 0; i < n; ++i) {
    lldb::SBBreakpointLocation location =
        hook.breakpoint.GetLocationAtIndex(static_cast<std::uint32_t>(i));
    if (!location.IsValid()) continue;
    auto [it, added] = hook.at_entry.emplace(location.GetID(), false);
    if (added) it->second = at_entry(location, hook.function);
    if (!it->second && location.IsEnabled() && !busy) location.SetEnabled(false);
  }
  if (!busy) hook.filtered = n;
}

// protect() names a breakpoint of ours "groutines", a name whose breakpoints the user's
// `breakpoint delete` and `breakpoint disable` (with or without ids) leave alone: groutines
// waiting on them would silently stop hearing calls. The plugin deletes them itself.
void LldbBackend::protect(lldb::SBBreakpoint& breakpoint) {
  lldb::SBBreakpointName name(target_, "groutines");
  if (name.IsValid()) {
    name.SetAllowDelete(false);
    name.SetAllowDisable(false);
  }
  breakpoint.AddName("groutines");
}

void LldbBackend::install_call_hook(FunctionId id, std::string_view function) noexcept {
  Hook& hook = hooks_[id];
  hook.function = std::string(function);
  agent_hold(id, true);
  plant(id, hook);
}

void LldbBackend::remove_call_hook(FunctionId id) noexcept {
  auto it = hooks_.find(id);
  if (it == hooks_.end()) return;
  agent_hold(id, false);
  entries_stale_ = true;
  if (it->second.breakpoint.IsValid()) {
    lldb::break_id_t bp = it->second.breakpoint.GetID();
    hook_by_breakpoint_.erase(bp);
    retire(bp);
  }
  hooks_.erase(it);
}

// keep_planted() puts back what the user took from a hook: `breakpoint delete 1` and
// `breakpoint disable 1` by id do not ask the "groutines" name's permissions (protect()), and
// groutines waiting on the hook would stop hearing its calls without a word. Unloading the
// groutines that wait on it removes it.
void LldbBackend::keep_planted(bool at_hit) {
  if (!target_.IsValid() || agent_frame_) return;
  if (at_hit && target_.GetNumBreakpoints() == breakpoints_seen_) return;
  // One pass over the target's breakpoints: FindBreakpointByID() is linear in them.
  std::unordered_map<lldb::break_id_t, lldb::SBBreakpoint> present;
  foreign_.clear();
  for (std::uint32_t i = 0, n = target_.GetNumBreakpoints(); i < n; ++i) {
    lldb::SBBreakpoint bp = target_.GetBreakpointAtIndex(i);
    if (hook_by_breakpoint_.count(bp.GetID()))
      present.emplace(bp.GetID(), bp);
    else if (!ours(bp.GetID()))
      foreign_.push_back(bp.GetID());
  }
  std::vector<std::pair<lldb::break_id_t, FunctionId>> deleted;
  for (const auto& [id, fn] : hook_by_breakpoint_) {
    auto h = hooks_.find(fn);
    if (h == hooks_.end()) continue;
    auto found = present.find(id);
    lldb::SBBreakpoint bp = found == present.end() ? lldb::SBBreakpoint() : found->second;
    if (!bp.IsValid()) {
      deleted.emplace_back(id, fn);
    } else if (!bp.IsEnabled()) {
      bp.SetEnabled(true);
      print("groutines: breakpoint " + std::to_string(id) + " is the hook of '" +
            h->second.function + "', which groutines wait on: enabled again (unload them to "
            "remove it)");
    }
  }
  for (const auto& [id, fn] : deleted) {
    hook_by_breakpoint_.erase(id);
    Hook& hook = hooks_[fn];
    hook.breakpoint = lldb::SBBreakpoint();
    plant(fn, hook);
    if (!hook.breakpoint.IsValid()) continue;  // plant() said why
    agent_replanted(hook);
    print("groutines: breakpoint " + std::to_string(id) + " was the hook of '" + hook.function +
          "', which groutines wait on: planted again as breakpoint " +
          std::to_string(hook.breakpoint.GetID()) + " (unload them to remove it)");
  }
  breakpoints_seen_ = target_.GetNumBreakpoints();
}

void LldbBackend::before_resume() { at_prompt(); }

// apply_deferred() plants the hooks installed on the agent's service thread.
void LldbBackend::apply_deferred() {
  std::vector<FunctionId> ids;
  ids.swap(deferred_plants_);
  for (FunctionId id : ids)
    if (auto it = hooks_.find(id); it != hooks_.end() && !it->second.breakpoint.IsValid())
      plant(id, it->second);
}

// retire() deletes breakpoint id, or, inside a callback or a stop whose callbacks may not all
// have run, leaves it planted (its callback now ignores it) until no thread is stopped at it:
// deleting a breakpoint another thread of the same stop is stopped at would make LLDB stop
// that thread for good. On the agent's service thread, where the target runs, the thread
// delivered is made to stop at the stop pad, whose callback deletes it: nothing else may come
// (a hook the agent served is disabled, and a synchronous `continue` keeps the exit from the
// ProcessWatcher).
void LldbBackend::retire(lldb::break_id_t id) {
  if (in_callback_ > 0 || agent_frame_ || !target_.IsValid()) {
    retired_.push_back(id);
    if (agent_frame_) sync_wanted_ = true;
    return;
  }
  lldb::SBProcess process = target_.GetProcess();
  if (busy_stop(process)) {
    retired_.push_back(id);
    return;
  }
  own_breakpoint_change([&] { return target_.BreakpointDelete(id); });
}

// delete_retired() deletes the retired breakpoints no other thread of this stop is stopped
// at (the thread whose callback runs, current, may be: LLDB holds on to what it is using; so
// may a thread a callback of this stop moved on, off the stop pad or to a trampoline: its
// callback has run).
void LldbBackend::delete_retired(lldb::SBProcess& process, std::uint64_t current) {
  if (retired_.empty() || !target_.IsValid()) return;
  std::set<lldb::break_id_t> busy;
  if (current != 0 && process.IsValid()) {
    for (std::uint32_t i = 0; i < process.GetNumThreads(); ++i) {
      lldb::SBThread t = process.GetThreadAtIndex(i);
      if (t.GetThreadID() == current) continue;
      if (t.GetStopReason() != lldb::eStopReasonBreakpoint || t.GetStopReasonDataCount() == 0)
        continue;
      auto id = static_cast<lldb::break_id_t>(t.GetStopReasonDataAtIndex(0));
      if (t.GetStopReasonDataCount() > 1) {
        lldb::SBBreakpointLocation at = target_.FindBreakpointByID(id).FindLocationByID(
            static_cast<lldb::break_id_t>(t.GetStopReasonDataAtIndex(1)));
        if (at.IsValid() && t.GetFrameAtIndex(0).GetPC() != at.GetLoadAddress()) continue;
      }
      busy.insert(id);
    }
  }
  std::vector<lldb::break_id_t> keep;
  for (lldb::break_id_t id : retired_) {
    if (busy.count(id))
      keep.push_back(id);
    else
      own_breakpoint_change([&] { return target_.BreakpointDelete(id); });
  }
  retired_.swap(keep);
}

// --- Return watches ---

void LldbBackend::watch_return(CallId call, FunctionId /*function_id*/, std::string_view function,
                              Frame& frame) noexcept {
  if (auto* af = dynamic_cast<AgentFrame*>(&frame)) {
    agent_watch(call, *af);
    return;
  }
  auto& f = static_cast<LldbFrame&>(frame);
  Pending p;
  p.call = call;
  p.thread = f.thread_id();
  try {
    p.entry_sp = f.stack_pointer();
    p.return_address = f.read_u64(p.entry_sp);
  } catch (const std::exception& e) {
    print(std::string("groutines: cannot watch the return of call #") + std::to_string(call) +
          ": " + e.what());
    return;
  }
  const std::string name(function);
  auto rt = return_types_.find(name);
  if (rt == return_types_.end()) {
    ReturnType type;  // unknown: the return value reads as the raw register
    try {
      type = f.return_type();
    } catch (const Error& e) {
      print("groutines: the return type of " + name + " is unknown (" + e.what() +
            "): its return value reads as the raw register");
    }
    rt = return_types_.emplace(name, type).first;
  }
  p.return_type = rt->second;
  p.entry = pending_entry_;
  p.hit = entry_hits_;
  ReturnSite& site = sites_[p.return_address];
  if (!site.breakpoint.IsValid()) {
    site.breakpoint = own_breakpoint_change(
        [&] { return target_.BreakpointCreateByAddress(p.return_address); });
    if (!site.breakpoint.IsValid()) {
      sites_.erase(p.return_address);
      print("groutines: cannot set a breakpoint at return address " + hex(p.return_address));
      return;
    }
    site.breakpoint.SetCallback(&LldbBackend::on_return_hit, this);
    protect(site.breakpoint);
    site_by_breakpoint_[site.breakpoint.GetID()] = p.return_address;
  }
  site.calls.push_back(call);
  pending_[call] = p;
}

// forget() drops pending call, and the breakpoint of its return address when no other
// pending call returns there.
void LldbBackend::forget(CallId call) {
  auto it = pending_.find(call);
  if (it == pending_.end()) return;
  lldb::addr_t address = it->second.return_address;
  pending_.erase(it);
  auto s = sites_.find(address);
  if (s == sites_.end()) return;
  auto& calls = s->second.calls;
  calls.erase(std::remove(calls.begin(), calls.end(), call), calls.end());
  if (calls.empty()) {
    lldb::break_id_t bp = s->second.breakpoint.GetID();
    site_by_breakpoint_.erase(bp);
    sites_.erase(s);
    retire(bp);
  }
}

void LldbBackend::unwatch_return(CallId call) noexcept {
  forget(call);
  agent_unwatch(call);
}

bool LldbBackend::has_pending_on(std::uint64_t thread) const {
  for (const auto& [call, p] : pending_)
    if (p.thread == thread) return true;
  return false;
}

// innermost_first() orders pending calls of one thread innermost first: the lower entry rsp;
// at one rsp (a tail call and its caller), the later entry hit; in one hit (the names of one
// call), the order their calls were delivered in.
bool LldbBackend::innermost_first(const Pending& a, const Pending& b) {
  if (a.entry_sp != b.entry_sp) return a.entry_sp < b.entry_sp;
  if (a.hit != b.hit) return a.hit > b.hit;
  return a.call < b.call;
}

// deliver_unwound() reports calls whose frames are gone without a return, innermost first.
void LldbBackend::deliver_unwound(const std::vector<Pending>& gone, LldbFrame& frame) {
  std::vector<Pending> order = gone;
  std::sort(order.begin(), order.end(), innermost_first);
  for (const Pending& p : order) forget(p.call);
  for (const Pending& p : order)
    runtime_->deliver_return(p.call, p.thread, Clock::now(), frame, /*unwound=*/true);
}

// names_at() are the hooks with a location at entry that is a function's first instruction,
// enabled or not (a location the agent serves is disabled, but the agent does not see a call
// that stops at another name's breakpoint), from entries_.
std::vector<std::pair<FunctionId, lldb::break_id_t>> LldbBackend::names_at(
    lldb::addr_t entry, lldb::SBProcess& process, std::uint64_t current) {
  index_entries(process, current);
  auto it = entries_.find(entry);
  if (it == entries_.end()) return {};
  return it->second;
}

void LldbBackend::index_entries(lldb::SBProcess& process, std::uint64_t current) {
  std::uint32_t modules = target_.IsValid() ? target_.GetNumModules() : 0;
  std::uint32_t process_id = process.IsValid() ? process.GetUniqueID() : 0;
  if (!entries_stale_ && modules == entries_modules_ && process_id == entries_process_) return;
  entries_.clear();
  for (auto& [id, hook] : hooks_) {
    if (!hook.breakpoint.IsValid()) continue;
    filter(hook, process, current);
    for (const auto& [location_id, at_entry] : hook.at_entry) {
      if (!at_entry) continue;
      lldb::SBBreakpointLocation location = hook.breakpoint.FindLocationByID(location_id);
      if (location.IsValid()) entries_[location.GetLoadAddress()].emplace_back(id, location_id);
    }
  }
  for (auto& [address, names] : entries_) std::sort(names.begin(), names.end());
  entries_stale_ = false;
  entries_modules_ = modules;
  entries_process_ = process_id;
}

template <class ReturnFrame>
void LldbBackend::deliver_value_return(CallId call, const ReturnType& return_type,
                                       std::uint64_t thread, ReturnFrame& frame) {
  frame.set_return_type(return_type);
  Outcome out = runtime_->deliver_return(call, thread, Clock::now(), frame, false);
  if (!out.return_value) return;
  frame.set_return_value(*out.return_value);  // the next call's groutines read it
  if (LogEntry* e = log_.find(last_return_seq_)) {
    e->detail += " rewritten to " + to_string(*out.return_value);
    e->value = *out.return_value;
    e->rewritten = true;
  }
}

template void LldbBackend::deliver_value_return<LldbFrame>(CallId, const ReturnType&,
                                                           std::uint64_t, LldbFrame&);
template void LldbBackend::deliver_value_return<AgentFrame>(CallId, const ReturnType&,
                                                            std::uint64_t, AgentFrame&);

// --- The process ---

void LldbBackend::follow_process(lldb::SBProcess& process) {
  std::uint32_t id = process.GetUniqueID();
  if (id == process_id_) return;
  if (process_id_ != 0) end_process("the process was replaced by a new one");
  agent_disconnect("the process was replaced by a new one");
  process_id_ = id;
  if (on_new_process_) on_new_process_(process);
}

void LldbBackend::process_gone(std::uint32_t process_id, lldb::StateType state) {
  if (process_id == 0 || process_id != process_id_) return;
  end_process(state == lldb::eStateDetached ? "the process was detached" : "the process exited");
  process_id_ = 0;
  lldb::SBProcess none;
  delete_retired(none, /*current=*/0);
}

// end_process() releases everything planted for the process that ended: each watched call
// is delivered as unwound and every return breakpoint goes. Call hooks stay: they are the
// target's, and resolve again in the next process.
void LldbBackend::end_process(const std::string& why) {
  agent_disconnect(why);
  std::vector<Pending> gone;
  for (const auto& [call, p] : pending_) gone.push_back(p);
  if (gone.empty()) return;
  LldbFrame frame = LldbFrame::gone(why);
  deliver_unwound(gone, frame);
}

void LldbBackend::at_prompt() {
  use_target(debugger_.GetSelectedTarget());
  if (!target_.IsValid()) return;
  apply_deferred();
  keep_planted();
  lldb::SBProcess process = target_.GetProcess();
  lldb::StateType state = process.IsValid() ? process.GetState() : lldb::eStateInvalid;
  if (running_state(state) || busy_stop(process)) return;
  modules_changed();  // maybe: an attach, a dlopen, the agent loaded
  maintain_stop_pad();
  for (auto& [id, hook] : hooks_) filter(hook, process, /*current=*/0);
  // Just detached, LLDB may not have said so yet: a process no longer traced is gone too.
  if (gone_state(state) || !agent_still_traced()) {
    end_process(state == lldb::eStateExited ? "the process exited" : "the process was detached");
    process_id_ = 0;
  } else {
    follow_process(process);
  }
  delete_retired(process, /*current=*/0);
}

// --- Breakpoint callbacks ---

bool LldbBackend::on_call_hit(void* baton, lldb::SBProcess& process, lldb::SBThread& thread,
                              lldb::SBBreakpointLocation& location) {
  return static_cast<LldbBackend*>(baton)->call_hit(process, thread, location);
}

bool LldbBackend::on_return_hit(void* baton, lldb::SBProcess& process, lldb::SBThread& thread,
                                lldb::SBBreakpointLocation& location) {
  return static_cast<LldbBackend*>(baton)->return_hit(process, thread, location);
}

bool LldbBackend::finish_callback(lldb::SBProcess& process) {
  std::uint32_t stop = process.GetStopID();
  if (!stop_requested_) {
    if (stop != stopping_stop_) continuing_stop_ = stop;
    return false;
  }
  stopping_stop_ = stop;
  continuing_stop_ = 0;
  for (const std::string& reason : stop_reasons_) print(reason);
  return true;
}

bool LldbBackend::ours(lldb::break_id_t id) const {
  return hook_by_breakpoint_.count(id) || site_by_breakpoint_.count(id) || is_stop_pad(id) ||
         std::find(retired_.begin(), retired_.end(), id) != retired_.end();
}

bool LldbBackend::auto_continuing(lldb::SBProcess& process) const {
  return process.IsValid() && continuing_stop_ != 0 && process.GetStopID() == continuing_stop_ &&
         at_our_breakpoints_only(process);
}

// busy_stop() tells whether process may be in a stop whose breakpoint callbacks have not all
// run: stopped at the plugin's breakpoints only, and not because a groutine asked. Deleting a
// breakpoint then could leave a thread LLDB has yet to look at stopped for good.
bool LldbBackend::busy_stop(lldb::SBProcess& process) const {
  return process.IsValid() && process.GetState() == lldb::eStateStopped &&
         process.GetStopID() != stopping_stop_ && at_our_breakpoints_only(process);
}

bool LldbBackend::at_our_breakpoints_only(lldb::SBProcess& process) const {
  bool any = false;
  for (std::uint32_t i = 0; i < process.GetNumThreads(); ++i) {
    lldb::SBThread t = process.GetThreadAtIndex(i);
    lldb::StopReason reason = t.GetStopReason();
    if (reason == lldb::eStopReasonNone || reason == lldb::eStopReasonInvalid) continue;
    if (reason != lldb::eStopReasonBreakpoint) return false;  // a signal, a watchpoint...
    // The data are (breakpoint id, location id) pairs, one per breakpoint at the address.
    auto count = static_cast<std::uint32_t>(t.GetStopReasonDataCount());
    for (std::uint32_t k = 0; k < count; k += 2)
      if (!ours(static_cast<lldb::break_id_t>(t.GetStopReasonDataAtIndex(k))))
        return false;  // someone else's breakpoint stops it
    any = true;
  }
  return any;
}

bool LldbBackend::call_hit(lldb::SBProcess& process, lldb::SBThread& thread,
                           lldb::SBBreakpointLocation& location) {
  if (!runtime_) return false;
  auto lock = lock_serving(process);
  Callback in_callback(*this);
  std::string function = "?";
  try {
    follow_process(process);
    apply_deferred();
    keep_planted(/*at_hit=*/true);
    if (!retired_.empty()) delete_retired(process, thread.GetThreadID());
    auto h = hook_by_breakpoint_.find(location.GetBreakpoint().GetID());
    if (h == hook_by_breakpoint_.end()) return false;  // retired: nobody waits any more
    FunctionId fn = h->second;
    Hook& hook = hooks_[fn];
    function = hook.function;
    filter(hook, process, thread.GetThreadID());
    // Not the function's entry (an inlined copy): no call to report.
    if (auto at = hook.at_entry.find(location.GetID()); at == hook.at_entry.end() || !at->second)
      return finish_callback(process);
    const lldb::addr_t entry = location.GetLoadAddress();
    const std::uint64_t tid = thread.GetThreadID();
    const EntryHit here{process.GetUniqueID(), process.GetStopID(), tid, entry};
    LldbFrame frame(process, thread, LldbFrame::Where::Entry);
    if (entry_hit_ == here) {
      // Another name's breakpoint at an address whose call this hit delivered to every name
      // already: one address, one hook. Only the agent has this name to learn.
      agent_after_call(process, thread, fn, location, frame);
      return finish_callback(process);
    }
    // The agent may need this thread for a moment first (the call comes again), or this is
    // a stop the agent brought here for a call it delivered.
    if (!agent_before_call(process, thread, hook, location)) return finish_callback(process);
    const auto layout = hook.layouts.find(location.GetID());
    if (layout != hook.layouts.end()) frame.use_layout(layout->second);
    if (has_pending_on(tid)) {
      // A watched call on this thread whose entry rsp is below ours has lost its frame without
      // returning (longjmp, exception): a live caller's frame is always above. At our rsp,
      // [rsp] is its return address again either because it jumped here as its last act (a
      // tail call: it lives, and returns with this one) or because a new call reuses the
      // slot of lost frames: a tail call is to a function not already called there.
      std::uint64_t sp = frame.stack_pointer();
      bool reused = false;
      for (const auto& [call, p] : pending_)
        reused = reused || (p.thread == tid && p.entry_sp == sp && p.entry == entry);
      std::optional<std::uint64_t> return_address;
      std::vector<Pending> gone;
      for (const auto& [call, p] : pending_) {
        if (p.thread != tid || p.entry_sp > sp) continue;
        if (p.entry_sp == sp && !reused) {
          if (!return_address) return_address = frame.read_u64(sp);
          if (*return_address == p.return_address) continue;
        }
        gone.push_back(p);
      }
      if (!gone.empty()) deliver_unwound(gone, frame);
    }
    entry_hit_ = here;
    ++entry_hits_;
    pending_entry_ = entry;
    for (const auto& [name, location_id] : names_at(entry, process, tid)) {
      auto named = hooks_.find(name);
      if (named == hooks_.end()) continue;  // dropped by a groutine of an earlier name
      function = named->second.function;
      Outcome out = runtime_->deliver_call(name, tid, Clock::now(), frame);
      // The log reads the arguments before a skip moves rsp (the stack arguments).
      if (LogEntry* e = log_.find(last_call_seq_)) {
        std::string args = frame.cached_view();
        if (!args.empty()) e->detail += " " + args;
        log_arguments(frame, *e);
        if (out.forced_return) {
          e->detail += " skipped: returns " + to_string(*out.forced_return);
          e->skipped = true;
          e->value = *out.forced_return;
          // A groutine awaiting the skipped call's return had it delivered at the entry.
          if (LogEntry* r = log_.find(last_return_seq_);
              r && r->call == e->call && r->skipped)
            r->value = *out.forced_return;
        }
      }
      // Groutines may have dropped the hook meanwhile: look it up again to keep the layout.
      if (frame.layout())
        if (auto again = hooks_.find(name); again != hooks_.end())
          again->second.layouts.try_emplace(location_id, frame.layout());
      if (out.forced_return) {
        frame.force_return(*out.forced_return);
        break;  // skipped: no more call, for any name
      }
    }
    pending_entry_ = 0;
    // A groutine's evaluate() ran the target meanwhile: the other names' callbacks see the
    // stop id it ended with.
    entry_hit_.stop = process.GetStopID();
    const bool ending =
        thread.GetFrameAtIndex(0).GetPC() == entry && ends_process(location.GetAddress());
    agent_after_call(process, thread, fn, location, frame);
    if (ending) run_alone(process, thread);
  } catch (const std::exception& e) {
    print("groutines: error at a call of " + function + ": " + e.what());
  }
  return finish_callback(process);
}

bool LldbBackend::return_hit(lldb::SBProcess& process, lldb::SBThread& thread,
                             lldb::SBBreakpointLocation& location) {
  if (!runtime_) return false;
  auto lock = lock_serving(process);
  Callback in_callback(*this);
  try {
    follow_process(process);
    apply_deferred();
    keep_planted(/*at_hit=*/true);
    if (!retired_.empty()) delete_retired(process, thread.GetThreadID());
    auto s = site_by_breakpoint_.find(location.GetBreakpoint().GetID());
    if (s == site_by_breakpoint_.end()) return false;  // retired
    lldb::addr_t address = s->second;
    LldbFrame frame(process, thread, LldbFrame::Where::Return);
    std::uint64_t tid = frame.thread_id();
    std::uint64_t sp = frame.stack_pointer();
    // After `ret`, rsp is the entry rsp + 8 of the calls returning here: one, or a tail call
    // and its caller, or one call under several names. Pending calls of this thread with a
    // lower entry rsp were inside them: their frames are gone.
    std::vector<Pending> gone;
    std::vector<Pending> returning;
    for (const auto& [call, p] : pending_) {
      if (p.thread != tid) continue;
      if (p.entry_sp + 8 == sp && p.return_address == address)
        returning.push_back(p);
      else if (p.entry_sp + 8 < sp)
        gone.push_back(p);
    }
    if (!gone.empty()) deliver_unwound(gone, frame);
    // A groutine of an unwound call may have dropped some.
    returning.erase(std::remove_if(returning.begin(), returning.end(),
                                   [&](const Pending& p) { return !pending_.count(p.call); }),
                    returning.end());
    std::sort(returning.begin(), returning.end(), innermost_first);
    for (const Pending& p : returning) forget(p.call);
    for (const Pending& p : returning) deliver_value_return(p.call, p.return_type, tid, frame);
  } catch (const std::exception& e) {
    print(std::string("groutines: error at a return: ") + e.what());
  }
  return finish_callback(process);
}

// --- Requests from groutines ---

void LldbBackend::request_stop(const Groutine& by, std::string_view reason) {
  if (in_callback_ > 0 || agent_frame_)
    stop_at_this_stop("groutine '" + by.name() + "' stopped the target: " + std::string(reason));
  else
    print("groutine '" + by.name() + "' asked to stop the target, which is not running: " +
          std::string(reason));
  log_stop(by, reason);
}

// on_failure() stops only inside a breakpoint callback: a failure at the prompt (a fired
// event, a load) leaves a target that is already stopped, or not running, as it is.
void LldbBackend::on_failure(const Groutine& by, const Failure& failure) noexcept {
  if (!stop_on_failure_ || (in_callback_ == 0 && !agent_frame_)) return;
  std::string reason = failure.where.file + ":" + std::to_string(failure.where.line) + ": " +
                       failure.message;
  stop_at_this_stop("groutine '" + by.name() + "' failed, stopping the target: " + reason);
  log_stop(by, "failed: " + reason);
}

// stop_at_this_stop() makes the breakpoint callback running now stop the target; reason is
// printed as it stops.
void LldbBackend::stop_at_this_stop(std::string reason) {
  last_stop_ = std::move(reason);
  stop_requested_ = true;
  stop_reasons_.push_back(last_stop_);
}

void LldbBackend::log_stop(const Groutine& by, std::string_view reason) {
  LogEntry e;
  e.time_ns = time_ns(Clock::now());
  e.kind = "stop";
  e.name = by.name();
  e.detail = std::string(reason);
  log_.add(std::move(e));
}

void LldbBackend::observe(const Event& event) noexcept {
  if (log_.capacity() == 0) return;
  try {
    bool skipped = false;
    if (event.kind == EventKind::Call && event.frame) last_call_seq_ = event.seq;
    if (event.kind == EventKind::Return && event.frame) {
      last_return_seq_ = event.seq;
      skipped = !event.unwound && frame_at_entry(*event.frame);
    }
    LogEntry e = entry_of(event, !skipped);
    if (skipped) {
      // Its value is the forced one, known once the call is delivered; its time is now,
      // after whatever the groutines that skipped it logged.
      e.skipped = true;
      e.time_ns = time_ns(Clock::now());
      e.detail += " skipped";
    }
    log_.add(std::move(e));
  } catch (const std::exception&) {
    // Out of memory for the log: the entry is lost, the delivery goes on.
  }
}

// log_arguments() puts the arguments of the call stopped at frame into e: every argument by
// its DWARF name when the function has debug info (the values come from the ABI registers,
// which the frame caches for groutines too), else the registers groutines read.
void LldbBackend::log_arguments(LldbFrame& frame, LogEntry& e) {
  try {
    for (Argument& a : frame.arguments())
      e.args.emplace_back(std::move(a.name), std::move(a.value));
  } catch (const std::exception& ex) {
    e.detail += std::string(" (arguments: ") + ex.what() + ")";
  }
  if (!e.args.empty()) return;
  for (const auto& [reg, v] : frame.cached_registers())
    if (reg != "rsp") e.args.emplace_back(reg, static_cast<std::int64_t>(v));
}

namespace {

// in_plt() tells whether symbol lies in a PLT section (.plt, .plt.got, .plt.sec): LLDB names
// the lazy-binding stub at the head of .plt (___lldb_unnamed_symbol73) from its unwind info,
// but it is no function: it is entered with a relocation index on top of the stack, not a
// return address, and hooking it (a pattern such as "*") breaks every lazy binding.
bool in_plt(lldb::SBSymbol& symbol) {
  const char* section = symbol.GetStartAddress().GetSection().GetName();
  return section && std::string_view(section).substr(0, 4) == ".plt";
}

// code_symbols() are the names of module's code symbols, each once, in symbol table order.
// Not its IFUNC symbols (libc's strcmp, strlen, memcpy...: LLDB types them resolvers): LLDB 19
// hangs placing a breakpoint on one in a live process (`breakpoint set -n strcmp` at main), so
// a pattern must not hook them; named before the process starts, they work.
std::vector<std::string> code_symbols(lldb::SBModule module) {
  std::vector<std::string> names;
  std::set<std::string> seen;
  for (std::size_t i = 0, n = module.GetNumSymbols(); i < n; ++i) {
    lldb::SBSymbol symbol = module.GetSymbolAtIndex(i);
    // Not the names LLDB makes up from unwind info (___lldb_unnamed_symbol123): each module
    // numbers its own, so a hook by that name lands on unrelated code in every other module
    // (in libc, its PLT's lazy-binding stub: python3 crashed in _dl_fixup).
    if (symbol.GetType() != lldb::eSymbolTypeCode || symbol.IsSynthetic() || in_plt(symbol))
      continue;
    const char* name = symbol.GetName();
    if (!name || !*name) continue;
    // A versioned symbol (pthread_create@@GLIBC_2.34, and its compatibility version
    // pthread_create@GLIBC_2.2.5) under the name callers use and hooks resolve.
    std::string_view plain(name);
    plain = plain.substr(0, plain.find('@'));
    if (!plain.empty() && seen.insert(std::string(plain)).second) names.emplace_back(plain);
  }
  return names;
}

std::string module_path(lldb::SBModule module) {
  lldb::SBFileSpec file = module.GetFileSpec();
  std::string dir = file.GetDirectory() ? file.GetDirectory() : "";
  std::string name = file.GetFilename() ? file.GetFilename() : "";
  return dir.empty() ? name : dir + "/" + name;
}

// module_identity() tells module's file from another at the same path: its UUID, and the
// size, inode and modification time of the file when it is on this machine.
std::string module_identity(lldb::SBModule module, const std::string& path) {
  const char* uuid = module.GetUUIDString();
  std::string identity = uuid ? uuid : "";
  struct stat st {};
  if (stat(path.c_str(), &st) == 0)
    identity += " " + std::to_string(st.st_size) + " " + std::to_string(st.st_ino) + " " +
                std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec);
  return identity;
}

}  // namespace

std::vector<std::string> LldbBackend::functions(std::string_view pattern,
                                                const std::vector<std::string>& modules) {
  std::string what = "functions('" + std::string(pattern) + "')";
  // The kept names of each module asked for (by path), read from LLDB unless on the agent's
  // service thread.
  std::vector<const std::vector<std::string>*> lists;
  if (agent_frame_) {
    auto unread = [&](const std::string& shown) {
      return Error(what + ": the symbols of " + shown + " cannot be read while the target "
                   "runs (a delivery served by the agent); call functions() while the "
                   "groutine loads, or from a stop");
    };
    if (modules.empty()) {
      auto it = symbol_names_.find(main_module_path_);
      if (main_module_path_.empty() || it == symbol_names_.end())
        throw unread("the main executable");
      lists.push_back(&it->second.names);
    }
    for (const std::string& name : modules) {
      bool found = false;
      for (auto& [path, kept] : symbol_names_) {
        std::string_view file = std::string_view(path).substr(path.rfind('/') + 1);
        if (file == name) lists.push_back(&kept.names), found = true;
      }
      if (!found) throw unread("'" + name + "'");
    }
  } else {
    lldb::SBTarget target = target_.IsValid() ? target_ : debugger_.GetSelectedTarget();
    if (!target.IsValid() || target.GetNumModules() == 0)
      throw Error(what + ": there is no target (create one with `target create PROGRAM`)");
    // read() is the names of module, read again when the file at its path changed.
    auto read = [&](lldb::SBModule module) -> const std::vector<std::string>* {
      std::string path = module_path(module);
      std::string identity = module_identity(module, path);
      SymbolNames& kept = symbol_names_[path];
      if (kept.identity != identity || kept.names.empty())
        kept = SymbolNames{identity, code_symbols(module)};
      return &kept.names;
    };
    if (modules.empty()) {
      // The service thread finds the executable by this path without asking LLDB.
      main_module_path_ = module_path(target.GetModuleAtIndex(0));
      lists.push_back(read(target.GetModuleAtIndex(0)));
    }
    for (const std::string& name : modules) {
      bool found = false;
      for (std::uint32_t i = 0, n = target.GetNumModules(); i < n; ++i) {
        lldb::SBModule module = target.GetModuleAtIndex(i);
        const char* file = module.GetFileSpec().GetFilename();
        if (!file || name != file) continue;
        lists.push_back(read(module));
        found = true;
      }
      if (!found)
        throw Error(what + ": the target has no module '" + name + "' (" +
                    (target.GetProcess().IsValid()
                         ? "name a loaded module by its file name, as `image list -b` shows it"
                         : "the process has not started: shared libraries load when it runs") +
                    ")");
    }
  }
  std::string p(pattern);
  std::vector<std::string> found;
  std::set<std::string> seen;
  for (const std::vector<std::string>* names : lists)
    for (const std::string& name : *names)
      if (fnmatch(p.c_str(), name.c_str(), 0) == 0 && seen.insert(name).second)
        found.push_back(name);
  return found;
}

void LldbBackend::log(const Groutine& by, std::string_view message) {
  LogEntry e;
  e.time_ns = time_ns(Clock::now());
  e.thread = runtime_ ? RuntimeInternals::current_thread(*runtime_) : 0;
  e.kind = "log";
  e.name = by.name();
  e.detail = std::string(message);
  log_.add(std::move(e));
  print("[" + by.name() + "] " + std::string(message));
}

// --- Views ---

LldbBackend::HookView LldbBackend::hook_view(FunctionId id) const {
  HookView v;
  auto it = hooks_.find(id);
  if (it == hooks_.end()) return v;
  v.function = it->second.function;
  lldb::SBBreakpoint bp = it->second.breakpoint;
  if (bp.IsValid()) {
    v.breakpoint = bp.GetID();
    for (const auto& [location, at_entry] : it->second.at_entry) v.locations += at_entry;
    v.hits = bp.GetHitCount() - std::min(bp.GetHitCount(), it->second.service_hits);
  }
  v.patched = it->second.agent.size() + (it->second.patched && it->second.agent.empty());
  v.agent_hits = it->second.agent_hits;
  for (const auto& [location, why] : it->second.fallback)
    if (v.fallback.empty()) v.fallback = why;
  return v;
}

std::vector<LldbBackend::ReturnSiteView> LldbBackend::return_sites() const {
  std::vector<ReturnSiteView> out;
  for (const auto& [address, site] : sites_)
    out.push_back(ReturnSiteView{address, site.breakpoint.GetID(), site.calls});
  return out;
}

std::vector<lldb::break_id_t> LldbBackend::planted() const {
  std::vector<lldb::break_id_t> out;
  for (const auto& [bp, fn] : hook_by_breakpoint_) out.push_back(bp);
  for (const auto& [bp, address] : site_by_breakpoint_) out.push_back(bp);
  out.insert(out.end(), retired_.begin(), retired_.end());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace groutines::plugin
