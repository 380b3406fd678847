// groutines._native: the pybind11 part of the `groutines` Python package. The pure-Python part
// (python/groutines/) re-exports what users call; see python/groutines/__init__.py.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>

#include "agent_binding.hpp"
#include "awaitables.hpp"
#include "backend_binding.hpp"
#include "layout_binding.hpp"
#include "bridge.hpp"
#include "commands_binding.hpp"
#include "coroutine_driver.hpp"
#include "groutines/api.hpp"
#include "groutines/argument_layout.hpp"
#include "groutines/runtime.hpp"
#include "groutines/runtime_internals.hpp"
#include "handles.hpp"
#include "target.hpp"

namespace groutines::python {
namespace {

// The groutine running on this thread, or Error naming what needed one.
Groutine& inside(const char* what) {
  Groutine* g = CoroutineDriver::current_groutine();
  if (!g)
    throw Error(std::string("groutines.") + what +
                "() is called from inside a groutine (an @groutine async function)");
  return *g;
}

// GroutineSnapshot is what Python sees of a loaded groutine (copied under the runtime's lock).
struct GroutineSnapshot {
  GroutineId id;
  std::string name, source, file;
  unsigned line;
  std::string state, waiting_on;
  std::uint64_t events_handled;
  bool python;
  std::vector<Failure> failures;  // its own, then those of its reaped children
  GroutineId parent;
  Children children;
  std::uint64_t live_children;
  std::vector<std::pair<std::string, std::uint64_t>> missed;  // function, calls
};

// snapshot() copies what Python sees of g (under the runtime's lock).
GroutineSnapshot snapshot(const Runtime& rt, const Groutine& g) {
  GroutineSnapshot s{g.id(), g.name(), g.source(), g.location().file, g.location().line,
                     name(g.state()), g.waiting_on(), g.events_handled(), is_python(g),
                     g.failures(), g.parent(), g.children(), g.live_children(), {}};
  s.failures.insert(s.failures.end(), g.children().failures.begin(),
                    g.children().failures.end());
  for (const MissedCalls& m : g.missed())
    s.missed.emplace_back(std::string(rt.function_name(m.function)), m.count);
  return s;
}

py::dict to_dict(const GroutineSnapshot& s) {
  py::list failures;
  for (const Failure& f : s.failures) {
    py::dict d;
    d["message"] = from_text(f.message);
    d["file"] = from_text(f.where.file);
    d["line"] = f.where.line;
    d["event"] = from_text(f.event);
    d["fatal"] = f.fatal;
    d["groutine"] = from_text(f.groutine);
    if (!f.backtrace.empty()) {
      py::list backtrace;
      backtrace.append("thread " + std::to_string(f.thread) + ":");
      for (const std::string& line : f.backtrace) backtrace.append(from_text(line));
      d["backtrace"] = backtrace;
    }
    failures.append(d);
  }
  py::dict d;
  d["id"] = s.id;
  d["name"] = from_text(s.name);
  d["source"] = from_text(s.source);
  d["file"] = from_text(s.file);
  d["line"] = s.line;
  d["state"] = s.state;
  d["waiting_on"] = from_text(s.waiting_on);
  d["events_handled"] = s.events_handled;
  d["python"] = s.python;
  d["failures"] = failures;
  d["parent"] = s.parent;
  py::dict children;
  children["spawned"] = s.children.spawned;
  children["live"] = s.live_children;
  children["ended"] = s.children.ended;
  children["failed"] = s.children.failed;
  children["events"] = s.children.events;
  children["failures_dropped"] = s.children.failures_dropped;
  d["children"] = children;
  py::dict missed;
  for (const auto& [function, count] : s.missed) missed[from_text(function)] = count;
  d["missed"] = missed;
  return d;
}

py::list replies_to_list(const std::vector<Reply>& replies) {
  py::list out;
  for (const Reply& r : replies) out.append(py::cast(r));  // groutines.Reply (handles.cpp)
  return out;
}

std::vector<Reply> fire_in(Runtime& runtime, const std::string& name, Data data) {
  ReleaseGil release;
  return runtime.fire(name, std::move(data));
}

void bind_runtime(py::module_& m) {
  py::class_<Runtime, std::unique_ptr<Runtime, py::nodelete>>(
      m, "Runtime", "A groutines runtime: the debugger's, or a scripted target's.")
      .def(
          "load",
          [](Runtime& rt, Text name, Text source, Text file, unsigned line,
             py::object coroutine) {
            auto driver = std::make_unique<CoroutineDriver>(std::move(coroutine));
            ReleaseGil release;
            return rt.load(std::move(name.value), std::move(source.value),
                           Location{std::move(file.value), line}, std::move(driver))
                .id();
          },
          py::arg("name"), py::arg("source"), py::arg("file"), py::arg("line"),
          py::arg("coroutine"),
          "load(name, source, file, line, coroutine) -> id: start a Python groutine (a "
          "coroutine not yet started) and run it to its first await.")
      .def(
          "unload",
          [](Runtime& rt, GroutineId id) {
            ReleaseGil release;
            return rt.unload(id);
          },
          py::arg("id"))
      .def(
          "unload_source",
          [](Runtime& rt, const Text& source) {
            ReleaseGil release;
            return rt.unload_source(source.value);
          },
          py::arg("source"), "unload_source(source) -> n: unload every groutine loaded from it.")
      .def(
          "unload_sources",
          [](Runtime& rt, const std::vector<Text>& sources) {
            std::vector<std::string> chosen;
            for (const Text& s : sources) chosen.push_back(s.value);
            ReleaseGil release;
            return rt.unload_where([&](const Groutine& g) {
              return std::find(chosen.begin(), chosen.end(), g.source()) != chosen.end();
            });
          },
          py::arg("sources"),
          "unload_sources(sources) -> n: unload every groutine loaded from any of sources. All "
          "or nothing: groutines.Error, unloading none, from a delivery.")
      .def(
          "unload_python",
          [](Runtime& rt) {
            ReleaseGil release;
            std::vector<GroutineId> ids;
            rt.for_each([&](const Groutine& g) {
              if (is_python(g)) ids.push_back(g.id());
            });
            for (auto it = ids.rbegin(); it != ids.rend(); ++it) rt.unload(*it);
            return ids.size();
          },
          "unload_python() -> n: unload every Python groutine (at interpreter exit).")
      .def("groutines",
           [](Runtime& rt) {
             std::vector<GroutineSnapshot> snapshots;
             {
               ReleaseGil release;
               rt.for_each([&](const Groutine& g) { snapshots.push_back(snapshot(rt, g)); });
             }
             py::list out;
             for (const auto& s : snapshots) out.append(to_dict(s));
             return out;
           },
           "groutines() -> [dict]: every loaded groutine, in load order.")
      .def(
          "fire",
          [](Runtime& rt, const Text& name, const py::dict& data) {
            return replies_to_list(fire_in(rt, name.value, to_data(data)));
          },
          py::arg("name"), py::arg("data") = py::dict(),
          "fire(name, data) -> [Reply]: fire a custom event, as from the prompt.")
      .def("hooks",
           [](Runtime& rt) {
             std::vector<HookInfo> hooks;
             {
               ReleaseGil release;
               hooks = rt.hooks();
             }
             py::list out;
             for (const HookInfo& h : hooks)
               out.append(py::make_tuple(h.function, h.holders, h.installed));
             return out;
           })
      .def("pending_returns", [](Runtime& rt) {
        ReleaseGil release;
        return rt.pending_returns();
      });
}

void bind_target(py::module_& m) {
  py::class_<Target>(m, "ScriptedTarget",
                     "The core's scripted target over its own runtime (groutines.testing).")
      .def(py::init<>())
      .def_property_readonly("runtime", &Target::runtime,
                             py::return_value_policy::reference_internal)
      .def_property_readonly("closed", &Target::closed)
      .def("close",
           [](Target& t) {
             t.leave_default();
             ReleaseGil release;
             t.close();
           })
      .def(
          "call",
          [](Target& t, std::uint64_t thread, const Text& function,
             const py::list& args, const std::vector<double>& floats, const py::dict& named,
             const py::dict& regs) -> py::object {
            std::vector<std::uint64_t> ints;
            for (py::handle a : args) {
              Value v = to_value(a);
              if (auto* i = std::get_if<std::int64_t>(&v)) {
                ints.push_back(static_cast<std::uint64_t>(*i));
              } else if (auto* b = std::get_if<bool>(&v)) {
                ints.push_back(*b);
              } else {
                throw py::type_error("args= are integers (pointers too); pass floats with "
                                     "floats= and typed values with named=");
              }
            }
            std::vector<Argument> arguments;
            for (auto [key, value] : named) {
              Value v = to_value(value);
              const char* type = std::holds_alternative<double>(v)        ? "double"
                                 : std::holds_alternative<std::string>(v) ? "const char *"
                                 : std::holds_alternative<bool>(v)        ? "bool"
                                                                          : "long";
              arguments.push_back(Argument{to_text(key), type, std::move(v)});
            }
            std::map<std::string, std::uint64_t, std::less<>> registers;
            for (auto [key, value] : regs) {
              Value v = to_value(value);
              auto* i = std::get_if<std::int64_t>(&v);
              if (!i) throw py::type_error("regs= are integers");
              registers[to_text(key)] = static_cast<std::uint64_t>(*i);
            }
            std::optional<Value> forced;
            {
              ReleaseGil release;
              forced = t.scripted().call(thread, function.value, std::move(ints), floats, std::move(arguments),
                              std::move(registers));
            }
            return forced ? from_value(*forced) : py::none();
          },
          py::arg("thread"), py::arg("function"), py::arg("args") = py::list(),
          py::arg("floats") = std::vector<double>(), py::arg("named") = py::dict(),
          py::arg("regs") = py::dict())
      .def(
          "ret",
          [](Target& t, std::uint64_t thread, py::handle value) {
            Value v = to_value(value);
            Value seen;
            {
              ReleaseGil release;
              seen = t.scripted().ret(thread, v);
            }
            return from_value(seen);
          },
          py::arg("thread"), py::arg("value") = 0)
      .def(
          "unwind",
          [](Target& t, std::uint64_t thread, unsigned n) {
            ReleaseGil release;
            t.scripted().unwind(thread, n);
          },
          py::arg("thread"), py::arg("frames") = 1)
      .def(
          "write_memory",
          [](Target& t, std::uint64_t address, const py::bytes& data) {
            std::string s = data;
            std::vector<std::uint8_t> bytes(s.begin(), s.end());
            ReleaseGil release;
            t.scripted().write_memory(address, std::move(bytes));
          },
          py::arg("address"), py::arg("data"))
      .def(
          "map_region",
          [](Target& t, std::uint64_t start, std::uint64_t end, const std::string& permissions,
             const std::string& path) {
            MemoryRegion r{start, end, permissions.find('r') != std::string::npos,
                           permissions.find('w') != std::string::npos,
                           permissions.find('x') != std::string::npos, path};
            ReleaseGil release;
            t.scripted().map_region(std::move(r));
          },
          py::arg("start"), py::arg("end"), py::arg("permissions"), py::arg("path"))
      .def(
          "load_library",
          [](Target& t, const std::string& path) {
            ReleaseGil release;
            return t.load_library(path);
          },
          py::arg("path"))
      .def(
          "depth", [](Target& t, std::uint64_t thread) { return t.scripted().depth(thread); },
          py::arg("thread"))
      .def(
          "declare_return_type",
          [](Target& t, const std::string& function, const std::string& type_class,
             std::uint64_t size, bool is_signed) {
            static const std::pair<const char*, sysv::TypeClass> kClasses[] = {
                {"integer", sysv::TypeClass::Integer}, {"bool", sysv::TypeClass::Bool},
                {"pointer", sysv::TypeClass::Pointer}, {"float", sysv::TypeClass::Float},
                {"x87", sysv::TypeClass::X87},         {"aggregate", sysv::TypeClass::Aggregate},
                {"void", sysv::TypeClass::Void}};
            for (const auto& [name, cls] : kClasses)
              if (type_class == name) {
                sysv::TypeDescription type;
                type.type = cls;
                type.size = size;
                type.is_signed = is_signed;
                t.scripted().declare_return_type(function, type);
                return;
              }
            throw py::value_error("no type class '" + type_class + "'");
          },
          py::arg("function"), py::arg("type_class"), py::arg("size"), py::arg("is_signed"))
      .def(
          "declare_symbols",
          [](Target& t, const std::string& module, const std::vector<std::string>& names) {
            t.scripted().declare_symbols(module, names);
          },
          py::arg("module"), py::arg("names"))
      .def_property_readonly("hooked", [](Target& t) { return t.scripted().hooked(); })
      .def_property_readonly("watched", [](Target& t) { return t.scripted().watched(); })
      .def_property_readonly("journal", [](Target& t) { return t.scripted().journal; })
      .def_property_readonly("stops", [](Target& t) { return t.scripted().stops; })
      .def_property_readonly("logs", [](Target& t) { return t.scripted().logs; });
}

}  // namespace
}  // namespace groutines::python

