// The `groutine` command set (commands.hpp): one function per subcommand, each checking its
// arguments and rendering its text; errors are Error, shown as "groutine SUB: what was wrong".
#include "groutines/commands.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <unordered_map>
#include <utility>

#include "groutines/value.hpp"

namespace groutines::commands {

namespace {

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
  std::vector<Failure> failures;
  Children children;
  std::uint64_t live_children = 0;
  std::vector<std::pair<std::string, std::uint64_t>> missed;  // function, calls
  unsigned depth = 0;  // spawned children below their parent
  bool passed = true;  // with its live descendants
};

// rows() is every loaded groutine, each spawned child right below its parent (depth set), and
// each row's passed telling whether it and its live descendants passed. Linear in the number
// of groutines, and without recursion: a chain of children as deep as memory allows is shown.
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
    r.passed = g.passed();
    r.failures = g.failures();
    r.children = g.children();
    r.live_children = g.live_children();
    for (const MissedCalls& m : g.missed())
      r.missed.emplace_back(std::string(runtime.function_name(m.function)), m.count);
    all.push_back(std::move(r));
  });
  // Load order puts every child after its parent (a child is loaded while its parent runs).
  constexpr std::size_t none = static_cast<std::size_t>(-1);
  std::unordered_map<GroutineId, std::size_t> index;
  index.reserve(all.size());
  for (std::size_t i = 0; i < all.size(); ++i) index.emplace(all[i].id, i);
  std::vector<std::size_t> parent(all.size(), none);
  for (std::size_t i = 0; i < all.size(); ++i)
    if (auto it = index.find(all[i].parent); all[i].parent != 0 && it != index.end())
      parent[i] = it->second;
  // A child's verdict goes up to its ancestors: from the newest, each to its parent.
  for (std::size_t i = all.size(); i-- > 0;)
    if (parent[i] != none && !all[i].passed) all[parent[i]].passed = false;
  // The children of each row, in load order, as linked lists (first child, next sibling).
  std::vector<std::size_t> first(all.size(), none), last(all.size(), none),
      next(all.size(), none);
  std::vector<std::size_t> roots;
  for (std::size_t i = 0; i < all.size(); ++i) {
    std::size_t p = parent[i];
    if (p == none) {
      roots.push_back(i);
      continue;
    }
    (first[p] == none ? first[p] : next[last[p]]) = i;
    last[p] = i;
  }
  // Depth first, parents before their children, with an explicit stack.
  std::vector<Row> ordered;
  ordered.reserve(all.size());
  std::vector<unsigned> depth(all.size(), 0);
  std::vector<std::size_t> stack;
  for (std::size_t root : roots) {
    stack.push_back(root);
    while (!stack.empty()) {
      std::size_t i = stack.back();
      stack.pop_back();
      if (next[i] != none) stack.push_back(next[i]);
      if (first[i] != none) stack.push_back(first[i]);
      if (parent[i] != none) depth[i] = depth[parent[i]] + 1;
      all[i].depth = depth[i];
      ordered.push_back(std::move(all[i]));
    }
  }
  return ordered;
}

// children_line() summarises what a groutine's children came to: "children: 3 spawned, 1
// live, 2 ended (1 failed)".
std::string children_line(const Row& r) {
  return format("children: %llu spawned, %llu live, %llu ended (%llu failed)",
                static_cast<unsigned long long>(r.children.spawned),
                static_cast<unsigned long long>(r.live_children),
                static_cast<unsigned long long>(r.children.ended),
                static_cast<unsigned long long>(r.children.failed));
}

// Unresolved is a hooked function that no module of the target defines yet, with its
// breakpoint.
using Unresolved = std::pair<std::string, std::string>;

// unresolved() lists the installed hooks whose function no module defines yet (a library the
// target will dlopen may).
std::vector<Unresolved> unresolved(Runtime& runtime, CommandHost& host) {
  std::vector<Unresolved> out;
  for (const HookInfo& h : runtime.hooks()) {
    if (!h.installed) continue;
    HookView v = host.hook_view(h);
    if (v.unresolved) out.emplace_back(h.function, v.breakpoint);
  }
  return out;
}

std::string no_such_function(const std::string& function) {
  return function + ": no such function (yet): the hook waits for a library that defines it";
}

using Args = std::vector<std::string>;

