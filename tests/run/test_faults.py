"""The controls of the stock faults groutine (groutines/stock/faults.py, docs/stock.md) as
libfiu's users expect them, through `groutines run` on tests/targets/faults_cases (-O0 with
DWARF, -O2 without): a seeded probability, a caller anywhere in the backtrace, a thread, the
Nth to Mth calls, errno by name, and the errors of bad options. Each holds for both
implementations, the Python one (stock:faults) and the C++ one (stock:cpp/faults,
groutines/stock/cpp/faults.cpp), with the same messages; the same seed fails the same calls in
both. The program prints which of its calls failed ('.' got its buffer, 'x' failed)."""
import re

import pytest

from conftest import run, target

BUILDS = ["faults_cases", "faults_cases_O2"]


TRANSPORTS = ["agent", "breakpoint"]

IMPLEMENTATIONS = ["stock:faults", "stock:cpp/faults"]

# Every test takes the implementation it runs (stock:faults or stock:cpp/faults) as `stock`.
both = pytest.mark.parametrize("stock", IMPLEMENTATIONS)


def faults(stock, *options, program="faults_cases", args=("calls", "20"), transport="auto"):
    """faults() runs stock (stock:faults or stock:cpp/faults) on acquire() of program with
    options (KEY=VALUE)."""
    sets = [arg for option in ("function=acquire", *options)
            for arg in ("--set", f"faults.{option}")]
    return run("--transport", transport, *sets, stock, "--", target(program), *args)


def failed_calls(r):
    """failed_calls() is the numbers of the calls the log says failed."""
    return [int(n) for n in re.findall(r"fault: call (\d+) of acquire", r.stderr)]


def pattern(r):
    """pattern() is the line of '.' and 'x' that `faults_cases calls N` printed."""
    assert r.code == 0, r
    return r.stdout.splitlines()[0]


@both
def test_a_probability_with_a_seed_fails_the_same_calls_in_every_run_and_every_build(stock):
    first = faults(stock, "probability=0.3", "seed=7")
    again = faults(stock, "probability=0.3", "seed=7")
    optimised = faults(stock, "probability=0.3", "seed=7", program="faults_cases_O2")
    assert pattern(first) == pattern(again) == pattern(optimised), (first, again, optimised)
    line = pattern(first)
    assert 0 < line.count("x") < len(line), first
    assert failed_calls(first) == [i + 1 for i, c in enumerate(line) if c == "x"], first
    assert "(probability 0.3, seed 7)" in first.stderr, first
    other = faults(stock, "probability=0.3", "seed=8")
    assert pattern(other) != line, other


@pytest.mark.parametrize("seed", ["7", "25", "-3", "123456789012"])
def test_the_same_seed_fails_the_same_calls_in_the_python_and_the_cpp_implementations(seed):
    python, cpp = (faults(stock, "probability=0.4", f"seed={seed}", args=("calls", "40"))
                   for stock in IMPLEMENTATIONS)
    assert pattern(python) == pattern(cpp), (python, cpp)
    assert 0 < pattern(python).count("x") < 40, python
    assert failed_calls(python) == failed_calls(cpp), (python, cpp)
    # The same lines, but for the groutine's name: [faults#acquire] and [faults].
    assert (re.findall(r"\] (fault: .*)", python.stderr)
            == re.findall(r"\] (fault: .*)", cpp.stderr)), (python, cpp)


@both
def test_a_probability_without_a_seed_shows_the_seed_that_repeats_the_run(stock):
    r = faults(stock, "probability=0.5", args=("calls", "30"))
    seeds = set(re.findall(r"\(probability 0\.5, seed (\d+)\)", r.stderr))
    assert len(seeds) == 1, r
    again = faults(stock, "probability=0.5", f"seed={seeds.pop()}", args=("calls", "30"))
    assert pattern(again) == pattern(r), (r, again)


@both
def test_probability_0_fails_no_call_and_1_every_call(stock):
    assert pattern(faults(stock, "probability=0")) == "." * 20
    assert pattern(faults(stock, "probability=1")) == "x" * 20


@both
@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("program", BUILDS)
def test_a_caller_anywhere_in_the_backtrace_chooses_the_calls(stock, program, transport):
    def faults_in(*options):
        return faults(stock, *options, program=program, args=("callers",), transport=transport)

    # acquire()'s direct caller is read_file() for both; load_cache() is one frame further.
    r = faults_in("caller=load_cache", "errno=ENOSPC")
    assert r.code == 0, r
    assert r.stdout == "config ok\ncache failed: No space left on device\n", r
    assert "from read_file" in r.stderr and "<- load_cache" in r.stderr, r
    r = faults_in("caller=read_file", "errno=ENOSPC")
    assert r.stdout == ("config failed: No space left on device\n"
                        "cache failed: No space left on device\n"), r
    r = faults_in("caller=load_c*", "nth=2", "errno=ENOSPC")
    assert r.stdout == "config ok\ncache failed: No space left on device\n", r
    r = faults_in("caller=load_nothing,parse_*")
    assert r.stdout == "config ok\ncache ok\n", r
    assert "fault:" not in r.stderr, r


