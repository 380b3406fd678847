#include "commands_binding.hpp"

#include <pybind11/stl.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "backend_binding.hpp"
#include "bridge.hpp"
#include "groutines/commands.hpp"
#include "groutines/event_log.hpp"
#include "groutines/libraries.hpp"

namespace groutines::python {
namespace {

namespace commands = groutines::commands;

// PyCommandHost is the trampoline of groutines._native.CommandHost: each method a Python
// subclass defines is called (with the GIL, under the runtime's lock); the others are the
// core's defaults. A Python exception becomes the command's error, its message after
// "groutine SUB: ".
class PyCommandHost : public commands::CommandHost {
 public:
  using CommandHost::CommandHost;

  EventLog* event_log() override {
    py::gil_scoped_acquire gil;
    py::function f = override("event_log");
    if (!f) return default_log_ ? default_log_ : CommandHost::event_log();
    py::object log = call([&] { return f(); });
    if (log.is_none()) return nullptr;
    if (!py::isinstance<EventLog>(log))
      throw Error("CommandHost.event_log() returns a groutines._native.EventLog or None, not " +
                  to_text(py::repr(log)));
    log_ = log;  // kept alive for the command
    return log.cast<EventLog*>();
  }
  void require_stopped() override {
    if (!forward("require_stopped")) CommandHost::require_stopped();
  }
  void prepare_load() override {
    if (!forward("prepare_load")) CommandHost::prepare_load();
  }
  std::string load_script(const std::string& path) override {
    return script("load_script", path, [&] { return CommandHost::load_script(path); });
  }
  std::string unload_script(const std::string& path) override {
    return script("unload_script", path, [&] { return CommandHost::unload_script(path); });
  }
  std::vector<GroutineId> load_library(Runtime& runtime, const std::string& path) override {
    py::gil_scoped_acquire gil;
    py::function f = override("load_library");
    if (!f && libraries_) {
      py::gil_scoped_release release;
      return libraries_->load(runtime, path);
    }
    if (!f) return CommandHost::load_library(runtime, path);
    std::vector<GroutineId> ids;
    call([&] {
      for (py::handle id : f(from_text(path))) ids.push_back(id.cast<GroutineId>());
      return py::none();
    });
    return ids;
  }
  bool unload_library(Runtime& runtime, const std::string& path) override {
    py::gil_scoped_acquire gil;
    py::function f = override("unload_library");
    if (!f && libraries_) {
      py::gil_scoped_release release;
      return libraries_->unload(runtime, path);
    }
    if (!f) return CommandHost::unload_library(runtime, path);
    return py::bool_(call([&] { return f(from_text(path)); }));
  }
  void unload_everything(Runtime& runtime) override {
    if (forward("unload_everything")) return;
    if (libraries_)
      libraries_->unload_all(runtime);
    else
      CommandHost::unload_everything(runtime);
  }
  commands::HookView hook_view(const HookInfo& hook) override {
    py::gil_scoped_acquire gil;
    py::function f = override("hook_view");
    if (!f) return CommandHost::hook_view(hook);
    py::object view = call([&] { return f(from_text(hook.function)); });
    commands::HookView out;
    if (view.is_none()) return out;
    if (!py::isinstance<py::dict>(view))
      throw Error("CommandHost.hook_view() returns a dict or None, not " +
                  to_text(py::repr(view)));
    py::dict d = view.cast<py::dict>();
    try {
      if (d.contains("breakpoint") && !d["breakpoint"].is_none())
        out.breakpoint = to_text(py::str(d["breakpoint"]));
      if (d.contains("locations")) out.locations = d["locations"].cast<std::uint64_t>();
      if (d.contains("hits")) out.hits = d["hits"].cast<std::uint64_t>();
      if (d.contains("transport")) out.transport = to_text(d["transport"]);
      if (d.contains("fallback")) out.fallback = to_text(d["fallback"]);
      if (d.contains("unresolved")) out.unresolved = py::bool_(d["unresolved"]);
    } catch (const py::cast_error&) {
      throw Error("CommandHost.hook_view(): locations and hits are counts, in " +
                  to_text(py::repr(view)));
    }
    return out;
  }
  std::vector<commands::ReturnSite> return_sites() override {
    py::gil_scoped_acquire gil;
    py::function f = override("return_sites");
    if (!f) return CommandHost::return_sites();
    std::vector<commands::ReturnSite> out;
    call([&] {
      for (py::handle site : f()) {
        auto t = site.cast<py::tuple>();
        if (t.size() != 3)
          throw Error("CommandHost.return_sites() lists (address, by, calls), not " +
                      to_text(py::repr(site)));
        out.push_back({t[0].cast<std::uint64_t>(), to_text(t[1]),
                       t[2].cast<std::vector<CallId>>()});
      }
      return py::none();
    });
    return out;
  }
  std::string last_stop() override {
    return text("last_stop", [&] { return CommandHost::last_stop(); });
  }
  bool stop_on_failure() override {
    py::gil_scoped_acquire gil;
    py::function f = override("stop_on_failure");
    if (!f) return CommandHost::stop_on_failure();
    return py::bool_(call([&] { return f(); }));
  }
  void set_stop_on_failure(bool on) override {
    if (!forward("set_stop_on_failure", py::bool_(on))) CommandHost::set_stop_on_failure(on);
  }
  void set_transport(const std::string& transport) override {
    if (!forward("set_transport", from_text(transport))) CommandHost::set_transport(transport);
  }
  std::string transport_status() override {
    return text("transport_status", [&] { return CommandHost::transport_status(); });
  }

