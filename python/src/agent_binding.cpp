// agent_binding: the agent's host side (agent/host) for a debugger whose frontend is written in
// Python (GDB): groutines._native.agent. The frontend reads the agent's ga_info from the target
// and opens a Session; the Session's service thread takes each hit the target's threads post,
// holds the runtime's lock, and hands an AgentFrame (a groutines.Frame) to the frontend's
// Python handler, which delivers it with the runtime's deliver_call()/deliver_return() as it
// delivers a breakpoint's. Patches are planned and built here (Zydis) and written by the
// frontend with its debugger, while the target is stopped.
//
// Evaluations on an agent hit park its thread: the service thread asks it to call the agent's
// park pad, where the frontend's breakpoint stops the target and serves the expression
// (Session.serve_park()); the thread's registers at the hit are put into the expression as
// values (agent::with_registers()).
#include "agent_binding.hpp"

#include <dirent.h>
#include <dlfcn.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <pybind11/stl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "backend_binding.hpp"
#include "bridge.hpp"
#include "groutines/agent/channel.hpp"
#include "groutines/agent/frame.hpp"
#include "groutines/agent/patcher.hpp"
#include "groutines/agent/preload.hpp"
#include "groutines/agent/unwinder.hpp"
#include "groutines/api.hpp"
#include "layout_binding.hpp"

namespace groutines::python {
namespace {

using agent::AgentFrame;
using namespace std::chrono_literals;

// agent_library() is the agent beside the core library (installed), or in the build tree;
// "" when there is none.
std::string agent_library() {
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&groutines::default_runtime), &info) && info.dli_fname) {
    std::string core = info.dli_fname;
    std::string beside = core.substr(0, core.rfind('/') + 1) + "libgroutines_agent.so";
    if (access(beside.c_str(), R_OK) == 0) return beside;
  }
#ifdef GROUTINES_AGENT_BUILD_PATH
  if (access(GROUTINES_AGENT_BUILD_PATH, R_OK) == 0) return GROUTINES_AGENT_BUILD_PATH;
#endif
  return "";
}

// ParkRequest is an evaluation asked by the service thread, served at the park pad.
struct ParkRequest {
  std::uint64_t thread = 0;
  ga_regs regs{};
  std::string expression;
  Value result;
  std::string error;
  bool done = false;
};

ga_info info_of(const py::bytes& bytes) {
  std::string raw = bytes;
  if (raw.size() != sizeof(ga_info))
    throw Error("the agent's state is " + std::to_string(raw.size()) + " bytes, not " +
                std::to_string(sizeof(ga_info)));
  ga_info info{};
  std::memcpy(&info, raw.data(), sizeof info);
  return info;
}

// Session is the host of one process's agent.
class Session final : public agent::Channel::Handler {
 public:
  Session(py::object host, pid_t pid, const ga_info& info, py::object on_hit)
      : host_object_(std::move(host)),
        host_(host_object_.cast<HostedRuntime&>()),
        pid_(pid),
        info_(info),
        on_hit_(std::move(on_hit)),
        unwinder_(pid),
        lookup_(pid) {
    auto opened = agent::Channel::open(pid, info);
    if (auto* why = std::get_if<std::string>(&opened)) throw Error(*why);
    channel_ = std::move(std::get<std::unique_ptr<agent::Channel>>(opened));
    channel_->start(*this);
  }
  // ~Session() stops the service thread, which may wait for the GIL: released meanwhile.
  ~Session() override {
    std::optional<py::gil_scoped_release> nogil;
    if (Py_IsInitialized() && PyGILState_Check()) nogil.emplace();
    stop();
  }

  void stop() {
    if (!channel_ || stopping_.exchange(true)) return;
    park_cv_.notify_all();
    channel_->stop();
  }
  void withdraw() noexcept {
    if (channel_) channel_->withdraw();
  }
  bool serving() const noexcept { return channel_ && !stopping_; }
  agent::Channel& channel() {
    if (!serving()) throw Error("the agent's session has ended");
    return *channel_;
  }
  const ga_info& info() const noexcept { return info_; }
  pid_t pid() const noexcept { return pid_; }

