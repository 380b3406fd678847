// measure.hpp: the harness that times a target run under LLDB and turns run times into a
// per-hit cost.
//
// A Scenario is one way of handling the hits of a breakpoint (a bare SB callback, a StepOut,
// the plugin with a groutine, ...). run_once() launches the target once under a debugger
// with that scenario and times it from Launch to exit; measure_slopes() runs it at two call
// counts and takes the slope, so launch, module loading and exit cost cancel, and
// interleaves scenarios so that slow drift of the machine hits all of them alike:
//
//   Scenario bare = ...;                       // see lldb_bare_bench.cpp
//   auto results = measure_slopes(debugger, "/path/bench_target", {bare, plugin}, {});
//   for (auto &r : results) std::printf("%s %.1f\n", r.name.c_str(), r.us_per_hit());
//   std::printf("plugin_over_bare %.3f\n", paired_ratio(results[1], results[0]));
//
// Every run checks the scenario handled exactly as many calls as the target made; a run
// that lost hits is an error, never a number.
#ifndef GROUTINES_BENCH_LLDB_MEASURE_HPP
#define GROUTINES_BENCH_LLDB_MEASURE_HPP

#include <lldb/API/LLDB.h>

#include <dirent.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cinttypes>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <initializer_list>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace groutines::bench {

// Scenario is one way of handling the calls of the target's hooked function, timed as a
// whole run of the target.
struct Scenario {
  // name is printed with the result, e.g. "bare_callback_us_per_hit".
  std::string name;

  // setup() prepares a freshly created target before it is launched (breakpoints, callbacks,
  // `groutine load`, ...) and resets the scenario's count of handled calls. It returns an
  // empty string or an error message.
  std::function<std::string(lldb::SBDebugger &, lldb::SBTarget &)> setup;

  // on_stop() is called for each thread stopped by a breakpoint when the process stops
  // (synchronous mode), before the runner continues the process. A scenario handling calls
  // in a callback that returns false must handle the call here too: in synchronous mode LLDB
  // can report the first hit after Launch as a plain stop without running the callback
  // (seen with LLDB 14; not reproduced with LLDB 19).
  std::function<void(lldb::SBProcess &, lldb::SBThread &)> on_stop;

  // handled() returns how many calls the scenario handled since setup().
  std::function<std::uint64_t()> handled;

  // verify(), if set, checks what the scenario saw in a run of `calls` calls (e.g. a sum of
  // the arguments it read) and returns an empty string or what was wrong.
  std::function<std::string(std::uint64_t calls)> verify;

  // low_calls and high_calls, when not 0, replace SlopeOptions' two call counts for this
  // scenario: a hit costing microseconds needs a hundred times the calls of one costing a
  // millisecond to be timed as well, and both are measured in the same run.
  std::uint64_t low_calls = 0;
  std::uint64_t high_calls = 0;

  // target_environment launches the target with the target's environment (the debugger's,
  // plus target.env-vars, where the plugin puts its agent in LD_PRELOAD) as `process launch`
  // does, instead of the empty one of a bare SBLaunchInfo.
  bool target_environment = false;

  // deadline_s, when not 0, bounds a run: one still going after that many seconds is ended
  // (SIGKILL to the target, which needs nothing of LLDB) and is an error, so that a hang or a
  // collapse of the scenario's cost stops the benchmark with a message instead of holding it.
  double deadline_s = 0;
};

// RunError is thrown when a run cannot be timed: the launch failed, the target crashed, or
// the scenario handled a different number of calls than the target made.
struct RunError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// RunTime is what one run of the target cost.
struct RunTime {
  // wall_s is the wall time from Launch to the exit of the target, in seconds.
  double wall_s = 0;
  // cpu_s is the CPU time (user + system) of the debugger, lldb-server and the target over
  // the whole run including target creation and teardown, in seconds, or -1 if LLDB had not
  // reaped the run's lldb-server within 5 s. Unlike wall_s, waiting for a CPU taken by other
  // work does not inflate it.
  double cpu_s = -1;
};

namespace detail {

// cpu_seconds() is the CPU time (user + system) of this process and of the children it has
// reaped; LLDB reaps each lldb-server it started, which has reaped its target.
inline double cpu_seconds() {
  double total = 0;
  for (int who : {RUSAGE_SELF, RUSAGE_CHILDREN}) {
    rusage usage{};
    getrusage(who, &usage);
    total += static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
             static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) * 1e-6;
  }
  return total;
}

// ProcStat is what debug_servers() needs of /proc/PID/stat.
struct ProcStat {
  long parent = -1;
  std::string command;
};

