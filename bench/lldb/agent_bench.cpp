// agent_bench: what a hit costs on the agent transport, against the breakpoint transport and a
// bare LLDB breakpoint callback, and where the agent path's cost goes, in the same run.
//
// All scenarios run agent_target (hot() patchable, see agent_target.c) and are interleaved
// within each repetition. Prints (µs: slope between two call counts, median of repetitions):
//   bare_callback_us_per_hit          bare C++ SB callback reading rdi and rsi (LLDB's stop)
//   cpp_breakpoint_us_per_hit         the plugin, breakpoint transport, C++ groutine reading
//                                     call.arg(0) and call.arg(1) (groutines/examples/bench.cpp)
//   cpp_agent_us_per_hit              the same groutine on the agent transport
//   cpp_agent_us_per_call_return      agent, C++ groutine reading both arguments, then
//                                     call.returned().value() (examples/bench_returns.cpp)
//   python_agent_us_per_call_return   agent, the same in Python (agent_returns.py)
//   no_hook_us_per_hit                no groutine: hot() runs natively under the debugger
//   released_us_per_hit               agent, hot patched but held by nobody: trampoline and
//                                     entry stub only (groutine_released.cpp)
//   held_us_per_hit                   agent, hot held by a groutine waiting on something
//                                     else: each call handed to the debugger and back, to no
//                                     groutine (groutine_held.cpp)
//   take_calls_us_per_hit             agent, delivered to a groutine that reads nothing
//                                     (groutine_take_calls.cpp)
//   python_agent_us_per_hit           agent, a Python groutine reading two arguments
//                                     (bench_groutines.py)
// then the ratios against their peers (paired: each a median of ratios taken within one
// repetition) with the targets, and the breakdown of the agent path by subtraction (paired
// differences), in wall and CPU time of debugger, lldb-server and target.
//
// Every run checks that the calls were handled by the transport it names (the agent's own
// counters, read at a stop in bench_done()), so that a fallback is an error, not a number.
// Each scenario's samples go to stderr with its call counts, and the load average is printed
// at the start and the end: the agent's handoff wants the target's thread and the debugger's
// service thread on two CPUs at once, and on a 2-vCPU machine doing other work its cost per
// hit can differ twentyfold between two runs (a breakpoint's does not).
//
// Usage: agent_bench [--calls LOW,HIGH] [--agent-calls LOW,HIGH] [--python-calls LOW,HIGH]
//                    [--reps N] [--max-run S] [--deadline S] [--verbose]
//   --calls         the scenarios that stop the target at each hit (default 200,1000)
//   --agent-calls   the C++ agent scenarios and no_hook (default 5000,405000)
//   --python-calls  the Python agent scenarios (default 5000,105000)
//   --reps          repetitions (default 3)
//   --max-run       a scenario whose warm-up shows a run would take longer gets fewer calls
//                   (default 15 s; 0: never)
//   --deadline      a run still going after this long is killed, an error (default 120 s)
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "agent_scenarios.hpp"
#include "bare_scenarios.hpp"

namespace {

namespace gb = groutines::bench;

struct Options {
  gb::SlopeOptions slope;
  std::uint64_t agent_low = 5000, agent_high = 405000;
  std::uint64_t python_low = 5000, python_high = 105000;
  // deadline_s bounds every run: a hang is an error, not a stuck `make bench`.
  double deadline_s = 120;
};

bool parse_pair(const char *text, std::uint64_t &low, std::uint64_t &high) {
  return std::sscanf(text, "%" SCNu64 ",%" SCNu64, &low, &high) == 2 && high > low && low >= 2;
}

bool parse_options(int argc, char **argv, Options &o) {
  o.slope.low_calls = 200;
  o.slope.high_calls = 1000;
  o.slope.max_run_s = 15;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool value = i + 1 < argc;
    if (arg == "--calls" && value) {
      if (!parse_pair(argv[++i], o.slope.low_calls, o.slope.high_calls)) return false;
    } else if (arg == "--agent-calls" && value) {
      if (!parse_pair(argv[++i], o.agent_low, o.agent_high)) return false;
    } else if (arg == "--python-calls" && value) {
      if (!parse_pair(argv[++i], o.python_low, o.python_high)) return false;
    } else if (arg == "--reps" && value) {
      o.slope.repetitions = std::atoi(argv[++i]);
    } else if (arg == "--max-run" && value) {
      o.slope.max_run_s = std::atof(argv[++i]);
    } else if (arg == "--deadline" && value) {
      o.deadline_s = std::atof(argv[++i]);
    } else if (arg == "--verbose") {
      o.slope.log = stderr;
    } else {
      return false;
    }
  }
  return o.slope.repetitions > 0;
}

