// faults (C++): the stock faults groutine written with the C++ API, with the options and
// messages of the Python one (groutines/stock/faults.py, docs/stock.md "faults"). Makes calls
// of the functions GROUTINES_FAULTS_FUNCTION (a comma list) fail: the body does not run and
// the caller gets GROUTINES_FAULTS_RETURN (default 0), with the calling thread's errno set to
// GROUTINES_FAULTS_ERRNO first (a number or a name: ENOMEM) when it is given. Which calls:
//   _CALLER    only calls with one of these functions (names or shell patterns) in a frame of
//              the backtrace above the call
//   _THREAD    only calls on these threads: main, a thread id, or a name or shell pattern of
//              the thread's name (/proc/TID/comm)
//   _NTH       N (once), N..M or N..: counted among the calls that pass caller and thread
//   _EVERY     every Nth call
//   _PROBABILITY, _SEED  fail the Nth call when Python's random.Random("SEED:FUNCTION:N")
//              draws under the probability: the same seed fails the same calls as
//              stock:faults (a random seed when none is given, shown in each fault's line)
//   _WHERE     a condition (below); _MAX at most K faults (default 1 with a single nth)
// Each fault is logged and fired as custom event `fault` (function, call, n). A missing
// function, a bad value or an option faults does not have fails the groutine as it starts: a
// load error of `groutines run`, naming the variable.
//
// GROUTINES_FAULTS_WHERE is a conjunction of comparisons, `a0 == 1 and i1 < 0`: operands
// a0..a5 (the integer arguments, unsigned), s0..s5 (the same, signed 64-bit: long),
// i0..i5 (their low 32 bits, signed: int; the upper half of an int's register is not set by
// the caller), n (the call's number, from 1) and integers; operators == != < <= > >=; `and`
// or `&&` between comparisons.
//
//   groutines run --set faults.function=malloc --set faults.probability=0.1
//       --set faults.seed=7 --set faults.caller=parse_config
//       --set faults.errno=ENOMEM stock:cpp/faults -- ./program       (one command line)
#include <groutines/groutines.hpp>

#include <fnmatch.h>

#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "options.hpp"
#include "python_random.hpp"

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

// Range is faults.nth: the first and the last call to fail (last 0: no end).
struct Range {
  long long first = 0, last = 0;
};

// parse_range() reads N, N..M or N.. (from 1, M at least N); nullopt otherwise.
std::optional<Range> parse_range(const std::string& text) {
  Range range;
  std::size_t dots = text.find("..");
  std::string first = text.substr(0, dots), last;
  if (dots != std::string::npos) last = text.substr(dots + 2);
  if (!stock::Options::parse_integer(first, range.first) || range.first < 1) return std::nullopt;
  if (dots == std::string::npos) {
    range.last = range.first;
  } else if (last.find_first_not_of(" \t") != std::string::npos &&
             (!stock::Options::parse_integer(last, range.last) || range.last < range.first)) {
    return std::nullopt;
  }
  return range;
}

// parse_probability() reads a number from 0 to 1 (0.05, 1e-3), whatever the locale;
// nullopt otherwise.
std::optional<double> parse_probability(std::string text) {
  std::size_t first = text.find_first_not_of(" \t"), last = text.find_last_not_of(" \t");
  if (first == std::string::npos) return std::nullopt;
  text = text.substr(first, last - first + 1);
  if (text[0] == '+') text.erase(0, 1);
  double p = -1;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), p);
  if (error != std::errc() || end != text.data() + text.size() || !(p >= 0 && p <= 1))
    return std::nullopt;
  return p;
}

// Faults is what the options say: which calls fail, and how.
struct Faults {
  std::vector<std::string> functions, callers, threads;
  std::optional<Range> nth;
  long long every = 0;
  std::optional<double> probability;
  long long seed = 0;
  std::optional<Where> where;
  std::int64_t value = 0;
  int error_number = -1;
  std::optional<long long> max;  // none: no limit
  long long injected = 0;  // over all the functions
};

// bare_names() are function as a frame names it and without what optimisation or C++ adds:
// "f(int)" -> "f", "f.isra.0" -> "f", "f.cold" -> "f".
std::vector<std::string> bare_names(const std::string& function) {
  std::string bare = function.substr(0, function.find('('));
  return {function, bare, bare.substr(0, bare.find('.'))};
}

// from_caller() tells whether a frame above call (its caller, their caller, ...) is one of
// callers.
bool from_caller(const Call& call, const std::vector<std::string>& callers) {
  std::vector<StackFrame> stack = call.stack();
  for (std::size_t i = 1; i < stack.size(); ++i) {
    if (stack[i].function.empty()) continue;
    for (const std::string& name : bare_names(stack[i].function))
      for (const std::string& pattern : callers)
        if (fnmatch(pattern.c_str(), name.c_str(), 0) == 0) return true;
  }
  return false;
}

// thread_file() is /proc/TID/name of the target's thread tid; the groutine fails when it
// cannot be read (the target runs elsewhere).
std::string thread_file(std::uint64_t tid, const std::string& name) {
  std::string path = "/proc/" + std::to_string(tid) + "/" + name;
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in) {
    GROUTINE_FAIL("faults.thread: cannot read thread " + std::to_string(tid) + "'s " + path +
                  " (" + std::strerror(errno) +
                  "): the thread filter needs the target on this machine");
  }
  return text.str();
}

// thread_name() is the name of the target's thread tid (/proc/TID/comm).
std::string thread_name(std::uint64_t tid) {
  std::string name = thread_file(tid, "comm");
  if (!name.empty() && name.back() == '\n') name.pop_back();
  return name;
}

