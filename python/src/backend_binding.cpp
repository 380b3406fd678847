// Backend and Frame implemented in Python (pybind11 trampolines), and HostedRuntime: a runtime
// over a Python backend that a Python host constructs and makes the default one, so that a
// debugger whose only API is Python (GDB) hosts the runtime. See python/README.md, "Hosting the
// runtime from Python".
//
// The trampolines take the GIL for each call into Python. A Python exception never crosses
// into the core: a noexcept backend method records it in Backend.errors (and writes it to
// stderr) and the runtime goes on without that hook or watch; request_stop(), log() and the
// Frame reads turn it into groutines::Error, which the groutine that asked sees.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <iostream>
#include <set>
#include <utility>

#include "backend_binding.hpp"
#include "bridge.hpp"
#include "groutines/backend.hpp"
#include "groutines/groutine.hpp"
#include "groutines/runtime.hpp"
#include "groutines/runtime_internals.hpp"
#include "layout_binding.hpp"

namespace groutines::python {
namespace {

// as_u64() is an int returned by Python as the 64 bits the target holds (negative ints too).
std::uint64_t as_u64(py::handle object, const char* method) {
  Value v = to_value(object);
  if (auto* i = std::get_if<std::int64_t>(&v)) return static_cast<std::uint64_t>(*i);
  if (auto* b = std::get_if<bool>(&v)) return *b;
  throw Error("Frame." + std::string(method) + "() returned " + to_text(py::repr(object)) +
              ", not an int");
}

double as_double(py::handle object, const char* method) {
  Value v = to_value(object);
  if (auto* d = std::get_if<double>(&v)) return *d;
  if (auto* i = std::get_if<std::int64_t>(&v)) return static_cast<double>(*i);
  throw Error("Frame." + std::string(method) + "() returned " + to_text(py::repr(object)) +
              ", not a float");
}

}  // namespace

// describe_exception() is a Python exception as "ValueError: message" (with the GIL held). Never
// throws: it runs inside the catch handlers of noexcept methods, and an exception whose
// __str__ raises must not end the process there.
std::string describe_exception(py::error_already_set& e) noexcept {
  std::string type = "exception";
  try {
    type = to_text(e.type().attr("__name__"));
    return type + ": " + to_text(py::str(e.value()));
  } catch (py::error_already_set& inner) {
    inner.restore();
    PyErr_Clear();
  } catch (...) {
  }
  return type + ": (its message cannot be shown)";
}

std::vector<ThreadState> threads_from_python(py::handle list, const char* what) {
  // A list of (id, {register: value}), the event's thread first; rsp is the stack pointer.
  std::vector<ThreadState> out;
  for (py::handle h : list) {
    if (!py::isinstance<py::tuple>(h) || py::len(h) != 2 ||
        !py::isinstance<py::dict>(py::reinterpret_borrow<py::tuple>(h)[1]))
      throw Error(std::string(what) + " returned " + to_text(py::repr(h)) +
                  " in its list, not an (id, {register: value}) tuple");
    auto t = py::reinterpret_borrow<py::tuple>(h);
    ThreadState state;
    state.id = as_u64(t[0], "threads");
    for (auto [name, value] : py::reinterpret_borrow<py::dict>(t[1])) {
      state.registers.emplace_back(to_text(name), as_u64(value, "threads"));
      if (state.registers.back().first == "rsp") state.stack_pointer = state.registers.back().second;
    }
    out.push_back(std::move(state));
  }
  return out;
}

namespace {

// PyFrame is the trampoline of groutines.Frame: each read calls the Python method of that
// name when the subclass defines one, else Frame's default (which throws "not supported").
class PyFrame final : public Frame {
 public:
  std::uint64_t int_argument(unsigned index) override {
    return read("int_argument", [&](py::function f) { return as_u64(f(index), "int_argument"); },
                [&]() -> std::uint64_t { throw missing("int_argument"); });
  }
  double float_argument(unsigned index) override {
    return read("float_argument",
                [&](py::function f) { return as_double(f(index), "float_argument"); },
                [&]() -> double { throw missing("float_argument"); });
  }
  std::vector<Argument> arguments() override {
    return read(
        "arguments",
        [&](py::function f) {
          // A list of (name, type, value).
          std::vector<Argument> out;
          for (py::handle a : f()) {
            if (!py::isinstance<py::tuple>(a) || py::len(a) != 3)
              throw Error("Frame.arguments() returned " + to_text(py::repr(a)) +
                          " in its list, not a (name, type, value) tuple");
            auto t = py::reinterpret_borrow<py::tuple>(a);
            out.push_back(Argument{to_text(t[0]), to_text(t[1]), to_value(t[2])});
          }
          return out;
        },
        [&] { return Frame::arguments(); });
  }
  std::uint64_t register_value(std::string_view name) override {
    return read(
        "register_value",
        [&](py::function f) { return as_u64(f(from_text(std::string(name))), "register_value"); },
        [&]() -> std::uint64_t { throw missing("register_value"); });
  }
  std::vector<std::uint8_t> read_memory(std::uint64_t address, std::size_t size) override {
    return read(
        "read_memory",
        [&](py::function f) {
          std::string bytes = py::bytes(f(address, size));
          return std::vector<std::uint8_t>(bytes.begin(), bytes.end());
        },
        [&] { return Frame::read_memory(address, size); });
  }
  std::string read_cstring(std::uint64_t address, std::size_t max_size) override {
    return read(
        "read_cstring", [&](py::function f) { return to_text(f(address, max_size)); },
        [&] { return Frame::read_cstring(address, max_size); });
  }
  std::vector<StackFrame> backtrace(std::size_t max_frames) override {
    return read(
        "backtrace",
        [&](py::function f) {
          // A list of dicts with any of pc, module, function, offset, file, line.
          std::vector<StackFrame> out;
          for (py::handle h : f(max_frames)) {
            if (!py::isinstance<py::dict>(h))
              throw Error("Frame.backtrace() returned " + to_text(py::repr(h)) +
                          " in its list, not a dict (pc, module, function, offset, file, line)");
            auto d = py::reinterpret_borrow<py::dict>(h);
            StackFrame s;
            if (d.contains("pc")) s.pc = as_u64(d["pc"], "backtrace");
            if (d.contains("module")) s.module = to_text(d["module"]);
            if (d.contains("function")) s.function = to_text(d["function"]);
            if (d.contains("offset")) s.offset = as_u64(d["offset"], "backtrace");
            if (d.contains("file")) s.file = to_text(d["file"]);
            if (d.contains("line")) s.line = static_cast<unsigned>(as_u64(d["line"], "backtrace"));
            out.push_back(std::move(s));
          }
          return out;
        },
        [&] { return Frame::backtrace(max_frames); });
  }
  std::vector<MemoryRegion> memory_regions() override {
    return read(
        "memory_regions",
        [&](py::function f) {
          // A list of (start, end, permissions "rwx"/"r--", path).
          std::vector<MemoryRegion> out;
          for (py::handle h : f()) {
            if (!py::isinstance<py::tuple>(h) || py::len(h) != 4)
              throw Error("Frame.memory_regions() returned " + to_text(py::repr(h)) +
                          " in its list, not a (start, end, permissions, path) tuple");
            auto t = py::reinterpret_borrow<py::tuple>(h);
            MemoryRegion r;
            r.start = as_u64(t[0], "memory_regions");
            r.end = as_u64(t[1], "memory_regions");
            std::string perms = to_text(t[2]);
            r.readable = perms.find('r') != std::string::npos;
            r.writable = perms.find('w') != std::string::npos;
            r.executable = perms.find('x') != std::string::npos;
            r.path = to_text(t[3]);
            out.push_back(std::move(r));
          }
          return out;
        },
        [&] { return Frame::memory_regions(); });
  }
  std::vector<ThreadState> threads() override {
    return read(
        "threads",
        [&](py::function f) { return threads_from_python(f(), "Frame.threads()"); },
        [&] { return Frame::threads(); });
  }
  std::uint64_t int_return_value() override {
    return read(
        "int_return_value", [&](py::function f) { return as_u64(f(), "int_return_value"); },
        [&] { return Frame::int_return_value(); });
  }
  double float_return_value() override {
    return read(
        "float_return_value",
        [&](py::function f) { return as_double(f(), "float_return_value"); },
        [&] { return Frame::float_return_value(); });
  }
  bool returns_float() override {
    return read(
        "returns_float", [&](py::function f) { return f().cast<bool>(); },
        [&] { return Frame::returns_float(); });
  }
  // return_layout() is the groutines._native.ArgumentLayout the Python frame's
  // return_layout() returns (None: not known).
  sysv::ReturnLayout return_layout() override {
    return read(
        "return_layout",
        [&](py::function f) {
          py::object got = f();
          if (got.is_none()) return Frame::return_layout();
          if (!py::isinstance<Layout>(got))
            throw Error("Frame.return_layout() returned " + to_text(py::repr(got)) +
                        ", not a groutines._native.ArgumentLayout or None");
          return got.cast<const Layout&>().returns;
        },
        [&] { return Frame::return_layout(); });
  }
  Value evaluate(std::string_view expression) override {
    return read(
        "evaluate",
        [&](py::function f) { return to_value(f(from_text(std::string(expression)))); },
        [&] { return Frame::evaluate(expression); });
  }

