// The SysV x86-64 classification of groutines/argument_layout.hpp, on type descriptions as an
// adapter would fill them from debug info, and the reading of a layout through a Frame.
#include <catch2/catch.hpp>

#include <cstring>
#include <map>

#include "groutines/argument_layout.hpp"
#include "groutines/error.hpp"

namespace {

using namespace groutines::sysv;
using Kind = Place::Kind;
using Read = ArgumentSlot::Read;

TypeDescription integer(std::uint64_t size = 4, bool is_signed = true) {
  return {TypeClass::Integer, size == 8 ? "long" : "int", size, 0, is_signed, {}};
}
TypeDescription floating(std::uint64_t size = 8) {
  return {TypeClass::Float, size == 8 ? "double" : "float", size, 0, false, {}};
}
TypeDescription pointer() { return {TypeClass::Pointer, "char *", 8, 0, false, {}}; }
TypeDescription aggregate(std::uint64_t size, std::vector<Scalar> scalars) {
  return {TypeClass::Aggregate, "struct S", size, 0, false, std::move(scalars)};
}

Parameter parameter(std::string name, TypeDescription type) {
  Parameter p;
  p.name = std::move(name);
  p.type = std::move(type);
  return p;
}

FunctionDescription function(std::vector<Parameter> parameters,
                             TypeDescription returns = {TypeClass::Void, "void", 0, 0, false, {}}) {
  FunctionDescription f;
  f.parameters = std::move(parameters);
  f.return_type = std::move(returns);
  return f;
}

Place ireg(unsigned i) { return {Kind::IntRegister, i, 0}; }
Place sse(unsigned i) { return {Kind::SseRegister, i, 0}; }
Place stack(std::uint64_t offset) { return {Kind::Stack, 0, offset}; }

// StackFrame is a target stopped at a function's first instruction: argument registers and
// memory above rsp.
struct StackFrame final : groutines::Frame {
  std::uint64_t ints[6] = {};
  double floats[8] = {};
  std::uint64_t rsp = 0x1000;
  std::map<std::uint64_t, std::uint8_t> memory;

  void put(std::uint64_t address, const void* data, std::size_t size) {
    for (std::size_t i = 0; i < size; ++i)
      memory[address + i] = static_cast<const std::uint8_t*>(data)[i];
  }
  std::uint64_t int_argument(unsigned index) override { return ints[index]; }
  double float_argument(unsigned index) override { return floats[index]; }
  std::uint64_t register_value(std::string_view name) override {
    if (name == "rsp") return rsp;
    throw groutines::Error("unknown register '" + std::string(name) + "'");
  }
  std::vector<std::uint8_t> read_memory(std::uint64_t address, std::size_t size) override {
    std::vector<std::uint8_t> out;
    for (std::size_t i = 0; i < size; ++i) {
      auto at = memory.find(address + i);
      if (at == memory.end()) throw groutines::Error("unmapped");
      out.push_back(at->second);
    }
    return out;
  }
};

}  // namespace

TEST_CASE("integer and floating arguments take their own registers in declaration order",
          "[core][abi]") {
  ArgumentLayout l = argument_layout(function({parameter("a", integer()),
                                               parameter("x", floating()),
                                               parameter("p", pointer()),
                                               parameter("f", floating(4))}));
  REQUIRE(l.size() == 4);
  CHECK(l[0].parts == std::vector<Place>{ireg(0)});
  CHECK(l[0].read == Read::Integer);
  CHECK(l[1].parts == std::vector<Place>{sse(0)});
  CHECK(l[1].read == Read::Double);
  CHECK(l[2].parts == std::vector<Place>{ireg(1)});
  CHECK_FALSE(l[2].is_signed);
  CHECK(l[3].parts == std::vector<Place>{sse(1)});
  CHECK(l[3].read == Read::Float);
}

TEST_CASE("a seventh integer argument and later ones go on the stack, eight bytes each",
          "[core][abi]") {
  std::vector<Parameter> ps;
  for (int i = 0; i < 9; ++i) ps.push_back(parameter("a" + std::to_string(i), integer(8)));
  ps.push_back(parameter("x", floating()));
  ArgumentLayout l = argument_layout(function(ps));
  for (unsigned i = 0; i < 6; ++i) CHECK(l[i].parts == std::vector<Place>{ireg(i)});
  CHECK(l[6].parts == std::vector<Place>{stack(0)});
  CHECK(l[7].parts == std::vector<Place>{stack(8)});
  CHECK(l[8].parts == std::vector<Place>{stack(16)});
  // A float still has registers left.
  CHECK(l[9].parts == std::vector<Place>{sse(0)});
}

