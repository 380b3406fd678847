"""instructions: what a breakpoint hit costs the debugger process, in instructions.

Wall time on a shared 2-vCPU machine swings by a third from run to run (python_bench prints
it anyway, with the floor that bounds it). Instructions executed by the lldb process do not:
valgrind's callgrind counts them, the same for the same binaries and inputs whatever else the
machine is doing. This runs lldb-19 in batch mode under callgrind over bench_target at two call
counts, for each scenario, and prints the slope (instructions per hit):

  lldb_stop_instr_per_hit           an auto-continue breakpoint on hot() with no callback:
                                    what LLDB's own stop costs the debugger
  lldb_python_callback_instr_per_hit `breakpoint command add -F`, reading rdi and rsi with
                                    frame.FindRegister (bench/lldb/python_callbacks.py)
  python_groutine_instr_per_hit     the plugin, a Python groutine reading call.arg(0) and
                                    call.arg(1) (bench/lldb/bench_groutines.py)
  cpp_groutine_instr_per_hit        the plugin, the C++ groutine of plugin_bench
  python_groutine_over_lldb_python_callback_instr X
  python_groutine_over_lldb_stop_instr X

lldb-server, the kernel and the target are not counted: both peers make the same packets to
lldb-server (9 round trips a hit), so they add the same to both. Each scenario's runs check
the target's output, so a run that lost its breakpoint is an error, not a number.

Usage: /usr/bin/python3 bench/lldb/instructions.py BUILD_DIR [--calls LOW,HIGH] [--jobs N]
"""
import argparse
import concurrent.futures
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
LLDB = os.environ.get("GROUTINES_LLDB", "lldb-19")  # the LLDB the plugin was built for
SERVER = "/usr/lib/llvm-19/bin/lldb-server"


def scenarios(build):
    plugin = os.path.join(build, "lldb_plugin", "libgroutines_lldb.so")
    load_plugin = [f"plugin load {plugin}"]
    cpp_library = os.path.join(build, "groutines", "libgroutine_bench.so")
    return [
        ("lldb_stop_instr_per_hit", ["breakpoint set -n hot -G true"]),
        ("lldb_python_callback_instr_per_hit",
         [f"command script import {os.path.join(HERE, 'python_callbacks.py')}",
          "breakpoint set -n hot", "breakpoint command add -F python_callbacks.on_hot 1"]),
        ("python_groutine_instr_per_hit",
         load_plugin + [f"groutine load {os.path.join(HERE, 'bench_groutines.py')}"]),
        ("cpp_groutine_instr_per_hit",
         load_plugin + [f"groutine load {cpp_library}"]),
    ]


def instructions(target, commands, calls):
    """instructions() runs the target with calls calls of hot() under lldb-19 in callgrind and
    returns the instructions the lldb process executed."""
    with tempfile.NamedTemporaryFile("w", suffix=".lldb", delete=False) as script:
        script.write("\n".join(commands + [f"process launch -- {calls}"]) + "\n")
    try:
        env = dict(os.environ)
        env.setdefault("LLDB_DEBUGSERVER_PATH", SERVER)
        proc = subprocess.run(
            ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", LLDB, "--batch",
             "--no-lldbinit", "-s", script.name, target], capture_output=True, text=True,
            env=env, timeout=1800, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"a run of {calls} calls did not end within 30 minutes")
    finally:
        os.unlink(script.name)
    expected = f"hot_sum={calls * calls}"
    if expected not in proc.stdout or "exited with status = 0" not in proc.stdout:
        raise RuntimeError(f"run of {calls} calls did not print {expected} and exit 0:\n"
                           f"{proc.stdout}\n{proc.stderr}")
    if re.search(r"^error:", proc.stdout + proc.stderr, re.M):
        raise RuntimeError(f"run of {calls} calls had an error:\n{proc.stdout}\n{proc.stderr}")
    found = re.search(r"Collected : (\d+)", proc.stderr)
    if not found:
        raise RuntimeError(f"callgrind printed no total:\n{proc.stderr}")
    return int(found.group(1))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("build", help="the build directory (make bench: build-bench)")
    parser.add_argument("--calls", default="100,400", help="LOW,HIGH calls of hot()")
    parser.add_argument("--jobs", type=int, default=2, help="runs at once")
    args = parser.parse_args()
    try:
        low, high = (int(n) for n in args.calls.split(","))
    except ValueError:
        parser.error(f"--calls takes LOW,HIGH (two integers), not {args.calls!r}")
    if high <= low:
        parser.error("--calls: HIGH must be above LOW")
    for tool in ("valgrind", LLDB):
        if not shutil.which(tool):
            raise RuntimeError(f"{tool} is not installed (scripts/install-deps.sh installs it)")
    target = os.path.join(args.build, "bench", "lldb", "bench_target")
    runs = [(name, commands, calls) for name, commands in scenarios(args.build)
            for calls in (low, high)]
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        counts = list(pool.map(lambda r: instructions(target, r[1], r[2]), runs))
    per_hit = {}
    for i in range(0, len(runs), 2):
        per_hit[runs[i][0]] = (counts[i + 1] - counts[i]) / (high - low)
    for name, value in per_hit.items():
        print(f"{name} {value:.0f}")
    python = per_hit["python_groutine_instr_per_hit"]
    print("python_groutine_over_lldb_python_callback_instr "
          f"{python / per_hit['lldb_python_callback_instr_per_hit']:.3f}")
    print(f"python_groutine_over_lldb_stop_instr {python / per_hit['lldb_stop_instr_per_hit']:.3f}")


if __name__ == "__main__":
    try:
        main()
    except RuntimeError as e:
        print(f"error: instructions: {e}", file=sys.stderr)
        sys.exit(1)
