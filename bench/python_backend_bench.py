"""python_backend_bench: the cost of one call delivered through a Backend implemented in
Python (pybind11 trampolines, tests/python/pure_backend.py) against the C++ scripted target
(groutines.testing.Target), with the same Python groutine, and with a C++ groutine (the
add-counter of libgroutine_events.so) to show the trampolines' own share.

    PYTHONPATH=build/python GROUTINES_EXAMPLES=build/groutines \\
        /usr/bin/python3 bench/python_backend_bench.py [calls]

Prints microseconds per delivered call (the call only: nobody awaits the returns)."""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "python"))

import groutines as g  # noqa: E402
from groutines.testing import Target  # noqa: E402
from pure_backend import PureFrame, PureTarget  # noqa: E402

CALLS = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
LIBRARY = os.path.join(os.environ.get("GROUTINES_EXAMPLES", "build/groutines"),
                       "libgroutine_events.so")


async def reader():
    async for call in g.calls("add"):
        call.arg(0)


def per_call(run):
    start = time.perf_counter()
    run()
    return (time.perf_counter() - start) / CALLS * 1e6


def scripted(load):
    with Target() as t:
        load(t)

        def run():
            for _ in range(CALLS):
                t.call(1, "add", args=[1, 2])
                t.ret(1, 3)
        return per_call(run)


def pure(load, direct=False):
    t = PureTarget()
    try:
        load(t)
        if not direct:
            def run():
                for _ in range(CALLS):
                    t.call(1, "add", args=[1, 2])
                    t.ret(1, 3)
            return per_call(run)
        # The host's own bookkeeping left out: deliver_call() alone, one frame reused.
        [fid] = t.backend.hooks
        frame = PureFrame("add", args=[1, 2])
        deliver = t.host.deliver_call
        return per_call(lambda: [deliver(fid, 1, frame) for _ in range(CALLS)])
    finally:
        t.close()


def main():
    rows = [
        ("Python groutine, C++ scripted target", scripted(lambda t: t.load(reader))),
        ("Python groutine, Python backend", pure(lambda t: t.host.load(reader))),
        ("Python groutine, Python backend, deliver_call only",
         pure(lambda t: t.host.load(reader), direct=True)),
    ]
    if os.path.exists(LIBRARY):
        rows += [
            ("C++ groutine, Python backend", pure(lambda t: t.host.load_library(LIBRARY))),
            ("C++ groutine, Python backend, deliver_call only",
             pure(lambda t: t.host.load_library(LIBRARY), direct=True)),
        ]
    else:
        print(f"({LIBRARY} not built: C++ groutine rows left out)")
    for label, us in rows:
        print(f"{label:<52} {us:7.2f} us per call")


if __name__ == "__main__":
    main()
