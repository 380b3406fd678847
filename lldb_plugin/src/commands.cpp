// The `groutine` command: one class per subcommand, in the style of LLDB's own commands.
// Each checks its arguments, takes the runtime's lock, brings the backend in line with the
// process, and reports problems on the result object as "groutine SUB: what was wrong".
#include "commands.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "groutines/error.hpp"
#include "groutines/groutine.hpp"
#include "groutines/value.hpp"
#include "host.hpp"
#include "python_entry.hpp"

namespace groutines::plugin {

namespace {

std::vector<std::string> arguments_of(char** command) {
  std::vector<std::string> out;
  for (; command && *command; ++command) out.emplace_back(*command);
  return out;
}

std::string format(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
std::string format(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  va_list again;
  va_copy(again, ap);
  int n = std::vsnprintf(nullptr, 0, fmt, ap);
  va_end(ap);
  std::string out(n > 0 ? static_cast<std::size_t>(n) : 0, '\0');
  if (n > 0) std::vsnprintf(out.data(), out.size() + 1, fmt, again);
  va_end(again);
  return out;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// parse_count() reads a non-negative count typed at the prompt.
std::size_t parse_count(const std::string& option, const std::string& text) {
  char* end = nullptr;
  errno = 0;
  long long v = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno != 0 || v < 0)
    throw Error("'" + text + "' is not a count for " + option);
  return static_cast<std::size_t>(v);
}

// Table lays out rows of cells in columns as wide as their widest cell; the last column is
// not padded.
class Table {
 public:
  explicit Table(std::vector<std::string> header) { rows_.push_back(std::move(header)); }
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  std::string render() const {
    std::vector<std::size_t> width;
    for (const auto& row : rows_)
      for (std::size_t i = 0; i < row.size(); ++i) {
        if (width.size() <= i) width.push_back(0);
        width[i] = std::max(width[i], row[i].size());
      }
    std::string out;
    for (const auto& row : rows_) {
      std::string line;
      for (std::size_t i = 0; i < row.size(); ++i) {
        line += row[i];
        if (i + 1 < row.size()) line += std::string(width[i] - row[i].size() + 2, ' ');
      }
      while (!line.empty() && line.back() == ' ') line.pop_back();
      out += line + "\n";
    }
    return out;
  }

 private:
  std::vector<std::vector<std::string>> rows_;
};

std::string state_of(const Groutine& g) {
  switch (g.state()) {
    case State::Waiting:
      return "waiting on " + g.waiting_on();
    default:
      return name(g.state());
  }
}

// Row is one groutine as the list and report show it, copied under the runtime's lock (an
// ended child may be reaped as soon as the lock is let go).
struct Row {
  GroutineId id = 0;
  GroutineId parent = 0;
  std::string name, state, source;
  std::uint64_t events = 0;
  bool own_passed = true;  // no failure of its own nor of a reaped child
  std::vector<Failure> failures;
  Children children;
  std::uint64_t live_children = 0;
  std::vector<std::pair<std::string, std::uint64_t>> missed;  // function, calls
  unsigned depth = 0;  // spawned children below their parent
  bool passed = true;  // with its live descendants
};

// rows() is every loaded groutine, each spawned child right below its parent (depth set), and
// each row's passed telling whether it and its live descendants passed.
std::vector<Row> rows(const Runtime& runtime) {
  std::vector<Row> all;
  runtime.for_each([&](const Groutine& g) {
    Row r;
    r.id = g.id();
    r.parent = g.parent();
    r.name = g.name();
    r.state = state_of(g);
    r.source = g.source();
    r.events = g.events_handled();
    r.own_passed = r.passed = g.passed();
    r.failures = g.failures();
    r.children = g.children();
    r.live_children = g.live_children();
    for (const MissedCalls& m : g.missed())
      r.missed.emplace_back(std::string(runtime.function_name(m.function)), m.count);
    all.push_back(std::move(r));
  });
  // A child's verdict goes up to its ancestors: children come after their parents, newest last.
  std::map<GroutineId, std::size_t> index;
  for (std::size_t i = 0; i < all.size(); ++i) index[all[i].id] = i;
  for (std::size_t i = all.size(); i-- > 0;)
    if (all[i].parent && !all[i].passed && index.count(all[i].parent))
      all[index[all[i].parent]].passed = false;
  std::vector<Row> ordered;
  std::function<void(GroutineId, unsigned)> below = [&](GroutineId parent, unsigned depth) {
    for (Row& r : all)
      if (r.parent == parent && r.id != 0) {
        GroutineId id = r.id;
        r.depth = depth;
        ordered.push_back(r);
        r.id = 0;  // taken
        below(id, depth + 1);
      }
  };
  below(0, 0);
  for (Row& r : all)  // a child whose parent is gone (not expected): at the end
    if (r.id != 0) ordered.push_back(r);
  return ordered;
}

// children_line() summarises what a groutine's children came to: "children: 3 spawned, 1
// running, 2 ended (1 failed)".
std::string children_line(const Row& r) {
  return format("children: %llu spawned, %llu live, %llu ended (%llu failed)",
                static_cast<unsigned long long>(r.children.spawned),
                static_cast<unsigned long long>(r.live_children),
                static_cast<unsigned long long>(r.children.ended),
                static_cast<unsigned long long>(r.children.failed));
}

// Incomplete is an error after part of the work was done: output is what to print first.
class Incomplete : public Error {
 public:
  Incomplete(std::string output, const std::string& message)
      : Error(message), output_(std::move(output)) {}
  const std::string& output() const noexcept { return output_; }

 private:
  std::string output_;
};

// python_entry() calls groutines._host.<function>(path) (python_entry.hpp) and returns the
// text it produced; throws Incomplete with the entry point's error text.
std::string python_entry(lldb::SBDebugger& debugger, const char* function,
                         const std::string& path) {
  PythonReply reply = call_python_entry(debugger, function, path);
  if (reply.error.empty()) return reply.output;
  throw Incomplete(reply.output, reply.error);
}

// unresolved() lists the hooked functions whose breakpoint has no location, with that
// breakpoint: no module loaded in the target defines them, yet (a library the target will
// dlopen may).
std::vector<std::pair<std::string, lldb::break_id_t>> unresolved(Host& host) {
  std::vector<std::pair<std::string, lldb::break_id_t>> out;
  for (const HookInfo& h : host.runtime().hooks()) {
    if (!h.installed) continue;
    LldbBackend::HookView v = host.backend().hook_view(h.id);
    if (v.breakpoint != LLDB_INVALID_BREAK_ID && v.locations == 0)
      out.emplace_back(h.function, v.breakpoint);
  }
  return out;
}

std::string no_such_function(const std::string& function) {
  return function + ": no such function (yet): the hook waits for a library that defines it";
}

// Subcommand is one `groutine` subcommand: run() does the work, errors are Error.
class Subcommand : public lldb::SBCommandPluginInterface {
 public:
  explicit Subcommand(const char* name) : name_(name) {}

  bool DoExecute(lldb::SBDebugger debugger, char** command,
                 lldb::SBCommandReturnObject& result) override {
    try {
      Host& host = Host::get(debugger);
      std::vector<std::string> args = arguments_of(command);
      std::string out;
      host.backend().offer_agent();  // runs the target a moment: without the runtime's lock
      {
        auto lock = host.runtime().lock();
        host.backend().at_prompt();
        out = run(debugger, host, args);
      }
      if (!out.empty()) result.Printf("%s", out.c_str());
      result.SetStatus(lldb::eReturnStatusSuccessFinishResult);
      return true;
    } catch (const Incomplete& e) {
      if (!e.output().empty()) result.Printf("%s", e.output().c_str());
      result.SetError(("groutine " + name_ + ": " + e.what()).c_str());
      result.SetStatus(lldb::eReturnStatusFailed);
      return false;
    } catch (const std::exception& e) {
      result.SetError(("groutine " + name_ + ": " + e.what()).c_str());
      result.SetStatus(lldb::eReturnStatusFailed);
      return false;
    }
  }

 protected:
  virtual std::string run(lldb::SBDebugger& debugger, Host& host,
                          const std::vector<std::string>& args) = 0;

  // require_stopped() refuses to change the runtime while the target runs: its breakpoint
  // callbacks would race the prompt.
  // Between two breakpoint hits that continue by themselves, LLDB's public state reads
  // "stopped" for a moment: the backend tells those stops apart.
  void require_stopped(lldb::SBDebugger& debugger, Host& host) const {
    lldb::SBProcess p = debugger.GetSelectedTarget().GetProcess();
    if (!p.IsValid()) return;
    lldb::StateType s = p.GetState();
    if (s == lldb::eStateRunning || s == lldb::eStateStepping || s == lldb::eStateLaunching ||
        s == lldb::eStateAttaching || host.backend().auto_continuing(p))
      throw Error("the process is running: interrupt it first (process interrupt)");
  }

  std::string name_;
};

// --- groutine load ---

class LoadCommand final : public Subcommand {
 public:
  LoadCommand() : Subcommand("load") {}
  static constexpr const char* kHelp = "Load groutines from a C++ shared library.";
  static constexpr const char* kSyntax = "groutine load <path>";
  static constexpr const char* kLongHelp =
      "Load every groutine a C++ shared library defines with GROUTINE(...), and start each\n"
      "one: it runs until its first wait. Subscribing to calls of a function plants one\n"
      "breakpoint on it in the selected target, so a target must exist first. Loading a\n"
      "library again reloads it: its groutines are unloaded and the library closed first.\n"
      "A .py file, or a directory of groutine_*.py and *_groutines.py scripts, is loaded by\n"
      "the groutines Python module (built in python/) into the same runtime. A library or a\n"
      "script with no groutines in it is an error. A function the groutines wait on that no\n"
      "module of the target defines yet is a warning, not an error: its hook waits for a\n"
      "library that defines it (one the target will dlopen).\n"
      "\n"
      "Examples:\n"
      "\n"
      "(lldb) file build/tests/targets/calls_O2\n"
      "(lldb) groutine load build/groutines/libgroutine_calls_checks.so\n"
      "loaded 5 groutines from /.../libgroutine_calls_checks.so\n"
      "  1 check-add            waiting on call of add\n"
      "  2 check-scale          waiting on call of scale\n"
      "  ...\n"
      "(lldb) run\n"
      "(lldb) groutine load build/groutines/libgroutine_calls_checks.so\n"
      "(reloads it: the groutines start again)\n"
      "(lldb) groutine load tests/python/scripts/groutine_lldb_calls.py\n"
      "(lldb) groutine load plugin_checks.py\n"
      "loaded 1 groutine from /.../plugin_checks.py\n"
      "  6 plugin-init          waiting on call of plugin_init\n"
      "warning: plugin_init: no such function (yet): the hook waits for a library that "
      "defines it\n";

 private:
  std::string run(lldb::SBDebugger& debugger, Host& host,
                  const std::vector<std::string>& args) override {
    if (args.size() != 1) throw Error("expected one path, got " + std::to_string(args.size()) +
                                      " arguments (groutine load <path>)");
    require_stopped(debugger, host);
    const std::string& path = args[0];
    struct stat st {};
    if (stat(path.c_str(), &st) != 0) throw Error("no such file '" + path + "'");
    lldb::SBTarget target = debugger.GetSelectedTarget();
    if (!target.IsValid())
      throw Error("no target: create one first (file PROGRAM), then load groutines");
    host.backend().use_target(target);
    auto before = unresolved(host);
    // warnings() warns of the functions the load hooked (a new breakpoint) that nothing
    // defines yet: not an error, a later dlopen may define them.
    auto warnings = [&] {
      std::string out;
      for (const auto& hook : unresolved(host))
        if (std::find(before.begin(), before.end(), hook) == before.end())
          out += "warning: " + no_such_function(hook.first) + "\n";
      return out;
    };
    if (S_ISDIR(st.st_mode) || ends_with(path, ".py")) {
      try {
        std::string out = python_entry(debugger, "load_command", path);
        return out + warnings();
      } catch (const Incomplete& e) {
        throw Incomplete(e.output() + warnings(), e.what());
      }
    }
    char resolved[PATH_MAX];
    if (!realpath(path.c_str(), resolved)) throw Error("cannot resolve '" + path + "'");
    std::vector<GroutineId> ids = host.load_library(resolved);
    std::string out = format("loaded %zu groutine%s from %s\n", ids.size(),
                             ids.size() == 1 ? "" : "s", resolved);
    host.runtime().for_each([&](const Groutine& g) {
      for (GroutineId id : ids)
        if (g.id() == id)
          out += format("  %llu %-20s %s\n", static_cast<unsigned long long>(id),
                        g.name().c_str(), state_of(g).c_str());
    });
    return out + warnings();
  }
};

// --- groutine list ---

class ListCommand final : public Subcommand {
 public:
  ListCommand() : Subcommand("list") {}
  static constexpr const char* kHelp = "List the loaded groutines.";
  static constexpr const char* kSyntax = "groutine list";
  static constexpr const char* kLongHelp =
      "List every loaded groutine: its id, its name, its state (what it waits on, finished\n"
      "or failed), how many events it has handled, and the library it came from. The children\n"
      "a groutine spawned (spawn()) are listed below it, indented, while they live; ended ones\n"
      "are counted in its CHILDREN column (shown once a groutine has spawned).\n"
      "\n"
      "Examples:\n"
      "\n"
      "(lldb) groutine list\n"
      "ID  NAME        STATE                     EVENTS  SOURCE\n"
      "1   check-add   waiting on call of add    6       /.../libgroutine_calls_checks.so\n";

 private:
  std::string run(lldb::SBDebugger&, Host& host, const std::vector<std::string>& args) override {
    if (!args.empty()) throw Error("takes no arguments");
    if (host.runtime().size() == 0) return "no groutines loaded\n";
    std::vector<Row> all = rows(host.runtime());
    bool spawned = std::any_of(all.begin(), all.end(),
                               [](const Row& r) { return r.children.spawned > 0; });
    Table table(spawned ? std::vector<std::string>{"ID", "NAME", "STATE", "EVENTS", "CHILDREN",
                                                   "SOURCE"}
                        : std::vector<std::string>{"ID", "NAME", "STATE", "EVENTS", "SOURCE"});
    for (const Row& r : all) {
      std::vector<std::string> row{std::to_string(r.id), std::string(2 * r.depth, ' ') + r.name,
                                   r.state, std::to_string(r.events)};
      if (spawned)
        row.push_back(r.children.spawned == 0
                          ? "-"
                          : format("%llu live, %llu ended",
                                   static_cast<unsigned long long>(r.live_children),
                                   static_cast<unsigned long long>(r.children.ended)));
      row.push_back(r.source);
      table.add(std::move(row));
    }
    std::string out = table.render();
    if (!host.backend().last_stop().empty()) out += "last stop: " + host.backend().last_stop() + "\n";
    return out;
  }
};

// --- groutine unload ---

class UnloadCommand final : public Subcommand {
 public:
  UnloadCommand() : Subcommand("unload") {}
  static constexpr const char* kHelp = "Unload groutines by name, by library, or all of them.";
  static constexpr const char* kSyntax = "groutine unload <name> | <path> | --all";
  static constexpr const char* kLongHelp =
      "Unload groutines. A suspended groutine is unwound (its destructors run) and the\n"
      "breakpoints nobody waits on any more are removed. Unloading by path also closes the\n"
      "library (a .py file or a directory goes to the groutines Python module); --all unloads\n"
      "everything. A groutine's spawned children are unloaded with it, first. A groutine\n"
      "cannot be unloaded while it runs (from a command it runs, or a breakpoint command run\n"
      "while it handles an event): then the command fails and unloads nothing.\n"
      "\n"
      "Examples:\n"
      "\n"
      "(lldb) groutine unload check-add\n"
      "(lldb) groutine unload build/groutines/libgroutine_calls_checks.so\n"
      "(lldb) groutine unload --all\n";

 private:
  std::string run(lldb::SBDebugger& debugger, Host& host,
                  const std::vector<std::string>& args) override {
    if (args.size() != 1)
      throw Error("expected a groutine name, a library path or --all");
    require_stopped(debugger, host);
    const std::string& what = args[0];
    if (what == "--all" || what == "-a") {
      std::size_t n = host.runtime().size();
      host.unload_everything();
      return format("unloaded %zu groutine%s\n", n, n == 1 ? "" : "s");
    }
    struct stat st {};
    if (stat(what.c_str(), &st) == 0 && (S_ISDIR(st.st_mode) || ends_with(what, ".py")))
      return python_entry(debugger, "unload_command", what);
    char resolved[PATH_MAX];
    if (realpath(what.c_str(), resolved)) {
      std::size_t before = host.runtime().size();
      if (host.unload_library(resolved))
        return format("unloaded %zu groutines and closed %s\n", before - host.runtime().size(),
                      resolved);
    }
    std::vector<GroutineId> ids;
    host.runtime().for_each([&](const Groutine& g) {
      if (g.name() == what) ids.push_back(g.id());
    });
    if (ids.empty()) throw Error("no groutine or library called '" + what + "'");
    host.runtime().for_each([&](const Groutine& g) {  // all or nothing
      if (g.name() == what && g.state() == State::Running)
        throw Error("groutine '" + what +
                    "' is running: it cannot be unloaded from a delivery (nothing was unloaded)");
    });
    for (GroutineId id : ids) host.runtime().unload(id);
    return format("unloaded %zu groutine%s called '%s'\n", ids.size(), ids.size() == 1 ? "" : "s",
                  what.c_str());
  }
};

// --- groutine fire ---

class FireCommand final : public Subcommand {
 public:
  FireCommand() : Subcommand("fire") {}
  static constexpr const char* kHelp = "Fire a custom event at the groutines; print replies.";
  static constexpr const char* kSyntax = "groutine fire <event> [<key>=<value> ...]";
  static constexpr const char* kLongHelp =
      "Fire custom event <event> with the given data to every groutine waiting for it,\n"
      "synchronously, and print their replies. Values are integers (42, -1, 0x10), floats\n"
      "(1.5), true/false, none, or strings (optionally \"quoted\").\n"
      "\n"
      "Examples:\n"
      "\n"
      "(lldb) groutine fire ping n=41\n"
      "reply from echo (#3): 42\n"
      "(lldb) groutine fire config name=\"fast path\" limit=10\n"
      "no replies\n";

 private:
  std::string run(lldb::SBDebugger& debugger, Host& host,
                  const std::vector<std::string>& args) override {
    if (args.empty()) throw Error("expected an event name (groutine fire <event> [key=value ...])");
    require_stopped(debugger, host);
    Data data;
    for (std::size_t i = 1; i < args.size(); ++i) {
      std::size_t eq = args[i].find('=');
      if (eq == std::string::npos || eq == 0)
        throw Error("'" + args[i] + "' is not key=value");
      data.push_back(Field{args[i].substr(0, eq), parse_value(args[i].substr(eq + 1))});
    }
    std::vector<Reply> replies = host.runtime().fire(args[0], std::move(data), 0);
    if (replies.empty()) return "no replies\n";
    std::string out;
    for (const Reply& r : replies)
      out += format("reply from %s (#%llu): %s\n", r.groutine.c_str(),
                    static_cast<unsigned long long>(r.id), to_string(r.value).c_str());
    return out;
  }
};

// --- groutine events ---

class EventsCommand final : public Subcommand {
 public:
  EventsCommand() : Subcommand("events") {}
  static constexpr const char* kHelp = "Show the last events delivered to groutines.";
  static constexpr const char* kSyntax =
      "groutine events [-n <count>] [--json [--output <file>]] [--capacity <count>] [--clear]";
  static constexpr const char* kLongHelp =
      "Show the newest events (default 20) from a bounded log: sequence number, target\n"
      "thread, kind (call, return, custom; log and stop lines from groutines), function or\n"
      "event name, and a short view of arguments, return value or data. --capacity sets how\n"
      "many entries the log keeps (default 1000; 0 turns it off); --clear empties it.\n"
      "\n"
      "--json prints one JSON object per line and entry instead, with the keys seq (null for\n"
      "log and stop lines), time_ns (steady clock nanoseconds of the event; of the line for\n"
      "log and stop lines), thread, kind, name, call (the call's id or null), args (by DWARF\n"
      "name when the function has debug info, else the registers groutines read), value (a\n"
      "return's value as the caller sees it, a skipped call's forced value, or null),\n"
      "skipped, unwound, rewritten, data (a custom event's) and detail (the table's text).\n"
      "--output <file> writes those lines to the file instead, one entry at a time (a log of\n"
      "a million events is too big for a command's output), and says how many it wrote. A\n"
      "FIFO needs a reader already: without one, it is an error.\n"
      "\n"
      "Examples:\n"
      "\n"
      "(lldb) groutine events -n 3\n"
      "SEQ   THREAD   KIND     NAME          DETAIL\n"
      "7     4242     call     add           call #7 rdi=2 rsi=3\n"
      "8     4242     return   add           call #7 rax=5\n"
      "9     0        custom   ping          n=41\n"
      "(lldb) groutine events --json -n 2\n"
      "{\"seq\":7,\"time_ns\":81234567000,\"thread\":4242,\"kind\":\"call\",\"name\":\"add\","
      "\"call\":7,\"args\":{\"a\":2,\"b\":3},\"value\":null,\"skipped\":false,\"unwound\":false,"
      "\"rewritten\":false,\"data\":{},\"detail\":\"call #7 rdi=2 rsi=3\"}\n"
      "{\"seq\":8,\"time_ns\":81235012000,\"thread\":4242,\"kind\":\"return\",\"name\":\"add\","
      "\"call\":7,\"args\":{},\"value\":1005,\"skipped\":false,\"unwound\":false,"
      "\"rewritten\":true,\"data\":{},\"detail\":\"call #7 rax=5 rewritten to 1005\"}\n"
      "(lldb) groutine events --capacity 100000\n"
      "(lldb) groutine events --json -n 100000 --output /tmp/events.jsonl\n"
      "wrote 2 events to /tmp/events.jsonl\n";

 private:
  std::string run(lldb::SBDebugger&, Host& host, const std::vector<std::string>& args) override {
    std::size_t n = 20;
    bool json = false;
    std::optional<std::string> output;  // --output: the file the JSON lines go to
    std::string out;
    for (std::size_t i = 0; i < args.size(); ++i) {
      const std::string& a = args[i];
      auto value = [&](const char* option) {
        if (i + 1 >= args.size()) throw Error(std::string(option) + " needs a count");
        return parse_count(option, args[++i]);
      };
      if (a == "-n" || a == "--count") {
        n = value("-n");
      } else if (a == "--json") {
        json = true;
      } else if (a == "--output") {
        if (i + 1 >= args.size()) throw Error("--output needs a file");
        output = args[++i];
      } else if (a == "--capacity") {
        host.event_log().set_capacity(value("--capacity"));
        out += format("event log capacity: %zu\n", host.event_log().capacity());
      } else if (a == "--clear") {
        host.event_log().clear();
        out += "event log cleared\n";
      } else {
        throw Error("unknown option '" + a + "'");
      }
    }
    if (output) {
      if (!json) throw Error("--output writes the --json lines: add --json");
      return out + write_json_lines(host.event_log(), n, *output);
    }
    std::vector<LogEntry> entries = host.event_log().last(n);
    if (json) {
      for (const LogEntry& e : entries) out += to_json(e) + "\n";
      return out;
    }
    if (entries.empty()) return out + "no events logged\n";
    Table table({"SEQ", "THREAD", "KIND", "NAME", "DETAIL"});
    for (const LogEntry& e : entries)
      table.add({e.seq ? std::to_string(e.seq) : "-", std::to_string(e.thread), e.kind, e.name,
                 e.detail});
    return out + table.render();
  }

  // write_json_lines() writes the newest n entries of log to path as JSON lines. A FIFO that
  // nobody reads is an error, not a debugger waiting in open() for a reader.
  static std::string write_json_lines(const EventLog& log, std::size_t n, const std::string& path) {
    auto refuse = [&](int error) {
      return Error("cannot write '" + path +
                   "': " + (error == ENXIO ? "a FIFO nobody reads" : std::strerror(error)));
    };
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NONBLOCK | O_CLOEXEC, 0666);
    if (fd < 0) throw refuse(errno);
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);  // a slow reader is waited for
    std::FILE* f = ::fdopen(fd, "w");
    if (!f) {
      int error = errno;
      ::close(fd);
      throw refuse(error);
    }
    std::size_t written = 0;
    log.for_last(n, [&](const LogEntry& e) {
      std::string line = to_json(e) + "\n";
      std::fwrite(line.data(), 1, line.size(), f);
      ++written;
    });
    bool failed = std::ferror(f) != 0;
    failed = std::fclose(f) != 0 || failed;
    if (failed) throw Error("cannot write '" + path + "': " + std::strerror(errno));
    return format("wrote %zu event%s to %s\n", written, written == 1 ? "" : "s", path.c_str());
  }
};

// --- groutine report ---

class ReportCommand final : public Subcommand {
 public:
  ReportCommand() : Subcommand("report") {}
  static constexpr const char* kHelp = "Report pass/fail of every groutine.";
  static constexpr const char* kSyntax = "groutine report";
  static constexpr const char* kLongHelp =
      "Report every groutine as PASS or FAIL; under a failing one, each failed check or the\n"
      "exception that ended it, with its file:line and the event it was handling. Under a\n"
      "groutine that spawned children: what they came to, the failures of the ended ones\n"
      "(naming the child), and, indented, the live ones; a child's failure fails its parent's\n"
      "verdict, not the parent itself. Under a groutine whose streams of calls (calls(f)) missed\n"
      "calls because it was busy (waiting on something else when they came): how many.\n"
      "The totals count the loaded groutines, not their children.\n"
      "\n"
      "Examples:\n"
      "\n"
      "(lldb) groutine report\n"
      "PASS check-add (finished, 6 events)\n"
      "FAIL strict-add (failed, 1 event)\n"
      "  add_checks.cpp:21: GROUTINE_REQUIRE(r.value() == 0) failed [call #3 of add]\n"
      "FAIL pair-returns (waiting on call of parse, 400 events)\n"
      "  children: 400 spawned, 0 live, 400 ended (1 failed)\n"
      "  checks.cpp:40: GROUTINE_CHECK(ret.value() >= 0) failed [return #9 of parse (call #8)] "
      "(in child parse-return)\n"
      "PASS in-line (waiting on call of parse, 12 events)\n"
      "  missed 388 calls of parse (busy when they came)\n"
      "1 passed, 2 failed\n";