TEST_CASE("a ninth floating argument goes on the stack, and integers keep their registers",
          "[core][abi]") {
  std::vector<Parameter> ps;
  for (int i = 0; i < 10; ++i) ps.push_back(parameter("x" + std::to_string(i), floating(i % 2 ? 4 : 8)));
  ps.push_back(parameter("n", integer()));
  ArgumentLayout l = argument_layout(function(ps));
  for (unsigned i = 0; i < 8; ++i) CHECK(l[i].parts == std::vector<Place>{sse(i)});
  CHECK(l[8].parts == std::vector<Place>{stack(0)});
  CHECK(l[9].parts == std::vector<Place>{stack(8)});
  CHECK(l[9].read == Read::Float);
  CHECK(l[10].parts == std::vector<Place>{ireg(0)});
}

TEST_CASE("structs of at most 16 bytes are passed in one register per eightbyte by class",
          "[core][abi]") {
  SECTION("an 8-byte struct of two ints takes one integer register") {
    ArgumentLayout l = argument_layout(function(
        {parameter("s", aggregate(8, {{0, 4, TypeClass::Integer}, {4, 4, TypeClass::Integer}})),
         parameter("n", integer())}));
    CHECK(l[0].parts == std::vector<Place>{ireg(0)});
    CHECK(l[0].read == Read::None);
    CHECK(l[1].parts == std::vector<Place>{ireg(1)});
  }
  SECTION("a 16-byte struct of two longs takes two integer registers") {
    ArgumentLayout l = argument_layout(function(
        {parameter("s", aggregate(16, {{0, 8, TypeClass::Integer}, {8, 8, TypeClass::Pointer}})),
         parameter("n", integer())}));
    CHECK(l[0].parts == std::vector<Place>{ireg(0), ireg(1)});
    CHECK(l[1].parts == std::vector<Place>{ireg(2)});
  }
  SECTION("a struct of two floats is one SSE eightbyte") {
    ArgumentLayout l = argument_layout(function(
        {parameter("s", aggregate(8, {{0, 4, TypeClass::Float}, {4, 4, TypeClass::Float}})),
         parameter("x", floating())}));
    CHECK(l[0].parts == std::vector<Place>{sse(0)});
    CHECK(l[1].parts == std::vector<Place>{sse(1)});
  }
  SECTION("mixed: {double, long} takes an SSE then an integer register") {
    ArgumentLayout l = argument_layout(function(
        {parameter("s", aggregate(16, {{0, 8, TypeClass::Float}, {8, 8, TypeClass::Integer}})),
         parameter("n", integer()), parameter("x", floating())}));
    CHECK(l[0].parts == std::vector<Place>{sse(0), ireg(0)});
    CHECK(l[1].parts == std::vector<Place>{ireg(1)});
    CHECK(l[2].parts == std::vector<Place>{sse(1)});
  }
  SECTION("mixed in one eightbyte: {float, int} is integer class") {
    ArgumentLayout l = argument_layout(function(
        {parameter("s", aggregate(8, {{0, 4, TypeClass::Float}, {4, 4, TypeClass::Integer}}))}));
    CHECK(l[0].parts == std::vector<Place>{ireg(0)});
  }
  SECTION("a struct that no longer fits the registers left goes whole on the stack") {
    std::vector<Parameter> ps;
    for (int i = 0; i < 5; ++i) ps.push_back(parameter("a" + std::to_string(i), integer(8)));
    ps.push_back(parameter("s", aggregate(16, {{0, 8, TypeClass::Integer}, {8, 8, TypeClass::Integer}})));
    ps.push_back(parameter("n", integer(8)));
    ArgumentLayout l = argument_layout(function(ps));
    CHECK(l[5].parts == std::vector<Place>{stack(0)});
    // The register it did not take is still the next integer argument's.
    CHECK(l[6].parts == std::vector<Place>{ireg(5)});
  }
}

