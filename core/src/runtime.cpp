#include "groutines/runtime.hpp"

#include <cxxabi.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/container/small_vector.hpp>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <typeinfo>

#include "assert.hpp"
#include "demangle.hpp"
#include "fiber_driver.hpp"

namespace groutines {

namespace {
// The runtime whose groutine is running now. Not thread_local: deliveries are serialised by
// the runtime's lock, and a fiber may be resumed on another thread than the one it left.
Runtime* g_current_runtime = nullptr;

std::atomic<Runtime*> g_default_runtime{nullptr};

// unload_refused() is the one text of an unload refused from a delivery: because groutine
// g is running, or (running false) because an event is being delivered, to whose receivers g
// may belong (nullptr: any of several). all_or_nothing: of an unload of several groutines.
std::string unload_refused(const Groutine* g, bool running, bool all_or_nothing) {
  std::string who = g ? "groutine '" + g->name() + "'" : std::string("groutines");
  std::string s = running ? who + " is running: it cannot be unloaded from a delivery"
                          : "an event is being delivered: " + who +
                                " cannot be unloaded from a delivery";
  return all_or_nothing ? s + " (nothing was unloaded)" : s;
}
}  // namespace

// Delivery is one event being delivered; they nest (fire from a listener), innermost first.
struct Runtime::Delivery {
  Event* event;
  Outcome* outcome;
  std::vector<Reply>* replies;  // Custom only
  Delivery* outer;
  bool return_awaited = false;  // Call: a groutine waits for this call's return
};

// Waiters are the groutines waiting on one key, kept in load order.
struct Runtime::Waiters {
  std::vector<Groutine*> list;

  void insert(Groutine* g) {
    auto it = list.end();
    while (it != list.begin() && (*(it - 1))->id() > g->id()) --it;
    list.insert(it, g);
  }
  void erase(Groutine* g) {
    auto it = std::find(list.begin(), list.end(), g);
    if (it != list.end()) list.erase(it);
  }
};

// ReturnWatch is the return of one call that groutines wait for.
struct Runtime::ReturnWatch {
  FunctionId function = 0;
  std::uint64_t thread = 0;
  Waiters waiters;
  bool watched = false;  // the backend was asked to report it
};

// Entry marks a public entry into the runtime: it holds the lock, and when the outermost entry
// ends, the backend's hooks are brought in line with what groutines now wait for.
class Runtime::Entry {
 public:
  explicit Entry(Runtime& rt) : rt_(rt), lock_(rt.mutex_) { ++rt_.entry_depth_; }
  ~Entry() {
    if (--rt_.entry_depth_ != 0) return;
    // Idle: no delivery holds a pointer to a groutine any more.
    if (rt_.reap_pending_) rt_.reap();
    if (!rt_.hooks_to_reconcile_.empty()) rt_.reconcile();
  }
  Entry(const Entry&) = delete;
  Entry& operator=(const Entry&) = delete;

