"""real_program: real programs under the stock heap groutine, against valgrind memcheck and
natively, in wall time.

Without a PROGRAM, four: `ls -l /usr/bin`, `sort /etc/passwd`, `python3 -c pass` (Debian's) and
tests/targets/heapbugs leak, each measured in turn as below (the breakpoint transport only for
a PROGRAM given: it takes a minute on ls). For each program, each repetition runs, one after
the other (so that drift of the machine hits all alike):

  native                  PROGRAM alone
  memcheck                valgrind --tool=memcheck --leak-check=full PROGRAM
  groutines_agent         scripts/groutines run --transport agent stock:heap -- PROGRAM
  groutines_cpp_agent     the same with the C++ heap, stock:cpp/heap
  groutines_breakpoint    the same with --transport breakpoint, only while its runs take less
                          than --breakpoint-limit seconds: the first that takes longer is
                          killed there and the rest are skipped (it took 61 s once)

and prints each run's wall time with its exit status and outcome (the runner's summary line
and first failure; memcheck's error and leak summaries), then the medians and the ratios, each
the median of the ratios taken within one repetition:

  groutines_agent_over_memcheck X (target <= 2)
  groutines_cpp_agent_over_memcheck X, groutines_agent_over_native X, memcheck_over_native X,
  groutines_breakpoint_over_agent X

The figures are printed whatever the runs' outcomes: a groutine failing (exit 1) is an outcome,
not an error. Last, untimed, one lldb-19 batch session with the same groutine over PROGRAM prints
`groutine subscriptions`: which transport served each allocator function, and why one fell
back, which is where the time of the agent run goes.

PROGRAM's stdout goes to /dev/null; every run has a deadline (--timeout), past which its whole
process group is killed with SIGKILL (a runner stuck inside LLDB does not act on SIGTERM).

Usage: /usr/bin/python3 bench/lldb/real_program.py BUILD_DIR [--reps N] [--timeout S]
           [--breakpoint-limit S] [--verbose] [--no-transports] [-- PROGRAM ARGS...]
"""
import argparse
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
LAUNCHER = os.path.join(ROOT, "scripts", "groutines")
HEAP = os.path.join(ROOT, "groutines", "stock", "heap.py")
LLDB = os.environ.get("GROUTINES_LLDB", "lldb-19")
SERVER = "/usr/lib/llvm-19/bin/lldb-server"
PYTHON = "/usr/bin/python3"  # the Python LLDB 19 embeds: the runner's

RUNNER_CODES = {0: "ok", 1: "a groutine failed", 2: "usage/load error", 3: "target killed by a signal",
                4: "timeout", 5: "unexpected exit status"}


class Run:
    """Run is one timed run: wall seconds (None when killed at its deadline), exit status, output."""

    def __init__(self, wall, code, stderr):
        self.wall = wall
        self.code = code
        self.stderr = stderr


def timed(argv, env, timeout):
    """timed() runs argv in a session of its own, stdout to /dev/null, and returns a Run; past
    timeout seconds the session's process group is killed."""
    with tempfile.TemporaryFile("w+") as err:
        start = time.monotonic()
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=err, env=env, start_new_session=True)
        try:
            code = proc.wait(timeout=timeout)
            wall = time.monotonic() - start
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            code = proc.wait()
            wall = None
        err.seek(0)
        return Run(wall, code, err.read())


def first(pattern, text, default=""):
    found = re.search(pattern, text, re.M)
    return found.group(0).strip() if found else default


def outcome(kind, run):
    """outcome() says how a run ended, in one line."""
    if run.wall is None:
        return f"killed at its deadline (exit {run.code})"
    if kind == "native":
        return f"exit {run.code}"
    if kind == "memcheck":
        errors = first(r"ERROR SUMMARY: .*", run.stderr, "no ERROR SUMMARY")
        lost = first(r"definitely lost: .*", run.stderr, "definitely lost: 0 (all freed)")
        return f"exit {run.code}; {errors}; {lost}"
    summary = first(r"^\d+ passed, .*", run.stderr, "no summary line")
    leaks = first(r"\[heap\] leak summary: definitely lost: [^;]*", run.stderr)
    if leaks:
        summary += "; " + leaks[len("[heap] leak summary: "):]
    failure = first(r"^  \S+:\d+: .*", run.stderr)
    text = f"exit {run.code} ({RUNNER_CODES.get(run.code, '?')}); {summary}"
    if failure:
        text += f"; first failure: {failure[:160]}{'...' if len(failure) > 160 else ''}"
    return text


