// cpp-doubler: a C++ groutine for the Python tests (test_events.py), loaded into a scripted
// target with Target.load_library(). Replies to every event "double" with twice its field n.
#include <groutines/groutines.hpp>

GROUTINE("cpp-doubler") {
  for (;;) {
    groutines::CustomEvent ev = groutines::wait_event("double");
    ev.reply(std::get<std::int64_t>(ev.get("n")) * 2);
  }
}
