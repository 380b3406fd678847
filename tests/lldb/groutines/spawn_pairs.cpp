// spawn_pairs: groutines that pair every call with its own return by spawning a child per call
// (test_spawn.py), over recursive.c's triangle() and threads.c's work(), and one that awaits
// each return in line, missing the calls made meanwhile.
#include <groutines/api.hpp>

using namespace groutines;

// pair-triangle: triangle(n) returns n + ... + 1; each child checks the return of its call.
GROUTINE("pair-triangle") {
  for (Call call : calls("triangle")) {
    spawn("triangle-return", [call] {
      const std::int64_t n = call.sarg(0);
      const std::uint64_t thread = call.thread_id();
      Return ret = call.returned();
      GROUTINE_CHECK_EQ(ret.call_id(), call.id());
      GROUTINE_CHECK_EQ(ret.thread_id(), thread);
      GROUTINE_CHECK_EQ(ret.value(), n <= 0 ? 0 : n * (n + 1) / 2);
    });
  }
}

// in-line-triangle: awaits each return itself: the nested calls come while it waits.
GROUTINE("in-line-triangle") {
  for (Call call : calls("triangle")) {
    const std::int64_t n = call.sarg(0);
    GROUTINE_CHECK_EQ(call.returned().value(), n <= 0 ? 0 : n * (n + 1) / 2);
  }
}

// pair-work: work(tid, i) returns tid * 1000 + i, on the thread that called it.
GROUTINE("pair-work") {
  for (Call call : calls("work")) {
    spawn("work-return", [call] {
      const std::int64_t tid = call.sarg(0), i = call.sarg(1);
      const std::uint64_t thread = call.thread_id();
      Return ret = call.returned();
      GROUTINE_CHECK_EQ(ret.call_id(), call.id());
      GROUTINE_CHECK_EQ(ret.thread_id(), thread);
      GROUTINE_CHECK_EQ(ret.value(), tid * 1000 + i);
    });
  }
}