TEST_CASE("aggregates larger than 16 bytes, unaligned ones and long doubles are passed in memory",
          "[core][abi]") {
  SECTION("a 24-byte struct is on the stack and takes no register") {
    ArgumentLayout l = argument_layout(function(
        {parameter("big", aggregate(24, {})), parameter("n", integer()),
         parameter("tail", aggregate(40, {}))}));
    CHECK(l[0].parts == std::vector<Place>{stack(0)});
    CHECK(l[0].read == Read::None);
    CHECK(l[1].parts == std::vector<Place>{ireg(0)});
    CHECK(l[2].parts == std::vector<Place>{stack(24)});
  }
  SECTION("a packed struct with a misaligned long is in memory") {
    ArgumentLayout l = argument_layout(function(
        {parameter("s", aggregate(9, {{0, 1, TypeClass::Integer}, {1, 8, TypeClass::Integer}}))}));
    CHECK(l[0].parts == std::vector<Place>{stack(0)});
  }
  SECTION("a long double is on the stack at a 16-byte boundary") {
    std::vector<Parameter> ps;
    for (int i = 0; i < 7; ++i) ps.push_back(parameter("a" + std::to_string(i), integer(8)));
    ps.push_back(parameter("ld", {TypeClass::X87, "long double", 16, 16, false, {}}));
    ps.push_back(parameter("x", floating()));
    ArgumentLayout l = argument_layout(function(ps));
    CHECK(l[6].parts == std::vector<Place>{stack(0)});
    CHECK(l[7].parts == std::vector<Place>{stack(16)});
    CHECK(l[7].read == Read::None);
    CHECK(l[8].parts == std::vector<Place>{sse(0)});
  }
}

TEST_CASE("a function returning a struct in memory takes its hidden pointer in rdi",
          "[core][abi]") {
  SECTION("larger than 16 bytes") {
    ArgumentLayout l = argument_layout(
        function({parameter("n", integer())}, aggregate(24, {})));
    CHECK(l[0].parts == std::vector<Place>{ireg(1)});
  }
  SECTION("a class not trivial for calls, whatever its size") {
    ArgumentLayout l = argument_layout(function(
        {parameter("n", integer())}, {TypeClass::ByReference, "Owned", 8, 8, false, {}}));
    CHECK(l[0].parts == std::vector<Place>{ireg(1)});
  }
  SECTION("not a 16-byte struct returned in rax:rdx, nor a lone long double in st0") {
    CHECK_FALSE(returns_in_memory(
        aggregate(16, {{0, 8, TypeClass::Integer}, {8, 8, TypeClass::Integer}})));
    CHECK_FALSE(returns_in_memory(aggregate(16, {{0, 16, TypeClass::X87}})));
    CHECK_FALSE(returns_in_memory({TypeClass::X87, "long double", 16, 16, false, {}}));
  }
}

TEST_CASE("a member's this is passed first, after a hidden return pointer, wherever it is listed",
          "[core][abi]") {
  Parameter self = parameter("this", pointer());
  self.is_this = true;
  SECTION("listed last (GCC at -O2)") {
    ArgumentLayout l = argument_layout(function({parameter("z", integer()), self}));
    REQUIRE(l.size() == 2);
    CHECK(l[0].name == "this");
    CHECK(l[0].parts == std::vector<Place>{ireg(0)});
    CHECK(l[1].name == "z");
    CHECK(l[1].parts == std::vector<Place>{ireg(1)});
  }
  SECTION("after the hidden pointer of a struct returned in memory") {
    ArgumentLayout l =
        argument_layout(function({self, parameter("z", integer())}, aggregate(24, {})));
    CHECK(l[0].parts == std::vector<Place>{ireg(1)});
    CHECK(l[1].parts == std::vector<Place>{ireg(2)});
  }
  SECTION("a class not trivial for calls is passed as the address of a copy") {
    ArgumentLayout l = argument_layout(function(
        {self, parameter("o", {TypeClass::ByReference, "Owned", 8, 8, false, {}}),
         parameter("w", integer())}));
    CHECK(l[1].parts == std::vector<Place>{ireg(1)});
    CHECK(l[1].read == Read::Integer);
    CHECK_FALSE(l[1].is_signed);
    CHECK(l[2].parts == std::vector<Place>{ireg(2)});
  }
}

