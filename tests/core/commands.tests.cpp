// The `groutine` command set (groutines/commands.hpp) against a runtime over the scripted
// backend, with a CommandHost that records what the commands asked of the frontend.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "scripted_host.hpp"
#include "groutines/api.hpp"
#include "groutines/commands.hpp"

using namespace groutines;
using commands::Result;

namespace {

// TestHost is a frontend: an event log, Python scripts that it "loads" by recording them,
// C++ libraries made of lambdas, hooks it describes with views.
struct TestHost final : commands::CommandHost {
  EventLog log;
  bool has_log = true;
  std::vector<std::string> scripts;  // load_script's paths, then "-" + unload_script's
  std::string script_error;          // load_script throws Incomplete with it when set
  std::vector<Definition> library;   // what load_library loads
  std::string running;               // require_stopped throws this when set
  std::map<std::string, commands::HookView> views;  // by function
  std::vector<commands::ReturnSite> sites;

  EventLog* event_log() override { return has_log ? &log : nullptr; }
  void require_stopped() override {
    if (!running.empty()) throw Error(running);
  }
  std::string load_script(const std::string& path) override {
    scripts.push_back(path);
    if (!script_error.empty()) throw commands::Incomplete("loaded half of " + path + "\n", script_error);
    return "loaded " + path + "\n";
  }
  std::string unload_script(const std::string& path) override {
    scripts.push_back("-" + path);
    return "unloaded " + path + "\n";
  }
  std::vector<GroutineId> load_library(Runtime& runtime, const std::string& path) override {
    std::vector<GroutineId> ids;
    for (Definition d : library) {
      d.source = path;
      ids.push_back(runtime.load(d).id());
    }
    return ids;
  }
  commands::HookView hook_view(const HookInfo& hook) override {
    auto it = views.find(hook.function);
    return it == views.end() ? commands::HookView{} : it->second;
  }
  std::vector<commands::ReturnSite> return_sites() override { return sites; }
};

// TempFile is a file in a fresh temporary directory, removed at the end.
struct TempFile {
  std::string dir, path;
  explicit TempFile(const std::string& name, const std::string& text = "") {
    char tmpl[] = "/tmp/groutines-commands-XXXXXX";
    dir = mkdtemp(tmpl);
    path = dir + "/" + name;
    std::ofstream(path) << text;
  }
  std::string read() const {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  ~TempFile() {
    std::remove(path.c_str());
    rmdir(dir.c_str());
  }
};

Result run(scripted::Host& host, TestHost& frontend, std::vector<std::string> argv) {
  return commands::run(host.runtime, frontend, argv);
}

// wait_forever() waits for an event nobody fires.
void wait_forever() { wait_event("never"); }

}  // namespace

TEST_CASE("groutine list shows each spawned child below its parent, indented, in load order",
          "[core][commands]") {
  scripted::Host host;
  TestHost frontend;
  host.load("parent", [] {
    wait_call("f");
    spawn("a", [] {
      spawn("a1", wait_forever);
      wait_forever();
    });
    spawn("b", wait_forever);
    wait_forever();
  });
  host.load("other", [] { wait_call("g"); });
  host.backend.call(1, "f");
  host.backend.ret(1, 0);
  Result r = run(host, frontend, {"list"});
  CHECK(r.error == "");
  CHECK(r.output ==
        "ID  NAME    STATE                     EVENTS  CHILDREN         SOURCE\n"
        "1   parent  waiting on event 'never'  1       2 live, 0 ended  test\n"
        "3     a     waiting on event 'never'  0       1 live, 0 ended  test\n"
        "4       a1  waiting on event 'never'  0       -                test\n"
        "5     b     waiting on event 'never'  0       -                test\n"
        "2   other   waiting on call of g      0       -                test\n");
  host.runtime.unload_all();
}

TEST_CASE("groutine list handles a deep chain of children, each one level further in",
          "[core][commands]") {
  scripted::Host host;
  TestHost frontend;
  constexpr int depth = 100;
  std::function<void(int)> nest = [&](int level) {
    if (level < depth) spawn("c", [&, level] { nest(level + 1); });
    wait_forever();
  };
  host.load("root", [&] {
    wait_call("f");
    nest(0);
  });
  host.backend.call(1, "f");
  host.backend.ret(1, 0);
  Result r = run(host, frontend, {"list"});
  REQUIRE(r.error == "");
  std::istringstream lines(r.output);
  std::string line;
  std::getline(lines, line);  // the header
  for (int level = 0; level <= depth; ++level) {
    REQUIRE(std::getline(lines, line));
    std::string id = std::to_string(level + 1);
    CHECK(line.substr(0, id.size()) == id);
    std::size_t name = line.find(level == 0 ? "root" : "c", id.size());
    // The NAME column starts at 5; each level is two more spaces in.
    CHECK(name == 5 + 2 * static_cast<std::size_t>(level));
  }
  CHECK_FALSE(std::getline(lines, line));
  host.runtime.unload_all();
}

TEST_CASE("groutine report fails the verdict of the ancestors of a failing live child",
          "[core][commands]") {
  scripted::Host host;
  TestHost frontend;
  host.load("parent", [] {
    wait_call("f");
    spawn("child", [] {
      GROUTINE_CHECK_MSG(false, "wrong");
      wait_forever();
    });
    wait_forever();
  });
  host.load("fine", [] {
    wait_call("f");
    wait_forever();
  });
  host.backend.call(3, "f");
  host.backend.ret(3, 0);
  Result r = run(host, frontend, {"report"});
  CHECK(r.error == "");
  std::string file = __FILE__;
  CHECK(r.output.rfind(
            "FAIL parent (waiting on event 'never', 1 event)\n"
            "  children: 1 spawned, 1 live, 0 ended (0 failed)\n"
            "  FAIL child (waiting on event 'never', 0 events)\n"
            "    " + file + ":",
            0) == 0);
  CHECK(r.output.find(": GROUTINE_CHECK(false) failed: wrong [start]\n"
                      "PASS fine (waiting on event 'never', 1 event)\n"
                      "1 passed, 1 failed\n") != std::string::npos);
  host.runtime.unload_all();
}

TEST_CASE("groutine unload by name is all or nothing, refused from a delivery in the runtime's "
          "words", "[core][commands]") {
  scripted::Host host;
  TestHost frontend;
  Result inside;
  host.load("twin", wait_forever);
  host.load("twin", [&] {
    wait_call("f");
    inside = commands::run(host.runtime, frontend, {"unload", "twin"});
    wait_forever();
  });
  host.backend.call(1, "f");
  host.backend.ret(1, 0);
  CHECK(inside.output == "");
  CHECK(inside.error == "groutine unload: groutine 'twin' is running: it cannot be unloaded "
                        "from a delivery (nothing was unloaded)");
  CHECK(host.runtime.size() == 2);
  Result r = run(host, frontend, {"unload", "twin"});
  CHECK(r.error == "");
  CHECK(r.output == "unloaded 2 groutines called 'twin'\n");
  CHECK(host.runtime.size() == 0);
  CHECK(run(host, frontend, {"unload", "twin"}).error ==
        "groutine unload: no groutine or library called 'twin'");
}

TEST_CASE("groutine load hands scripts to the frontend and renders a library's groutines",
          "[core][commands]") {
  scripted::Host host;
  TestHost frontend;
  SECTION("a script") {
    TempFile script("x.py");
    Result r = run(host, frontend, {"load", script.path});
    CHECK(r.error == "");
    CHECK(r.output == "loaded " + script.path + "\n");
    CHECK(run(host, frontend, {"unload", script.path}).output == "unloaded " + script.path + "\n");
    CHECK(frontend.scripts == std::vector<std::string>{script.path, "-" + script.path});
  }
  SECTION("a script that half loads: what loaded, then the error") {
    TempFile script("x.py");
    frontend.script_error = "x.py:3: SyntaxError: invalid syntax";
    Result r = run(host, frontend, {"load", script.path});
    CHECK(r.output == "loaded half of " + script.path + "\n");
    CHECK(r.error == "groutine load: x.py:3: SyntaxError: invalid syntax");
  }
  SECTION("a library, whose unresolved hooks are warnings") {
    TempFile library("libx.so");
    char resolved[PATH_MAX];
    REQUIRE(realpath(library.path.c_str(), resolved));
    frontend.library = {scripted::definition("checker", [] { wait_call("plugin_init"); }),
                        scripted::definition("done", [] {})};
    frontend.views["plugin_init"].breakpoint = "3";
    frontend.views["plugin_init"].unresolved = true;
    Result r = run(host, frontend, {"load", library.path});
    CHECK(r.error == "");
    CHECK(r.output == std::string("loaded 2 groutines from ") + resolved + "\n" +
                          "  1 checker              waiting on call of plugin_init\n"
                          "  2 done                 finished\n"
                          "warning: plugin_init: no such function (yet): the hook waits for a "
                          "library that defines it\n");
    host.runtime.unload_all();
  }
  SECTION("a library groutine that failed while starting, with where and why") {
    TempFile library("libx.so");
    char resolved[PATH_MAX];
    REQUIRE(realpath(library.path.c_str(), resolved));
    const std::string at = std::string(__FILE__) + ":" + std::to_string(__LINE__ + 1);
    frontend.library = {scripted::definition("early", [] { GROUTINE_FAIL("not today"); })};
    Result r = run(host, frontend, {"load", library.path});
    CHECK(r.error == "");
    CHECK(r.output == std::string("loaded 1 groutine from ") + resolved + "\n" +
                          "  1 early                failed: " + at + ": not today\n");
    // loaded_text() is that text, for any frontend's load (a Python script's too).
    CHECK(commands::loaded_text(host.runtime, "/x.py", {1}) ==
          "loaded 1 groutine from /x.py\n  1 early                failed: " + at +
              ": not today\n");
    host.runtime.unload_all();
  }
  SECTION("what was wrong") {
    CHECK(run(host, frontend, {"load"}).error ==
          "groutine load: expected one path, got 0 arguments (groutine load <path>)");
    CHECK(run(host, frontend, {"load", "/no/such/x.py"}).error ==
          "groutine load: no such file '/no/such/x.py'");
    frontend.running = "the process is running: interrupt it first";
    CHECK(run(host, frontend, {"load", "/no/such/x.py"}).error ==
          "groutine load: the process is running: interrupt it first");
    TempFile library("libx.so");
    commands::CommandHost none;
    CHECK(commands::run(host.runtime, none, {"load", library.path}).error ==
          "groutine load: this debugger loads no C++ groutine libraries");
    CHECK(frontend.scripts.empty());
  }
}

TEST_CASE("groutine fire parses key=value data and prints the replies", "[core][commands]") {
  scripted::Host host;
  TestHost frontend;
  host.load("echo", [] {
    for (;;) {
      CustomEvent e = wait_event("ping");
      e.reply(std::get<std::int64_t>(e.get("n")) + 1);
    }
  });
  CHECK(run(host, frontend, {"fire", "ping", "n=41", "s=\"a b\""}).output ==
        "reply from echo (#1): 42\n");
  CHECK(run(host, frontend, {"fire", "nobody"}).output == "no replies\n");
  CHECK(run(host, frontend, {"fire"}).error ==
        "groutine fire: expected an event name (groutine fire <event> [key=value ...])");
  CHECK(run(host, frontend, {"fire", "ping", "=1"}).error == "groutine fire: '=1' is not key=value");
  host.runtime.unload_all();
}

TEST_CASE("groutine events shows, writes and bounds the frontend's event log",
          "[core][commands]") {
  scripted::Host host;
  TestHost frontend;
  for (std::uint64_t seq = 1; seq <= 3; ++seq) {
    LogEntry e;
    e.seq = seq;
    e.thread = 42;
    e.kind = "call";
    e.name = "add";
    e.call = seq;
    e.args = {{"a", Value{std::int64_t{2}}}};
    e.detail = "call #" + std::to_string(seq);
    frontend.log.add(e);
  }
  CHECK(run(host, frontend, {"events", "-n", "2"}).output ==
        "SEQ  THREAD  KIND  NAME  DETAIL\n"
        "2    42      call  add   call #2\n"
        "3    42      call  add   call #3\n");
  std::string json3 =
      "{\"seq\":3,\"time_ns\":0,\"thread\":42,\"kind\":\"call\",\"name\":\"add\",\"call\":3,"
      "\"args\":{\"a\":2},\"value\":null,\"skipped\":false,\"unwound\":false,\"rewritten\":false,"
      "\"data\":{},\"detail\":\"call #3\"}\n";
  CHECK(run(host, frontend, {"events", "--json", "-n", "1"}).output == json3);
  SECTION("to a file") {
    TempFile out("events.jsonl");
    CHECK(run(host, frontend, {"events", "--json", "-n", "1", "--output", out.path}).output ==
          "wrote 1 event to " + out.path + "\n");
    CHECK(out.read() == json3);
  }
  SECTION("to a FIFO nobody reads: an error, not a wait") {
    TempFile fifo("fifo");
    std::remove(fifo.path.c_str());
    REQUIRE(mkfifo(fifo.path.c_str(), 0600) == 0);
    CHECK(run(host, frontend, {"events", "--json", "--output", fifo.path}).error ==
          "groutine events: cannot write '" + fifo.path + "': a FIFO nobody reads");
  }
  SECTION("bounded and cleared") {
    CHECK(run(host, frontend, {"events", "--capacity", "1"}).output ==
          "event log capacity: 1\n"
          "SEQ  THREAD  KIND  NAME  DETAIL\n"
          "3    42      call  add   call #3\n");
    CHECK(run(host, frontend, {"events", "--clear"}).output ==
          "event log cleared\nno events logged\n");
  }
  SECTION("what was wrong") {
    CHECK(run(host, frontend, {"events", "-n"}).error == "groutine events: -n needs a count");
    CHECK(run(host, frontend, {"events", "-n", "-1"}).error ==
          "groutine events: '-1' is not a count for -n");
    CHECK(run(host, frontend, {"events", "--output", "x"}).error ==
          "groutine events: --output writes the --json lines: add --json");
    CHECK(run(host, frontend, {"events", "--frobnicate"}).error ==
          "groutine events: unknown option '--frobnicate'");
    frontend.has_log = false;
    CHECK(run(host, frontend, {"events"}).error ==
          "groutine events: this debugger keeps no event log");
  }
}

TEST_CASE("groutine subscriptions shows the hooks as the frontend describes them",
          "[core][commands]") {
  scripted::Host host;
  TestHost frontend;
  CHECK(run(host, frontend, {"subscriptions"}).output ==
        "no subscriptions\nreturns awaited: 0 calls at 0 return addresses\n");
  host.load("watcher", [] {
    Calls stream = calls("add");
    for (Call c : stream) c.returned();
  });
  host.load("plugin", [] { wait_call("plugin_init"); });
  host.backend.call(1, "add");
  frontend.views["add"] = {"1", 1, 11, "agent+breakpoint", "the function is shorter than the "
                           "5-byte patch", false};
  frontend.views["plugin_init"] = {"2", 0, 0, "breakpoint", "", true};
  frontend.sites = {{0x555555555382, "agent", {1}}};
  CHECK(run(host, frontend, {"subscriptions"}).output ==
        "FUNCTION     BREAKPOINT  LOCATIONS  HOLDERS  HITS  TRANSPORT\n"
        "add          1           1          1        11    agent+breakpoint\n"
        "plugin_init  2           0          1        0     breakpoint\n"
        "  add: on a breakpoint: the function is shorter than the 5-byte patch\n"
        "  plugin_init: no such function (yet): the hook waits for a library that defines it\n"
        "returns awaited: 1 call at 1 return address\n"
        "  0x555555555382  agent  calls #1\n");
  host.backend.ret(1, 0);
  host.runtime.unload_all();
}

TEST_CASE("an unknown subcommand names the known ones; the help is at the frontend's prompt",
          "[core][commands]") {
  scripted::Host host;
  TestHost frontend;
  CHECK(run(host, frontend, {}).error ==
        "groutine: expected a subcommand (one of load, list, unload, fire, events, report, "
        "stop-on-failure, subscriptions, transport)");
  CHECK(run(host, frontend, {"lsit"}).error ==
        "groutine: no subcommand 'lsit' (one of load, list, unload, fire, events, report, "
        "stop-on-failure, subscriptions, transport)");
  CHECK(run(host, frontend, {"list", "x"}).error == "groutine list: takes no arguments");
  CHECK(run(host, frontend, {"transport", "fast"}).error ==
        "groutine transport: expected auto, agent or breakpoint, not 'fast'");
  CHECK(run(host, frontend, {"transport"}).output == "transport: breakpoint\n");
  CHECK(commands::subcommands().size() == 9);
  for (const commands::Help& h : commands::subcommands())
    CHECK(std::string(h.long_help).find("Examples:") != std::string::npos);
  CHECK(commands::with_prompt("(lldb) groutine list\n(lldb) run\n", "(gdb) ") ==
        "(gdb) groutine list\n(gdb) run\n");
}

TEST_CASE("the help's examples are in the frontend's words: its prompt, how it loads groutines "
          "and interrupts the target", "[core][commands]") {
  std::string lldb = commands::in_words(commands::group_help(), commands::lldb_words());
  CHECK(lldb == commands::group_help());
  std::string gdb = commands::in_words(commands::group_help(), commands::gdb_words());
  CHECK(gdb.find("(gdb) source build/gdb/groutines.py\n"
                 "(gdb) file build/tests/targets/calls_O2\n") != std::string::npos);
  CHECK(gdb.find("interrupt a running one first (`interrupt` or Ctrl-C)") != std::string::npos);
  for (const char* word : {"(lldb)", "plugin load", "process interrupt"}) {
    CAPTURE(word);
    CHECK(gdb.find(word) == std::string::npos);
    for (const commands::Help& h : commands::subcommands())
      CHECK(commands::in_words(h.long_help, commands::gdb_words()).find(word) ==
            std::string::npos);
  }
  commands::Words custom{"> ", "load-groutines", "exec-file", "^C"};
  CHECK(commands::in_words("(lldb) file a\n(lldb) run\n(lldb) plugin load "
                           "build/lldb_plugin/libgroutines_lldb.so\nsay `process interrupt`\n",
                           custom) == "> exec-file a\n> run\n> load-groutines\nsay ^C\n");
}

TEST_CASE("a wait reads the same in Groutine::waiting_on() and in describe()",
          "[core][commands]") {
  scripted::Host host;
  Groutine& g = host.load("g", [] {
    any_of({on_call("malloc", [](const Call&) { return true; }), on_event("x")});
  });
  CHECK(g.waiting_on() == "any of (call of malloc (with a condition), event 'x')");
  CHECK(describe({WaitText{EventKind::Call, "malloc", 0, true},
                  WaitText{EventKind::Custom, "x", 0, false}}) == g.waiting_on());
  CHECK(describe({WaitText{EventKind::Return, "", 7, false}}) == "return of call #7");
  host.runtime.unload_all();
}

TEST_CASE("entry_of() logs an event as a frontend without more knowledge sees it",
          "[core][commands]") {
  Data data{Field{"who", Value{std::string("you")}}};
  Event custom;
  custom.kind = EventKind::Custom;
  custom.seq = 1;
  custom.name = "hello";
  custom.data = &data;
  LogEntry c = entry_of(custom);
  CHECK(c.kind == "custom");
  CHECK(c.detail == "who=\"you\"");
  CHECK(c.call == 0);
  scripted::ScriptedFrame frame;
  frame.return_int = 5;
  Event ret;
  ret.kind = EventKind::Return;
  ret.seq = 3;
  ret.call = 2;
  ret.thread_id = 9;
  ret.name = "add";
  ret.frame = &frame;
  LogEntry r = entry_of(ret);
  CHECK(r.detail == "call #2 rax=5");
  CHECK(std::get<std::int64_t>(r.value) == 5);
  CHECK(to_json(r).find("\"value\":5") != std::string::npos);
  ret.unwound = true;
  CHECK(entry_of(ret).detail == "call #2 unwound");
  LogEntry line = line_of("log", "watcher", "saw add", 9);
  CHECK(line.seq == 0);
  CHECK(to_json(line).rfind("{\"seq\":null,", 0) == 0);
  frame.float_result = true;
  frame.return_float = 1.5;
  ret.unwound = false;
  CHECK(entry_of(ret).detail == "call #2 xmm0=1.5");
  frame.return_type.type = groutines::sysv::TypeClass::X87;  // a long double comes in st0
  CHECK(entry_of(ret).detail == "call #2 st0=1.5");
  CHECK(entry_of(ret, false).detail == "call #2");  // a skipped call: its value is not read
}
