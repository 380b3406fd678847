// lldb_bare_bench: what bare LLDB costs per hit, the baseline the plugin is measured against.
//
// Runs bench_target under LLDB 19 through the SB API and prints, one line each:
//   bare_callback_us_per_hit X         a breakpoint on hot() whose C++ SB callback reads rdi
//                                      and rsi with SBFrame::FindRegister and returns false
//   bare_stepout_us_per_call_return X  a breakpoint on hot() stopping the process, then
//                                      SBThread::StepOut + GetStopReturnValue (sync mode)
// then the same two in CPU time of debugger + lldb-server + target (bare_callback_cpu_us_per_hit,
// bare_stepout_cpu_us_per_call_return), which waiting for a CPU taken by other work does not
// inflate (a saturated VM still makes it vary).
// X is the slope between two call counts (launch cost cancels), median of the repetitions;
// the samples go to stderr. See measure.hpp for the method.
//
// Usage: lldb_bare_bench [--calls LOW,HIGH] [--reps N] [--pin CPU] [--target PATH] [--verbose]
//   --pin CPU runs the debugger, lldb-server and the target on that one CPU (they inherit
//   the affinity), which on a small VM removes most cross-CPU wake-up cost.
//   --verbose prints every timed run to stderr.
#include "bare_scenarios.hpp"

#include <sched.h>

#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace {

using groutines::bench::bare_callback;
using groutines::bench::bare_stepout;

// cpu_name() turns "x_us_per_y" into "x_cpu_us_per_y".
std::string cpu_name(const std::string &name) {
  const std::size_t at = name.find("_us_per_");
  return at == std::string::npos ? name + "_cpu" : name.substr(0, at) + "_cpu" + name.substr(at);
}

struct Options {
  groutines::bench::SlopeOptions slope;
  int pin_cpu = -1;
  std::string target = GROUTINES_BENCH_TARGET;
};

bool parse_options(int argc, char **argv, Options &options) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--calls" && has_value) {
      if (std::sscanf(argv[++i], "%" SCNu64 ",%" SCNu64, &options.slope.low_calls,
                      &options.slope.high_calls) != 2)
        return false;
    } else if (arg == "--reps" && has_value) {
      options.slope.repetitions = std::atoi(argv[++i]);
    } else if (arg == "--pin" && has_value) {
      options.pin_cpu = std::atoi(argv[++i]);
    } else if (arg == "--verbose") {
      options.slope.log = stderr;
    } else if (arg == "--target" && has_value) {
      options.target = argv[++i];
    } else {
      return false;
    }
  }
  return options.slope.repetitions > 0 && options.slope.high_calls > options.slope.low_calls;
}

} // namespace

int main(int argc, char **argv) {
  Options options;
  if (!parse_options(argc, argv, options)) {
    std::fprintf(stderr, "usage: %s [--calls LOW,HIGH] [--reps N] [--pin CPU] [--target PATH] [--verbose]\n",
                 argv[0]);
    return 2;
  }
  if (options.pin_cpu >= 0) {
    cpu_set_t cpus;
    CPU_ZERO(&cpus);
    CPU_SET(options.pin_cpu, &cpus);
    if (sched_setaffinity(0, sizeof cpus, &cpus) != 0) {
      std::perror("lldb_bare_bench: --pin");
      return 2;
    }
  }

  groutines::bench::DebuggerSession session(GROUTINES_BENCH_DEBUGSERVER);
  try {
    const std::vector<groutines::bench::Slope> slopes = groutines::bench::measure_slopes(
        session.debugger(), options.target, {bare_callback(), bare_stepout()}, options.slope);
    for (const auto &slope : slopes) {
      std::printf("%s %.1f\n", slope.name.c_str(), slope.us_per_hit());
      std::fflush(stdout);
      std::fprintf(stderr, "  wall samples (us):");
      for (double sample : slope.wall_us)
        std::fprintf(stderr, " %.1f", sample);
      std::fprintf(stderr, "  [calls %" PRIu64 " -> %" PRIu64 "%s]\n", options.slope.low_calls,
                   options.slope.high_calls, options.pin_cpu >= 0 ? ", pinned" : "");
    }
    for (const auto &slope : slopes) {
      std::printf("%s %.1f\n", cpu_name(slope.name).c_str(), slope.cpu_us_per_hit());
      std::fflush(stdout);
      std::fprintf(stderr, "  cpu samples (us):");
      for (double sample : slope.cpu_us)
        std::fprintf(stderr, " %.1f", sample);
      std::fprintf(stderr, "\n");
    }
  } catch (const groutines::bench::RunError &e) {
    std::fprintf(stderr, "error: lldb_bare_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