// proc_stat() reads /proc/PID/stat; parent stays -1 if the process is gone.
inline ProcStat proc_stat(long pid) {
  ProcStat stat;
  std::FILE *file = std::fopen(("/proc/" + std::to_string(pid) + "/stat").c_str(), "r");
  if (!file)
    return stat;
  char buffer[1024];
  const std::size_t size = std::fread(buffer, 1, sizeof buffer - 1, file);
  std::fclose(file);
  buffer[size] = '\0';
  // "PID (COMMAND) STATE PPID ...", where COMMAND may itself hold spaces and parentheses.
  const char *open = std::strchr(buffer, '(');
  const char *close = std::strrchr(buffer, ')');
  long ppid = 0;
  if (!open || !close || close < open || std::sscanf(close + 1, " %*c %ld", &ppid) != 1)
    return stat;
  stat.command.assign(open + 1, close);
  stat.parent = ppid;
  return stat;
}

// debug_servers() lists the lldb-server processes this process started that are still
// there (running or not yet reaped), found by scanning /proc.
inline std::set<long> debug_servers() {
  std::set<long> servers;
  DIR *proc = opendir("/proc");
  if (!proc)
    return servers;
  const long self = static_cast<long>(getpid());
  while (const dirent *entry = readdir(proc)) {
    char *end = nullptr;
    const long pid = std::strtol(entry->d_name, &end, 10);
    if (pid <= 0 || *end != '\0')
      continue;
    const ProcStat stat = proc_stat(pid);
    if (stat.parent == self && stat.command == "lldb-server")
      servers.insert(pid);
  }
  closedir(proc);
  return servers;
}

// wait_for_reaping() waits until none of the lldb-servers not in `before` is left (LLDB reaps
// each one on its own thread, some time after the target exits), for at most timeout.
// Returns false on timeout.
inline bool wait_for_reaping(const std::set<long> &before, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    bool left = false;
    for (long pid : debug_servers())
      left = left || before.count(pid) == 0;
    if (!left)
      return true;
    if (std::chrono::steady_clock::now() > deadline)
      return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

// kill_debuggees() sends SIGKILL to the processes debugged by the lldb-servers this process
// started that are not in `servers_before` (the target is the child of its lldb-server).
inline void kill_debuggees(const std::set<long> &servers_before) {
  std::set<long> servers;
  for (long pid : debug_servers())
    if (servers_before.count(pid) == 0)
      servers.insert(pid);
  if (servers.empty())
    return;
  DIR *proc = opendir("/proc");
  if (!proc)
    return;
  while (const dirent *entry = readdir(proc)) {
    char *end = nullptr;
    const long pid = std::strtol(entry->d_name, &end, 10);
    if (pid > 0 && *end == '\0' && servers.count(proc_stat(pid).parent))
      ::kill(static_cast<pid_t>(pid), SIGKILL);
  }
  closedir(proc);
}

// Watchdog runs on_timeout() on a thread of its own if it is still watching `seconds` after
// it was made (0: never), and says whether it did; it is done when stopped or destroyed.
class Watchdog {
public:
  Watchdog(double seconds, std::function<void()> on_timeout) {
    if (seconds <= 0)
      return;
    thread_ = std::thread([this, seconds, on_timeout = std::move(on_timeout)] {
      std::unique_lock<std::mutex> lock(mutex_);
      if (!done_cv_.wait_for(lock, std::chrono::duration<double>(seconds), [this] { return done_; })) {
        fired_ = true;
        on_timeout();
      }
    });
  }
  Watchdog(const Watchdog &) = delete;
  Watchdog &operator=(const Watchdog &) = delete;
  ~Watchdog() { stop(); }

  // stop() ends the watch (before the process's id can be reused) and tells whether it fired.
  bool stop() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      done_ = true;
    }
    done_cv_.notify_all();
    if (thread_.joinable())
      thread_.join();
    return fired_;
  }

private:
  std::mutex mutex_;
  std::condition_variable done_cv_;
  bool done_ = false;
  std::atomic<bool> fired_{false};
  std::thread thread_;
};

