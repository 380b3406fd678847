"""Every stock groutine (groutines/stock/, docs/stock.md) on a purpose-built program, through
`groutines run`; heap and faults in both their Python and C++ versions (the heap's leak
check against Valgrind: test_heap.py)."""
import json

import pytest

from conftest import SOURCE, run, target

CASES = "runner_cases"


@pytest.mark.parametrize("heap", ["stock:heap", "stock:cpp/heap"])
def test_heap_passes_a_program_that_frees_everything(heap):
    r = run(heap, "--", target("heapbugs"), "ok")
    assert r.code == 0, r
    assert "PASS heap" in r.stderr, r


@pytest.mark.parametrize("heap", ["stock:heap", "stock:cpp/heap"])
def test_heap_reports_a_double_free_with_where_it_was_first_freed(heap):
    r = run(heap, "--", target("heapbugs"), "double")
    assert r.code == 3, r  # glibc aborts the program after the groutine saw it
    assert "double free of 0x" in r.stderr, r
    assert "first freed at free_twice at heapbugs.c:20" in r.stderr, r


@pytest.mark.parametrize("heap", ["stock:heap", "stock:cpp/heap"])
def test_heap_reports_a_free_of_a_pointer_never_allocated(heap):
    r = run(heap, "--", target("heapbugs"), "wild")
    assert "free of 0x" in r.stderr and "which was never allocated" in r.stderr, r


@pytest.mark.parametrize("heap", ["stock:heap", "stock:cpp/heap"])
def test_heap_follows_from_the_start_and_a_libraries_initialisers_are_not_leaks(heap, tmp_path):
    def mallocs(*options):
        log = tmp_path / "events.jsonl"
        r = run("--events", log, *options, heap, "--", target("unwind_exception"))
        assert r.code == 0 and "PASS heap" in r.stderr, r
        events = [json.loads(line) for line in log.read_text().splitlines()]
        return sum(e["kind"] == "call" and e["name"] == "malloc" for e in events)

    # From the start it also sees libstdc++'s emergency pool, allocated for good before main.
    assert mallocs() > mallocs("--set", "heap.start=main")


@pytest.mark.parametrize("faults", ["stock:faults", "stock:cpp/faults"])
def test_faults_fails_the_nth_call_with_a_return_value_and_errno(faults):
    r = run("--set", "faults.function=acquire", "--set", "faults.nth=2",
            "--set", "faults.errno=ENOMEM", faults, "--", target(CASES), "resources")
    assert r.code == 0, r
    assert r.stdout == "site A ok\nsite B failed: Cannot allocate memory\n", r
    assert "fault: call 2 of acquire" in r.stderr and " with errno 12" in r.stderr, r
    r = run("--set", "faults.function=acquire", "--set", "faults.errno=5", faults, "--",
            target(CASES), "resources")
    assert r.stdout.startswith("site A failed: Input/output error\n"), r


def test_faults_in_cpp_rejects_an_errno_it_does_not_know():
    r = run("--set", "faults.function=acquire", "--set", "faults.errno=ENOPE",
            "stock:cpp/faults", "--", target(CASES), "resources")
    assert r.code == 2, r
    assert "GROUTINES_FAULTS_ERRNO='ENOPE' is not an errno (a number, or a name: ENOMEM)" \
        in r.stderr, r


def test_faults_fails_the_calls_a_predicate_chooses():
    r = run("--set", "faults.function=acquire", "--set", "faults.where=a0 == 1",
            "stock:faults", "--", target(CASES), "resources")
    assert r.stdout.startswith("site A failed: "), r
    assert "site B ok" in r.stdout, r


def test_faults_fails_every_call_with_every_1_and_the_cpp_version_the_nth():
    r = run("--set", "faults.function=acquire", "--set", "faults.every=1",
            "stock:faults", "--", target(CASES), "resources")
    assert "site A failed" in r.stdout and "site B failed" in r.stdout, r
    r = run("--set", "faults.function=acquire", "--set", "faults.nth=1",
            "stock:cpp/faults", "--", target(CASES), "resources")
    assert r.code == 0, r
    assert "site A failed" in r.stdout and "site B ok" in r.stdout, r
    assert "fault: call 1 of acquire" in r.stderr, r


