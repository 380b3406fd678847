#include "groutines/api.hpp"

#include <cstring>

#include "groutines/argument_layout.hpp"
#include "groutines/runtime_internals.hpp"

namespace groutines {

namespace {

Runtime& inside(const char* what) {
  Runtime* rt = Runtime::current();
  if (!rt || !rt->current_groutine() || !RuntimeInternals::holds_lock(*rt))
    throw Error(std::string("groutines::") + what + "() called outside a groutine");
  return *rt;
}

std::int64_t as_int(const Value& v) {
  if (auto* i = std::get_if<std::int64_t>(&v)) return *i;
  if (auto* d = std::get_if<double>(&v)) return static_cast<std::int64_t>(*d);
  if (auto* b = std::get_if<bool>(&v)) return *b;
  throw Error("return value " + to_string(v) + " is not a number");
}

double as_double(const Value& v) {
  if (auto* d = std::get_if<double>(&v)) return *d;
  if (auto* i = std::get_if<std::int64_t>(&v)) return static_cast<double>(*i);
  if (auto* b = std::get_if<bool>(&v)) return *b;
  throw Error("return value " + to_string(v) + " is not a number");
}

std::function<bool(const Event&)> as_event_predicate(Runtime& rt,
                                                     std::function<bool(const Call&)> where) {
  if (!where) return {};
  return [&rt, where = std::move(where)](const Event& ev) { return where(Call(rt, ev)); };
}

}  // namespace

// --- EventHandle ---

bool EventHandle::valid() const noexcept {
  return runtime_ && RuntimeInternals::is_current(*runtime_, seq_);
}

const Event& EventHandle::event() const {
  if (!runtime_) throw Error("empty event handle");
  if (!RuntimeInternals::is_current(*runtime_, seq_))
    throw Error("event #" + std::to_string(seq_) +
                " is no longer current: the target has resumed since it was delivered");
  return *event_;
}

Frame& EventHandle::frame() const {
  const Event& ev = event();
  if (!ev.frame) throw Error("event #" + std::to_string(seq_) + " has no target frame");
  return *ev.frame;
}

// --- TargetEvent ---

std::uint64_t TargetEvent::reg(std::string_view name) const {
  return frame().register_value(name);
}
std::vector<std::uint8_t> TargetEvent::read_memory(std::uint64_t address,
                                                   std::size_t size) const {
  return frame().read_memory(address, size);
}
std::string TargetEvent::read_cstring(std::uint64_t address, std::size_t max_size) const {
  return frame().read_cstring(address, max_size);
}
// memory_regions() and threads() ask the debugger (threads() may stop the target and wait
// for it): on the delivering thread's stack, as evaluate().
std::vector<MemoryRegion> TargetEvent::memory_regions() const {
  Frame& f = frame();
  std::vector<MemoryRegion> out;
  Groutine* g = runtime_->current_groutine();
  auto run = [&] { out = f.memory_regions(); };
  if (g)
    g->driver().on_caller_stack(run);
  else
    run();
  return out;
}
std::vector<ThreadState> TargetEvent::threads() const {
  Frame& f = frame();
  std::vector<ThreadState> out;
  Groutine* g = runtime_->current_groutine();
  auto run = [&] { out = f.threads(); };
  if (g)
    g->driver().on_caller_stack(run);
  else
    run();
  return out;
}
std::vector<StackFrame> TargetEvent::stack(std::size_t max_frames) const {
  return frame().backtrace(max_frames);
}
std::vector<std::string> TargetEvent::backtrace(std::size_t max_frames) const {
  return to_strings(frame().backtrace(max_frames));
}
// evaluate() compiles the expression in the debugger: a deep stack, more than a C++
// groutine's fiber has, so it runs on the stack of the thread delivering the event.
Value TargetEvent::evaluate(std::string_view expression) const {
  Frame& f = frame();
  Value out;
  Groutine* g = runtime_->current_groutine();
  auto run = [&] { out = f.evaluate(expression); };
  if (g)
    g->driver().on_caller_stack(run);
  else
    run();
  return out;
}

// --- Call ---

std::string Call::function() const { return std::string(event().name); }
std::uint64_t Call::thread_id() const { return event().thread_id; }
std::uint64_t Call::arg(unsigned index) const { return frame().int_argument(index); }
double Call::float_arg(unsigned index) const { return frame().float_argument(index); }

Value Call::arg(std::string_view name) const {
  std::optional<Argument> a = frame().argument(name);
  if (!a)
    throw Error("call of " + function() + " has no argument named '" + std::string(name) +
                "' (no debug info for it?)");
  return std::move(a->value);
}

std::vector<Argument> Call::args() const { return frame().arguments(); }
namespace {

// returned_as() is value as the caller of the function that ev stands in will see it: converted
// to the function's return type as a C return statement converts it (an integer for an
// integer, bool or pointer type, a double for float and double; as given for a long double,
// or when the frame cannot tell the type). Error naming the call when the function cannot
// return it (sysv::return_registers() says why).
Value returned_as(const Event& ev, Value value) {
  const sysv::ReturnLayout layout =
      ev.frame ? ev.frame->return_layout() : sysv::ReturnLayout{};
  sysv::ReturnRegisters registers;
  try {
    registers = sysv::return_registers(layout, value);
  } catch (const Error& e) {
    throw Error("call #" + std::to_string(ev.call) + " of " + std::string(ev.name) + ": " +
                e.what());
  }
  using Reg = sysv::ReturnRegisters::Register;
  switch (layout.type) {
    case sysv::TypeClass::Integer:
    case sysv::TypeClass::Bool:
    case sysv::TypeClass::Pointer:
      return sysv::sized(registers.bits, layout.size,
                         layout.type == sysv::TypeClass::Integer && layout.is_signed);
    case sysv::TypeClass::Float:
      if (registers.reg == Reg::Xmm0Float) {
        float f = 0;
        std::memcpy(&f, &registers.bits, sizeof f);
        return static_cast<double>(f);
      } else {
        double d = 0;
        std::memcpy(&d, &registers.bits, sizeof d);
        return d;
      }
    default:
      return value;
  }
}

}  // namespace

void Call::return_now(std::int64_t value) const {
  RuntimeInternals::outcome_of(*runtime_, seq_).forced_return = returned_as(event(), value);
}
void Call::return_now(double value) const {
  RuntimeInternals::outcome_of(*runtime_, seq_).forced_return = returned_as(event(), value);
}

Return Call::returned() const {
  if (!runtime_) throw Error("empty event handle");
  // The runtime refuses a call no longer current, as it does for Python's awaits.
  Wait wait{Matcher{EventKind::Return, seq_, {}}};
  Delivered d = RuntimeInternals::wait(*runtime_, wait);
  return Return(*runtime_, *d.event);
}

// --- Return ---

namespace {
// require_returned() throws Error when the Return event ev is an unwinding: it has no value.
void require_returned(const Event& ev) {
  if (ev.unwound)
    throw Error("call #" + std::to_string(ev.call) + " of " + std::string(ev.name) +
                " was unwound without returning: it has no return value");
}
}  // namespace

std::string Return::function() const { return std::string(event().name); }
CallId Return::call_id() const { return event().call; }
std::uint64_t Return::thread_id() const { return event().thread_id; }
bool Return::unwound() const { return event().unwound; }

Value Return::result() const {
  require_returned(event());
  const Outcome& out = RuntimeInternals::outcome_of(*runtime_, seq_);
  if (out.return_value) {
    if (std::holds_alternative<double>(*out.return_value)) return *out.return_value;
    return as_int(*out.return_value);
  }
  if (returns_float()) return frame().float_return_value();
  return static_cast<std::int64_t>(frame().int_return_value());
}

std::int64_t Return::value() const {
  require_returned(event());
  const Outcome& out = RuntimeInternals::outcome_of(*runtime_, seq_);
  if (out.return_value) return as_int(*out.return_value);
  return static_cast<std::int64_t>(frame().int_return_value());
}

double Return::float_value() const {
  require_returned(event());
  const Outcome& out = RuntimeInternals::outcome_of(*runtime_, seq_);
  if (out.return_value) return as_double(*out.return_value);
  return frame().float_return_value();
}

bool Return::returns_float() const {
  const Event& ev = event();
  return ev.frame && ev.frame->returns_float();
}

std::string Return::type() const {
  const Event& ev = event();
  return ev.frame && !ev.unwound ? ev.frame->return_layout().type_name : std::string();
}

void Return::set_value(std::int64_t value) const {
  if (unwound()) throw Error("cannot set the return value of an unwound call");
  RuntimeInternals::outcome_of(*runtime_, seq_).return_value = returned_as(event(), value);
}

void Return::set_value(double value) const {
  if (unwound()) throw Error("cannot set the return value of an unwound call");
  RuntimeInternals::outcome_of(*runtime_, seq_).return_value = returned_as(event(), value);
}

// --- CustomEvent ---

std::string CustomEvent::name() const { return std::string(event().name); }
const Data& CustomEvent::data() const { return *event().data; }

const Value& CustomEvent::get(std::string_view key) const {
  if (const Value* v = find(data(), key)) return *v;
  throw Error("event '" + name() + "' has no field '" + std::string(key) + "'");
}

void CustomEvent::reply(Value value) const {
  event();
  RuntimeInternals::reply(*runtime_, seq_, std::move(value));
}

// --- Occurrence ---

EventKind Occurrence::kind() const { return event().kind; }

Call Occurrence::call() const {
  if (kind() != EventKind::Call)
    throw Error(std::string("the event that came is a ") + name(kind()) + ", not a call");
  return Call(*runtime_, *event_);
}

Return Occurrence::returned() const {
  if (kind() != EventKind::Return)
    throw Error(std::string("the event that came is a ") + name(kind()) + ", not a return");
  return Return(*runtime_, *event_);
}

CustomEvent Occurrence::custom() const {
  if (kind() != EventKind::Custom)
    throw Error(std::string("the event that came is a ") + name(kind()) +
                ", not a custom event");
  return CustomEvent(*runtime_, *event_);
}

// --- Waiting ---

On on_call(std::string_view function, std::function<bool(const Call&)> where) {
  Runtime& rt = inside("on_call");
  return On{EventKind::Call, std::string(function), 0, as_event_predicate(rt, std::move(where))};
}

On on_return(const Call& call) { return On{EventKind::Return, {}, call.id(), {}}; }

On on_event(std::string_view name, std::function<bool(const CustomEvent&)> where) {
  Runtime& rt = inside("on_event");
  std::function<bool(const Event&)> pred;
  if (where)
    pred = [&rt, where = std::move(where)](const Event& ev) { return where(CustomEvent(rt, ev)); };
  return On{EventKind::Custom, std::string(name), 0, std::move(pred)};
}

Call wait_call(std::string_view function, std::function<bool(const Call&)> where) {
  Runtime& rt = inside("wait_call");
  Wait wait{Matcher{EventKind::Call, rt.function_id(function),
                    as_event_predicate(rt, std::move(where))}};
  return Call(rt, *RuntimeInternals::wait(rt, wait).event);
}

CustomEvent wait_event(std::string_view name, std::function<bool(const CustomEvent&)> where) {
  return any_of({on_event(name, std::move(where))}).custom();
}

Occurrence any_of(std::vector<On> alternatives) {
  Runtime& rt = inside("any_of");
  Wait wait;
  wait.reserve(alternatives.size());
  for (On& on : alternatives) {
    std::uint64_t key = on.call;
    if (on.kind == EventKind::Call) key = rt.function_id(on.name);
    if (on.kind == EventKind::Custom) key = rt.event_id(on.name);
    wait.push_back(Matcher{on.kind, key, std::move(on.where)});
  }
  Delivered d = RuntimeInternals::wait(rt, wait);
  return Occurrence(rt, *d.event, d.index);
}

std::vector<Reply> fire(std::string_view name, Data data) {
  Runtime& rt = inside("fire");
  return rt.fire(name, std::move(data), RuntimeInternals::current_thread(rt));
}

GroutineId spawn(std::string_view name, std::function<void()> body) {
  if (!body) throw Error("spawn('" + std::string(name) + "'): no body to run");
  return inside("spawn").spawn(std::string(name), std::move(body));
}

void stop(std::string_view reason) { RuntimeInternals::request_stop(inside("stop"), reason); }
void log(std::string_view message) { RuntimeInternals::log(inside("log"), message); }

std::vector<std::string> functions(std::string_view pattern,
                                   const std::vector<std::string>& modules) {
  return inside("functions").functions(pattern, modules);
}

// --- Calls ---

Calls::Calls(std::string_view function, std::function<bool(const Call&)> where)
    : runtime_(&inside("calls")) {
  FunctionId fn = runtime_->function_id(function);
  subscription_ = Subscription(*runtime_, fn);
  wait_.push_back(Matcher{EventKind::Call, fn, as_event_predicate(*runtime_, std::move(where))});
}

void Calls::next() {
  current_ = Call(*runtime_, *RuntimeInternals::wait(*runtime_, wait_).event);
}

Calls calls(std::string_view function, std::function<bool(const Call&)> where) {
  return Calls(function, std::move(where));
}

// --- Checks ---

namespace detail {

namespace {
std::string message(const char* expression, const std::string& detail, const char* macro) {
  if (!expression) return detail;
  std::string m = std::string(macro) + "(" + expression + ") failed";
  if (!detail.empty()) m += ": " + detail;
  return m;
}
}  // namespace

void check_failed(const char* expression, std::string detail, const char* file, unsigned line) {
  RuntimeInternals::record_failure(inside("GROUTINE_CHECK"),
                                   message(expression, detail, "GROUTINE_CHECK"),
                                   Location{file, line});
}

void require_failed(const char* expression, std::string detail, const char* file,
                    unsigned line) {
  throw RequireFailure(message(expression, detail, "GROUTINE_REQUIRE"), Location{file, line});
}

}  // namespace detail
}  // namespace groutines