 private:
  std::string run(lldb::SBDebugger&, Host& host, const std::vector<std::string>& args) override {
    if (!args.empty()) throw Error("takes no arguments");
    if (host.runtime().size() == 0) return "no groutines loaded\n";
    std::string out;
    unsigned passed = 0;
    unsigned failed = 0;
    for (const Row& r : rows(host.runtime())) {
      if (r.depth == 0) (r.passed ? passed : failed)++;
      const std::string indent(2 * r.depth, ' ');
      unsigned long long events = r.events;
      out += format("%s%s %s (%s, %llu event%s)\n", indent.c_str(), r.passed ? "PASS" : "FAIL",
                    r.name.c_str(), r.state.c_str(), events, events == 1 ? "" : "s");
      if (r.children.spawned > 0) out += indent + "  " + children_line(r) + "\n";
      for (const auto& [function, count] : r.missed)
        out += format("%s  missed %llu call%s of %s (busy when %s came)\n", indent.c_str(),
                      static_cast<unsigned long long>(count), count == 1 ? "" : "s",
                      function.c_str(), count == 1 ? "it" : "they");
      auto show = [&](const Failure& f) {
        std::string ended = f.groutine.empty() ? (f.fatal ? " (ended it)" : "")
                            : (f.fatal ? " (ended child " : " (in child ") + f.groutine + ")";
        out += format("%s  %s:%u: %s [%s]%s\n", indent.c_str(), f.where.file.c_str(),
                      f.where.line, f.message.c_str(), f.event.c_str(), ended.c_str());
      };
      for (const Failure& f : r.failures) show(f);
      for (const Failure& f : r.children.failures) show(f);
      if (r.children.failures_dropped > 0)
        out += format("%s  ... and %llu more failures of its children\n", indent.c_str(),
                      static_cast<unsigned long long>(r.children.failures_dropped));
    }
    out += format("%u passed, %u failed\n", passed, failed);
    return out;
  }
};

// --- groutine stop-on-failure ---

class StopOnFailureCommand final : public Subcommand {
 public:
  StopOnFailureCommand() : Subcommand("stop-on-failure") {}
  static constexpr const char* kHelp = "Stop the target when a groutine fails (on|off).";
  static constexpr const char* kSyntax = "groutine stop-on-failure [on | off]";
  static constexpr const char* kLongHelp =
      "With on, every failure of a groutine while it handles a call or a return (a failed\n"
      "GROUTINE_CHECK, a failed REQUIRE, an exception, a Python assert) stops the target at\n"
      "the prompt, at that call or return, with a reason naming the groutine, the file:line\n"
      "and the message, as if the groutine had called stop(). The failure is recorded as\n"
      "always: `groutine report` shows it. Off (the default) lets the target run on. Without\n"
      "an argument, shows the setting.\n"
      "\n"
      "Examples:\n"
      "\n"
      "(lldb) groutine stop-on-failure on\n"
      "stop on failure: on\n"
      "(lldb) run\n"
      "groutine 'check-add' failed, stopping the target: add_checks.cpp:21: "
      "GROUTINE_CHECK_EQ(result, a + b) failed: 5 != 4\n"
      "Process 4242 stopped\n"
      "* thread #1, name = 'calls', stop reason = breakpoint 2.1\n"
      "(lldb) groutine report\n"
      "(lldb) groutine stop-on-failure off\n"
      "stop on failure: off\n";

