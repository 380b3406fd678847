"""groutines._native.ArgumentLayout: the core's SysV x86-64 argument layout for a host written
in Python (the GDB frontend), reading arguments by name through a Python Frame: registers,
the stack past r9, a struct by value (located, no value), entry registers that override the
classification, a clone's parameters without one; and the return value's reading. Also: a
groutines.Error that a Python Frame or Backend raises reaches the groutine as it is."""
import struct

import pytest

import groutines as g
from groutines import _native
from pure_backend import PureBackend, PureFrame, PureTarget

INT = {"class": "integer", "name": "int", "size": 4, "signed": True}
LONG = {"class": "integer", "name": "long", "size": 8, "signed": True}
DOUBLE = {"class": "float", "name": "double", "size": 8}
PTR = {"class": "pointer", "name": "char *", "size": 8}
PAIR = {"class": "aggregate", "name": "struct pair", "size": 8,
        "scalars": [(0, 4, "integer"), (4, 4, "integer")]}


class StackFrame(PureFrame):
    """A PureFrame whose registers include rsp and whose memory holds a stack."""

    def __init__(self, stack, **parts):
        super().__init__("f", **parts)
        self.stack = stack  # address -> 8-byte value

    def register_value(self, name):
        if name == "rsp":
            return 0x1000
        return super().register_value(name)

    def read_memory(self, address, size):
        return struct.pack("<Q", self.stack[address])[:size]


def params(*types, names="abcdefghij"):
    return [{"name": n, "type": t} for n, t in zip(names, types)]


def test_integers_past_r9_and_doubles_read_from_their_registers_and_the_stack():
    layout = _native.ArgumentLayout({"parameters": params(INT, DOUBLE, LONG, LONG, LONG, LONG,
                                                          LONG, LONG),
                                     "return_type": LONG})
    assert layout.names == list("abcdefgh")
    frame = StackFrame({0x1008: 77, 0x1010: 88}, args=[-1 & (2**64 - 1), 2, 3, 4, 5, 6],
                       floats=[2.5])
    assert layout.arguments(frame) == [("a", "int", -1), ("b", "double", 2.5),
                                       ("c", "long", 2), ("d", "long", 3), ("e", "long", 4),
                                       ("f", "long", 5), ("g", "long", 6), ("h", "long", 77)]
    assert layout.argument(frame, "h") == ("h", "long", 77)
    assert layout.argument(frame, "nope") is None
    assert (layout.return_known, layout.return_floating, layout.return_size) == (True, False, 8)


def test_a_struct_by_value_takes_a_register_and_reads_none():
    layout = _native.ArgumentLayout({"parameters": params(PAIR, INT)})
    frame = PureFrame("f", args=[0x200000001, 9])
    assert layout.arguments(frame) == [("a", "struct pair", None), ("b", "int", 9)]


def test_entry_registers_override_and_a_clone_drops_parameters_without_one():
    layout = _native.ArgumentLayout({
        "parameters": [{"name": "this", "type": PTR, "is_this": True},
                       {"name": "a", "type": INT, "entry_register": "edi"},
                       {"name": "c", "type": INT, "entry_register": "esi"},
                       {"name": "b", "type": LONG}],
        "clone": True})
    frame = PureFrame("f", args=[4, 6, 99])
    assert layout.arguments(frame) == [("this", "char *", None), ("a", "int", 4),
                                       ("c", "int", 6), ("b", "long", None)]


def test_a_return_value_reads_as_its_type():
    unsigned_char = {"class": "integer", "name": "unsigned char", "size": 1}
    layout = _native.ArgumentLayout({"parameters": [], "return_type": unsigned_char})
    assert layout.return_value(0x1ff) == 0xff
    assert _native.type_value(INT, 0xffffffff) == -1
    assert _native.type_value({"class": "bool", "size": 1}, 1) is True
    void = _native.ArgumentLayout({"parameters": []})
    assert not void.return_known


def test_a_bad_description_is_an_error_naming_what_was_wrong():
    with pytest.raises(ValueError, match="unknown type class 'struct'"):
        _native.ArgumentLayout({"parameters": [{"name": "a", "type": {"class": "struct"}}]})
    with pytest.raises(ValueError, match="'rax' is not an argument register"):
        _native.ArgumentLayout({"parameters": [{"name": "a", "type": INT,
                                                "entry_register": "rax"}]})
    with pytest.raises(TypeError, match="a parameter is a dict"):
        _native.ArgumentLayout({"parameters": ["a"]})


class ErrorFrame(PureFrame):
    def register_value(self, name):
        raise g.Error(f"unknown register '{name}'")


class ErrorBackend(PureBackend):
    def functions(self, pattern, modules):
        raise g.Error(f"functions('{pattern}'): the target has no module '{modules[0]}'")


def test_a_groutines_error_of_a_python_frame_or_backend_reaches_the_groutine_as_it_is():
    target = PureTarget()
    target.backend = ErrorBackend()
    target.host.close()
    target.host = g.Runtime(target.backend)
    seen = []

    async def reader():
        c = await g.call("f")
        try:
            c.reg("xyz")
        except g.Error as e:
            seen.append(str(e))
        try:
            g.functions("f*", ["libnope.so"])
        except g.Error as e:
            seen.append(str(e))

    try:
        target.host.load(reader)
        frame = ErrorFrame("f")
        target.host.deliver_call(target.host.function_id("f"), 1, frame)
    finally:
        target.close()
    assert seen == ["unknown register 'xyz'",
                    "functions('f*'): the target has no module 'libnope.so'"]


def test_return_registers_say_where_a_value_goes_and_convert_it_as_c_does():
    int_function = _native.ArgumentLayout({"parameters": [], "return_type": INT})
    assert int_function.return_class == "integer"
    assert int_function.return_registers(2.75)[:2] == ("rax", 2)
    float_function = _native.ArgumentLayout({"parameters": [],
                                             "return_type": {"class": "float", "size": 4}})
    reg, bits, _ = float_function.return_registers(3)
    assert (reg, struct.unpack("<f", struct.pack("<I", bits))[0]) == ("xmm0_float", 3.0)
    x87 = _native.ArgumentLayout({"parameters": [],
                                  "return_type": {"class": "x87", "size": 16}})
    assert x87.return_class == "x87" and x87.return_registers(-3)[0] == "st0"
    pair = _native.ArgumentLayout({"parameters": [], "return_type": PAIR})
    with pytest.raises(g.Error, match="returns a struct, union or class by value"):
        pair.return_registers(1)


class IntReturningFrame(PureFrame):
    def return_layout(self):
        return _native.ArgumentLayout({"parameters": [], "return_type": INT})


def test_a_python_frames_return_layout_converts_a_forced_value_to_the_return_type():
    target = PureTarget()
    try:
        async def forces():
            c = await g.call("f")
            c.return_now(2.75)

        target.host.load(forces)
        outcome = target.host.deliver_call(target.host.function_id("f"), 1,
                                           IntReturningFrame("f"))
    finally:
        target.close()
    assert outcome.skip and outcome.forced_return == 2