 private:
  Runtime& rt_;
  std::unique_lock<RecursiveLock> lock_;
};

Runtime::Runtime(Backend& backend, RuntimeOptions options)
    : backend_(backend), options_(options) {}

Runtime::~Runtime() {
  Runtime* self = this;
  g_default_runtime.compare_exchange_strong(self, nullptr);  // never left dangling
  Entry entry(*this);
  unload_all();
  for (auto& [call, watch] : returns_)
    if (watch->watched) backend_.unwatch_return(call);
  returns_.clear();
}

RuntimeOptions with_environment(RuntimeOptions options) {
  const char* text = std::getenv("GROUTINES_STACK_SIZE");
  if (!text || !*text) return options;
  char* end = nullptr;
  errno = 0;
  unsigned long long size = std::strtoull(text, &end, 10);
  unsigned shift = 0;
  if (end != text && (*end == 'K' || *end == 'k')) {
    shift = 10;
    ++end;
  } else if (end != text && (*end == 'M' || *end == 'm')) {
    shift = 20;
    ++end;
  }
  const bool too_large = size > ((1ull << 30) >> shift);  // known before a shift wraps around
  size <<= shift;
  if (end == text || *end || errno || text[0] == '-' || too_large || size < (64u << 10))
    throw Error(std::string("GROUTINES_STACK_SIZE: expected a size from 64K to 1G (bytes, or "
                            "with a K or M suffix), not '") + text + "'");
  options.stack_size = size;
  return options;
}

Runtime* Runtime::current() noexcept { return g_current_runtime; }

Runtime* default_runtime() noexcept { return g_default_runtime.load(); }
void set_default_runtime(Runtime* runtime) noexcept { g_default_runtime.store(runtime); }

// --- Names ---

FunctionId Runtime::function_id(std::string_view function) {
  std::lock_guard lock(mutex_);
  auto it = function_ids_.find(function);
  if (it != function_ids_.end()) return it->second;
  auto id = static_cast<FunctionId>(function_names_.size());
  const std::string& stored = function_names_.emplace_back(function);
  function_ids_.emplace(stored, id);
  hooks_.emplace_back();
  call_waiters_.emplace_back();
  function_streams_.emplace_back();
  return id;
}

std::string_view Runtime::function_name(FunctionId id) const {
  std::lock_guard lock(mutex_);
  GROUTINES_ASSERT(id < function_names_.size(), "unknown function id %u", id);
  return function_names_[id];
}

std::uint64_t Runtime::event_id(std::string_view name) {
  std::lock_guard lock(mutex_);
  auto it = event_ids_.find(name);
  if (it != event_ids_.end()) return it->second;
  std::uint64_t id = event_names_.size();
  const std::string& stored = event_names_.emplace_back(name);
  event_ids_.emplace(stored, id);
  event_waiters_.emplace_back();
  return id;
}

std::string Runtime::event_name(std::uint64_t id) const {
  std::lock_guard lock(mutex_);
  return id < event_names_.size() ? event_names_[id] : std::string("?");
}

// --- Loading ---

Groutine& Runtime::load(const Definition& definition) {
  auto driver = std::make_unique<FiberDriver>(definition.body, options_.stack_size);
  FiberDriver* fiber = driver.get();
  Entry entry(*this);
  Groutine& g = add(definition.name, definition.source, definition.location, std::move(driver));
  g.fiber_ = fiber;
  start(g);
  return g;
}

Groutine& Runtime::load(std::string name, std::string source, Location location,
                        std::unique_ptr<Driver> driver) {
  Entry entry(*this);
  Groutine& g = add(std::move(name), std::move(source), std::move(location), std::move(driver));
  start(g);
  return g;
}

Groutine& Runtime::add(std::string name, std::string source, Location location,
                       std::unique_ptr<Driver> driver) {
  groutines_.push_back(std::unique_ptr<Groutine>(new Groutine(
      *this, next_id_++, std::move(name), std::move(source), std::move(location),
      std::move(driver))));
  return *groutines_.back();
}

GroutineId Runtime::spawn(std::string name, std::function<void()> body) {
  auto driver = std::make_unique<FiberDriver>(std::move(body), options_.stack_size);
  FiberDriver* fiber = driver.get();
  Entry entry(*this);
  Groutine* parent = current_;
  if (!parent || !mutex_.held()) throw Error("spawn('" + name + "') outside a groutine");
  Groutine& g = add(std::move(name), parent->source_, parent->location_, std::move(driver));
  g.fiber_ = fiber;
  return start_child(g);
}

GroutineId Runtime::spawn(std::string name, Location location, std::unique_ptr<Driver> driver) {
  Entry entry(*this);
  if (!current_ || !mutex_.held()) throw Error("spawn('" + name + "') outside a groutine");
  Groutine& g = add(std::move(name), current_->source_, std::move(location), std::move(driver));
  return start_child(g);
}

// start_child() makes child, just added, a child of the running groutine and starts it.
GroutineId Runtime::start_child(Groutine& child) {
  Groutine& parent = *current_;
  const char* refused = parent.cancelling_ ? "is being unloaded"
                        : parent.state_ != State::Running ? "is not running (a predicate?)"
                                                          : nullptr;
  if (refused) {
    groutines_.pop_back();  // never started: nothing to unwind
    throw Error("groutine '" + parent.name_ + "' " + refused + ": it cannot spawn '" +
                child.name_ + "'");
  }
  child.parent_ = parent.id_;
  child.parent_groutine_ = &parent;
  ++parent.live_children_;
  ++parent.children_.spawned;
  const GroutineId id = child.id_;
  start(child);
  return id;
}

void Runtime::start(Groutine& g) {
  g.transition(State::Ready, State::Running);
  switch_in(g);
}

bool Runtime::unload(GroutineId id) {
  Entry entry(*this);
  auto it = std::find_if(groutines_.begin(), groutines_.end(),
                         [&](const auto& g) { return g->id() == id; });
  if (it == groutines_.end()) return false;
  Groutine& g = **it;
  if (g.state_ == State::Running) throw Error(unload_refused(&g, true, false));
  // The delivery's receivers may include it, or a predicate of it be running.
  if (active_) throw Error(unload_refused(&g, false, false));
  if (g.live_children_ > 0) {
    // Its children first, newest first (their children are unloaded by the same call).
    std::vector<GroutineId> children;
    for (const auto& c : groutines_)
      if (c->parent_ == id) children.push_back(c->id_);
    for (auto c = children.rbegin(); c != children.rend(); ++c) unload(*c);
  }
  if (g.state_ == State::Waiting || g.state_ == State::Ready) cancel(g);
  remove(g);
  return true;
}

std::size_t Runtime::unload_source(std::string_view source) {
  return unload_where([&](const Groutine& g) { return g.source() == source; });
}

std::size_t Runtime::unload_where(const std::function<bool(const Groutine&)>& chosen) {
  Entry entry(*this);
  std::vector<GroutineId> ids;
  for (const auto& g : groutines_)
    if (chosen(*g)) ids.push_back(g->id());
  check_unloadable([&](const Groutine& g) {
    return std::binary_search(ids.begin(), ids.end(), g.id());  // ids are in load order
  });
  for (auto it = ids.rbegin(); it != ids.rend(); ++it) unload(*it);
  return ids.size();
}

void Runtime::unload_all() {
  Entry entry(*this);
  check_unloadable([](const Groutine&) { return true; });
  while (!groutines_.empty()) unload(groutines_.back()->id());
}

// check_unloadable() throws, before anything is unloaded, when one of the groutines chosen
// is running, or any is chosen while an event is being delivered: an unload is all or nothing.
void Runtime::check_unloadable(const std::function<bool(const Groutine&)>& chosen) const {
  bool any = false;
  for (const auto& g : groutines_) {
    if (!chosen(*g)) continue;
    any = true;
    if (g->state_ == State::Running) throw Error(unload_refused(g.get(), true, true));
  }
  if (any && active_)  // a predicate: the groutines of this delivery must outlive it
    throw Error(unload_refused(nullptr, false, true));
}

void Runtime::remove(Groutine& g) {
  auto it = std::find_if(groutines_.begin(), groutines_.end(),
                         [&](const auto& p) { return p.get() == &g; });
  GROUTINES_ASSERT(it != groutines_.end(), "removing an unknown groutine");
  for (std::uint64_t stream : g.held_streams_) {
    auto s = streams_.find(stream);
    if (s != streams_.end()) s->second.owner = nullptr;
  }
  if (g.parent_groutine_) --g.parent_groutine_->live_children_;
  groutines_.erase(it);
}

// reap() frees the children that ended, newest first (a grandchild is folded into its parent
// before that one is), folding what each leaves into its parent. Only while idle: no delivery
// may hold a pointer to one.
void Runtime::reap() {
  GROUTINES_ASSERT(active_ == nullptr, "reap() during a delivery");
  reap_pending_ = false;
  for (std::size_t i = groutines_.size(); i-- > 0;) {
    Groutine& g = *groutines_[i];
    if (!g.parent_groutine_ || g.live_children_ > 0 ||
        (g.state_ != State::Finished && g.state_ != State::Failed))
      continue;
    Groutine& parent = *g.parent_groutine_;
    Children& into = parent.children_;
    auto keep = [&](Failure f) {
      if (into.failures.size() < Children::kept_failures)
        into.failures.push_back(std::move(f));
      else
        ++into.failures_dropped;
    };
    into.spawned += g.children_.spawned;
    into.ended += 1 + g.children_.ended;
    into.failed += (g.failures_.empty() ? 0 : 1) + g.children_.failed;
    into.events += g.events_handled_ + g.children_.events;
    for (Failure& f : g.failures_) {
      f.groutine = g.name_;
      keep(std::move(f));
    }
    for (Failure& f : g.children_.failures) keep(std::move(f));
    into.failures_dropped += g.children_.failures_dropped;
    for (const MissedCalls& m : g.missed_) {
      auto same = std::find_if(parent.missed_.begin(), parent.missed_.end(),
                               [&](const MissedCalls& p) { return p.function == m.function; });
      if (same != parent.missed_.end())
        same->count += m.count;
      else
        parent.missed_.push_back(m);
    }
    --parent.live_children_;
    g.parent_groutine_ = nullptr;  // folded: remove() must not count it again
    for (std::uint64_t stream : g.held_streams_) {
      auto s = streams_.find(stream);
      if (s != streams_.end()) s->second.owner = nullptr;
    }
    groutines_.erase(groutines_.begin() + static_cast<std::ptrdiff_t>(i));
  }
}

// cancel() unwinds a suspended groutine (its destructors release what it held) and leaves it
// Running, for its caller to finish or remove: only unload() and a throwing predicate cancel.
void Runtime::cancel(Groutine& g) {
  unlist(g);
  g.wait_ = nullptr;
  if (g.state_ == State::Waiting) {
    g.transition(State::Waiting, State::Running);
  } else {
    g.transition(State::Ready, State::Running);
  }
  g.cancelling_ = true;
  Groutine* outer = current_;
  Runtime* outer_runtime = g_current_runtime;
  current_ = &g;
  g_current_runtime = this;
  g.driver_->cancel(g);
  current_ = outer;
  g_current_runtime = outer_runtime;
}

// --- Delivery ---

// deliver_call() is the hot path of every breakpoint hit: flattened, so that the switch into a
// groutine happens with as few call levels as possible above it (each level costs a mispredicted
// return on both sides of a stack switch).
__attribute__((flatten)) Outcome Runtime::deliver_call(FunctionId fn, std::uint64_t thread, Clock::time_point time,
                              Frame& frame) {
  Entry entry(*this);
  Event ev;
  ev.kind = EventKind::Call;
  ev.thread_id = thread;
  ev.time = time;
  ev.function = fn;
  ev.name = function_names_[fn];
  ev.frame = &frame;
  if (__builtin_expect(!function_streams_[fn].empty(), 0)) count_missed(fn);
  Outcome out;
  deliver(ev, fn, out, nullptr);
  return out;
}

// count_missed() counts a call of fn as missed by each stream of fn whose groutine is busy:
// not waiting on a call of fn (handling an earlier event, waiting on a return, ...).
void Runtime::count_missed(FunctionId fn) {
  for (std::uint64_t stream : function_streams_[fn]) {
    Stream& s = streams_.at(stream);
    Groutine* g = s.owner;
    if (!g || g->state_ == State::Finished || g->state_ == State::Failed) continue;
    bool waiting = false;
    if (g->state_ == State::Waiting && g->wait_)
      for (const Matcher& m : *g->wait_)
        waiting = waiting || (m.kind == EventKind::Call && m.key == fn);
    if (waiting) continue;
    ++s.missed;
    auto same = std::find_if(g->missed_.begin(), g->missed_.end(),
                             [&](const MissedCalls& m) { return m.function == fn; });
    if (same != g->missed_.end())
      ++same->count;
    else
      g->missed_.push_back(MissedCalls{fn, 1});
  }
}

Outcome Runtime::deliver_return(CallId call, std::uint64_t thread, Clock::time_point time,
                                Frame& frame, bool unwound) {
  Entry entry(*this);
  Event ev;
  ev.kind = EventKind::Return;
  ev.thread_id = thread;
  ev.time = time;
  ev.call = call;
  ev.unwound = unwound;
  ev.frame = &frame;
  auto it = returns_.find(call);
  if (it != returns_.end()) {
    it->second->watched = false;  // reported once: the backend has let go of it
    ev.function = it->second->function;
    ev.name = function_names_[ev.function];
  }
  Outcome out;
  deliver(ev, call, out, nullptr);
  return out;
}

std::vector<Reply> Runtime::fire(std::string_view name, Data data, std::uint64_t thread) {
  Entry entry(*this);
  if (fire_depth_ >= options_.max_fire_depth)
    throw Error("fire('" + std::string(name) + "'): custom events nested deeper than " +
                std::to_string(options_.max_fire_depth) +
                " (listeners firing events whose listeners fire again)");
  ++fire_depth_;
  struct Leave {
    unsigned& depth;
    ~Leave() { --depth; }
  } leave{fire_depth_};

  Event ev;
  ev.kind = EventKind::Custom;
  ev.thread_id = thread;
  ev.time = Clock::now();
  ev.name = name;
  ev.data = &data;
  auto it = event_ids_.find(name);
  // A name nobody ever waited for has no id: nobody receives it, but it is still an event.
  std::uint64_t key = it == event_ids_.end() ? ~std::uint64_t{0} : it->second;
  std::vector<Reply> replies;
  Outcome unused;
  deliver(ev, key, unused, &replies);
  return replies;
}

Runtime::Waiters* Runtime::find_waiters(EventKind kind, std::uint64_t key) {
  switch (kind) {
    case EventKind::Call:
      return key < call_waiters_.size() ? call_waiters_[key].get() : nullptr;
    case EventKind::Custom:
      return key < event_waiters_.size() ? event_waiters_[key].get() : nullptr;
    case EventKind::Return: {
      auto it = returns_.find(key);
      return it == returns_.end() ? nullptr : &it->second->waiters;
    }
  }
  return nullptr;
}

Runtime::Waiters& Runtime::waiters_for(EventKind kind, std::uint64_t key) {
  switch (kind) {
    case EventKind::Call:
      if (!call_waiters_[key]) call_waiters_[key] = std::make_unique<Waiters>();
      return *call_waiters_[key];
    case EventKind::Custom:
      if (!event_waiters_[key]) event_waiters_[key] = std::make_unique<Waiters>();
      return *event_waiters_[key];
    case EventKind::Return: break;
  }
  return returns_.at(key)->waiters;
}

// deliver() switches into every groutine whose current wait matches ev, in load order, each
// until it waits again or ends. The receivers are snapshotted first, with the generation of
// their wait: one that waits anew during this delivery does not receive ev a second time.
void Runtime::deliver(Event& ev, std::uint64_t key, Outcome& out, std::vector<Reply>* replies) {
  ev.seq = ++seq_;
  if (ev.kind == EventKind::Call) ev.call = ev.seq;
  Delivery delivery{&ev, &out, replies, active_, false};
  active_ = &delivery;
  backend_.observe(ev);

  if (Waiters* waiters = find_waiters(ev.kind, key); waiters && !waiters->list.empty()) {
    struct Receiver {
      Groutine* groutine;
      std::uint64_t generation;
    };
    boost::container::small_vector<Receiver, 8> receivers;
    for (Groutine* g : waiters->list) receivers.push_back({g, g->wait_generation_});

    for (const Receiver& r : receivers) {
      Groutine& g = *r.groutine;
      if (g.state_ != State::Waiting || g.wait_generation_ != r.generation) continue;
      const Wait& wait = *g.wait_;
      std::size_t index = 0;
      std::exception_ptr predicate_error;
      for (; index < wait.size(); ++index) {
        const Matcher& m = wait[index];
        if (m.kind != ev.kind || m.key != key) continue;
        if (!m.where) break;
        Groutine* outer = current_;
        current_ = &g;  // a predicate may read the event through handles
        bool accepted = false;
        try {
          containment::StepAside aside;  // g's code, maybe on a firer's fiber: not its death
          accepted = m.where(ev);
        } catch (...) {
          predicate_error = std::current_exception();
        }
        current_ = outer;
        if (accepted || predicate_error) break;
      }
      if (predicate_error) {
        g.last_kind_ = ev.kind;
        g.last_seq_ = ev.seq;
        g.last_name_ = ev.kind == EventKind::Custom ? key : ev.function;
        g.last_call_ = ev.call;
        g.last_thread_ = ev.thread_id;
        cancel(g);
        finish(g, predicate_error);
        continue;
      }
      if (index == wait.size()) continue;

      end_wait(g);
      g.delivered_ = Delivered{index, &ev};
      g.last_kind_ = ev.kind;
      g.last_seq_ = ev.seq;
      g.last_name_ = ev.kind == EventKind::Custom ? key : ev.function;
      g.last_call_ = ev.call;
      g.last_thread_ = ev.thread_id;
      ++g.events_handled_;
      g.transition(State::Waiting, State::Running);
      switch_in(g);
    }
  }

  if (delivery.return_awaited) {
    auto it = returns_.find(ev.call);
    if (it != returns_.end()) {
      if (it->second->waiters.list.empty()) {
        returns_.erase(it);
      } else if (out.forced_return) {
        // The call is skipped: its return is now, with the forced value (rewritable).
        Event ret;
        ret.kind = EventKind::Return;
        ret.thread_id = ev.thread_id;
        ret.time = ev.time;
        ret.function = ev.function;
        ret.call = ev.call;
        ret.name = ev.name;
        ret.frame = ev.frame;
        Outcome ret_out;
        ret_out.return_value = out.forced_return;
        deliver(ret, ev.call, ret_out, nullptr);
        out.forced_return = ret_out.return_value;
        returns_.erase(ev.call);  // nobody can wait for it any more: it has returned
      } else {
        it->second->watched = true;
        backend_.watch_return(ev.call, ev.function, ev.name, *ev.frame);
      }
    }
  } else if (ev.kind == EventKind::Return) {
    auto it = returns_.find(ev.call);
    if (it != returns_.end() && it->second->waiters.list.empty() && !it->second->watched)
      returns_.erase(it);
  }
  active_ = delivery.outer;
}

void Runtime::switch_in(Groutine& g) {
  GROUTINES_ASSERT(g.state_ == State::Running, "switch into a %s groutine", name(g.state_));
  Groutine* outer = current_;
  Runtime* outer_runtime = g_current_runtime;
  current_ = &g;
  g_current_runtime = this;
  // What a groutine ended where it stood (containment) would leave unbalanced.
  const unsigned entry_depth = entry_depth_, fire_depth = fire_depth_, lock_depth = mutex_.depth();
  Delivery* const active = active_;
  Step step;
  if (g.fiber_) {
    step = g.fiber_->resume();
  } else {
    // Its code runs on the caller's stack, maybe a C++ groutine's fiber (inside its fire()):
    // not that fiber's to die of (Python's state would be left pointing into its stack).
    containment::StepAside aside;
    step = g.driver_->resume(g);
  }
  current_ = outer;
  g_current_runtime = outer_runtime;
  if (step.abandoned) {
    // Its code stopped anywhere, maybe inside the runtime: entries, deliveries and the lock
    // it took on its (now gone) stack are given back, and the hooks its streams held.
    entry_depth_ = entry_depth;
    fire_depth_ = fire_depth;
    mutex_.set_depth(lock_depth);
    active_ = active;
    for (std::uint64_t stream : std::vector<std::uint64_t>(g.held_streams_)) close_stream(stream);
    g.wait_ = nullptr;
    g.state_ = State::Running;
  }
  if (step.ended) {
    finish(g, step.error);
  } else {
    GROUTINES_ASSERT(g.state_ == State::Waiting, "groutine '%s' suspended while %s",
                     g.name_.c_str(), name(g.state_));
  }
}

void Runtime::finish(Groutine& g, const std::exception_ptr& error) {
  unlist(g);
  if (g.parent_groutine_) reap_pending_ = true;
  if (!error) {
    g.transition(State::Running, State::Finished);
    return;
  }
  Failure f;
  f.fatal = true;
  f.where = g.location_;
  f.event = describe(g);
  try {
    std::rethrow_exception(error);
  } catch (const RequireFailure& e) {
    f.message = e.what();
    f.where = e.where();
  } catch (const Error& e) {
    f.message = e.what();
  } catch (const std::exception& e) {
    f.message = demangled(typeid(e).name()) + ": " + e.what();
  } catch (...) {
    f.message = "unknown exception";
  }
  record(g, std::move(f));
  g.transition(State::Running, State::Failed);
}

// record() adds failure f to g with the target's backtrace, when the innermost event being
// delivered stopped the target (a call or a return), and shows it to the backend.
void Runtime::record(Groutine& g, Failure f) {
  const Delivery* d = active_;
  while (d && !d->event->frame) d = d->outer;
  if (d) {
    f.thread = d->event->thread_id;
    try {
      f.backtrace = to_strings(d->event->frame->backtrace(32));
    } catch (const std::exception& e) {
      f.backtrace = {std::string("(no backtrace: ") + e.what() + ")"};
    }
  }
  g.failures_.push_back(std::move(f));
  backend_.on_failure(g, g.failures_.back());
}

// --- Waits ---

void Runtime::begin_wait(Groutine& g, const Wait& wait) {
  GROUTINES_ASSERT(entry_depth_ > 0 && mutex_.held(), "begin_wait() outside a runtime entry");
  if (g.cancelling_) throw Error("groutine '" + g.name_ + "' is being unloaded: it cannot wait");
  GROUTINES_ASSERT(g.state_ == State::Running, "wait of a %s groutine", name(g.state_));
  // Fast path: the same keys as the wait that just ended (a loop): still listed.
  bool same = !g.listed_return_ && g.listed_.size() == wait.size();
  for (std::size_t i = 0; same && i < wait.size(); ++i)
    same = g.listed_[i].kind == wait[i].kind && g.listed_[i].key == wait[i].key;
  if (!same) {
    if (wait.empty()) throw Error("a wait needs at least one event to wait for");
    for (const Matcher& m : wait) {
      if (m.kind == EventKind::Call && m.key >= function_names_.size())
        throw Error("wait on an unknown function id " + std::to_string(m.key));
      if (m.kind == EventKind::Custom && m.key >= event_names_.size())
        throw Error("wait on an unknown event id " + std::to_string(m.key));
      // Only while handling the call: later, its return may have come already, or its
      // watch lives on only because another groutine waits for it.
      if (m.kind == EventKind::Return) {
        const Delivery* d = active_;
        while (d && !(d->event->seq == m.key && d->event->kind == EventKind::Call)) d = d->outer;
        if (!d)
          throw Error("cannot wait for the return of call #" + std::to_string(m.key) +
                      ": that call is no longer current (wait for its return while handling it)");
      }
    }
    unlist(g);
    list(g, wait);
  }
  g.wait_ = &wait;
  ++g.wait_generation_;
  g.transition(State::Running, State::Waiting);
}

void Runtime::list(Groutine& g, const Wait& wait) {
  for (const Matcher& m : wait) {
    g.listed_.push_back(Groutine::Listing{m.kind, m.key});
    if (m.kind == EventKind::Return) {
      g.listed_return_ = true;
      auto& watch = returns_[m.key];
      if (!watch) {
        Delivery* d = active_;
        while (d->event->seq != m.key) d = d->outer;
        d->return_awaited = true;
        watch = std::make_unique<ReturnWatch>();
        watch->function = d->event->function;
        watch->thread = d->event->thread_id;
      }
      watch->waiters.insert(&g);
    } else {
      waiters_for(m.kind, m.key).insert(&g);
      if (m.kind == EventKind::Call) add_hook_holder(static_cast<FunctionId>(m.key));
    }
  }
}

void Runtime::unlist(Groutine& g) {
  for (const Groutine::Listing& l : g.listed_) {
    if (l.kind == EventKind::Return) {
      auto it = returns_.find(l.key);
      if (it == returns_.end()) continue;
      it->second->waiters.erase(&g);
      if (it->second->waiters.list.empty() && it->second->watched) {
        backend_.unwatch_return(l.key);
        returns_.erase(it);
      }
    } else {
      waiters_for(l.kind, l.key).erase(&g);
      if (l.kind == EventKind::Call) drop_hook_holder(static_cast<FunctionId>(l.key));
    }
  }
  g.listed_.clear();
  g.listed_return_ = false;
}

__attribute__((flatten)) Delivered Runtime::wait(const Wait& wait) {
  Groutine* g = current_;
  // A groutine's code runs only on the thread delivering to it, which holds the lock: a
  // thread the groutine started is not inside it.
  if (!g || !mutex_.held()) throw Error("wait outside a groutine");
  begin_wait(*g, wait);
  if (g->fiber_)
    g->fiber_->suspend();
  else
    g->driver_->suspend(*g);
  return g->delivered_;
}

// end_wait() ends g's wait as an event is delivered to it. Its listing stays (see
// Groutine::listed_), except for the return of a call, which is unlisted at once.
void Runtime::end_wait(Groutine& g) {
  GROUTINES_ASSERT(g.wait_ != nullptr, "end of no wait");
  if (g.listed_return_) unlist(g);
  g.wait_ = nullptr;
}

// --- Hooks ---

void Runtime::add_hook_holder(FunctionId fn) {
  Hook& h = hooks_[fn];
  if (h.holders++ == 0 && !h.installed && !h.queued) {
    h.queued = true;
    hooks_to_reconcile_.push_back(fn);
  }
}

void Runtime::drop_hook_holder(FunctionId fn) {
  Hook& h = hooks_[fn];
  GROUTINES_ASSERT(h.holders > 0, "hook of %s released more than held",
                   function_names_[fn].c_str());
  if (--h.holders == 0 && h.installed && !h.queued) {
    h.queued = true;
    hooks_to_reconcile_.push_back(fn);
  }
}

std::uint64_t Runtime::open_stream(FunctionId fn) {
  Entry entry(*this);
  const std::uint64_t stream = next_stream_++;
  add_hook_holder(fn);
  streams_.emplace(stream, Stream{fn, current_, 0});
  function_streams_[fn].push_back(stream);
  if (current_) current_->held_streams_.push_back(stream);
  return stream;
}

void Runtime::close_stream(std::uint64_t stream) {
  Entry entry(*this);
  auto it = streams_.find(stream);
  if (it == streams_.end()) return;
  const FunctionId fn = it->second.function;
  drop_hook_holder(fn);
  auto& open = function_streams_[fn];
  open.erase(std::find(open.begin(), open.end(), stream));
  if (Groutine* g = it->second.owner) {
    auto& held = g->held_streams_;
    held.erase(std::find(held.begin(), held.end(), stream));
  }
  streams_.erase(it);
}

std::uint64_t Runtime::stream_missed(std::uint64_t stream) const {
  std::lock_guard lock(mutex_);
  auto it = streams_.find(stream);
  return it == streams_.end() ? 0 : it->second.missed;
}

void Runtime::reconcile() {
  std::vector<FunctionId> pending;
  pending.swap(hooks_to_reconcile_);
  for (FunctionId fn : pending) {
    Hook& h = hooks_[fn];
    h.queued = false;
    if (h.holders > 0 && !h.installed) {
      h.installed = true;
      backend_.install_call_hook(fn, function_names_[fn]);
    } else if (h.holders == 0 && h.installed) {
      h.installed = false;
      backend_.remove_call_hook(fn);
    }
  }
}

// --- Handles' support ---

std::uint64_t Runtime::current_thread() const noexcept {
  return active_ ? active_->event->thread_id : 0;
}

bool Runtime::is_current(std::uint64_t seq) const noexcept {
  for (const Delivery* d = active_; d; d = d->outer)
    if (d->event->seq == seq) return true;
  return false;
}

Outcome& Runtime::outcome_of(std::uint64_t seq) {
  for (Delivery* d = active_; d; d = d->outer)
    if (d->event->seq == seq) return *d->outcome;
  throw Error("event #" + std::to_string(seq) + " is no longer current");
}

void Runtime::reply(std::uint64_t seq, Value value) {
  Delivery* d = active_;
  while (d && d->event->seq != seq) d = d->outer;
  if (!d || !d->replies) throw Error("event #" + std::to_string(seq) + " is no longer current");
  Groutine* g = current_;
  if (!g) throw Error("reply outside a groutine");
  for (Reply& r : *d->replies)
    if (r.id == g->id()) {
      r.value = std::move(value);
      return;
    }
  d->replies->push_back(Reply{g->id(), g->name(), std::move(value)});
}

void Runtime::record_failure(std::string message, Location where) {
  Groutine* g = current_;
  if (!g) throw Error("a check failed outside a groutine: " + message);
  record(*g, Failure{std::move(message), std::move(where), describe(*g), false, {}, 0, {}});
}

void Runtime::request_stop(std::string_view reason) {
  if (!current_) throw Error("stop outside a groutine");
  backend_.request_stop(*current_, reason);
}

std::vector<std::string> Runtime::functions(std::string_view pattern,
                                            const std::vector<std::string>& modules) {
  auto held = lock();
  return backend_.functions(pattern, modules);
}

void Runtime::log(std::string_view message) {
  if (!current_) throw Error("log outside a groutine");
  backend_.log(*current_, message);
}

std::string Runtime::describe(const Groutine& g) const {
  if (g.last_seq_ == 0) return "start";
  std::string thread = g.last_thread_ ? " on thread " + std::to_string(g.last_thread_) : "";
  switch (g.last_kind_) {
    case EventKind::Call:
      return "call #" + std::to_string(g.last_seq_) + " of " +
             function_names_[g.last_name_] + thread;
    case EventKind::Return:
      return "return #" + std::to_string(g.last_seq_) + " of " +
             function_names_[g.last_name_] + " (call #" + std::to_string(g.last_call_) + ")" +
             thread;
    case EventKind::Custom:
      return "event '" + event_names_[g.last_name_] + "' #" + std::to_string(g.last_seq_);
  }
  return "?";
}

// --- Inspection ---

void Runtime::write_last_report(int fd) const noexcept {
  char line[1024];
  auto put = [&](int n) {
    if (n > 0) (void)!::write(fd, line, std::min<std::size_t>(static_cast<std::size_t>(n), sizeof line - 1));
  };
  unsigned passed = 0, failed = 0;
  for (const auto& g : groutines_) {
    const bool running = g.get() == current_;
    const bool ok = g->failures_.empty() && !running;
    (ok ? passed : failed)++;
    unsigned long long events = g->events_handled_;
    put(std::snprintf(line, sizeof line, "%s%s %s (%s, %llu event%s)\n",
                      g->parent_ ? "  child: " : "", ok ? "PASS" : "FAIL", g->name_.c_str(),
                      running ? "running when the debugger died" : name(g->state_), events,
                      events == 1 ? "" : "s"));
    if (g->children_.spawned)
      put(std::snprintf(line, sizeof line, "  children: %llu spawned, %llu ended (%llu failed)\n",
                        static_cast<unsigned long long>(g->children_.spawned),
                        static_cast<unsigned long long>(g->children_.ended),
                        static_cast<unsigned long long>(g->children_.failed)));
    for (const Failure& f : g->failures_)
      put(std::snprintf(line, sizeof line, "  %s:%u: %s [%s]%s\n", f.where.file.c_str(),
                        f.where.line, f.message.c_str(), f.event.c_str(),
                        f.fatal ? " (ended it)" : ""));
  }
  put(std::snprintf(line, sizeof line, "%u passed, %u failed\n", passed, failed));
}

void Runtime::for_each(const std::function<void(const Groutine&)>& visit) const {
  std::lock_guard lock(mutex_);
  for (const auto& g : groutines_) visit(*g);
}

const Groutine* Runtime::find(std::string_view name) const {
  std::lock_guard lock(mutex_);
  for (const auto& g : groutines_)
    if (g->name() == name) return g.get();
  return nullptr;
}

std::size_t Runtime::size() const {
  std::lock_guard lock(mutex_);
  return groutines_.size();
}

std::vector<HookInfo> Runtime::hooks() const {
  std::lock_guard lock(mutex_);
  std::vector<HookInfo> out;
  for (FunctionId fn = 0; fn < hooks_.size(); ++fn)
    if (hooks_[fn].holders || hooks_[fn].installed)
      out.push_back(HookInfo{fn, function_names_[fn], hooks_[fn].holders, hooks_[fn].installed});
  return out;
}

std::size_t Runtime::pending_returns() const {
  std::lock_guard lock(mutex_);
  return returns_.size();
}

}  // namespace groutines