 private:
  static Error missing(const char* method) {
    return Error(std::string("Frame.") + method + "() is not implemented by this Python frame");
  }

  // read() calls the Python override of method through call, or fallback when there is none;
  // a Python exception becomes Error "Frame.method(): Type: message".
  template <class Call, class Fallback>
  auto read(const char* method, Call call, Fallback fallback) -> decltype(fallback()) {
    if (!python_alive())
      throw Error(std::string("Frame.") + method + "(): the Python interpreter has shut down");
    {
      py::gil_scoped_acquire gil;
      try {
        if (py::function f = py::get_override(static_cast<const Frame*>(this), method))
          return call(f);
      } catch (py::error_already_set& e) {
        // groutines.Error is the frame's own message for the groutine (an unknown register,
        // an expression that failed): it goes through as it is.
        if (e.matches(error_type())) throw Error(to_text(py::str(e.value())));
        throw Error(std::string("Frame.") + method + "(): " + describe_exception(e));
      } catch (const Error&) {
        throw;
      } catch (const std::exception& e) {
        throw Error(std::string("Frame.") + method + "(): " + e.what());
      }
    }
    return fallback();
  }
};

// PyBackend is the trampoline of groutines.Backend.
class PyBackend final : public Backend {
 public:
  // errors are the failures of the noexcept methods: "install_call_hook: ValueError: ...".
  std::vector<std::string> errors;
  // event_log is the log of the HostedRuntime over it (nullptr: none): every event it
  // observes, and the groutines' log and stop lines, go there before Python sees them.
  EventLog* event_log = nullptr;