// run_target() launches target with argv[1] = calls, handles stops until it exits and
// returns the wall time from Launch to exit.
inline double run_target(lldb::SBTarget &target, std::uint64_t calls,
                         const Scenario &scenario) {
  const std::string count = std::to_string(calls);
  const char *argv[] = {count.c_str(), nullptr};
  lldb::SBLaunchInfo info(argv);
  if (scenario.target_environment) {
    info = target.GetLaunchInfo();
    info.SetArguments(argv, /*append=*/false);
  }
  info.AddOpenFileAction(1, "/dev/null", false, true);

  // In synchronous mode Launch returns at the first stop: the watch starts before it, and
  // finds the target as the child of the run's new lldb-server.
  const std::set<long> servers_before =
      scenario.deadline_s > 0 ? debug_servers() : std::set<long>{};
  Watchdog watchdog(scenario.deadline_s, [&servers_before] { kill_debuggees(servers_before); });
  lldb::SBError error;
  const auto start = std::chrono::steady_clock::now();
  lldb::SBProcess process = target.Launch(info, error);
  if (!process.IsValid() || error.Fail()) {
    if (watchdog.stop())
      throw RunError(scenario.name + ": the run did not reach its first stop within " +
                     std::to_string(static_cast<long>(scenario.deadline_s)) + " s and was killed");
    throw RunError(scenario.name + ": launch: " +
                   (error.GetCString() ? error.GetCString() : "unknown error"));
  }
  // throw_if_killed() ends the watch and throws if the watchdog ended the run.
  auto throw_if_killed = [&] {
    if (watchdog.stop())
      throw RunError(scenario.name + ": a run of " + std::to_string(calls) +
                     " calls did not end within " +
                     std::to_string(static_cast<long>(scenario.deadline_s)) + " s and was killed");
  };
  for (;;) {
    const lldb::StateType state = process.GetState();
    if (state == lldb::eStateExited)
      break;
    if (state != lldb::eStateStopped) {
      throw_if_killed();
      throw RunError(scenario.name + ": target ended in state " +
                     lldb::SBDebugger::StateAsCString(state));
    }
    if (scenario.on_stop) {
      const std::uint32_t threads = process.GetNumThreads();
      for (std::uint32_t i = 0; i < threads; ++i) {
        lldb::SBThread thread = process.GetThreadAtIndex(i);
        if (thread.GetStopReason() == lldb::eStopReasonBreakpoint)
          scenario.on_stop(process, thread);
      }
    }
    // A crash stops the target with a signal; continuing delivers it and the run ends in
    // eStateExited with a nonzero status, caught below.
    error = process.Continue();
    if (error.Fail()) {
      throw_if_killed();
      throw RunError(scenario.name + ": continue: " + error.GetCString());
    }
  }
  const auto end = std::chrono::steady_clock::now();
  throw_if_killed();
  if (process.GetExitStatus() != 0)
    throw RunError(scenario.name + ": target exited with status " +
                   std::to_string(process.GetExitStatus()));
  return std::chrono::duration<double>(end - start).count();
}

} // namespace detail

// run_once() creates a target for target_path, applies scenario.setup(), launches it with
// argv[1] = calls (its stdout to /dev/null), handles stops until it exits, deletes the
// target and checks the scenario handled every call. The debugger must be in synchronous
// mode. Throws RunError.
inline RunTime run_once(lldb::SBDebugger &debugger, const std::string &target_path,
                        std::uint64_t calls, const Scenario &scenario) {
  RunTime time;
  const std::set<long> servers_before = detail::debug_servers();
  const double cpu_start = detail::cpu_seconds();
  {
    lldb::SBError error;
    lldb::SBTarget target = debugger.CreateTarget(target_path.c_str(), nullptr, nullptr,
                                                  /*add_dependent_modules=*/true, error);
    if (!target.IsValid())
      throw RunError("cannot create a target for '" + target_path + "': " +
                     (error.GetCString() ? error.GetCString() : "unknown error"));
    struct TargetGuard {
      lldb::SBDebugger &debugger;
      lldb::SBTarget &target;
      ~TargetGuard() {
        lldb::SBProcess process = target.GetProcess();
        if (process.IsValid() && process.GetState() != lldb::eStateExited)
          process.Kill();
        debugger.DeleteTarget(target);
      }
    } guard{debugger, target};

    if (std::string message = scenario.setup(debugger, target); !message.empty())
      throw RunError(scenario.name + ": setup: " + message);
    time.wall_s = detail::run_target(target, calls, scenario);
  }
  if (detail::wait_for_reaping(servers_before, std::chrono::seconds(5)))
    time.cpu_s = detail::cpu_seconds() - cpu_start;

  if (const std::uint64_t handled = scenario.handled(); handled != calls)
    throw RunError(scenario.name + ": handled " + std::to_string(handled) + " of " +
                   std::to_string(calls) + " calls");
  if (scenario.verify)
    if (std::string message = scenario.verify(calls); !message.empty())
      throw RunError(scenario.name + ": " + message);
  return time;
}

