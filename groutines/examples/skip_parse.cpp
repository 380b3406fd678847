// skip_parse: skips every call of parse_header whose buffer does not start with "GR": the
// body does not run and the caller gets -99 (the function itself would return -1).
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
