#include "lldb_frame.hpp"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstring>

#include "groutines/error.hpp"

namespace groutines::plugin {

namespace {

// kNoResult is the error LLDB's expression evaluation gives an expression of type void
// (lldb_private::UserExpression::kNoResult).
constexpr std::uint32_t kNoResult = 0x1001;

// SysV x86-64: the integer/pointer argument registers, in order.
constexpr const char* kIntArgumentRegisters[] = {"rdi", "rsi", "rdx", "rcx", "r8", "r9"};
constexpr unsigned kFloatArgumentRegisters = 8;  // xmm0..xmm7

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
      return true;
    default:
      return false;
  }
}

}  // namespace

std::string hex(std::uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%" PRIx64, v);
  return buf;
}

std::int64_t sized(std::uint64_t raw, std::uint64_t size, bool is_signed_type) {
  if (size == 0 || size >= 8) return static_cast<std::int64_t>(raw);
  unsigned bits = static_cast<unsigned>(size * 8);
  std::uint64_t mask = (std::uint64_t{1} << bits) - 1;
  raw &= mask;
  if (is_signed_type && (raw >> (bits - 1)) & 1) raw |= ~mask;
  return static_cast<std::int64_t>(raw);
}

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

// classify() places the next argument of type by the SysV classification: integers, pointers,
// references, enums and bools in the integer registers then the stack; float and double in
// xmm registers; a C++ class non-trivial for calls as the pointer it is passed as. Anything
// else (structs by value, long double...) is Unknown: its place, and so every later
// argument's, is not worked out.
void classify(lldb::SBType type, unsigned& next_int, unsigned& next_float, ArgumentSlot& slot) {
  lldb::SBType t = type.GetCanonicalType();
  lldb::BasicType basic = t.GetBasicType();
  std::uint64_t size = t.GetByteSize();
  if (non_trivial_for_calls(t)) {
    slot.kind = ArgumentSlot::Kind::Integer;
    slot.index = next_int++;
    slot.size = 8;
    slot.is_signed = false;
    return;
  }
  bool integer_class = t.IsPointerType() || t.IsReferenceType() ||
                       t.GetTypeClass() == lldb::eTypeClassEnumeration ||
                       (t.GetTypeClass() == lldb::eTypeClassBuiltin && size <= 8 &&
                        basic != lldb::eBasicTypeFloat && basic != lldb::eBasicTypeDouble &&
                        basic != lldb::eBasicTypeLongDouble && basic != lldb::eBasicTypeHalf);
  if (integer_class) {
    slot.kind = basic == lldb::eBasicTypeBool ? ArgumentSlot::Kind::Bool
                                              : ArgumentSlot::Kind::Integer;
    slot.index = next_int++;
    slot.size = size;
    slot.is_signed = is_signed(basic) || t.GetTypeClass() == lldb::eTypeClassEnumeration;
  } else if ((basic == lldb::eBasicTypeDouble || basic == lldb::eBasicTypeFloat) &&
             next_float < kFloatArgumentRegisters) {
    slot.kind = basic == lldb::eBasicTypeDouble ? ArgumentSlot::Kind::Double
                                                : ArgumentSlot::Kind::Float;
    slot.index = next_float++;
  }
}

// argument_register() tells which argument register reg (a name LLDB gives a location as) is:
// integer argument register index, or xmm index when floating. False for any other.
bool argument_register(std::string_view reg, bool& floating, unsigned& index) {
  static constexpr const char* kNames[6][4] = {
      {"rdi", "edi", "di", "dil"}, {"rsi", "esi", "si", "sil"}, {"rdx", "edx", "dx", "dl"},
      {"rcx", "ecx", "cx", "cl"},  {"r8", "r8d", "r8w", "r8l"}, {"r9", "r9d", "r9w", "r9l"}};
  for (unsigned i = 0; i < 6; ++i)
    for (const char* name : kNames[i])
      if (reg == name) {
        floating = false;
        index = i;
        return true;
      }
  if (reg.size() == 4 && reg.substr(0, 3) == "xmm" && reg[3] >= '0' &&
      reg[3] < '0' + static_cast<char>(kFloatArgumentRegisters)) {
    floating = true;
    index = static_cast<unsigned>(reg[3] - '0');
    return true;
  }
  return false;
}

