"""Output from threads other than GDB's: the agent's service thread delivers calls while GDB's
own thread waits for the target, and GDB's API (gdb.write, gdb.flush) is not thread-safe: a
call from another thread can crash GDB. install() makes gdb.write safe from any thread: on
GDB's thread it is GDB's; on another, a gdb.write someone replaced with a Python function
(the runner's driver writes into its report) is called as it is, and GDB's own is replaced by
one write() of the text to GDB's standard output or error (a line arrives whole)."""
import os
import threading

import gdb

_main = threading.get_ident()


def on_gdb_thread():
    """on_gdb_thread() tells whether the caller is GDB's own thread."""
    return threading.get_ident() == _main


def install():
    """install() wraps gdb.write and gdb.flush (once)."""
    if getattr(gdb.write, "_groutines", False):
        return
    original_write, original_flush = gdb.write, gdb.flush
    builtin = type(original_write).__name__ == "builtin_function_or_method"

    def write(text, stream=gdb.STDOUT):
        if on_gdb_thread() or not builtin:
            return original_write(text, stream=stream)
        data = str(text).encode(errors="surrogateescape")
        fd = 2 if stream in (gdb.STDERR, gdb.STDLOG) else 1
        while data:
            data = data[os.write(fd, data):]

    def flush(stream=gdb.STDOUT):
        if on_gdb_thread() or type(original_flush).__name__ != "builtin_function_or_method":
            return original_flush(stream=stream)

    write._groutines = True
    gdb.write, gdb.flush = write, flush
