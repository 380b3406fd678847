"""The .deb (`cpack -G DEB` in the build): it holds the installed tree under /usr, depends on
what the tree needs at run time, apt can install it here (simulated: the test does not change
the machine), and its tree, extracted anywhere, runs the README tour with `groutines run`."""
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from test_install import BUILD, TARGETS, TIMEOUT, run

CPACK = os.environ.get("GROUTINES_CPACK", "cpack")


@pytest.fixture(scope="module")
def deb(tmp_path_factory):
    """deb is the package cpack makes of the build, in a temporary directory."""
    where = tmp_path_factory.mktemp("deb")
    proc = subprocess.run([CPACK, "-G", "DEB", "--config", str(BUILD / "CPackConfig.cmake"),
                           "-B", str(where)], capture_output=True, text=True, timeout=TIMEOUT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    debs = sorted(where.glob("groutines_*.deb"))
    assert len(debs) == 1, (debs, proc.stdout)
    return debs[0]


def field(deb, name):
    return subprocess.run(["dpkg-deb", "-f", str(deb), name], capture_output=True, text=True,
                          check=True).stdout.strip()


def test_the_deb_depends_on_what_the_installed_tree_runs_with(deb):
    assert deb.name == "groutines_0.1.0_amd64.deb"
    depends = [d.strip().split(" ")[0] for d in field(deb, "Depends").split(",")]
    for package in ("lldb-19", "python3-lldb-19", "python3", "libboost-context1.74.0",
                    "libzydis4.0", "libdw1"):
        assert package in depends, depends
    assert field(deb, "Recommends") == "gdb"
    files = subprocess.run(["dpkg-deb", "-c", str(deb)], capture_output=True, text=True,
                           check=True).stdout
    for path in ("./usr/bin/groutines", "./usr/lib/libgroutines_lldb.so",
                 "./usr/lib/libgroutines_agent.so", "./usr/lib/libgroutines_core.so",
                 "./usr/lib/cmake/groutines/groutinesConfig.cmake",
                 "./usr/include/groutines/groutines.hpp",
                 "./usr/share/groutines/python/groutines/_host.py",
                 "./usr/share/groutines/stock/heap.py",
                 "./usr/lib/groutines/stock/libgroutine_stock_heap.so",
                 "./usr/share/groutines/examples/tour.py"):
        assert f" {path}\n" in files, (path, files)


@pytest.mark.skipif(shutil.which("apt-get") is None, reason="no apt-get")
def test_apt_can_install_the_deb_with_its_dependencies(deb):
    proc = subprocess.run(["apt-get", "-s", "install", str(deb)], capture_output=True,
                          text=True, timeout=TIMEOUT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Inst groutines (0.1.0" in proc.stdout, proc.stdout


def test_the_deb_tree_extracted_anywhere_runs_the_readme_tour(deb, tmp_path):
    root = tmp_path / "root"
    subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
    shutil.copy2(TARGETS / "calls_O0_g", tmp_path / "calls_O0_g")
    prefix = root / "usr"
    r = run(prefix, tmp_path, "groutines", "run", prefix / "share/groutines/examples/tour.py",
            "stock:cpp/heap", "--", "./calls_O0_g", "2")
    assert r.code == 0, r
    assert "6 passed, 0 failed, 0 never triggered; calls_O0_g exited with status 0" in r.stderr, r
