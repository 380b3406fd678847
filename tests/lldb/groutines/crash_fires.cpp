// crash_fires: "fires" fires the custom event "tick" at every call of add() and logs that it
// went on (tests/lldb/test_crashes.py). A Python groutine listening to "tick" runs on the
// stack of "fires"' fiber while it fires: what that Python code does is not "fires"' to die of.
#include <groutines/groutines.hpp>

#include <string>

GROUTINE("fires") {
  for (groutines::Call call : groutines::calls("add")) {
    (void)call;
    groutines::fire("tick");
    groutines::log("fired");
  }
}
