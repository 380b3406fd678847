// core_bench: what the runtime adds to a fiber switch. Measures, in one run:
//   std_function_call   a plain std::function call (the floor of any callback)
//   raw_fiber_roundtrip a Boost.Context fiber resumed and suspended again, inline loops
//   raw_fiber_roundtrip_called  the same, resume and suspend each inside a function call
//   deliver_call        Runtime::deliver_call to a groutine looping over calls("f"), back
//   deliver_custom      Runtime::fire of a custom event to a waiting groutine, back
// and prints deliver_call / raw_fiber_roundtrip (target: <= 2.0).
#include <benchmark/benchmark.h>

#include <boost/context/fiber.hpp>
#include <cstdio>
#include <functional>
#include <map>
#include <string>

#include "groutines/api.hpp"

namespace ctx = boost::context;
using namespace groutines;

namespace {

struct NullFrame final : Frame {
  std::uint64_t int_argument(unsigned index) override { return index; }
  double float_argument(unsigned) override { return 0; }
  std::uint64_t register_value(std::string_view) override { return 0; }
};

struct NullBackend final : Backend {
  void install_call_hook(FunctionId, std::string_view) noexcept override {}
  void remove_call_hook(FunctionId) noexcept override {}
  void watch_return(CallId, FunctionId, std::string_view, Frame&) noexcept override {}
  void unwatch_return(CallId) noexcept override {}
  void request_stop(const Groutine&, std::string_view) override {}
};

void std_function_call(benchmark::State& state) {
  int x = 0;
  std::function<int(int)> f = [&x](int v) { return x += v; };
  for (auto _ : state) benchmark::DoNotOptimize(f(1));
}
BENCHMARK(std_function_call);

void raw_fiber_roundtrip(benchmark::State& state) {
  ctx::fiber f{[](ctx::fiber&& caller) {
    for (;;) caller = std::move(caller).resume();
    return std::move(caller);
  }};
  for (auto _ : state) f = std::move(f).resume();
}
BENCHMARK(raw_fiber_roundtrip);

// raw_fiber_roundtrip_called: the same round trip with the resume and the suspend each made
// from inside a (non-inlined) function, as any runtime must: the floor of an API that is a
// function call on each side. Each call level around a stack switch costs a mispredicted
// return on both sides.
ctx::fiber* g_caller = nullptr;
__attribute__((noinline)) void suspend_to_caller() {
  *g_caller = std::move(*g_caller).resume();
  benchmark::ClobberMemory();
}
__attribute__((noinline)) void resume_fiber(ctx::fiber& f) {
  f = std::move(f).resume();
  benchmark::ClobberMemory();
}
void raw_fiber_roundtrip_called(benchmark::State& state) {
  ctx::fiber caller;
  ctx::fiber f{[&caller](ctx::fiber&& c) {
    caller = std::move(c);
    g_caller = &caller;
    for (;;) suspend_to_caller();
    return std::move(caller);
  }};
  for (auto _ : state) resume_fiber(f);
}
BENCHMARK(raw_fiber_roundtrip_called);

// Counter is a runtime with one groutine looping over calls("f").
struct Counter {
  NullBackend backend;
  Runtime runtime{backend};
  std::uint64_t sum = 0;
  FunctionId f = 0;
  NullFrame frame;

  Counter() {
    Definition d;
    d.name = "counter";
    d.body = [this] {
      for (Call c : calls("f")) sum += c.seq();
    };
    runtime.load(d);
    f = runtime.function_id("f");
  }
};

void deliver_call(benchmark::State& state) {
  Counter c;
  const auto now = Clock::now();
  for (auto _ : state) benchmark::DoNotOptimize(c.runtime.deliver_call(c.f, 1, now, c.frame));
  benchmark::DoNotOptimize(c.sum);
}
BENCHMARK(deliver_call);

// deliver_call_in_stop: as a backend delivers, holding the runtime's lock for the whole stop.
void deliver_call_in_stop(benchmark::State& state) {
  Counter c;
  const auto now = Clock::now();
  auto lock = c.runtime.lock();
  for (auto _ : state) benchmark::DoNotOptimize(c.runtime.deliver_call(c.f, 1, now, c.frame));
  benchmark::DoNotOptimize(c.sum);
}
BENCHMARK(deliver_call_in_stop);

void deliver_custom(benchmark::State& state) {
  NullBackend backend;
  Runtime runtime(backend);
  Definition d;
  d.name = "listener";
  d.body = [] {
    for (;;) wait_event("tick").reply(std::int64_t{1});
  };
  runtime.load(d);
  for (auto _ : state) benchmark::DoNotOptimize(runtime.fire("tick", {}));
}
BENCHMARK(deliver_custom);

// Keeps each benchmark's time per iteration, to print ratios after the run.
class Recorder : public benchmark::ConsoleReporter {
 public:
  std::map<std::string, double> ns;
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& r : runs)
      if (r.run_type == Run::RT_Iteration)
        ns[r.benchmark_name()] = r.GetAdjustedRealTime();  // in the run's time unit (ns)
    ConsoleReporter::ReportRuns(runs);
  }
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  Recorder recorder;
  benchmark::RunSpecifiedBenchmarks(&recorder);
  auto& ns = recorder.ns;
  if (ns.count("deliver_call") && ns.count("raw_fiber_roundtrip")) {
    double ratio = ns["deliver_call"] / ns["raw_fiber_roundtrip"];
    std::printf("\ndeliver_call / raw_fiber_roundtrip = %.2f (target <= 2.00): %s\n", ratio,
                ratio <= 2.0 ? "met" : "NOT met");
    std::printf("deliver_call / raw_fiber_roundtrip_called = %.2f\n",
                ns["deliver_call"] / ns["raw_fiber_roundtrip_called"]);
    std::printf("deliver_call_in_stop / raw_fiber_roundtrip = %.2f\n",
                ns["deliver_call_in_stop"] / ns["raw_fiber_roundtrip"]);
    std::printf("deliver_call / std_function_call = %.2f\n",
                ns["deliver_call"] / ns["std_function_call"]);
  }
  return 0;
}
