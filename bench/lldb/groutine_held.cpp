// groutine_held: the handoff floor of agent_bench's breakdown, a held hook nobody waits on.
// "held" takes the first call of hot() (on a breakpoint, where the plugin patches hot), then
// keeps the stream of its calls alive while it waits on an event nobody fires: every later
// call is handed to the debugger's service thread and back, and delivered to no groutine.
#include <groutines/groutines.hpp>

GROUTINE("held") {
  groutines::Calls hot = groutines::calls("hot");
  hot.begin();
  groutines::wait_event("agent-bench-never");
}
