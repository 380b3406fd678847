#pragma once
// The SysV x86-64 argument classification, in one debugger-agnostic place: an adapter
// describes a function's parameters and return type from its debugger's type API
// (FunctionDescription), argument_layout() says where each argument is at the function's first
// instruction, and read_argument() reads it through any Frame. The LLDB adapter, the agent
// transport and any later debugger share it. It knows the ABI, not any debugger.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "groutines/event.hpp"
#include "groutines/export.hpp"

namespace groutines::sysv {

// kIntArgumentRegisters are rdi, rsi, rdx, rcx, r8, r9; kSseArgumentRegisters xmm0..xmm7.
inline constexpr unsigned kIntArgumentRegisters = 6;
inline constexpr unsigned kSseArgumentRegisters = 8;

// TypeClass is what an adapter tells of a C type, as far as the ABI cares.
enum class TypeClass : std::uint8_t {
  Void,         // no value (a return type)
  Integer,      // an integer or an enum, of size bytes, signed or not (up to 16: __int128)
  Bool,         // bool / _Bool
  Pointer,      // a pointer or a reference
  Float,        // float, double (or _Float16): the SSE class
  X87,          // long double: passed in memory, returned in st0
  Aggregate,    // a struct, class, union or array passed by value: classified from scalars
  ByReference,  // a C++ class not trivial for calls: passed as a pointer to a copy, returned
                // through a hidden pointer
  Unknown,      // the adapter cannot tell (a vector type...): this argument and every later
                // one are unavailable
};

// Scalar is one scalar member of an aggregate at its byte offset in it (bases, nested
// members and array elements flattened); its type is Integer, Bool, Pointer, Float or X87.
struct Scalar {
  std::uint64_t offset = 0;
  std::uint64_t size = 0;
  TypeClass type = TypeClass::Integer;
};

// TypeDescription is one C type as the debug info describes it.
struct TypeDescription {
  TypeClass type = TypeClass::Unknown;
  std::string name;             // as the debug info spells it (for Argument::type)
  std::uint64_t size = 0;       // bytes
  std::uint64_t align = 0;      // bytes; 0: the natural alignment of size (at most 16)
  bool is_signed = false;       // Integer: a signed type (enums count as signed)
  std::vector<Scalar> scalars;  // Aggregate of at most 16 bytes: every scalar member;
                                // larger ones go in memory and need none
};

// Register is an argument register: integer register index (rdi = 0 ... r9 = 5) or SSE
// register index (xmm0 = 0 ... xmm7 = 7).
struct Register {
  bool sse = false;
  unsigned index = 0;
  bool operator==(const Register& other) const noexcept {
    return sse == other.sse && index == other.index;
  }
};

// register_named() is the argument register a debugger names reg as (rdi, edi, di, dil,
// ..., r9d, xmm3), or nullopt for any other name.
GROUTINES_API std::optional<Register> register_named(std::string_view reg) noexcept;

// Parameter is one parameter of a function as its debug info lists it.
struct Parameter {
  std::string name;  // "" for an unnamed parameter
  TypeDescription type;
  bool is_this = false;  // a C++ member's object pointer (passed first, whatever the listing)
  // entry_register is the register the debug info locates the parameter in at the first
  // instruction, when it gives one (an optimised build); nullopt otherwise (a stack slot
  // the prologue has yet to write at -O0, no location, a composite one).
  std::optional<Register> entry_register;
};

// FunctionDescription is what argument_layout() needs of a function.
struct FunctionDescription {
  std::vector<Parameter> parameters;  // in the order the debug info lists them
  TypeDescription return_type;        // Void when none
  // clone is a compiler's clone of the function (GCC's f.isra.0, f.part.1): it may take fewer
  // parameters than declared, so a parameter without an entry register is not passed.
  bool clone = false;
};

// Place is where an argument (or one eightbyte of it) is at the first instruction.
struct Place {
  enum class Kind : std::uint8_t {
    IntRegister,  // integer argument register index
    SseRegister,  // xmm index
    Stack,        // offset bytes above the return address: [rsp + 8 + offset]
    Unavailable,  // not passed (a clone's), or not worked out
  };
  Kind kind = Kind::Unavailable;
  unsigned index = 0;
  std::uint64_t offset = 0;
  bool operator==(const Place& other) const noexcept {
    return kind == other.kind && index == other.index && offset == other.offset;
  }
};

// ArgumentSlot is where one argument of a function is and how its value is read.
struct ArgumentSlot {
  // Read is how the argument's value is read from its place.
  enum class Read : std::uint8_t {
    Integer,      // sized and signed as the C type (pointers, enums, `this` too)
    Bool,         // its low byte
    Double,       // 8 bytes as a double
    Float,        // 4 bytes as a float
    None,         // located but not a Value (a struct by value, long double): reads none
    Unavailable,  // not located: reads none
  };
  std::string name;
  std::string type;
  Read read = Read::Unavailable;
  // parts are its places, one per eightbyte in registers (a 16-byte struct may take an
  // integer and an SSE register), or one Stack place; empty when Unavailable.
  std::vector<Place> parts;
  std::uint64_t size = 8;
  bool is_signed = false;

