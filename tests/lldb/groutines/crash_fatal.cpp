// crash_fatal: at the second call of add(), "dereferences-null" writes through a null pointer
// (tests/lldb/test_crashes.py, tests/run/test_crashes.py). That is no stack overflow: the
// debugger dies of it as before, but a runner (GROUTINES_FATAL_EXIT) still gets the report and
// the reason. "survives" logs every call of add() until then.
#include <groutines/groutines.hpp>

#include <cstdint>
#include <string>

namespace {
volatile std::uintptr_t g_null = 0;  // a null pointer the compiler cannot see
}  // namespace

GROUTINE("survives") {
  for (groutines::Call call : groutines::calls("add"))
    groutines::log("add(" + std::to_string(call.arg(0)) + "," + std::to_string(call.arg(1)) + ")");
}

GROUTINE("dereferences-null") {
  groutines::wait_call("add");
  groutines::wait_call("add");
  *reinterpret_cast<volatile int*>(g_null) = 1;
}
