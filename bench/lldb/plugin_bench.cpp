// plugin_bench: what a groutine costs per breakpoint hit, against bare LLDB doing the same
// work, in the same run (issue: "per-hit cost ... against a bare LLDB breakpoint").
//
// Prints, one line each (µs: slope between two call counts, median of the repetitions):
//   bare_callback_us_per_hit          bare C++ SB callback reading rdi and rsi
//   groutine_us_per_hit               the plugin with a C++ groutine reading call.arg(0), arg(1)
//   bare_stepout_us_per_call_return   SBThread::StepOut + GetStopReturnValue
//   groutine_us_per_call_return       the plugin with a C++ groutine reading both arguments,
//                                     then call.returned().value()
// and the ratios, each the median of ratios taken within one repetition:
//   groutine_over_bare_callback X (target <= 1.05)
//   groutine_returns_over_stepout X
//
// Usage: plugin_bench [--calls LOW,HIGH] [--reps N] [--verbose]
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "bare_scenarios.hpp"
#include "groutines/runtime.hpp"

namespace {

using groutines::bench::run_command;
using groutines::bench::Scenario;

// events_of() is how many events the loaded groutine called name has handled.
std::uint64_t events_of(const std::string &name) {
  groutines::Runtime *runtime = groutines::default_runtime();
  if (!runtime) return 0;
  const groutines::Groutine *g = runtime->find(name);
  return g ? g->events_handled() : 0;
}

// groutine() is the plugin loaded once, and for every run the groutine library `library`,
// whose groutine `name` handles `events_per_call` events per call of hot().
Scenario groutine(std::string scenario, std::string library, std::string name,
                  std::uint64_t events_per_call) {
  Scenario s;
  s.name = std::move(scenario);
  s.setup = [library, name](lldb::SBDebugger &debugger, lldb::SBTarget &target) {
    static bool plugin_loaded = false;
    debugger.SetSelectedTarget(target);  // hooks follow the selected target
    if (!plugin_loaded) {
      if (std::string e = run_command(debugger, "plugin load " GROUTINES_BENCH_PLUGIN);
          !e.empty())
        return e;
      plugin_loaded = true;
    }
    if (std::string e = run_command(debugger, "groutine unload --all"); !e.empty()) return e;
    return run_command(debugger, "groutine load " + library);
  };
  s.on_stop = [](lldb::SBProcess &, lldb::SBThread &) {};
  s.handled = [name, events_per_call] { return events_of(name) / events_per_call; };
  return s;
}

}  // namespace

int main(int argc, char **argv) {
  groutines::bench::SlopeOptions options;
  if (!groutines::bench::parse_slope_options(argc, argv, options)) return 2;
  groutines::bench::DebuggerSession session(GROUTINES_BENCH_DEBUGSERVER);
  try {
    auto slopes = groutines::bench::measure_slopes(
        session.debugger(), GROUTINES_BENCH_TARGET,
        {groutines::bench::bare_callback(),
         groutine("groutine_us_per_hit", GROUTINES_BENCH_ARGS_LIBRARY, "read-two-args", 1),
         groutines::bench::bare_stepout(),
         groutine("groutine_us_per_call_return", GROUTINES_BENCH_RETURNS_LIBRARY,
                  "read-args-and-return", 2)},
        options);
    for (const auto &slope : slopes) std::printf("%s %.1f\n", slope.name.c_str(), slope.us_per_hit());
    const double hit = groutines::bench::paired_ratio(slopes[1], slopes[0]);
    const double pair = groutines::bench::paired_ratio(slopes[3], slopes[2]);
    std::printf("groutine_over_bare_callback %.3f (target <= 1.05): %s\n", hit,
                hit <= 1.05 ? "met" : "NOT met");
    std::printf("groutine_returns_over_stepout %.3f\n", pair);
  } catch (const groutines::bench::RunError &e) {
    std::fprintf(stderr, "error: plugin_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
