"""The runner's report of spawned children and of missed calls (docs/run.md, "The report")."""
from conftest import run, script, target


def test_the_report_counts_children_names_the_failed_ones_and_says_what_a_stream_missed():
    r = run(script("groutine_triangles.py"), "--", target("recursive"), "1", "200")
    assert r.code == 1, r
    assert r.stdout == "triangle(200)=20100\n", r
    lines = r.stderr.splitlines()
    i = lines.index("PASS in_line (passed, 2 events)")
    assert lines[i + 1] == "  missed 200 calls of triangle (busy when they came)", r
    # 201 calls and 201 returns, the calls taken by the parent, each return by its child.
    i = lines.index("FAIL spawning (failed, 402 events)")
    assert lines[i + 1] == "  children: 201 spawned, 2 failed", r
    failed = [line for line in lines[i + 2:] if "(ended child check)" in line]
    assert len(failed) == 2 and "n=200 returned 20100" in failed[1], r
    assert "1 passed, 1 failed, 0 never triggered" in r.stderr, r
