// calls_checks: one groutine per function of tests/targets/calls.c. Each reads the call's
// arguments by position (and, with debug info, by name), waits for its return, checks the
// result against what the function computes, and logs one line in the format the target
// prints, so a test can compare the two: "add(0,1)=1".
#include <groutines/groutines.hpp>

#include <cstdio>
#include <string>

namespace {

std::string format_double(double d) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%g", d);
  return buf;
}

std::int64_t named_int(const groutines::Call& call, const char* name) {
  groutines::Value v = call.arg(std::string_view(name));
  return std::get<std::int64_t>(v);
}

}  // namespace

GROUTINE("check-add") {
  for (groutines::Call call : groutines::calls("add")) {
    auto a = static_cast<std::int32_t>(call.arg(0));
    auto b = static_cast<std::int32_t>(call.arg(1));
    std::vector<groutines::Argument> named = call.args();
    std::string note = named.empty() ? " (no debug info)" : "";
    if (!named.empty()) {
      GROUTINE_CHECK_EQ(named.size(), 2u);
      GROUTINE_CHECK_EQ(named_int(call, "a"), a);
      GROUTINE_CHECK_EQ(named_int(call, "b"), b);
      note = " named a=" + std::to_string(named_int(call, "a")) +
             " b=" + std::to_string(named_int(call, "b")) + " type " + named[0].type;
    }
    groutines::Return r = call.returned();
    auto result = static_cast<std::int32_t>(r.value());
    GROUTINE_CHECK_EQ(result, a + b);
    groutines::log("add(" + std::to_string(a) + "," + std::to_string(b) +
                   ")=" + std::to_string(result) + note);
  }
}

GROUTINE("check-scale") {
  for (groutines::Call call : groutines::calls("scale")) {
    double x = call.float_arg(0);
    double factor = call.float_arg(1);
    if (!call.args().empty()) {
      GROUTINE_CHECK_EQ(std::get<double>(call.arg(std::string_view("x"))), x);
      GROUTINE_CHECK_EQ(std::get<double>(call.arg(std::string_view("factor"))), factor);
    }
    groutines::Return r = call.returned();
    GROUTINE_CHECK_EQ(r.float_value(), x * factor);
    groutines::log("scale(" + format_double(x) + "," + format_double(factor) +
                   ")=" + format_double(r.float_value()));
  }
}

GROUTINE("check-parse-header") {
  for (groutines::Call call : groutines::calls("parse_header")) {
    std::uint64_t len = call.arg(1);
    std::string buf = call.read_cstring(call.arg(0), 64);
    GROUTINE_CHECK_EQ(buf.size(), len);
    groutines::Return r = call.returned();
    groutines::log("parse_header(\"" + buf + "\"," + std::to_string(len) +
                   ")=" + std::to_string(r.value()));
  }
}

GROUTINE("check-mix") {
  for (groutines::Call call : groutines::calls("mix")) {
    std::int64_t v[8];
    std::string text = "mix(";
    for (unsigned i = 0; i < 8; ++i) {
      v[i] = call.sarg(i);
      text += (i ? "," : "") + std::to_string(v[i]);
    }
    if (!call.args().empty()) GROUTINE_CHECK_EQ(named_int(call, "h"), v[7]);
    groutines::Return r = call.returned();
    std::int64_t expect = 0;
    for (unsigned i = 0; i < 8; ++i) expect += static_cast<std::int64_t>(i + 1) * v[i];
    GROUTINE_CHECK_EQ(r.value(), expect);
    groutines::log(text + ")=" + std::to_string(r.value()));
  }
}

GROUTINE("check-greet") {
  // A Return handle reads registers, not memory: the greeting itself is not checked here.
  for (groutines::Call call : groutines::calls("greet")) {
    std::string name = call.read_cstring(call.arg(0));
    groutines::Return r = call.returned();
    GROUTINE_CHECK(r.value() != 0);
    groutines::log("greet(\"" + name + "\") returned a pointer");
  }
}
