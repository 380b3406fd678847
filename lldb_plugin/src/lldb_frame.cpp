#include "lldb_frame.hpp"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <iterator>

#include "groutines/error.hpp"
#include "target_state.hpp"

namespace groutines::plugin {

namespace {

// kNoResult is the error LLDB's expression evaluation gives an expression of type void
// (lldb_private::UserExpression::kNoResult).
constexpr std::uint32_t kNoResult = 0x1001;

// SysV x86-64: the integer/pointer argument registers, in order.
constexpr const char* kIntArgumentRegisters[] = {"rdi", "rsi", "rdx", "rcx", "r8", "r9"};
static_assert(std::size(kIntArgumentRegisters) == sysv::kIntArgumentRegisters);
constexpr unsigned kFloatArgumentRegisters = sysv::kSseArgumentRegisters;  // xmm0..xmm7

bool is_signed(lldb::BasicType t) {
  switch (t) {
    case lldb::eBasicTypeChar:
    case lldb::eBasicTypeSignedChar:
    case lldb::eBasicTypeWChar:
    case lldb::eBasicTypeSignedWChar:
    case lldb::eBasicTypeShort:
    case lldb::eBasicTypeInt:
    case lldb::eBasicTypeLong:
    case lldb::eBasicTypeLongLong:
    case lldb::eBasicTypeInt128:
      return true;
    default:
      return false;
  }
}

}  // namespace

LldbFrame::LldbFrame(lldb::SBProcess process, lldb::SBThread thread, Where where)
    : process_(std::move(process)), thread_(std::move(thread)), where_(where) {
  thread_id_ = thread_.GetThreadID();
}

LldbFrame::LldbFrame(std::string why) : where_(Where::Gone), gone_why_(std::move(why)) {}

LldbFrame LldbFrame::gone(std::string why) { return LldbFrame(std::move(why)); }

lldb::SBFrame& LldbFrame::frame() {
  if (where_ == Where::Gone) throw Error("no target to read: " + gone_why_);
  if (!frame_.IsValid()) {
    frame_ = thread_.GetFrameAtIndex(0);
    if (!frame_.IsValid()) throw Error("the stopped thread has no frame");
  }
  return frame_;
}

void LldbFrame::require(Where where, const char* what) const {
  if (where_ == Where::Gone) throw Error(std::string(what) + ": no target to read: " + gone_why_);
  if (where_ != where)
    throw Error(std::string(what) + (where == Where::Entry
                                         ? " is readable only at a call (the function's entry)"
                                         : " is readable only at a return"));
}

lldb::SBValue LldbFrame::find_register(std::string_view name) {
  std::string n(name);
  lldb::SBValue reg = frame().FindRegister(n.c_str());
  if (!reg.IsValid()) throw Error("unknown register '" + n + "'");
  reg.SetPreferDynamicValue(lldb::eNoDynamicValues);
  reg.SetPreferSyntheticValue(false);
  return reg;
}

std::uint64_t LldbFrame::register_value(std::string_view name) {
  for (const auto& [n, v] : cache_)
    if (n == name) return v;
  lldb::SBValue reg = find_register(name);
  lldb::SBError error;
  std::uint64_t v = reg.GetValueAsUnsigned(error, 0);
  if (error.Fail())
    throw Error("register '" + std::string(name) + "' cannot be read as an integer" +
                (error.GetCString() ? std::string(": ") + error.GetCString() : ""));
  cache_.emplace_back(std::string(name), v);
  return v;
}

std::vector<std::uint8_t> LldbFrame::register_bytes(std::string_view name) {
  lldb::SBValue reg = find_register(name);
  lldb::SBData data = reg.GetData();
  lldb::SBError error;
  std::vector<std::uint8_t> bytes(data.GetByteSize());
  if (bytes.empty() || data.ReadRawData(error, 0, bytes.data(), bytes.size()) != bytes.size())
    throw Error("register '" + std::string(name) + "' cannot be read");
  return bytes;
}

std::uint64_t LldbFrame::stack_pointer() { return register_value("rsp"); }

std::uint64_t LldbFrame::read_u64(std::uint64_t address) {
  std::vector<std::uint8_t> b = read_memory(address, 8);
  std::uint64_t v = 0;
  std::memcpy(&v, b.data(), 8);
  return v;
}

std::uint64_t LldbFrame::int_argument(unsigned index) {
  require(Where::Entry, "an argument");
  if (index < 6) return register_value(kIntArgumentRegisters[index]);
  // At the first instruction [rsp] is the return address; stack arguments follow it.
  return read_u64(stack_pointer() + 8 + 8 * std::uint64_t{index - 6});
}

double LldbFrame::float_argument(unsigned index) {
  require(Where::Entry, "an argument");
  if (index >= kFloatArgumentRegisters)
    throw Error("floating argument " + std::to_string(index) +
                " is passed on the stack: only xmm0..xmm7 (indexes 0..7) are read");
  std::vector<std::uint8_t> b = register_bytes("xmm" + std::to_string(index));
  double d = 0;
  if (b.size() < sizeof d) throw Error("register xmm" + std::to_string(index) + " is too small");
  std::memcpy(&d, b.data(), sizeof d);
  return d;
}

namespace {

bool is_record(lldb::SBType& t) {
  lldb::TypeClass c = t.GetTypeClass();
  return c == lldb::eTypeClassClass || c == lldb::eTypeClassStruct || c == lldb::eTypeClassUnion;
}

// non_trivial_for_calls() tells whether a C++ class is passed and returned by an invisible
// reference (the Itanium C++ ABI's "non-trivial for the purposes of calls": a pointer to a
// copy in an integer register, whatever its size), as far as DWARF shows it: the class is
// polymorphic, or it, a base or a member declares a destructor. (A destructor declared
// `= default` is trivial, but its DWARF looks the same; copy constructors are left out for
// that reason: `std::pair` declares its own `= default`.)
bool non_trivial_for_calls(lldb::SBType type, unsigned depth = 0) {
  lldb::SBType t = type.GetCanonicalType();
  while (t.IsArrayType()) t = t.GetArrayElementType().GetCanonicalType();
  if (!is_record(t) || depth > 32) return false;
  if (t.IsPolymorphicClass()) return true;
  for (std::uint32_t i = 0; i < t.GetNumberOfMemberFunctions(); ++i)
    if (t.GetMemberFunctionAtIndex(i).GetKind() == lldb::eMemberFunctionKindDestructor)
      return true;
  for (std::uint32_t i = 0; i < t.GetNumberOfDirectBaseClasses(); ++i)
    if (non_trivial_for_calls(t.GetDirectBaseClassAtIndex(i).GetType(), depth + 1)) return true;
  for (std::uint32_t i = 0; i < t.GetNumberOfFields(); ++i)
    if (non_trivial_for_calls(t.GetFieldAtIndex(i).GetType(), depth + 1)) return true;
  return false;
}

// scalar_class() is the core's class of a scalar builtin, pointer or enum type, or Unknown.
sysv::TypeClass scalar_class(lldb::SBType& t) {
  if (t.IsPointerType() || t.IsReferenceType() || t.GetTypeClass() == lldb::eTypeClassPointer ||
      t.GetTypeClass() == lldb::eTypeClassReference ||
      t.GetTypeClass() == lldb::eTypeClassMemberPointer)
    return sysv::TypeClass::Pointer;
  if (t.GetTypeClass() == lldb::eTypeClassEnumeration) return sysv::TypeClass::Integer;
  if (t.GetTypeClass() != lldb::eTypeClassBuiltin) return sysv::TypeClass::Unknown;
  switch (t.GetBasicType()) {
    case lldb::eBasicTypeVoid:
      return sysv::TypeClass::Void;
    case lldb::eBasicTypeBool:
      return sysv::TypeClass::Bool;
    case lldb::eBasicTypeHalf:
    case lldb::eBasicTypeFloat:
    case lldb::eBasicTypeDouble:
      return sysv::TypeClass::Float;
    case lldb::eBasicTypeLongDouble:
      return sysv::TypeClass::X87;
    case lldb::eBasicTypeFloatComplex:
    case lldb::eBasicTypeDoubleComplex:
    case lldb::eBasicTypeLongDoubleComplex:
    case lldb::eBasicTypeObjCID:
    case lldb::eBasicTypeObjCClass:
    case lldb::eBasicTypeObjCSel:
    case lldb::eBasicTypeNullPtr:
    case lldb::eBasicTypeInvalid:
    case lldb::eBasicTypeOther:
      return t.GetByteSize() == 8 && t.GetBasicType() == lldb::eBasicTypeNullPtr
                 ? sysv::TypeClass::Pointer
                 : sysv::TypeClass::Unknown;
    default:
      return t.GetByteSize() <= 16 ? sysv::TypeClass::Integer : sysv::TypeClass::Unknown;
  }
}

// flatten() adds the scalar members of t at offset to out (bases, members, array elements);
// false when one of them is not a scalar the core classifies.
bool flatten(lldb::SBType type, std::uint64_t offset, std::vector<sysv::Scalar>& out,
             unsigned depth = 0) {
  lldb::SBType t = type.GetCanonicalType();
  if (depth > 32 || out.size() > 64) return false;
  if (t.IsArrayType()) {
    lldb::SBType element = t.GetArrayElementType();
    const std::uint64_t size = element.GetByteSize();
    if (size == 0) return true;
    for (std::uint64_t at = 0; at + size <= t.GetByteSize(); at += size)
      if (!flatten(element, offset + at, out, depth + 1)) return false;
    return true;
  }
  if (is_record(t)) {
    for (std::uint32_t i = 0; i < t.GetNumberOfDirectBaseClasses(); ++i) {
      lldb::SBTypeMember base = t.GetDirectBaseClassAtIndex(i);
      if (!flatten(base.GetType(), offset + base.GetOffsetInBytes(), out, depth + 1)) return false;
    }
    for (std::uint32_t i = 0; i < t.GetNumberOfFields(); ++i) {
      lldb::SBTypeMember field = t.GetFieldAtIndex(i);
      if (field.IsBitfield()) {
        // A bit-field is in the integer class of the bytes it occupies.
        const std::uint64_t bits = field.GetOffsetInBits();
        const std::uint64_t last = bits + std::max<std::uint32_t>(field.GetBitfieldSizeInBits(), 1) - 1;
        out.push_back({offset + bits / 8, last / 8 - bits / 8 + 1, sysv::TypeClass::Integer});
        continue;
      }
      if (!flatten(field.GetType(), offset + field.GetOffsetInBytes(), out, depth + 1))
        return false;
    }
    return true;
  }
  if (t.GetTypeClass() == lldb::eTypeClassBuiltin) {
    const lldb::BasicType basic = t.GetBasicType();
    if (basic == lldb::eBasicTypeFloatComplex || basic == lldb::eBasicTypeDoubleComplex ||
        basic == lldb::eBasicTypeLongDoubleComplex) {
      const std::uint64_t half = t.GetByteSize() / 2;
      const sysv::TypeClass c =
          basic == lldb::eBasicTypeLongDoubleComplex ? sysv::TypeClass::X87 : sysv::TypeClass::Float;
      out.push_back({offset, half, c});
      out.push_back({offset + half, half, c});
      return true;
    }
  }
  const sysv::TypeClass c = scalar_class(t);
  if (c == sysv::TypeClass::Unknown || c == sysv::TypeClass::Void) return false;
  out.push_back({offset, t.GetByteSize(), c});
  return true;
}

// describe() is type as the core's SysV classification sees it: the one place DWARF types
// become sysv::TypeDescriptions (arguments, return values, evaluated values).
sysv::TypeDescription describe(lldb::SBType type) {
  sysv::TypeDescription d;
  const char* name = type.GetName();
  d.name = name ? name : "";
  lldb::SBType t = type.GetCanonicalType();
  if (!t.IsValid()) return d;
  d.size = t.GetByteSize();
  d.align = t.GetByteAlign();
  if (non_trivial_for_calls(t)) {
    d.type = sysv::TypeClass::ByReference;
    return d;
  }
  const lldb::BasicType basic = t.GetBasicType();
  if (is_record(t) || t.IsArrayType() ||
      (t.GetTypeClass() == lldb::eTypeClassBuiltin &&
       (basic == lldb::eBasicTypeFloatComplex || basic == lldb::eBasicTypeDoubleComplex ||
        basic == lldb::eBasicTypeLongDoubleComplex))) {
    d.type = sysv::TypeClass::Aggregate;
    // Larger than 16 bytes it is in memory whatever its members.
    if (d.size <= 16 && !flatten(t, 0, d.scalars)) d.type = sysv::TypeClass::Unknown;
    return d;
  }
  d.type = scalar_class(t);
  d.is_signed = is_signed(basic) || t.GetTypeClass() == lldb::eTypeClassEnumeration;
  return d;
}

}  // namespace

// argument_layout() describes the stopped function's parameters from DWARF for the core's
// classification, once per frame (or takes the one use_layout() gave); an empty layout
// without debug info.
std::shared_ptr<const ArgumentLayout> LldbFrame::argument_layout() {
  if (layout_) return layout_;
  sysv::FunctionDescription description;
  lldb::SBFunction function = frame().GetFunction();
  if (!function.IsValid()) {
    layout_ = std::make_shared<ArgumentLayout>();
    return layout_;
  }
  lldb::SBTypeList types = function.GetType().GetFunctionArgumentTypes();
  description.return_type = describe(function.GetType().GetFunctionReturnType());
  // A C++ member function's DWARF lists its object pointer `this` among the parameters
  // (first, or at -O2 after the others), but its type does not. (An unnamed parameter is
  // listed too, without a name.)
  lldb::SBTarget target = process_.GetTarget();
  lldb::SBValueList parameters = function.GetBlock().GetVariables(target, true, false, false);
  std::vector<std::string> names;
  for (std::uint32_t i = 0; i < parameters.GetSize(); ++i) {
    const char* name = function.GetArgumentName(i);
    names.emplace_back(name ? name : "");
  }
  auto self = std::find(names.begin(), names.end(), "this");
  if (names.size() == types.GetSize() + 1 && self != names.end()) {
    const char* type_name =
        parameters.GetValueAtIndex(static_cast<std::uint32_t>(self - names.begin()))
            .GetTypeName();
    names.erase(self);
    sysv::Parameter& p = description.parameters.emplace_back();
    p.name = "this";
    p.is_this = true;
    p.type.type = sysv::TypeClass::Pointer;
    p.type.name = type_name ? type_name : "void *";
    p.type.size = 8;
  }
  for (std::uint32_t i = 0; i < types.GetSize(); ++i) {
    sysv::Parameter& p = description.parameters.emplace_back();
    p.name = i < names.size() ? names[i] : "";
    p.type = describe(types.GetTypeAtIndex(i));
  }
  // Where the build gives a parameter a register at the first instruction (an optimised one;
  // an -O0 build's locations are stack slots the prologue has not written yet), the core
  // believes it: GCC lists a member's `this` last and unused parameters after used ones, and
  // a clone (f.isra.0, f.part.1) takes fewer parameters.
  // GCC's clones (f.isra.0, f.part.1) end in a suffix after a dot, which no mangled name
  // holds otherwise, nor a C name; a demangled one may: `f(int, ...)`.
  lldb::SBSymbol symbol = frame().GetSymbol();
  const char* symbol_name = symbol.GetMangledName();
  if (!symbol_name || !*symbol_name) symbol_name = symbol.GetName();
  description.clone = symbol_name && std::strchr(symbol_name, '.') != nullptr;
  lldb::SBValueList values = frame().GetVariables(true, false, false, false);
  for (std::uint32_t i = 0; i < values.GetSize(); ++i) {
    lldb::SBValue v = values.GetValueAtIndex(i);
    const char* name = v.GetName();
    const char* where = v.GetLocation();
    if (!name || !*name || !where) continue;
    std::optional<sysv::Register> reg = sysv::register_named(where);
    if (!reg) continue;
    for (sysv::Parameter& p : description.parameters)
      if (p.name == name && !p.entry_register) {
        p.entry_register = reg;
        break;
      }
  }
  layout_ = std::make_shared<const ArgumentLayout>(sysv::argument_layout(description));
  return layout_;
}

// arguments() takes names and types from DWARF but values from the ABI's registers: at the
// first instruction the DWARF locations of an -O0 build point at stack slots the prologue has
// not written yet, while the registers hold what the caller passed at every optimisation level.
std::vector<Argument> LldbFrame::arguments() {
  require(Where::Entry, "arguments");
  return read_arguments(*this, *argument_layout());
}

std::optional<Argument> LldbFrame::argument(std::string_view name) {
  require(Where::Entry, "arguments");
  return read_argument(*this, *argument_layout(), name);
}

std::vector<std::uint8_t> LldbFrame::read_memory(std::uint64_t address, std::size_t size) {
  if (where_ == Where::Gone) throw Error("no target to read: " + gone_why_);
  std::vector<std::uint8_t> out(size);
  if (size == 0) return out;
  lldb::SBError error;
  std::size_t got = process_.ReadMemory(address, out.data(), size, error);
  if (error.Fail() || got != size)
    throw Error("cannot read " + std::to_string(size) + " bytes at " + hex(address) +
                (error.GetCString() ? std::string(": ") + error.GetCString() : ""));
  return out;
}

std::vector<MemoryRegion> LldbFrame::memory_regions() {
  if (where_ == Where::Gone) throw Error("no target to read: " + gone_why_);
  return regions_of_process(process_);
}

std::vector<ThreadState> LldbFrame::threads() {
  if (where_ == Where::Gone) throw Error("no target to read: " + gone_why_);
  return threads_of_process(process_, thread_.GetThreadID());
}

std::string LldbFrame::read_cstring(std::uint64_t address, std::size_t max_size) {
  if (where_ == Where::Gone) throw Error("no target to read: " + gone_why_);
  std::string out(max_size + 1, '\0');
  lldb::SBError error;
  std::size_t got = process_.ReadCStringFromMemory(address, out.data(), out.size(), error);
  if (error.Fail())
    throw Error("cannot read a C string at " + hex(address) +
                (error.GetCString() ? std::string(": ") + error.GetCString() : ""));
  out.resize(got);
  return out;
}

std::vector<StackFrame> LldbFrame::backtrace(std::size_t max_frames) {
  if (where_ == Where::Gone) throw Error("no target to read: " + gone_why_);
  std::vector<StackFrame> out;
  std::uint32_t n = thread_.GetNumFrames();
  for (std::uint32_t i = 0; i < n && out.size() < max_frames; ++i) {
    lldb::SBFrame f = thread_.GetFrameAtIndex(i);
    StackFrame& frame = out.emplace_back();
    frame.pc = f.GetPC();
    const char* module = f.GetModule().GetFileSpec().GetFilename();
    const char* name = f.GetDisplayFunctionName();
    frame.module = module ? module : "";
    frame.function = name ? name : "";
    lldb::SBAddress start = f.GetSymbol().GetStartAddress();
    if (start.IsValid()) {
      lldb::addr_t from = start.GetLoadAddress(process_.GetTarget());
      if (from != LLDB_INVALID_ADDRESS && frame.pc > from) frame.offset = frame.pc - from;
    }
    lldb::SBLineEntry le = f.GetLineEntry();
    if (le.IsValid() && le.GetFileSpec().GetFilename()) {
      frame.file = le.GetFileSpec().GetFilename();
      frame.line = le.GetLine();
    }
  }
  return out;
}

ReturnType LldbFrame::return_type() {
  if (entry_return_type_) return *entry_return_type_;
  lldb::SBFunction function = frame().GetFunction();
  ReturnType type;
  if (function.IsValid())
    type = sysv::return_layout(describe(function.GetType().GetFunctionReturnType()));
  entry_return_type_ = type;
  return type;
}

ReturnType LldbFrame::return_layout() {
  switch (where_) {
    case Where::Entry:
      try {
        return return_type();
      } catch (const Error&) {
        return ReturnType{};  // a type DWARF cannot describe: as without debug info
      }
    case Where::Return:
      return return_type_;
    case Where::Gone:
      break;
  }
  return ReturnType{};
}

// int_return_value() is rax, cut to the C return type's width (sign- or zero-extended) when
// DWARF gives it: the upper bits of rax are undefined for an int.
std::uint64_t LldbFrame::int_return_value() {
  require(Where::Return, "a return value");
  std::uint64_t rax = register_value("rax");
  if (!return_type_.known || return_type_.floating) return rax;
  if (return_type_.size == 1 && !return_type_.is_signed) return rax & 0xff;
  return static_cast<std::uint64_t>(sized(rax, return_type_.size, return_type_.is_signed));
}

// float_return_value() is xmm0 as a double, or as a float widened when DWARF says float; for a
// long double, st0 (the top of the x87 stack) rounded to a double.
double LldbFrame::float_return_value() {
  require(Where::Return, "a return value");
  if (return_type_.type == sysv::TypeClass::X87) {
    std::vector<std::uint8_t> x87 = register_bytes("st0");
    long double l = 0;
    std::memcpy(&l, x87.data(), std::min<std::size_t>(x87.size(), 10));
    return static_cast<double>(l);
  }
  std::vector<std::uint8_t> b = register_bytes("xmm0");
  if (return_type_.known && return_type_.floating && return_type_.size == 4) {
    float f = 0;
    std::memcpy(&f, b.data(), sizeof f);
    return static_cast<double>(f);
  }
  double d = 0;
  std::memcpy(&d, b.data(), sizeof d);
  return d;
}

void LldbFrame::write_register(std::string_view name, std::uint64_t value) {
  lldb::SBValue reg = find_register(name);
  lldb::SBError error;
  if (!reg.SetValueFromCString(hex(value).c_str(), error) || error.Fail())
    throw Error("cannot write register '" + std::string(name) + "'" +
                (error.GetCString() ? std::string(": ") + error.GetCString() : ""));
  for (auto& [n, v] : cache_)
    if (n == name) v = value;
}

// write_vector() writes size bytes at the start of the vector register name (xmm0: 16
// bytes, st0: 10), keeping the rest, and checks that it took them.
void LldbFrame::write_vector(std::string_view name, const void* data, std::size_t size) {
  lldb::SBValue reg = find_register(name);
  std::vector<std::uint8_t> bytes = register_bytes(name);
  if (bytes.size() < size)
    throw Error("cannot write register '" + std::string(name) + "': it has " +
                std::to_string(bytes.size()) + " bytes, not " + std::to_string(size));
  std::memcpy(bytes.data(), data, size);
  // A vector register takes its value as "{0x01 0x02 ...}", one byte per element.
  std::string text = "{";
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    char b[8];
    std::snprintf(b, sizeof b, "%s0x%02x", i ? " " : "", bytes[i]);
    text += b;
  }
  text += "}";
  lldb::SBError error;
  if (!reg.SetValueFromCString(text.c_str(), error) || error.Fail())
    throw Error("cannot write register '" + std::string(name) + "'" +
                (error.GetCString() ? std::string(": ") + error.GetCString() : ""));
  if (register_bytes(name) != bytes)
    throw Error("cannot write register '" + std::string(name) + "': the value did not change");
}