TEST_CASE("entry registers from the debug info override the classification", "[core][abi]") {
  SECTION("a parameter found in another register moves there; one whose register another "
          "parameter's location names is unavailable") {
    FunctionDescription f = function(
        {parameter("a", integer()), parameter("b", integer(8)), parameter("c", integer())});
    f.parameters[0].entry_register = Register{false, 0};
    f.parameters[2].entry_register = Register{false, 1};
    ArgumentLayout l = argument_layout(f);
    CHECK(l[0].parts == std::vector<Place>{ireg(0)});
    CHECK(l[1].read == Read::Unavailable);
    CHECK(l[1].parts.empty());
    CHECK(l[2].parts == std::vector<Place>{ireg(1)});
  }
  SECTION("in a clone, a parameter without an entry register is not passed") {
    Parameter self = parameter("this", pointer());
    self.is_this = true;
    FunctionDescription f = function({parameter("a", integer()), parameter("c", integer()),
                                      parameter("b", integer(8)), self});
    f.clone = true;
    f.parameters[0].entry_register = Register{false, 0};
    f.parameters[1].entry_register = Register{false, 1};
    ArgumentLayout l = argument_layout(f);
    REQUIRE(l.size() == 4);
    CHECK(l[0].name == "this");
    CHECK(l[0].read == Read::Unavailable);
    CHECK(l[1].parts == std::vector<Place>{ireg(0)});
    CHECK(l[2].parts == std::vector<Place>{ireg(1)});
    CHECK(l[3].read == Read::Unavailable);
  }
  SECTION("without any entry register (-O0) the classification stands") {
    FunctionDescription f = function({parameter("a", integer()), parameter("b", integer())});
    f.clone = true;
    ArgumentLayout l = argument_layout(f);
    CHECK(l[1].parts == std::vector<Place>{ireg(1)});
  }
}

TEST_CASE("an argument of a type the adapter cannot describe leaves it and every later one "
          "unavailable", "[core][abi]") {
  ArgumentLayout l = argument_layout(function(
      {parameter("a", integer()), parameter("v", {}), parameter("b", integer())}));
  CHECK(l[0].parts == std::vector<Place>{ireg(0)});
  CHECK(l[1].read == Read::Unavailable);
  CHECK(l[2].read == Read::Unavailable);
}

TEST_CASE("register_named() knows every name of the argument registers", "[core][abi]") {
  CHECK(register_named("rdi") == Register{false, 0});
  CHECK(register_named("esi") == Register{false, 1});
  CHECK(register_named("dl") == Register{false, 2});
  CHECK(register_named("r9d") == Register{false, 5});
  CHECK(register_named("xmm7") == Register{true, 7});
  CHECK_FALSE(register_named("xmm8"));
  CHECK_FALSE(register_named("rbx"));
  CHECK_FALSE(register_named("DW_OP_fbreg -20"));
}

TEST_CASE("a layout reads registers and the stack above the return address", "[core][abi]") {
  std::vector<Parameter> ps;
  for (int i = 0; i < 7; ++i) ps.push_back(parameter("a" + std::to_string(i), integer(4)));
  ps.push_back(parameter("s", aggregate(24, {})));
  ps.push_back(parameter("b", {TypeClass::Bool, "bool", 1, 1, false, {}}));
  ps.push_back(parameter("x", floating()));
  ps.push_back(parameter("u", integer(2, false)));
  StackFrame frame;
  for (unsigned i = 0; i < 6; ++i) frame.ints[i] = 0xffffffff00000000u + i;
  frame.ints[5] = 0xfffffffffffffffbu;  // -5 as an int
  frame.floats[0] = 2.5;
  const std::int32_t seventh = -7;
  frame.put(frame.rsp + 8, &seventh, 4);
  const std::uint8_t pad[4] = {0xee, 0xee, 0xee, 0xee};
  frame.put(frame.rsp + 12, pad, 4);
  const std::uint8_t yes = 1;
  frame.put(frame.rsp + 8 + 8 + 24, &yes, 1);
  const std::uint16_t u = 65535;
  frame.put(frame.rsp + 8 + 8 + 24 + 8, &u, 2);

  std::vector<groutines::Argument> args = read_arguments(frame, argument_layout(function(ps)));
  REQUIRE(args.size() == 11);
  CHECK(args[0].value == groutines::Value{std::int64_t{0}});
  CHECK(args[5].value == groutines::Value{std::int64_t{-5}});
  CHECK(args[6].value == groutines::Value{std::int64_t{-7}});
  CHECK(args[7].value == groutines::Value{});
  CHECK(args[8].value == groutines::Value{true});
  CHECK(args[9].value == groutines::Value{2.5});
  CHECK(args[10].value == groutines::Value{std::int64_t{65535}});
  CHECK(args[10].name == "u");
  CHECK(args[10].type == "int");
}

TEST_CASE("return_layout() reads integers at their width and floats from xmm0", "[core][abi]") {
  CHECK(return_layout(integer(4)).known);
  CHECK(return_layout(integer(4)).is_signed);
  CHECK(return_layout(floating(4)).floating);
  CHECK_FALSE(return_layout(pointer()).is_signed);
  CHECK_FALSE(return_layout({TypeClass::Void, "void", 0, 0, false, {}}).known);
  CHECK_FALSE(return_layout(aggregate(16, {})).known);
  CHECK_FALSE(return_layout({TypeClass::X87, "long double", 16, 16, false, {}}).known);
}