// on_thread() tells whether call was made on one of threads.
bool on_thread(const Call& call, const std::vector<std::string>& threads) {
  std::uint64_t tid = call.thread_id();
  for (const std::string& spec : threads) {
    if (spec.find_first_not_of("0123456789") == std::string::npos) {
      if (std::strtoull(spec.c_str(), nullptr, 10) == tid) return true;
    } else if (spec == "main") {  // the main thread's id is the process's
      std::string tgid = "\nTgid:\t" + std::to_string(tid) + "\n";
      if (thread_file(tid, "status").find(tgid) != std::string::npos) return true;
    } else if (fnmatch(spec.c_str(), thread_name(tid).c_str(), 0) == 0) {
      return true;
    }
  }
  return false;
}

// chosen() tells whether call, the nth of function (among those that pass caller and
// thread), is to fail.
bool chosen(const Faults& f, const std::string& function, const Call& call, long long n) {
  if (f.nth && (n < f.nth->first || (f.nth->last && n > f.nth->last))) return false;
  if (f.every && n % f.every != 0) return false;
  if (f.probability &&
      !(stock::python_random(std::to_string(f.seed) + ":" + function + ":" +
                             std::to_string(n)) < *f.probability))
    return false;
  return !f.where || f.where->holds(call, n);
}

// chain() renders frames 1..3 of call's stack on one line: "take at faults_cases.c:37 <- main".
std::string chain(const Call& call) {
  std::vector<StackFrame> stack = call.stack(4);
  std::string text;
  for (std::size_t i = 1; i < stack.size(); ++i) {
    const StackFrame& frame = stack[i];
    text += (i > 1 ? " <- " : "") + (frame.function.empty() ? "??" : frame.function);
    if (!frame.file.empty()) text += " at " + frame.file + ":" + std::to_string(frame.line);
  }
  return text;
}

// describe() is the log line of a fault injected at call, as the Python version writes it.
std::string describe(const Faults& f, const std::string& function, const Call& call,
                     long long n) {
  std::string text = "fault: call " + std::to_string(n) + " of " + function + " (#" +
                     std::to_string(call.id()) + ")";
  if (!f.threads.empty())
    text += " on thread " + std::to_string(call.thread_id()) + " ('" +
            thread_name(call.thread_id()) + "')";
  text += " returns " + std::to_string(f.value);
  if (f.error_number >= 0)
    text += " with errno " + std::to_string(f.error_number) + " (" +
            stock::Options::errno_name(f.error_number) + ")";
  if (f.probability) {
    char p[32];  // as printf's %g and Python's :g, whatever the locale
    auto end = std::to_chars(p, p + sizeof p, *f.probability, std::chars_format::general, 6).ptr;
    text += " (probability " + std::string(p, end) + ", seed " + std::to_string(f.seed) + ")";
  }
  return text + ", from " + chain(call);
}

// fail_calls() fails the chosen calls of function, for ever.
void fail_calls(const std::shared_ptr<Faults>& f, const std::string& function) {
  long long n = 0;
  for (Call call : calls(function)) {
    if (!f->threads.empty() && !on_thread(call, f->threads)) continue;
    if (!f->callers.empty() && !from_caller(call, f->callers)) continue;
    ++n;
    if ((f->max && f->injected >= *f->max) || !chosen(*f, function, call, n)) continue;
    if (f->error_number >= 0)
      call.evaluate("*(int *)__errno_location() = " + std::to_string(f->error_number));
    call.return_now(f->value);
    ++f->injected;
    log(describe(*f, function, call, n));
    fire("fault", {{"function", function},
                   {"call", static_cast<std::int64_t>(call.id())},
                   {"n", static_cast<std::int64_t>(n)}});
  }
}

}  // namespace

GROUTINE("faults") {
  stock::Options options("faults");
  options.check({"function", "caller", "thread", "nth", "every", "probability", "seed", "where",
                 "return", "errno", "max"});
  auto f = std::make_shared<Faults>();
  f->functions = options.list("function");
  f->callers = options.list("caller");
  f->threads = options.list("thread");
  if (std::string text = options.text("nth"); !text.empty()) {
    f->nth = parse_range(text);
    if (!f->nth)
      options.fail(options.variable("nth") + "='" + text +
                   "' is not an integer (--set faults.nth=N) or a range of calls (N..M or N.., "
                   "from 1: 3..5)");
  }
  if (std::string text = options.text("every"); !text.empty()) {
    if (!stock::Options::parse_integer(text, f->every) || f->every < 1)
      options.fail(options.variable("every") + "='" + text + "' is not a positive integer");
  }
  if (std::string text = options.text("probability"); !text.empty()) {
    f->probability = parse_probability(text);
    if (!f->probability)
      options.fail(options.variable("probability") + "='" + text +
                   "' is not a probability (a number from 0 to 1: 0.05)");
  }
  f->seed = options.integer("seed", static_cast<long long>(std::random_device()() >> 1));
  f->value = options.integer("return", 0);
  f->error_number = options.errno_number("errno");
  if (!options.text("max").empty())
    f->max = options.integer("max", 0);
  else if (f->nth && f->nth->first == f->nth->last)
    f->max = 1;
  if (std::string text = options.text("where"); !text.empty()) {
    std::string problem;
    f->where = Where::parse(text, problem);
    if (!f->where) options.fail(problem);
  }
  if (f->functions.empty()) options.fail("say which function to fail (--set faults.function=F)");
  if (!options.error().empty()) GROUTINE_FAIL(options.error());
  // A child per function after the first; the first one's calls are this groutine's own.
  for (std::size_t i = 1; i < f->functions.size(); ++i)
    spawn("faults#" + f->functions[i],
          [f, function = f->functions[i]] { fail_calls(f, function); });
  fail_calls(f, f->functions.front());
}
