"""Groutines leave nothing behind: what a coroutine held is released when it finishes, fails
or is unloaded, and so are predicates and events; hooks and watches go with them."""
import gc
import weakref

import groutines as g


class Token:
    """Something a groutine holds, whose release a weakref tells."""


def loaded_holding(target, body):
    """loaded_holding() loads a groutine that holds a Token in a local and in its predicate;
    returns a weakref to the token."""
    token = Token()
    ref = weakref.ref(token)

    async def holder(token=token):
        await g.call("f", where=lambda c, token=token: token is not None)
        await body()

    target.load(holder)
    del token
    return ref


def test_a_finished_groutine_releases_what_it_held(target):
    async def nothing():
        pass

    ref = loaded_holding(target, nothing)
    assert ref() is not None
    target.call(1, "f")
    assert target.groutine("holder").state == "finished"
    assert ref() is None


def test_a_failed_groutine_releases_what_it_held(target):
    async def fail():
        raise RuntimeError("no")

    ref = loaded_holding(target, fail)
    target.call(1, "f")
    assert target.groutine("holder").state == "failed"
    gc.collect()  # the exception's traceback held the frame in a cycle
    assert ref() is None


def test_an_unloaded_groutine_releases_what_it_held(target):
    async def nothing():
        pass

    ref = loaded_holding(target, nothing)
    target.unload("holder")
    assert ref() is None


def test_a_closed_target_releases_what_its_groutines_held():
    from groutines.testing import Target

    async def nothing():
        pass

    with Target() as t:
        ref = loaded_holding(t, nothing)
    assert ref() is None
    assert t.hooked == [] and t.watched == 0


def test_handles_and_event_data_are_not_kept_by_the_runtime(target):
    refs = []

    async def grabber():
        async for c in g.calls("f"):
            refs.append(weakref.ref(c))

    target.load(grabber)
    for _ in range(3):
        target.call(1, "f")
        target.ret(1)
    # The last one is still the loop variable of the live groutine; the others are gone.
    assert [r() is None for r in refs] == [True, True, False]
    target.unload("grabber")
    assert refs[-1]() is None


def test_python_exits_cleanly_with_groutines_still_loaded(tmp_path):
    # A target left open in a global, with a groutine suspended mid-stream: at exit its
    # finally block runs (while Python still can) and the interpreter ends with status 0.
    import os
    import subprocess
    import sys
    program = tmp_path / "left_open.py"
    program.write_text(
        "import groutines as g\n"
        "from groutines.testing import Target\n"
        "T = Target()\n"
        "async def lingering():\n"
        "    try:\n"
        "        async for c in g.calls('f'):\n"
        "            await c.returned()\n"
        "    finally:\n"
        "        print('finally ran', flush=True)\n"
        "T.load(lingering)\n"
        "T.call(1, 'f')\n")
    proc = subprocess.run([sys.executable, str(program)], capture_output=True, text=True,
                          timeout=60, env=dict(os.environ))
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "finally ran\n", "")


def test_a_runtime_that_goes_while_python_finalises_calls_no_python_backend_method(tmp_path):
    # A runtime made after groutines' own exit handler ran (an earlier-registered handler
    # runs later), kept in a module: it goes while the interpreter finalises, when its
    # Python backend must not be called (it was: remove_call_hook ran then).
    import os
    import subprocess
    import sys
    program = tmp_path / "late_runtime.py"
    program.write_text(
        "import atexit, os, sys, types\n"
        "def late():\n"
        "    import groutines as g\n"
        "    class B(g.Backend):\n"
        "        def install_call_hook(self, id, name, write=os.write):\n"
        "            write(1, f'install {name}\\n'.encode())\n"
        "        def remove_call_hook(self, id, write=os.write):\n"
        "            write(1, b'remove_call_hook called\\n')\n"
        "        def watch_return(self, *a): pass\n"
        "        def unwatch_return(self, *a): pass\n"
        "    holder = types.ModuleType('holder')\n"
        "    sys.modules['holder'] = holder\n"
        "    holder.runtime = g.Runtime(B())\n"
        "    async def waits():\n"
        "        await g.call('f')\n"
        "    holder.runtime.load(waits)\n"
        "atexit.register(late)\n"
        "import groutines\n")
    proc = subprocess.run([sys.executable, str(program)], capture_output=True, text=True,
                          timeout=60, env=dict(os.environ))
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "install f\n", "")
