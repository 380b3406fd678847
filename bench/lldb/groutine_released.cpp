// groutine_released: the floor of agent_bench's breakdown, a patched hook nobody holds.
// "released" takes the first two calls of hot() (the first on a breakpoint, where the plugin
// patches hot; the second through the agent), then lets go of hot and waits on an event nobody
// fires: every later call runs the trampoline and the agent's entry stub, finds the hook
// disabled and goes on, without reaching the debugger.
#include <groutines/groutines.hpp>

GROUTINE("released") {
  {
    groutines::Calls hot = groutines::calls("hot");
    auto call = hot.begin();
    ++call;
  }
  groutines::wait_event("agent-bench-never");
}