 private:
  std::string run(lldb::SBDebugger&, Host& host, const std::vector<std::string>& args) override {
    if (args.size() > 1) throw Error("expected on or off");
    if (args.size() == 1) {
      if (args[0] == "on")
        host.backend().set_stop_on_failure(true);
      else if (args[0] == "off")
        host.backend().set_stop_on_failure(false);
      else
        throw Error("expected on or off, not '" + args[0] + "'");
    }
    return format("stop on failure: %s\n", host.backend().stop_on_failure() ? "on" : "off");
  }
};

// --- groutine subscriptions ---

class SubscriptionsCommand final : public Subcommand {
 public:
  SubscriptionsCommand() : Subcommand("subscriptions") {}
  static constexpr const char* kHelp = "Show the functions groutines subscribe to.";
  static constexpr const char* kSyntax = "groutine subscriptions";
  static constexpr const char* kLongHelp =
      "Show each hooked function with its breakpoint id, its number of locations at the\n"
      "function's entry (0 while its library is not loaded; the places it is inlined at are\n"
      "disabled), how many waits and streams hold it, its hits, and its transport (agent or\n"
      "breakpoint, with why a function stays on its breakpoint: see `groutine transport`), and\n"
      "the functions no module of the target defines yet; then the returns awaited, by return\n"
      "address: on a breakpoint, or watched by the agent.\n"
      "\n"
      "Examples:\n"
      "\n"
      "(lldb) groutine subscriptions\n"
      "FUNCTION     BREAKPOINT  LOCATIONS  HOLDERS  HITS  TRANSPORT\n"
      "add          1           1          2        11    breakpoint\n"
      "mix          2           1          2        11    agent\n"
      "plugin_init  3           0          1        0     breakpoint\n"
      "  add: on a breakpoint: the function is shorter than the 5-byte patch\n"
      "  plugin_init: no such function (yet): the hook waits for a library that defines it\n"
      "returns awaited: 1 call at 1 return address\n"
      "  0x555555555382  agent  calls #21\n";