// use_entry_locations() corrects layout, worked out by the SysV classification in the order
// the function's DWARF lists its parameters, with the registers that DWARF's locations give
// them at the first instruction. An optimised build says where each parameter it uses is
// (an -O0 build's locations are stack slots the prologue has not written yet: nothing then),
// and its order can be other than the declaration's (GCC lists a member's `this` last and its
// unused parameters after the used ones; a clone, `f.isra.0`, takes fewer parameters): a
// slot whose register another parameter's location claims is not read (none), nor, in a
// clone, one without a location.
void use_entry_locations(lldb::SBFrame& frame, ArgumentLayout& layout) {
  // GCC's clones (f.isra.0, f.part.1) end in a suffix after a dot, which no mangled name
  // holds otherwise, nor a C name; a demangled one may: `f(int, ...)`.
  lldb::SBSymbol symbol = frame.GetSymbol();
  const char* symbol_name = symbol.GetMangledName();
  if (!symbol_name || !*symbol_name) symbol_name = symbol.GetName();
  const bool clone = symbol_name && std::strchr(symbol_name, '.') != nullptr;
  struct Located {
    bool floating = false;
    unsigned index = 0;
  };
  std::vector<std::pair<std::string, Located>> located;
  lldb::SBValueList values = frame.GetVariables(true, false, false, false);
  for (std::uint32_t i = 0; i < values.GetSize(); ++i) {
    lldb::SBValue v = values.GetValueAtIndex(i);
    const char* name = v.GetName();
    const char* where = v.GetLocation();
    Located at;
    if (name && *name && where && argument_register(where, at.floating, at.index))
      located.emplace_back(name, at);
  }
  if (located.empty()) return;
  auto claimed = [&](bool floating, unsigned index, const std::string& by) {
    for (const auto& [name, at] : located)
      if (name != by && at.floating == floating && at.index == index) return true;
    return false;
  };
  for (ArgumentSlot& slot : layout) {
    const bool floating =
        slot.kind == ArgumentSlot::Kind::Double || slot.kind == ArgumentSlot::Kind::Float;
    if (slot.kind == ArgumentSlot::Kind::Unknown) continue;
    auto at = std::find_if(located.begin(), located.end(),
                           [&](const auto& l) { return l.first == slot.name; });
    if (at != located.end() && at->second.floating == floating) {
      slot.index = at->second.index;
    } else if (at != located.end() || clone ||
               ((floating || slot.index < 6) && claimed(floating, slot.index, slot.name))) {
      slot.kind = ArgumentSlot::Kind::Unknown;
    }
  }
}

}  // namespace

// argument_layout() works out from DWARF where each argument of the stopped function is, once
// per frame (or takes the one use_layout() gave); an empty layout without debug info.
std::shared_ptr<const ArgumentLayout> LldbFrame::argument_layout() {
  if (layout_) return layout_;
  auto layout = std::make_shared<ArgumentLayout>();
  lldb::SBFunction function = frame().GetFunction();
  if (function.IsValid()) {
    lldb::SBTypeList types = function.GetType().GetFunctionArgumentTypes();
    unsigned next_int = 0;
    unsigned next_float = 0;
    // A function returning a struct in memory (larger than 16 bytes, or a C++ class
    // non-trivial for calls) takes a hidden pointer in rdi.
    lldb::SBType ret = function.GetType().GetFunctionReturnType().GetCanonicalType();
    if (ret.IsValid() && ret.GetTypeClass() != lldb::eTypeClassBuiltin && !ret.IsPointerType() &&
        !ret.IsReferenceType() && ret.GetTypeClass() != lldb::eTypeClassEnumeration &&
        (ret.GetByteSize() > 16 || non_trivial_for_calls(ret)))
      next_int = 1;
    // A C++ member function's DWARF lists its object pointer `this` among the parameters
    // (first, or at -O2 after the others), but its type does not: `this` is passed first,
    // after a hidden struct-return pointer, and the declared parameters follow it. (An
    // unnamed parameter is listed too, without a name.)
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
      ArgumentSlot& slot = layout->emplace_back();
      slot.name = "this";
      slot.type = type_name ? type_name : "void *";
      slot.kind = ArgumentSlot::Kind::Integer;
      slot.index = next_int++;
      slot.size = 8;
      slot.is_signed = false;
    }
    bool known = true;
    for (std::uint32_t i = 0; i < types.GetSize(); ++i) {
      lldb::SBType type = types.GetTypeAtIndex(i);
      const char* type_name = type.GetName();
      ArgumentSlot& slot = layout->emplace_back();
      slot.name = i < names.size() ? names[i] : "";
      slot.type = type_name ? type_name : "";
      if (known) classify(type, next_int, next_float, slot);
      known = slot.kind != ArgumentSlot::Kind::Unknown;
    }
    use_entry_locations(frame(), *layout);
  }
  layout_ = std::move(layout);
  return layout_;
}

