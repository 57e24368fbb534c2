"""The `s1` command: one line per error with exit status 2 (bad input) or 1 (failure); `s1 notebooks` folders."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO
from test_notebooks import kernel_name  # noqa: F401  (fixture)

S1 = [sys.executable, "-c", "import sys; from s1_nb.cli import main; sys.exit(main())"]


def s1(*args, cwd=REPO, env=None):
    return subprocess.run([*S1, *args], cwd=cwd, capture_output=True, text=True, env={**os.environ, **(env or {})})


def test_bad_argument_is_one_line_and_status_2():
    r = s1("notebooks", "--only", "no-such-chapter")
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == [r.stderr.strip()]  # exactly one line, no traceback
    assert r.stderr.startswith("s1 notebooks: error: --only: 'no-such-chapter' matches no chapter")


def test_debug_shows_the_traceback():
    for r in (s1("notebooks", "--only", "zzz", "--debug"), s1("notebooks", "--only", "zzz", env=dict(S1_DEBUG="1"))):
        assert r.returncode == 2 and "Traceback (most recent call last)" in r.stderr
        assert r.stderr.strip().splitlines()[-1].startswith("s1 notebooks: error: --only")


def test_a_failure_is_status_1_and_names_its_type(monkeypatch, capsys, tmp_path):
    import s1_nb.cli as cli
    mod = tmp_path / "failing_cmd.py"
    mod.write_text("def run():\n    raise RuntimeError('the disk is full\\nsecond line')\n"
                   "def bad():\n    raise FileNotFoundError('--data: no file at x.jsonl')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(cli.COMMANDS, "fail", ("failing_cmd", "run"))
    monkeypatch.setitem(cli.COMMANDS, "bad", ("failing_cmd", "bad"))
    assert cli.main(["fail"]) == 1
    assert capsys.readouterr().err == "s1 fail: error: RuntimeError: the disk is full second line\n"
    assert cli.main(["bad"]) == 2
    assert capsys.readouterr().err == "s1 bad: error: --data: no file at x.jsonl\n"


def test_outside_a_clone_notebooks_says_what_it_needs():
    from s1_nb.cli import repo_notebooks
    with pytest.raises(FileNotFoundError, match=r"clone of the repository.*pip install -e '\.\[dev\]'"):
        repo_notebooks("/nonexistent/nbs")


def test_figures_land_in_the_run_folder_whatever_the_cwd(tmp_path, kernel_name, monkeypatch):
    "A relative run folder is the caller's, not the notebooks' folder (papermill runs chapters in nbs/)."
    from s1_nb.cli import run_notebooks
    nbs = tmp_path / "clone" / "nbs"; nbs.mkdir(parents=True)
    cells = [dict(cell_type="code", metadata=dict(tags=["parameters"]), source="out_dir = None", outputs=[], execution_count=None),
             dict(cell_type="code", metadata={}, outputs=[], execution_count=None,
                  source="from pathlib import Path\nPath(out_dir).mkdir(parents=True, exist_ok=True)\n(Path(out_dir) / 'f.png').write_text('x')")]
    (nbs / "00_x.ipynb").write_text(json.dumps(dict(cells=cells, metadata=dict(kernelspec=dict(name="python3", language="python",
                                    display_name="Python 3")), nbformat=4, nbformat_minor=5)))
    caller = tmp_path / "caller"; caller.mkdir(); monkeypatch.chdir(caller)
    res = run_notebooks("runs/nb", nbs, kernel_name=kernel_name)
    assert [r["ok"] for r in res] == [True]
    assert (caller / "runs/nb/figures/00_x/f.png").exists() and (caller / "runs/nb/00_x.ipynb").exists()
    assert not (nbs / "runs").exists()


def test_inplace_run_stamps_cells_and_edits_show_as_stale(tmp_path, kernel_name, monkeypatch):
    "`s1 notebooks --inplace` commits outputs with a stamp; an edit after the run is what `stale_cells` reports."
    from s1_nb.cli import run_notebooks, stale_cells
    monkeypatch.chdir(REPO)  # nbdev_clean reads settings.ini (which keeps the s1_source stamp)
    nbs = tmp_path / "nbs"; nbs.mkdir()
    cells = [dict(cell_type="code", metadata=dict(tags=["parameters"]), source="n = 3", outputs=[], execution_count=None),
             dict(cell_type="code", metadata={}, outputs=[], execution_count=None, source="print('n is', n)")]
    path = nbs / "00_x.ipynb"
    path.write_text(json.dumps(dict(cells=cells, metadata=dict(kernelspec=dict(name="python3", language="python",
                    display_name="Python 3")), nbformat=4, nbformat_minor=5)))
    assert [r["ok"] for r in run_notebooks(None, nbs, kernel_name=kernel_name, inplace=True)] == [True]
    nb = json.loads(path.read_text())
    assert nb["cells"][1]["outputs"][0]["text"] == ["n is 3\n"] and stale_cells(nb) == []
    assert all(set(c["metadata"]) <= {"tags", "s1_source"} for c in nb["cells"])  # cleaned the nbdev way
    nb["cells"][1]["source"] = "print('n was', n)"
    assert stale_cells(nb) == ["cell 1 (\"print('n was', n)\"): source changed after its output was made"]


def test_a_failed_inplace_run_leaves_every_cell_stale(tmp_path, kernel_name, monkeypatch):
    from s1_nb.cli import run_notebooks, stale_cells
    monkeypatch.chdir(REPO)
    nbs = tmp_path / "nbs"; nbs.mkdir()
    cells = [dict(cell_type="code", metadata=dict(tags=["parameters"], s1_source="0"), source="n = 3", outputs=[], execution_count=None),
             dict(cell_type="code", metadata={}, outputs=[], execution_count=None, source="raise ValueError('broken')"),
             dict(cell_type="code", metadata={}, outputs=[], execution_count=None, source="print(n)")]
    path = nbs / "00_x.ipynb"
    path.write_text(json.dumps(dict(cells=cells, metadata=dict(kernelspec=dict(name="python3", language="python",
                    display_name="Python 3")), nbformat=4, nbformat_minor=5)))
    stamped = json.loads(path.read_text()); __import__("s1_nb.cli").cli.stamp_sources(stamped); path.write_text(json.dumps(stamped))
    assert [r["ok"] for r in run_notebooks(None, nbs, kernel_name=kernel_name, inplace=True)] == [False]
    problems = stale_cells(json.loads(path.read_text()))
    assert len([p for p in problems if "not executed" in p]) == 3 and any("error output ValueError: broken" in p for p in problems)


def test_a_second_notebooks_run_into_the_same_folder_is_refused(tmp_path):
    from s1_nb.cli import run_notebooks
    from s1_nb.core import run_lock
    with run_lock(tmp_path / "run"):
        with pytest.raises(ValueError, match="is in use by another run"):
            run_notebooks(tmp_path / "run", only="00_core")
    assert not (tmp_path / "run" / "00_core.ipynb").exists()