  void install_call_hook(FunctionId id, std::string_view function) noexcept override {
    notify("install_call_hook", true,
           [&](py::function f) { f(id, from_text(std::string(function))); });
  }
  void remove_call_hook(FunctionId id) noexcept override {
    notify("remove_call_hook", true, [&](py::function f) { f(id); });
  }
  void watch_return(CallId call, FunctionId function_id, std::string_view function,
                    Frame& frame) noexcept override {
    notify("watch_return", true, [&](py::function f) {
      // The frame is the Python object the host passed to deliver_call() when it is one.
      f(call, function_id, from_text(std::string(function)),
        py::cast(&frame, py::return_value_policy::reference));
    });
  }
  void unwatch_return(CallId call) noexcept override {
    notify("unwatch_return", true, [&](py::function f) { f(call); });
  }
  void request_stop(const Groutine& by, std::string_view reason) override {
    add_line("stop", by, reason);
    ask("request_stop", [&](py::function f) {
      f(from_text(by.name()), from_text(std::string(reason)));
      return true;
    });
  }
  void observe(const Event& event) noexcept override {
    if (event_log && event_log->capacity() > 0) {
      try {
        event_log->add(entry_of(event));
      } catch (const std::exception& e) {
        errors.push_back(std::string("observe: the event log: ") + e.what());
      }
    }
    notify("observe", false, [&](py::function f) {
      py::dict d;
      d["kind"] = groutines::name(event.kind);
      d["seq"] = event.seq;
      d["thread"] = event.thread_id;
      d["name"] = from_text(std::string(event.name));
      d["call"] = event.call;
      d["unwound"] = event.unwound;
      d["data"] = event.data ? from_data(*event.data) : py::dict();  // a custom event's
      f(d);
    });
  }
  void log(const Groutine& by, std::string_view message) override {
    add_line("log", by, message);
    if (!ask("log", [&](py::function f) {
          f(from_text(by.name()), from_text(std::string(message)));
          return true;
        }))
      Backend::log(by, message);
  }
  std::vector<std::string> functions(std::string_view pattern,
                                     const std::vector<std::string>& modules) override {
    std::vector<std::string> names;
    if (!ask("functions", [&](py::function f) {
          py::list mods;
          for (const std::string& m : modules) mods.append(from_text(m));
          py::object got = f(from_text(std::string(pattern)), mods);
          if (!py::isinstance<py::list>(got) && !py::isinstance<py::tuple>(got))
            throw Error("Backend.functions() returned " + to_text(py::repr(got)) +
                        ", not a list of names");
          for (py::handle name : got) {
            if (!py::isinstance<py::str>(name))
              throw Error("Backend.functions() returned a name that is not a str: " +
                          to_text(py::repr(name)));
            names.push_back(to_text(name));
          }
          return true;
        }))
      return Backend::functions(pattern, modules);
    return names;
  }
  void on_failure(const Groutine& by, const Failure& failure) noexcept override {
    notify("on_failure", false, [&](py::function f) {
      f(from_text(by.name()), from_text(failure.message), failure.fatal);
    });
  }