// --- groutine load ---

std::string load(Runtime& runtime, CommandHost& host, const Args& args) {
  if (args.size() != 1) throw Error("expected one path, got " + std::to_string(args.size()) +
                                    " arguments (groutine load <path>)");
  host.require_stopped();
  const std::string& path = args[0];
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) throw Error("no such file '" + path + "'");
  host.prepare_load();
  std::vector<Unresolved> before = unresolved(runtime, host);
  // warnings() warns of the functions the load hooked (a new hook) that nothing defines yet:
  // not an error, a later dlopen may define them.
  auto warnings = [&] {
    std::string out;
    for (const Unresolved& hook : unresolved(runtime, host))
      if (std::find(before.begin(), before.end(), hook) == before.end())
        out += "warning: " + no_such_function(hook.first) + "\n";
    return out;
  };
  if (S_ISDIR(st.st_mode) || ends_with(path, ".py")) {
    try {
      std::string out = host.load_script(path);
      return out + warnings();
    } catch (const Incomplete& e) {
      throw Incomplete(e.output() + warnings(), e.what());
    }
  }
  char resolved[PATH_MAX];
  if (!realpath(path.c_str(), resolved)) throw Error("cannot resolve '" + path + "'");
  std::vector<GroutineId> ids = host.load_library(runtime, resolved);
  return loaded_text(runtime, resolved, ids) + warnings();
}

// --- groutine list ---

std::string list(Runtime& runtime, CommandHost& host, const Args& args) {
  if (!args.empty()) throw Error("takes no arguments");
  if (runtime.size() == 0) return "no groutines loaded\n";
  std::vector<Row> all = rows(runtime);
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
  std::string stop = host.last_stop();
  if (!stop.empty()) out += "last stop: " + stop + "\n";
  return out;
}

// --- groutine unload ---

std::string unload(Runtime& runtime, CommandHost& host, const Args& args) {
  if (args.size() != 1) throw Error("expected a groutine name, a library path or --all");
  host.require_stopped();
  const std::string& what = args[0];
  if (what == "--all" || what == "-a") {
    std::size_t n = runtime.size();
    host.unload_everything(runtime);
    return format("unloaded %zu groutine%s\n", n, n == 1 ? "" : "s");
  }
  struct stat st {};
  if (stat(what.c_str(), &st) == 0 && (S_ISDIR(st.st_mode) || ends_with(what, ".py")))
    return host.unload_script(what);
  char resolved[PATH_MAX];
  if (realpath(what.c_str(), resolved)) {
    std::size_t before = runtime.size();
    if (host.unload_library(runtime, resolved))
      return format("unloaded %zu groutines and closed %s\n", before - runtime.size(), resolved);
  }
  std::size_t n = runtime.unload_where([&](const Groutine& g) { return g.name() == what; });
  if (n == 0) throw Error("no groutine or library called '" + what + "'");
  return format("unloaded %zu groutine%s called '%s'\n", n, n == 1 ? "" : "s", what.c_str());
}

// --- groutine fire ---

std::string fire(Runtime& runtime, CommandHost& host, const Args& args) {
  if (args.empty()) throw Error("expected an event name (groutine fire <event> [key=value ...])");
  host.require_stopped();
  Data data;
  for (std::size_t i = 1; i < args.size(); ++i) {
    std::size_t eq = args[i].find('=');
    if (eq == std::string::npos || eq == 0) throw Error("'" + args[i] + "' is not key=value");
    data.push_back(Field{args[i].substr(0, eq), parse_value(args[i].substr(eq + 1))});
  }
  std::vector<Reply> replies = runtime.fire(args[0], std::move(data), 0);
  if (replies.empty()) return "no replies\n";
  std::string out;
  for (const Reply& r : replies)
    out += format("reply from %s (#%llu): %s\n", r.groutine.c_str(),
                  static_cast<unsigned long long>(r.id), to_string(r.value).c_str());
  return out;
}

// --- groutine events ---

