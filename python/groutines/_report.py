"""The report of a `groutines run`: the groutines' results read from the runtime, how the
target ended (Outcome), the exit code, the text report and the JUnit file."""
import datetime
import os
import re
import xml.etree.ElementTree as ET

from ._driver import UsageError
from ._files import write_output

__all__ = ["EXIT_OK", "EXIT_FAILED", "EXIT_USAGE", "EXIT_CRASHED", "EXIT_TIMEOUT", "EXIT_STATUS"]

EXIT_OK = 0        # the target exited with the expected status, no groutine failed
EXIT_FAILED = 1    # a groutine failed
EXIT_USAGE = 2     # bad command line, a groutine that does not load, a program that won't start
EXIT_CRASHED = 3   # the target was killed by a signal (a crash on any thread)
EXIT_TIMEOUT = 4   # --timeout expired; the report says what every groutine waited on
EXIT_STATUS = 5    # the target exited with another status than --expect-status (0)

# A groutine named "NAME#N" is worker N of the logical groutine NAME (stock groutines use a
# pool of workers to follow calls that overlap): the report shows one line per NAME.
_WORKER = re.compile(r"^(.+?)#[\w.-]+$")


def logical_name(name):
    """logical_name() is the name the report shows for groutine name: NAME for "NAME#N"."""
    m = _WORKER.match(name)
    return m.group(1) if m else name


class Result:
    """Result is one groutine of the report: the loaded groutines named NAME or NAME#...
    (the workers of a pool), from one source."""

    def __init__(self, name, source):
        self.name = name
        self.source = source
        self.events = 0
        self.states = []
        self.waiting_on = []
        self.failures = []
        self.spawned = 0          # children its groutines spawned
        self.children_failed = 0  # of those that ended, the ones that failed
        self.missed = {}          # function -> calls its streams missed while busy

    @property
    def status(self):
        if any(f for f in self.failures):
            return "failed"
        if self.events == 0:
            return "never triggered"
        return "passed"


def collect(runtime):
    """collect() groups the runtime's groutines into Results, in load order, each failure with
    the backtrace the runtime recorded of the thread whose event it was handling. Spawned
    children count under the groutine that was loaded: their failures (those of ended children
    are in their parent's) and their events (those of ended ones, counted in their parent's),
    not their states."""
    results = {}
    by_id = {}  # a spawned child is reported under the groutine loaded (its root ancestor)
    for g in runtime.groutines():
        if g.get("parent") in by_id:
            r = by_id[g["id"]] = by_id[g["parent"]]
            r.events += g["events_handled"]
        else:
            name = logical_name(g["name"])
            r = results.get((g["source"], name))
            if r is None:
                r = results[(g["source"], name)] = Result(name, g["source"])
            by_id[g["id"]] = r
            r.events += g["events_handled"]
            r.states.append(g["state"])
            if g["state"] == "waiting" and g["waiting_on"] not in r.waiting_on:
                r.waiting_on.append(g["waiting_on"])
        children = g.get("children") or {}
        r.spawned += children.get("spawned", 0)
        r.events += children.get("events", 0)
        r.children_failed += children.get("failed", 0)
        for function, n in (g.get("missed") or {}).items():
            r.missed[function] = r.missed.get(function, 0) + n
        for f in g["failures"]:
            f = dict(f)
            if not any(f["message"] == o["message"] and f["line"] == o["line"]
                       for o in r.failures):  # workers of a pool fail alike
                r.failures.append(f)
    return list(results.values())


def check_started(runtime):
    """check_started() raises UsageError when a groutine failed as it was loaded, before the
    program ran (a missing or bad option of a C++ stock groutine, a REQUIRE before its first
    wait): a groutine that cannot start is a load error, as a script that does not import."""
    problems = {}  # (groutine, message) -> the line saying it
    for g in runtime.groutines():
        name = logical_name(g["name"])
        for f in g["failures"]:
            # The workers of a pool fail alike (at one line or another).
            problems.setdefault((name, f["message"]), (
                f"{name} ({os.path.basename(g['source'])}) failed as it started: "
                f"{shown_path(f['file'])}:{f['line']}: {_printable(f['message'])}"))
    if problems:
        raise UsageError("groutine load: " + "\n  ".join(problems.values()))