  // begin() readies it for one command whose runtime keeps libraries and an event log
  // (nullptr: none), which load_library(), the unloads and event_log() use when the Python
  // subclass does not define them; done() lets go of what the command kept (GIL held).
  void begin(Libraries* libraries, EventLog* log) {
    libraries_ = libraries;
    default_log_ = log;
  }
  void done() {
    log_ = py::object();
    libraries_ = nullptr;
    default_log_ = nullptr;
  }

 private:
  // override() is the Python subclass's method called name, or null (the GIL held).
  py::function override(const char* name) const {
    return py::get_override(static_cast<const CommandHost*>(this), name);
  }

  // call() calls fn (the GIL held); a Python exception becomes Error with its message.
  template <class F>
  py::object call(F&& fn) {
    try {
      return fn();
    } catch (py::error_already_set& e) {
      std::string message = to_text(py::str(e.value()));
      if (message.empty()) message = to_text(e.type().attr("__name__"));
      throw Error(message);
    } catch (const py::cast_error& e) {
      throw Error(std::string("the frontend's CommandHost answered a wrong type: ") + e.what());
    }
  }

  // forward() calls the Python method name with args, when there is one.
  template <class... Args>
  bool forward(const char* name, Args&&... args) {
    py::gil_scoped_acquire gil;
    py::function f = override(name);
    if (!f) return false;
    call([&] { return f(std::forward<Args>(args)...); });
    return true;
  }

  template <class Default>
  std::string text(const char* name, Default&& fallback) {
    py::gil_scoped_acquire gil;
    py::function f = override(name);
    if (!f) return fallback();
    py::object out = call([&] { return f(); });
    return out.is_none() ? std::string() : to_text(out);
  }

  // script() calls load_script or unload_script: a str is the text to print; a tuple
  // (output, error) with error not "" is a failure after output was done (as
  // groutines._host.load_command() answers).
  template <class Default>
  std::string script(const char* name, const std::string& path, Default&& fallback) {
    py::gil_scoped_acquire gil;
    py::function f = override(name);
    if (!f) return fallback();
    py::object out = call([&] { return f(from_text(path)); });
    if (py::isinstance<py::tuple>(out)) {
      auto t = out.cast<py::tuple>();
      if (t.size() != 2)
        throw Error(std::string("CommandHost.") + name + "() answers a str or (output, error), "
                    "not " + to_text(py::repr(out)));
      std::string output = to_text(t[0]);
      std::string error = to_text(t[1]);
      if (!error.empty()) throw commands::Incomplete(std::move(output), error);
      return output;
    }
    return out.is_none() ? std::string() : to_text(out);
  }

