// cpp-asker: a C++ groutine for the Python tests (test_events.py). At every call of ask(),
// fires "question" and logs the replies, to show C++ firing to Python listeners.
#include <groutines/groutines.hpp>

#include <string>

GROUTINE("cpp-asker") {
  for (;;) {
    groutines::wait_call("ask");
    std::string line;
    for (const groutines::Reply& r :
         groutines::fire("question", {{"from", std::string("c++")}}))
      line += (line.empty() ? "" : " ") + r.groutine + "=" + groutines::to_string(r.value);
    groutines::log(line);
  }
}
