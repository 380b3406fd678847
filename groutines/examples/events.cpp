// events: custom events between the prompt and groutines. "echo" answers every `ping n=N`
// with N + 1; "add-counter" counts calls of add and answers `count` with the number so far.
#include <groutines/groutines.hpp>

GROUTINE("echo") {
  for (;;) {
    groutines::CustomEvent ping = groutines::wait_event("ping");
    const groutines::Value& n = ping.get("n");
    if (const auto* i = std::get_if<std::int64_t>(&n))
      ping.reply(*i + 1);
    else
      ping.reply("n is not an integer: " + groutines::to_string(n));
  }
}

GROUTINE("add-counter") {
  std::int64_t calls = 0;
  for (;;) {
    groutines::Occurrence o =
        groutines::any_of({groutines::on_call("add"), groutines::on_event("count")});
    if (o.index() == 0)
      ++calls;
    else
      o.custom().reply(calls);
  }
}
