"""Papermill parameters are checked in the cell right after the parameters cell, with the parameter's name."""
import ast
import json

import pytest

from conftest import ARTIFACTS, REPO
from test_notebooks import NOTEBOOKS, kernel_name  # noqa: F401  (kernel_name is a fixture)


def code_cells(nb):
    return [c for c in json.loads(nb.read_text())["cells"] if c["cell_type"] == "code"]


def parameter_names(cell) -> list[str]:
    tree = ast.parse("".join(cell["source"]))
    return [t.id for node in tree.body if isinstance(node, ast.Assign) for t in node.targets if isinstance(t, ast.Name)]


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_parameters_are_checked_right_after_the_parameters_cell(nb):
    cells = code_cells(nb)
    i = next(i for i, c in enumerate(cells) if "parameters" in c.get("metadata", {}).get("tags", []))
    check = "".join(cells[i + 1]["source"])
    assert "check_parameters(" in check, f"{nb.name}: the cell after the parameters cell does not call check_parameters"
    call = next(n for n in ast.walk(ast.parse(check)) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "check_parameters")
    rules = call.args[1]
    checked = {k.arg for k in rules.keywords} if isinstance(rules, ast.Call) else {ast.literal_eval(k) for k in rules.keys}
    missing = [n for n in parameter_names(cells[i]) if n not in checked]
    assert not missing, f"{nb.name}: parameters without a rule in check_parameters: {missing}"


def test_a_bad_parameter_stops_at_the_check_with_its_name(kernel_name, tmp_path):
    import papermill as pm
    nb = REPO / "nbs" / "00_core.ipynb"
    with pytest.raises(pm.PapermillExecutionError) as e:
        pm.execute_notebook(str(nb), str(tmp_path / nb.name), cwd=str(nb.parent), kernel_name=kernel_name,
                            progress_bar=False, parameters=dict(model=5))
    assert e.value.ename == "ValueError" and "parameter model: 5 is not str" in e.value.evalue
    assert "check_parameters(" in e.value.source  # it stopped at the check, before any cell used the value


def test_a_misspelled_parameter_is_named_by_the_check(kernel_name, tmp_path):
    import papermill as pm
    nb = REPO / "nbs" / "00_core.ipynb"
    with pytest.raises(pm.PapermillExecutionError) as e:
        pm.execute_notebook(str(nb), str(tmp_path / nb.name), cwd=str(nb.parent), kernel_name=kernel_name,
                            progress_bar=False, parameters=dict(modle="tiny"))
    assert "parameter modle: this notebook has no such parameter (did you mean model?)" in e.value.evalue
    assert "check_parameters(" in e.value.source


@pytest.mark.parametrize("value", [float("inf"), float("-inf"), float("nan")])
def test_non_finite_numbers_are_refused_by_every_number_rule(value):
    from s1_nb.core import check_parameters
    for rule in ("number", "fraction", float):
        with pytest.raises(ValueError, match="is not a"):
            check_parameters(dict(x=value), dict(x=rule), injected=[])


@pytest.mark.parametrize("values, rules, message", [
    (dict(seeds=[0, 0]), dict(seeds="seeds"), "parameter seeds: [0, 0] is not a list of distinct whole numbers >= 0"),
    (dict(seeds=[-1]), dict(seeds="seeds"), "is not a list of distinct"),
    (dict(seeds=["a"]), dict(seeds="seeds"), "is not a list of distinct"),
    (dict(learning_rate=-1e-3), dict(learning_rate="positive number"), "-0.001 is not a finite number > 0"),
    (dict(learning_rate=float("inf")), dict(learning_rate="positive number"), "inf is not a finite number"),
])
def test_seed_lists_and_rates_are_checked(values, rules, message):
    from s1_nb.core import check_parameters
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        check_parameters(values, rules, injected=[])


def test_the_chapters_refuse_repeated_seeds_and_a_negative_rate():
    import ast
    def rule(nb, name):
        cells = code_cells(REPO / "nbs" / nb)
        i = next(i for i, c in enumerate(cells) if "parameters" in c.get("metadata", {}).get("tags", []))
        call = next(n for n in ast.walk(ast.parse("".join(cells[i + 1]["source"]))) if isinstance(n, ast.Call)
                    and getattr(n.func, "id", "") == "check_parameters")
        return ast.literal_eval(next(k.value for k in call.args[1].keywords if k.arg == name))
    assert rule("06_laptop_s1.ipynb", "seeds") == "seeds"
    assert rule("02_sft.ipynb", "learning_rate") == rule("02_sft.ipynb", "gpu_memory_gb") == "positive number"
