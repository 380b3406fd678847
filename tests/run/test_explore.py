"""The stock explore groutine (groutines/stock/explore.py, docs/stock.md) as Valgrind's
Failgrind is used: run a program again and again, failing one new allocation stack per run,
until no new one is found; here on tests/targets/kvparse (-O2, no debug info), whose
kv_strdup() never checks malloc's result, through `groutines run`."""
import re

from conftest import run, target

EXPLORE = ["--set", "explore.errno=ENOMEM", "stock:explore", "--"]


def explore_until_done(cwd, functions="malloc", limit=8):
    """explore_until_done() runs explore on kvparse in cwd until a run finds no new stack;
    returns the runs, the last one that one."""
    runs = []
    while not runs or f"no new stack of {functions} this run" not in runs[-1].stderr:
        assert len(runs) < limit, f"explore never ended in {limit} runs: {runs[-1]}"
        runs.append(run("--set", f"explore.function={functions}", *EXPLORE,
                        target("kvparse"), cwd=cwd))
    return runs


def failed_key(r):
    """failed_key() is the stack the run failed, from its log line."""
    found = re.findall(r"explore: failing malloc \(ENOMEM\) at a new stack, \d+ failed so "
                       r"far: (.*)", r.stderr)
    assert len(found) == 1, r
    return found[0]


def test_explore_fails_every_allocation_stack_of_kvparse_once_and_blames_each_crash_on_it(
        tmp_path):
    runs = explore_until_done(tmp_path)
    assert len(runs) == 4, runs
    *failing, last = runs
    keys = [failed_key(r) for r in failing]
    # kv_parse_line copies the key, then the value, with kv_strdup(), which uses malloc's
    # result unchecked: two stacks, each a crash. Then printf's first call allocates stdout's
    # buffer; glibc handles that failure (stdout unbuffered) and the run ends well.
    key_site, value_site, stdio = keys
    assert key_site.startswith("kvparse`kv_strdup+") and value_site.startswith(
        "kvparse`kv_strdup+"), keys
    assert key_site != value_site, keys
    assert stdio.startswith("libc.so.6`") and "_IO_file_doallocate" in stdio, keys
    for r, key in zip(failing[:2], keys):
        assert r.code == 3, r
        assert "FAIL explore" in r.stderr and "kvparse was killed by SIGSEGV" in r.stderr, r
        site = " <- ".join(key.split(" <- ")[:3])
        assert (f"AssertionError: malloc failing (ENOMEM) at {site} <- ... was not handled: "
                "the program was killed by SIGSEGV") in r.stderr, r
        # The crash is in kv_strdup, called from the very kv_parse_line site explore failed.
        caller = key.split(" <- ")[1].replace("+", " + ")
        assert re.search(r"crash: SIGSEGV .*\n(.*\n)*.*kvparse`kv_strdup \+ \d+\n.*"
                         + re.escape(caller) + "\n", r.stderr), r
    third = failing[2]
    assert third.code == 0 and "PASS explore" in third.stderr, third
    assert third.stdout.endswith("listening on port 99999\n"), third
    assert ("; the program exited with status 0" in third.stderr
            and "kvparse`kv_parse_line+" in third.stderr), third

    # The last run fails nothing: every stack malloc is called from was failed once; it lists
    # them with how each run ended.
    assert last.code == 0 and "PASS explore" in last.stderr, last
    assert "(3 seen in " in last.stderr and "done; 2 of them unchecked" in last.stderr, last
    summary = re.findall(r"\[explore#exit\]   (.*): malloc at (.*)", last.stderr)
    assert [ended for ended, _ in summary] == ["killed by SIGSEGV", "killed by SIGSEGV",
                                               "exited with status 0"], last
    lines = (tmp_path / ".groutines-explore-malloc").read_text().splitlines()
    assert [line.split("\t") for line in lines] == [
        [key_site, "malloc", "killed by SIGSEGV"], [value_site, "malloc", "killed by SIGSEGV"],
        [stdio, "malloc", "exited with status 0"]], lines


def test_explore_of_several_functions_fails_each_new_stack_of_any_of_them(tmp_path):
    # kvparse calls no calloc or realloc: the same three stacks, in a file named after both.
    runs = explore_until_done(tmp_path, "malloc,calloc,realloc")
    assert len(runs) == 4, runs
    assert len((tmp_path / ".groutines-explore-malloc+calloc+realloc").read_text()
               .splitlines()) == 3


def test_explore_with_max_2_fails_two_new_stacks_in_a_run_and_says_how_it_ended(tmp_path):
    # runner_cases checks what acquire() returns at both its call sites.
    options = ["--set", "explore.function=acquire", "--set", "explore.max=2",
               "--set", "explore.errno=EIO", "stock:explore", "--", target("runner_cases"),
               "resources"]
    r = run(*options, cwd=tmp_path)
    assert r.code == 0 and "PASS explore" in r.stderr, r
    assert r.stdout == "site A failed: Input/output error\nsite B failed: Input/output error\n"
    for site in ("site_a", "site_b"):
        assert re.search(rf"explore: this run failed acquire \(EIO\) at runner_cases`{site}\+"
                         r"\d+ <- .*; the program exited with status 0\n", r.stderr), r
    r = run(*options, cwd=tmp_path)
    assert r.stdout == "site A ok\nsite B ok\n", r
    assert "no new stack of acquire this run (2 seen in " in r.stderr and \
        "done; 0 of them unchecked" in r.stderr, r


def test_explore_with_a_bad_option_is_a_load_error_that_names_it(tmp_path):
    r = run("--set", "explore.function=malloc", "--set", "explore.errno=ENOPE", "stock:explore",
            "--", target("kvparse"), cwd=tmp_path)
    assert r.code == 2, r
    assert "stock explore: GROUTINES_EXPLORE_ERRNO='ENOPE' is not an errno (a number, or a " \
           "name: ENOMEM)" in r.stderr, r
    r = run("--set", "explore.function=malloc", "--set", "explore.frame=4", "stock:explore",
            "--", target("kvparse"), cwd=tmp_path)
    assert r.code == 2, r
    assert "stock explore: no option explore.frame (GROUTINES_EXPLORE_FRAME); its options: " \
           "function, return, errno, file, frames, max" in r.stderr, r
    assert not (tmp_path / ".groutines-explore-malloc").exists()


def test_explore_blames_an_abort_on_the_stack_it_failed_at_each_call_site(tmp_path):
    # xacquire() aborts when acquire() fails, as xmalloc does; main calls it twice.
    options = ["--set", "explore.function=acquire", "stock:explore", "--",
               target("faults_cases_O2"), "abort"]
    runs = [run(*options, cwd=tmp_path) for _ in range(3)]
    sites = []
    for r in runs[:2]:
        assert r.code == 3 and "faults_cases_O2 was killed by SIGABRT" in r.stderr, r
        found = re.search(r"AssertionError: acquire failing at (faults_cases_O2`xacquire\+\d+ "
                          r"<- faults_cases_O2`main\+\d+) <- .* was not handled: the program "
                          r"was killed by SIGABRT", r.stderr)
        assert found, r
        sites.append(found[1])
    assert sites[0] != sites[1], sites
    assert runs[2].code == 0 and runs[2].stdout == "both acquired\n", runs[2]
    assert "done; 2 of them unchecked" in runs[2].stderr, runs[2]
    assert runs[2].stderr.count("[explore#exit]   killed by SIGABRT: acquire at ") == 2, runs[2]
