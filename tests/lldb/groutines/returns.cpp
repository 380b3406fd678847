// returns: for each ret_* function of tests/targets/returns.c, forces the return of its odd
// calls (return_now) and rewrites that of its even ones (set_value), with values of the other
// kind where C converts them (test_return_registers.py; groutines/returns.py does the same in
// Python). The first call comes through a breakpoint, the others through the agent when it
// serves the function. Each logs the value it read before rewriting it. ret_pair returns a
// struct: its groutine logs the errors it gets.
#include <string>

#include <groutines/api.hpp>

using namespace groutines;

namespace {

template <typename Forced, typename Rewritten>
void force_and_rewrite(const std::string& function, Forced forced, Rewritten rewritten) {
  int n = 0;
  for (Call call : calls(function)) {
    if (++n % 2)
      call.return_now(forced);
    else {
      Return r = call.returned();
      log(function + " returned " + to_string(r.result()));
      r.set_value(rewritten);
    }
  }
}

}  // namespace

GROUTINE("cpp-ret_int") { force_and_rewrite("ret_int", 2.75, -7.9); }
GROUTINE("cpp-ret_float") { force_and_rewrite("ret_float", 0.1, 3); }
GROUTINE("cpp-ret_double") { force_and_rewrite("ret_double", 7, 0.1); }
GROUTINE("cpp-ret_long_double") { force_and_rewrite("ret_long_double", 0.1, -3); }
GROUTINE("cpp-ret_pair") {
  for (Call call : calls("ret_pair")) {
    try {
      call.return_now(1);
    } catch (const Error& e) {
      log(e.what());
    }
    try {
      call.returned().set_value(1);
    } catch (const Error& e) {
      log(e.what());
    }
  }
}
