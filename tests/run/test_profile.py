"""The stock profile beside uftrace: the same call counts per function as `uftrace record` /
`uftrace report` on the same program built with -pg, for every function of the executable
(thousands of them in manyfuncs), on the agent transport; tables in uftrace's columns."""
import json
import re
import shutil
import subprocess

import pytest

from conftest import run, target

UFTRACE = shutil.which("uftrace")
needs_uftrace = pytest.mark.skipif(UFTRACE is None, reason="uftrace is not installed "
                                   "(scripts/install-deps.sh installs it)")
ROW = re.compile(r"^\s*([\d.]+) +(us|ms|s)\s+([\d.]+) +(us|ms|s)\s+(\d+)\s+(\S.*)$")
CALLGRAPH = ["main", "iterations", "parse_line", "shout", "count_words", "fib",
             "thread_main", "worker", "mix", "greet"]


def uftrace_counts(program, *args, cwd):
    """uftrace_counts() records program with uftrace and returns {function: calls} from
    `uftrace report`."""
    data = str(cwd / "uftrace.data")
    subprocess.run([UFTRACE, "record", "-d", data, program, *args], check=True,
                   capture_output=True, timeout=120)
    report = subprocess.run([UFTRACE, "report", "-d", data, "--no-pager"], check=True,
                            capture_output=True, text=True, timeout=120).stdout
    counts = {}
    for line in report.splitlines():
        m = ROW.match(line)
        if m:
            counts[m.group(6)] = int(m.group(5))
    assert counts, report
    return counts


def profile_counts(program, *args, cwd, functions="*"):
    """profile_counts() runs the stock profile on program and returns ({function: calls}
    summed over threads, the run, the JSON)."""
    out = cwd / "profile.json"
    r = run("--set", f"profile.functions={functions}", "--set", f"profile.output={out}",
            "stock:profile", "--", program, *args, timeout=300)
    assert r.code == 0 and "PASS profile" in r.stderr, r
    data = json.loads(out.read_text())
    return {f: sum(t["calls"] for t in threads.values()) for f, threads in data.items()}, r, data


@needs_uftrace
@pytest.mark.parametrize("build", ["callgraph", "callgraph_O2"])
def test_profile_counts_every_call_of_every_function_as_uftrace_does(build, tmp_path):
    theirs = uftrace_counts(target(build + "_pg"), cwd=tmp_path)
    ours, r, data = profile_counts(target(build), cwd=tmp_path)
    program = [f for f in CALLGRAPH if build == "callgraph" or f != "iterations"]
    assert {f: ours.get(f) for f in program} == {f: theirs.get(f) for f in program}, r
    assert theirs["fib"] == (25 if build == "callgraph" else 13), theirs
    assert theirs["mix"] == 30, theirs
    # Per thread: the two workers' mix() calls apart, 10 and 20.
    assert sorted(t["calls"] for t in data["mix"].values()) == [10, 20], data["mix"]


@needs_uftrace
def test_profile_hooks_thousands_of_functions_with_the_counts_of_uftrace(tmp_path):
    theirs = uftrace_counts(target("manyfuncs_pg"), "4", cwd=tmp_path)
    program = {f: n for f, n in theirs.items()
               if f == "main" or f.startswith(("leaf_", "group_"))}
    assert len(program) == 2305, sorted(set(theirs) - set(program))
    ours, r, _ = profile_counts(target("manyfuncs"), "4", cwd=tmp_path)
    assert {f: ours.get(f) for f in program} == program, r


def test_profile_tables_read_like_uftrace_report_sorted_by_total_time_then_per_thread():
    r = run("--set", "profile.functions=parse_line,shout,count_words,worker,mix",
            "stock:profile", "--", target("callgraph"))
    assert r.code == 0, r
    lines = [line[len("[profile] "):] for line in r.stderr.splitlines()
             if line.startswith("[profile] ")]
    assert lines[0] == "  Total time   Self time       Calls  Function", lines
    assert lines[1] == "  " + "  ".join(["=" * 10] * 3 + ["=" * 20]), lines
    rows = [ROW.match(line) for line in lines[2:7]]
    assert all(rows), lines
    assert sorted((m.group(6), int(m.group(5))) for m in rows) == [
        ("count_words", 3), ("mix", 30), ("parse_line", 3), ("shout", 3), ("worker", 2)]
    seconds = [float(m.group(1)) * {"us": 1e-6, "ms": 1e-3, "s": 1}[m.group(2)] for m in rows]
    assert seconds == sorted(seconds, reverse=True), lines
    # Three threads made calls: one table each after the overall one.
    assert sum(line.startswith("thread ") for line in lines) == 3, lines


def test_profile_self_time_is_the_total_less_the_hooked_callees(tmp_path):
    out = tmp_path / "profile.json"
    r = run("--set", "profile.functions=parse_line,shout,count_words",
            "--set", f"profile.output={out}", "stock:profile", "--", target("callgraph"))
    assert r.code == 0, r
    data = {f: next(iter(t.values())) for f, t in json.loads(out.read_text()).items()}
    for leaf in ("shout", "count_words"):
        assert data[leaf]["self_s"] == pytest.approx(data[leaf]["total_s"]), data
    inner = data["shout"]["total_s"] + data["count_words"]["total_s"]
    assert data["parse_line"]["self_s"] == pytest.approx(
        data["parse_line"]["total_s"] - inner), data


def test_profile_rejects_an_unknown_sort_key_and_a_pattern_nothing_matches():
    r = run("--set", "profile.functions=fib", "--set", "profile.sort=speed", "stock:profile",
            "--", target("callgraph"))
    assert r.code == 2, r
    assert "GROUTINES_PROFILE_SORT='speed' is not one of total, self, call, func" in r.stderr, r
    r = run("--set", "profile.functions=nothing_*", "stock:profile", "--", target("callgraph"))
    assert r.code == 2, r
    assert "stock profile: no function matches nothing_*" in r.stderr, r


def test_profile_counts_a_recursions_time_once_in_its_total_as_uftrace_does(tmp_path):
    out = tmp_path / "profile.json"
    r = run("--set", "profile.functions=fib", "--set", f"profile.output={out}",
            "stock:profile", "--", target("callgraph"))
    assert r.code == 0, r
    (fib,) = json.loads(out.read_text())["fib"].values()
    # 25 calls, one outermost: the total is its time, which is all fib's own.
    assert fib["calls"] == 25, fib
    assert fib["total_s"] == pytest.approx(fib["self_s"]) and fib["max_s"] == fib["total_s"], fib


def test_profile_leaves_the_trace_a_slice_for_every_call(tmp_path):
    trace = tmp_path / "trace.json"
    r = run("--trace", trace, "--set", "profile.functions=*", "stock:profile", "--",
            target("callgraph"))
    assert r.code == 0, r
    data = json.loads(trace.read_text())
    events = data["traceEvents"] if isinstance(data, dict) else data
    slices = [e["name"] for e in events if e.get("ph") == "X"]
    assert slices.count("fib") == 25 and slices.count("mix") == 30, slices


def test_profile_hooks_no_name_lldb_makes_up_for_a_stripped_programs_code():
    # process_cases_stripped has no symbol table: LLDB names its code from the unwind info
    # (___lldb_unnamed_symbol7), names every module numbers on its own, which a hook by name
    # would plant in all of them (python3 -c pass crashed so, in libc's lazy binding).
    r = run("--set", "profile.functions=*", "stock:profile", "--",
            target("process_cases_stripped"))
    assert r.code == 2, r
    assert "stock profile: no function matches *" in r.stderr, r
