// skip_parse: skips calls, so that their bodies do not run. "skip-bad-headers" skips every
// call of parse_header whose buffer does not start with "GR": the caller gets -99 (the
// function itself would return -1).
#include <groutines/groutines.hpp>

GROUTINE("skip-bad-headers") {
  for (groutines::Call call : groutines::calls("parse_header")) {
    std::string head = call.read_cstring(call.arg(0), 2);
    if (head != "GR") {
      call.return_now(std::int64_t{-99});
      groutines::log("skipped parse_header(\"" + call.read_cstring(call.arg(0), 64) + "\")");
    }
  }
}

// "skip-scale-by-3" skips scale(x, 3.0): the caller gets 42.5 in xmm0.
GROUTINE("skip-scale-by-3") {
  for (groutines::Call call : groutines::calls("scale", [](const groutines::Call& c) {
         return c.float_arg(1) == 3.0;
       }))
    call.return_now(42.5);
}
