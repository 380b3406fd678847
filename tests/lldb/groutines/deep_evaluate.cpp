// deep_evaluate: at each call of add(), evaluates an expression (calling strlen in the target)
// from deep inside its own fiber stack: 245 frames of 4 KiB, 980 KiB of the plugin's 1 MiB,
// leaving less than LLDB needs to compile an expression. It works because evaluate() runs on
// the stack of the thread delivering the event (Driver::on_caller_stack), not on the fiber's;
// without that, LLDB dies on the fiber's guard page.
#include <groutines/groutines.hpp>

#include <string>
#include <variant>

namespace {

std::int64_t evaluate_deep(const groutines::Call& call, int levels) {
  volatile char pad[4096];
  pad[levels % sizeof pad] = 1;
  if (levels > 0) return evaluate_deep(call, levels - 1) + pad[levels % sizeof pad] - 1;
  groutines::Value v =
      call.evaluate("(long)strlen(\"0123456789\") - 10 + (long)$rdi * 10 + (long)$rsi");
  return std::get<std::int64_t>(v);
}

}  // namespace

GROUTINE("deep-evaluate") {
  for (groutines::Call call : groutines::calls("add")) {
    std::int64_t value = evaluate_deep(call, 245);
    groutines::log("add(" + std::to_string(call.arg(0)) + "," + std::to_string(call.arg(1)) +
                   ") evaluated " + std::to_string(value));
  }
}