 private:
  std::string run(lldb::SBDebugger&, Host& host, const std::vector<std::string>& args) override {
    if (!args.empty()) throw Error("takes no arguments");
    std::vector<HookInfo> hooks = host.runtime().hooks();
    std::string out;
    if (hooks.empty()) {
      out += "no subscriptions\n";
    } else {
      Table table({"FUNCTION", "BREAKPOINT", "LOCATIONS", "HOLDERS", "HITS", "TRANSPORT"});
      std::string notes;
      for (const HookInfo& h : hooks) {
        LldbBackend::HookView v = host.backend().hook_view(h.id);
        std::string bp = v.breakpoint == LLDB_INVALID_BREAK_ID ? "-" : std::to_string(v.breakpoint);
        std::string transport = v.patched ? "agent" : "breakpoint";
        if (v.patched && !v.fallback.empty()) transport = "agent+breakpoint";
        table.add({h.function, bp, std::to_string(v.locations), std::to_string(h.holders),
                   std::to_string(v.hits + v.agent_hits), transport});
        if (!v.fallback.empty()) notes += "  " + h.function + ": on a breakpoint: " + v.fallback + "\n";
      }
      for (const auto& hook : unresolved(host)) notes += "  " + no_such_function(hook.first) + "\n";
      out += table.render() + notes;
    }
    std::vector<LldbBackend::ReturnSiteView> sites = host.backend().return_sites();
    for (auto& s : host.backend().agent_return_sites()) sites.push_back(std::move(s));
    std::size_t calls = 0;
    for (const auto& s : sites) calls += s.calls.size();
    out += format("returns awaited: %zu call%s at %zu return address%s\n", calls,
                  calls == 1 ? "" : "s", sites.size(), sites.size() == 1 ? "" : "es");
    for (const auto& s : sites) {
      std::string ids;
      for (CallId c : s.calls) ids += " #" + std::to_string(c);
      std::string by = s.breakpoint == LLDB_INVALID_BREAK_ID ? "agent"
                                                             : "breakpoint " + std::to_string(s.breakpoint);
      out += format("  0x%llx  %s  calls%s\n", static_cast<unsigned long long>(s.address),
                    by.c_str(), ids.c_str());
    }
    return out;
  }
};

// --- groutine transport ---

class TransportCommand final : public Subcommand {
 public:
  TransportCommand() : Subcommand("transport") {}
  static constexpr const char* kHelp = "Show or choose how calls reach groutines: the agent or breakpoints.";
  static constexpr const char* kSyntax = "groutine transport [auto|agent|breakpoint]";
  static constexpr const char* kLongHelp =
      "Calls of hooked functions reach groutines in one of two ways. On the agent transport,\n"
      "libgroutines_agent.so, preloaded into the processes the debugger launches, hands each\n"
      "call and awaited return to the debugger without stopping the target (microseconds a\n"
      "hit); the debugger patches each hooked function's entry at its first call. On the\n"
      "breakpoint transport every hit is a breakpoint stop (about a millisecond).\n"
      "\n"
      "auto (the default) uses the agent where it can and breakpoints elsewhere: remote\n"
      "targets, static executables, processes started without the agent, functions whose\n"
      "first instructions cannot be moved. `groutine subscriptions` shows each function's\n"
      "transport and why it fell back. agent is auto that also prints each fallback.\n"
      "breakpoint uses breakpoints only, for processes launched from now on. With no\n"
      "argument, shows the transport and the agent's state in the current process.\n"
      "\n"
      "Examples:\n"
      "\n"
      "(lldb) groutine transport\n"
      "transport: auto\n"
      "agent: /usr/lib/groutines/libgroutines_agent.so\n"
      "process 4242: served by the agent: 5890 hits; passed through: 0 nested in the agent, ...\n"
      "(lldb) groutine transport breakpoint\n";

