"""How a Python exception is told as a groutine failure or a load error: one line of text
and the file:line it is about."""
import ast
import os
import traceback

__all__ = ["describe", "exception_text", "innermost_in"]


def _same_file(a, b):
    return a == b or os.path.realpath(a) == os.path.realpath(b)


def innermost_in(frames, file):
    """innermost_in() is the innermost traceback frame in file, else the innermost one."""
    mine = [f for f in frames if _same_file(f.filename, file)] if file else []
    if mine:
        return mine[-1]
    return frames[-1] if frames else None


# Methods of event handles that only read: an assert's operands that call them are evaluated
# again to show their values.
_READS = {"arg", "sarg", "float_arg", "reg", "read_cstring", "read_memory", "backtrace", "stack",
          "get"}


def _innermost_frame(tb):
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb.tb_frame if tb is not None else None


class _Unsafe(Exception):
    pass


def _evaluate(node, frame):
    """_evaluate() is the value of expression node in frame, when computing it has no side
    effect: names, constants, attributes, subscripts, arithmetic, and reads of event handles
    (call.arg("len")). _Unsafe otherwise."""
    from . import _native
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        if node.id in frame.f_locals:
            return frame.f_locals[node.id]
        if node.id in frame.f_globals:
            return frame.f_globals[node.id]
        raise _Unsafe
    if isinstance(node, ast.Attribute):
        value = _evaluate(node.value, frame)
        if not isinstance(value, (_native.Call, _native.Return, _native.CustomEvent)):
            if isinstance(getattr(type(value), node.attr, None), property):
                raise _Unsafe  # a user's property may do anything
        return getattr(value, node.attr)
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
        return _evaluate(node.value, frame)[node.slice.value]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.Not)):
        value = _evaluate(node.operand, frame)
        return -value if isinstance(node.op, ast.USub) else not value
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr in _READS and not node.keywords):
        owner = _evaluate(node.func.value, frame)
        if isinstance(owner, (_native.Call, _native.Return, _native.CustomEvent)):
            return getattr(owner, node.func.attr)(*[_evaluate(a, frame) for a in node.args])
    raise _Unsafe


def _assert_values(line, frame):
    """_assert_values() is ' (x = 1, y = 2)': the values of the non-constant operands of a
    bare assert's comparison (or of its single expression), or '' when they cannot be read
    without side effects."""
    try:
        source = line.strip()
        statement = ast.parse(source).body[0]
        if not isinstance(statement, ast.Assert) or frame is None:
            return ""
        test = statement.test
        operands = [test.left, *test.comparators] if isinstance(test, ast.Compare) else [test]
        shown = [f"{ast.get_source_segment(source, o) or ast.unparse(o)} = "
                 f"{_evaluate(o, frame)!r}" for o in operands if not isinstance(o, ast.Constant)]
        return f" ({', '.join(shown)})" if shown else ""
    except Exception:  # introspection never hides the failure itself
        return ""


def exception_text(exc, frames=None):
    """exception_text() is 'Type: message' on one line. A bare assert shows its source line
    and the values it compared ('AssertionError: assert ret.value >= 0 (ret.value = -1)'); a
    syntax error in another file says where."""
    if frames is None:
        frames = traceback.extract_tb(exc.__traceback__)
    if isinstance(exc, AssertionError) and not exc.args and frames and frames[-1].line:
        line = frames[-1].line
        return ("AssertionError: " + line.strip()
                + _assert_values(line, _innermost_frame(exc.__traceback__)))
    if isinstance(exc, SyntaxError):
        where = f" ({exc.filename}:{exc.lineno})" if exc.filename else ""
        return f"{type(exc).__name__}: {exc.msg}{where}"
    lines = "".join(traceback.format_exception_only(type(exc), exc)).splitlines()
    return " ".join(line.strip() for line in lines if line.strip())


def describe(exc, file):
    """describe() is (message, file, line) for an exception that ended a groutine whose
    source is file: the message, and the innermost frame of the traceback in that file."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = innermost_in(frames, file)
    if where is None:
        return exception_text(exc, frames), file or "", 0
    return exception_text(exc, frames), where.filename, where.lineno or 0