TEST_CASE("return_registers() writes a forced or rewritten value where the return type "
          "returns: rax, xmm0 as a float or a double, st0",
          "[core][abi][return]") {
  using groutines::Value;
  using Reg = ReturnRegisters::Register;
  const TypeDescription long_double{TypeClass::X87, "long double", 16, 16, false, {}};
  auto bits_of = [](auto v) {
    std::uint64_t b = 0;
    std::memcpy(&b, &v, sizeof v);
    return b;
  };
  SECTION("a float in the low 4 bytes of xmm0, a double in its low 8") {
    ReturnRegisters f = return_registers(return_layout(floating(4)), Value(0.1));
    CHECK(f.reg == Reg::Xmm0Float);
    CHECK(f.bits == bits_of(0.1f));
    ReturnRegisters d = return_registers(return_layout(floating(8)), Value(0.1));
    CHECK(d.reg == Reg::Xmm0Double);
    CHECK(d.bits == bits_of(0.1));
  }
  SECTION("a long double in st0, in the 80-bit format") {
    ReturnRegisters l = return_registers(return_layout(long_double), Value(-2.5));
    CHECK(l.reg == Reg::St0);
    long double back = 0;
    std::memcpy(&back, l.x87, sizeof l.x87);
    CHECK(back == -2.5L);
    ReturnRegisters big = return_registers(return_layout(long_double),
                                           Value(std::int64_t{(1LL << 62) + 1}));
    std::memcpy(&back, big.x87, sizeof big.x87);
    CHECK(back == static_cast<long double>((1LL << 62) + 1));  // exact: 64-bit mantissa
  }
  SECTION("an integer given to a floating type is converted, as C returns it") {
    ReturnRegisters d = return_registers(return_layout(floating(8)), Value(std::int64_t{-7}));
    CHECK(d.reg == Reg::Xmm0Double);
    CHECK(d.bits == bits_of(-7.0));
    CHECK(return_registers(return_layout(floating(4)), Value(true)).bits == bits_of(1.0f));
  }
  SECTION("a double given to an integer type is truncated towards zero, as C returns it") {
    ReturnRegisters i = return_registers(return_layout(integer(4)), Value(-2.75));
    CHECK(i.reg == Reg::Rax);
    CHECK(static_cast<std::int64_t>(i.bits) == -2);
    CHECK(return_registers(return_layout(integer(8, false)), Value(1e19)).bits ==
          10000000000000000000ULL);
    CHECK(return_registers(return_layout({TypeClass::Bool, "bool", 1, 0, false, {}}), Value(0.5))
              .bits == 1);
    CHECK_THROWS_WITH(return_registers(return_layout(integer(4)), Value(3e9)),
                      "cannot return 3000000000.0 from a function that returns a signed "
                      "32-bit integer: out of its range");
    CHECK_THROWS_WITH(return_registers(return_layout(pointer()), Value(1.5)),
                      "cannot return 1.5 from a function that returns a pointer: give an "
                      "integer address");
  }
  SECTION("integers, bools and pointers in rax") {
    CHECK(return_registers(return_layout(integer(4)), Value(std::int64_t{-1})).bits ==
          ~std::uint64_t{0});
    CHECK(return_registers(return_layout(pointer()), Value(std::int64_t{0x1000})).bits == 0x1000);
  }
  SECTION("without debug info, or for a void function, the value's kind decides") {
    CHECK(return_registers(ReturnLayout{}, Value(2.5)).reg == Reg::Xmm0Double);
    CHECK(return_registers(ReturnLayout{}, Value(std::int64_t{3})).reg == Reg::Rax);
    const ReturnLayout none = return_layout({TypeClass::Void, "void", 0, 0, false, {}});
    CHECK(return_registers(none, Value(std::int64_t{3})).bits == 3);
  }
  SECTION("a struct return, a string or nothing is an error naming it") {
    CHECK_THROWS_WITH(return_registers(return_layout(aggregate(16, {})), Value(std::int64_t{1})),
                      "cannot return 1 from a function that returns a struct, union or class "
                      "by value: a forced or rewritten return value is one number");
    CHECK_THROWS_WITH(return_registers(ReturnLayout{}, Value(std::string("x"))),
                      "a return value must be a number or a bool, not \"x\"");
  }
}
