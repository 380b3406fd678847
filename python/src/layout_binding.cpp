// The core's SysV x86-64 argument layout (groutines/argument_layout.hpp) for hosts written in
// Python (the GDB frontend): the host describes a function's parameters and return type from
// its debugger's type API as plain dicts, ArgumentLayout classifies them once, and reads the
// arguments through any groutines.Frame (its int_argument, float_argument, register_value and
// read_memory), exactly as the LLDB plugin's frames do.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <map>
#include <memory>
#include <string>
#include <utility>

#include "bridge.hpp"
#include "groutines/argument_layout.hpp"
#include "layout_binding.hpp"

namespace groutines::python {
namespace {

const std::map<std::string, sysv::TypeClass>& type_classes() {
  static const std::map<std::string, sysv::TypeClass> classes{
      {"void", sysv::TypeClass::Void},           {"integer", sysv::TypeClass::Integer},
      {"bool", sysv::TypeClass::Bool},           {"pointer", sysv::TypeClass::Pointer},
      {"float", sysv::TypeClass::Float},         {"x87", sysv::TypeClass::X87},
      {"aggregate", sysv::TypeClass::Aggregate}, {"by_reference", sysv::TypeClass::ByReference},
      {"unknown", sysv::TypeClass::Unknown}};
  return classes;
}

sysv::TypeClass type_class(py::handle name) {
  const std::string text = to_text(name);
  auto it = type_classes().find(text);
  if (it == type_classes().end())
    throw py::value_error("unknown type class '" + text +
                          "' (void, integer, bool, pointer, float, x87, aggregate, "
                          "by_reference, unknown)");
  return it->second;
}

// get() is d[key] converted to T, or fallback when d has no key.
template <class T>
T get(const py::dict& d, const char* key, T fallback) {
  return d.contains(key) ? d[key].cast<T>() : fallback;
}

// type_of() reads a type dict: class, name, size, align, signed, scalars [(offset, size,
// class)].
sysv::TypeDescription type_of(py::handle object) {
  if (!py::isinstance<py::dict>(object))
    throw py::type_error("a type is a dict (class, name, size, align, signed, scalars), not " +
                         to_text(py::repr(object)));
  auto d = py::reinterpret_borrow<py::dict>(object);
  sysv::TypeDescription t;
  t.type = d.contains("class") ? type_class(d["class"]) : sysv::TypeClass::Unknown;
  t.name = d.contains("name") ? to_text(d["name"]) : "";
  t.size = get<std::uint64_t>(d, "size", 0);
  t.align = get<std::uint64_t>(d, "align", 0);
  t.is_signed = get<bool>(d, "signed", false);
  if (d.contains("scalars"))
    for (py::handle s : d["scalars"]) {
      auto part = s.cast<py::tuple>();
      if (part.size() != 3) throw py::value_error("a scalar is (offset, size, class)");
      t.scalars.push_back(sysv::Scalar{part[0].cast<std::uint64_t>(),
                                       part[1].cast<std::uint64_t>(), type_class(part[2])});
    }
  return t;
}

// function_of() reads a function dict: parameters [dict(name, type, is_this,
// entry_register)], return_type, clone.
sysv::FunctionDescription function_of(const py::dict& d) {
  sysv::FunctionDescription f;
  if (d.contains("parameters"))
    for (py::handle h : d["parameters"]) {
      if (!py::isinstance<py::dict>(h))
        throw py::type_error("a parameter is a dict (name, type, is_this, entry_register)");
      auto p = py::reinterpret_borrow<py::dict>(h);
      sysv::Parameter& out = f.parameters.emplace_back();
      out.name = p.contains("name") ? to_text(p["name"]) : "";
      out.type = type_of(p.contains("type") ? p["type"] : py::dict());
      out.is_this = get<bool>(p, "is_this", false);
      if (p.contains("entry_register") && !p["entry_register"].is_none()) {
        const std::string reg = to_text(p["entry_register"]);
        out.entry_register = sysv::register_named(reg);
        if (!out.entry_register)
          throw py::value_error("'" + reg + "' is not an argument register");
      }
    }
  if (d.contains("return_type"))
    f.return_type = type_of(d["return_type"]);
  else
    f.return_type.type = sysv::TypeClass::Void;
  f.clone = get<bool>(d, "clone", false);
  return f;
}

py::tuple argument_tuple(const Argument& a) {
  return py::make_tuple(from_text(a.name), from_text(a.type), from_value(a.value));
}

const char* register_name(sysv::ReturnRegisters::Register reg) {
  using Reg = sysv::ReturnRegisters::Register;
  switch (reg) {
    case Reg::Rax:
      return "rax";
    case Reg::Xmm0Float:
      return "xmm0_float";
    case Reg::Xmm0Double:
      return "xmm0_double";
    case Reg::St0:
      return "st0";
  }
  return "?";
}

const char* class_name(sysv::TypeClass type) {
  for (const auto& [name, value] : type_classes())
    if (value == type) return name.c_str();
  return "unknown";
}

}  // namespace

void bind_layout(py::module_& m) {
  py::class_<Layout, std::shared_ptr<Layout>>(
      m, "ArgumentLayout",
      "ArgumentLayout(function): the SysV x86-64 places of a function's arguments at its first "
      "instruction and how its return value reads, classified by the core from a description "
      "a Python host builds from its debugger's types: function = dict(parameters=[dict(name, "
      "type, is_this=False, entry_register=None)], return_type=type, clone=False), type = "
      "dict(class='integer'|'bool'|'pointer'|'float'|'x87'|'aggregate'|'by_reference'|'void'|"
      "'unknown', name, size, align=0, signed=False, scalars=[(offset, size, class)]).")
      .def(py::init([](const py::dict& function) {
             auto layout = std::make_shared<Layout>();
             sysv::FunctionDescription f = function_of(function);
             layout->arguments = sysv::argument_layout(f);
             layout->returns = sysv::return_layout(f.return_type);
             layout->return_type = f.return_type;
             return layout;
           }),
           py::arg("function"))
      .def_property_readonly("names",
                             [](const Layout& l) {
                               py::list out;
                               for (const auto& slot : l.arguments)
                                 out.append(from_text(slot.name));
                               return out;
                             })
      .def(
          "arguments",
          [](const Layout& l, Frame& frame) {
            std::vector<Argument> args = sysv::read_arguments(frame, l.arguments);
            py::list out;
            for (const Argument& a : args) out.append(argument_tuple(a));
            return out;
          },
          py::arg("frame"),
          "arguments(frame) -> [(name, type, value)]: every argument read through frame at the "
          "function's first instruction (None for one that is not a number or not located).")
      .def(
          "argument",
          [](const Layout& l, Frame& frame, const Text& name) -> py::object {
            std::optional<Argument> a = sysv::read_argument(frame, l.arguments, name.value);
            return a ? py::object(argument_tuple(*a)) : py::none();
          },
          py::arg("frame"), py::arg("name"))
      .def_property_readonly("return_known", [](const Layout& l) { return l.returns.known; })
      .def_property_readonly("return_floating", [](const Layout& l) { return l.returns.floating; })
      .def_property_readonly("return_signed", [](const Layout& l) { return l.returns.is_signed; })
      .def_property_readonly("return_size", [](const Layout& l) { return l.returns.size; })
      .def_property_readonly(
          "return_class", [](const Layout& l) { return class_name(l.returns.type); },
          "the return type's class (integer, float, x87, aggregate, void, unknown...)")
      .def(
          "return_registers",
          [](const Layout& l, py::handle value) {
            const sysv::ReturnRegisters r = sysv::return_registers(l.returns, to_value(value));
            return py::make_tuple(register_name(r.reg), r.bits,
                                  py::bytes(reinterpret_cast<const char*>(r.x87), sizeof r.x87));
          },
          py::arg("value"),
          "return_registers(value) -> (register, bits, x87): where and how a forced or "
          "rewritten return value goes for this function's return type (register rax, "
          "xmm0_float, xmm0_double or st0; bits of rax or xmm0's low bytes; st0's 10 bytes), "
          "converted as a C return statement converts it; groutines.Error when the function "
          "cannot return it (a struct).")
      .def(
          "return_value",
          [](const Layout& l, std::uint64_t raw) {
            return from_value(sysv::value_of(l.return_type, raw));
          },
          py::arg("raw"),
          "return_value(raw) -> int, bool, float or None: the raw 8 bytes of rax (or of xmm0) "
          "read as the return type.");
  m.def(
      "type_value",
      [](const py::dict& type, std::uint64_t raw) {
        return from_value(sysv::value_of(type_of(type), raw));
      },
      py::arg("type"), py::arg("raw"),
      "type_value(type, raw) -> int, bool, float or None: raw 8 bytes as a scalar of type (a "
      "type dict as ArgumentLayout takes).");
}

}  // namespace groutines::python
