#include "groutines/testing/scripted_target.hpp"

#include <algorithm>
#include <cstdio>
#include <fnmatch.h>
#include <set>
#include <stdexcept>

#include "groutines/error.hpp"
#include "groutines/groutine.hpp"

namespace groutines::testing {

namespace {
std::string hex(std::uint64_t address) {
  char buffer[24];
  std::snprintf(buffer, sizeof buffer, "0x%llx", static_cast<unsigned long long>(address));
  return buffer;
}
}  // namespace

// --- ScriptedFrame ---

std::uint64_t ScriptedFrame::int_argument(unsigned index) {
  if (index >= ints.size())
    throw Error("call of " + function + " has no integer argument " + std::to_string(index) +
                " (the scripted call passed " + std::to_string(ints.size()) + ")");
  return ints[index];
}

double ScriptedFrame::float_argument(unsigned index) {
  if (index >= floats.size())
    throw Error("call of " + function + " has no float argument " + std::to_string(index) +
                " (the scripted call passed " + std::to_string(floats.size()) + ")");
  return floats[index];
}

std::uint64_t ScriptedFrame::register_value(std::string_view name) {
  if (auto it = registers.find(name); it != registers.end()) return it->second;
  static const char* const kArguments[] = {"rdi", "rsi", "rdx", "rcx", "r8", "r9"};
  for (unsigned i = 0; i < 6; ++i)
    if (name == kArguments[i] && i < ints.size()) return ints[i];
  if (name == "rax") return return_int;
  throw Error("unknown register '" + std::string(name) + "'");
}

std::vector<std::uint8_t> ScriptedFrame::read_memory(std::uint64_t address, std::size_t size) {
  if (memory) {
    auto it = memory->upper_bound(address);
    if (it != memory->begin()) {
      --it;
      std::uint64_t offset = address - it->first;
      if (offset + size <= it->second.size())
        return {it->second.begin() + static_cast<std::ptrdiff_t>(offset),
                it->second.begin() + static_cast<std::ptrdiff_t>(offset + size)};
    }
  }
  throw Error("cannot read " + std::to_string(size) + " bytes at " + hex(address));
}

std::string ScriptedFrame::read_cstring(std::uint64_t address, std::size_t max_size) {
  if (memory) {
    auto it = memory->upper_bound(address);
    if (it != memory->begin()) {
      --it;
      std::uint64_t offset = address - it->first;
      if (offset < it->second.size()) {
        std::string out;
        for (std::size_t i = offset; i < it->second.size() && out.size() < max_size; ++i) {
          if (it->second[i] == 0) return out;
          out += static_cast<char>(it->second[i]);
        }
        if (out.size() == max_size) return out;
      }
    }
  }
  throw Error("cannot read a string at " + hex(address));
}

std::vector<StackFrame> ScriptedFrame::backtrace(std::size_t max_frames) {
  std::vector<StackFrame> out;
  for (std::size_t i = 0; i < stack.size() && i < max_frames; ++i) {
    StackFrame& frame = out.emplace_back();
    if (places) {
      if (auto placed = places->find(stack[i]); placed != places->end()) frame = placed->second;
    }
    frame.function = stack[i];
  }
  return out;
}

// --- ScriptedTarget ---

ScriptedTarget::ScriptedTarget(RuntimeOptions options)
    : runtime_(std::make_unique<Runtime>(*this, options)) {}

ScriptedTarget::~ScriptedTarget() {
  close();
  runtime_.reset();  // before the members it uses as its backend
}

Runtime& ScriptedTarget::open_runtime() {
  if (closed_) throw Error("this scripted target is closed");
  return *runtime_;
}

void ScriptedTarget::close() {
  if (closed_) return;
  closed_ = true;
  runtime_->unload_all();
}

std::deque<std::unique_ptr<ScriptedFrame>>& ScriptedTarget::stack(std::uint64_t thread) {
  auto it = stacks_.find(thread);
  if (it == stacks_.end() || it->second.empty())
    throw Error("thread " + std::to_string(thread) + " has no frame to return from");
  return it->second;
}

std::optional<Value> ScriptedTarget::call(
    std::uint64_t thread, const std::string& function, std::vector<std::uint64_t> ints,
    std::vector<double> floats, std::vector<Argument> named,
    std::map<std::string, std::uint64_t, std::less<>> registers) {
  Runtime& rt = open_runtime();
  auto lock = rt.lock();  // like a debugger, for the whole stop
  auto& frames = stacks_[thread];
  auto frame = std::make_unique<ScriptedFrame>();
  frame->thread = thread;
  frame->function = function;
  frame->ints = std::move(ints);
  frame->floats = std::move(floats);
  frame->named = std::move(named);
  frame->registers = std::move(registers);
  frame->memory = &memory_;
  frame->regions = &regions_;
  frame->places = &places_;
  if (auto type = return_types_.find(function); type != return_types_.end())
    frame->return_type = type->second;
  frame->stack.push_back(function);
  for (auto it = frames.rbegin(); it != frames.rend(); ++it)
    frame->stack.push_back((*it)->function);
  ScriptedFrame& f = *frame;
  frames.push_back(std::move(frame));
  for (const auto& [id, stack] : stacks_) {
    std::uint64_t sp = 0x7ff000000000 - 0x100 * stack.size();
    ThreadState t{id, sp, {{"rsp", sp}}};
    if (id == thread)
      f.thread_states.insert(f.thread_states.begin(), t);
    else if (!stack.empty())
      f.thread_states.push_back(t);
  }
  if (!is_hooked(function)) return std::nullopt;
  Outcome out = rt.deliver_call(rt.function_id(function), thread, Clock::now(), f);
  if (out.forced_return) {
    // The runtime's contract: a call it skips has no return to watch.
    if (f.watched_call) throw std::logic_error("a skipped call's return was watched");
    stacks_[thread].pop_back();
  }
  return out.forced_return;
}

Value ScriptedTarget::ret(std::uint64_t thread, const Value& value) {
  Runtime& rt = open_runtime();
  auto lock = rt.lock();
  auto& frames = stack(thread);
  if (!std::holds_alternative<double>(value) && !std::holds_alternative<std::int64_t>(value) &&
      !std::holds_alternative<bool>(value) && !std::holds_alternative<std::monostate>(value))
    throw Error("a scripted return value is an int or a float");
  std::unique_ptr<ScriptedFrame> f = std::move(frames.back());
  frames.pop_back();
  // Returned: the thread is back in the caller.
  if (!f->stack.empty()) f->stack.erase(f->stack.begin());
  if (auto* d = std::get_if<double>(&value)) {
    f->return_float = *d;
    f->float_result = true;
  } else if (auto* i = std::get_if<std::int64_t>(&value)) {
    f->return_int = static_cast<std::uint64_t>(*i);
  } else if (auto* b = std::get_if<bool>(&value)) {
    f->return_int = *b;
  }
  if (!f->watched_call) return value;
  --watched_now_;
  Outcome out = rt.deliver_return(*f->watched_call, thread, Clock::now(), *f, false);
  return out.return_value ? *out.return_value : value;
}

void ScriptedTarget::unwind(std::uint64_t thread, unsigned n) {
  Runtime& rt = open_runtime();
  auto lock = rt.lock();
  auto& frames = stack(thread);
  if (n > frames.size())
    throw Error("thread " + std::to_string(thread) + " has only " +
                std::to_string(frames.size()) + " frames to unwind");
  for (unsigned i = 0; i < n; ++i) {
    std::unique_ptr<ScriptedFrame> f = std::move(frames.back());
    frames.pop_back();
    if (f->watched_call) {
      --watched_now_;
      rt.deliver_return(*f->watched_call, thread, Clock::now(), *f, true);
    }
  }
}

void ScriptedTarget::write_memory(std::uint64_t address, std::vector<std::uint8_t> bytes) {
  auto lock = open_runtime().lock();
  memory_[address] = std::move(bytes);
}

void ScriptedTarget::declare_return_type(const std::string& function,
                                         const sysv::TypeDescription& type) {
  return_types_[function] = sysv::return_layout(type);
}

void ScriptedTarget::place(const std::string& function, StackFrame where) {
  places_[function] = std::move(where);
}

std::size_t ScriptedTarget::depth(std::uint64_t thread) const {
  auto it = stacks_.find(thread);
  return it == stacks_.end() ? 0 : it->second.size();
}

std::vector<std::string> ScriptedTarget::hooked() const {
  std::vector<std::string> out;
  for (const auto& [id, function] : hooks_) out.push_back(function);
  std::sort(out.begin(), out.end());
  return out;
}

bool ScriptedTarget::is_hooked(std::string_view function) const {
  return std::any_of(hooks_.begin(), hooks_.end(),
                     [&](const auto& h) { return h.second == function; });
}

void ScriptedTarget::install_call_hook(FunctionId id, std::string_view function) noexcept {
  hooks_[id] = std::string(function);
  journal.push_back("install " + std::string(function));
}

void ScriptedTarget::remove_call_hook(FunctionId id) noexcept {
  journal.push_back("remove " + hooks_[id]);
  hooks_.erase(id);
}

void ScriptedTarget::watch_return(CallId call, FunctionId /*function_id*/,
                                  std::string_view function, Frame& frame) noexcept {
  static_cast<ScriptedFrame&>(frame).watched_call = call;
  watched_functions[call] = std::string(function);
  ++watched_now_;
  journal.push_back("watch #" + std::to_string(call));
}

void ScriptedTarget::unwatch_return(CallId call) noexcept {
  for (auto& [thread, frames] : stacks_)
    for (auto& f : frames)
      if (f->watched_call == call) {
        f->watched_call.reset();
        --watched_now_;
      }
  journal.push_back("unwatch #" + std::to_string(call));
}

void ScriptedTarget::request_stop(const Groutine& by, std::string_view reason) {
  stops.push_back(by.name() + ": " + std::string(reason));
}

void ScriptedTarget::observe(const Event& event) noexcept { observed.push_back(event.seq); }

void ScriptedTarget::log(const Groutine& by, std::string_view message) {
  logs.push_back(by.name() + ": " + std::string(message));
}

void ScriptedTarget::declare_symbols(const std::string& module,
                                     const std::vector<std::string>& names) {
  std::vector<std::string>& known = symbols_[module];
  known.insert(known.end(), names.begin(), names.end());
}

std::vector<std::string> ScriptedTarget::functions(std::string_view pattern,
                                                   const std::vector<std::string>& modules) {
  std::vector<std::string> in = modules.empty() ? std::vector<std::string>{""} : modules;
  std::string p(pattern);
  std::vector<std::string> found;
  std::set<std::string> seen;
  for (const std::string& module : in) {
    auto it = symbols_.find(module);
    if (it == symbols_.end()) {
      if (module.empty()) continue;  // an executable without symbols matches nothing
      throw Error("functions('" + p + "'): the target has no module '" + module + "'");
    }
    for (const std::string& name : it->second)
      if (fnmatch(p.c_str(), name.c_str(), 0) == 0 && seen.insert(name).second)
        found.push_back(name);
  }
  return found;
}

void ScriptedTarget::map_region(MemoryRegion region) {
  auto at = std::upper_bound(regions_.begin(), regions_.end(), region.start,
                             [](std::uint64_t a, const MemoryRegion& r) { return a < r.start; });
  regions_.insert(at, std::move(region));
}

std::vector<MemoryRegion> ScriptedFrame::memory_regions() {
  if (!regions || regions->empty())
    throw Error("memory_regions: the scripted target has no memory map (map_region() "
                "declares one)");
  return *regions;
}

}  // namespace groutines::testing
