"""Loading groutine scripts: @groutine marks async functions; a file is executed as a module
and its marked functions are loaded into a runtime, replacing what the file loaded before."""
import atexit
import fnmatch
import hashlib
import inspect
import linecache
import os
import sys
import traceback
import types
import weakref

from . import _native
from ._failure import exception_text, innermost_in

__all__ = ["LoadError", "groutine", "load_path", "load_function", "load_module", "unload_path"]

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep

# File names a directory load picks up, like test discovery.
PATTERNS = ("groutine_*.py", "*_groutines.py")


class LoadError(_native.Error):
    """A groutine script could not be loaded. str() is 'file:line: Type: message' (one line
    per file that failed). output is the text of what was loaded nonetheless (the other
    files of a directory), to print before the error."""

    def __init__(self, message, output=""):
        super().__init__(message)
        self.output = output


# The files being loaded now (a stack: a script may load another), each with the functions
# marked in it so far.
_collecting = []


def groutine(function=None, *, name=None):
    """@groutine or @groutine(name="...") marks an `async def` function without parameters as
    a groutine. Loading its file (`groutine load file.py`) starts it."""
    if isinstance(function, str) and name is None:  # @groutine("name")
        function, name = None, function

    def mark(fn):
        if not inspect.iscoroutinefunction(fn):
            kind = "a class" if inspect.isclass(fn) else "a plain function"
            raise TypeError(f"@groutines.groutine marks an async def function; "
                            f"'{getattr(fn, '__qualname__', fn)}' is {kind}")
        required = [p.name for p in inspect.signature(fn).parameters.values()
                    if p.default is p.empty
                    and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
        if required:
            raise TypeError(f"a groutine takes no parameters; '{fn.__qualname__}' needs "
                            + ", ".join(required))
        fn.__groutine_name__ = name or fn.__name__
        file = os.path.realpath(fn.__code__.co_filename)
        for path, found in reversed(_collecting):
            if path == file:
                found.append(fn)
                break
        return fn

    return mark if function is None else mark(function)


class Loaded:
    """What one load did: the groutines started (names, ids), how many it replaced, and the
    text the debugger's `groutine load` prints for them, rendered by the core as for a C++
    library right after they started (a line for the file, then `  ID NAME STATE` each; a
    groutine that already failed reads `failed: file:line: message`)."""

    def __init__(self, runtime, source, names, ids, replaced):
        self.source = source
        self.names = names
        self.ids = ids
        self.replaced = replaced
        self._text = _native.loaded_text(runtime, source, ids)

    def text(self):
        return self._text


def _def_line(fn):
    """_def_line() is the line of the `def` itself (co_firstlineno is the first decorator)."""
    code = fn.__code__
    line = code.co_firstlineno
    for offset in range(50):
        text = linecache.getline(code.co_filename, line + offset).lstrip()
        if text.startswith(("async def", "def")):
            return line + offset
        if not text:
            break
    return line


_SCRIPTS = "groutines.scripts."


def _as_text(path):
    """_as_text() is path as the runtime keeps it: bytes that are not UTF-8 (the lone
    surrogates os.fsdecode() makes of them) escaped as \\udcXX."""
    return path.encode("utf-8", "backslashreplace").decode("utf-8")


def _module_name(path):
    stem = os.path.splitext(os.path.basename(path))[0]
    stem = "".join(c if c.isalnum() else "_" for c in stem)
    digest = hashlib.sha1(os.fsencode(path)).hexdigest()[:8]
    return f"{_SCRIPTS}{stem}_{digest}"


def _error_at(exc, path):
    """_error_at() is 'file:line: Type: message' for an exception raised while loading path."""
    if isinstance(exc, SyntaxError) and exc.filename and os.path.realpath(exc.filename) == path:
        return f"{path}:{exc.lineno}: {type(exc).__name__}: {exc.msg}"
    frames = traceback.extract_tb(exc.__traceback__)
    where = innermost_in(frames, path)
    text = exception_text(exc, frames)
    if where is None:
        return f"{path}: {text}"
    message = f"{where.filename}:{where.lineno}: {text}"
    # Where it was raised, when that is in another module than the script (not ours).
    theirs = [f for f in frames if not f.filename.startswith(_PACKAGE_DIR)]
    if theirs and theirs[-1] is not where:
        message += f" (raised at {theirs[-1].filename}:{theirs[-1].lineno})"
    return message


# The modules the scripts of each directory imported from that directory (their siblings:
# `import helpers`), by directory, then by module name.
_siblings = {}


def _under(module, directory):
    """_under() tells whether module was loaded from a file under directory."""
    file = getattr(module, "__file__", None)
    return bool(file) and os.path.realpath(file).startswith(directory + os.sep)


class _OwnSiblings:
    """_OwnSiblings makes a script of directory import its own sibling modules, not those of
    another script directory that has the same names (two `helpers.py`): while the script
    runs, the directory is first on sys.path and the siblings other directories imported are
    out of sys.modules; the modules it imports from its directory are then kept as its
    directory's, and the others' put back. As pytest drops a rootdir-less conftest's cached
    module before importing the next one, instead of letting sys.modules hand back the
    first."""

    def __init__(self, directory):
        self.directory = directory

    def __enter__(self):
        self.before = set(sys.modules)
        self.theirs = {n: m for d, modules in _siblings.items() if d != self.directory
                       for n, m in modules.items() if sys.modules.get(n) is m}
        for n in self.theirs:
            del sys.modules[n]
        sys.modules.update(_siblings.get(self.directory, {}))
        if sys.path[:1] != [self.directory]:
            if self.directory in sys.path:
                sys.path.remove(self.directory)
            sys.path.insert(0, self.directory)  # a script imports its siblings

    def __exit__(self, *exc):
        ours = _siblings.setdefault(self.directory, {})
        for n, m in list(sys.modules.items()):
            if (n not in self.before and not n.startswith(_SCRIPTS)
                    and _under(m, self.directory)):
                ours[n] = m
        sys.modules.update(self.theirs)
        return False


def _execute(path):
    """_execute() runs the script at path as a fresh module; returns its marked functions."""
    name = _module_name(path)
    module = types.ModuleType(name)
    module.__file__ = path
    found = []
    previous = sys.modules.get(name)
    sys.modules[name] = module
    _collecting.append((path, found))
    try:
        with open(path, "rb") as f:
            source = f.read()
        code = compile(source, path, "exec", dont_inherit=True)
        with _OwnSiblings(os.path.dirname(path)):
            exec(code, module.__dict__)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # SystemExit too: a script must not end the debugger
        if previous is None:
            sys.modules.pop(name, None)
        else:
            sys.modules[name] = previous
        raise LoadError(_error_at(exc, path)) from None
    finally:
        _collecting.pop()
    return found


def _start(runtime, source, functions):
    """_start() replaces the groutines of source with functions (all checked first)."""
    seen = {}
    for fn in functions:
        name = fn.__groutine_name__
        if name in seen:
            raise LoadError(f"{source}:{_def_line(fn)}: groutine name '{name}' is used twice "
                            f"in this file (first at line {_def_line(seen[name])})")
        seen[name] = fn
    replaced = runtime.unload_source(source)
    names, ids = [], []
    for fn in functions:
        ids.append(runtime.load(fn.__groutine_name__, source, fn.__code__.co_filename,
                                _def_line(fn), fn()))
        names.append(fn.__groutine_name__)
    return Loaded(runtime, source, names, ids, replaced)


def load_file(runtime, path):
    """load_file() loads every @groutine of the script at path (a real path) into runtime,
    replacing the groutines it loaded before. Raises LoadError; then nothing changed."""
    if not os.path.isfile(path):
        raise LoadError(f"no such file '{path}'")
    functions = _execute(path)
    if not functions:
        raise LoadError(f"no groutines in {path} (mark an async def with @groutines.groutine)")
    return _start(runtime, path, functions)


def discover(directory):
    """discover() lists the groutine scripts under directory, sorted, like test discovery:
    files named groutine_*.py or *_groutines.py, skipping hidden and __pycache__ dirs."""
    found = []
    for root, dirs, files in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__pycache__")
        for f in sorted(files):
            if any(fnmatch.fnmatch(f, p) for p in PATTERNS):
                found.append(os.path.join(root, f))
    return found


def load_path(runtime, path):
    """load_path() loads a script, or every script of a directory, into runtime; returns the
    Loaded of each file. A directory's bad files do not stop the others: LoadError at the
    end lists them, with the text of what was loaded as its output."""
    real = os.path.realpath(os.path.expanduser(path))
    if os.path.isdir(real):
        files = discover(real)
        if not files:
            raise LoadError(f"no groutine scripts in '{path}' (files named "
                            + " or ".join(PATTERNS) + ")")
        loaded, errors = [], []
        for f in files:
            try:
                loaded.append(load_file(runtime, f))
            except LoadError as e:
                errors.append(str(e))
        if errors:
            raise LoadError("\n".join(errors), "".join(l.text() for l in loaded))
        return loaded
    if not os.path.exists(real):
        raise LoadError(f"no such file or directory '{path}'")
    return [load_file(runtime, real)]


def load_function(runtime, fn):
    """load_function() starts one async function as a groutine (adding, not replacing)."""
    if not inspect.iscoroutinefunction(fn):
        raise TypeError(f"load() takes a script path, a module or an async def function, "
                        f"not {fn!r}")
    if not hasattr(fn, "__groutine_name__"):
        groutine(fn)
    source = os.path.realpath(fn.__code__.co_filename)
    gid = runtime.load(fn.__groutine_name__, source, fn.__code__.co_filename, _def_line(fn),
                       fn())
    return Loaded(runtime, source, [fn.__groutine_name__], [gid], 0)


def load_module(runtime, module):
    """load_module() loads the @groutine functions defined in an imported module, replacing
    what was loaded from its file."""
    source = os.path.realpath(module.__file__)
    functions = [v for v in vars(module).values()
                 if inspect.iscoroutinefunction(v) and hasattr(v, "__groutine_name__")
                 and os.path.realpath(v.__code__.co_filename) == source]
    if not functions:
        raise LoadError(f"no groutines in {source} (mark an async def with @groutines.groutine)")
    return _start(runtime, source, functions)


def unload_path(runtime, path):
    """unload_path() unloads what was loaded from a script, or from the scripts of a
    directory; returns how many groutines."""
    real = os.path.realpath(os.path.expanduser(path))
    # The runtime keeps a source as UTF-8 text, bytes that are not UTF-8 escaped (\udcff).
    prefix = _as_text(real + os.sep)
    chosen = [g for g in runtime.groutines() if g["python"]
              and (g["source"] == _as_text(real) or g["source"].startswith(prefix))]
    sources = sorted({g["source"] for g in chosen})
    try:  # all or nothing, refused from a delivery in the runtime's words
        n = runtime.unload_sources(sources)
    except _native.Error as e:
        raise LoadError(str(e)) from None
    # The scripts' modules, by the source the runtime keeps for them.
    modules = {_as_text(os.path.realpath(m.__file__)): name
               for name, m in list(sys.modules.items())
               if name.startswith(_SCRIPTS) and isinstance(getattr(m, "__file__", None), str)}
    for source in sources:
        if source in modules:
            sys.modules.pop(modules[source], None)
    return n


# --- Interpreter exit ---

# Scripted targets still open (closed at exit, before the interpreter goes).
open_targets = weakref.WeakSet()


@atexit.register
def _at_exit():
    # No Python groutine may outlive the interpreter: whatever runtime it is in, unload it
    # while Python can still run its finally blocks.
    for target in list(open_targets):
        target.close()
    runtime = _native.default_runtime()
    if runtime is not None:
        runtime.unload_python()
