// python_bench: what a Python groutine costs per breakpoint hit, against LLDB's own Python
// breakpoint callback doing the same work, in the same run.
//
// Prints (µs: slope between two call counts, median of the repetitions):
//   lldb_python_callback_us_per_hit   `breakpoint command add -F` callback reading rdi and rsi
//                                     with frame.FindRegister, returning False
//   python_groutine_us_per_hit        the plugin with a Python groutine reading call.arg(0)
//                                     and call.arg(1) in `async for call in g.calls("hot")`
//   bare_callback_us_per_hit          a C++ SB callback doing the same: what LLDB's stop costs
//   cpp_groutine_us_per_hit           the plugin with the C++ groutine of plugin_bench
//   python_groutine_over_lldb_python_callback X (target <= 0.6)
//   python_groutine_over_lldb_python_callback_cpu X
//                                     the same in CPU time of debugger, lldb-server and
//                                     target, which waiting for a busy CPU does not inflate
//   bare_callback_over_lldb_python_callback X
//                                     the floor: the ratio a host adding nothing to LLDB's
//                                     stop would reach. Both peers make the same round trips
//                                     to lldb-server, so this, not the host, bounds the
//                                     target: 0.56 on the machine of shared/notes
//                                     (528/947 µs), 0.64-0.72 on the VMs of later runs
//   python_over_cpp_groutine_us       what Python adds per hit over a C++ groutine, and
//   lldb_python_over_bare_us          what LLDB's Python callback adds over a C++ callback
//                                     (paired medians)
//
// Usage: python_bench [--calls LOW,HIGH] [--reps N] [--verbose]
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "bare_scenarios.hpp"
#include "plugin_scenarios.hpp"

namespace {

using groutines::bench::run_command;
using groutines::bench::Scenario;

// load_callbacks() loads the plugin and makes the bench's Python files importable in LLDB's
// interpreter, once per process.
std::string load_callbacks(lldb::SBDebugger &debugger) {
  static bool loaded = false;
  if (loaded) return {};
  if (std::string e = groutines::bench::load_plugin(debugger, GROUTINES_BENCH_PLUGIN); !e.empty())
    return e;
  if (std::string e = run_command(
          debugger, "script import sys; sys.path.insert(0, '" GROUTINES_BENCH_DIR "')");
      !e.empty())
    return e;
  if (std::string e = run_command(debugger, "script import python_callbacks"); !e.empty())
    return e;
  loaded = true;
  return {};
}

Scenario lldb_python_callback() {
  auto session = std::make_shared<lldb::SBDebugger>();
  Scenario s;
  s.name = "lldb_python_callback_us_per_hit";
  s.setup = [session](lldb::SBDebugger &debugger, lldb::SBTarget &target) {
    *session = debugger;
    debugger.SetSelectedTarget(target);
    if (std::string e = load_callbacks(debugger); !e.empty()) return e;
    if (std::string e = run_command(debugger, "groutine unload --all"); !e.empty()) return e;
    if (std::string e = run_command(debugger, "script python_callbacks.reset()"); !e.empty())
      return e;
    lldb::SBBreakpoint bp = target.BreakpointCreateByName("hot");
    if (!bp.IsValid() || bp.GetNumLocations() == 0)
      return std::string("no location for a breakpoint on 'hot'");
    return run_command(debugger, "breakpoint command add -F python_callbacks.on_hot " +
                                     std::to_string(bp.GetID()));
  };
  s.on_stop = [](lldb::SBProcess &, lldb::SBThread &) {};
  s.handled = [session] {
    // The count lives in LLDB's Python: ask it.
    std::string out;
    run_command(*session, "script python_callbacks.calls", &out);
    return static_cast<std::uint64_t>(std::strtoull(out.c_str(), nullptr, 10));
  };
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
        {lldb_python_callback(),
         groutines::bench::groutine_scenario("python_groutine_us_per_hit", GROUTINES_BENCH_PLUGIN,
                                             GROUTINES_BENCH_DIR "/bench_groutines.py",
                                             "read-two-args-py", 1),
         groutines::bench::bare_callback(),
         groutines::bench::groutine_scenario("cpp_groutine_us_per_hit", GROUTINES_BENCH_PLUGIN,
                                             GROUTINES_BENCH_ARGS_LIBRARY, "read-two-args", 1)},
        options);
    for (const auto &slope : slopes) std::printf("%s %.1f\n", slope.name.c_str(), slope.us_per_hit());
    const double ratio = groutines::bench::paired_ratio(slopes[1], slopes[0]);
    std::printf("python_groutine_over_lldb_python_callback %.3f (target <= 0.6): %s\n", ratio,
                ratio <= 0.6 ? "met" : "NOT met");
    std::printf("python_groutine_over_lldb_python_callback_cpu %.3f\n",
                groutines::bench::paired_ratio(slopes[1], slopes[0],
                                               &groutines::bench::Slope::cpu_us));
    std::printf("bare_callback_over_lldb_python_callback %.3f\n",
                groutines::bench::paired_ratio(slopes[2], slopes[0]));
    std::printf("python_over_cpp_groutine_us %.1f\n",
                groutines::bench::paired_difference(slopes[1], slopes[3]));
    std::printf("lldb_python_over_bare_us %.1f\n",
                groutines::bench::paired_difference(slopes[0], slopes[2]));
  } catch (const groutines::bench::RunError &e) {
    std::fprintf(stderr, "error: python_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
