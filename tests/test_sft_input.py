"""Bad input to SFT: one-line errors naming the file, row and field; flags; resuming after an interrupted save."""
import json
import os
import subprocess
import sys

import pytest
import torch

from conftest import REPO
from test_notebooks import kernel_name  # noqa: F401  (a fixture)
from s1_nb.sft import S1Recipe, load_rows, pretrained_tiny_folder, _resume_point, sft_cli, sft_summary, toy_s1k, train_sft

torch.set_num_threads(1)
ROWS = [{k: r[k] for k in ("question", "thinking_trajectories", "attempt")} for r in toy_s1k(8, seed=0)]


@pytest.fixture(scope="module")
def base():
    return pretrained_tiny_folder("tiny")


@pytest.mark.parametrize("name,text,msg", [
    ("empty.jsonl", "", "empty.jsonl: the file is empty"),
    ("blank.jsonl", "\n  \n", "blank.jsonl: the file is empty"),
    ("empty.json", "[]", "empty.json: the file has no rows"),
    ("bad.jsonl", json.dumps(ROWS[0]) + '\n{"question": oops}\n', r"bad.jsonl, line 2: not valid JSON"),
])
def test_empty_and_malformed_json_files_are_named(tmp_path, name, text, msg):
    (tmp_path / name).write_text(text)
    with pytest.raises(ValueError, match=msg): load_rows(str(tmp_path / name))


def test_empty_parquet_is_named(tmp_path):
    import pandas as pd
    pd.DataFrame({c: pd.Series([], dtype=str) for c in ROWS[0]}).to_parquet(tmp_path / "e.parquet")
    with pytest.raises(ValueError, match=r"e\.parquet: (the file has no rows|cannot read it as parquet)"):
        load_rows(str(tmp_path / "e.parquet"))


def test_non_text_attempt_names_file_row_and_field(base, tmp_path):
    rows = ROWS[:3] + [dict(ROWS[3], attempt=42)]
    (tmp_path / "d.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    with pytest.raises(ValueError, match=r"d\.jsonl: line 4: 'attempt' is int \('42'\), not text"):
        train_sft(base, str(tmp_path / "d.jsonl"), tmp_path, recipe=S1Recipe.cpu(), max_steps=1)
    with pytest.raises(ValueError, match=r"row 1: 'thinking_trajectories' is list"):
        train_sft(base, [ROWS[0], dict(ROWS[1], thinking_trajectories=["a", 3])], tmp_path, recipe=S1Recipe.cpu(), max_steps=1)


def test_s1_sft_on_an_empty_file_is_one_line_with_status_2(tmp_path):
    (tmp_path / "empty.jsonl").write_text("")
    env = dict(os.environ, OMP_NUM_THREADS="1", HF_HUB_OFFLINE="1", S1_DEBUG="",
               PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    r = subprocess.run([sys.executable, "-c", "import sys; from s1_nb.cli import main; sys.exit(main())", "sft", "--data", str(tmp_path / "empty.jsonl"),
                        "--out", str(tmp_path / "o")], env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 2, (r.stdout[-2000:], r.stderr[-2000:])
    lines = [l for l in r.stderr.splitlines() if "error" in l]
    assert len(lines) == 1 and "the file is empty" in lines[0], r.stderr[-2000:]


@pytest.mark.parametrize("kw,msg", [(dict(max_steps=0), "--max_steps: 0"), (dict(max_steps=-5), "--max_steps: -5"),
                                    (dict(save_steps=-1), "--save_steps: -1"), (dict(block_size=-2), "--block_size: -2"),
                                    (dict(loss_weighting="length"), "loss_weighting must be"),
                                    (dict(save_dtype="int8"), "save_dtype must be")])
def test_bad_flags_are_refused(tmp_path, kw, msg):
    with pytest.raises(ValueError, match=msg): sft_cli(out=str(tmp_path), **kw)


def test_resume_without_a_checkpoint_says_it_starts_fresh(tmp_path, capsys):
    assert _resume_point(tmp_path, True, 5) is None
    assert "starting fresh" in capsys.readouterr().out


def test_resume_skips_a_checkpoint_killed_while_saving(base, tmp_path, capsys):
    out = tmp_path / "run"
    train_sft(base, ROWS, out, recipe=S1Recipe.cpu(block_size=256), max_steps=4, save_steps=2, logging_steps=1)
    (out / "checkpoint-4" / "trainer_state.json").unlink()  # killed before the save finished
    capsys.readouterr()
    sft_cli(data="", out=str(out), max_steps=6, save_steps=2, resume=True, block_size=256)
    said = capsys.readouterr().out
    assert f"resume skips {out / 'checkpoint-4'}: incomplete (no trainer_state.json" in said
    assert f"resuming from {out / 'checkpoint-2'}" in said
    assert sft_summary(out)["global_step"] == 6


@pytest.mark.parametrize("params,msg", [(dict(n_rows=0), "parameter n_rows: 0 is not a whole number > 0"),
                                        (dict(overlong="keep"), "parameter overlong: 'keep' is not one of")])
def test_chapter_parameters_are_checked_first(kernel_name, tmp_path, params, msg):
    import papermill as pm
    nb = REPO / "nbs" / "02_sft.ipynb"
    with pytest.raises(pm.PapermillExecutionError) as e:
        pm.execute_notebook(str(nb), str(tmp_path / nb.name), cwd=str(nb.parent), kernel_name=kernel_name,
                            progress_bar=False, parameters=params)
    assert e.value.ename == "ValueError" and msg in e.value.evalue
    assert "check_parameters(" in e.value.source  # stopped at the check, before any cell used the value


def test_train_sft_resume_true_takes_the_newest_complete_checkpoint(base, tmp_path, capsys):
    out = tmp_path / "api"
    kw = dict(max_steps=4, save_steps=2, logging_steps=1)
    with pytest.raises(ValueError, match="no complete checkpoint"):
        train_sft(base, ROWS, out, recipe=S1Recipe.cpu(block_size=256), resume_from_checkpoint=True, **kw)
    train_sft(base, ROWS, out, recipe=S1Recipe.cpu(block_size=256), **kw)
    (out / "checkpoint-4" / "trainer_state.json").unlink()
    train_sft(base, ROWS, out, recipe=S1Recipe.cpu(block_size=256), resume_from_checkpoint=True, **kw)
    assert f"resuming from {out / 'checkpoint-2'}" in capsys.readouterr().out
    assert sft_summary(out)["global_step"] == 4
