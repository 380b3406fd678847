// rewrite: changes return values before the caller sees them: add() returns 1000 more,
// scale() returns ten times as much (a double, through xmm0).
#include <groutines/groutines.hpp>

GROUTINE("add-plus-1000") {
  for (groutines::Call call : groutines::calls("add")) {
    groutines::Return r = call.returned();
    r.set_value(r.value() + 1000);
  }
}

GROUTINE("scale-times-10") {
  for (groutines::Call call : groutines::calls("scale")) {
    groutines::Return r = call.returned();
    r.set_value(r.float_value() * 10.0);
  }
}