  // place() is the first part (Unavailable when none).
  Place place() const noexcept { return parts.empty() ? Place{} : parts.front(); }
};

// ArgumentLayout is every argument of a function, `this` first, then the others in the order
// the debug info lists them.
using ArgumentLayout = std::vector<ArgumentSlot>;

// returns_in_memory() tells that a function returning type takes a hidden pointer to the
// result in rdi (an aggregate classified MEMORY: larger than 16 bytes or unaligned, or a class
// not trivial for calls), which moves every argument one integer register on.
GROUTINES_API bool returns_in_memory(const TypeDescription& type) noexcept;

// argument_layout() classifies function's parameters by the SysV x86-64 rules: integer
// class in rdi..r9, SSE class in xmm0..xmm7, a 9..16-byte aggregate in two eightbytes (whole
// in registers or whole on the stack), MEMORY class (larger than 16 bytes, long double) on
// the stack at its alignment, each argument on the stack when its registers ran out. Then,
// where the debug info gives entry registers, it believes them: a parameter found in another
// register of its class moves there; one whose register another parameter's entry register
// names, that has an entry location of the other class, or in a clone has none, is
// Unavailable. After an Unknown type every argument is Unavailable.
GROUTINES_API ArgumentLayout argument_layout(const FunctionDescription& function);

// ReturnLayout is how a function's return value is read at its return, and written there or
// at a forced return.
struct ReturnLayout {
  bool known = false;     // a value in rax or xmm0 whose type the debug info gave
  bool floating = false;  // float or double, in xmm0
  bool is_signed = false;
  std::uint64_t size = 8;
  // type is the return type's class as the debug info gave it (Unknown without debug info):
  // X87 (long double, in st0), Void, Aggregate and ByReference are not known to read.
  TypeClass type = TypeClass::Unknown;
  std::string type_name;  // the C type as the debug info spells it ("void", "const char *")
};

// return_layout() is how to read a value of type in rax/xmm0: known for integer, bool,
// pointer and float types; not known for void, aggregates, long double and Unknown.
GROUTINES_API ReturnLayout return_layout(const TypeDescription& type) noexcept;

// ReturnRegisters is a forced or rewritten return value as the caller must find it.
struct ReturnRegisters {
  // Register is the one register that carries it.
  enum class Register : std::uint8_t {
    Rax,         // bits: the 64 bits of rax
    Xmm0Float,   // bits: a float's 4 bytes, the low 32 bits of xmm0 (the rest unchanged)
    Xmm0Double,  // bits: a double's 8 bytes, the low 64 bits of xmm0 (the rest unchanged)
    St0,         // x87: the 80-bit extended value at the top of the x87 stack
  };
  Register reg = Register::Rax;
  std::uint64_t bits = 0;
  std::uint8_t x87[10] = {};  // St0: the value's 10 bytes, little-endian as in memory
};

// return_registers() is where and how value must be written for the caller of a function
// whose return type is type: an integer, bool or pointer type in rax; float in xmm0 as a
// float, double as a double; long double in st0. A number of the other kind is converted as a
// C return statement converts it (return_now(1) on a double function returns 1.0; 2.5 on an
// int function returns 2), a bool is 0 or 1. Without debug info (Unknown), and for a void
// function, the value's own kind decides: an integer in rax, a double in xmm0 as a double.
// Throws Error naming what was wrong for a value that is not a number or a bool, a floating
// value given to a pointer or not representable in the integer type, and a function that
// returns a struct, union or class (its members are not one number).
GROUTINES_API ReturnRegisters return_registers(const ReturnLayout& type, const Value& value);

// value_of() renders the raw 8 bytes of a scalar of type (Integer, Bool, Pointer, Float) as a
// Value: sized and signed integers, a bool, a float or double; none for any other type.
GROUTINES_API Value value_of(const TypeDescription& type, std::uint64_t raw) noexcept;

// sized() reads the low size bytes of raw as a C type of that size would: sign- or
// zero-extended.
GROUTINES_API std::int64_t sized(std::uint64_t raw, std::uint64_t size, bool is_signed) noexcept;

// read_argument() is the value of the argument slot describes, read from frame at a call:
// registers through Frame::int_argument() and float_argument(), the stack through rsp and
// read_memory(). The same layout serves every frame of the function.
GROUTINES_API Value read_argument(Frame& frame, const ArgumentSlot& slot);
// read_arguments() reads every argument of layout from frame.
GROUTINES_API std::vector<Argument> read_arguments(Frame& frame, const ArgumentLayout& layout);
// read_argument() reads the argument of layout called name, or nullopt.
GROUTINES_API std::optional<Argument> read_argument(Frame& frame, const ArgumentLayout& layout,
                                                    std::string_view name);

}  // namespace groutines::sysv
