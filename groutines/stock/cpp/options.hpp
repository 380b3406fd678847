// options.hpp: the options of a C++ stock groutine, read from environment variables
// GROUTINES_<GROUTINE>_<KEY> (what `groutines run --set groutine.key=value` sets), as the
// Python stock groutines read theirs (_stock.option). A missing required option or a bad
// value is kept as error(): the groutine fails with it as it starts, which `groutines run`
// reports as a load error (exit code 2) naming the option.
#pragma once

#include <unistd.h>  // environ

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

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

  // errno_number() is option key as an errno: a number (0 to 4095) or a name in any case
  // (ENOMEM, enomem), or -1 when unset; another text sets error(). The names are Python's
  // errno module's: glibc's and the aliases EWOULDBLOCK, EDEADLOCK and ENOTSUP.
  int errno_number(const std::string& key) {
    std::string value = text(key);
    if (value.empty()) return -1;
    long long n = 0;
    if (parse_integer(value, n)) {
      if (n >= 0 && n < 4096) return static_cast<int>(n);
    } else if (int e = errno_named(value); e >= 0) {
      return e;
    }
    fail(variable(key) + "='" + value + "' is not an errno (a number, or a name: ENOMEM)");
    return -1;
  }

  // errno_named() is the errno called name (ENOMEM, in any case), or -1 for none.
  static int errno_named(std::string name) {
    for (char& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (name.size() < 2 || name[0] != 'E') return -1;
    for (const auto& [alias, e] : kErrnoAliases)
      if (name == alias) return e;
    for (int e = 1; e < 4096; ++e) {
      const char* known = strerrorname_np(e);
      if (known && name == known) return e;
    }
    return -1;
  }

  // errno_name() is the name of errno e as Python's errno.errorcode has it (ENOMEM), or its
  // number as text.
  static std::string errno_name(int e) {
    if (e == EDEADLK) return "EDEADLOCK";
    if (e == EOPNOTSUPP) return "ENOTSUP";
    const char* name = e > 0 ? strerrorname_np(e) : nullptr;
    return name ? name : std::to_string(e);
  }

  // check() sets error() naming the first GROUTINES_<GROUTINE>_* variable that is none of
  // keys (a misspelt --set groutine.key=...), with the keys it knows.
  void check(const std::vector<std::string>& keys) {
    const std::string prefix = variable("");
    std::vector<std::string> unknown;
    for (char** entry = environ; *entry; ++entry) {
      std::string name(*entry);
      name = name.substr(0, name.find('='));
      if (name.compare(0, prefix.size(), prefix) != 0) continue;
      bool known = false;
      for (const std::string& key : keys) known = known || name == variable(key);
      if (!known) unknown.push_back(name);
    }
    if (unknown.empty()) return;
    std::string name = *std::min_element(unknown.begin(), unknown.end());
    std::string key = name.substr(prefix.size());
    for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string list;
    for (const std::string& k : keys) list += (list.empty() ? "" : ", ") + k;
    fail("no option " + groutine_ + "." + key + " (" + name + "); its options: " + list);
  }

  // list() is option key as a list: items split at ',' or ';', trimmed, empty ones dropped.
  std::vector<std::string> list(const std::string& key) {
    std::vector<std::string> items;
    std::string item;
    for (char c : text(key) + ",") {
      if (c != ',' && c != ';') {
        item += c;
        continue;
      }
      std::size_t first = item.find_first_not_of(" \t\n\r\f\v");
      if (first != std::string::npos)
        items.push_back(item.substr(first, item.find_last_not_of(" \t\n\r\f\v") - first + 1));
      item.clear();
    }
    return items;
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
  static constexpr std::pair<const char*, int> kErrnoAliases[] = {
      {"EWOULDBLOCK", EWOULDBLOCK}, {"EDEADLOCK", EDEADLOCK}, {"ENOTSUP", ENOTSUP}};

  std::string groutine_;
  std::string error_;
};

}  // namespace stock
