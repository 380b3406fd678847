// bench_returns: the call+return pair of the plugin benchmark: "read-args-and-return" reads
// hot()'s two arguments at each call and its return value at the return, the work the
// baseline does with SBThread::StepOut and GetStopReturnValue (bench/lldb).
#include <groutines/groutines.hpp>

namespace {
volatile std::uint64_t g_sink = 0;  // keeps the reads from being optimised away
}  // namespace

GROUTINE("read-args-and-return") {
  for (groutines::Call call : groutines::calls("hot")) {
    std::uint64_t args = call.arg(0) + call.arg(1);
    groutines::Return r = call.returned();
    g_sink = g_sink + args + static_cast<std::uint64_t>(r.value());
  }
}
