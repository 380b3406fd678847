// failing_checks: a C++ groutine whose check fails, for `groutine stop-on-failure` and
// `groutines run --stop-on-failure` (tests/lldb/test_failures.py, tests/run/test_runner.py).
// "add-is-off-by-one" expects every add(a, b) of the target to return a + b + 1: each call
// records a failed GROUTINE_CHECK_EQ at its return, and the groutine goes on.
#include <groutines/groutines.hpp>

GROUTINE("add-is-off-by-one") {
  for (groutines::Call call : groutines::calls("add")) {
    auto a = static_cast<std::int32_t>(call.arg(0));
    auto b = static_cast<std::int32_t>(call.arg(1));
    groutines::Return r = call.returned();
    GROUTINE_CHECK_EQ(static_cast<std::int32_t>(r.value()), a + b + 1);
  }
}