class Outcome:
    """Outcome is how the target's run ended."""

    def __init__(self):
        self.exit_status = None   # exited with this status
        self.signal = None        # killed by this signal (name)
        self.crash = None         # (description, [backtrace lines]) at the fatal signal
        self.timed_out = False
        self.waits = []           # at a timeout: what each thread of the target was doing
        self.stops = []           # stop requests by groutines
        self.error = None         # launch error text

    def describe(self, program):
        if self.error:
            return f"{program} did not run: {self.error}"
        if self.timed_out:
            return f"{program} was stopped: timed out"
        if self.signal:
            return f"{program} was killed by {self.signal}"
        if self.exit_status is not None:
            return f"{program} exited with status {self.exit_status}"
        return f"{program}: the run ended without an exit status"


def exit_code(outcome, results, expect_status):
    """exit_code() is the runner's exit code: the first of usage/launch error, timeout,
    crash, failed groutine, unexpected exit status that applies, else EXIT_OK."""
    if outcome.error:
        return EXIT_USAGE
    if outcome.timed_out:
        return EXIT_TIMEOUT
    if outcome.signal:
        return EXIT_CRASHED
    if any(r.status == "failed" for r in results):
        return EXIT_FAILED
    if outcome.exit_status != expect_status:
        return EXIT_STATUS
    return EXIT_OK


def _plural(n, word):
    return f"{n} {word}{'' if n == 1 else 's'}"


def shown_path(path):
    """shown_path() is path as the report shows it: relative to the working directory when
    it lies under it (groutines/stock/heap.py:130), else as it is."""
    try:
        if os.path.isabs(path):
            relative = os.path.relpath(path)
            if not relative.startswith(".." + os.sep) and relative != "..":
                return relative
    except ValueError:
        pass
    return path


_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f]")


