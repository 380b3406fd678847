#include "groutines/wait.hpp"

namespace groutines {

std::string describe(const std::vector<WaitText>& alternatives) {
  auto one = [](const WaitText& a) {
    std::string s;
    switch (a.kind) {
      case EventKind::Call: s = "call of " + std::string(a.name); break;
      case EventKind::Return: s = "return of call #" + std::to_string(a.call); break;
      case EventKind::Custom: s = "event '" + std::string(a.name) + "'"; break;
    }
    return a.condition ? s + " (with a condition)" : s;
  };
  if (alternatives.size() == 1) return one(alternatives.front());
  std::string s = "any of (";
  for (std::size_t i = 0; i < alternatives.size(); ++i)
    s += (i ? ", " : "") + one(alternatives[i]);
  return s + ")";
}

}  // namespace groutines
