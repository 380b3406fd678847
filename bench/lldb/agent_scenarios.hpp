// agent_scenarios.hpp: the scenarios of agent_bench, the plugin over agent_target on the
// transport each one chooses. Every run ends with a stop at bench_done(n), where the plugin's
// own account of the run is read while the process is still there (`groutine subscriptions`:
// the transport and host hits of hot; `groutine transport`: the agent's counters), so that a
// run that fell back to breakpoints, or whose agent lost or passed hits it should have
// delivered, is an error and not a number:
//
//   Scenario agent = plugin_run("cpp_agent_us_per_hit", plugin, "agent", library,
//                               delivered_to("read-two-args", 1), expect_agent(1));
#pragma once
#include <cstdlib>
#include <functional>
#include <memory>
#include <regex>
#include <sstream>
#include <string>

#include "plugin_scenarios.hpp"

namespace groutines::bench {

// RunAccount is what the plugin said of one run, read at its stop in bench_done(n).
struct RunAccount {
  bool stopped = false;            // the run reached bench_done()
  std::uint64_t calls = 0;         // n: the calls of hot() the target made
  bool subscribed = false;         // hot was among `groutine subscriptions`
  std::uint64_t host_hits = 0;     // its HITS: calls that reached the plugin, either transport
  std::string transport;           // its TRANSPORT: agent, breakpoint, agent+breakpoint
  bool agent = false;              // the agent served the process
  std::uint64_t posted = 0;        // hits the agent handed to the plugin (calls and returns)
  std::uint64_t passed_unheld = 0; // calls passed through on hooks nobody holds
  std::string status;              // what the two commands printed, for error messages
};

namespace detail {

// number_before() is the number just before `words` in text (e.g. "12 on hooks nobody waits
// on"), or 0 when there is none.
inline std::uint64_t number_before(const std::string &text, const std::string &words) {
  std::smatch m;
  if (std::regex_search(text, m, std::regex("(\\d+) " + words)))
    return std::strtoull(m[1].str().c_str(), nullptr, 10);
  return 0;
}

// read_account() fills account from the plugin, at the stop in bench_done(n) of thread.
inline void read_account(lldb::SBDebugger &debugger, lldb::SBThread &thread,
                         RunAccount &account) {
  account.stopped = true;
  account.calls = thread.GetFrameAtIndex(0).FindRegister("rdi").GetValueAsUnsigned();
  std::string subscriptions, transport;
  run_command(debugger, "groutine subscriptions", &subscriptions);
  run_command(debugger, "groutine transport", &transport);
  account.status = subscriptions + transport;
  std::istringstream lines(subscriptions);
  for (std::string line; std::getline(lines, line);) {
    // FUNCTION BREAKPOINT LOCATIONS HOLDERS HITS TRANSPORT
    std::istringstream row(line);
    std::string function, breakpoint, locations, holders, hits, via;
    if (row >> function >> breakpoint >> locations >> holders >> hits >> via && function == "hot") {
      account.subscribed = true;
      account.host_hits = std::strtoull(hits.c_str(), nullptr, 10);
      account.transport = via;
    }
  }
  account.agent = transport.find("served by the agent") != std::string::npos;
  account.posted = number_before(transport, "hits;");
  account.passed_unheld = number_before(transport, "on hooks nobody waits on");
}

}  // namespace detail

// Counter says how many calls a scenario handled in a run, from its account.
using Counter = std::function<std::uint64_t(const RunAccount &)>;
// Check says what was wrong with a run of `calls` calls ("" if nothing).
using Check = std::function<std::string(const RunAccount &, std::uint64_t calls)>;

// delivered_to() counts the calls delivered to the groutine `name`, which handles
// events_per_call events per call (2 when it also waits for the return).
inline Counter delivered_to(std::string name, std::uint64_t events_per_call) {
  return [name, events_per_call](const RunAccount &) { return events_of(name) / events_per_call; };
}

// host_hits() counts the calls of hot() that reached the plugin.
inline Counter host_hits() {
  return [](const RunAccount &a) { return a.host_hits; };
}

// delivered_or_passed() counts the calls delivered to `name` plus those the agent passed
// through because nobody held the hook any more.
inline Counter delivered_or_passed(std::string name) {
  return [name](const RunAccount &a) { return events_of(name) + a.passed_unheld; };
}

// made_by_target() counts the calls the target says it made (nothing handles them).
inline Counter made_by_target() {
  return [](const RunAccount &a) { return a.calls; };
}

// expect_agent() checks that hot was served by the agent: after its first call, on a
// breakpoint where it is patched, the agent handed posts_per_call hits to the plugin per
// call (1: the call; 2: the call and its return) and passed none through.
inline Check expect_agent(std::uint64_t posts_per_call) {
  return [posts_per_call](const RunAccount &a, std::uint64_t calls) -> std::string {
    if (a.transport != "agent" || !a.agent)
      return "hot was not served by the agent (transport '" + a.transport + "')";
    if (a.posted != posts_per_call * (calls - 1))
      return "the agent posted " + std::to_string(a.posted) + " hits, expected " +
             std::to_string(posts_per_call * (calls - 1));
    return {};
  };
}

// expect_released() checks that hot was patched, then let go: the agent posted one call (the
// second) and passed the rest through, and hot is no longer subscribed.
inline Check expect_released() {
  return [](const RunAccount &a, std::uint64_t calls) -> std::string {
    if (!a.agent || a.subscribed) return "hot is still subscribed, or no agent served it";
    if (a.posted != 1 || a.passed_unheld != calls - 2)
      return "the agent posted " + std::to_string(a.posted) + " and passed through " +
             std::to_string(a.passed_unheld) + " calls, expected 1 and " +
             std::to_string(calls - 2);
    return {};
  };
}

// expect_breakpoints() checks that hot was served by breakpoints only.
inline Check expect_breakpoints() {
  return [](const RunAccount &a, std::uint64_t) -> std::string {
    if (a.transport != "breakpoint" || a.posted != 0)
      return "hot was not served by breakpoints only (transport '" + a.transport + "', " +
             std::to_string(a.posted) + " agent hits)";
    return {};
  };
}

// plugin_run() times the plugin on transport (auto, agent, breakpoint) with the groutines of
// `groutines` (a library or a script; "" for none) loaded for every run; counter says how many
// calls it handled and check what else must hold. The run stops once at bench_done().
inline Scenario plugin_run(std::string scenario, std::string plugin, std::string transport,
                           std::string groutines, Counter counter, Check check) {
  auto account = std::make_shared<RunAccount>();
  auto debugger = std::make_shared<lldb::SBDebugger>();
  Scenario s;
  s.name = std::move(scenario);
  s.target_environment = true;  // the plugin's LD_PRELOAD of the agent
  s.setup = [=](lldb::SBDebugger &d, lldb::SBTarget &target) -> std::string {
    *account = RunAccount{};
    *debugger = d;
    d.SetSelectedTarget(target);  // hooks follow the selected target
    if (std::string e = load_plugin(d, plugin); !e.empty()) return e;
    if (std::string e = run_command(d, "groutine unload --all"); !e.empty()) return e;
    if (std::string e = run_command(d, "groutine transport " + transport); !e.empty()) return e;
    lldb::SBBreakpoint done = target.BreakpointCreateByName("bench_done");
    if (!done.IsValid() || done.GetNumLocations() == 0)
      return std::string("no location for a breakpoint on 'bench_done'");
    return groutines.empty() ? std::string() : run_command(d, "groutine load " + groutines);
  };
  s.on_stop = [=](lldb::SBProcess &, lldb::SBThread &thread) {
    const char *function = thread.GetFrameAtIndex(0).GetFunctionName();
    if (function && std::string(function) == "bench_done")
      detail::read_account(*debugger, thread, *account);
  };
  s.handled = [=] { return counter(*account); };
  s.verify = [=](std::uint64_t calls) -> std::string {
    if (!account->stopped) return "the run never stopped in bench_done()";
    if (account->calls != calls)
      return "bench_done() says " + std::to_string(account->calls) + " calls";
    std::string e = check ? check(*account, calls) : std::string();
    return e.empty() ? e : e + "\n" + account->status;
  };
  return s;
}

// with_calls() is scenario with its own two call counts.
inline Scenario with_calls(Scenario scenario, std::uint64_t low, std::uint64_t high) {
  scenario.low_calls = low;
  scenario.high_calls = high;
  return scenario;
}

}  // namespace groutines::bench