  // symbol() is (start, size) of the function at pc from the modules' symbol tables, or None.
  py::object symbol(std::uint64_t pc) {
    agent::Symbol s = lookup_.symbolize(pc, false);
    if (s.start == 0 || s.size == 0) return py::none();
    return py::make_tuple(s.start, s.size);
  }
  void modules_changed() {
    lookup_.modules_changed();
    std::lock_guard<std::mutex> g(symbols_mutex_);
    symbols_changed_ = true;
  }

  // --- the service thread ---

  void handle(ga_slot& slot) noexcept override {
    if (stopping_ || !python_alive() || host_.closed()) return;
    Runtime* runtime = nullptr;
    try {
      runtime = &host_.runtime();
    } catch (const std::exception&) {
      return;
    }
    // Wait for the runtime without blocking a thread that stops the channel while holding it.
    std::unique_lock<RecursiveLock> lock = runtime->try_lock();
    while (!lock.owns_lock()) {
      if (stopping_ || channel_->header().host_pid.load() == 0) return;
      std::this_thread::sleep_for(20us);
      lock = runtime->try_lock();
    }
    AgentFrame frame(
        pid_, slot, slot.kind == GA_HIT_CALL ? agent::Where::Entry : agent::Where::Return,
        &unwinder_, [this](std::size_t i, std::uint64_t pc) { return symbolize(i, pc); },
        info_.return_stub, [this](AgentFrame& f, std::string_view e) { return evaluate(f, e); });
    auto start = std::chrono::steady_clock::now();
    {
      py::gil_scoped_acquire gil;
      try {
        on_hit_(py::cast(&frame, py::return_value_policy::reference));
        agent::profile("deliveries", start);  // GROUTINES_AGENT_PROFILE, as under LLDB
      } catch (py::error_already_set& e) {
        report("groutines: error at an agent hit: " + describe_exception(e));
      } catch (const std::exception& e) {
        report(std::string("groutines: error at an agent hit: ") + e.what());
      }
    }
    {
      std::lock_guard<std::mutex> g(park_mutex_);
      parked_ = false;  // a thread parked for this delivery's evaluations may go
    }
    park_cv_.notify_all();
  }

  // --- evaluations ---

  // serve_park() serves the service thread's evaluations, at the park pad (the target
  // stopped), until its delivery ends. evaluate(expression) -> number is the frontend's.
  void serve_park(const py::object& evaluate) {
    py::gil_scoped_release nogil;
    std::unique_lock<std::mutex> g(park_mutex_);
    while (parked_ && !stopping_) {
      if (park_request_ && !park_request_->done) {
        ParkRequest& r = *park_request_;
        g.unlock();
        serve(r, evaluate);
        g.lock();
        continue;
      }
      park_cv_.wait_for(g, 10ms);
    }
  }

  // serve_pending() serves an evaluation asked for now, if any, with the target stopped
  // elsewhere (a thread waiting for the runtime at a breakpoint); the GIL held.
  void serve_pending(const py::object& evaluate) {
    py::gil_scoped_release nogil;
    ParkRequest* r = nullptr;
    {
      std::lock_guard<std::mutex> g(park_mutex_);
      if (park_request_ && !park_request_->done) r = park_request_;
    }
    if (r) serve(*r, evaluate);
  }

  // hold() holds the runtime's lock for the calling (frontend) thread, serving the service
  // thread's evaluations meanwhile: it may hold the lock and wait for one.
  std::unique_lock<RecursiveLock> hold(const py::object& evaluate) {
    Runtime& runtime = host_.runtime();
    std::unique_lock<RecursiveLock> lock;
    {
      py::gil_scoped_release nogil;
      lock = runtime.try_lock();
    }
    while (!lock.owns_lock()) {
      serve_pending(evaluate);
      py::gil_scoped_release nogil;
      std::this_thread::sleep_for(20us);
      lock = runtime.try_lock();
    }
    return lock;
  }

 private:
  void report(const std::string& text) {
    try {
      py::module_::import("sys").attr("stderr").attr("write")(text + "\n");
    } catch (py::error_already_set&) {
    }
  }