// alone() is scenario run with no groutine loaded in the plugin, so that nothing the scenario
// before it loaded is left in the debugger.
gb::Scenario alone(gb::Scenario scenario) {
  auto setup = scenario.setup;
  scenario.setup = [setup](lldb::SBDebugger &debugger, lldb::SBTarget &target) -> std::string {
    debugger.SetSelectedTarget(target);
    if (std::string e = gb::load_plugin(debugger, GROUTINES_BENCH_PLUGIN); !e.empty()) return e;
    if (std::string e = gb::run_command(debugger, "groutine unload --all"); !e.empty()) return e;
    return setup(debugger, target);
  };
  return scenario;
}

// Index names the scenarios, in the order measured.
enum Index {
  kBare,
  kCppBreakpoint,
  kCppAgent,
  kCppPair,
  kPythonPair,
  kNoHook,
  kReleased,
  kHeld,
  kTakeCalls,
  kPythonAgent,
  kCount
};

std::vector<gb::Scenario> scenarios(const Options &o) {
  const std::string plugin = GROUTINES_BENCH_PLUGIN, dir = GROUTINES_BENCH_DIR;
  auto fast = [&](gb::Scenario s) { return gb::with_calls(std::move(s), o.agent_low, o.agent_high); };
  auto python = [&](gb::Scenario s) {
    return gb::with_calls(std::move(s), o.python_low, o.python_high);
  };
  std::vector<gb::Scenario> s(kCount);
  s[kBare] = alone(gb::bare_callback());
  s[kCppBreakpoint] = gb::plugin_run("cpp_breakpoint_us_per_hit", plugin, "breakpoint",
                                     GROUTINES_BENCH_ARGS_LIBRARY,
                                     gb::delivered_to("read-two-args", 1), gb::expect_breakpoints());
  s[kCppAgent] = fast(gb::plugin_run("cpp_agent_us_per_hit", plugin, "agent",
                                     GROUTINES_BENCH_ARGS_LIBRARY,
                                     gb::delivered_to("read-two-args", 1), gb::expect_agent(1)));
  s[kCppPair] = fast(gb::plugin_run("cpp_agent_us_per_call_return", plugin, "agent",
                                    GROUTINES_BENCH_RETURNS_LIBRARY,
                                    gb::delivered_to("read-args-and-return", 2),
                                    gb::expect_agent(2)));
  s[kPythonPair] = python(gb::plugin_run("python_agent_us_per_call_return", plugin, "agent",
                                         dir + "/agent_returns.py",
                                         gb::delivered_to("read-args-and-return-py", 2),
                                         gb::expect_agent(2)));
  s[kNoHook] = fast(gb::plugin_run("no_hook_us_per_hit", plugin, "agent", "",
                                   gb::made_by_target(), nullptr));
  s[kReleased] = fast(gb::plugin_run("released_us_per_hit", plugin, "agent",
                                     GROUTINES_BENCH_RELEASED_LIBRARY,
                                     gb::delivered_or_passed("released"), gb::expect_released()));
  s[kHeld] = fast(gb::plugin_run("held_us_per_hit", plugin, "agent", GROUTINES_BENCH_HELD_LIBRARY,
                                 gb::host_hits(), gb::expect_agent(1)));
  s[kTakeCalls] = fast(gb::plugin_run("take_calls_us_per_hit", plugin, "agent",
                                      GROUTINES_BENCH_TAKE_CALLS_LIBRARY,
                                      gb::delivered_to("take-calls", 1), gb::expect_agent(1)));
  s[kPythonAgent] = python(gb::plugin_run("python_agent_us_per_hit", plugin, "agent",
                                          dir + "/bench_groutines.py",
                                          gb::delivered_to("read-two-args-py", 1),
                                          gb::expect_agent(1)));
  for (gb::Scenario &scenario : s) scenario.deadline_s = o.deadline_s;
  return s;
}

const char *verdict(bool met) { return met ? "met" : "NOT met"; }

