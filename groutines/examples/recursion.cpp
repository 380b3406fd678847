// recursion: one groutine per depth of fact() in tests/targets/recursive.c. "fact-K" waits
// for calls fact(K) and for their returns, which must be K!: a return delivered to the
// wrong nesting level would carry another depth's value.
#include <groutines/groutines.hpp>

namespace {

void follow(std::int32_t k) {
  std::int64_t expect = 1;
  for (std::int32_t i = 2; i <= k; ++i) expect *= i;
  for (groutines::Call call : groutines::calls("fact", [k](const groutines::Call& c) {
         return static_cast<std::int32_t>(c.arg(0)) == k;
       })) {
    groutines::Return r = call.returned();
    GROUTINE_CHECK_EQ(r.value(), expect);
    groutines::log("fact(" + std::to_string(k) + ")=" + std::to_string(r.value()));
  }
}

}  // namespace

GROUTINE("fact-1") { follow(1); }
GROUTINE("fact-2") { follow(2); }
GROUTINE("fact-3") { follow(3); }
GROUTINE("fact-4") { follow(4); }
GROUTINE("fact-5") { follow(5); }
