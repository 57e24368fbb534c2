"""The chapters are committed executed: no cell was edited after its output was made, and no output is an error.

Regenerate with `s1 notebooks --inplace` (then `nbdev_clean`); see chapter 99 for how the stamps work."""
import json

import pytest

from conftest import REPO

CHAPTERS = sorted((REPO / "nbs").glob("*.ipynb"))


@pytest.mark.parametrize("nb", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_committed_outputs_are_fresh(nb):
    from s1_nb.cli import stale_cells
    problems = stale_cells(json.loads(nb.read_text()))
    assert not problems, f"{nb.name} needs `s1 notebooks --inplace --only {nb.stem}`:\n" + "\n".join(problems[:10])
