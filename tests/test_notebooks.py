"""Gate 2: every chapter in nbs/ runs top to bottom under papermill with its CPU defaults.

One test per notebook. The executed copy is kept in _artifacts/notebooks/ (git-ignored); a failure names the
notebook, the cell and the error."""
import json
import sys
from pathlib import Path

import pytest

from conftest import ARTIFACTS, REPO

NOTEBOOKS = [REPO / "nbs" / "index.ipynb"] + sorted((REPO / "nbs").glob("[0-9]*.ipynb"))


@pytest.fixture(scope="session")
def kernel_name(tmp_path_factory):
    "A kernelspec that runs this very interpreter, so papermill never picks up another environment's python3."
    import os
    root = tmp_path_factory.mktemp("jupyter")
    spec = root / "kernels" / "s1nb-test"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps(dict(
        argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        display_name="s1_nb tests", language="python")))
    os.environ["JUPYTER_PATH"] = str(root) + os.pathsep + os.environ.get("JUPYTER_PATH", "")
    return "s1nb-test"


def test_every_notebook_has_a_parameters_cell():
    assert NOTEBOOKS, "no chapter notebooks found in nbs/"
    for nb in NOTEBOOKS:
        cells = json.loads(nb.read_text())["cells"]
        tagged = [c for c in cells if "parameters" in c.get("metadata", {}).get("tags", [])]
        assert len(tagged) == 1, f"{nb.name}: expected one cell tagged 'parameters', found {len(tagged)}"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(nb, kernel_name):
    import papermill as pm
    out = ARTIFACTS / "notebooks" / nb.name
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        pm.execute_notebook(str(nb), str(out), cwd=str(nb.parent), kernel_name=kernel_name,
                            progress_bar=False, parameters=dict(out_dir=str(ARTIFACTS / "figures" / nb.stem)))
    except pm.PapermillExecutionError as e:
        src = "\n".join(e.source.splitlines()[:15])
        pytest.fail(f"{nb.name}, cell {e.cell_index} (execution {e.exec_count}): {e.ename}: {e.evalue}\n"
                    f"--- cell source ---\n{src}\n--- executed copy: {out}", pytrace=False)
