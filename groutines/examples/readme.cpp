// readme: the C++ groutine shown in README.md (built here so that it keeps compiling).
#include <groutines/groutines.hpp>
using namespace groutines;

GROUTINE("add is right") {
  for (Call call : calls("add")) {
    auto a = static_cast<int>(call.arg(0)), b = static_cast<int>(call.arg(1));
    Return ret = call.returned();                  // the return of THIS call
    GROUTINE_CHECK_EQ(ret.value(), a + b);
  }
}