def test_explore_fails_each_call_stack_once_across_runs(tmp_path):
    options = ["--set", "explore.function=acquire", "--set", "explore.errno=ENOMEM",
               "stock:explore", "--", target(CASES), "resources"]
    first = run(*options, cwd=tmp_path)
    second = run(*options, cwd=tmp_path)
    third = run(*options, cwd=tmp_path)
    assert first.stdout == "site A failed: Cannot allocate memory\nsite B ok\n", first
    assert second.stdout == "site A ok\nsite B failed: Cannot allocate memory\n", second
    assert third.stdout == "site A ok\nsite B ok\n", third
    assert "no new stack of acquire this run (2 seen in" in third.stderr, third
    stacks = (tmp_path / ".groutines-explore-acquire").read_text().splitlines()
    assert [s.split(" <- ")[0].split("+")[0] for s in stacks] == [
        "runner_cases`site_a", "runner_cases`site_b"]


def test_contract_catches_a_postcondition_with_the_values_and_backtrace():
    rules = SOURCE / "groutines" / "stock" / "demo" / "kvparse.contract"
    r = run("--set", f"contract.rules=@{rules}", "stock:contract", "--", target("kvparse"))
    assert r.code == 1, r
    assert "listening on port 99999" in r.stdout, r
    assert ("parse_port: postcondition `1 <= result <= 65535` failed (result=99999)"
            in r.stderr), r
    assert "kvparse`main" in r.stderr, r


def test_contract_checks_preconditions_and_passes_rules_that_hold_on_every_thread():
    r = run("--set", "contract.rules=add pre s0 >= 0; add post result == s0 + s1",
            "stock:contract", "--", target(CASES), "threads")
    assert r.code == 0, r
    assert "PASS contract" in r.stderr, r
    r = run("--set", "contract.rules=add pre a0 > 2", "stock:contract", "--",
            target(CASES), "ok")
    assert r.code == 1, r
    assert "add: precondition `a0 > 2` failed (a0=2)" in r.stderr, r


def test_calls_logs_calls_matching_a_pattern_with_dwarf_names_and_results():
    r = run("--set", "calls.functions=fa*,add", "stock:calls", "--", target(CASES), "ok")
    assert r.code == 0, r
    logged = [line.split("] | ", 1)[1] for line in r.stderr.splitlines()
              if line.startswith("[calls] ")]
    assert logged == ["fact(n=5) {", "  fact(n=4) {", "    fact(n=3) {", "      fact(n=2) {",
                      "        fact(n=1) = 1;", "      } = 2; /* fact */",
                      "    } = 6; /* fact */", "  } = 24; /* fact */", "} = 120; /* fact */",
                      "add(a=2, b=3) = 5;"], r


def test_profile_counts_calls_and_times_them_per_function_and_thread(tmp_path):
    out = tmp_path / "profile.json"
    r = run("--set", "profile.functions=fact,add", "--set", f"profile.output={out}",
            "stock:profile", "--", target(CASES), "ok")
    assert r.code == 0, r
    assert "[profile]   Total time   Self time       Calls  Function" in r.stderr, r
    data = json.loads(out.read_text())
    (fact,) = data["fact"].values()
    (add,) = data["add"].values()
    assert fact["calls"] == 5 and add["calls"] == 1
    assert fact["total_s"] >= fact["max_s"] > 0


def test_profile_keeps_each_threads_calls_apart(tmp_path):
    out = tmp_path / "profile.json"
    r = run("--set", "profile.functions=add", "--set", f"profile.output={out}",
            "stock:profile", "--", target(CASES), "threads")
    assert r.code == 0, r
    add = json.loads(out.read_text())["add"]
    assert len(add) == 4 and all(t["calls"] == 50 for t in add.values()), add
    rows = [line for line in r.stderr.splitlines()
            if line.startswith("[profile] ") and line.endswith("  add")]
    assert len(rows) == 5, r  # all threads', then each thread's


