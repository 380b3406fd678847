// The `groutine` command: LLDB command objects over the core's command set
// (groutines/commands.hpp), which parses the arguments and renders the text. What only LLDB
// can do (the selected target, breakpoints, the agent, Python scripts) is LldbCommandHost.
#include "commands.hpp"

#include <exception>
#include <string>
#include <vector>

#include "groutines/commands.hpp"
#include "groutines/error.hpp"
#include "host.hpp"
#include "python_entry.hpp"

namespace groutines::plugin {

namespace {

// LldbCommandHost is the core's CommandHost for one `groutine` command typed in debugger.
class LldbCommandHost final : public commands::CommandHost {
 public:
  LldbCommandHost(lldb::SBDebugger debugger, Host& host)
      : debugger_(std::move(debugger)), host_(host) {}

  EventLog* event_log() override { return &host_.event_log(); }

  // require_stopped() refuses to change the runtime while the target runs: its breakpoint
  // callbacks would race the prompt. Between two breakpoint hits that continue by themselves,
  // LLDB's public state reads "stopped" for a moment: the backend tells those stops apart.
  void require_stopped() override {
    lldb::SBProcess p = debugger_.GetSelectedTarget().GetProcess();
    if (!p.IsValid()) return;
    lldb::StateType s = p.GetState();
    if (s == lldb::eStateRunning || s == lldb::eStateStepping || s == lldb::eStateLaunching ||
        s == lldb::eStateAttaching || host_.backend().auto_continuing(p))
      throw Error("the process is running: interrupt it first (process interrupt)");
  }

  void prepare_load() override {
    lldb::SBTarget target = debugger_.GetSelectedTarget();
    if (!target.IsValid())
      throw Error("no target: create one first (file PROGRAM), then load groutines");
    host_.backend().use_target(target);
  }

  std::string load_script(const std::string& path) override {
    return python_entry("load_command", path);
  }
  std::string unload_script(const std::string& path) override {
    return python_entry("unload_command", path);
  }

  std::vector<GroutineId> load_library(Runtime& runtime, const std::string& path) override {
    return host_.libraries().load(runtime, path);
  }
  bool unload_library(Runtime& runtime, const std::string& path) override {
    return host_.libraries().unload(runtime, path);
  }
  void unload_everything(Runtime& runtime) override { host_.libraries().unload_all(runtime); }

  commands::HookView hook_view(const HookInfo& hook) override {
    LldbBackend::HookView v = host_.backend().hook_view(hook.id);
    commands::HookView out;
    bool planted = v.breakpoint != LLDB_INVALID_BREAK_ID;
    if (planted) out.breakpoint = std::to_string(v.breakpoint);
    out.locations = v.locations;
    out.hits = v.hits + v.agent_hits;
    out.transport = v.patched ? (v.fallback.empty() ? "agent" : "agent+breakpoint") : "breakpoint";
    out.fallback = v.fallback;
    out.unresolved = planted && v.locations == 0;
    return out;
  }

  std::vector<commands::ReturnSite> return_sites() override {
    std::vector<commands::ReturnSite> out;
    auto add = [&](const LldbBackend::ReturnSiteView& s) {
      out.push_back({s.address,
                     s.breakpoint == LLDB_INVALID_BREAK_ID
                         ? "agent"
                         : "breakpoint " + std::to_string(s.breakpoint),
                     s.calls});
    };
    for (const auto& s : host_.backend().return_sites()) add(s);
    for (const auto& s : host_.backend().agent_return_sites()) add(s);
    return out;
  }

  std::string last_stop() override { return host_.backend().last_stop(); }
  bool stop_on_failure() override { return host_.backend().stop_on_failure(); }
  void set_stop_on_failure(bool on) override { host_.backend().set_stop_on_failure(on); }

  void set_transport(const std::string& name) override {
    host_.backend().set_transport(name == "auto"    ? LldbBackend::Transport::Auto
                                  : name == "agent" ? LldbBackend::Transport::Agent
                                                    : LldbBackend::Transport::Breakpoint);
  }
  std::string transport_status() override { return host_.backend().agent_status(); }

 private:
  // python_entry() calls groutines._host.<function>(path) (python_entry.hpp) and returns the
  // text it produced; throws Incomplete with the entry point's error text.
  std::string python_entry(const char* function, const std::string& path) {
    PythonReply reply = call_python_entry(debugger_, function, path);
    if (reply.error.empty()) return reply.output;
    throw commands::Incomplete(reply.output, reply.error);
  }

  lldb::SBDebugger debugger_;
  Host& host_;
};

// Subcommand is one `groutine` subcommand: it brings the backend in line with the process and
// runs the core's subcommand of its name under the runtime's lock.
class Subcommand final : public lldb::SBCommandPluginInterface {
 public:
  explicit Subcommand(const char* name) : name_(name) {}

  bool DoExecute(lldb::SBDebugger debugger, char** command,
                 lldb::SBCommandReturnObject& result) override {
    commands::Result out;
    try {
      Host& host = Host::get(debugger);
      std::vector<std::string> argv{name_};
      for (; command && *command; ++command) argv.emplace_back(*command);
      host.backend().offer_agent();  // runs the target a moment: without the runtime's lock
      auto lock = host.runtime().lock();
      host.backend().at_prompt();
      LldbCommandHost frontend(debugger, host);
      out = commands::run(host.runtime(), frontend, argv);
    } catch (const std::exception& e) {
      out.error = "groutine " + name_ + ": " + e.what();
    }
    if (!out.output.empty()) result.Printf("%s", out.output.c_str());
    if (out.error.empty()) {
      result.SetStatus(lldb::eReturnStatusSuccessFinishResult);
      return true;
    }
    result.SetError(out.error.c_str());
    result.SetStatus(lldb::eReturnStatusFailed);
    return false;
  }

 private:
  std::string name_;
};

// reflow() joins the lines of each paragraph before "Examples:" so that LLDB, which wraps
// help text to the terminal itself, does not break lines twice.
std::string reflow(const char* text) {
  std::string s = text;
  std::size_t end = s.find("\nExamples:");
  if (end == std::string::npos) end = s.size();
  for (std::size_t i = 0; i + 1 < end; ++i)
    if (s[i] == '\n' && s[i + 1] != '\n' && (i == 0 || s[i - 1] != '\n')) s[i] = ' ';
  return s;
}

}  // namespace

bool add_groutine_command(lldb::SBDebugger debugger) {
  lldb::SBCommandInterpreter interpreter = debugger.GetCommandInterpreter();
  lldb::SBCommand groutine = interpreter.AddMultiwordCommand("groutine", commands::help());
  if (!groutine.IsValid()) return false;
  groutine.SetHelpLong(reflow(commands::group_help()).c_str());
  for (const commands::Help& h : commands::subcommands()) {
    lldb::SBCommand c = groutine.AddCommand(h.name, new Subcommand(h.name), h.help, h.syntax);
    if (c.IsValid()) c.SetHelpLong(reflow(h.long_help).c_str());
  }
  return true;
}

}  // namespace groutines::plugin
