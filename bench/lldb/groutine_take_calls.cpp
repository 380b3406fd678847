// groutine_take_calls: a step of agent_bench's breakdown, delivery into a groutine.
// "take-calls" is switched into at every call of hot() and reads nothing: the cost of the
// runtime's delivery and two fiber switches over the handoff.
#include <groutines/groutines.hpp>

GROUTINE("take-calls") {
  for (groutines::Call call : groutines::calls("hot")) (void)call;
}
