"""Entry points for the debugger plugin. The plugin puts the directory that holds this package
(found beside the plugin: lldb_plugin/README.md) on sys.path at the first Python load, calls
set_default_runtime() with its runtime, and dispatches `groutine load PATH` (a .py file or a
directory) and `groutine unload PATH` here, PATH a str as os.fsdecode() makes it:

    import groutines._host
    text = groutines._host.load_path("/abs/or/relative/x.py")   # print text as the result
    # on groutines.LoadError as e: print e.output (may be empty), then "error: " + str(e)

or, from C through the Python C API (what the LLDB plugin does), the same without exceptions
to handle:

    output, error = groutines._host.load_command(path)    # error == "" on success

load_command() and unload_command() also capture what the scripts print to sys.stdout or
sys.stderr meanwhile (module level code, a groutine starting or ending) and put it first in
output, so that it shows as the command's output and not among the debugger's own.

Both run with the GIL held by the caller and never leave it held while they wait for the
runtime's lock.
"""
import contextlib
import io

from . import _native
from ._loader import LoadError
from . import _loader

__all__ = ["load_path", "unload_path", "load_command", "unload_command"]


def _runtime():
    runtime = _native.default_runtime()
    if runtime is None:
        raise LoadError("no groutines runtime in this process: load the groutines LLDB plugin "
                        "first (plugin load .../libgroutines_lldb.so), or use "
                        "groutines.testing.Target() in a plain python3")
    return runtime


def load_path(path):
    """load_path() loads the @groutine functions of a script, or of every groutine_*.py /
    *_groutines.py script under a directory, into the debugger's runtime. Loading a script
    again replaces its groutines. Returns the text to print, in the plugin's format for
    libraries: per file,

        loaded 2 groutines from /abs/x.py
          1 header_len_bounded   waiting on call of parse_header
          2 fail_third_malloc    waiting on call of malloc

    (a groutine that failed while starting reads `failed: file:line: message`). Raises
    LoadError, whose str() is "file:line: Type: message" (one line per
    failed file) and whose output is the text of the files loaded nonetheless."""
    return "".join(loaded.text() for loaded in _loader.load_path(_runtime(), path))


def unload_path(path):
    """unload_path() unloads the groutines loaded from a script or a directory's scripts.
    Returns "unloaded N groutines from PATH\\n"; LoadError when none were loaded from it."""
    n = _loader.unload_path(_runtime(), path)
    if n == 0:
        raise LoadError(f"no Python groutines were loaded from '{path}'")
    return f"unloaded {n} groutine{'' if n == 1 else 's'} from {path}\n"


def _command(function, path):
    """_command() runs function(path) as a command: what the scripts print meanwhile (at
    module level, or a groutine while it starts or ends) is captured and comes first in the
    output, instead of going to the debugger's fd 1 among its own output."""
    printed = io.StringIO()

    def before(text):
        out = printed.getvalue()
        if out and not out.endswith("\n"):
            out += "\n"  # the loaded lines start on a line of their own
        return out + text

    try:
        with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
            text = function(path)
        return before(text), ""
    except LoadError as e:
        return before(e.output), str(e)
    except Exception as e:  # a bug of ours: still a message, never a traceback in LLDB
        return before(""), f"internal error: {type(e).__name__}: {e}"


def load_command(path):
    """load_command() is load_path() as (output, error): it never raises; error is "" on
    success, else the text to show after "error: " (output is what loaded nonetheless)."""
    return _command(load_path, path)


def unload_command(path):
    """unload_command() is unload_path() as (output, error), never raising."""
    return _command(unload_path, path)
