#include "handles.hpp"

#include <pybind11/stl.h>

#include "awaitables.hpp"
#include "bridge.hpp"

namespace groutines::python {

py::object handle_for(Runtime& runtime, const Event& event) {
  switch (event.kind) {
    case EventKind::Call: return py::cast(CallHandle(runtime, event));
    case EventKind::Return: return py::cast(ReturnHandle(runtime, event));
    case EventKind::Custom: return py::cast(CustomEventHandle(runtime, event));
  }
  return py::none();
}

namespace {

// A number given as a forced or rewritten return value: an int (bool counts) or a float.
std::variant<std::int64_t, double> number(py::handle value, const char* what) {
  Value v = to_value(value);
  if (auto* i = std::get_if<std::int64_t>(&v)) return *i;
  if (auto* b = std::get_if<bool>(&v)) return std::int64_t{*b};
  if (auto* d = std::get_if<double>(&v)) return *d;
  throw py::type_error(std::string(what) + " takes an int or a float, not " +
                       std::string(Py_TYPE(value.ptr())->tp_name));
}

std::string where(const EventHandle& h) {
  if (!h.valid()) return " (no longer current)";
  return " on thread " + std::to_string(h.event().thread_id);
}

// stopped_thread() adds what Call and Return do with the stopped thread: read its registers,
// memory and stack, evaluate an expression in it.
template <class Class>
Class& stopped_thread(Class& cls) {
  using H = typename Class::type;
  return cls.def("reg", &TargetEvent::reg, py::arg("name"),
                 "reg(name): a register's value now (rdi, rax, rsp...).")
      .def(
          "read_memory",
          [](const H& h, std::uint64_t address, std::size_t size) {
            std::vector<std::uint8_t> bytes = h.read_memory(address, size);
            return py::bytes(reinterpret_cast<const char*>(bytes.data()), bytes.size());
          },
          py::arg("address"), py::arg("size"), "read_memory(address, size) -> bytes.")
      .def(
          "read_cstring",
          [](const H& h, std::uint64_t address, std::size_t max_size) {
            return from_text(h.read_cstring(address, max_size));
          },
          py::arg("address"), py::arg("max_size") = 4096,
          "read_cstring(address, max_size=4096) -> str (invalid UTF-8 replaced).")
      .def(
          "memory_regions",
          [](const H& h) {
            std::vector<MemoryRegion> regions;
            {
              py::gil_scoped_release release;
              regions = h.memory_regions();
            }
            return regions;
          },
          "memory_regions() -> [MemoryRegion]: the target's mapped regions in address order "
          "(start, end, readable, writable, executable, path), to read with read_memory().")
      .def(
          "threads",
          [](const H& h) {
            std::vector<ThreadState> threads;
            {
              // The agent transport stops the target for it: a millisecond or two.
              py::gil_scoped_release release;
              threads = h.threads();
            }
            return threads;
          },
          "threads() -> [ThreadState]: the target's threads, this event's first, each with "
          "its stack_pointer and registers ({name: value}, general purpose).")
      .def(
          "stack",
          [](const H& h, std::size_t max_frames) { return h.stack(max_frames); },
          py::arg("max_frames") = 64,
          "stack(max_frames=64) -> [StackFrame]: the stopped thread's call stack, innermost "
          "first (pc, module, function, offset, file, line).")
      .def(
          "backtrace",
          [](const H& h, std::size_t max_frames) {
            py::list out;  // a target's paths and names need not be UTF-8
            for (const std::string& line : h.backtrace(max_frames)) out.append(from_text(line));
            return out;
          },
          py::arg("max_frames") = 64,
          "backtrace(max_frames=64) -> [str]: stack() rendered, one '#N 0xPC "
          "module`function + offset at file:line' a frame (invalid UTF-8 replaced).")
      .def(
          "evaluate",
          [](const H& h, const Text& expression) {
            Value v;
            {
              // It may take seconds (at most 10): other Python threads go on meanwhile.
              py::gil_scoped_release release;
              v = h.evaluate(expression.value);
            }
            return from_value(v);
          },
          py::arg("expression"),
          "evaluate(expression): a C expression evaluated in the stopped thread, as LLDB's "
          "`expression` does (it may call the target's functions and write its memory): int, "
          "float, bool or None (void). E.g. evaluate('*(int *)__errno_location() = 12').");
}

}  // namespace

void bind_handles(py::module_& m) {
  // A target's paths and names need not be UTF-8: they read with invalid bytes replaced.
  py::class_<StackFrame>(m, "StackFrame",
                         "One frame of a stopped thread's call stack (Call.stack()): what the "
                         "debug info tells of it; '' or 0 for what it does not.")
      .def(py::init([](std::uint64_t pc, const Text& module, const Text& function,
                       std::uint64_t offset, const Text& file, unsigned line) {
             return StackFrame{pc, module.value, function.value, offset, file.value, line};
           }),
           py::kw_only(), py::arg("pc") = 0, py::arg("module") = "", py::arg("function") = "",
           py::arg("offset") = 0, py::arg("file") = "", py::arg("line") = 0,
           "StackFrame(*, pc=0, module='', function='', offset=0, file='', line=0): a frame "
           "a debugger driver read outside any event (the runner's crash backtraces).")
      .def_readonly("pc", &StackFrame::pc, "the frame's program counter (a caller's: the "
                                           "return address)")
      .def_property_readonly(
          "module", [](const StackFrame& f) { return from_text(f.module); },
          "the module's file name")
      .def_property_readonly(
          "function", [](const StackFrame& f) { return from_text(f.function); },
          "the function's name")
      .def_readonly("offset", &StackFrame::offset, "pc - the function's start")
      .def_property_readonly(
          "file", [](const StackFrame& f) { return from_text(f.file); },
          "the source file's name")
      .def_readonly("line", &StackFrame::line, "the source line")
      .def("__str__", [](const StackFrame& f) { return from_text(to_string(f)); })
      .def("__repr__", [](const StackFrame& f) {
        return py::str("<StackFrame {}>").format(from_text(to_string(f)));
      });
  py::class_<MemoryRegion>(m, "MemoryRegion",
                           "One mapping of the target's address space (Call.memory_regions()).")
      .def_readonly("start", &MemoryRegion::start, "the first address")
      .def_readonly("end", &MemoryRegion::end, "one past the last address")
      .def_readonly("readable", &MemoryRegion::readable)
      .def_readonly("writable", &MemoryRegion::writable)
      .def_readonly("executable", &MemoryRegion::executable)
      .def_property_readonly(
          "path", [](const MemoryRegion& r) { return from_text(r.path); },
          "the mapped file, [stack] or [heap], '' when anonymous")
      .def("__repr__", [](const MemoryRegion& r) {
        return py::str("<MemoryRegion {:#x}-{:#x} {}{}{} {}>")
            .format(r.start, r.end, r.readable ? "r" : "-", r.writable ? "w" : "-",
                    r.executable ? "x" : "-", from_text(r.path));
      });
  py::class_<ThreadState>(m, "ThreadState",
                          "One thread of the stopped target (Call.threads()).")
      .def_readonly("id", &ThreadState::id, "the thread's id, as Call.thread_id")
      .def_readonly("stack_pointer", &ThreadState::stack_pointer)
      .def_property_readonly(
          "registers",
          [](const ThreadState& t) {
            py::dict out;
            for (const auto& [name, value] : t.registers) out[py::str(name)] = value;
            return out;
          },
          "{name: value} of the general purpose registers");
  m.def(
      "render_stack",
      [](const std::vector<StackFrame>& frames) {
        py::list out;  // a target's paths and names need not be UTF-8
        for (const std::string& line : to_strings(frames)) out.append(from_text(line));
        return out;
      },
      py::arg("frames"),
      "render_stack(frames) -> [str]: a call stack (StackFrames, innermost first) as "
      "Call.backtrace() renders one, '#N 0xPC module`function + offset at file:line' a frame.");
  py::class_<CallHandle> call(m, "Call",
                             "A call of a hooked function, at its entry. Valid while it is being "
                             "handled; used later it raises groutines.Error.");
  stopped_thread(call)
      .def_property_readonly("function", &Call::function, "The called function's name.")
      .def_property_readonly("thread_id", &Call::thread_id, "The target thread that called.")
      .def_property_readonly(
          "id", [](const CallHandle& c) { return c.id(); },
          "This call's id (its Return has the same).")
      .def_property_readonly(
          "valid", [](const CallHandle& c) { return c.valid(); },
          "Whether the call is still being handled.")
      .def("arg", py::overload_cast<unsigned>(&Call::arg, py::const_), py::arg("index"),
           "arg(i): integer/pointer argument i (SysV order: rdi, rsi, rdx, rcx, r8, r9, then "
           "the stack), as the unsigned 64-bit value the register holds.")
      .def("arg",
           [](const CallHandle& c, const Text& name) { return from_value(c.arg(name.value)); },
           py::arg("name"),
           "arg(name): the argument called name, typed by the debug info: int (sized and "
           "signed as the C type), float or bool; a pointer, char * included, is its address "
           "(read_cstring(c.arg('name')) for the text). groutines.Error when the debug info "
           "has none.")
      .def("sarg", &Call::sarg, py::arg("index"), "sarg(i): integer argument i read as signed.")
      .def("float_arg", &Call::float_arg, py::arg("index"),
           "float_arg(i): floating argument i (xmm0..xmm7).")
      .def_property_readonly(
          "args",
          [](const CallHandle& c) {
            py::dict out;
            for (const Argument& a : c.args()) out[from_text(a.name)] = from_value(a.value);
            return out;
          },
          "The arguments the debug info names: {name: value}, in declaration order.")
      .def_property_readonly(
          "typed_args",
          [](const CallHandle& c) {
            py::list out;
            for (const Argument& a : c.args())
              out.append(py::make_tuple(from_text(a.name), from_text(a.type), from_value(a.value)));
            return out;
          },
          "The arguments the debug info names with their C types: [(name, type, value)], in "
          "declaration order ('const char *' for a string, whose value is its address).")
      .def(
          "return_now",
          [](const CallHandle& c, py::handle value) {
            std::visit([&](auto v) { c.return_now(v); }, number(value, "return_now()"));
          },
          py::arg("value"),
          "return_now(value): skip the function's body; the caller gets value (int or float).")
      .def(
          "returned",
          [](const CallHandle& c) {
            WaitRequest::Alternative a;
            a.kind = EventKind::Return;
            a.call = c.id();
            return WaitRequest({std::move(a)}, false);
          },
          "returned(): await the return of exactly this call. Ask while handling the call.")
      .def("__repr__", [](const CallHandle& c) {
        std::string name = c.valid() ? c.function() : std::string("?");
        return "<groutines.Call #" + std::to_string(c.id()) + " of " + name + where(c) + ">";
      });

  py::class_<ReturnHandle> ret(m, "Return",
                           "The return (or unwinding) of one call. Valid while it is being "
                           "handled; used later it raises groutines.Error.");
  stopped_thread(ret)
      .def_property_readonly("function", &Return::function)
      .def_property_readonly("call_id", &Return::call_id, "The id of the Call it returns from.")
      .def_property_readonly("thread_id", &Return::thread_id)
      .def_property_readonly("valid", [](const ReturnHandle& r) { return r.valid(); })
      .def_property_readonly("unwound", &Return::unwound,
                             "True when the frame was unwound (longjmp, exception) without "
                             "returning: there is no value.")
      .def_property_readonly(
          "value",
          [](const ReturnHandle& r) { return from_value(r.result()); },
          "The return value as the caller will see it: a float when the function returns a "
          "floating type (debug info: xmm0) or a groutine forced or rewrote it with a float; "
          "else an int (rax, signed). float_value always reads xmm0.")
      .def_property_readonly(
          "type", [](const ReturnHandle& r) { return from_text(r.type()); },
          "The function's return type as the debug info spells it ('void', 'const char *'); "
          "'' when not known (no debug info, an unwound call).")
      .def_property_readonly("float_value", &Return::float_value,
                             "The floating return value (xmm0), as rewritten so far.")
      .def(
          "set_value",
          [](const ReturnHandle& r, py::handle value) {
            std::visit([&](auto v) { r.set_value(v); }, number(value, "set_value()"));
          },
          py::arg("value"), "set_value(value): the caller sees value (int or float).")
      .def("__repr__", [](const ReturnHandle& r) {
        std::string name = r.valid() ? r.function() : std::string("?");
        return "<groutines.Return #" + std::to_string(r.seq()) + " of " + name + where(r) + ">";
      });

  py::class_<CustomEventHandle>(m, "CustomEvent",
                                "A fired custom event. Valid while it is being handled.")
      .def_property_readonly("name", &CustomEvent::name)
      .def_property_readonly("valid", [](const CustomEventHandle& e) { return e.valid(); })
      .def_property_readonly(
          "data", [](const CustomEventHandle& e) { return from_data(e.data()); },
          "The event's data: {key: value}, in the firer's order.")
      .def(
          "__getitem__",
          [](const CustomEventHandle& e, const Text& key) {
            const Value* v = find(e.data(), key.value);
            if (!v)
              throw py::key_error("event '" + e.name() + "' has no field '" + key.value + "'");
            return from_value(*v);
          },
          py::arg("key"))
      .def(
          "reply",
          [](const CustomEventHandle& e, py::handle value) { e.reply(to_value(value)); },
          py::arg("value"), "reply(value): answer the firer (a second reply replaces the first).")
      .def("__repr__", [](const CustomEventHandle& e) {
        if (!e.valid()) return "<groutines.CustomEvent #" + std::to_string(e.seq()) +
                               " (no longer current)>";
        return "<groutines.CustomEvent #" + std::to_string(e.seq()) + " '" + e.name() + "' " +
               to_string(e.data()) + ">";
      });

  py::class_<Reply>(m, "Reply",
                    "One listener's reply to fire(): value, and who replied (groutine, its "
                    "name; id). As C++ fire()'s groutines::Reply. For code written when fire() "
                    "returned bare values, a Reply compares equal to its value.")
      .def_property_readonly("value", [](const Reply& r) { return from_value(r.value); })
      .def_readonly("groutine", &Reply::groutine, "The name of the groutine that replied.")
      .def_readonly("id", &Reply::id, "The id of the groutine that replied.")
      .def("__eq__",
           [](const Reply& r, const py::object& other) -> bool {
             if (py::isinstance<Reply>(other)) {
               const Reply& o = other.cast<const Reply&>();
               return r.id == o.id && r.groutine == o.groutine && r.value == o.value;
             }
             return from_value(r.value).equal(other);
           })
      .def("__hash__", [](const Reply& r) { return py::hash(from_value(r.value)); })
      .def("__repr__", [](const Reply& r) {
        return "<groutines.Reply " + to_string(r.value) + " from " + r.groutine + " #" +
               std::to_string(r.id) + ">";
      });
}

}  // namespace groutines::python