def test_the_demo_shows_a_contract_failure_an_injected_fault_its_crash_and_a_trace():
    r = run("--trace", "/dev/null", "--set",
            f"contract.rules=@{SOURCE / 'groutines/stock/demo/kvparse.contract'}",
            "--set", "faults.function=kv_strdup", "--set", "faults.nth=7",
            "stock:contract", "stock:faults", "--", target("kvparse"))
    assert r.code == 3, r
    assert "parse_port: postcondition `1 <= result <= 65535` failed" in r.stderr, r
    assert "fault: call 7 of kv_strdup" in r.stderr, r
    assert "crash: SIGSEGV" in r.stderr and "kvparse was killed by SIGSEGV" in r.stderr, r
    assert "trace: /dev/null" in r.stderr, r


@pytest.mark.parametrize("where", ["the build CTest runs", "a build outside the source tree"])
def test_make_demo_shows_what_the_readme_shows(tmp_path, where):
    import os
    import re
    import subprocess

    from conftest import BUILD, TIMEOUT
    readme = (SOURCE / "README.md").read_text()
    shown = readme[readme.index("```text\n== groutines demo:") + len("```text\n"):]
    shown = shown[:shown.index("```")].splitlines()
    # The build CTest gives (GROUTINES_BUILD_DIR), whatever its name and place (or a link to
    # it outside the checkout, as `cmake -B /elsewhere` makes), as `make demo` names it:
    # BUILD_DIR, relative to the checkout.
    build_dir = BUILD
    if where == "a build outside the source tree":
        build_dir = tmp_path / "elsewhere"
        build_dir.symlink_to(BUILD, target_is_directory=True)
    build = os.path.relpath(build_dir, SOURCE)
    proc = subprocess.run(["bash", str(SOURCE / "scripts" / "demo.sh"), build], cwd=SOURCE,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=TIMEOUT)
    assert proc.returncode == 0, proc.stderr
    # The program's stdout and the runner's stderr, in the order a terminal shows them: the
    # program's lines first (it ends before the report), the fault's log line among them.
    # The build reads build/ in the README: as given, or absolute (the runner shows paths
    # outside the working directory so), longest first.
    out = proc.stderr
    for path in sorted({build, str(build_dir)}, key=len, reverse=True):
        out = out.replace(f"{path}/", "build/")
    out = out.splitlines()
    program = proc.stdout.splitlines()
    # README's block: stdout lines where they come, "..." for elided lines, thread ids vary,
    # and so do the addresses of libraries (the agent, preloaded, moves them).
    pattern = []
    for line in shown:
        if line.strip() == "...":
            pattern.append(r"(?:[^\n]*\n)*?")
        else:
            parts = re.split(r"(?:(?<=thread )|(?<=tid ))\d+|0x7f[0-9a-f]+", line)
            pattern.append(r"(?:\d+|0x7f[0-9a-f]+)".join(map(re.escape, parts)) + r"\n")
    readme_program = [line for line in shown if line in program]
    assert readme_program == program, (shown, program)
    runner = [line for line in shown if line not in program]
    text = "\n".join(out) + "\n"
    runner_pattern = "".join(p for line, p in zip(shown, pattern) if line not in program)
    assert re.fullmatch(runner_pattern, text), (runner, text)


def test_a_stock_groutine_works_in_plain_lldb_with_exit_fired_at_the_prompt():
    import subprocess

    from conftest import BUILD, TIMEOUT
    heap = SOURCE / "groutines" / "stock" / "heap.py"
    out = subprocess.run(
        ["lldb-19", "--batch", "--no-lldbinit",
         "-o", f"plugin load {BUILD / 'lldb_plugin' / 'libgroutines_lldb.so'}",
         "-o", f"file {target('heapbugs')}", "-o", f"groutine load {heap}",
         "-o", "run leak", "-o", "groutine fire exit", "-o", "groutine report"],
        capture_output=True, text=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL)
    text = out.stdout + out.stderr
    assert "FAIL heap (failed, 1 event)" in text, text
    assert "40 bytes in 1 blocks are definitely lost, allocated at make_leak at heapbugs.c:14" \
        in text, text


