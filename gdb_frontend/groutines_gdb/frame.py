"""GdbFrame: the target stopped at a call or a return, as groutines see it, read through GDB's
Python API; and describe(): a gdb.Type as the core's SysV classification takes it (the one
place GDB types become the dicts of groutines._native.ArgumentLayout)."""
import os
import re
import struct

import gdb

import groutines
from groutines import _native

# SysV x86-64: the integer argument registers, in order.
INT_ARGUMENT_REGISTERS = ("rdi", "rsi", "rdx", "rcx", "r8", "r9")
FLOAT_ARGUMENT_REGISTERS = 8  # xmm0..xmm7
_U64 = (1 << 64) - 1

ENTRY, RETURN, GONE = "entry", "return", "gone"

# A location `info address` gives at the first instruction: "a variable in $rdi", for the
# whole function or for the range that holds it.
_IN_REGISTER = re.compile(r"is a variable in \$(\w+)")
_RANGE = re.compile(r"Range (0x[0-9a-f]+)-(0x[0-9a-f]+): a variable in \$(\w+)")


def _flatten(t, offset, out, depth=0):
    """_flatten() adds the scalar members of type t at offset to out (bases, members, array
    elements); False when one is not a scalar the core classifies."""
    t = t.strip_typedefs()
    if depth > 32 or len(out) > 64:
        return False
    code = t.code
    if code == gdb.TYPE_CODE_ARRAY:
        element = t.target()
        size = element.strip_typedefs().sizeof
        if size == 0:
            return True
        for at in range(0, t.sizeof - size + 1, size):
            if not _flatten(element, offset + at, out, depth + 1):
                return False
        return True
    if code in (gdb.TYPE_CODE_STRUCT, gdb.TYPE_CODE_UNION):
        for field in t.fields():
            if field.is_base_class:
                if not _flatten(field.type, offset + field.bitpos // 8, out, depth + 1):
                    return False
                continue
            if not hasattr(field, "bitpos"):  # a static member
                continue
            if field.bitsize:
                first = field.bitpos // 8
                last = (field.bitpos + max(field.bitsize, 1) - 1) // 8
                out.append((offset + first, last - first + 1, "integer"))
                continue
            if not _flatten(field.type, offset + field.bitpos // 8, out, depth + 1):
                return False
        return True
    if code == gdb.TYPE_CODE_COMPLEX:
        half = t.sizeof // 2
        kind = "x87" if half > 8 else "float"
        out += [(offset, half, kind), (offset + half, half, kind)]
        return True
    kind = _scalar_class(t)
    if kind in ("unknown", "void"):
        return False
    out.append((offset, t.sizeof, kind))
    return True


def _scalar_class(t):
    code = t.code
    if code in (gdb.TYPE_CODE_PTR, gdb.TYPE_CODE_REF, gdb.TYPE_CODE_RVALUE_REF,
                gdb.TYPE_CODE_MEMBERPTR, gdb.TYPE_CODE_METHODPTR):
        return "pointer"
    if code == gdb.TYPE_CODE_VOID:
        return "void"
    if code == gdb.TYPE_CODE_BOOL:
        return "bool"
    if code in (gdb.TYPE_CODE_INT, gdb.TYPE_CODE_CHAR, gdb.TYPE_CODE_ENUM):
        return "integer" if t.sizeof <= 16 else "unknown"
    if code == gdb.TYPE_CODE_FLT:
        return "x87" if t.sizeof > 8 else "float"
    return "unknown"


def _non_trivial_for_calls(t, depth=0):
    """_non_trivial_for_calls() tells whether a C++ class is passed and returned by invisible
    reference, as far as GDB shows it: polymorphic (a vtable pointer), or it, a base or a
    member declares a destructor."""
    t = t.strip_typedefs()
    while t.code == gdb.TYPE_CODE_ARRAY:
        t = t.target().strip_typedefs()
    if t.code not in (gdb.TYPE_CODE_STRUCT, gdb.TYPE_CODE_UNION) or depth > 32:
        return False
    # Only a named type is looked up: a command that fails inside a stop() can upset GDB
    # (gdb_frontend/README.md, "Traps"), and `ptype struct {...}` would.
    text = ""
    if t.tag or t.name:
        try:
            text = gdb.execute(f"ptype {t}", to_string=True)
        except gdb.error:
            text = ""
    short = re.sub(r"<.*>$", "", (t.tag or t.name or "").rsplit("::", 1)[-1])
    if (short and f"~{short}(" in text) or "virtual " in text or "_vptr." in text:
        return True
    for field in t.fields():
        if field.type is not None and _non_trivial_for_calls(field.type, depth + 1):
            return True
    return False


def describe(gdb_type):
    """describe() is gdb_type as the core's classification sees it (a type dict of
    groutines._native.ArgumentLayout)."""
    d = {"name": str(gdb_type), "class": "unknown"}
    t = gdb_type.strip_typedefs()
    d["size"] = t.sizeof
    code = t.code
    if code in (gdb.TYPE_CODE_STRUCT, gdb.TYPE_CODE_UNION, gdb.TYPE_CODE_ARRAY,
                gdb.TYPE_CODE_COMPLEX):
        if code != gdb.TYPE_CODE_ARRAY and code != gdb.TYPE_CODE_COMPLEX and \
                _non_trivial_for_calls(t):
            d["class"] = "by_reference"
            return d
        d["class"] = "aggregate"
        if t.sizeof <= 16:
            scalars = []
            if _flatten(t, 0, scalars):
                d["scalars"] = scalars
            else:
                d["class"] = "unknown"
        return d
    d["class"] = _scalar_class(t)
    if code == gdb.TYPE_CODE_ENUM:
        d["signed"] = True
    elif code in (gdb.TYPE_CODE_INT, gdb.TYPE_CODE_CHAR):
        d["signed"] = bool(getattr(t, "is_signed", True))
    return d


def _entry_register(name, pc):
    """_entry_register() is the register the debug info locates parameter name in at pc (the
    function's first instruction), or None (a stack slot, as at -O0)."""
    try:
        text = gdb.execute(f"info address {name}", to_string=True)
    except gdb.error:
        return None
    if "multi-location" in text:
        for start, end, reg in _RANGE.findall(text):
            if int(start, 16) <= pc < int(end, 16):
                return reg
        return None
    m = _IN_REGISTER.search(text)
    return m.group(1) if m else None


def layout_at(pc):
    """layout_at() is the ArgumentLayout of the function whose first instruction is pc, from
    its debug info (no arguments without it). Called with the target stopped at pc."""
    block = gdb.block_for_pc(pc)
    while block is not None and block.function is None:
        block = block.superblock
    if block is None:
        return _native.ArgumentLayout({"parameters": [], "return_type": {"class": "unknown"}})
    function = block.function
    parameters = []
    for symbol in _parameters(block, function.type):
        if isinstance(symbol, gdb.Type):  # an unnamed parameter: its type alone
            parameters.append({"name": "", "type": describe(symbol)})
            continue
        p = {"name": symbol.name, "type": describe(symbol.type)}
        if symbol.name == "this":
            p["is_this"] = True
            p["type"] = {"class": "pointer", "name": str(symbol.type), "size": 8}
        reg = _entry_register(symbol.name, pc)
        if reg and reg in _ARGUMENT_REGISTER_NAMES:
            p["entry_register"] = reg
        parameters.append(p)
    return_type = {"class": "unknown"}
    ftype = function.type
    if ftype is not None and ftype.code in (gdb.TYPE_CODE_FUNC, gdb.TYPE_CODE_METHOD):
        target = ftype.target()
        return_type = describe(target) if target is not None else {"class": "void"}
    return _native.ArgumentLayout({"parameters": parameters, "return_type": return_type,
                                   "clone": _is_clone(pc)})


def _is_clone(pc):
    """_is_clone() tells whether the code at pc is a compiler's clone of a function (GCC's
    f.isra.0, f.part.1), which may take fewer parameters than declared: the debug info names
    the function, the minimal symbol the clone ("L::ac(int, long, int) const [clone .isra.0]")."""
    try:
        text = gdb.execute(f"info symbol {pc:#x}", to_string=True)
    except gdb.error:
        return False
    return bool(re.search(r"^\S.*\[clone \.[^\]]*\] in section", text, re.M)) or \
        bool(re.search(r"^[\w:]+\.(isra|part|constprop|cold)\.\d+ in section", text, re.M))


def _parameters(block, function_type):
    """_parameters() are the function's parameter symbols in the order the debug info lists
    them, with the type (a gdb.Type) in place of each unnamed parameter: GDB makes no symbol
    for those, but the function's type lists them. GDB does not say where an unnamed one was
    among the named: each named parameter is matched to the last declared one of its type
    not yet taken, so unnamed parameters come first among those of one type."""
    named = [symbol for symbol in block if symbol.is_argument]
    if function_type is None or function_type.code not in (gdb.TYPE_CODE_FUNC,
                                                           gdb.TYPE_CODE_METHOD):
        return named
    declared = [f.type for f in function_type.fields() if not f.artificial and f.type is not None]
    others = [s for s in named if s.name != "this"]
    if len(declared) <= len(others):
        return named
    placed = [None] * len(declared)
    j = len(others) - 1
    for i in range(len(declared) - 1, -1, -1):
        if j >= 0 and str(declared[i].strip_typedefs()) == str(others[j].type.strip_typedefs()):
            placed[i] = others[j]
            j -= 1
    if j >= 0:  # the names and the types do not line up: the named ones alone
        return named
    this = [s for s in named if s.name == "this"]
    return this + [symbol if symbol is not None else declared[i]
                   for i, symbol in enumerate(placed)]


_ARGUMENT_REGISTER_NAMES = {
    *INT_ARGUMENT_REGISTERS, "edi", "esi", "edx", "ecx", "r8d", "r9d", "di", "si", "dx", "cx",
    "r8w", "r9w", "dil", "sil", "dl", "cl", "r8l", "r9l", *(f"xmm{i}" for i in range(8))}


class GdbFrame(groutines.Frame):
    """The stopped thread at a call (ENTRY: the function's first instruction) or a return
    (RETURN: just after `ret`), or GONE (the process ended: every read fails saying why).
    Valid while its event is delivered; the backend closes it after."""

    def __init__(self, backend, where, thread=0, layout=None, why=""):
        super().__init__()
        self.backend = backend
        self.where = where
        self.thread = thread
        self.why = why
        self._layout = layout  # an ArgumentLayout; at an entry, found when first needed
        self._registers = {}

    # --- helpers ---

    def _require(self, where, what):
        if self.where == GONE:
            raise groutines.Error(f"{what}: no target to read: {self.why}")
        if self.where != where:
            raise groutines.Error(
                f"{what} is readable only at a call (the function's entry)" if where == ENTRY
                else f"{what} is readable only at a return")

    def _live(self):
        if self.where == GONE:
            raise groutines.Error(f"no target to read: {self.why}")

    def layout(self):
        """layout() is the function's ArgumentLayout (the backend keeps one per entry)."""
        if self._layout is None and self.where == ENTRY:
            self._layout = self.backend.layout(self.register_value("rip"))
        return self._layout

    def registers(self):
        """registers() are the registers read so far at this stop, by name."""
        return dict(self._registers)

    def stack_pointer(self):
        return self.register_value("rsp")

    def read_u64(self, address):
        return struct.unpack("<Q", self.read_memory(address, 8))[0]

    # --- groutines.Frame ---

    def register_value(self, name):
        value = self._registers.get(name)
        if value is not None:
            return value
        v = None
        if self.where == GONE or not name.isidentifier():
            self._live()
            raise groutines.Error(f"unknown register '{name}'")
        try:
            v = gdb.parse_and_eval("$" + name)
            value = int(v) & _U64
        except gdb.error as e:
            # An unknown $name is an empty convenience variable, of type void.
            if v is not None and v.type.code == gdb.TYPE_CODE_VOID:
                raise groutines.Error(f"unknown register '{name}'")
            raise groutines.Error(f"register '{name}' cannot be read as an integer: {e}")
        self._registers[name] = value
        return value

    def int_argument(self, index):
        if self.where is not ENTRY:
            self._require(ENTRY, "an argument")
        if index < 6:
            name = INT_ARGUMENT_REGISTERS[index]
            value = self._registers.get(name)
            return value if value is not None else self.register_value(name)
        # At the first instruction [rsp] is the return address; stack arguments follow it.
        return self.read_u64(self.stack_pointer() + 8 + 8 * (index - 6))

    def float_argument(self, index):
        self._require(ENTRY, "an argument")
        if index >= FLOAT_ARGUMENT_REGISTERS:
            raise groutines.Error(f"floating argument {index} is passed on the stack: only "
                                  "xmm0..xmm7 (indexes 0..7) are read")
        return self._xmm_double(index)

    def _xmm_double(self, index):
        bits = int(gdb.parse_and_eval(f"$xmm{index}.v2_int64[0]")) & _U64
        return struct.unpack("<d", struct.pack("<Q", bits))[0]

    def arguments(self):
        self._require(ENTRY, "arguments")
        return self.layout().arguments(self)

    def read_memory(self, address, size):
        self._live()
        if size == 0:
            return b""
        try:
            return bytes(gdb.selected_inferior().read_memory(address, size))
        except gdb.MemoryError as e:
            raise groutines.Error(f"cannot read {size} bytes at {address:#x}: {e}")

    def read_cstring(self, address, max_size):
        self._live()
        inferior = gdb.selected_inferior()
        out = bytearray()
        chunk = 256
        while len(out) < max_size:
            want = min(chunk, max_size - len(out))
            # Never read across a page: the next one may not be mapped.
            want = min(want, 4096 - (address + len(out)) % 4096)
            try:
                got = bytes(inferior.read_memory(address + len(out), want))
            except gdb.MemoryError as e:
                if not out:
                    raise groutines.Error(f"cannot read a C string at {address:#x}: {e}")
                break
            end = got.find(b"\0")
            if end >= 0:
                out += got[:end]
                break
            out += got
        return bytes(out[:max_size]).decode("utf-8", errors="surrogateescape")

    def backtrace(self, max_frames):
        self._live()
        out = []
        frame = gdb.newest_frame()
        while frame is not None and len(out) < max_frames:
            out.append(_stack_frame(frame))
            try:
                frame = frame.older()
            except gdb.error:
                break
        return out

    def int_return_value(self):
        self._require(RETURN, "a return value")
        rax = self.register_value("rax")
        layout = self.layout()
        if layout is None or not layout.return_known or layout.return_floating:
            return rax
        v = layout.return_value(rax)
        return int(v) & _U64 if v is not None else rax

    def float_return_value(self):
        self._require(RETURN, "a return value")
        layout = self.layout()
        if layout is not None and layout.return_class == "x87":
            return float(gdb.parse_and_eval("$st0"))  # a long double, rounded to a double
        if layout is not None and layout.return_known and layout.return_floating and \
                layout.return_size == 4:
            bits = int(gdb.parse_and_eval("$xmm0.v4_int32[0]")) & 0xffffffff
            return struct.unpack("<f", struct.pack("<I", bits))[0]
        return self._xmm_double(0)

    def returns_float(self):
        layout = self.layout()
        return bool(layout is not None and (layout.return_known and layout.return_floating or
                                            layout.return_class == "x87"))

    def return_layout(self):
        """return_layout() is the function's ArgumentLayout, whose return type says where a
        forced or rewritten value goes (None: not known)."""
        return None if self.where == GONE else self.layout()

    def evaluate(self, expression):
        self._live()
        return self.backend.evaluate(expression)

    # --- writes (the backend applies what groutines decided) ---

    def write_register(self, name, value):
        gdb.parse_and_eval(f"${name} = {value & _U64:#x}")
        self._registers.pop(name, None)

    def _return_registers(self, value):
        """_return_registers() is (register, bits) for value as the function returns it."""
        layout = self.layout()
        if layout is not None:
            reg, bits, _ = layout.return_registers(value)
            return reg, bits
        if isinstance(value, float):  # no type known: the value's own kind decides
            return "xmm0_double", struct.unpack("<Q", struct.pack("<d", value))[0]
        if isinstance(value, (bool, int)):
            return "rax", int(value) & _U64
        raise groutines.Error(f"a return value must be a number or a bool, not {value!r}")

    def _write_return(self, reg, bits, value, push):
        if reg == "rax":
            self.write_register("rax", bits)
        elif reg == "xmm0_float":
            signed = bits - (1 << 32) if bits >> 31 else bits
            gdb.parse_and_eval(f"$xmm0.v4_int32[0] = {signed}")
        elif reg == "xmm0_double":
            signed = bits - (1 << 64) if bits >> 63 else bits
            gdb.parse_and_eval(f"$xmm0.v2_int64[0] = {signed}")
        else:  # st0: a long double, pushed onto the x87 stack at a forced return
            if push:
                fstat = self.register_value("fstat")
                ftag = self.register_value("ftag")
                top = ((fstat >> 11) - 1) & 7
                self.write_register("fstat", (fstat & ~0x3800) | (top << 11))
                self.write_register("ftag", ftag & ~(3 << (2 * top)))
            number = float(value) if not isinstance(value, bool) else float(int(value))
            gdb.parse_and_eval(f"$st0 = {number!r}")

    def set_return_value(self, value):
        """set_return_value() is what the caller of the returning function will see."""
        reg, bits = self._return_registers(value)
        self._write_return(reg, bits, value, push=False)

    def force_return(self, value):
        """force_return() returns value from the function at its entry without running it."""
        reg, bits = self._return_registers(value)  # before any write
        sp = self.stack_pointer()
        return_address = self.read_u64(sp)
        self._write_return(reg, bits, value, push=True)
        self.write_register("rsp", sp + 8)
        self.write_register("rip", return_address)


def _stack_frame(frame):
    pc = frame.pc()
    d = {"pc": pc}
    name = frame.name()
    if name:
        d["function"] = name
    module = gdb.solib_name(pc) or gdb.current_progspace().filename
    if module:
        d["module"] = os.path.basename(module)
    start = None
    block = None
    try:
        block = frame.block()
    except RuntimeError:
        block = None
    while block is not None and block.function is None:
        block = block.superblock
    if block is not None:
        start = block.start
        if start is not None and pc > start:
            d["offset"] = pc - start
    else:
        # Without debug info: the minimal symbol, "main + 22 in section .text".
        try:
            text = gdb.execute(f"info symbol {pc:#x}", to_string=True)
        except gdb.error:
            text = ""
        # (With `set trace-commands on` the text starts with the command's echo.)
        m = re.search(r"^(\S+)(?: \+ (\d+))? in section", text, re.M)
        if m:
            d.setdefault("function", m.group(1))
            if m.group(2):
                d["offset"] = int(m.group(2))
    sal = frame.find_sal()
    if sal.symtab is not None and sal.line:
        d["file"] = os.path.basename(sal.symtab.filename)
        d["line"] = sal.line
    return d
