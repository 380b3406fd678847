#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "groutines/export.hpp"

namespace groutines {

// Value is what custom events carry, what replies are and what a forced or rewritten
// return value is: nothing, a bool, a signed 64-bit integer, a double or a string.
using Value = std::variant<std::monostate, bool, std::int64_t, double, std::string>;

// Field is one key=value pair of a custom event's data.
struct Field {
  std::string key;
  Value value;
};

// Data is a custom event's payload, in the order the firer gave it.
using Data = std::vector<Field>;

// to_string() renders a value the way the prompt shows it: 42, 1.5, true, "text", none.
GROUTINES_API std::string to_string(const Value& value);

// to_string() renders data as `key=value key=value`.
GROUTINES_API std::string to_string(const Data& data);

// find() returns the value of key in data, or nullptr when data has no such key.
GROUTINES_API const Value* find(const Data& data, std::string_view key);

// parse_value() reads a value typed at the prompt: integers (decimal, 0x hex, negative),
// floats, true/false, none, and anything else (optionally "quoted") as a string.
GROUTINES_API Value parse_value(std::string_view text);

}  // namespace groutines
