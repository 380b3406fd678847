"""EventLog: the last events the runtime delivered (and groutines' log and stop lines), in a
ring of bounded size, for `groutine events`: the entries and their JSON lines as the LLDB
plugin's (lldb_plugin/src/event_log.hpp), except that a call's args are the registers the
groutines read (rdi=...), not every argument by DWARF name, which would cost a read of every
argument at every call."""
import collections
import json
import math
import time

DEFAULT_CAPACITY = 1000


def value_text(value):
    """value_text() is a value as the core's to_string() shows it."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else str(value)
    return str(value)


def new_entry(kind, name, seq=0, thread=0, call=0, detail=""):
    return {"seq": seq, "time_ns": time.monotonic_ns(), "thread": thread, "kind": kind,
            "name": name, "call": call, "args": {}, "value": None, "skipped": False,
            "unwound": False, "rewritten": False, "data": {}, "detail": detail}


def to_json(entry):
    """to_json() is entry as one line of JSON (no newline)."""
    e = dict(entry)
    e["seq"] = e["seq"] or None
    e["call"] = e["call"] or None
    return json.dumps(e, separators=(",", ":"), ensure_ascii=False)


class EventLog:
    """EventLog keeps the newest capacity entries (0: none)."""

    def __init__(self):
        self.capacity = DEFAULT_CAPACITY
        self.entries = collections.deque(maxlen=DEFAULT_CAPACITY)

    def set_capacity(self, capacity):
        self.capacity = capacity
        self.entries = collections.deque(self.entries, maxlen=capacity)

    def add(self, entry):
        """add() appends entry; returns it, or None when the log is off."""
        if self.capacity == 0:
            return None
        self.entries.append(entry)
        return entry

    def find(self, seq):
        for e in reversed(self.entries):
            if e["seq"] == seq:
                return e
        return None

    def last(self, n):
        return list(self.entries)[-n:] if n else []

    def clear(self):
        self.entries.clear()
