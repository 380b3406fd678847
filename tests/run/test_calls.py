"""The stock calls on callgraph, at -O0 and -O2: nesting by indentation per thread as `uftrace
replay` shows it, arguments by DWARF name and type (strings as strings), return values
(strings, none for void), a library's functions by MODULE:PATTERN, and the depth and caller
filters."""
import re

import pytest

from conftest import run, target

BUILDS = ["callgraph", "callgraph_O2"]


def logged(*options, build="callgraph"):
    """logged() runs the stock calls with options on build and returns {thread: [lines]}
    (each line without the log's prefix and thread column), the threads in the order they
    first logged, and the run."""
    r = run(*options, "stock:calls", "--", target(build))
    assert r.code == 0 and "PASS calls" in r.stderr, r
    threads = {}
    for line in r.stderr.splitlines():
        m = re.match(r"^\[calls\] \[ *(\d+)\] \| (.*)$", line)
        if m:
            threads.setdefault(int(m.group(1)), []).append(m.group(2))
    return list(threads.values()), r


def parse_line(text, words, dst='""'):
    return [f'parse_line(line="{text}") {{',
            f'  shout(dst={dst}, src="{text}") = "{text.upper()}";',
            f'  count_words(text="{text.upper()}") = {words};',
            f"}} = {words}; /* parse_line */"]


@pytest.mark.parametrize("build", BUILDS)
def test_calls_nests_calls_per_thread_with_strings_in_and_out(build):
    threads, r = logged("--set", "calls.functions=parse_line,shout,count_words,greet,worker,"
                        "thread_main", build=build)
    main, *workers = threads
    dst = dsts(build)
    assert main == (parse_line("alpha beta", 2, dst[0]) + parse_line("one two three", 3, dst[1])
                    + parse_line("x", 1, dst[2])
                    + ['greet(name="world", times=1) = "hello, world";']), r
    # Each thread's calls nest on their own; worker() returns void: no value.
    assert sorted(workers) == [[f"thread_main(arg={arg}) {{", f"  worker(id={id});",
                                "} = 0x0; /* thread_main */"]
                               for arg, id in (("0x1", 1), ("0x2", 2))], r


@pytest.mark.parametrize("build", BUILDS)
def test_calls_follows_a_librarys_functions_by_module_and_pattern(build):
    threads, r = logged("--set", "calls.functions=greet,libc.so.6:strcmp", build=build)
    # Only libc's strcmp: the dynamic loader has one of its own, which it calls at start. No
    # debug info: its prototype is known (strings).
    assert threads[0] == ['greet(name="world", times=1) {', '  strcmp("world", "world") = 0;',
                          '} = "hello, world"; /* greet */'], r
    # A pattern in a library not loaded yet when the groutine loads: from main on.
    threads, r = logged("--set", "calls.functions=libc.so.6:pthread_creat?", build=build)
    assert len(threads[0]) == 2 and all(
        re.fullmatch(r"pthread_create\(.*\) = 0;", line) for line in threads[0]), r


@pytest.mark.parametrize("build", BUILDS)
def test_calls_shows_only_the_calls_within_a_depth(build):
    threads, r = logged("--set", "calls.functions=main,parse_line,shout,fib",
                        "--set", "calls.depth=2", build=build)
    (main,) = threads
    assert re.fullmatch(r"main\(argc=1, argv=0x[0-9a-f]+\) \{", main[0]), r
    assert main[1:] == ['  parse_line(line="alpha beta") = 2;',
                        '  parse_line(line="one two three") = 3;', '  parse_line(line="x") = 1;',
                        "  fib(n=6) = 8;", "} = 0; /* main */"], r


def dsts(build):
    """dsts() are the three dst strings shout() gets: parse_line() clears its buffer."""
    return ['""'] * 3


@pytest.mark.parametrize("build", BUILDS)
def test_calls_shows_only_the_calls_a_caller_made(build):
    threads, r = logged("--set", "calls.functions=shout,count_words,fib,mix",
                        "--set", "calls.caller=parse_line", build=build)
    dst = dsts(build)
    assert threads == [[f'shout(dst={dst[0]}, src="alpha beta") = "ALPHA BETA";',
                        'count_words(text="ALPHA BETA") = 2;',
                        f'shout(dst={dst[1]}, src="one two three") = "ONE TWO THREE";',
                        'count_words(text="ONE TWO THREE") = 3;',
                        f'shout(dst={dst[2]}, src="x") = "X";',
                        'count_words(text="X") = 1;']], r
    # fib() calls itself: its first call is main's, the others fib's.
    threads, r = logged("--set", "calls.functions=fib", "--set", "calls.caller=main",
                        build=build)
    assert threads == [["fib(n=6) = 8;"]], r


def test_calls_rejects_a_depth_below_1_and_a_depth_without_returns():
    r = run("--set", "calls.functions=fib", "--set", "calls.depth=0", "stock:calls", "--",
            target("callgraph"))
    assert r.code == 2 and "GROUTINES_CALLS_DEPTH='0' must be at least 1" in r.stderr, r
    r = run("--set", "calls.functions=fib", "--set", "calls.depth=2",
            "--set", "calls.returns=false", "stock:calls", "--", target("callgraph"))
    assert r.code == 2 and "calls.depth needs the returns" in r.stderr, r
