// python_bench: what a Python groutine costs per breakpoint hit, against LLDB's own Python
// breakpoint callback doing the same work, in the same run.
//
// Prints (µs: slope between two call counts, median of the repetitions):
//   lldb_python_callback_us_per_hit   `breakpoint command add -F` callback reading rdi and rsi
//                                     with frame.FindRegister, returning False
//   python_groutine_us_per_hit        the plugin with a Python groutine reading call.arg(0)
//                                     and call.arg(1) in `async for call in g.calls("hot")`
//   python_groutine_over_lldb_python_callback X (target <= 0.6)
//
// Usage: python_bench [--calls LOW,HIGH] [--reps N] [--verbose]
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

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
        session.debugger(), GROUTINES_BENCH_TARGET, {lldb_python_callback(),
         groutines::bench::groutine_scenario("python_groutine_us_per_hit", GROUTINES_BENCH_PLUGIN,
                                             GROUTINES_BENCH_DIR "/bench_groutines.py",
                                             "read-two-args-py", 1)},
        options);
    for (const auto &slope : slopes) std::printf("%s %.1f\n", slope.name.c_str(), slope.us_per_hit());
    const double ratio = groutines::bench::paired_ratio(slopes[1], slopes[0]);
    std::printf("python_groutine_over_lldb_python_callback %.3f (target <= 0.6): %s\n", ratio,
                ratio <= 0.6 ? "met" : "NOT met");
  } catch (const groutines::bench::RunError &e) {
    std::fprintf(stderr, "error: python_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