// SlopeOptions are the two call counts the slope is taken between and how many times.
struct SlopeOptions {
  std::uint64_t low_calls = 1000;
  std::uint64_t high_calls = 3000;
  int repetitions = 3;
  // warmup runs every scenario once at low_calls first, untimed: the first launch of a
  // session also pays for loading the target's and libc's symbols and debug info.
  bool warmup = true;
  // log, if set, receives one line per timed run: scenario, calls, seconds.
  std::FILE *log = nullptr;
  // max_run_s, when not 0 (and with warmup), lowers a scenario's high call count after its
  // warm-up run so that a run is expected to last at most about max_run_s at the warm-up's
  // time per call (launch included, so an overestimate), never below twice the low count: a
  // scenario whose cost collapsed by a hundredfold still ends in time. Each Slope says the
  // counts it used.
  double max_run_s = 0;
};

// median() is the median of samples (0 if there are none).
inline double median(std::vector<double> samples) {
  std::sort(samples.begin(), samples.end());
  const std::size_t n = samples.size();
  if (n == 0)
    return 0.0;
  return n % 2 ? samples[n / 2] : (samples[n / 2 - 1] + samples[n / 2]) / 2.0;
}

// Slope is the result of one scenario: one per-call cost (µs) per repetition, in wall time
// and in CPU time of the three processes.
struct Slope {
  std::string name;
  std::vector<double> wall_us;
  std::vector<double> cpu_us;
  // low_calls and high_calls are the call counts the samples were taken between.
  std::uint64_t low_calls = 0;
  std::uint64_t high_calls = 0;
  // us_per_hit() is the median wall-time cost of one call.
  double us_per_hit() const { return median(wall_us); }
  // cpu_us_per_hit() is the median CPU-time cost of one call (0 if CPU time was unreadable).
  double cpu_us_per_hit() const { return median(cpu_us); }
};

// Samples picks the samples a paired figure is taken over: &Slope::wall_us or &Slope::cpu_us.
using Samples = std::vector<double> Slope::*;

// paired() is the median over repetitions of combine(a, b), each pair of samples taken within
// one repetition, so that drift of the machine between repetitions cancels. Pairs for which
// combine() gives nullopt are left out; 0 if none is left.
template <class Combine>
double paired(const Slope &a, const Slope &b, Samples samples, Combine combine) {
  std::vector<double> values;
  const auto &left = a.*samples;
  const auto &right = b.*samples;
  for (std::size_t i = 0; i < std::min(left.size(), right.size()); ++i)
    if (std::optional<double> v = combine(left[i], right[i]))
      values.push_back(*v);
  return median(values);
}

// paired_ratio() is the paired median of numerator / denominator (wall time unless samples
// says otherwise): the figure to compare a scenario against a peer with.
inline double paired_ratio(const Slope &numerator, const Slope &denominator,
                           Samples samples = &Slope::wall_us) {
  return paired(numerator, denominator, samples, [](double n, double d) {
    return d > 0 ? std::optional<double>(n / d) : std::nullopt;
  });
}

// paired_difference() is the paired median of minuend - subtrahend (µs per hit, wall time
// unless samples says otherwise).
inline double paired_difference(const Slope &minuend, const Slope &subtrahend,
                                Samples samples = &Slope::wall_us) {
  return paired(minuend, subtrahend, samples,
                [](double m, double s) { return std::optional<double>(m - s); });
}

