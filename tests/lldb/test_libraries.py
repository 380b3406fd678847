"""Hooks on functions in shared libraries: one loaded by dlopen after launch, and a
stripped one known only by its dynamic symbol (under GDB as well)."""
import re

from conftest import debug, example, lldb, target


def test_a_hook_on_a_dlopened_function_resolves_when_the_library_loads():
    s = lldb(f"file {target('dlopen_main')}", f"groutine load {example('watch')}",
             "groutine fire watch slot=a function=dl_func", "groutine subscriptions", "run 3",
             "groutine subscriptions")
    before = s.after("groutine subscriptions")
    assert re.search(r"^dl_func\s+1\s+0\s+", before, re.M), s  # pending: no location yet
    lines = [line.rsplit(" thread ", 1)[0] for line in s.logged("watch-a")]
    assert lines == ["dl_func(0)=1", "dl_func(1)=4", "dl_func(2)=7"], s
    # Nothing was delivered before the library existed.
    assert s.output.index("dlopen libdl_target.so") < s.output.index("[watch-a]"), s
    after = s.output[s.output.rindex("(lldb) groutine subscriptions"):]
    assert re.search(r"^dl_func\s+1\s+1\s+\d+\s+3\s+\S+$", after, re.M), s


def test_a_stripped_library_function_is_hooked_through_its_dynamic_symbol(debugger):
    listed = ("breakpoint list 1",) if debugger == "lldb" else ()
    s = debug(debugger, f"file {target('stripped_main')}", f"groutine load {example('watch')}",
              "groutine fire watch slot=a function=lib_func args=2", "run 3", *listed)
    lines = [line.rsplit(" thread ", 1)[0] for line in s.logged("watch-a")]
    assert lines == ["lib_func(0,2)=7", "lib_func(1,3)=10", "lib_func(2,4)=15"], s
    if debugger == "gdb":
        return
    # One location: the function's first instruction in the library, not a PLT stub.
    listing = s.after("breakpoint list 1")
    assert "locations = 1" in listing and "where = libstripped.so`lib_func," in listing, s
