#include "groutines/value.hpp"

#include <cerrno>
#include <cstdlib>
#include <sstream>

namespace groutines {

std::string to_string(const Value& value) {
  struct Render {
    std::string operator()(std::monostate) const { return "none"; }
    std::string operator()(bool b) const { return b ? "true" : "false"; }
    std::string operator()(std::int64_t i) const { return std::to_string(i); }
    std::string operator()(double d) const {
      std::ostringstream os;
      os.precision(17);
      os << d;
      std::string s = os.str();
      if (s.find_first_of(".eEn") == std::string::npos) s += ".0";  // keep it a float
      return s;
    }
    std::string operator()(const std::string& s) const {
      std::string out = "\"";
      for (char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
      }
      return out + "\"";
    }
  };
  return std::visit(Render{}, value);
}

std::string to_string(const Data& data) {
  std::string out;
  for (const Field& f : data) {
    if (!out.empty()) out += ' ';
    out += f.key + "=" + to_string(f.value);
  }
  return out;
}

const Value* find(const Data& data, std::string_view key) {
  for (const Field& f : data)
    if (f.key == key) return &f.value;
  return nullptr;
}

Value parse_value(std::string_view text) {
  if (text == "none") return std::monostate{};
  if (text == "true") return true;
  if (text == "false") return false;
  if (text.size() >= 2 && (text.front() == '"' || text.front() == '\'') &&
      text.back() == text.front())
    return std::string(text.substr(1, text.size() - 2));
  std::string s(text);
  if (!s.empty()) {
    char* end = nullptr;
    errno = 0;
    long long i = std::strtoll(s.c_str(), &end, 0);
    if (errno == 0 && end == s.c_str() + s.size()) return static_cast<std::int64_t>(i);
    errno = 0;
    unsigned long long u = std::strtoull(s.c_str(), &end, 0);  // e.g. 0xffffffffffffffff
    if (errno == 0 && end == s.c_str() + s.size() && s.front() != '-')
      return static_cast<std::int64_t>(u);
    errno = 0;
    double d = std::strtod(s.c_str(), &end);
    if (errno == 0 && end == s.c_str() + s.size()) return d;
  }
  return s;
}

}  // namespace groutines