  StackFrame symbolize(std::size_t index, std::uint64_t pc) {
    {
      std::lock_guard<std::mutex> g(symbols_mutex_);
      if (symbols_changed_) {
        symbols_.clear();
        unwinder_.modules_changed();
        symbols_changed_ = false;
      }
    }
    auto cached = symbols_.find(pc);
    if (cached != symbols_.end()) return cached->second;
    agent::Symbol sym = unwinder_.symbolize(pc, index > 0);
    StackFrame frame{pc, std::move(sym.module), std::move(sym.function),
                     sym.start != 0 && pc > sym.start ? pc - sym.start : 0, std::move(sym.file),
                     sym.line};
    symbols_.emplace(pc, frame);
    return frame;
  }

  Value evaluate(AgentFrame& frame, std::string_view expression) {
    ParkRequest r;
    r.thread = frame.thread_id();
    r.regs = frame.slot().regs;
    r.expression = std::string(expression);
    {
      std::optional<py::gil_scoped_release> nogil;
      if (PyGILState_Check()) nogil.emplace();
      std::unique_lock<std::mutex> g(park_mutex_);
      park_request_ = &r;
      if (!parked_) {
        parked_ = true;
        channel_->park(frame.slot());
      }
      park_cv_.wait_for(g, 20s, [&] { return r.done || stopping_; });
      park_request_ = nullptr;
    }
    if (!r.done)
      throw Error("cannot evaluate '" + r.expression + "': the target did not stop for it");
    if (!r.error.empty()) throw Error(r.error);
    return r.result;
  }

  // serve() evaluates r with the frontend's evaluate (without the GIL: takes it).
  void serve(ParkRequest& r, const py::object& evaluate) {
    {
      py::gil_scoped_acquire gil;
      try {
        r.result = to_value(evaluate(from_text(agent::with_registers(r.expression, r.regs))));
      } catch (py::error_already_set& e) {
        r.error = agent::as_written(
            e.matches(error_type()) ? to_text(py::str(e.value())) : describe_exception(e),
            r.expression, r.regs);
      } catch (const std::exception& e) {
        r.error = e.what();
      }
    }
    std::lock_guard<std::mutex> g(park_mutex_);
    r.done = true;
    park_cv_.notify_all();
  }

  py::object host_object_;  // keeps the runtime alive
  HostedRuntime& host_;
  pid_t pid_;
  ga_info info_;
  py::object on_hit_;
  agent::Unwinder unwinder_;  // the service thread's
  agent::Unwinder lookup_;    // the frontend thread's (symbol())
  std::unique_ptr<agent::Channel> channel_;
  std::atomic<bool> stopping_{false};
  std::unordered_map<std::uint64_t, StackFrame> symbols_;  // the service thread's cache
  std::mutex symbols_mutex_;
  bool symbols_changed_ = false;
  std::mutex park_mutex_;
  std::condition_variable park_cv_;
  bool parked_ = false;
  ParkRequest* park_request_ = nullptr;
};

// Hold is `with session.hold(evaluate):`, the runtime's lock held by the frontend's thread.
class Hold {
 public:
  Hold(Session& session, py::object evaluate) : session_(session), evaluate_(std::move(evaluate)) {}
  void enter() { lock_ = session_.hold(evaluate_); }
  void exit() {
    if (lock_.owns_lock()) lock_.unlock();
  }

 private:
  Session& session_;
  py::object evaluate_;
  std::unique_lock<RecursiveLock> lock_;
};

// syscall_pc() is where thread tid of pid waits in a system call (/proc/PID/task/TID/syscall:
// "NR ARGS... SP PC"), or 0 when it runs user code.
std::uint64_t syscall_pc(pid_t pid, long tid) {
  std::string path = "/proc/" + std::to_string(pid) + "/task/" + std::to_string(tid) + "/syscall";
  FILE* f = std::fopen(path.c_str(), "r");
  if (!f) return 0;
  char line[512] = "";
  bool got = std::fgets(line, sizeof line, f) != nullptr;
  std::fclose(f);
  if (!got || std::strncmp(line, "running", 7) == 0) return 0;
  const char* last = std::strrchr(line, ' ');
  return last ? std::strtoull(last + 1, nullptr, 16) : 0;
}