using namespace groutines;
using namespace groutines::python;

PYBIND11_MODULE(_native, m) {
  m.doc() = "The native part of the groutines package (pybind11 over the groutines core).";

  // groutines.Error: made here, kept only in the module's namespace (never in a C++ static).
  py::object error = py::reinterpret_steal<py::object>(PyErr_NewExceptionWithDoc(
      "groutines.Error",
      "What groutines raise for anything a script or the target can cause: a call or return "
      "used after the target resumed, an unknown register, a fire nested too deep...",
      nullptr, nullptr));
  if (!error) throw py::error_already_set();
  m.attr("Error") = error;
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const Error& e) {
      PyErr_SetString(error_type().ptr(), e.what());
    }
  });

  bind_handles(m);
  bind_awaitables(m);
  bind_runtime(m);
  bind_target(m);
  bind_backend(m);
  bind_layout(m);
#ifdef GROUTINES_HAVE_AGENT
  bind_agent(m);
#endif
  bind_commands(m);

  m.def("default_runtime", &default_runtime, py::return_value_policy::reference,
        "default_runtime() -> Runtime or None: the debugger's runtime (the LLDB plugin's), or "
        "the newest open scripted target's.");
  m.def(
      "fire",
      [](const Text& text, const py::dict& data) {
        const std::string& name = text.value;
        Data d = to_data(data);
        if (Groutine* g = CoroutineDriver::current_groutine()) {
          Runtime& rt = g->runtime();
          return replies_to_list(rt.fire(name, std::move(d), RuntimeInternals::current_thread(rt)));
        }
        Runtime* rt = default_runtime();
        if (!rt)
          throw Error("fire('" + name + "') outside a groutine needs a debugger with the "
                      "groutines plugin, or a groutines.testing.Target");
        return replies_to_list(fire_in(*rt, name, std::move(d)));
      },
      py::arg("name"), py::arg("data") = py::dict());
  m.def(
      "spawn",
      [](py::object coroutine, py::object name) {
        Groutine& parent = inside("spawn");
        if (!PyCoro_CheckExact(coroutine.ptr()))
          throw py::type_error("groutines.spawn() takes a coroutine, made by calling an async "
                               "function: g.spawn(handler(call)), not " +
                               to_text(py::repr(coroutine)));
        py::object code = coroutine.attr("cr_code");
        std::string label = name.is_none() ? to_text(coroutine.attr("__name__"))
                                           : to_text(py::str(name));
        Location where{to_text(code.attr("co_filename")),
                       code.attr("co_firstlineno").cast<unsigned>()};
        auto driver = std::make_unique<CoroutineDriver>(std::move(coroutine));
        return parent.runtime().spawn(std::move(label), std::move(where), std::move(driver));
      },
      py::arg("coroutine"), py::kw_only(), py::arg("name") = py::none(),
      "spawn(coroutine, name=None) -> id: start a child groutine running coroutine now, until "
      "its first await, inside the event being handled (it can await the return of the call "
      "being handled). name defaults to the async function's __name__.");
  m.def(
      "stop",
      [](const Text& reason) {
        RuntimeInternals::request_stop(inside("stop").runtime(), reason.value);
      },
      py::arg("reason"));
  m.def(
      "log",
      [](const Text& message) { RuntimeInternals::log(inside("log").runtime(), message.value); },
      py::arg("message"));
  m.def(
      "functions",
      [](const Text& pattern, py::object modules) {
        std::vector<std::string> names;
        if (!modules.is_none()) {
          if (py::isinstance<py::str>(modules))
            throw py::type_error("groutines.functions(pattern, modules): modules is a list of "
                                 "module file names (['libc.so.6']), not the str " +
                                 to_text(py::repr(modules)));
          for (py::handle name : modules) names.push_back(to_text(name));
        }
        Runtime* rt = nullptr;
        if (Groutine* g = CoroutineDriver::current_groutine()) rt = &g->runtime();
        else rt = default_runtime();
        if (!rt)
          throw Error("functions('" + pattern.value + "') outside a groutine needs a debugger "
                      "with the groutines plugin, or a groutines.testing.Target");
        ReleaseGil release;
        return rt->functions(pattern.value, names);
      },
      py::arg("pattern"), py::arg("modules") = py::none(),
      "functions(pattern, modules=None) -> [str]: the names of the target's functions that "
      "match the shell pattern (parse_*), in the main executable or in the modules named by "
      "file name (['libc.so.6']), each once. Works while a groutine module loads and from "
      "a groutine.");
  m.def(
      "_record_failure",
      [](const Text& message, const Text& file, unsigned line) {
        RuntimeInternals::record_failure(inside("check").runtime(), message.value,
                                         Location{file.value, line});
      },
      py::arg("message"), py::arg("file"), py::arg("line"),
      "_record_failure(message, file, line): a failure of the running groutine that does not "
      "end it (groutines.check()).");
  m.def(
      "current_name",
      [](void) -> py::object {
        Groutine* g = CoroutineDriver::current_groutine();
        return g ? py::object(from_text(g->name())) : py::none();
      },
      "current_name() -> str or None: the name of the groutine running now.");
}
