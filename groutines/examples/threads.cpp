// threads: one groutine per worker of tests/targets/threads.c. "work-T" follows the calls
// work(T, i) and their returns: each return must come on the calling thread with
// T * 1000 + i. It logs "work(T,i)=v" once per call, for a test to count.
#include <groutines/groutines.hpp>

namespace {

void follow(std::int32_t t) {
  for (groutines::Call call : groutines::calls("work", [t](const groutines::Call& c) {
         return static_cast<std::int32_t>(c.arg(0)) == t;
       })) {
    auto i = static_cast<std::int32_t>(call.arg(1));
    std::uint64_t thread = call.thread_id();
    groutines::Return r = call.returned();
    GROUTINE_CHECK_EQ(r.thread_id(), thread);
    GROUTINE_CHECK_EQ(r.value(), std::int64_t{t} * 1000 + i);
    groutines::log("work(" + std::to_string(t) + "," + std::to_string(i) + ")=" +
                   std::to_string(r.value()));
  }
}

}  // namespace

GROUTINE("work-0") { follow(0); }
GROUTINE("work-1") { follow(1); }
GROUTINE("work-2") { follow(2); }
GROUTINE("work-3") { follow(3); }
