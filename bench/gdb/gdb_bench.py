"""gdb_bench: the per-hit cost of groutines under GDB, against GDB's own Python breakpoint,
in the same run.

Each scenario runs bench_target (hot(i, i + 1) called N times) under gdb -nx -batch at two
call counts; the cost of one hit is the slope (t(N2) - t(N1)) / (N2 - N1), which cancels
GDB's and the target's start-up. Time is GDB's CPU time (its own and the kernel's work for
it), the best of the rounds at each count (the machine's other load only ever adds), the
median shown beside it; rounds interleave the scenarios. Each scenario's ratio is to the
bare Python breakpoint that reads the same two arguments.

  bare            gdb.Breakpoint("*hot").stop() returning False
  bare+2 args     the same, reading $rdi and $rsi (what a groutine reading two arguments does)
  python          a Python groutine reading call.arg(0) + call.arg(1)
                  (bench/lldb/bench_groutines.py)
  c++             a C++ groutine doing the same (groutines/examples/bench.cpp)

Usage: /usr/bin/python3 bench/gdb/gdb_bench.py [BUILD_DIR=build] [ROUNDS=3]"""
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
N1, N2 = 200, 1200

# TIMED wraps a breakpoint class's stop() to record how long each call takes.
TIMED = """
import time
_stops = []
def timed(cls):
    stop = cls.stop
    def timed_stop(self):
        t = time.perf_counter()
        try:
            return stop(self)
        finally:
            _stops.append(time.perf_counter() - t)
    cls.stop = timed_stop
    return cls
"""

BARE = TIMED + """
import gdb
@timed
class Bare(gdb.Breakpoint):
    def stop(self):
        return False
Bare("*hot", internal=True)
"""

BARE_ARGS = TIMED + """
import gdb
sink = 0
@timed
class BareArgs(gdb.Breakpoint):
    def stop(self):
        global sink
        sink += int(gdb.parse_and_eval("$rdi")) + int(gdb.parse_and_eval("$rsi"))
        return False
BareArgs("*hot", internal=True)
"""

FRONTEND_TIMED = TIMED + """
import groutines_gdb.backend
timed(groutines_gdb.backend._CallBreakpoint)
"""


def main():
    build = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    target = os.path.join(build, "bench", "lldb", "bench_target")
    frontend = os.path.join(build, "gdb", "groutines.py")
    library = os.path.join(build, "groutines", "libgroutine_bench.so")
    script = os.path.join(os.path.dirname(HERE), "lldb", "bench_groutines.py")
    for path in (target, frontend, library):
        if not os.path.exists(path):
            sys.exit(f"gdb_bench: {path} is not built")
    tmp = tempfile.mkdtemp(prefix="gdb_bench.")
    bare, bare_args = os.path.join(tmp, "bare.py"), os.path.join(tmp, "bare_args.py")
    timed = os.path.join(tmp, "timed.py")
    for path, text in ((bare, BARE), (bare_args, BARE_ARGS), (timed, FRONTEND_TIMED)):
        with open(path, "w") as f:
            f.write(text)
    scenarios = {
        "bare": [f"source {bare}"],
        "bare+2 args": [f"source {bare_args}"],
        "python": [f"source {frontend}", f"source {timed}", f"groutine load {script}"],
        "c++": [f"source {frontend}", f"source {timed}", f"groutine load {library}"],
    }
    times = {name: ([], []) for name in scenarios}
    stops = {name: [] for name in scenarios}
    for _ in range(rounds):
        for name, setup in scenarios.items():
            for n, samples in ((N1, times[name][0]), (N2, times[name][1])):
                cpu, stop_times = timed_run(target, setup, n)
                samples.append(cpu)
                stops[name] += stop_times
    # Whole hits: GDB's CPU time, slope between the two counts, median of the rounds.
    hit = {name: (statistics.median(t2) - statistics.median(t1)) / (N2 - N1) * 1e6
           for name, (t1, t2) in times.items()}
    # The Python callback alone: the median of every stop()'s duration, steady on a loaded
    # machine. A hit costs GDB's bare hit plus its callback; the scenarios differ only there.
    callback = {name: statistics.median(values) * 1e6 for name, values in stops.items()}
    bare_hit = hit["bare"] - callback["bare"]
    base = bare_hit + callback["bare+2 args"]
    print(f"gdb_bench: µs per hit of hot(i, i + 1) under GDB, {rounds} rounds of "
          f"{N1} and {N2} calls")
    print(f"  {'':<12} {'hit (CPU)':>10} {'stop()':>8} {'bare hit + stop()':>18}  ratio")
    for name in scenarios:
        estimate = bare_hit + callback[name]
        whole = hit[name] / hit["bare+2 args"]
        print(f"  {name:<12} {hit[name]:10.1f} {callback[name]:8.1f} {estimate:18.1f}  "
              f"{estimate / base:5.2f}x bare+2 args (whole hits: {whole:.2f}x)")


def timed_run(target, setup, n):
    """timed_run() is the CPU seconds GDB spends in `run n` (its own and the kernel's work for
    it: ptrace, waits), timed by GDB's Python, and the duration of every stop() callback."""
    args = ["gdb", "-nx", "-batch", "-ex", "file " + target]
    for command in setup:
        args += ["-ex", command]
    args += ["-ex", "python import time; _t = time.process_time()", "-ex", f"run {n}",
             "-ex", "python print('elapsed', time.process_time() - _t)",
             "-ex", "python print('stops', ' '.join(repr(t) for t in _stops))"]
    out = subprocess.run(args, capture_output=True, text=True, timeout=300,
                         stdin=subprocess.DEVNULL).stdout
    if "hot_sum=" not in out:
        sys.exit(f"gdb_bench: the target did not finish:\n{out}")
    cpu = stops = None
    for line in out.splitlines():
        if line.startswith("elapsed "):
            cpu = float(line.split()[1])
        elif line.startswith("stops"):
            stops = [float(t) for t in line.split()[1:]]
    if cpu is None or not stops or len(stops) != n:
        sys.exit(f"gdb_bench: no times (or not one stop() per call) in GDB's output:\n{out}")
    return cpu, stops


if __name__ == "__main__":
    start = time.monotonic()
    main()
    print(f"  (the benchmark took {time.monotonic() - start:.0f} s)")
