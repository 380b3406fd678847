// threads_decisions: decisions taken on concurrent calls of work() in tests/targets/threads.c
// land on the right thread's call: "work-2-plus-5" adds 5 to every return of work(2, i);
// "skip-odd-work-3" skips work(3, i) for odd i, which then returns 0.
#include <groutines/groutines.hpp>

GROUTINE("work-2-plus-5") {
  for (groutines::Call call : groutines::calls("work", [](const groutines::Call& c) {
         return static_cast<std::int32_t>(c.arg(0)) == 2;
       })) {
    groutines::Return r = call.returned();
    r.set_value(r.value() + 5);
  }
}

GROUTINE("skip-odd-work-3") {
  for (groutines::Call call : groutines::calls("work", [](const groutines::Call& c) {
         return static_cast<std::int32_t>(c.arg(0)) == 3 && static_cast<std::int32_t>(c.arg(1)) % 2;
       }))
    call.return_now(std::int64_t{0});
}
