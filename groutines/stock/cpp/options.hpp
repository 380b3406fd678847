// options.hpp: the options of a C++ stock groutine, read from environment variables
// GROUTINES_<GROUTINE>_<KEY> (what `groutines run --set groutine.key=value` sets), as the
// Python stock groutines read theirs (_stock.option). A missing required option or a bad
// value is kept as error(): the groutine fails with it as it starts, which `groutines run`
// reports as a load error (exit code 2) naming the option.
#pragma once

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

namespace stock {

class Options {
 public:
  // Options() reads the options of groutine ("faults": GROUTINES_FAULTS_...).
  explicit Options(std::string groutine) : groutine_(std::move(groutine)) {}

  // text() is option key's value, or fallback when it is unset or empty.
  std::string text(const std::string& key, std::string fallback = {}) {
    const char* value = std::getenv(variable(key).c_str());
    return value && *value ? std::string(value) : fallback;
  }

  // required() is option key's value; when it is unset or empty, error() says what to set.
  std::string required(const std::string& key, const std::string& what) {
    std::string value = text(key);
    if (value.empty())
      fail("say " + what + " (--set " + groutine_ + "." + key + "=...)");
    return value;
  }

  // integer() is option key as an integer (decimal, 0x hex, 0 octal, optionally signed), or
  // fallback when unset; another text sets error().
  long long integer(const std::string& key, long long fallback) {
    std::string value = text(key);
    if (value.empty()) return fallback;
    long long n = 0;
    if (!parse_integer(value, n))
      fail(variable(key) + "='" + value + "' is not an integer (--set " + groutine_ + "." +
           key + "=N)");
    return n;
  }

  // count() is integer() that, when set, must be at least minimum.
  long long count(const std::string& key, long long fallback, long long minimum) {
    if (text(key).empty()) return fallback;
    long long n = integer(key, fallback);
    if (n < minimum)
      fail(variable(key) + "=" + text(key) + " must be at least " + std::to_string(minimum));
    return n;
  }

  // fail() keeps problem as error() unless an earlier one is kept.
  void fail(const std::string& problem) {
    if (error_.empty()) error_ = "stock " + groutine_ + ": " + problem;
  }

  // errno_number() is option key as an errno: a number or a name (ENOMEM), or -1 when unset;
  // another text sets error().
  int errno_number(const std::string& key) {
    std::string value = text(key);
    if (value.empty()) return -1;
    long long n = 0;
    if (parse_integer(value, n) && n >= 0) return static_cast<int>(n);
    for (int e = 1; e < 4096; ++e) {
      const char* name = strerrorname_np(e);
      if (name && value == name) return e;
    }
    fail(variable(key) + "='" + value + "' is not an errno (a number, or a name: ENOMEM)");
    return -1;
  }

  // error() is the first problem with the options, "" when there is none.
  const std::string& error() const { return error_; }

  // variable() is the environment variable of option key: GROUTINES_FAULTS_NTH.
  std::string variable(const std::string& key) const {
    std::string name = "GROUTINES_" + groutine_ + "_" + key;
    for (char& c : name) c = std::isalnum(static_cast<unsigned char>(c)) ? std::toupper(c) : '_';
    return name;
  }

  // parse_integer() reads all of text as an integer into n; false when it is not one.
  static bool parse_integer(const std::string& text, long long& n) {
    if (text.empty()) return false;
    errno = 0;
    char* end = nullptr;
    n = std::strtoll(text.c_str(), &end, 0);
    return errno == 0 && end == text.c_str() + text.size();
  }

 private:
  std::string groutine_;
  std::string error_;
};

}  // namespace stock
