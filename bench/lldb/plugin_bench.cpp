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
#include <string>

#include "bare_scenarios.hpp"
#include "plugin_scenarios.hpp"

int main(int argc, char **argv) {
  groutines::bench::SlopeOptions options;
  if (!groutines::bench::parse_slope_options(argc, argv, options)) return 2;
  groutines::bench::DebuggerSession session(GROUTINES_BENCH_DEBUGSERVER);
  try {
    auto slopes = groutines::bench::measure_slopes(
        session.debugger(), GROUTINES_BENCH_TARGET,
        {groutines::bench::bare_callback(),
         groutines::bench::groutine_scenario("groutine_us_per_hit", GROUTINES_BENCH_PLUGIN,
                                             GROUTINES_BENCH_ARGS_LIBRARY, "read-two-args", 1),
         groutines::bench::bare_stepout(),
         groutines::bench::groutine_scenario("groutine_us_per_call_return",
                                             GROUTINES_BENCH_PLUGIN,
                                             GROUTINES_BENCH_RETURNS_LIBRARY,
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
