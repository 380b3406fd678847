"""The runner's readers and writers, offline: the event log in both of the plugin's formats
(the `groutine events` table, and JSON lines with times once the plugin has them), the
events file and the Chrome trace built from them."""
import json
import sys

from conftest import BUILD

sys.path.insert(0, str(BUILD / "python"))
from groutines import run  # noqa: E402


class FakeDebugger:
    """FakeDebugger answers `groutine events` commands with canned output."""

    def __init__(self, table=None, json_lines=None):
        self.table = table
        self.json_lines = json_lines

    def command(self, text, check=True):
        if "--json" in text:
            if self.json_lines is None:
                return False, "", "error: groutine events: unknown option '--json'"
            return True, self.json_lines, ""
        return True, self.table, ""


TABLE = """SEQ  THREAD  KIND    NAME    DETAIL
1    42      call    fact    call #1 rdi=2
2    42      call    fact    call #2 rdi=1 skipped: returns 1
3    42      return  fact    call #2 skipped
4    42      return  fact    call #1 rax=2 rewritten to 5
-    42      log     calls   fact(n=2) = 2
5    0       custom  exit    status=0 signal="" timed_out=false
"""


def test_the_events_table_is_parsed_into_calls_returns_and_custom_events():
    events = run.read_events(FakeDebugger(table=TABLE), 100)
    assert [(e["seq"], e["kind"], e["function"]) for e in events] == [
        (1, "call", "fact"), (2, "call", "fact"), (3, "return", "fact"), (4, "return", "fact"),
        (None, "log", "calls"), (5, "custom", "exit")]
    assert events[0]["args"] == {"rdi": 2} and events[0]["call"] == 1
    assert events[1]["skipped"] and events[1]["value"] == 1
    assert events[3]["value"] == 5  # what the caller saw
    assert events[5]["data"] == {"status": 0, "signal": "", "timed_out": False}
    assert all(e["time"] is None for e in events)


def test_the_trace_pairs_calls_with_returns_and_uses_sequence_numbers_without_times():
    trace = run.chrome_trace(run.read_events(FakeDebugger(table=TABLE), 100), "prog")
    slices = [e for e in trace["traceEvents"] if e["ph"] == "X"]
    assert [(e["args"]["call"], e["ts"], e["dur"], e["args"]["return"]) for e in slices] == [
        (1, 1, 3, 5), (2, 2, 1, 1)]
    assert "sequence numbers" in trace["otherData"]["clock"]
    instants = [e["name"] for e in trace["traceEvents"] if e["ph"] == "i"]
    assert instants == ["log: calls", "custom: exit"]
    json.dumps(trace)


def test_json_events_with_times_give_a_trace_in_microseconds(tmp_path):
    lines = "\n".join(json.dumps(e) for e in [
        {"seq": 1, "time_ns": 5_000_000_000, "thread": 7, "kind": "call", "name": "f",
         "call": 1, "args": {"x": 1}, "value": None, "data": {}, "detail": "call #1"},
        {"seq": 2, "time_ns": 5_002_000_000, "thread": 7, "kind": "return", "name": "f",
         "call": 1, "args": {}, "value": 3, "data": {}, "detail": "call #1 rax=3"}])
    events = run.read_events(FakeDebugger(json_lines=lines + "\n"), 100)
    trace = run.chrome_trace(events, "prog")
    (f,) = [e for e in trace["traceEvents"] if e["ph"] == "X"]
    assert (f["ts"], f["dur"], f["args"]) == (0.0, 2000.0, {"call": 1, "x": 1, "return": 3})
    path = tmp_path / "events.jsonl"
    run.write_events(path, events)
    assert [json.loads(line)["time"] for line in path.read_text().splitlines()] == [0.0, 0.002]


def test_set_keys_become_environment_variables():
    assert run.config_variable("heap.pool") == "GROUTINES_HEAP_POOL"
    assert run.config_variable("faults.max-count") == "GROUTINES_FAULTS_MAX_COUNT"
