// symbols: a C++ groutine that hooks every function matching a pattern, found with functions()
// (test_symbols.py), over kvparse.c: parse_* and kv_* at load, and the log of their calls.
#include <string>

#include <groutines/api.hpp>

using namespace groutines;

GROUTINE("cpp-symbols") {
  std::vector<std::string> found = functions("kv_*");
  std::string names;
  for (const std::string& f : found) names += " " + f;
  log("found" + names);
  for (const std::string& f : found)
    spawn("cpp-symbols-" + f, [f] {
      for (Call call : calls(f)) log("call of " + call.function());
    });
  wait_event("never");
}
