// crash_overflow: at the second call of add(), "overflows" recurses until its fiber stack runs
// out (tests/lldb/test_crashes.py). It must fail with "stack overflow", not take LLDB down;
// "survives", loaded with it, logs every call of add() and must hear them all.
#include <groutines/groutines.hpp>

#include <string>

namespace {

volatile int g_levels = 1 << 30;  // 1 TiB of stack: more than any

// deep() recurses g_levels deep, 1 KiB a level; never a tail call.
__attribute__((noinline)) int deep(int n) {
  if (n == g_levels) return 0;
  volatile char pad[1024];
  pad[n % sizeof pad] = 1;
  return deep(n + 1) + pad[n % sizeof pad];
}

}  // namespace

GROUTINE("overflows") {
  groutines::wait_call("add");
  groutines::wait_call("add");
  deep(0);
}

GROUTINE("survives") {
  for (groutines::Call call : groutines::calls("add"))
    groutines::log("add(" + std::to_string(call.arg(0)) + "," + std::to_string(call.arg(1)) + ")");
}
