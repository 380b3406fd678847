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
                  (bench/lldb/bench_groutines.py), on breakpoints
  c++             a C++ groutine doing the same (groutines/examples/bench.cpp)

Then the agent transport: the same two groutines over agent_target (whose hot() is long enough
to patch), every call after the first a hit through the agent, timed by the wall clock (the
target and GDB's service thread work in parallel: GDB's CPU time no longer holds the hit), at
larger call counts, against the bare breakpoint's whole hit by the same clock.

Usage: /usr/bin/python3 bench/gdb/gdb_bench.py [BUILD_DIR=build] [ROUNDS=3]"""
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
N1, N2 = 200, 1200
AGENT_N1, AGENT_N2 = 2000, 22000

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
    # bench_target's hot() is too short for the agent's jump: agent_target's is patched.
    agent_target = os.path.join(build, "bench", "lldb", "agent_target")
    frontend = os.path.join(build, "gdb", "groutines.py")
    library = os.path.join(build, "groutines", "libgroutine_bench.so")
    script = os.path.join(os.path.dirname(HERE), "lldb", "bench_groutines.py")
    for path in (target, agent_target, frontend, library):
        if not os.path.exists(path):
            sys.exit(f"gdb_bench: {path} is not built")
    tmp = tempfile.mkdtemp(prefix="gdb_bench.")
    bare, bare_args = os.path.join(tmp, "bare.py"), os.path.join(tmp, "bare_args.py")
    timed = os.path.join(tmp, "timed.py")
    for path, text in ((bare, BARE), (bare_args, BARE_ARGS), (timed, FRONTEND_TIMED)):
        with open(path, "w") as f:
            f.write(text)
    on_breakpoints = "groutine transport breakpoint"
    scenarios = {
        "bare": [f"source {bare}"],
        "bare+2 args": [f"source {bare_args}"],
        "python": [f"source {frontend}", on_breakpoints, f"source {timed}",
                   f"groutine load {script}"],
        "c++": [f"source {frontend}", on_breakpoints, f"source {timed}",
                f"groutine load {library}"],
    }
    agent_scenarios = {
        "python": [f"source {frontend}", "groutine transport agent", f"groutine load {script}"],
        "c++": [f"source {frontend}", "groutine transport agent", f"groutine load {library}"],
    }
    times = {name: ([], []) for name in scenarios}
    walls = {name: ([], []) for name in scenarios}
    stops = {name: [] for name in scenarios}
    agent_walls = {name: ([], []) for name in agent_scenarios}
    for _ in range(rounds):
        for name, setup in scenarios.items():
            for n, i in ((N1, 0), (N2, 1)):
                cpu, wall, stop_times = timed_run(target, setup, n)
                times[name][i].append(cpu)
                walls[name][i].append(wall)
                stops[name] += stop_times
        for name, setup in agent_scenarios.items():
            for n, i in ((AGENT_N1, 0), (AGENT_N2, 1)):
                _, wall, _ = timed_run(agent_target, setup, n, stops=False)
                agent_walls[name][i].append(wall)
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
    # The agent: wall-clock slope per call, against the bare breakpoint's wall-clock hit.
    bare_wall = min(slope(walls[name], N1, N2) for name in ("bare", "bare+2 args"))
    print(f"gdb_bench: µs per call of hot(i, i + 1) on the agent transport (wall clock, "
          f"{AGENT_N1} and {AGENT_N2} calls), against GDB's bare breakpoint hit "
          f"({bare_wall:.1f} µs by the same clock)")
    for name in agent_scenarios:
        per_call = slope(agent_walls[name], AGENT_N1, AGENT_N2)
        print(f"  {name:<12} {per_call:10.2f} µs  {bare_wall / per_call:6.1f}x faster than "
              "the bare breakpoint")


def slope(samples, n1, n2):
    """slope() is the µs per call between the medians of the rounds at n1 and at n2."""
    return (statistics.median(samples[1]) - statistics.median(samples[0])) / (n2 - n1) * 1e6


def timed_run(target, setup, n, stops=True):
    """timed_run() is the CPU seconds GDB spends in `run n` (its own and the kernel's work for
    it: ptrace, waits) and its wall-clock seconds, timed by GDB's Python, and the duration of
    every stop() callback (stops=False: none are timed)."""
    args = ["gdb", "-nx", "-batch", "-ex", "file " + target]
    for command in setup:
        args += ["-ex", command]
    args += ["-ex", "python import time; _t = time.process_time(); _w = time.monotonic()",
             "-ex", f"run {n}",
             "-ex", "python print('elapsed', time.process_time() - _t, time.monotonic() - _w)"]
    if stops:
        args += ["-ex", "python print('stops', ' '.join(repr(t) for t in _stops))"]
    out = subprocess.run(args, capture_output=True, text=True, timeout=300,
                         stdin=subprocess.DEVNULL).stdout
    if "hot_sum=" not in out:
        sys.exit(f"gdb_bench: the target did not finish:\n{out}")
    cpu = wall = times = None
    for line in out.splitlines():
        if line.startswith("elapsed "):
            cpu, wall = map(float, line.split()[1:3])
        elif line.startswith("stops"):
            times = [float(t) for t in line.split()[1:]]
    if cpu is None or stops and (not times or len(times) != n):
        sys.exit(f"gdb_bench: no times (or not one stop() per call) in GDB's output:\n{out}")
    return cpu, wall, times or []


if __name__ == "__main__":
    start = time.monotonic()
    main()
    print(f"  (the benchmark took {time.monotonic() - start:.0f} s)")