 private:
  // add_line() logs a line of groutine by in event_log.
  void add_line(const char* kind, const Groutine& by, std::string_view text) {
    if (event_log && event_log->capacity() > 0)
      event_log->add(line_of(kind, by.name(), std::string(text),
                             RuntimeInternals::current_thread(by.runtime())));
  }

  // notify() calls Python method (required: reported when the subclass lacks it), recording
  // any exception in errors: a noexcept method's failure never reaches the core.
  template <class Call>
  // Once the interpreter is finalising, nothing is called and the call is recorded as failed.
  void notify(const char* method, bool required, Call call) noexcept {
    if (!python_alive()) {
      errors.push_back(std::string(method) + ": the Python interpreter has shut down");
      return;
    }
    py::gil_scoped_acquire gil;
    std::string error;
    try {
      py::function f = py::get_override(static_cast<const Backend*>(this), method);
      if (f)
        call(f);
      else if (required)
        error = "not implemented by this Python backend";
    } catch (py::error_already_set& e) {
      error = describe_exception(e);
    } catch (const std::exception& e) {
      error = e.what();
    } catch (...) {
      error = "an unknown C++ exception";
    }
    if (error.empty()) return;
    errors.push_back(std::string(method) + ": " + error);
    try {
      py::module_::import("sys").attr("stderr").attr("write")(
          "groutines: the Python backend's " + std::string(method) + "() failed: " + error +
          "\n");
    } catch (py::error_already_set&) {
      // No stderr (the interpreter is going): the message stays in errors.
    }
  }

