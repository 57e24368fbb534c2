"""Gate 1: notebooks are committed clean and the package is what nbdev_export makes of them.

The checks inside the notebooks run once, under papermill (test_notebooks.py runs every cell, `#| gpu`/`#| vllm`
cells check for themselves); `nbdev_test` would run the same cells a second time."""
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import REPO

NOTEBOOKS = sorted((REPO / "nbs").glob("*.ipynb"))
BIN = Path(sys.executable).parent


def run(cmd, cwd):
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)


def test_notebooks_are_clean(tmp_path):
    dirty = []
    for nb in NOTEBOOKS:
        copy = tmp_path / nb.name
        shutil.copy(nb, copy)
        r = run([str(BIN / "nbdev_clean"), "--fname", str(copy)], cwd=REPO)
        assert r.returncode == 0, r.stderr
        if copy.read_bytes() != nb.read_bytes(): dirty.append(nb.name)
    assert not dirty, f"not clean (run nbdev_clean and commit): {dirty}"


def test_package_in_sync_with_notebooks(tmp_path):
    for name in ("settings.ini", "setup.py"): shutil.copy(REPO / name, tmp_path / name)
    shutil.copytree(REPO / "nbs", tmp_path / "nbs")
    shutil.copytree(REPO / "s1_nb", tmp_path / "s1_nb", ignore=shutil.ignore_patterns("__pycache__"))
    r = run([str(BIN / "nbdev_export")], cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    ours = {p.relative_to(REPO): p.read_text() for p in (REPO / "s1_nb").rglob("*.py")}
    fresh = {p.relative_to(tmp_path): p.read_text() for p in (tmp_path / "s1_nb").rglob("*.py")}
    assert sorted(ours) == sorted(fresh), "module files differ from what nbdev_export writes"
    stale = [str(k) for k in ours if ours[k] != fresh[k]]
    assert not stale, f"out of sync with nbs/ (run nbdev_export and commit; never edit s1_nb/ by hand): {stale}"
