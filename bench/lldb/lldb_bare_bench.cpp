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
#include "measure.hpp"

#include <sched.h>

#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace {

using groutines::bench::Scenario;

// CallLog is what a scenario saw during one run: calls handled and a sum of the values it
// read, which for hot(i, i + 1) over i = 0 .. N-1 must be N * N both for a + b and for the
// return value.
struct CallLog {
  std::uint64_t calls = 0;
  std::uint64_t sum = 0;
};

std::string verify_sum(const CallLog &log, std::uint64_t calls) {
  if (log.sum == calls * calls)
    return {};
  return "values read sum to " + std::to_string(log.sum) + ", expected " +
         std::to_string(calls * calls);
}

std::string create_hot_breakpoint(lldb::SBTarget &target, lldb::SBBreakpoint &out) {
  out = target.BreakpointCreateByName("hot");
  if (!out.IsValid() || out.GetNumLocations() == 0)
    return "no location for a breakpoint on 'hot'";
  return {};
}

// read_args() is the work of the bare callback: the two integer argument registers.
void read_args(lldb::SBThread &thread, CallLog &log) {
  lldb::SBFrame frame = thread.GetFrameAtIndex(0);
  log.sum += frame.FindRegister("rdi").GetValueAsUnsigned() +
             frame.FindRegister("rsi").GetValueAsUnsigned();
  ++log.calls;
}

bool on_hot_hit(void *baton, lldb::SBProcess &, lldb::SBThread &thread,
                lldb::SBBreakpointLocation &) {
  read_args(thread, *static_cast<CallLog *>(baton));
  return false;
}

Scenario bare_callback() {
  auto log = std::make_shared<CallLog>();
  Scenario s;
  s.name = "bare_callback_us_per_hit";
  s.setup = [log](lldb::SBDebugger &, lldb::SBTarget &target) {
    *log = CallLog{};
    lldb::SBBreakpoint bp;
    std::string error = create_hot_breakpoint(target, bp);
    if (error.empty())
      bp.SetCallback(on_hot_hit, log.get());
    return error;
  };
  // In synchronous mode the first hit after Launch can come back as a plain stop without
  // the callback having run; handle that hit here so no call is lost or counted twice.
  s.on_stop = [log](lldb::SBProcess &, lldb::SBThread &thread) { read_args(thread, *log); };
  s.handled = [log] { return log->calls; };
  s.verify = [log](std::uint64_t calls) { return verify_sum(*log, calls); };
  return s;
}

Scenario bare_stepout() {
  auto log = std::make_shared<CallLog>();
  Scenario s;
  s.name = "bare_stepout_us_per_call_return";
  s.setup = [log](lldb::SBDebugger &, lldb::SBTarget &target) {
    *log = CallLog{};
    lldb::SBBreakpoint bp;
    return create_hot_breakpoint(target, bp);
  };
  s.on_stop = [log](lldb::SBProcess &, lldb::SBThread &thread) {
    lldb::SBError error;
    thread.StepOut(error);
    if (error.Fail())
      return;
    lldb::SBValue value = thread.GetStopReturnValue();
    if (!value.IsValid())
      return;
    log->sum += static_cast<std::uint64_t>(value.GetValueAsSigned());
    ++log->calls;
  };
  s.handled = [log] { return log->calls; };
  s.verify = [log](std::uint64_t calls) { return verify_sum(*log, calls); };
  return s;
}

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