  py::object log_;
  Libraries* libraries_ = nullptr;
  EventLog* default_log_ = nullptr;
};

py::tuple command(Runtime& runtime, const std::vector<py::handle>& argv,
                  commands::CommandHost& host, Libraries* libraries, EventLog* log) {
  std::vector<std::string> words;
  for (py::handle a : argv) words.push_back(to_text(a));
  auto* py_host = dynamic_cast<PyCommandHost*>(&host);
  if (py_host) py_host->begin(libraries, log);
  commands::Result result;
  {
    ReleaseGil release;
    result = commands::run(runtime, host, words);
  }
  if (py_host) py_host->done();
  return py::make_tuple(from_text(result.output), from_text(result.error));
}

}  // namespace

void bind_commands(py::module_& m) {
  py::class_<EventLog>(m, "EventLog",
                       "EventLog(capacity=1000): the last events, in a ring, for `groutine "
                       "events`. A frontend's backend adds an entry per event it observes.")
      .def(py::init([](std::size_t capacity) {
             auto log = std::make_unique<EventLog>();
             log->set_capacity(capacity);
             return log;
           }),
           py::arg("capacity") = EventLog::kDefaultCapacity)
      .def_property(
          "capacity", &EventLog::capacity, &EventLog::set_capacity,
          "how many entries it keeps (0: logging is off); lowering it drops the oldest")
      .def_property_readonly("total", &EventLog::total,
                             "every entry ever added, also those dropped since")
      .def("clear", &EventLog::clear)
      .def(
          "add",
          [](EventLog& log, const Text& kind, const Text& name, std::uint64_t seq,
             std::uint64_t thread, CallId call, const Text& detail, py::object time_ns,
             py::object args, py::object value, py::object data, bool skipped, bool unwound,
             bool rewritten) {
            LogEntry e;
            e.seq = seq;
            e.time_ns = time_ns.is_none() ? groutines::time_ns(Clock::now())
                                          : time_ns.cast<std::int64_t>();
            e.thread = thread;
            e.kind = kind.value;
            e.name = name.value;
            e.call = call;
            e.detail = detail.value;
            if (!args.is_none())
              for (auto [k, v] : args.cast<py::dict>()) e.args.emplace_back(to_text(k), to_value(v));
            e.value = to_value(value);
            if (!data.is_none()) e.data = to_data(data.cast<py::dict>());
            e.skipped = skipped;
            e.unwound = unwound;
            e.rewritten = rewritten;
            return log.add(std::move(e)) != nullptr;
          },
          py::arg("kind"), py::arg("name"), py::kw_only(), py::arg("seq") = 0,
          py::arg("thread") = 0, py::arg("call") = 0, py::arg("detail") = "",
          py::arg("time_ns") = py::none(), py::arg("args") = py::none(),
          py::arg("value") = py::none(), py::arg("data") = py::none(),
          py::arg("skipped") = false, py::arg("unwound") = false, py::arg("rewritten") = false,
          "add(kind, name, *, seq=0, thread=0, call=0, detail='', time_ns=now, args=None, "
          "value=None, data=None, skipped=False, unwound=False, rewritten=False) -> bool: "
          "append an entry (kind: call, return, custom, log or stop), dropping the oldest when "
          "full; False when logging is off.")
      .def("__len__", &EventLog::size);

  py::class_<commands::CommandHost, PyCommandHost>(
      m, "CommandHost",
      "CommandHost(): what a frontend does for the `groutine` commands that the core cannot. "
      "Subclass it and define the methods the frontend supports, each called under the "
      "runtime's lock; an exception is the command's error. event_log() -> EventLog or None; "
      "require_stopped() raises when the target runs; prepare_load(); load_script(path) and "
      "unload_script(path) -> str, or (output, error) as groutines._host.load_command() "
      "answers; load_library(path) -> [id]; unload_library(path) -> bool; "
      "unload_everything(); hook_view(function) -> dict (breakpoint, locations, hits, "
      "transport, fallback, unresolved) or None; return_sites() -> [(address, by, [call])]; "
      "last_stop() -> str; stop_on_failure() -> bool; set_stop_on_failure(on); "
      "set_transport(name); transport_status() -> str.")
      .def(py::init_alias<>());

  m.def(
      "command",
      [](Runtime& runtime, const std::vector<py::handle>& argv, commands::CommandHost& host) {
        return command(runtime, argv, host, nullptr, nullptr);
      },
      py::arg("runtime"), py::arg("argv"), py::arg("host"),
      "command(runtime, argv, host) -> (output, error): run `groutine ARGV...` (argv[0] the "
      "subcommand: load, list, unload, fire, events, report, stop-on-failure, subscriptions, "
      "transport) against runtime, with host (a CommandHost) doing what only the frontend "
      "can. error is '' on success, else 'groutine SUB: what was wrong'; output is what to "
      "print first. The text is the LLDB plugin's, byte for byte.");
  m.def(
      "command",
      [](HostedRuntime& hosted, const std::vector<py::handle>& argv,
         commands::CommandHost& host) {
        return command(hosted.runtime(), argv, host, &hosted.libraries(), &hosted.event_log());
      },
      py::arg("runtime"), py::arg("argv"), py::arg("host"),
      "command(runtime, argv, host) with a groutines.Runtime: as above; a C++ groutine library "
      "that `load` and `unload` name is loaded into (and closed by) that runtime, and "
      "`events` shows its event_log, unless host defines load_library(), unload_library() "
      "and event_log().");
  m.def(
      "loaded_text",
      [](Runtime& runtime, const Text& source, const std::vector<GroutineId>& ids) {
        std::string text;
        {
          ReleaseGil release;
          text = commands::loaded_text(runtime, source.value, ids);
        }
        return from_text(text);
      },
      py::arg("runtime"), py::arg("source"), py::arg("ids"),
      "loaded_text(runtime, source, ids) -> str: what `groutine load` prints for the "
      "groutines ids just loaded from source ('loaded N groutines from SOURCE', then "
      "'  ID NAME STATE' each; a failed one's state 'failed: FILE:LINE: MESSAGE'), the same "
      "text for C++ libraries and Python scripts.");
  m.def(
      "loaded_text",
      [](HostedRuntime& hosted, const Text& source, const std::vector<GroutineId>& ids) {
        std::string text;
        {
          ReleaseGil release;
          text = commands::loaded_text(hosted.runtime(), source.value, ids);
        }
        return from_text(text);
      },
      py::arg("runtime"), py::arg("source"), py::arg("ids"),
      "loaded_text(runtime, source, ids) with a groutines.Runtime: as above.");
  m.def(
      "command_help",
      [](std::optional<Text> prompt, const Text& frontend) {
        commands::Words words;
        if (frontend.value == "lldb")
          words = commands::lldb_words();
        else if (frontend.value == "gdb")
          words = commands::gdb_words();
        else
          throw py::value_error("command_help(): frontend is 'lldb' or 'gdb', not '" +
                                frontend.value + "'");
        if (prompt) words.prompt = prompt->value;
        py::list out;
        out.append(py::make_tuple("", commands::help(), "groutine <subcommand>",
                                  commands::in_words(commands::group_help(), words)));
        for (const commands::Help& h : commands::subcommands())
          out.append(py::make_tuple(h.name, h.help, h.syntax,
                                    commands::in_words(h.long_help, words)));
        return out;
      },
      py::arg("prompt") = py::none(), py::arg("frontend") = "lldb",
      "command_help(prompt=None, frontend='lldb') -> [(name, help, syntax, long_help)]: the "
      "help of the `groutine` command (name '') and of each subcommand, its examples in the "
      "words of frontend ('lldb' or 'gdb': its prompt, how it loads groutines, how a running "
      "target is interrupted), at prompt when given.");
}

}  // namespace groutines::python