 private:
  std::string run(lldb::SBDebugger&, Host& host, const std::vector<std::string>& args) override {
    if (args.size() > 1) throw Error("takes at most one argument: auto, agent or breakpoint");
    if (args.size() == 1) {
      LldbBackend::Transport t;
      if (args[0] == "auto")
        t = LldbBackend::Transport::Auto;
      else if (args[0] == "agent")
        t = LldbBackend::Transport::Agent;
      else if (args[0] == "breakpoint")
        t = LldbBackend::Transport::Breakpoint;
      else
        throw Error("expected auto, agent or breakpoint, not '" + args[0] + "'");
      host.backend().set_transport(t);
    }
    return host.backend().agent_status();
  }
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
  lldb::SBCommand groutine = interpreter.AddMultiwordCommand(
      "groutine", "Load, inspect and drive groutines: small scripts that live beside the "
                  "target and wait for calls of its functions.");
  if (!groutine.IsValid()) return false;
  groutine.SetHelpLong(reflow(
      "Groutines are small programs that run inside the debugger beside the target. They\n"
      "subscribe to calls of the target's functions by name, read arguments and return\n"
      "values, skip calls, rewrite results, talk to each other with custom events, and can\n"
      "stop the target with a reason. Each waits on a fiber between events; the target only\n"
      "stops at the prompt when a groutine asks.\n"
      "\n"
      "Examples:\n"
      "\n"
      "(lldb) plugin load build/lldb_plugin/libgroutines_lldb.so\n"
      "(lldb) file build/tests/targets/calls_O2\n"
      "(lldb) groutine load build/groutines/libgroutine_calls_checks.so\n"
      "(lldb) run\n"
      "(lldb) groutine report\n").c_str());
  struct Entry {
    const char* name;
    lldb::SBCommandPluginInterface* impl;
    const char* help;
    const char* syntax;
    const char* long_help;
  };
  const Entry entries[] = {
      {"load", new LoadCommand, LoadCommand::kHelp, LoadCommand::kSyntax, LoadCommand::kLongHelp},
      {"list", new ListCommand, ListCommand::kHelp, ListCommand::kSyntax, ListCommand::kLongHelp},
      {"unload", new UnloadCommand, UnloadCommand::kHelp, UnloadCommand::kSyntax,
       UnloadCommand::kLongHelp},
      {"fire", new FireCommand, FireCommand::kHelp, FireCommand::kSyntax, FireCommand::kLongHelp},
      {"events", new EventsCommand, EventsCommand::kHelp, EventsCommand::kSyntax,
       EventsCommand::kLongHelp},
      {"report", new ReportCommand, ReportCommand::kHelp, ReportCommand::kSyntax,
       ReportCommand::kLongHelp},
      {"stop-on-failure", new StopOnFailureCommand, StopOnFailureCommand::kHelp,
       StopOnFailureCommand::kSyntax, StopOnFailureCommand::kLongHelp},
      {"subscriptions", new SubscriptionsCommand, SubscriptionsCommand::kHelp,
       SubscriptionsCommand::kSyntax, SubscriptionsCommand::kLongHelp},
      {"transport", new TransportCommand, TransportCommand::kHelp, TransportCommand::kSyntax,
       TransportCommand::kLongHelp},
  };
  for (const Entry& e : entries) {
    lldb::SBCommand c = groutine.AddCommand(e.name, e.impl, e.help, e.syntax);
    if (c.IsValid()) c.SetHelpLong(reflow(e.long_help).c_str());
  }
  return true;
}

}  // namespace groutines::plugin