// write_json_lines() writes the newest n entries of log to path as JSON lines. A FIFO that
// nobody reads is an error, not a debugger waiting in open() for a reader.
std::string write_json_lines(const EventLog& log, std::size_t n, const std::string& path) {
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

std::string events(Runtime&, CommandHost& host, const Args& args) {
  EventLog* log = host.event_log();
  if (!log) throw Error("this debugger keeps no event log");
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
      log->set_capacity(value("--capacity"));
      out += format("event log capacity: %zu\n", log->capacity());
    } else if (a == "--clear") {
      log->clear();
      out += "event log cleared\n";
    } else {
      throw Error("unknown option '" + a + "'");
    }
  }
  if (output) {
    if (!json) throw Error("--output writes the --json lines: add --json");
    return out + write_json_lines(*log, n, *output);
  }
  if (json) {
    log->for_last(n, [&](const LogEntry& e) { out += to_json(e) + "\n"; });
    return out;
  }
  std::vector<LogEntry> entries = log->last(n);
  if (entries.empty()) return out + "no events logged\n";
  Table table({"SEQ", "THREAD", "KIND", "NAME", "DETAIL"});
  for (const LogEntry& e : entries)
    table.add({e.seq ? std::to_string(e.seq) : "-", std::to_string(e.thread), e.kind, e.name,
               e.detail});
  return out + table.render();
}

// --- groutine report ---