// thread_pcs() are {tid: pc} of process pid's threads: as ptrace reads a thread stopped for
// this tracer (at an int3 it hit, the breakpoint's address), else where it waits in a system
// call, else None (it runs). Called on the
// debugger's own thread (the tracer), where the debugger's API may not read the other threads
// (inside a breakpoint's stop(), GDB's are running).
py::dict thread_pcs(pid_t pid) {
  py::dict out;
  std::string dir = "/proc/" + std::to_string(pid) + "/task";
  DIR* d = opendir(dir.c_str());
  if (!d) throw Error("cannot read " + dir);
  while (dirent* e = readdir(d)) {
    char* end = nullptr;
    long tid = std::strtol(e->d_name, &end, 10);
    if (tid <= 0 || *end != '\0') continue;
    user_regs_struct regs{};
    std::uint64_t pc = 0;
    if (ptrace(PTRACE_GETREGS, static_cast<pid_t>(tid), nullptr, &regs) == 0) {
      pc = regs.rip;
      // Stopped by an int3 the debugger has not seen yet: at the breakpoint, as the debugger
      // will have it (it backs the pc up when it takes the trap).
      siginfo_t info{};
      if (ptrace(PTRACE_GETSIGINFO, static_cast<pid_t>(tid), nullptr, &info) == 0 &&
          info.si_signo == SIGTRAP && info.si_code == SI_KERNEL)
        pc -= 1;
    } else {
      pc = syscall_pc(pid, tid);
    }
    out[py::int_(tid)] = pc ? py::object(py::int_(pc)) : py::object(py::none());
  }
  closedir(d);
  return out;
}

py::dict plan_dict(const agent::PatchPlan& plan) {
  py::dict d;
  d["function"] = plan.function;
  d["entry"] = plan.entry;
  d["window"] = plan.window;
  d["original"] = py::bytes(reinterpret_cast<const char*>(plan.original.data()), plan.original.size());
  return d;
}

agent::PatchPlan plan_of(const py::dict& d) {
  agent::PatchPlan plan;
  plan.function = d["function"].cast<std::uint64_t>();
  plan.entry = d["entry"].cast<std::uint64_t>();
  plan.window = d["window"].cast<std::size_t>();
  std::string original = d["original"].cast<py::bytes>();
  plan.original.assign(original.begin(), original.end());
  return plan;
}

py::bytes bytes_of(const std::vector<std::uint8_t>& v) {
  return py::bytes(reinterpret_cast<const char*>(v.data()), v.size());
}

}  // namespace