// measure_slopes() times every scenario at its two call counts (options.low_calls and
// options.high_calls unless the scenario sets its own), options.repetitions times (after a
// warm-up run of each), scenarios interleaved within each repetition, and returns one Slope
// per scenario, in order; each sample is (t_high - t_low) / (high_calls - low_calls).
// Throws RunError.
inline std::vector<Slope> measure_slopes(lldb::SBDebugger &debugger,
                                         const std::string &target_path,
                                         const std::vector<Scenario> &scenarios,
                                         const SlopeOptions &options) {
  auto low_calls = [&](const Scenario &s) { return s.low_calls ? s.low_calls : options.low_calls; };
  auto high_calls = [&](const Scenario &s) {
    return s.high_calls ? s.high_calls : options.high_calls;
  };
  std::vector<Slope> slopes;
  for (const Scenario &scenario : scenarios) {
    if (high_calls(scenario) <= low_calls(scenario))
      throw RunError("measure_slopes: " + scenario.name + ": high_calls must exceed low_calls");
    slopes.push_back(Slope{scenario.name, {}, {}, low_calls(scenario), high_calls(scenario)});
  }
  if (options.warmup)
    for (std::size_t s = 0; s < scenarios.size(); ++s) {
      Slope &slope = slopes[s];
      const RunTime warm = run_once(debugger, target_path, slope.low_calls, scenarios[s]);
      const double per_call = warm.wall_s / static_cast<double>(slope.low_calls);
      if (options.max_run_s > 0 && per_call * static_cast<double>(slope.high_calls) > options.max_run_s) {
        slope.high_calls = std::max(static_cast<std::uint64_t>(options.max_run_s / per_call),
                                    2 * slope.low_calls);
        std::fprintf(stderr, "note: %s: %llu calls at most a run (the warm-up took %.1f us a call)\n",
                     slope.name.c_str(), static_cast<unsigned long long>(slope.high_calls),
                     per_call * 1e6);
      }
    }
  for (int rep = 0; rep < options.repetitions; ++rep) {
    for (std::size_t s = 0; s < scenarios.size(); ++s) {
      const std::uint64_t low_n = slopes[s].low_calls, high_n = slopes[s].high_calls;
      const double extra_calls = static_cast<double>(high_n - low_n);
      const RunTime low = run_once(debugger, target_path, low_n, scenarios[s]);
      const RunTime high = run_once(debugger, target_path, high_n, scenarios[s]);
      if (options.log)
        std::fprintf(options.log, "  run %s: %llu calls %.3f s (cpu %.3f s), %llu calls %.3f s (cpu %.3f s)\n",
                     scenarios[s].name.c_str(), static_cast<unsigned long long>(low_n),
                     low.wall_s, low.cpu_s, static_cast<unsigned long long>(high_n),
                     high.wall_s, high.cpu_s);
      slopes[s].wall_us.push_back((high.wall_s - low.wall_s) / extra_calls * 1e6);
      if (low.cpu_s >= 0 && high.cpu_s >= 0)
        slopes[s].cpu_us.push_back((high.cpu_s - low.cpu_s) / extra_calls * 1e6);
    }
  }
  return slopes;
}

// DebuggerSession initializes LLDB, points it at lldb-server unless LLDB_DEBUGSERVER_PATH is
// already set, and owns one synchronous debugger without init files for its lifetime.
class DebuggerSession {
public:
  explicit DebuggerSession(const char *debugserver = "/usr/lib/llvm-19/bin/lldb-server") {
    setenv("LLDB_DEBUGSERVER_PATH", debugserver, /*overwrite=*/0);
    lldb::SBDebugger::Initialize();
    debugger_ = lldb::SBDebugger::Create(/*source_init_files=*/false);
    debugger_.SetAsync(false);
  }
  DebuggerSession(const DebuggerSession &) = delete;
  DebuggerSession &operator=(const DebuggerSession &) = delete;
  ~DebuggerSession() {
    lldb::SBDebugger::Destroy(debugger_);
    lldb::SBDebugger::Terminate();
  }

  // debugger() is the session's debugger.
  lldb::SBDebugger &debugger() { return debugger_; }

private:
  lldb::SBDebugger debugger_;
};

// run_command() runs an LLDB command; returns an empty string or the command and its error.
// output, if given, receives what the command printed.
inline std::string run_command(lldb::SBDebugger &debugger, const std::string &command,
                               std::string *output = nullptr) {
  lldb::SBCommandReturnObject result;
  debugger.GetCommandInterpreter().HandleCommand(command.c_str(), result);
  if (output)
    *output = result.GetOutput() ? result.GetOutput() : "";
  if (result.Succeeded())
    return {};
  return command + ": " + (result.GetError() ? result.GetError() : "failed");
}

// parse_slope_options() reads [--calls LOW,HIGH] [--reps N] [--verbose] into options;
// false (after printing the usage of program) on anything else.
inline bool parse_slope_options(int argc, char **argv, SlopeOptions &options) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--calls" && i + 1 < argc &&
        std::sscanf(argv[++i], "%" SCNu64 ",%" SCNu64, &options.low_calls,
                    &options.high_calls) == 2) {
    } else if (arg == "--reps" && i + 1 < argc) {
      options.repetitions = std::atoi(argv[++i]);
    } else if (arg == "--verbose") {
      options.log = stderr;
    } else {
      std::fprintf(stderr, "usage: %s [--calls LOW,HIGH] [--reps N] [--verbose]\n", argv[0]);
      return false;
    }
  }
  return options.repetitions > 0 && options.high_calls > options.low_calls;
}

} // namespace groutines::bench

#endif
