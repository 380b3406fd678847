"""What `groutines run` says about the groutines it loads before the program starts."""
from conftest import run, target

DL_WATCHER = """
import groutines as g


@g.groutine
async def dl_watcher():
    async for c in g.calls("dl_func"):
        g.log(f"dl_func({c.arg(0)})")
"""


def test_a_function_nothing_defines_yet_is_a_warning_and_the_run_goes_on(tmp_path):
    script = tmp_path / "groutine_dl.py"
    script.write_text(DL_WATCHER)
    r = run(script, "--", target("dlopen_main"), "2")
    assert r.code == 0, r
    assert ("warning: dl_func: no such function (yet): the hook waits for a library that "
            "defines it") in r.stderr.splitlines(), r
    assert "dl_func(0)=1\ndl_func(1)=4\n" in r.stdout, r