@pytest.mark.parametrize("faults", ["stock:faults", "stock:cpp/faults"])
def test_faults_with_a_missing_or_bad_option_is_a_load_error_that_names_it(faults):
    r = run(faults, "--", target(CASES), "resources")
    assert r.code == 2 and r.stdout == "", r
    assert "say which function to fail (--set faults.function=" in r.stderr, r
    r = run("--set", "faults.function=acquire", "--set", "faults.nth=x", faults, "--",
            target(CASES), "resources")
    assert r.code == 2 and r.stdout == "", r
    assert "stock faults: GROUTINES_FAULTS_NTH='x' is not an integer (--set faults.nth=N)" \
        in r.stderr, r


def test_the_python_and_cpp_heaps_together_are_told_apart_by_their_source():
    r = run("stock:heap", "stock:cpp/heap", "--", target("heapbugs"), "leak")
    assert r.code == 1, r
    assert "FAIL heap [heap.py] (failed, " in r.stderr, r
    assert "FAIL heap [libgroutine_stock_heap.so] (failed, " in r.stderr, r


@pytest.mark.parametrize("heap", ["stock:heap", "stock:cpp/heap"])
def test_heap_with_a_bad_option_is_a_load_error_that_names_it(heap):
    r = run("--set", "heap.frames=many", heap, "--", target("heapbugs"), "ok")
    assert r.code == 2 and r.stdout == "", r
    assert ("stock heap: GROUTINES_HEAP_FRAMES='many' is not an integer (--set heap.frames=N)"
            in r.stderr), r
    assert r.stderr.count("GROUTINES_HEAP_FRAMES") == 1, r  # once, not once per worker


def test_faults_in_cpp_fails_every_nth_call_and_the_calls_a_predicate_chooses():
    options = ["--set", "faults.function=acquire", "stock:cpp/faults", "--", target(CASES),
               "resources"]
    r = run("--set", "faults.every=2", *options)
    assert r.code == 0 and r.stdout.splitlines()[0] == "site A ok", r
    assert r.stdout.splitlines()[1].startswith("site B failed: "), r
    assert "[faults] fault: call 2 of acquire" in r.stderr, r
    r = run("--set", "faults.where=a0 == 1", *options)
    assert r.stdout.splitlines()[0].startswith("site A failed: ") and "site B ok" in r.stdout, r
    r = run("--set", "faults.where=i0 > -1 and i0 < 2", *options)  # int operands, signed
    assert r.stdout.splitlines()[0].startswith("site A failed: ") and "site B ok" in r.stdout, r
    r = run("--set", "faults.where=s0 >= 2 and n == 2", *options)
    assert r.stdout.startswith("site A ok\nsite B failed: "), r
    r = run("--set", "faults.where=a0 == 1 &&", *options)
    assert r.code == 2 and "GROUTINES_FAULTS_WHERE='a0 == 1 &&'" in r.stderr, r


def test_calls_follows_a_recursion_of_depth_200_to_every_return_with_spawned_children():
    # Each call has a child awaiting its return (a pool of workers would miss all but a few).
    r = run("--set", "calls.functions=triangle", "stock:calls", "--", target("recursive"),
            "1", "200")
    assert r.code == 0, r
    logged = [line.split("] | ", 1)[1] for line in r.stderr.splitlines()
              if line.startswith("[calls] ")]
    assert logged == ([f"{'  ' * (200 - n)}triangle(n={n}) {{" for n in range(200, 0, -1)] +
                      [f"{'  ' * 200}triangle(n=0) = 0;"] +
                      [f"{'  ' * (200 - n)}}} = {n * (n + 1) // 2}; /* triangle */"
                       for n in range(1, 201)]), r
    assert "PASS calls (passed, " in r.stderr, r
    # The follower of triangle and a child per call.
    assert "  children: 202 spawned, 0 failed" in r.stderr, r
    assert "missed" not in r.stderr, r



def test_profile_times_every_call_of_a_recursion_of_depth_200(tmp_path):
    out = tmp_path / "profile.json"
    r = run("--set", "profile.functions=triangle", "--set", f"profile.output={out}",
            "stock:profile", "--", target("recursive"), "1", "200")
    assert r.code == 0, r
    (triangle,) = json.loads(out.read_text())["triangle"].values()
    assert triangle["calls"] == 201, r
