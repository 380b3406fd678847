// crash_abort: at the second call of add(), "aborts" calls abort() and "terminates" lets an
// exception escape a destructor (std::terminate) (tests/lldb/test_crashes.py). Each must fail
// with its reason, not take LLDB down; "survives" logs every call of add() and must hear them
// all, after both.
#include <groutines/groutines.hpp>

#include <cstdlib>
#include <stdexcept>
#include <string>

namespace {

struct ThrowsWhenDestroyed {
  ~ThrowsWhenDestroyed() noexcept(false) { throw std::runtime_error("thrown by a destructor"); }
};

// escape() throws while another exception unwinds through a destructor that throws too.
__attribute__((noinline)) void escape() {
  ThrowsWhenDestroyed t;
  throw std::logic_error("the first exception");
}

}  // namespace

GROUTINE("aborts") {
  groutines::wait_call("add");
  groutines::wait_call("add");
  std::abort();
}

GROUTINE("terminates") {
  groutines::wait_call("add");
  groutines::wait_call("add");
  escape();
}

GROUTINE("survives") {
  for (groutines::Call call : groutines::calls("add"))
    groutines::log("add(" + std::to_string(call.arg(0)) + "," + std::to_string(call.arg(1)) + ")");
}
