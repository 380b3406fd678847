// plugin_scenarios.hpp: scenarios of the LLDB benchmarks that run the groutines plugin
// (plugin_bench.cpp, python_bench.cpp): the plugin loaded once per process, and per run a
// groutine library or script loaded afresh, whose groutine's events are the calls handled.
#pragma once
#include <string>

#include "groutines/runtime.hpp"
#include "measure.hpp"

namespace groutines::bench {

// load_plugin() loads the plugin at path into debugger, once per process.
inline std::string load_plugin(lldb::SBDebugger &debugger, const std::string &path) {
  static bool loaded = false;
  if (loaded)
    return {};
  if (std::string e = run_command(debugger, "plugin load " + path); !e.empty())
    return e;
  loaded = true;
  return {};
}

// events_of() is how many events the loaded groutine called name has handled.
inline std::uint64_t events_of(const std::string &name) {
  Runtime *runtime = default_runtime();
  const Groutine *g = runtime ? runtime->find(name) : nullptr;
  return g ? g->events_handled() : 0;
}

// groutine_scenario() times the plugin (at plugin) with the groutines of `groutines` (a
// library or a script), loaded for every run, whose groutine `name` handles
// `events_per_call` events per call of hot().
inline Scenario groutine_scenario(std::string scenario, std::string plugin,
                                  std::string groutines, std::string name,
                                  std::uint64_t events_per_call) {
  Scenario s;
  s.name = std::move(scenario);
  s.setup = [plugin, groutines](lldb::SBDebugger &debugger, lldb::SBTarget &target) {
    debugger.SetSelectedTarget(target);  // hooks follow the selected target
    if (std::string e = load_plugin(debugger, plugin); !e.empty())
      return e;
    if (std::string e = run_command(debugger, "groutine unload --all"); !e.empty())
      return e;
    return run_command(debugger, "groutine load " + groutines);
  };
  s.on_stop = [](lldb::SBProcess &, lldb::SBThread &) {};
  s.handled = [name, events_per_call] { return events_of(name) / events_per_call; };
  return s;
}

}  // namespace groutines::bench