Value read_argument(Frame& frame, const ArgumentSlot& slot) {
  switch (slot.kind) {
    case ArgumentSlot::Kind::Integer:
      return sized(frame.int_argument(slot.index), slot.size, slot.is_signed);
    case ArgumentSlot::Kind::Bool:
      return (frame.int_argument(slot.index) & 0xff) != 0;
    case ArgumentSlot::Kind::Double:
      return frame.float_argument(slot.index);
    case ArgumentSlot::Kind::Float: {
      // A float is the low 4 bytes of the register float_argument() reads 8 of.
      double d = frame.float_argument(slot.index);
      float f = 0;
      std::memcpy(&f, &d, sizeof f);
      return static_cast<double>(f);
    }
    case ArgumentSlot::Kind::Unknown:
      break;
  }
  return std::monostate{};
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

std::vector<std::string> LldbFrame::backtrace(std::size_t max_frames) {
  if (where_ == Where::Gone) throw Error("no target to read: " + gone_why_);
  std::vector<std::string> out;
  std::uint32_t n = thread_.GetNumFrames();
  for (std::uint32_t i = 0; i < n && out.size() < max_frames; ++i) {
    lldb::SBFrame f = thread_.GetFrameAtIndex(i);
    const char* module = f.GetModule().GetFileSpec().GetFilename();
    const char* name = f.GetDisplayFunctionName();
    std::string line = "#" + std::to_string(i) + " " + hex(f.GetPC()) + " " +
                       (module ? module : "?") + "`" + (name ? name : "??");
    lldb::SBAddress start = f.GetSymbol().GetStartAddress();
    if (start.IsValid()) {
      lldb::addr_t from = start.GetLoadAddress(process_.GetTarget());
      if (from != LLDB_INVALID_ADDRESS && f.GetPC() > from)
        line += " + " + std::to_string(f.GetPC() - from);
    }
    lldb::SBLineEntry le = f.GetLineEntry();
    if (le.IsValid() && le.GetFileSpec().GetFilename())
      line += std::string(" at ") + le.GetFileSpec().GetFilename() + ":" +
              std::to_string(le.GetLine());
    out.push_back(std::move(line));
  }
  return out;
}

ReturnType LldbFrame::return_type() {
  ReturnType r;
  lldb::SBFunction function = frame().GetFunction();
  if (!function.IsValid()) return r;
  lldb::SBType t = function.GetType().GetFunctionReturnType().GetCanonicalType();
  if (!t.IsValid()) return r;
  lldb::BasicType basic = t.GetBasicType();
  if (basic == lldb::eBasicTypeFloat || basic == lldb::eBasicTypeDouble) {
    r.known = true;
    r.floating = true;
    r.size = t.GetByteSize();
  } else if (t.IsPointerType() || t.IsReferenceType() ||
             t.GetTypeClass() == lldb::eTypeClassEnumeration ||
             (t.GetTypeClass() == lldb::eTypeClassBuiltin && t.GetByteSize() <= 8 &&
              basic != lldb::eBasicTypeVoid)) {
    r.known = true;
    r.size = t.GetByteSize();
    r.is_signed = is_signed(basic) || t.GetTypeClass() == lldb::eTypeClassEnumeration;
  }
  return r;
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

// float_return_value() is xmm0 as a double, or as a float widened when DWARF says float.
double LldbFrame::float_return_value() {
  require(Where::Return, "a return value");
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

void LldbFrame::write_xmm0(double value) {
  lldb::SBValue reg = find_register("xmm0");
  std::vector<std::uint8_t> bytes = register_bytes("xmm0");
  std::memcpy(bytes.data(), &value, sizeof value);
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
    throw Error(std::string("cannot write register 'xmm0'") +
                (error.GetCString() ? std::string(": ") + error.GetCString() : ""));
  if (register_bytes("xmm0") != bytes)
    throw Error("cannot write register 'xmm0': the value did not change");
}

void LldbFrame::set_return_value(const Value& value) {
  if (const auto* d = std::get_if<double>(&value)) {
    write_xmm0(*d);
  } else if (const auto* i = std::get_if<std::int64_t>(&value)) {
    write_register("rax", static_cast<std::uint64_t>(*i));
  } else if (const auto* b = std::get_if<bool>(&value)) {
    write_register("rax", *b ? 1 : 0);
  } else {
    throw Error("a return value must be a number or a bool, not " + to_string(value));
  }
}

void LldbFrame::force_return(const Value& value) {
  require(Where::Entry, "a forced return");
  std::uint64_t sp = stack_pointer();
  std::uint64_t return_address = read_u64(sp);
  set_return_value(value);
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
  lldb::SBType t = v.GetType().GetCanonicalType();
  lldb::BasicType basic = t.GetBasicType();
  if (basic == lldb::eBasicTypeVoid) return std::monostate{};
  if (basic == lldb::eBasicTypeBool) return v.GetValueAsUnsigned() != 0;
  if (basic == lldb::eBasicTypeFloat || basic == lldb::eBasicTypeDouble) {
    lldb::SBData data = v.GetData();
    lldb::SBError e;
    double d = basic == lldb::eBasicTypeFloat ? data.GetFloat(e, 0) : data.GetDouble(e, 0);
    if (e.Fail()) throw Error("cannot read the value of '" + text + "'");
    return d;
  }
  if (t.IsPointerType() || t.IsReferenceType() || t.GetTypeClass() == lldb::eTypeClassEnumeration ||
      (t.GetTypeClass() == lldb::eTypeClassBuiltin && t.GetByteSize() <= 8)) {
    bool sign = is_signed(basic) || t.GetTypeClass() == lldb::eTypeClassEnumeration;
    return sized(v.GetValueAsUnsigned(), t.GetByteSize(), sign);
  }
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