// push_x87() makes room for a value at the top of the x87 stack, as a function returning a
// long double leaves it: TOP (fstat bits 11-13) one down, its register tagged valid in the
// full tag word LLDB shows (two bits a register, 11 empty).
void LldbFrame::push_x87() {
  const std::uint64_t fstat = register_value("fstat");
  const std::uint64_t ftag = register_value("ftag");
  const unsigned top = (static_cast<unsigned>(fstat >> 11) - 1) & 7;
  write_register("fstat", (fstat & ~std::uint64_t{0x3800}) | (std::uint64_t{top} << 11));
  write_register("ftag", ftag & ~(std::uint64_t{3} << (2 * top)));
}

void LldbFrame::write_return(const sysv::ReturnRegisters& value, bool push) {
  using Reg = sysv::ReturnRegisters::Register;
  switch (value.reg) {
    case Reg::Rax:
      write_register("rax", value.bits);
      return;
    case Reg::Xmm0Float:
      write_vector("xmm0", &value.bits, 4);
      return;
    case Reg::Xmm0Double:
      write_vector("xmm0", &value.bits, 8);
      return;
    case Reg::St0:
      if (push) push_x87();
      write_vector("st0", value.x87, sizeof value.x87);
      return;
  }
}

void LldbFrame::set_return_value(const Value& value) {
  require(Where::Return, "a return value");
  write_return(sysv::return_registers(return_type_, value), false);
}