std::string report(Runtime& runtime, CommandHost&, const Args& args) {
  if (!args.empty()) throw Error("takes no arguments");
  if (runtime.size() == 0) return "no groutines loaded\n";
  std::string out;
  unsigned passed = 0;
  unsigned failed = 0;
  for (const Row& r : rows(runtime)) {
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
      out += format("%s  %s:%u: %s [%s]%s\n", indent.c_str(), f.where.file.c_str(), f.where.line,
                    f.message.c_str(), f.event.c_str(), ended.c_str());
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

// --- groutine stop-on-failure ---

std::string stop_on_failure(Runtime&, CommandHost& host, const Args& args) {
  if (args.size() > 1) throw Error("expected on or off");
  if (args.size() == 1) {
    if (args[0] == "on")
      host.set_stop_on_failure(true);
    else if (args[0] == "off")
      host.set_stop_on_failure(false);
    else
      throw Error("expected on or off, not '" + args[0] + "'");
  }
  return format("stop on failure: %s\n", host.stop_on_failure() ? "on" : "off");
}

// --- groutine subscriptions ---

std::string subscriptions(Runtime& runtime, CommandHost& host, const Args& args) {
  if (!args.empty()) throw Error("takes no arguments");
  std::vector<HookInfo> hooks = runtime.hooks();
  std::string out;
  if (hooks.empty()) {
    out += "no subscriptions\n";
  } else {
    Table table({"FUNCTION", "BREAKPOINT", "LOCATIONS", "HOLDERS", "HITS", "TRANSPORT"});
    std::string notes;
    std::string missing;
    for (const HookInfo& h : hooks) {
      HookView v = host.hook_view(h);
      table.add({h.function, v.breakpoint, std::to_string(v.locations), std::to_string(h.holders),
                 std::to_string(v.hits), v.transport});
      if (!v.fallback.empty()) notes += "  " + h.function + ": on a breakpoint: " + v.fallback + "\n";
      if (h.installed && v.unresolved) missing += "  " + no_such_function(h.function) + "\n";
    }
    out += table.render() + notes + missing;
  }
  std::vector<ReturnSite> sites = host.return_sites();
  std::size_t calls = 0;
  for (const ReturnSite& s : sites) calls += s.calls.size();
  out += format("returns awaited: %zu call%s at %zu return address%s\n", calls,
                calls == 1 ? "" : "s", sites.size(), sites.size() == 1 ? "" : "es");
  for (const ReturnSite& s : sites) {
    std::string ids;
    for (CallId c : s.calls) ids += " #" + std::to_string(c);
    out += format("  0x%llx  %s  calls%s\n", static_cast<unsigned long long>(s.address),
                  s.by.c_str(), ids.c_str());
  }
  return out;
}

// --- groutine transport ---

std::string transport(Runtime&, CommandHost& host, const Args& args) {
  if (args.size() > 1) throw Error("takes at most one argument: auto, agent or breakpoint");
  if (args.size() == 1) {
    if (args[0] != "auto" && args[0] != "agent" && args[0] != "breakpoint")
      throw Error("expected auto, agent or breakpoint, not '" + args[0] + "'");
    host.set_transport(args[0]);
  }
  return host.transport_status();
}

using Subcommand = std::string (*)(Runtime&, CommandHost&, const Args&);

struct Entry {
  const char* name;
  Subcommand run;
};

const Entry kEntries[] = {
    {"load", &load},       {"list", &list},
    {"unload", &unload},   {"fire", &fire},
    {"events", &events},   {"report", &report},
    {"stop-on-failure", &stop_on_failure},
    {"subscriptions", &subscriptions},
    {"transport", &transport},
};

}  // namespace

// --- CommandHost's defaults ---

CommandHost::~CommandHost() = default;
EventLog* CommandHost::event_log() { return nullptr; }
void CommandHost::require_stopped() {}
void CommandHost::prepare_load() {}
std::string CommandHost::load_script(const std::string&) {
  throw Error("this debugger loads no Python scripts");
}
std::string CommandHost::unload_script(const std::string&) {
  throw Error("this debugger loads no Python scripts");
}
std::vector<GroutineId> CommandHost::load_library(Runtime&, const std::string&) {
  throw Error("this debugger loads no C++ groutine libraries");
}
bool CommandHost::unload_library(Runtime&, const std::string&) { return false; }
void CommandHost::unload_everything(Runtime& runtime) { runtime.unload_all(); }
HookView CommandHost::hook_view(const HookInfo&) { return HookView{}; }
std::vector<ReturnSite> CommandHost::return_sites() { return {}; }
std::string CommandHost::last_stop() { return {}; }
bool CommandHost::stop_on_failure() {
  throw Error("this debugger cannot stop the target on a failure");
}
void CommandHost::set_stop_on_failure(bool) {
  throw Error("this debugger cannot stop the target on a failure");
}
void CommandHost::set_transport(const std::string&) {
  throw Error("this debugger has one transport: breakpoints");
}
std::string CommandHost::transport_status() { return "transport: breakpoint\n"; }

// --- Help ---

const std::vector<Help>& subcommands() {
  static const std::vector<Help> all = {
      {"load", "Load groutines from a C++ shared library.",
       "groutine load <path>",
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
       "defines it\n"},
      {"list", "List the loaded groutines.",
       "groutine list",
       "List every loaded groutine: its id, its name, its state (what it waits on, finished\n"
       "or failed), how many events it has handled, and the library it came from. The children\n"
       "a groutine spawned (spawn()) are listed below it, indented, while they live; ended ones\n"
       "are counted in its CHILDREN column (shown once a groutine has spawned).\n"
       "\n"
       "Examples:\n"
       "\n"
       "(lldb) groutine list\n"
       "ID  NAME        STATE                     EVENTS  SOURCE\n"
       "1   check-add   waiting on call of add    6       /.../libgroutine_calls_checks.so\n"},
      {"unload", "Unload groutines by name, by library, or all of them.",
       "groutine unload <name> | <path> | --all",
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
       "(lldb) groutine unload --all\n"},
      {"fire", "Fire a custom event at the groutines; print replies.",
       "groutine fire <event> [<key>=<value> ...]",
       "Fire custom event <event> with the given data to every groutine waiting for it,\n"
       "synchronously, and print their replies. Values are integers (42, -1, 0x10), floats\n"
       "(1.5), true/false, none, or strings (optionally \"quoted\").\n"
       "\n"
       "Examples:\n"
       "\n"
       "(lldb) groutine fire ping n=41\n"
       "reply from echo (#3): 42\n"
       "(lldb) groutine fire config name=\"fast path\" limit=10\n"
       "no replies\n"},
      {"events", "Show the last events delivered to groutines.",
       "groutine events [-n <count>] [--json [--output <file>]] [--capacity <count>] [--clear]",
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
       "wrote 2 events to /tmp/events.jsonl\n"},
      {"report", "Report pass/fail of every groutine.",
       "groutine report",
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
       "1 passed, 2 failed\n"},
      {"stop-on-failure", "Stop the target when a groutine fails (on|off).",
       "groutine stop-on-failure [on | off]",
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
       "stop on failure: off\n"},
      {"subscriptions", "Show the functions groutines subscribe to.",
       "groutine subscriptions",
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
       "  0x555555555382  agent  calls #21\n"},
      {"transport", "Show or choose how calls reach groutines: the agent or breakpoints.",
       "groutine transport [auto|agent|breakpoint]",
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
       "(lldb) groutine transport breakpoint\n"},
  };
  return all;
}

const char* help() {
  return "Load, inspect and drive groutines: small scripts that live beside the target and "
         "wait for calls of its functions.";
}

const char* group_help() {
  return "Groutines are small programs that run inside the debugger beside the target. They\n"
         "subscribe to calls of the target's functions by name, read arguments and return\n"
         "values, skip calls, rewrite results, talk to each other with custom events, and can\n"
         "stop the target with a reason. Each waits on a fiber between events; the target only\n"
         "stops at the prompt when a groutine asks. Groutines are loaded, unloaded and fired\n"
         "while the target is stopped: interrupt a running one first (`process interrupt`).\n"
         "\n"
         "Examples:\n"
         "\n"
         "(lldb) plugin load build/lldb_plugin/libgroutines_lldb.so\n"
         "(lldb) file build/tests/targets/calls_O2\n"
         "(lldb) groutine load build/groutines/libgroutine_calls_checks.so\n"
         "(lldb) run\n"
         "(lldb) groutine report\n";
}

std::string loaded_text(const Runtime& runtime, const std::string& source,
                        const std::vector<GroutineId>& ids) {
  std::string out = format("loaded %zu groutine%s from %s\n", ids.size(),
                           ids.size() == 1 ? "" : "s", source.c_str());
  runtime.for_each([&](const Groutine& g) {
    if (std::find(ids.begin(), ids.end(), g.id()) == ids.end()) return;
    std::string state = state_of(g);
    if (g.state() == State::Failed && !g.failures().empty()) {
      const Failure& f = g.failures().back();
      state += format(": %s:%u: ", f.where.file.c_str(), f.where.line) + f.message;
    }
    out += format("  %llu %-20s %s\n", static_cast<unsigned long long>(g.id()),
                  g.name().c_str(), state.c_str());
  });
  return out;
}

std::string with_prompt(std::string_view text, std::string_view prompt) {
  constexpr std::string_view lldb = "(lldb) ";
  std::string out;
  std::size_t at = 0;
  for (std::size_t found; (found = text.find(lldb, at)) != std::string_view::npos;) {
    out.append(text.substr(at, found - at)).append(prompt);
    at = found + lldb.size();
  }
  return out.append(text.substr(at));
}

Words lldb_words() {
  return {"(lldb) ", "plugin load build/lldb_plugin/libgroutines_lldb.so", "file",
          "`process interrupt`"};
}

Words gdb_words() {
  return {"(gdb) ", "source build/gdb/groutines.py", "file", "`interrupt` or Ctrl-C"};
}

std::string in_words(std::string_view text, const Words& words) {
  const Words lldb = lldb_words();
  // What each LLDB spelling becomes, longest first where one begins another.
  const std::pair<std::string, std::string> spellings[] = {
      {lldb.prompt + lldb.load_plugin, words.prompt + words.load_plugin},
      {lldb.prompt + lldb.file + " ", words.prompt + words.file + " "},
      {lldb.prompt, words.prompt},
      {lldb.interrupt, words.interrupt},
  };
  std::string out;
  std::size_t at = 0;
  while (at < text.size()) {
    bool replaced = false;
    for (const auto& [from, to] : spellings)
      if (text.substr(at, from.size()) == from) {
        out += to;
        at += from.size();
        replaced = true;
        break;
      }
    if (!replaced) out += text[at++];
  }
  return out;
}

// --- run ---

Result run(Runtime& runtime, CommandHost& host, const std::vector<std::string>& argv) {
  std::string known;
  for (const Entry& e : kEntries) known += std::string(known.empty() ? "" : ", ") + e.name;
  if (argv.empty()) return {"", "groutine: expected a subcommand (one of " + known + ")"};
  const std::string& sub = argv[0];
  const Entry* entry = nullptr;
  for (const Entry& e : kEntries)
    if (sub == e.name) entry = &e;
  if (!entry) return {"", "groutine: no subcommand '" + sub + "' (one of " + known + ")"};
  Args args(argv.begin() + 1, argv.end());
  try {
    auto lock = runtime.lock();
    return {entry->run(runtime, host, args), ""};
  } catch (const Incomplete& e) {
    return {e.output(), "groutine " + sub + ": " + e.what()};
  } catch (const std::exception& e) {
    return {"", "groutine " + sub + ": " + e.what()};
  }
}

}  // namespace groutines::commands
