"""profile_vs_uftrace: the stock profile on every function of an executable against uftrace
on the same program, in wall time, in the same run.

The program is tests/targets/manyfuncs (2305 functions: main, 256 groups, 2048 leaves;
ROUNDS rounds of calls, 4 by default: 4,801 calls) and its twin built with -pg. Each
repetition runs, one after the other (so that drift of the machine hits all alike):

  native            manyfuncs ROUNDS
  uftrace_pg        uftrace record manyfuncs_pg ROUNDS (mcount calls compiled in), then
                    uftrace report (the table)
  uftrace_dynamic   uftrace record -P . manyfuncs ROUNDS (patched at start), then report
  groutines         scripts/groutines run --set 'profile.functions=*' stock:profile --
                    manyfuncs ROUNDS (the agent transport, the default)
  groutines_hooks   the same with 0 rounds: main only, every other function hooked and never
                    called (what planting 2305 hooks costs)

and prints each run's wall time, then the medians and the ratios, each the median of the
ratios taken within one repetition:

  groutines_over_uftrace_pg X, groutines_over_uftrace_dynamic X, groutines_over_native X

There is no target to meet: the figures say where the stock profile stands. Every run has a
deadline (--timeout), past which its process group is killed.

Usage: /usr/bin/python3 bench/profile_vs_uftrace.py BUILD_DIR [--reps N] [--rounds N]
           [--timeout S]
"""
import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
LAUNCHER = os.path.join(ROOT, "scripts", "groutines")
PYTHON = "/usr/bin/python3"  # the Python LLDB 19 embeds: the runner's


def timed(argv, timeout, env=None, cwd=None):
    """timed() runs argv (stdout and stderr kept) and returns (wall seconds or None when
    killed at the deadline, exit status, stderr)."""
    start = time.monotonic()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True, env=env, cwd=cwd, start_new_session=True)
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        _, err = proc.communicate()
        return None, proc.returncode, err
    return time.monotonic() - start, proc.returncode, err


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("build", help="the build directory (tests/targets/ built in it)")
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--rounds", type=int, default=4)
    p.add_argument("--timeout", type=float, default=300)
    args = p.parse_args()
    targets = os.path.join(os.path.abspath(args.build), "tests", "targets")
    program = os.path.join(targets, "manyfuncs")
    program_pg = os.path.join(targets, "manyfuncs_pg")
    uftrace = shutil.which("uftrace")
    for path in (program, program_pg):
        if not os.path.exists(path):
            sys.exit(f"profile_vs_uftrace: {path} is not built")
    if not uftrace:
        sys.exit("profile_vs_uftrace: uftrace is not installed (scripts/install-deps.sh)")
    env = {**os.environ, "GROUTINES_BUILD_DIR": os.path.abspath(args.build),
           "LLDB_DEBUGSERVER_PATH": "/usr/lib/llvm-19/bin/lldb-server"}
    rounds = str(args.rounds)
    work = tempfile.mkdtemp(prefix="profile-vs-uftrace-")

    def uftrace_run(*record):
        data = os.path.join(work, "uftrace.data")
        shutil.rmtree(data, ignore_errors=True)
        wall, code, err = timed([uftrace, "record", "-d", data, *record], args.timeout)
        if wall is None or code != 0:
            return wall, code, err
        more, code, err2 = timed([uftrace, "report", "-d", data, "--no-pager"], args.timeout)
        return (wall + more if more is not None else None), code, err + err2

    def groutines_run(n):
        return timed([PYTHON, LAUNCHER, "run", "--set", "profile.functions=*", "stock:profile",
                      "--", program, n], args.timeout, env=env, cwd=work)

    runs = {
        "native": lambda: timed([program, rounds], args.timeout),
        "uftrace_pg": lambda: uftrace_run(program_pg, rounds),
        "uftrace_dynamic": lambda: uftrace_run("-P", ".", program, rounds),
        "groutines": lambda: groutines_run(rounds),
        "groutines_hooks": lambda: groutines_run("0"),
    }
    walls = {name: [] for name in runs}
    try:
        for rep in range(args.reps):
            for name, run in runs.items():
                wall, code, err = run()
                shown = "killed at the deadline" if wall is None else f"{wall:.3f} s"
                print(f"rep {rep + 1} {name:16} {shown} (exit {code})")
                if code != 0:
                    print("  " + "\n  ".join(err.strip().splitlines()[-5:]))
                walls[name].append(wall)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"manyfuncs {rounds}: 2305 functions hooked")
    for name, w in walls.items():
        done = [x for x in w if x is not None]
        print(f"median {name:16} " + (f"{statistics.median(done):.3f} s" if done else "n/a"))

    def ratio(a, b):
        pairs = [x / y for x, y in zip(walls[a], walls[b]) if x is not None and y]
        return f"{statistics.median(pairs):.1f}" if pairs else "n/a"

    print(f"groutines_over_uftrace_pg {ratio('groutines', 'uftrace_pg')}, "
          f"groutines_over_uftrace_dynamic {ratio('groutines', 'uftrace_dynamic')}, "
          f"groutines_over_native {ratio('groutines', 'native')}")


if __name__ == "__main__":
    main()
