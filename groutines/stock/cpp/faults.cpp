// faults (C++): the stock faults groutine written with the C++ API. Makes calls of
// GROUTINES_FAULTS_FUNCTION fail: the body does not run and the caller gets
// GROUTINES_FAULTS_RETURN (default 0), for the GROUTINES_FAULTS_NTH call (once), or every
// GROUTINES_FAULTS_EVERY-th call, or the calls GROUTINES_FAULTS_WHERE chooses, or every call;
// at most GROUTINES_FAULTS_MAX faults, setting the calling thread's errno to
// GROUTINES_FAULTS_ERRNO first (a number or a name: ENOMEM) when it is given. Each fault is
// logged and fired as custom event `fault` (function, call, n). A missing function or a bad
// option fails the groutine as it starts: a load error of `groutines run`, naming the option.
//
// GROUTINES_FAULTS_WHERE is a conjunction of comparisons, `a0 == 1 and i1 < 0`: operands
// a0..a5 (the integer arguments, unsigned), s0..s5 (the same, signed 64-bit: long),
// i0..i5 (their low 32 bits, signed: int; the upper half of an int's register is not set by
// the caller), n (the call's number, from 1) and integers; operators == != < <= > >=; `and`
// or `&&` between comparisons.
//
//   groutines run --set faults.function=malloc --set faults.nth=3
//       --set faults.errno=ENOMEM stock:cpp/faults -- ./program       (one command line)
#include <groutines/groutines.hpp>

#include <cctype>
#include <optional>
#include <string>
#include <vector>

#include "options.hpp"

namespace {

using namespace groutines;

// Where is a parsed GROUTINES_FAULTS_WHERE: which calls are to fail.
class Where {
 public:
  // parse() reads text; nullopt, with problem set, when it is not a conjunction of
  // comparisons.
  static std::optional<Where> parse(const std::string& text, std::string& problem) {
    Where where;
    std::size_t at = 0;
    for (;;) {
      Comparison c;
      if (!operand(text, at, c.left) || !op(text, at, c.op) || !operand(text, at, c.right)) {
        problem = "GROUTINES_FAULTS_WHERE='" + text + "': expected `OPERAND OP OPERAND` at '" +
                  text.substr(std::min(at, text.size())) +
                  "' (operands a0..a5, s0..s5, i0..i5, n, integers; OP == != < <= > >=)";
        return std::nullopt;
      }
      where.comparisons_.push_back(c);
      skip_space(text, at);
      if (at == text.size()) return where;
      if (text.compare(at, 2, "&&") == 0) {
        at += 2;
      } else if (text.compare(at, 3, "and") == 0) {
        at += 3;
      } else {
        problem = "GROUTINES_FAULTS_WHERE='" + text + "': expected `and` or `&&` at '" +
                  text.substr(at) + "'";
        return std::nullopt;
      }
    }
  }

  // holds() tells whether call, the nth of its function, is chosen.
  bool holds(const Call& call, long long n) const {
    for (const Comparison& c : comparisons_) {
      int order = compare(value(c.left, call, n), value(c.right, call, n));
      bool ok = c.op == "==" ? order == 0 : c.op == "!=" ? order != 0 : c.op == "<" ? order < 0
              : c.op == "<=" ? order <= 0 : c.op == ">" ? order > 0 : order >= 0;
      if (!ok) return false;
    }
    return true;
  }

 private:
  // Operand is an argument (unsigned or signed), the call's number, or a constant.
  struct Operand {
    enum class Kind { Unsigned, Signed, Int, Number, Constant } kind = Kind::Constant;
    unsigned index = 0;
    long long constant = 0;
  };
  struct Comparison {
    Operand left, right;
    std::string op;
  };

  static void skip_space(const std::string& text, std::size_t& at) {
    while (at < text.size() && std::isspace(static_cast<unsigned char>(text[at]))) ++at;
  }

