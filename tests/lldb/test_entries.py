"""Hooks plant only at a function's first instruction: a breakpoint by name also resolves to
the places the function is inlined at and to lines inside other functions, where a call
cannot be read (the arguments are not in their registers, [rsp] is no return address). Those
locations are disabled, also when they come later, as libraries load."""
import re

from conftest import example, lldb, target


def locations(listing):
    """locations() is {location id: (where, enabled)} of one breakpoint's listing."""
    return {m.group(1): (m.group(2), m.group(3) is None) for m in re.finditer(
        r"^\s+\d+\.(\d+): where = (.*?), address = .*?(disabled)?\s*$", listing, re.M)}


def test_malloc_hooked_before_the_program_starts_sees_calls_and_the_program_runs_to_its_end():
    s = lldb(f"file {target('calls_O0_g')}", f"groutine load {example('watch')}",
             "groutine fire watch slot=a function=malloc args=1", "run 1",
             "groutine subscriptions", "breakpoint list 1")
    # Before, the dynamic loader's inlined malloc calls were hooked: the loader failed (127).
    assert "exited with status = 0" in s.output, s
    assert "failed to set breakpoint site" not in s.output, s
    assert s.target_lines(r"add\(.*") == ["add(0,1)=1"], s
    calls = s.logged("watch-a")
    assert calls and all(re.fullmatch(r"malloc\(\d+\)=-?\d+ thread \d+", c) for c in calls), s
    assert re.search(r"^malloc\s+1\s+1\s+", s.after("groutine subscriptions"), re.M), s
    enabled = [where for where, on in locations(s.after("breakpoint list 1")).values() if on]
    assert len(enabled) == 1 and enabled[0].startswith("libc.so.6`"), s


def test_a_function_inlined_in_one_place_is_hooked_only_at_its_out_of_line_entry():
    s = lldb(f"file {target('inlined')}", f"groutine load {example('watch')}",
             "groutine fire watch slot=a function=bump args=1", "breakpoint list 1", "run 3",
             "groutine subscriptions")
    listing = locations(s.after("breakpoint list 1"))
    # Two places: the entry of the out-of-line copy (kept) and the copy inlined into main.
    assert sorted(listing.values(), key=lambda l: l[1]) == [
        (next(w for w, on in listing.values() if not on), False),
        ("inlined`bump at inlined.c:14:28", True)], s
    assert next(w for w, on in listing.values() if not on).startswith("inlined`main + "), s
    # Only the calls through the pointer are calls of bump; the inlined ones run unseen (and
    # never stop the target: 3 hits).
    assert [c.rsplit(" thread ", 1)[0] for c in s.logged("watch-a")] == [
        "bump(10)=11", "bump(11)=12", "bump(12)=13"], s
    assert s.target_lines(r"bump\(.*") == ["bump(0)=1 bump(10)=11", "bump(1)=2 bump(11)=12",
                                           "bump(2)=3 bump(12)=13"], s
    assert re.search(r"^bump\s+1\s+1\s+\d+\s+3\s+\S+$", s.after("groutine subscriptions"), re.M), s
