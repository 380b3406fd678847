// bare_scenarios.hpp: the baseline scenarios of the LLDB benchmarks, what bare LLDB does for
// the work a groutine does (see lldb_bare_bench.cpp and plugin_bench.cpp):
//   bare_callback()  a breakpoint on hot() whose C++ SB callback reads rdi and rsi with
//                    SBFrame::FindRegister and returns false
//   bare_stepout()   a breakpoint on hot() stopping the process, then SBThread::StepOut +
//                    GetStopReturnValue (synchronous mode)
#pragma once
#include <memory>
#include <string>

#include "measure.hpp"

namespace groutines::bench {

// CallLog is what a scenario saw during one run: calls handled and a sum of the values it
// read, which for hot(i, i + 1) over i = 0 .. N-1 must be N * N both for a + b and for the
// return value.
struct CallLog {
  std::uint64_t calls = 0;
  std::uint64_t sum = 0;
};

inline std::string verify_sum(const CallLog &log, std::uint64_t calls) {
  if (log.sum == calls * calls)
    return {};
  return "values read sum to " + std::to_string(log.sum) + ", expected " +
         std::to_string(calls * calls);
}

inline std::string create_hot_breakpoint(lldb::SBTarget &target, lldb::SBBreakpoint &out) {
  out = target.BreakpointCreateByName("hot");
  if (!out.IsValid() || out.GetNumLocations() == 0)
    return "no location for a breakpoint on 'hot'";
  return {};
}

// read_args() is the work of the bare callback: the two integer argument registers.
inline void read_args(lldb::SBThread &thread, CallLog &log) {
  lldb::SBFrame frame = thread.GetFrameAtIndex(0);
  log.sum += frame.FindRegister("rdi").GetValueAsUnsigned() +
             frame.FindRegister("rsi").GetValueAsUnsigned();
  ++log.calls;
}

inline bool on_hot_hit(void *baton, lldb::SBProcess &, lldb::SBThread &thread,
                lldb::SBBreakpointLocation &) {
  read_args(thread, *static_cast<CallLog *>(baton));
  return false;
}

inline Scenario bare_callback() {
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

inline Scenario bare_stepout() {
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


}  // namespace groutines::bench
