// bench: what the plugin benchmark measures. "read-two-args" handles every call of hot() by
// reading its two integer arguments, the work a bare breakpoint callback does in the
// baseline (bench/lldb); "read-two-args-and-return" also waits for each call's return.
#include <groutines/groutines.hpp>

namespace {
volatile std::uint64_t g_sink = 0;  // keeps the reads from being optimised away
}  // namespace

GROUTINE("read-two-args") {
  for (groutines::Call call : groutines::calls("hot")) g_sink = g_sink + call.arg(0) + call.arg(1);
}