// load_average() is the first line of /proc/loadavg: other work on the machine moves the
// agent's figures by more than the breakpoints' (its handoff needs two CPUs at once).
std::string load_average() {
  char line[128] = "?";
  if (std::FILE *f = std::fopen("/proc/loadavg", "r")) {
    if (!std::fgets(line, sizeof line, f)) std::snprintf(line, sizeof line, "?");
    std::fclose(f);
  }
  std::string text = line;
  if (!text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

void report(const std::vector<gb::Slope> &r) {
  for (const auto &slope : r) {
    std::printf("%s %.2f\n", slope.name.c_str(), slope.us_per_hit());
    std::fprintf(stderr, "  %s wall samples (us):", slope.name.c_str());
    for (double sample : slope.wall_us) std::fprintf(stderr, " %.2f", sample);
    std::fprintf(stderr, "  [calls %" PRIu64 " -> %" PRIu64 "]\n", slope.low_calls,
                 slope.high_calls);
  }

  std::printf("\n# 1. per hit, C++ groutine reading two arguments\n");
  const double bare_over_agent = gb::paired_ratio(r[kBare], r[kCppAgent]);
  const double agent_hit = r[kCppAgent].us_per_hit();
  std::printf("bare_callback_over_cpp_agent %.1f (target >= 100): %s\n", bare_over_agent,
              verdict(bare_over_agent >= 100));
  std::printf("cpp_breakpoint_over_cpp_agent %.1f\n", gb::paired_ratio(r[kCppBreakpoint], r[kCppAgent]));
  std::printf("cpp_breakpoint_over_bare_callback %.3f\n", gb::paired_ratio(r[kCppBreakpoint], r[kBare]));
  std::printf("cpp_agent_us_per_hit %.2f (target <= 10): %s\n", agent_hit, verdict(agent_hit <= 10));

  std::printf("\n# 2. call + return pair on the agent transport\n");
  const double cpp_pair = r[kCppPair].us_per_hit(), python_pair = r[kPythonPair].us_per_hit();
  const double python_over_cpp = gb::paired_ratio(r[kPythonPair], r[kCppPair]);
  std::printf("cpp_agent_us_per_call_return %.2f (target <= 20): %s\n", cpp_pair,
              verdict(cpp_pair <= 20));
  std::printf("python_agent_us_per_call_return %.2f (target <= 20): %s\n", python_pair,
              verdict(python_pair <= 20));
  std::printf("python_over_cpp_agent_call_return %.2f (target <= 2): %s\n", python_over_cpp,
              verdict(python_over_cpp <= 2));

  std::printf("\n# 4. where an agent hit's cost goes (µs per call; step = paired difference "
              "from the row above)\n");
  std::printf("%-44s %9s %9s %9s %9s\n", "scenario", "wall", "step", "cpu", "cpu step");
  struct Row {
    Index index;
    Index above;
    const char *what;
  };
  const Row rows[] = {
      {kNoHook, kNoHook, "no hook (native call under the debugger)"},
      {kReleased, kNoHook, "patched, nobody holds it (trampoline+stub)"},
      {kHeld, kReleased, "held, nobody waits (handoff to the host)"},
      {kTakeCalls, kHeld, "delivered to a C++ groutine doing nothing"},
      {kCppAgent, kTakeCalls, "C++ groutine reading two arguments"},
      {kPythonAgent, kCppAgent, "Python groutine reading two arguments"},
      {kCppPair, kCppAgent, "C++ call + return (from C++ reading args)"},
      {kPythonPair, kCppPair, "Python call + return (from C++ call+return)"},
  };
  for (const Row &row : rows) {
    const gb::Slope &s = r[row.index];
    if (row.index == row.above) {
      std::printf("%-44s %9.2f %9s %9.2f %9s\n", row.what, s.us_per_hit(), "-", s.cpu_us_per_hit(), "-");
      continue;
    }
    std::printf("%-44s %9.2f %+9.2f %9.2f %+9.2f\n", row.what, s.us_per_hit(),
                gb::paired_difference(s, r[row.above]), s.cpu_us_per_hit(),
                gb::paired_difference(s, r[row.above], &gb::Slope::cpu_us));
  }
}

}  // namespace

int main(int argc, char **argv) {
  Options options;
  if (!parse_options(argc, argv, options)) {
    std::fprintf(stderr,
                 "usage: %s [--calls LOW,HIGH] [--agent-calls LOW,HIGH] [--python-calls LOW,HIGH] "
                 "[--reps N] [--max-run S] [--deadline S] [--verbose]\n",
                 argv[0]);
    return 2;
  }
  gb::DebuggerSession session(GROUTINES_BENCH_DEBUGSERVER);
  try {
    std::printf("# agent_bench: loadavg at start %s\n", load_average().c_str());
    std::fflush(stdout);
    auto slopes = gb::measure_slopes(session.debugger(), GROUTINES_BENCH_AGENT_TARGET,
                                     scenarios(options), options.slope);
    std::printf("# loadavg at end %s\n", load_average().c_str());
    report(slopes);
  } catch (const gb::RunError &e) {
    std::fprintf(stderr, "error: agent_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
