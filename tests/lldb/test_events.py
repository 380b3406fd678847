"""`groutine events --json`: one JSON object per event, with the event's time, its arguments
by DWARF name (or the registers read, without debug info), and return values as the caller
saw them."""
import json
import os

from conftest import example, lldb, target


def json_events(session, command):
    lines = session.after(command).splitlines()
    assert lines and all(line.startswith("{") for line in lines), session
    return [json.loads(line) for line in lines]


KEYS = ["seq", "time_ns", "thread", "kind", "name", "call", "args", "value", "skipped",
        "unwound", "rewritten", "data", "detail"]


def test_json_events_carry_times_dwarf_argument_names_and_rewritten_returns():
    s = lldb(f"file {target('calls_O0_g')}", f"groutine load {example('rewrite')}", "run 2",
             "groutine fire ping n=41 who=\"a b\" ok=true", "groutine events --json -n 100")
    events = json_events(s, "groutine events --json -n 100")
    assert all(list(e) == KEYS for e in events), events
    times = [e["time_ns"] for e in events]
    assert times == sorted(times), times
    calls = {e["call"]: e for e in events if e["kind"] == "call"}
    returns = [e for e in events if e["kind"] == "return"]
    assert len(returns) == 4, events
    for r in returns:
        assert r["time_ns"] >= calls[r["call"]]["time_ns"], (calls[r["call"]], r)
    adds = [e for e in events if e["kind"] == "call" and e["name"] == "add"]
    assert [e["args"] for e in adds] == [{"a": 0, "b": 1}, {"a": 1, "b": 2}], adds
    scales = [e for e in events if e["kind"] == "call" and e["name"] == "scale"]
    assert [e["args"] for e in scales] == [{"x": 1.5, "factor": 2.0},
                                           {"x": 2.5, "factor": 3.0}], scales
    add_returns = [r for r in returns if r["name"] == "add"]
    assert [(r["value"], r["rewritten"], r["skipped"], r["unwound"]) for r in add_returns] == [
        (1001, True, False, False), (1003, True, False, False)], add_returns
    assert [r["value"] for r in returns if r["name"] == "scale"] == [30.0, 75.0], returns
    ping = events[-1]
    assert (ping["kind"], ping["name"], ping["seq"], ping["call"], ping["thread"]) == (
        "custom", "ping", max(e["seq"] for e in events), None, 0), ping
    assert ping["data"] == {"n": 41, "who": "a b", "ok": True}, ping


def test_json_events_without_debug_info_name_the_registers_read_and_show_skips():
    s = lldb(f"file {target('calls_O2')}", f"groutine load {example('calls_checks')}",
             f"groutine load {example('skip_parse')}", "run 2", "groutine events --json -n 100")
    events = json_events(s, "groutine events --json -n 100")
    add = next(e for e in events if e["kind"] == "call" and e["name"] == "add")
    assert add["args"] == {"rdi": 0, "rsi": 1}, add
    skipped = [e for e in events if e["kind"] == "call" and e["skipped"]]
    assert [(e["name"], e["value"]) for e in skipped] == [("scale", 42.5),
                                                         ("parse_header", -99)], skipped
    # check-parse-header awaited the skipped call's return: it came at once, forced.
    (ret,) = [e for e in events if e["kind"] == "return" and e["call"] == skipped[1]["call"]]
    assert (ret["skipped"], ret["value"]) == (True, -99), ret
    logs = [e for e in events if e["kind"] == "log"]
    assert logs and all(e["seq"] is None and e["call"] is None for e in logs), logs
    times = [e["time_ns"] for e in events]
    assert times == sorted(times), events


def test_json_events_go_to_a_file_with_output_as_they_print(tmp_path):
    path = tmp_path / "events.jsonl"
    commands = [f"file {target('calls_O0_g')}", f"groutine load {example('rewrite')}", "run 2",
                "groutine events --json -n 3", f"groutine events --json -n 3 --output {path}",
                f"groutine events --json --output {tmp_path / 'missing' / 'x'}"]
    s = lldb(*commands)
    printed = s.after("groutine events --json -n 3").splitlines()[:3]
    assert path.read_text().splitlines() == printed, s
    assert f"wrote 3 events to {path}" in s.output, s
    assert (f"error: groutine events: cannot write '{tmp_path / 'missing' / 'x'}': "
            "No such file or directory") in s.output, s
    s = lldb(f"groutine events --output {path}")  # (an error ends a batch session)
    assert "error: groutine events: --output writes the --json lines: add --json" in s.output, s


def test_json_events_to_a_fifo_nobody_reads_or_to_an_empty_path_are_errors(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    # Each in a session of its own: an error ends a batch session.
    s = lldb(f"file {target('calls_O0_g')}", f"groutine load {example('rewrite')}", "run 2",
             f"groutine events --json --output {fifo}", timeout=30)  # not a hang in open()
    assert f"error: groutine events: cannot write '{fifo}': a FIFO nobody reads" in s.output, s
    s = lldb('groutine events --json --output ""')  # not the lines printed
    assert "error: groutine events: cannot write '': No such file or directory" in s.output, s