  // ask() calls Python method, turning its exception into Error for the groutine that
  // asked; false when the subclass does not define it, or when the interpreter is finalising
  // and the method is optional (else Error).
  template <class Call>
  bool ask(const char* method, Call call) {
    const bool optional =
        std::string_view(method) == "log" || std::string_view(method) == "functions";
    if (!python_alive()) {
      if (optional) return false;
      throw Error(std::string("Backend.") + method + "(): the Python interpreter has shut down");
    }
    py::gil_scoped_acquire gil;
    try {
      py::function f = py::get_override(static_cast<const Backend*>(this), method);
      if (!f) {
        // Optional methods: the caller falls back to Backend's.
        if (optional) return false;
        throw Error(std::string("Backend.") + method +
                    "() is not implemented by this Python backend");
      }
      return call(f);
    } catch (py::error_already_set& e) {
      // groutines.Error is the backend's own message for the groutine (no such module).
      if (e.matches(error_type())) throw Error(to_text(py::str(e.value())));
      throw Error(std::string("Backend.") + method + "(): " + describe_exception(e));
    }
  }
};

// live_hosts are the HostedRuntimes not yet closed, closed at interpreter exit (raw pointers
// to C++ objects: no Python object in a static).
std::set<HostedRuntime*>& live_hosts() {
  static std::set<HostedRuntime*> hosts;
  return hosts;
}

// backend_of() is object as a Backend, or TypeError naming what it is.
Backend& backend_of(py::handle object) {
  if (!py::isinstance<Backend>(object))
    throw py::type_error("groutines.Runtime(backend) takes a groutines.Backend, not " +
                         to_text(py::repr(object)));
  return object.cast<Backend&>();
}

}  // namespace

HostedRuntime::HostedRuntime(py::object backend, bool make_default)
    : backend_object_(std::move(backend)), backend_(backend_of(backend_object_)) {
  if (auto* python = dynamic_cast<PyBackend*>(&backend_)) python->event_log = &log_;
  runtime_ = std::make_unique<Runtime>(backend_, with_environment({}));
  if (make_default) set_default_runtime(runtime_.get());
  live_hosts().insert(this);
}

HostedRuntime::~HostedRuntime() { close(); }  // the runtime, empty now, goes with it

Runtime& HostedRuntime::runtime() {
  if (closed_) throw Error("this groutines.Runtime is closed");
  return *runtime_;
}

void HostedRuntime::close() {
  live_hosts().erase(this);
  if (closed_) return;
  closed_ = true;
  if (default_runtime() == runtime_.get()) set_default_runtime(nullptr);
  {
    ReleaseGil release;  // unloading runs Python groutines' finally blocks and the backend
    runtime_->unload_all();
  }
  libraries_.close();
}

std::vector<GroutineId> HostedRuntime::load_library(const std::string& path) {
  Runtime& rt = runtime();
  ReleaseGil release;
  return libraries_.load(rt, path);
}

py::object outcome_value(const std::optional<Value>& value) {
  return value ? from_value(*value) : py::none();
}

void bind_backend(py::module_& m) {
  py::class_<Backend, PyBackend>(
      m, "Backend",
      "What a debugger provides to the runtime, implemented in Python: subclass it, call "
      "super().__init__(), and define install_call_hook(id, function), remove_call_hook(id), "
      "watch_return(call, function_id, function, frame), unwatch_return(call), "
      "request_stop(groutine, reason); optionally log(groutine, message), observe(event), "
      "on_failure(groutine, message, fatal). Exceptions of the first four are recorded in "
      "errors, never raised into the runtime.")
      .def(py::init<>())
      .def_property_readonly("errors", [](Backend& b) {
        auto* py_backend = dynamic_cast<PyBackend*>(&b);
        return py_backend ? py_backend->errors : std::vector<std::string>{};
      });

  py::class_<Frame, PyFrame>(
      m, "Frame",
      "The target stopped at a call or a return, implemented in Python: subclass it, call "
      "super().__init__(), and define int_argument(i), float_argument(i), "
      "register_value(name); optionally arguments() -> [(name, type, value)], "
      "read_memory(address, size) -> bytes, read_cstring(address, max_size) -> str, "
      "backtrace(max_frames) -> [dict(pc, module, function, offset, file, line)], "
      "memory_regions() -> [(start, end, 'rw-', path)], threads() -> [(id, {register: "
      "value})], int_return_value(), float_return_value(), returns_float(), "
      "evaluate(expression).")
      .def(py::init<>());

  py::class_<Outcome>(m, "Outcome", "What groutines decided about a call or a return.")
      .def_property_readonly("skip",
                             [](const Outcome& o) { return o.forced_return.has_value(); })
      .def_property_readonly("forced_return",
                             [](const Outcome& o) { return outcome_value(o.forced_return); })
      .def_property_readonly("rewritten",
                             [](const Outcome& o) { return o.return_value.has_value(); })
      .def_property_readonly("return_value",
                             [](const Outcome& o) { return outcome_value(o.return_value); })
      .def("__repr__", [](const Outcome& o) {
        std::string s = "Outcome(";
        if (o.forced_return) s += "forced_return=" + to_string(*o.forced_return);
        if (o.return_value)
          s += std::string(o.forced_return ? ", " : "") + "return_value=" +
               to_string(*o.return_value);
        return s + ")";
      });

  py::class_<HostedRuntime>(
      m, "HostedRuntime",
      "HostedRuntime(backend, make_default=True): a runtime over a Python Backend, made the "
      "default runtime (the one groutines.load and fire use). The backend must stay alive as "
      "long as the runtime: this object holds it. close() unloads every groutine.")
      .def(py::init<py::object, bool>(), py::arg("backend"), py::arg("make_default") = true)
      .def_property_readonly("runtime", &HostedRuntime::runtime,
                             py::return_value_policy::reference_internal)
      .def_property_readonly("backend", &HostedRuntime::backend)
      .def_property_readonly(
          "event_log", &HostedRuntime::event_log, py::return_value_policy::reference_internal,
          "event_log -> groutines._native.EventLog: the events its backend observed and the "
          "groutines' log and stop lines, for `groutine events` (groutines._native.command())")
      .def_property_readonly("closed", &HostedRuntime::closed)
      .def("close", &HostedRuntime::close)
      .def(
          "load",
          [](HostedRuntime& h, py::object what) {
            // As groutines.testing.Target.load: a script path or directory, or an async def.
            py::module_ loader = py::module_::import("groutines._loader");
            py::object runtime = py::cast(&h.runtime(), py::return_value_policy::reference);
            py::list names;
            py::list loaded;
            if (py::isinstance<py::str>(what) ||
                py::hasattr(what, "__fspath__"))
              loaded = loader.attr("load_path")(runtime, py::module_::import("os").attr(
                                                             "fspath")(what));
            else
              loaded.append(loader.attr("load_function")(runtime, what));
            for (py::handle l : loaded)
              for (py::handle name : l.attr("names")) names.append(name);
            return names;
          },
          py::arg("what"),
          "load(what) -> [name]: start Python groutines from a script path, a directory of "
          "groutine scripts, or one async def function. Raises groutines.LoadError.")
      .def("load_library", &HostedRuntime::load_library, py::arg("path"),
           "load_library(path) -> [id]: load the GROUTINE(...)s of a C++ groutine library.")
      .def(
          "function_id",
          [](HostedRuntime& h, const Text& name) { return h.runtime().function_id(name.value); },
          py::arg("function"))
      .def(
          "deliver_call",
          [](HostedRuntime& h, FunctionId function, std::uint64_t thread, Frame& frame) {
            Runtime& rt = h.runtime();
            ReleaseGil release;
            return rt.deliver_call(function, thread, Clock::now(), frame);
          },
          py::arg("function"), py::arg("thread"), py::arg("frame"),
          "deliver_call(function_id, thread, frame) -> Outcome: a call of a hooked function; "
          "outcome.skip tells to return outcome.forced_return without running it.")
      .def(
          "deliver_return",
          [](HostedRuntime& h, CallId call, std::uint64_t thread, Frame& frame, bool unwound) {
            Runtime& rt = h.runtime();
            ReleaseGil release;
            return rt.deliver_return(call, thread, Clock::now(), frame, unwound);
          },
          py::arg("call"), py::arg("thread"), py::arg("frame"), py::arg("unwound") = false,
          "deliver_return(call, thread, frame, unwound=False) -> Outcome: the return of a "
          "watched call; outcome.rewritten tells the caller sees outcome.return_value.");

  py::module_::import("atexit").attr("register")(py::cpp_function([] {
    while (!live_hosts().empty()) (*live_hosts().begin())->close();
  }));
}

}  // namespace groutines::python
