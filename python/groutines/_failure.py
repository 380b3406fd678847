"""How a Python exception is told as a groutine failure or a load error: one line of text
and the file:line it is about."""
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


def exception_text(exc, frames=None):
    """exception_text() is 'Type: message' on one line. A bare assert shows its source line
    ('AssertionError: assert ret.value >= 0'); a syntax error in another file says where."""
    if frames is None:
        frames = traceback.extract_tb(exc.__traceback__)
    if isinstance(exc, AssertionError) and not exc.args and frames and frames[-1].line:
        return "AssertionError: " + frames[-1].line.strip()
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