void LldbFrame::force_return(const Value& value) {
  require(Where::Entry, "a forced return");
  // Worked out before any write: a value the function cannot return leaves the call to run.
  const sysv::ReturnRegisters registers = sysv::return_registers(return_layout(), value);
  // The hooked function's argument layout too, while its frame is there: once the pc is in
  // the caller, DWARF describes the caller (the agent takes both when it patches after this
  // delivery).
  try {
    argument_layout();
  } catch (const std::exception&) {
    // Without debug info there is none to keep.
  }
  std::uint64_t sp = stack_pointer();
  std::uint64_t return_address = read_u64(sp);
  // The x87 stack is empty at a call (the ABI): a long double is pushed onto it.
  write_return(registers, true);
  write_register("rsp", sp + 8);
  if (!frame().SetPC(return_address))
    throw Error("cannot set the program counter to the return address " + hex(return_address));
}

// evaluate() runs the expression on the stopped thread alone, breakpoints ignored (the
// groutines' own would otherwise stop inside it), for at most kEvaluateTimeoutUs.
Value LldbFrame::evaluate(std::string_view expression) {
  constexpr std::uint32_t kEvaluateTimeoutUs = 10'000'000;
  if (where_ == Where::Gone) throw Error("no target to evaluate in: " + gone_why_);
  const std::string text(expression);
  lldb::SBExpressionOptions options;
  options.SetIgnoreBreakpoints(true);
  options.SetTryAllThreads(false);
  options.SetUnwindOnError(true);
  options.SetTimeoutInMicroSeconds(kEvaluateTimeoutUs);
  lldb::SBValue v = frame().EvaluateExpression(text.c_str(), options);
  // The expression may have written registers: read them again from now on.
  cache_.clear();
  lldb::SBError error = v.GetError();
  if (v.IsValid() && error.Fail() && error.GetError() == kNoResult) return std::monostate{};
  if (!v.IsValid() || error.Fail()) {
    // LLDB's message, on one line and without its own "error: ".
    std::string why = error.GetCString() ? error.GetCString() : "no value";
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
    for (char& c : why)
      if (c == '\n') c = ' ';
    if (why.rfind("error: ", 0) == 0) why.erase(0, 7);
    throw Error("cannot evaluate '" + text + "': " + why);
  }
  const sysv::TypeDescription type = describe(v.GetType());
  if (type.type == sysv::TypeClass::Void) return std::monostate{};
  if (type.type == sysv::TypeClass::Float && (type.size == 4 || type.size == 8)) {
    lldb::SBData data = v.GetData();
    lldb::SBError e;
    double d = type.size == 4 ? data.GetFloat(e, 0) : data.GetDouble(e, 0);
    if (e.Fail()) throw Error("cannot read the value of '" + text + "'");
    return d;
  }
  if (sysv::return_layout(type).known) return sysv::value_of(type, v.GetValueAsUnsigned());
  const char* type_name = v.GetTypeName();
  throw Error("the value of '" + text + "' is a " + (type_name ? type_name : "?") +
              ", not a number (evaluate an expression of one of its fields)");
}

std::string LldbFrame::cached_view() const {
  std::string out;
  for (const auto& [n, v] : cache_) {
    if (n == "rsp") continue;
    if (!out.empty()) out += ' ';
    out += n + "=" + std::to_string(static_cast<std::int64_t>(v));
  }
  return out;
}

}  // namespace groutines::plugin