def _printable(text):
    """_printable() is text with control characters but newlines and tabs shown as \\xNN:
    a failure message holding what the target had in memory cannot drive the terminal."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def _ended(failure):
    """_ended() is what the report says after a failure: which groutine it ended, if any, and
    the spawned child it happened in."""
    child = failure.get("groutine")
    if child:
        return f" (ended child {child})" if failure.get("fatal") else f" (in child {child})"
    return " (ended it)" if failure.get("fatal") else ""


def render_report(results, outcome, program, options):
    """render_report() is the text report (docs/run.md, "The report")."""
    out = []
    names = [r.name for r in results]
    for r in results:
        label = {"passed": "PASS", "failed": "FAIL", "never triggered": "NONE"}[r.status]
        # Groutines of one name from several sources (stock:heap and stock:cpp/heap) say which.
        name = r.name if names.count(r.name) == 1 else f"{r.name} [{os.path.basename(r.source)}]"
        line = f"{label} {name} ({r.status}, {_plural(r.events, 'event')})"
        if outcome.timed_out and r.waiting_on:
            line += " waiting on " + ", ".join(r.waiting_on)
        out.append(line)
        if r.spawned:
            out.append(f"  children: {r.spawned} spawned, {r.children_failed} failed")
        for function, n in r.missed.items():
            out.append(f"  missed {_plural(n, 'call')} of {function} "
                       f"(busy when {'it' if n == 1 else 'they'} came)")
        for f in r.failures:
            message = _printable(f["message"]).replace("\n", "\n    ")
            out.append(f"  {shown_path(f['file'])}:{f['line']}: {message} [{f['event']}]"
                       + _ended(f))
            for bt in f.get("backtrace") or []:
                out.append(f"      {bt}")
    for reason in outcome.stops:
        out.append(f"stop requested: {reason}")
    if outcome.crash:
        out.append(f"crash: {outcome.crash[0]}")
        out += [f"      {line}" for line in outcome.crash[1]]
    if outcome.timed_out:
        out.append(f"timeout: {options.timeout:g}s elapsed; the target's threads were at:")
        out += [f"      {line}" for line in outcome.waits]
    counts = {s: sum(1 for r in results if r.status == s)
              for s in ("passed", "failed", "never triggered")}
    out.append(f"{counts['passed']} passed, {counts['failed']} failed, "
               f"{counts['never triggered']} never triggered; {outcome.describe(program)}")
    return "\n".join(out) + "\n"


# Characters XML 1.0 cannot hold, even escaped (control characters, lone surrogates).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_text(text):
    """_xml_text() is text with what XML cannot hold shown as \\xNN (\\uNNNN)."""
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100
                        else f"\\u{ord(m.group()):04x}", text)


def _target_verdict(outcome, program, expect_status):
    """_target_verdict() is (kind, message) when the target did not end as expected: kind
    `error` (it crashed, timed out or did not run) or `failure` (another exit status);
    None when it exited with expect_status."""
    if outcome.error or outcome.timed_out or outcome.signal:
        return "error", outcome.describe(program)
    if outcome.exit_status != expect_status:
        return "failure", f"{outcome.describe(program)}, expected {expect_status}"
    return None


def junit_xml(results, outcome, program, elapsed, expect_status=0, error_type="launch"):
    """junit_xml() is a JUnit testsuite: a testcase per groutine (failure, or skipped when
    never triggered), and a `target` testcase when the target did not end as expected: an
    error when it crashed, timed out or did not run (of error_type: launch, or usage for a
    run ended before the launch), a failure for another exit status. Text XML cannot hold
    is escaped (\\xNN)."""
    verdict = _target_verdict(outcome, program, expect_status)
    failed = sum(r.status == "failed" for r in results)
    suite = ET.Element("testsuite", name=f"groutines run {program}",
                       tests=str(len(results) + (verdict is not None)),
                       failures=str(failed + (verdict is not None and verdict[0] == "failure")),
                       errors="1" if verdict and verdict[0] == "error" else "0",
                       skipped=str(sum(r.status == "never triggered" for r in results)),
                       time=f"{elapsed:.3f}",
                       timestamp=datetime.datetime.now().isoformat(timespec="seconds"))
    for r in results:
        case = ET.SubElement(suite, "testcase", name=_xml_text(r.name),
                             classname=_xml_text(os.path.basename(r.source)),
                             file=_xml_text(r.source))
        ET.SubElement(case, "properties").append(
            ET.Element("property", name="events", value=str(r.events)))
        if r.status == "failed":
            first = r.failures[0]
            text = []
            for f in r.failures:
                text.append(f"{f['file']}:{f['line']}: {f['message']} [{f['event']}]")
                text += [f"    {bt}" for bt in f.get("backtrace") or []]
            node = ET.SubElement(case, "failure", message=_xml_text(first["message"]),
                                 type="groutine")
            node.text = _xml_text("\n".join(text))
        elif r.status == "never triggered":
            ET.SubElement(case, "skipped", message="never triggered")
    if verdict is not None:
        kind, message = verdict
        case = ET.SubElement(suite, "testcase", name="target", classname=_xml_text(program))
        node = ET.SubElement(case, kind, message=_xml_text(message),
                             type="timeout" if outcome.timed_out
                             else "crash" if outcome.signal
                             else error_type if outcome.error else "status")
        lines = (outcome.crash[1] if outcome.crash else []) + outcome.waits
        node.text = _xml_text("\n".join(lines))
    ET.SubElement(suite, "system-out").text = _xml_text(outcome.describe(program))
    return ET.ElementTree(suite)


def write_junit(f, tree):
    """write_junit() writes the JUnit tree to f, a text file open as UTF-8, which its
    declaration says (whatever the locale)."""
    f.write("<?xml version='1.0' encoding='utf-8'?>\n")
    tree.write(f, encoding="unicode")


def write_usage_junit(options, message):
    """write_usage_junit() writes the --junit file of a run that ended before its target
    ran (a load error, a program that does not exist): the `target` test case is an error
    of type usage with message. Nothing when --junit was not asked or cannot be written."""
    output = getattr(options, "outputs", {}).get("junit") if options else None
    if output is None or output.committed:
        return
    outcome = Outcome()
    outcome.error = message
    write_output(output, lambda f: write_junit(f, junit_xml(
        [], outcome, os.path.basename(options.program[0]), 0.0, options.expect_status,
        error_type="usage")))