  static bool operand(const std::string& text, std::size_t& at, Operand& out) {
    skip_space(text, at);
    if (at >= text.size()) return false;
    char c = text[at];
    if ((c == 'a' || c == 's' || c == 'i') && at + 1 < text.size() && text[at + 1] >= '0' &&
        text[at + 1] <= '5' &&
        (at + 2 == text.size() || !std::isalnum(static_cast<unsigned char>(text[at + 2])))) {
      out.kind = c == 'a'   ? Operand::Kind::Unsigned
                 : c == 's' ? Operand::Kind::Signed
                            : Operand::Kind::Int;
      out.index = static_cast<unsigned>(text[at + 1] - '0');
      at += 2;
      return true;
    }
    if (c == 'n' &&
        (at + 1 == text.size() || !std::isalnum(static_cast<unsigned char>(text[at + 1])))) {
      out.kind = Operand::Kind::Number;
      ++at;
      return true;
    }
    std::size_t end = at;
    if (end < text.size() && text[end] == '-') ++end;
    while (end < text.size() && std::isalnum(static_cast<unsigned char>(text[end]))) ++end;
    if (!stock::Options::parse_integer(text.substr(at, end - at), out.constant)) return false;
    out.kind = Operand::Kind::Constant;
    at = end;
    return true;
  }

  static bool op(const std::string& text, std::size_t& at, std::string& out) {
    skip_space(text, at);
    for (const char* candidate : {"==", "!=", "<=", ">=", "<", ">"}) {
      if (text.compare(at, std::char_traits<char>::length(candidate), candidate) == 0) {
        out = candidate;
        at += out.size();
        return true;
      }
    }
    return false;
  }

  // Number is an operand's value: 64 bits, read as signed or unsigned.
  struct Number {
    bool is_signed;
    std::uint64_t bits;
  };

  static Number value(const Operand& o, const Call& call, long long n) {
    switch (o.kind) {
      case Operand::Kind::Unsigned: return {false, call.arg(o.index)};
      case Operand::Kind::Signed: return {true, call.arg(o.index)};
      case Operand::Kind::Int:  // a C int: the low half of the register, sign-extended
        return {true, static_cast<std::uint64_t>(static_cast<std::int64_t>(
                          static_cast<std::int32_t>(call.arg(o.index))))};
      case Operand::Kind::Number: return {true, static_cast<std::uint64_t>(n)};
      case Operand::Kind::Constant: return {true, static_cast<std::uint64_t>(o.constant)};
    }
    return {false, 0};
  }

  // compare() orders two numbers by their values (a negative one is below every unsigned).
  static int compare(Number l, Number r) {
    auto negative = [](Number x) { return x.is_signed && static_cast<std::int64_t>(x.bits) < 0; };
    if (negative(l) != negative(r)) return negative(l) ? -1 : 1;
    if (negative(l)) {  // both negative: as signed
      auto a = static_cast<std::int64_t>(l.bits), b = static_cast<std::int64_t>(r.bits);
      return a < b ? -1 : a > b;
    }
    return l.bits < r.bits ? -1 : l.bits > r.bits;
  }

  std::vector<Comparison> comparisons_;
};

}  // namespace

GROUTINE("faults") {
  stock::Options options("faults");
  const std::string function = options.required("function", "which function to fail");
  if (function.find(',') != std::string::npos)
    options.fail("GROUTINES_FAULTS_FUNCTION='" + function +
                 "': the C++ version fails one function (the Python one, stock:faults, several)");
  const long long nth = options.count("nth", 0, 1);
  const long long every = options.count("every", 0, 1);
  const long long max = options.count("max", nth ? 1 : -1, 0);
  const std::int64_t value = options.integer("return", 0);
  const int error_number = options.errno_number("errno");
  std::optional<Where> where;
  if (std::string text = options.text("where"); !text.empty()) {
    std::string problem;
    where = Where::parse(text, problem);
    if (!where) options.fail(problem);
  }
  if (!options.error().empty()) GROUTINE_FAIL(options.error());
  long long n = 0, injected = 0;
  for (Call call : calls(function)) {
    ++n;
    if ((max >= 0 && injected >= max) || (nth && n != nth) || (every && n % every != 0) ||
        (where && !where->holds(call, n)))
      continue;
    if (error_number >= 0)
      call.evaluate("*(int *)__errno_location() = " + std::to_string(error_number));
    call.return_now(value);
    ++injected;
    log("fault: call " + std::to_string(n) + " of " + function + " (#" +
        std::to_string(call.id()) + ") returns " + std::to_string(value) +
        (error_number >= 0 ? " with errno " + std::to_string(error_number) : ""));
    fire("fault", {{"function", function},
                   {"call", static_cast<std::int64_t>(call.id())},
                   {"n", static_cast<std::int64_t>(n)}});
  }
}
