// faults (C++): the stock faults groutine written with the C++ API. Makes calls of
// GROUTINES_FAULTS_FUNCTION fail: the body does not run and the caller gets
// GROUTINES_FAULTS_RETURN (default 0), for the GROUTINES_FAULTS_NTH call (once), or every
// GROUTINES_FAULTS_EVERY-th call, or every call; at most GROUTINES_FAULTS_MAX faults. Each
// fault is logged and fired as custom event `fault` (function, call, n). No errno: the C++
// API cannot write the target's thread-local errno (use the Python version for that).
//
//   groutines run --set faults.function=malloc --set faults.nth=3 stock:cpp/faults -- ./program
#include <groutines/groutines.hpp>

#include <cstdlib>
#include <string>

namespace {

long long option(const char* name, long long fallback) {
  const char* text = std::getenv(name);
  return text && *text ? std::strtoll(text, nullptr, 0) : fallback;
}

}  // namespace

GROUTINE("faults") {
  using namespace groutines;
  const char* function = std::getenv("GROUTINES_FAULTS_FUNCTION");
  GROUTINE_REQUIRE(function != nullptr && *function != '\0');  // --set faults.function=F
  const long long nth = option("GROUTINES_FAULTS_NTH", 0);
  const long long every = option("GROUTINES_FAULTS_EVERY", 0);
  const long long max = option("GROUTINES_FAULTS_MAX", nth ? 1 : -1);
  const std::int64_t value = option("GROUTINES_FAULTS_RETURN", 0);
  long long n = 0, injected = 0;
  for (Call call : calls(function)) {
    ++n;
    if ((max >= 0 && injected >= max) || (nth && n != nth) || (every && n % every != 0)) continue;
    call.return_now(value);
    ++injected;
    log("fault: call " + std::to_string(n) + " of " + function + " (#" +
        std::to_string(call.id()) + ") returns " + std::to_string(value));
    fire("fault", {{"function", std::string(function)},
                   {"call", static_cast<std::int64_t>(call.id())},
                   {"n", static_cast<std::int64_t>(n)}});
  }
}
