#pragma once
// The `groutine` command set, debugger-neutral: each subcommand's argument parsing, help text
// and output, for every frontend (the LLDB plugin's `groutine` command, the Python module's
// groutines._native.command() that a GDB frontend calls). A frontend forwards the words typed
// after `groutine` to run() and prints what it returns; what only a frontend can do (load a
// Python script, plant breakpoints, choose a transport) it provides as a CommandHost.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "groutines/error.hpp"
#include "groutines/event.hpp"
#include "groutines/event_log.hpp"
#include "groutines/export.hpp"
#include "groutines/groutine.hpp"
#include "groutines/runtime.hpp"

namespace groutines::commands {

// Result is what a command printed (output) and, when it failed, its error, in the form
// "groutine SUB: what was wrong" (the frontend shows it as an error, after output: what was
// done nonetheless). error is "" on success.
struct Result {
  std::string output;
  std::string error;
};

// Incomplete is an Error thrown after part of the work was done: output() is what to print
// before the error. A CommandHost throws it from load_script() when some scripts loaded.
class GROUTINES_API Incomplete : public Error {
 public:
  Incomplete(std::string output, const std::string& message)
      : Error(message), output_(std::move(output)) {}
  const std::string& output() const noexcept { return output_; }

 private:
  std::string output_;
};

// HookView is what a frontend knows of the hook of one function, for `groutine subscriptions`.
struct HookView {
  std::string breakpoint = "-";       // the debugger's breakpoint id, "-" when it has none
  std::uint64_t locations = 0;        // the breakpoint's locations at the function's entry
  std::uint64_t hits = 0;             // calls the hook reported (breakpoint and agent)
  std::string transport = "breakpoint";  // "agent", "breakpoint" or "agent+breakpoint"
  std::string fallback;               // why the function stays on a breakpoint ("": it does not)
  bool unresolved = false;            // no module of the target defines the function (yet)
};

// ReturnSite is one return address at which awaited returns are caught.
struct ReturnSite {
  std::uint64_t address = 0;
  std::string by;               // "agent", or "breakpoint N"
  std::vector<CallId> calls;    // the calls whose return is awaited there
};

// CommandHost is what a frontend does for the commands that the core cannot: each method is
// called with the runtime's lock held, and reports what was wrong by throwing Error (its
// message follows "groutine SUB: "). The defaults are those of a frontend with none of it.
class GROUTINES_API CommandHost {
 public:
  virtual ~CommandHost();

  // event_log() is the log `groutine events` shows, or nullptr when the frontend keeps none
  // (then `groutine events` is an error).
  virtual EventLog* event_log();
  // require_stopped() throws Error when the runtime must not be changed now (the target runs:
  // its hits would race the prompt). The default allows it.
  virtual void require_stopped();
  // prepare_load() readies the frontend before groutines are loaded (the target they hook);
  // throws Error when they cannot be (no target). The default does nothing.
  virtual void prepare_load();
  // load_script() loads the Python groutines of a .py file or a directory of scripts into the
  // runtime and returns the text to print; throws Incomplete with what loaded nonetheless.
  // The default throws Error: this frontend loads no Python scripts.
  virtual std::string load_script(const std::string& path);
  // unload_script() unloads what was loaded from a .py file or a directory; the text to print.
  virtual std::string unload_script(const std::string& path);
  // load_library() loads the groutines of the C++ groutine library at path (canonical) into
  // runtime, a library already loaded from path being unloaded first (a reload); their ids.
  // The default throws Error: this frontend loads no C++ libraries.
  virtual std::vector<GroutineId> load_library(Runtime& runtime, const std::string& path);
  // unload_library() unloads the groutines of the library loaded from path (canonical) and
  // closes it; false when none was loaded from path (the default).
  virtual bool unload_library(Runtime& runtime, const std::string& path);
  // unload_everything() unloads every groutine and closes every library. The default unloads
  // every groutine (Runtime::unload_all()).
  virtual void unload_everything(Runtime& runtime);
  // hook_view() is what the frontend knows of hook. The default knows nothing: no breakpoint.
  virtual HookView hook_view(const HookInfo& hook);
  // return_sites() are the return addresses at which awaited returns are caught (none).
  virtual std::vector<ReturnSite> return_sites();
  // last_stop() is the reason of the last stop a groutine asked for ("": none).
  virtual std::string last_stop();
  // stop_on_failure() tells whether a groutine's failure stops the target;
  // set_stop_on_failure() changes it. The defaults throw Error: not supported.
  virtual bool stop_on_failure();
  virtual void set_stop_on_failure(bool on);
  // set_transport() chooses how calls reach groutines: "auto", "agent" or "breakpoint"
  // (checked before the call); transport_status() is the text `groutine transport` prints.
  // The defaults throw Error: this frontend has one transport.
  virtual void set_transport(const std::string& transport);
  virtual std::string transport_status();
};

// Help is one subcommand's help: name, one line, syntax, and a long help with examples.
struct Help {
  const char* name;
  const char* help;
  const char* syntax;
  const char* long_help;
};

// subcommands() is the help of every subcommand, in the order frontends list them. The
// examples are written at the prompt "(lldb) " (see with_prompt()).
GROUTINES_API const std::vector<Help>& subcommands();
// help() is the help of the `groutine` command itself; group_help() its long help.
GROUTINES_API const char* help();
GROUTINES_API const char* group_help();
// with_prompt() is text with each example's "(lldb) " prompt replaced by prompt ("(gdb) ").
GROUTINES_API std::string with_prompt(std::string_view text, std::string_view prompt);

// Words are how a frontend spells, in the help's examples, what the debugger itself does.
struct Words {
  std::string prompt;       // before each example command: "(lldb) "
  std::string load_plugin;  // the command that brings groutines into the debugger
  std::string file;         // the command that chooses the program (its path follows)
  std::string interrupt;    // how the user stops a running target, as the help names it
};
// lldb_words() and gdb_words() are the words of the LLDB plugin and of the GDB frontend.
GROUTINES_API Words lldb_words();
GROUTINES_API Words gdb_words();
// in_words() is text (help written for LLDB: subcommands(), group_help()) in a frontend's
// words: its prompt, and LLDB's own commands in the examples spelled as it spells them.
GROUTINES_API std::string in_words(std::string_view text, const Words& words);

// loaded_text() is what `groutine load` prints for the groutines ids just loaded from source
// (a library or a script, as the user should read it): "loaded N groutines from SOURCE", then
// "  ID NAME STATE" per groutine, in load order, STATE as `groutine list` shows it but for a
// groutine that already failed: "failed: FILE:LINE: MESSAGE" (its last failure). Every
// frontend's load prints it, for C++ libraries and Python scripts alike.
GROUTINES_API std::string loaded_text(const Runtime& runtime, const std::string& source,
                                      const std::vector<GroutineId>& ids);

// run() runs the subcommand argv[0] with the arguments argv[1...] against runtime, under its
// lock, with host doing what only the frontend can; never throws (but forced_unwind, and
// what a host's method throws that is no std::exception).
GROUTINES_API Result run(Runtime& runtime, CommandHost& host, const std::vector<std::string>& argv);

}  // namespace groutines::commands