@both
@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("program", BUILDS)
def test_a_thread_by_name_or_main_chooses_the_calls_and_the_nth_counts_its_calls(stock,
                                                                                program,
                                                                                transport):
    def faults_in(*options, calls="5"):
        return faults(stock, *options, program=program, args=("threads", calls),
                      transport=transport)

    r = faults_in("thread=worker-2")
    assert r.code == 0, r
    assert r.stdout == "main .....\nworker-1 .....\nworker-2 xxxxx\nworker-3 .....\n", r
    assert len(re.findall(r"on thread \d+ \('worker-2'\) returns 0, from ", r.stderr)) == 5, r
    r = faults_in("thread=worker-[3]", "nth=2..3")
    assert r.stdout == "main .....\nworker-1 .....\nworker-2 .....\nworker-3 .xx..\n", r
    r = faults_in("thread=main")
    assert r.stdout == "main xxxxx\nworker-1 .....\nworker-2 .....\nworker-3 .....\n", r
    main_thread = re.findall(r"on thread (\d+) \('faults_cases(?:_O2)?'\) returns", r.stderr)
    assert len(main_thread) == 5 and len(set(main_thread)) == 1, r
    r = faults_in("thread=1", calls="2")  # an id: no such thread
    assert "x" not in r.stdout and "fault:" not in r.stderr, r


@both
def test_several_functions_fail_each_its_own_calls_and_max_counts_over_all_of_them(stock):
    def faults_of(*options):
        sets = [arg for option in ("function=load_config, load_cache", "return=5", *options)
                for arg in ("--set", f"faults.{option}")]
        return run(*sets, stock, "--", target("faults_cases"), "callers")

    r = faults_of()
    assert r.stdout == ("config failed: Input/output error\n"
                        "cache failed: Input/output error\n"), r
    assert "fault: call 1 of load_config" in r.stderr, r
    assert "fault: call 1 of load_cache" in r.stderr, r
    r = faults_of("max=1")
    assert r.stdout == "config failed: Input/output error\ncache ok\n", r


@both
def test_the_nth_to_the_mth_calls_fail_and_n_dot_dot_fails_from_the_nth_on(stock):
    assert pattern(faults(stock, "nth=3..5", args=("calls", "8"))) == "..xxx..."
    assert pattern(faults(stock, "nth=6..", args=("calls", "8"))) == ".....xxx"
    assert pattern(faults(stock, "nth=4", args=("calls", "8"))) == "...x...."
    assert pattern(faults(stock, "nth=2..", "every=3", args=("calls", "8"))) == "..x..x.."
    assert pattern(faults(stock, "nth=2..7", "max=2", args=("calls", "8"))) == ".xx....."


@pytest.mark.parametrize("errno, text", [("EIO", "Input/output error"),
                                         ("enospc", "No space left on device"),
                                         ("12", "Cannot allocate memory"),
                                         ("EWouldBlock", "Resource temporarily unavailable")])
@both
def test_errno_by_name_or_number_is_what_the_caller_reads(stock, errno, text):
    r = faults(stock, "nth=2", f"errno={errno}", args=("calls", "3"))
    assert r.stdout == f".x.\nerrno: {text}\n", r


@both
def test_the_log_names_the_errno(stock):
    r = faults(stock, "nth=1", "errno=EIO", args=("calls", "1"))
    assert "fault: call 1 of acquire (#1) returns 0 with errno 5 (EIO), from take at " \
        "faults_cases.c:" in r.stderr, r


@both
@pytest.mark.parametrize("errno", ["ENOPE", "EIOX", "errorcode", "-1", "4096"])
def test_a_bad_errno_is_a_load_error_that_names_it(stock, errno):
    r = faults(stock, f"errno={errno}")
    assert r.code == 2, r
    assert (f"stock faults: GROUTINES_FAULTS_ERRNO='{errno}' is not an errno (a number, or a "
            "name: ENOMEM)") in r.stderr, r
    assert r.stdout == "", r  # the program never ran


@pytest.mark.parametrize("option, message", [
    ("probability=1.5", "GROUTINES_FAULTS_PROBABILITY='1.5' is not a probability (a number "
                        "from 0 to 1: 0.05)"),
    ("probability=often", "GROUTINES_FAULTS_PROBABILITY='often' is not a probability"),
    ("nth=5..2", "GROUTINES_FAULTS_NTH='5..2' is not an integer (--set faults.nth=N) or a "
                 "range of calls (N..M or N.., from 1: 3..5)"),
    ("nth=0", "GROUTINES_FAULTS_NTH='0' is not an integer"),
    ("every=0", "GROUTINES_FAULTS_EVERY='0' is not a positive integer"),
    ("seed=abc", "GROUTINES_FAULTS_SEED='abc' is not an integer (--set faults.seed=N)"),
    ("probabilty=0.5", "no option faults.probabilty (GROUTINES_FAULTS_PROBABILTY); its "
                       "options: function, caller, thread, nth, every, probability, seed, "
                       "where, return, errno, max"),
])
@both
def test_a_bad_option_value_is_a_load_error_that_names_it(stock, option, message):
    r = faults(stock, option)
    assert r.code == 2, r
    assert "error: groutines run: groutine load: " in r.stderr, r
    assert f"stock faults: {message}" in r.stderr, r
    assert r.stdout == "", r
