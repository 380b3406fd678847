"""The runner's readers and writers, offline: the plugin's event log as JSON lines, the
events file and the Chrome trace built from them."""
import json
import sys

import pytest

from conftest import BUILD

sys.path.insert(0, str(BUILD / "python"))
from groutines import run  # noqa: E402


class FakeDebugger:
    """FakeDebugger answers `groutine events --json --output FILE` by writing canned lines
    to FILE (None: an error)."""

    def __init__(self, json_lines):
        self.json_lines = json_lines

    def command(self, text, check=True):
        assert "--json" in text and " --output " in text
        if self.json_lines is None:
            return False, "", "error: groutine events: unknown option '--json'\n"
        with open(text.split(" --output ", 1)[1], "w") as f:
            f.write(self.json_lines)
        return True, "wrote 6 events\n", ""


def event(seq, time_ns, kind, name, **fields):
    e = {"seq": seq, "time_ns": time_ns, "thread": 7, "kind": kind, "name": name, "call": None,
         "args": {}, "value": None, "skipped": False, "unwound": False, "rewritten": False,
         "data": {}, "detail": ""}
    e.update(fields)
    return json.dumps(e)


LOG = "\n".join([
    event(1, 5_000_000_000, "call", "f", call=1, args={"x": 1}),
    event(2, 5_000_500_000, "call", "g", call=2, skipped=True, value=-1),
    event(3, 5_000_600_000, "return", "g", call=2, skipped=True, value=-1),
    event(None, 5_000_700_000, "log", "checker", detail="f(1) = ..."),
    event(4, 5_002_000_000, "return", "f", call=1, value=9, rewritten=True),
    event(5, 5_003_000_000, "custom", "exit", thread=0, data={"status": 0}),
]) + "\n"


def test_json_events_with_times_give_a_trace_in_microseconds(tmp_path):
    events = run.read_events(FakeDebugger(LOG), 100, str(tmp_path / "log.jsonl"))
    assert [(e["seq"], e["kind"], e["function"]) for e in events] == [
        (1, "call", "f"), (2, "call", "g"), (3, "return", "g"), (None, "log", "checker"),
        (4, "return", "f"), (5, "custom", "exit")]
    path = tmp_path / "trace.json"
    with open(path, "w") as f:
        run.write_trace(f, events, "prog")
    trace = json.loads(path.read_text())
    slices = sorted((e for e in trace["traceEvents"] if e["ph"] == "X"), key=lambda e: e["ts"])
    assert [(e["name"], e["ts"], e["dur"], e["args"]) for e in slices] == [
        ("f", 0.0, 2000.0, {"call": 1, "x": 1, "return": 9}),
        ("g", 500.0, 100.0, {"call": 2, "return": -1})]
    instants = [(e["name"], e["ts"]) for e in trace["traceEvents"] if e["ph"] == "i"]
    assert instants == [("log: checker", 700.0), ("custom: exit", 3000.0)]
    assert trace["otherData"]["clock"] == "microseconds since the first event"
    path = tmp_path / "events.jsonl"
    with open(path, "w") as f:
        run.write_events(f, events)
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [e["time"] for e in lines] == [0.0, 0.0005, 0.0006, 0.0007, 0.002, 0.003]
    assert lines[4]["value"] == 9 and lines[4]["rewritten"]


def test_each_file_written_reads_the_event_log_once_past_its_first_line(tmp_path):
    # A log of a million events is gigabytes of JSON: each pass over it takes a while.
    class CountedLog(run.EventLog):
        def __iter__(self):
            for e in super().__iter__():
                read.append(e["kind"])
                yield e

    log = tmp_path / "log.jsonl"
    run.read_events(FakeDebugger(LOG), 100, str(log))
    events = CountedLog(str(log))
    for write in (lambda f: run.write_events(f, events),
                  lambda f: run.write_trace(f, events, "prog")):
        read = []
        with open(tmp_path / "out", "w") as f:
            write(f)
        assert len(read) == 1 + 6, read


def test_a_plugin_without_a_json_event_log_is_an_error(tmp_path):
    with pytest.raises(RuntimeError, match=r"unknown option '--json'"):
        run.read_events(FakeDebugger(None), 100, str(tmp_path / "log.jsonl"))


def test_set_keys_become_environment_variables():
    assert run.config_variable("heap.frames") == "GROUTINES_HEAP_FRAMES"
    assert run.config_variable("faults.max-count") == "GROUTINES_FAULTS_MAX_COUNT"