def transports(build, program, env, timeout):
    """transports() runs program under lldb-19 in batch mode with the heap groutine on the agent
    transport and returns what `groutine subscriptions` printed at its end."""
    plugin = os.path.join(build, "lldb_plugin", "libgroutines_lldb.so")
    path = shutil.which(program[0]) or program[0]
    with tempfile.NamedTemporaryFile("w", suffix=".lldb", delete=False) as script:
        script.write("\n".join([
            f"plugin load {plugin}", "groutine transport agent", f"groutine load {HEAP}",
            "process launch -o /dev/null -- " + " ".join(program[1:]),
            "groutine subscriptions"]) + "\n")
    try:
        proc = subprocess.run([LLDB, "--batch", "--no-lldbinit", "-s", script.name, path],
                              capture_output=True, text=True, env=env, timeout=timeout,
                              stdin=subprocess.DEVNULL, start_new_session=True)
    except subprocess.TimeoutExpired:
        return f"(the session did not end within {timeout} s)"
    finally:
        os.unlink(script.name)
    out = proc.stdout
    at = out.rfind("(lldb) groutine subscriptions")
    return out[at:].split("\n", 1)[1].rstrip() if at >= 0 else out + proc.stderr


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("build", help="the build directory (make bench: build-bench)")
    parser.add_argument("--reps", type=int, default=3, help="repetitions (default 3)")
    parser.add_argument("--timeout", type=float, default=300, help="deadline of one run (s)")
    parser.add_argument("--breakpoint-limit", type=float, default=90,
                        help="the breakpoint transport runs only while a run takes less (s)")
    parser.add_argument("--verbose", action="store_true", help="print each run's stderr")
    parser.add_argument("--no-transports", action="store_true",
                        help="skip the untimed lldb session showing each function's transport")
    parser.add_argument("program", nargs="*", help="-- PROGRAM ARGS (default: four programs)")
    # (argparse gives "build" and the optional "program" the first positional word together:
    # what follows "--" comes back unparsed.)
    args, rest = parser.parse_known_args()
    if rest and (rest[0] != "--" or args.program):
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    args.program = args.program or rest[1:]
    build = os.path.abspath(args.build)
    programs = [args.program] if args.program else [
        ["ls", "-l", "/usr/bin"], ["sort", "/etc/passwd"], ["/usr/bin/python3", "-c", "pass"]]
    heapbugs = os.path.join(build, "tests", "targets", "heapbugs")
    if not args.program and os.path.exists(heapbugs):
        programs.append([heapbugs, "leak"])
    elif not args.program:  # make bench builds without the tests and their targets
        print(f"real_program: {heapbugs} not built (a build with tests has it): not measured")
    for tool in ("valgrind", LLDB, *(p[0] for p in programs)):
        if not shutil.which(tool):
            raise RuntimeError(f"{tool} is not installed (scripts/install-deps.sh installs valgrind "
                               "and LLDB)")
    env = dict(os.environ, GROUTINES_BUILD_DIR=build)
    env.setdefault("LLDB_DEBUGSERVER_PATH", SERVER)
    ratios = []
    for number, program in enumerate(programs):
        ratios.append(measure(args, build, env, program, number + 3,
                              breakpoint=bool(args.program)))
    if len(programs) > 1:
        for program, value in zip(programs, ratios):
            shown = f"{value:.2f}" if value is not None else "?"
            print(f"groutines_agent_over_memcheck {shown}: {' '.join(program)}")


def measure(args, build, env, program, number, breakpoint):
    """measure() times program as the docstring says and returns the agent's ratio over
    memcheck (None without samples)."""
    runs = {
        "native": program,
        "memcheck": ["valgrind", "--tool=memcheck", "--leak-check=full"] + program,
        "groutines_agent": [PYTHON, LAUNCHER, "run", "--transport", "agent", "stock:heap", "--"]
        + program,
        "groutines_cpp_agent": [PYTHON, LAUNCHER, "run", "--transport", "agent", "stock:cpp/heap",
                                "--"] + program,
        "groutines_breakpoint": [PYTHON, LAUNCHER, "run", "--transport", "breakpoint",
                                 "stock:heap", "--"] + program,
    }
    if not breakpoint:
        del runs["groutines_breakpoint"]
    print(f"# {number}. a real program: {' '.join(program)}")
    samples = {name: [] for name in runs}
    skipped = None
    for rep in range(args.reps):
        for name, argv in runs.items():
            if name == "groutines_breakpoint" and skipped:
                continue
            limit = args.breakpoint_limit if name == "groutines_breakpoint" else args.timeout
            run = timed(argv, env, limit)
            if name == "groutines_breakpoint" and run.wall is None:
                skipped = (f"groutines_breakpoint skipped: run {rep + 1} took more than "
                           f"{limit:.0f} s and was killed")
            shown = f"{run.wall:.2f} s" if run.wall is not None else f"> {limit:.0f} s"
            print(f"  run {rep + 1} {name}: {shown}: {outcome(name.split('_')[0], run)}",
                  flush=True)
            if args.verbose and run.stderr:
                print("    " + run.stderr.rstrip().replace("\n", "\n    "))
            if run.wall is not None:
                samples[name].append(run.wall)
    for name, values in samples.items():
        if values:
            print(f"{name}_s {statistics.median(values):.3f}  (median of {len(values)}: "
                  f"{' '.join(f'{v:.2f}' for v in values)})")
    if skipped:
        print(skipped)

    def ratio(a, b):
        pairs = [x / y for x, y in zip(samples.get(a, []), samples.get(b, [])) if y > 0]
        return statistics.median(pairs) if pairs else None

    agent_over_memcheck = ratio("groutines_agent", "memcheck")
    if agent_over_memcheck is not None:
        print(f"groutines_agent_over_memcheck {agent_over_memcheck:.2f} (target <= 2): "
              f"{'met' if agent_over_memcheck <= 2 else 'NOT met'}")
    for a, b in (("groutines_cpp_agent", "memcheck"), ("groutines_agent", "native"),
                 ("memcheck", "native"),
                 ("groutines_breakpoint", "groutines_agent")):
        value = ratio(a, b)
        if value is not None:
            print(f"{a}_over_{b} {value:.2f}")
    if not args.no_transports:
        print("transports in an lldb-19 session with stock heap on the agent transport "
              "(untimed):")
        print("  " + transports(build, program, env, args.timeout).replace("\n", "\n  "))
    return agent_over_memcheck


if __name__ == "__main__":
    try:
        main()
    except RuntimeError as e:
        print(f"error: real_program: {e}", file=sys.stderr)
        sys.exit(1)
