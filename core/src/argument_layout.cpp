#include "groutines/argument_layout.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>

#include "groutines/error.hpp"
#include "groutines/value.hpp"

namespace groutines::sysv {

namespace {

// Class is the SysV class of one eightbyte (AMD64 ABI 3.2.3); SSEUP and COMPLEX_X87 are not
// told apart from the classes they merge into here (no vector types; a complex long double
// is two X87 pairs, which is MEMORY as an argument either way).
enum class Class : std::uint8_t { NoClass, Integer, Sse, X87, X87Up, Memory };

Class merge(Class a, Class b) {
  if (a == b) return a;
  if (a == Class::NoClass) return b;
  if (b == Class::NoClass) return a;
  if (a == Class::Memory || b == Class::Memory) return Class::Memory;
  if (a == Class::Integer || b == Class::Integer) return Class::Integer;
  if (a == Class::X87 || a == Class::X87Up || b == Class::X87 || b == Class::X87Up)
    return Class::Memory;
  return Class::Sse;
}

std::uint64_t natural_align(std::uint64_t size) { return std::clamp<std::uint64_t>(size, 1, 16); }

std::uint64_t align_of(const TypeDescription& type) {
  if (type.align) return type.align;
  if (type.type == TypeClass::X87) return 16;
  if (type.type != TypeClass::Aggregate) return natural_align(type.size);
  std::uint64_t align = 1;
  for (const Scalar& s : type.scalars)
    align = std::max(align, s.type == TypeClass::X87 ? 16 : natural_align(s.size));
  return align;
}

// Eightbytes is the classification of a type passed by value: one class per eightbyte, or
// memory.
struct Eightbytes {
  std::array<Class, 2> classes{Class::NoClass, Class::NoClass};
  unsigned count = 0;
  bool memory = false;
};

Eightbytes classify(const TypeDescription& type) {
  Eightbytes e;
  auto scalar = [&](std::uint64_t offset, std::uint64_t size, TypeClass t) {
    std::uint64_t at = offset / 8;
    if (t == TypeClass::X87) {
      if (at + 1 < 2) {
        e.classes[at] = merge(e.classes[at], Class::X87);
        e.classes[at + 1] = merge(e.classes[at + 1], Class::X87Up);
      } else {
        e.memory = true;
      }
      return;
    }
    const Class c = t == TypeClass::Float ? Class::Sse : Class::Integer;
    for (std::uint64_t i = at; i <= (offset + std::max<std::uint64_t>(size, 1) - 1) / 8; ++i) {
      if (i >= 2) {
        e.memory = true;
        return;
      }
      e.classes[i] = merge(e.classes[i], c);
    }
  };
  switch (type.type) {
    case TypeClass::Integer:
    case TypeClass::Bool:
    case TypeClass::Pointer:
    case TypeClass::Float:
    case TypeClass::X87:
      scalar(0, type.size, type.type);
      break;
    case TypeClass::Aggregate:
      if (type.size > 16) {
        e.memory = true;
        break;
      }
      for (const Scalar& s : type.scalars) {
        // An unaligned member makes the whole aggregate MEMORY.
        const std::uint64_t align = s.type == TypeClass::X87 ? 16 : natural_align(s.size);
        if (s.offset % align != 0) e.memory = true;
        scalar(s.offset, s.size, s.type);
      }
      break;
    default:
      e.memory = true;
      break;
  }
  e.count = static_cast<unsigned>(std::min<std::uint64_t>((type.size + 7) / 8, 2));
  for (unsigned i = 0; i < e.count; ++i) {
    if (e.classes[i] == Class::Memory) e.memory = true;
    if (e.classes[i] == Class::X87Up && (i == 0 || e.classes[i - 1] != Class::X87))
      e.memory = true;
  }
  return e;
}

bool passed_in_memory(const Eightbytes& e) {
  if (e.memory) return true;
  for (unsigned i = 0; i < e.count; ++i)
    if (e.classes[i] == Class::X87 || e.classes[i] == Class::X87Up) return true;
  return false;
}

ArgumentSlot::Read read_of(const TypeDescription& type) {
  switch (type.type) {
    case TypeClass::Integer:
    case TypeClass::Pointer:
      return type.size <= 8 ? ArgumentSlot::Read::Integer : ArgumentSlot::Read::None;
    case TypeClass::ByReference:
      return ArgumentSlot::Read::Integer;
    case TypeClass::Bool:
      return ArgumentSlot::Read::Bool;
    case TypeClass::Float:
      return type.size == 8   ? ArgumentSlot::Read::Double
             : type.size == 4 ? ArgumentSlot::Read::Float
                              : ArgumentSlot::Read::None;
    default:
      return ArgumentSlot::Read::None;
  }
}

bool in_registers(const ArgumentSlot& slot) {
  return !slot.parts.empty() && slot.parts.front().kind != Place::Kind::Stack;
}

// use_entry_registers() corrects layout (worked out in listing order) with the registers the
// debug info gives parameters at the first instruction; by_slot[i] is slot i's parameter.
void use_entry_registers(const FunctionDescription& function,
                         const std::vector<const Parameter*>& by_slot, ArgumentLayout& layout) {
  const bool any = std::any_of(function.parameters.begin(), function.parameters.end(),
                               [](const Parameter& p) { return p.entry_register.has_value(); });
  if (!any) return;
  auto claimed = [&](const Place& place, const Parameter* by) {
    if (place.kind == Place::Kind::Stack || place.kind == Place::Kind::Unavailable) return false;
    const Register r{place.kind == Place::Kind::SseRegister, place.index};
    for (const Parameter& p : function.parameters)
      if (&p != by && p.entry_register == r) return true;
    return false;
  };
  for (std::size_t i = 0; i < layout.size(); ++i) {
    ArgumentSlot& slot = layout[i];
    const Parameter& p = *by_slot[i];
    if (slot.read == ArgumentSlot::Read::Unavailable) continue;
    const bool sse = slot.place().kind == Place::Kind::SseRegister ||
                     (slot.place().kind == Place::Kind::Stack &&
                      (slot.read == ArgumentSlot::Read::Double ||
                       slot.read == ArgumentSlot::Read::Float));
    if (p.entry_register && p.entry_register->sse == sse && slot.parts.size() == 1) {
      slot.parts.front() = Place{sse ? Place::Kind::SseRegister : Place::Kind::IntRegister,
                                 p.entry_register->index, 0};
      continue;
    }
    const bool taken = in_registers(slot) &&
                       std::any_of(slot.parts.begin(), slot.parts.end(),
                                   [&](const Place& place) { return claimed(place, &p); });
    if (p.entry_register || function.clone || taken) {
      slot.read = ArgumentSlot::Read::Unavailable;
      slot.parts.clear();
    }
  }
}

std::uint64_t round_up(std::uint64_t v, std::uint64_t to) { return (v + to - 1) / to * to; }

}  // namespace

std::optional<Register> register_named(std::string_view reg) noexcept {
  static constexpr const char* kNames[kIntArgumentRegisters][5] = {
      {"rdi", "edi", "di", "dil", nullptr}, {"rsi", "esi", "si", "sil", nullptr},
      {"rdx", "edx", "dx", "dl", nullptr},  {"rcx", "ecx", "cx", "cl", nullptr},
      {"r8", "r8d", "r8w", "r8l", "r8b"},   {"r9", "r9d", "r9w", "r9l", "r9b"}};
  for (unsigned i = 0; i < kIntArgumentRegisters; ++i)
    for (const char* name : kNames[i])
      if (name && reg == name) return Register{false, i};
  if (reg.size() == 4 && reg.substr(0, 3) == "xmm" && reg[3] >= '0' &&
      reg[3] < '0' + static_cast<char>(kSseArgumentRegisters))
    return Register{true, static_cast<unsigned>(reg[3] - '0')};
  return std::nullopt;
}

bool returns_in_memory(const TypeDescription& type) noexcept {
  if (type.type == TypeClass::ByReference) return true;
  if (type.type != TypeClass::Aggregate) return false;
  // A lone long double in a struct (X87, X87UP) comes back in st0.
  const Eightbytes e = classify(type);
  return e.memory;
}

ArgumentLayout argument_layout(const FunctionDescription& function) {
  ArgumentLayout layout;
  std::vector<const Parameter*> order;
  for (const Parameter& p : function.parameters)
    if (p.is_this) {
      order.push_back(&p);
      break;
    }
  for (const Parameter& p : function.parameters)
    if (order.empty() || &p != order.front()) order.push_back(&p);

  unsigned next_int = returns_in_memory(function.return_type) ? 1 : 0;
  unsigned next_sse = 0;
  std::uint64_t stack = 0;
  bool unknown = false;
  auto on_stack = [&](ArgumentSlot& slot, const TypeDescription& type) {
    stack = round_up(stack, std::max<std::uint64_t>(8, align_of(type)));
    slot.parts.push_back(Place{Place::Kind::Stack, 0, stack});
    stack += round_up(std::max<std::uint64_t>(type.size, 1), 8);
  };
  for (const Parameter* p : order) {
    ArgumentSlot& slot = layout.emplace_back();
    slot.name = p->name;
    slot.type = p->type.name;
    slot.size = p->type.size;
    slot.is_signed = p->type.is_signed;
    const TypeDescription& type = p->type;
    if (unknown || type.type == TypeClass::Unknown || type.type == TypeClass::Void) {
      unknown = true;
      continue;
    }
    slot.read = read_of(type);
    if (p->is_this || type.type == TypeClass::ByReference) {
      // A pointer: to the object, or to the caller's copy of a class not trivial for calls.
      slot.size = 8;
      slot.is_signed = false;
      if (next_int < kIntArgumentRegisters) {
        slot.parts.push_back(Place{Place::Kind::IntRegister, next_int++, 0});
      } else {
        stack = round_up(stack, 8);
        slot.parts.push_back(Place{Place::Kind::Stack, 0, stack});
        stack += 8;
      }
      continue;
    }
    const Eightbytes e = classify(type);
    if (passed_in_memory(e)) {
      on_stack(slot, type);
      continue;
    }
    unsigned ints = 0;
    unsigned sses = 0;
    for (unsigned i = 0; i < e.count; ++i) {
      ints += e.classes[i] == Class::Integer;
      sses += e.classes[i] == Class::Sse;
    }
    if (ints + sses == 0) {
      // An empty class takes no register and no stack.
      slot.read = ArgumentSlot::Read::None;
      continue;
    }
    if (next_int + ints > kIntArgumentRegisters || next_sse + sses > kSseArgumentRegisters) {
      // No part of an argument goes in registers unless all of it does.
      on_stack(slot, type);
      continue;
    }
    for (unsigned i = 0; i < e.count; ++i) {
      if (e.classes[i] == Class::Integer)
        slot.parts.push_back(Place{Place::Kind::IntRegister, next_int++, 0});
      else if (e.classes[i] == Class::Sse)
        slot.parts.push_back(Place{Place::Kind::SseRegister, next_sse++, 0});
    }
  }
  use_entry_registers(function, order, layout);
  return layout;
}

ReturnLayout return_layout(const TypeDescription& type) noexcept {
  ReturnLayout r;
  r.type = type.type;
  r.type_name = type.name;
  switch (type.type) {
    case TypeClass::Integer:
    case TypeClass::Bool:
    case TypeClass::Pointer:
      if (type.size == 0 || type.size > 8) break;
      r.known = true;
      r.size = type.size;
      r.is_signed = type.type == TypeClass::Integer && type.is_signed;
      break;
    case TypeClass::Float:
      if (type.size != 4 && type.size != 8) break;
      r.known = true;
      r.floating = true;
      r.size = type.size;
      break;
    default:
      break;
  }
  return r;
}

namespace {

// to_integer() is a floating value converted to an integer return type as C converts it
// (towards zero); Error when the integer type cannot hold it.
std::uint64_t to_integer(const ReturnLayout& type, double value) {
  if (type.type == TypeClass::Bool) return value != 0 ? 1 : 0;
  if (type.type == TypeClass::Pointer)
    throw Error("cannot return " + to_string(Value(value)) +
                " from a function that returns a pointer: give an integer address");
  const double truncated = std::trunc(value);
  const unsigned bits = static_cast<unsigned>(std::min<std::uint64_t>(type.size, 8) * 8);
  // The range of the type, as doubles (exact: powers of two).
  const double top = std::ldexp(1.0, static_cast<int>(type.is_signed ? bits - 1 : bits));
  const double bottom = type.is_signed ? -top : 0.0;
  if (!(truncated >= bottom && truncated < top))  // NaN too
    throw Error("cannot return " + to_string(Value(value)) + " from a function that returns " +
                (type.is_signed ? "a signed " : "an unsigned ") + std::to_string(bits) +
                "-bit integer: out of its range");
  if (type.is_signed) return static_cast<std::uint64_t>(static_cast<std::int64_t>(truncated));
  return static_cast<std::uint64_t>(truncated);
}

}  // namespace

ReturnRegisters return_registers(const ReturnLayout& type, const Value& value) {
  using Reg = ReturnRegisters::Register;
  const bool is_double = std::holds_alternative<double>(value);
  if (!is_double && !std::holds_alternative<std::int64_t>(value) &&
      !std::holds_alternative<bool>(value))
    throw Error("a return value must be a number or a bool, not " + to_string(value));
  // The value as either kind: an integer's 64 bits (a bool is 0 or 1), or a double.
  const std::int64_t integer = is_double                                 ? 0
                               : std::holds_alternative<bool>(value)    ? std::get<bool>(value)
                                                                        : std::get<std::int64_t>(value);
  const double floating = is_double ? std::get<double>(value) : static_cast<double>(integer);
  ReturnRegisters out;
  switch (type.type) {
    case TypeClass::Integer:
    case TypeClass::Bool:
    case TypeClass::Pointer:
      out.reg = Reg::Rax;
      if (is_double) {
        out.bits = to_integer(type, floating);
      } else if (type.type == TypeClass::Bool) {
        out.bits = integer != 0 ? 1 : 0;
      } else {
        out.bits = static_cast<std::uint64_t>(integer);
      }
      return out;
    case TypeClass::Float:
      if (type.size == 4) {
        // From an integer directly, not through a double: C rounds once.
        const float f = is_double ? static_cast<float>(floating) : static_cast<float>(integer);
        std::uint32_t b = 0;
        std::memcpy(&b, &f, sizeof b);
        out.reg = Reg::Xmm0Float;
        out.bits = b;
        return out;
      }
      if (type.size == 8) {
        out.reg = Reg::Xmm0Double;
        std::memcpy(&out.bits, &floating, sizeof out.bits);
        return out;
      }
      throw Error("cannot return " + to_string(value) + " from a function that returns a " +
                  std::to_string(type.size) + "-byte floating type (only float and double)");
    case TypeClass::X87: {
      static_assert(sizeof(long double) >= 10, "x86-64 long double is the 80-bit format");
      // From an integer directly: a long double holds every 64-bit integer exactly.
      const long double l =
          is_double ? static_cast<long double>(floating) : static_cast<long double>(integer);
      out.reg = Reg::St0;
      std::memcpy(out.x87, &l, sizeof out.x87);
      return out;
    }
    case TypeClass::Aggregate:
    case TypeClass::ByReference:
      throw Error("cannot return " + to_string(value) +
                  " from a function that returns a struct, union or class by value: a forced "
                  "or rewritten return value is one number");
    case TypeClass::Void:
    case TypeClass::Unknown:
      break;
  }
  if (is_double) {
    out.reg = Reg::Xmm0Double;
    std::memcpy(&out.bits, &floating, sizeof out.bits);
  } else {
    out.reg = Reg::Rax;
    out.bits = static_cast<std::uint64_t>(integer);
  }
  return out;
}

std::int64_t sized(std::uint64_t raw, std::uint64_t size, bool is_signed) noexcept {
  if (size == 0 || size >= 8) return static_cast<std::int64_t>(raw);
  const unsigned bits = static_cast<unsigned>(size * 8);
  const std::uint64_t mask = (std::uint64_t{1} << bits) - 1;
  raw &= mask;
  if (is_signed && (raw >> (bits - 1)) & 1) raw |= ~mask;
  return static_cast<std::int64_t>(raw);
}

Value value_of(const TypeDescription& type, std::uint64_t raw) noexcept {
  switch (type.type) {
    case TypeClass::Integer:
    case TypeClass::Pointer:
      if (type.size > 8) break;
      return sized(raw, type.size, type.type == TypeClass::Integer && type.is_signed);
    case TypeClass::Bool:
      return (raw & 0xff) != 0;
    case TypeClass::Float:
      if (type.size == 8) {
        double d = 0;
        std::memcpy(&d, &raw, sizeof d);
        return d;
      }
      if (type.size == 4) {
        float f = 0;
        std::memcpy(&f, &raw, sizeof f);
        return static_cast<double>(f);
      }
      break;
    default:
      break;
  }
  return std::monostate{};
}

Value read_argument(Frame& frame, const ArgumentSlot& slot) {
  if (slot.read == ArgumentSlot::Read::None || slot.read == ArgumentSlot::Read::Unavailable ||
      slot.parts.empty())
    return std::monostate{};
  const Place place = slot.parts.front();
  std::uint64_t raw = 0;
  switch (place.kind) {
    case Place::Kind::IntRegister:
      raw = frame.int_argument(place.index);
      break;
    case Place::Kind::SseRegister: {
      // float_argument() reads the register's low 8 bytes as a double: its bits are raw.
      const double d = frame.float_argument(place.index);
      std::memcpy(&raw, &d, sizeof raw);
      break;
    }
    case Place::Kind::Stack: {
      // At the first instruction [rsp] is the return address; stack arguments follow it.
      const std::uint64_t at = frame.register_value("rsp") + 8 + place.offset;
      const std::size_t size = slot.read == ArgumentSlot::Read::Bool ? 1
                               : slot.read == ArgumentSlot::Read::Float
                                   ? 4
                                   : static_cast<std::size_t>(std::clamp<std::uint64_t>(
                                         slot.size, 1, 8));
      const std::vector<std::uint8_t> bytes = frame.read_memory(at, size);
      std::memcpy(&raw, bytes.data(), std::min(bytes.size(), sizeof raw));
      break;
    }
    case Place::Kind::Unavailable:
      return std::monostate{};
  }
  switch (slot.read) {
    case ArgumentSlot::Read::Integer:
      return sized(raw, slot.size, slot.is_signed);
    case ArgumentSlot::Read::Bool:
      return (raw & 0xff) != 0;
    case ArgumentSlot::Read::Double: {
      double d = 0;
      std::memcpy(&d, &raw, sizeof d);
      return d;
    }
    case ArgumentSlot::Read::Float: {
      float f = 0;
      std::memcpy(&f, &raw, sizeof f);
      return static_cast<double>(f);
    }
    default:
      return std::monostate{};
  }
}

std::vector<Argument> read_arguments(Frame& frame, const ArgumentLayout& layout) {
  std::vector<Argument> out;
  out.reserve(layout.size());
  for (const ArgumentSlot& slot : layout)
    out.push_back({slot.name, slot.type, read_argument(frame, slot)});
  return out;
}

std::optional<Argument> read_argument(Frame& frame, const ArgumentLayout& layout,
                                      std::string_view name) {
  for (const ArgumentSlot& slot : layout)
    if (slot.name == name) return Argument{slot.name, slot.type, read_argument(frame, slot)};
  return std::nullopt;
}

}  // namespace groutines::sysv