void bind_agent(py::module_& parent) {
  py::module_ m = parent.def_submodule(
      "agent", "The in-target agent's host side, for a debugger frontend written in Python (GDB).");
  m.def("library", &agent_library,
        "library() -> str: the agent library (libgroutines_agent.so) to preload, or ''.");
  m.def("preloadable", &agent::preloadable, py::arg("path"),
        "preloadable(path) -> str: path as LD_PRELOAD can hold it (a link to it in a private "
        "temporary directory when it has a blank, a colon or a quote), or ''.");
  m.attr("INFO_SIZE") = sizeof(ga_info);
  m.attr("HOST_PID_OFFSET") = offsetof(ga_header, host_pid);
  m.attr("TRAMPOLINE_MAX") = agent::kTrampolineMax;
  m.attr("POOL_SIZE") = agent::kPoolSize;
  m.attr("REACH") = agent::kReach;
  m.def(
      "parse_info",
      [](const py::bytes& bytes) {
        ga_info info = info_of(bytes);
        py::dict d;
        d["started"] = info.magic == GA_MAGIC;
        d["version"] = info.version;
        d["shm"] = info.shm;
        d["enter_stub"] = info.enter_stub;
        d["return_stub"] = info.return_stub;
        d["service_stub"] = info.service_stub;
        d["stop_pad"] = info.stop_pad;
        d["park_pad"] = info.park_pad;
        return d;
      },
      py::arg("info"), "parse_info(bytes) -> dict: the agent's ga_info, as read from the target.");
  m.def(
      "plan_patch",
      [](std::uint64_t function, const py::bytes& code) -> py::object {
        std::string bytes = code;
        auto plan = agent::plan_patch(function, reinterpret_cast<const std::uint8_t*>(bytes.data()),
                                      bytes.size());
        if (auto* why = std::get_if<std::string>(&plan)) return from_text(*why);
        return plan_dict(std::get<agent::PatchPlan>(plan));
      },
      py::arg("function"), py::arg("code"),
      "plan_patch(function, code) -> dict | str: the entry patch of the function whose whole "
      "body is code, or why it cannot be patched.");
  m.def(
      "build_trampoline",
      [](const py::dict& plan, std::uint64_t at, std::uint32_t index,
         std::uint64_t enter_stub) -> py::object {
        auto t = agent::build_trampoline(plan_of(plan), at, index, enter_stub);
        if (auto* why = std::get_if<std::string>(&t)) return from_text(*why);
        const agent::Trampoline& tr = std::get<agent::Trampoline>(t);
        return py::make_tuple(bytes_of(tr.bytes), tr.resume);
      },
      py::arg("plan"), py::arg("at"), py::arg("index"), py::arg("enter_stub"),
      "build_trampoline(plan, at, index, enter_stub) -> (bytes, resume offset) | str.");
  m.def(
      "entry_jump",
      [](std::uint64_t from, std::uint64_t to) { return bytes_of(agent::entry_jump(from, to)); },
      py::arg("at"), py::arg("to"));
  m.def("thread_pcs", &thread_pcs, py::arg("pid"),
        "thread_pcs(pid) -> {tid: pc | None}: where the stopped process's threads are (ptrace, "
        "from the tracer's thread).");
  m.def("pool_address_near", &agent::pool_address_near, py::arg("mapped"), py::arg("address"),
        "pool_address_near([(start, end)], address) -> int: where a trampoline pool fits near "
        "address (0: nowhere).");

  py::class_<AgentFrame, Frame>(
      m, "AgentFrame",
      "A target thread waiting in the agent at a hooked function's entry or a watched return. "
      "Valid during its delivery only.")
      .def_property_readonly("kind",
                             [](AgentFrame& f) {
                               switch (f.slot().kind) {
                                 case GA_HIT_CALL: return "call";
                                 case GA_HIT_RETURN: return "return";
                                 default: return "unwound";
                               }
                             })
      .def_property_readonly("hook", [](AgentFrame& f) { return f.slot().hook; })
      .def_property_readonly("call", [](AgentFrame& f) { return f.slot().call; })
      .def_property_readonly("thread", &AgentFrame::thread_id)
      .def_property_readonly("stack_pointer", &AgentFrame::stack_pointer)
      .def_property_readonly("skipped",
                             [](AgentFrame& f) { return (f.slot().reply & GA_REPLY_SKIP) != 0; })
      .def_property_readonly("watched_as",
                             [](AgentFrame& f) -> py::object {
                               if (!(f.slot().reply & GA_REPLY_WATCH)) return py::none();
                               return py::int_(f.slot().reply_call);
                             })
      .def(
          "use_layout",
          [](AgentFrame& f, const std::shared_ptr<Layout>& layout) {
            if (!layout) return;
            f.use_layout(std::shared_ptr<const sysv::ArgumentLayout>(layout, &layout->arguments));
            f.set_return_type(layout->returns);
          },
          py::arg("layout"), "use_layout(ArgumentLayout): the function's arguments and return.")
      .def("watch", &AgentFrame::watch, py::arg("call"))
      .def(
          "force_return", [](AgentFrame& f, py::handle v) { f.force_return(to_value(v)); },
          py::arg("value"))
      .def(
          "set_return_value", [](AgentFrame& f, py::handle v) { f.set_return_value(to_value(v)); },
          py::arg("value"))
      .def("stop", &AgentFrame::stop, "stop(): stop the thread at the host's stop pad.")
      .def("register_value", [](AgentFrame& f, const std::string& n) { return f.register_value(n); })
      .def("int_return_value", &AgentFrame::int_return_value)
      .def("float_return_value", &AgentFrame::float_return_value)
      .def("returns_float", &AgentFrame::returns_float)
      .def("registers_read", [](AgentFrame& f) {
        // The integer registers groutines read, as the event log shows them.
        py::dict d;
        std::string view = f.cached_view();
        std::size_t at = 0;
        while (at < view.size()) {
          std::size_t end = view.find(' ', at);
          std::string item = view.substr(at, end == std::string::npos ? end : end - at);
          std::size_t eq = item.find('=');
          if (eq != std::string::npos)
            d[py::str(item.substr(0, eq))] = static_cast<std::uint64_t>(std::stoll(item.substr(eq + 1)));
          if (end == std::string::npos) break;
          at = end + 1;
        }
        return d;
      });

  py::class_<Hold>(m, "Hold")
      .def("__enter__", &Hold::enter)
      .def("__exit__", [](Hold& h, py::args) { h.exit(); });

  py::class_<Session>(m, "Session",
                      "The host of one process's agent: its service thread delivers each hit.")
      .def(py::init([](py::object host, pid_t pid, const py::bytes& info, py::object on_hit) {
             if (!py::isinstance<HostedRuntime>(host))
               throw py::type_error("agent.Session(host, ...) takes a groutines.Runtime");
             ga_info parsed = info_of(info);
             return std::make_unique<Session>(std::move(host), pid, parsed, std::move(on_hit));
           }),
           py::arg("host"), py::arg("pid"), py::arg("info"), py::arg("on_hit"),
           "Session(runtime, pid, info, on_hit): serve the agent of process pid (info: its "
           "ga_info bytes); on_hit(AgentFrame) runs on the service thread, the runtime held. "
           "Raises groutines.Error saying why the agent cannot be served.")
      .def("stop", &Session::stop, py::call_guard<py::gil_scoped_release>(),
           "stop(): withdraw, answer every posted hit and end the service thread.")
      .def("withdraw", &Session::withdraw)
      .def_property_readonly("serving", &Session::serving)
      .def_property_readonly("pid", &Session::pid)
      .def("add_hook",
           [](Session& s, std::uint64_t entry) { return s.channel().add_hook(entry, 0); },
           py::arg("entry"), "add_hook(entry) -> index (-1: the table is full), enabled.")
      .def(
          "set_resume",
          [](Session& s, std::uint32_t index, std::uint64_t resume) {
            if (index < GA_MAX_HOOKS) s.channel().header().hooks[index].resume = resume;
          },
          py::arg("index"), py::arg("resume"))
      .def(
          "set_enabled",
          [](Session& s, std::uint32_t index, bool on) {
            if (s.serving() && index < GA_MAX_HOOKS) s.channel().set_enabled(index, on);
          },
          py::arg("index"), py::arg("on"))
      .def(
          "request_service",
          [](Session& s, std::uint64_t address, std::uint64_t size) {
            ga_service& service = s.channel().header().service;
            service.address = address;
            service.size = size;
            service.result = 0;
            service.state.store(1);
          },
          py::arg("address"), py::arg("size"),
          "request_service(address, size): ask the service stub to map a trampoline pool.")
      .def(
          "take_service",
          [](Session& s) -> py::object {
            ga_service& service = s.channel().header().service;
            py::object out = py::none();
            if (service.state.load() == 2) out = py::int_(service.result);
            service.state.store(0);
            return out;
          },
          "take_service() -> int | None: the mapped address (or -errno), None if not done; "
          "clears the request.")
      .def("status", [](Session& s) { return s.channel().status(); })
      .def(
          "return_addresses",
          [](Session& s) {
            // The threads' shadow stacks, read while the target may run: a snapshot.
            std::vector<std::pair<std::uint64_t, std::uint64_t>> out;
            for (std::uint32_t i = 0; s.serving() && i < GA_MAX_SLOTS; ++i) {
              ga_slot& slot = s.channel().slot(i);
              if (__atomic_load_n(&slot.tid, __ATOMIC_ACQUIRE) == 0) continue;
              for (std::uint32_t k = 0; k < slot.depth && k < GA_SHADOW_DEPTH; ++k)
                out.emplace_back(slot.shadow[k].original, slot.shadow[k].call);
            }
            return out;
          },
          "return_addresses() -> [(return address, call)]: the returns the agent watches.")
      .def("symbol", &Session::symbol, py::arg("pc"),
           "symbol(pc) -> (start, size) | None: the ELF symbol covering pc.")
      .def("modules_changed", &Session::modules_changed)
      .def("serve_park", &Session::serve_park, py::arg("evaluate"),
           "serve_park(evaluate): at the park pad, serve the delivery's evaluations until it "
           "ends.")
      .def(
          "hold", [](Session& s, py::object evaluate) { return Hold(s, std::move(evaluate)); },
          py::arg("evaluate"), py::keep_alive<0, 1>(),
          "hold(evaluate): `with` it to hold the runtime's lock on this thread.");
}

}  // namespace groutines::python
