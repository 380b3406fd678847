"""EventLog: the last events the runtime delivered (and groutines' log and stop lines), in a
ring of bounded size, for `groutine events`: the entries and their JSON lines as the LLDB
plugin's (lldb_plugin/src/event_log.hpp), except that a call's args are the registers the
groutines read (rdi=...), not every argument by DWARF name, which would cost a read of every
argument at every call."""
import collections
import json
import time

DEFAULT_CAPACITY = 1000


def value_text(value):
    """value_text() is a value as the core's to_string() shows it."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, float):
        text = f"{value:.17g}"
        return text if any(c in text for c in ".eEn") else text + ".0"
    return str(value)


def data_text(data):
    """data_text() is a custom event's data as the core's to_string() shows it."""
    return " ".join(f"{key}={value_text(value)}" for key, value in data.items())


def new_entry(kind, name, thread, text):
    """new_entry() is a log or stop line of groutine name."""
    return {"seq": 0, "time_ns": time.monotonic_ns(), "thread": thread, "kind": kind,
            "name": name, "call": 0, "regs": None, "read": None, "value": None,
            "skipped": False, "unwound": False, "rewritten": False, "data": {}, "note": text}


def _signed(value):
    return value - (1 << 64) if value >> 63 else value


def render(entry):
    """render() is entry as shown: its args (the registers the groutines read, but rsp and
    rip) and its detail text, added to a copy."""
    e = dict(entry)
    e["args"] = {reg: _signed(v) for reg, v in (e["regs"] or {}).items()
                 if reg not in ("rsp", "rip")}
    kind = e["kind"]
    if kind in ("log", "stop"):
        e["detail"] = e["note"]
    elif kind == "custom":
        e["detail"] = data_text(e["data"])
    else:
        detail = f"call #{e['call']}"
        if kind == "call":
            detail += "".join(f" {reg}={v}" for reg, v in e["args"].items())
            if e["skipped"]:
                detail += f" skipped: returns {value_text(e['value'])}"
        elif e["unwound"]:
            detail += " unwound"
        elif e["skipped"]:
            detail += " skipped"
        else:
            if e["read"] is not None:
                reg, v = e["read"]
                detail += f" {reg}={value_text(v)}"
            detail += e["note"]
            if e["rewritten"]:
                detail += f" rewritten to {value_text(e['value'])}"
        e["detail"] = detail
    return e


def to_json(entry):
    """to_json() is entry as one line of JSON (no newline), with the LLDB plugin's keys."""
    e = render(entry)
    out = {key: e[key] for key in ("seq", "time_ns", "thread", "kind", "name", "call", "args",
                                   "value", "skipped", "unwound", "rewritten", "data",
                                   "detail")}
    out["seq"] = out["seq"] or None
    out["call"] = out["call"] or None
    return json.dumps(out, separators=(",", ":"), ensure_ascii=False)


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
