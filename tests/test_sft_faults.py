"""`s1 sft` and runaway numbers, diverged runs, a stale model folder, mistyped paths and CPU threads."""
import json

import pytest

from s1_nb import cli, sft
from s1_nb.sft import S1Recipe, toy_s1k, train_sft


def one_error_line(capsys) -> str:
    err = [l for l in capsys.readouterr().err.splitlines() if l.startswith("s1 ")]
    assert len(err) == 1, err
    return err[0]


@pytest.mark.parametrize("value", ["inf", "nan", "-inf"])
def test_a_non_finite_learning_rate_is_refused_up_front(tmp_path, capsys, value):
    assert cli.main(["sft", f"--learning_rate={value}", "--out", str(tmp_path / "o"), "--max_steps", "1"]) == 2
    assert "--learning_rate" in one_error_line(capsys) and not (tmp_path / "o" / "model").exists()


def test_a_run_whose_loss_turns_non_finite_stops_and_saves_no_model(tmp_path):
    recipe = S1Recipe.cpu(learning_rate=1e30, logging_steps=1)
    with pytest.raises(FloatingPointError, match="nothing was saved as the model"):
        train_sft("tiny", toy_s1k(8), tmp_path, recipe=recipe, method="full", max_steps=4, use_cpu=True, report_to=[])
    assert not (tmp_path / "model").exists() and not (tmp_path / "sft_summary.json").exists()


def test_weights_that_turned_non_finite_are_not_saved(tmp_path):
    import torch
    class Trainer:  # a finished run whose last step broke the weights
        model = torch.nn.Linear(2, 2)
        class state: global_step = 7
    with torch.no_grad(): Trainer.model.weight[0, 0] = float("nan")
    with pytest.raises(FloatingPointError, match="after step 7, 1 weight tensor"):
        sft._check_finite_weights(Trainer.model, 7)


def test_a_rerun_replaces_a_stale_model_folder_whole(tmp_path):
    stale = tmp_path / "model"
    stale.mkdir(parents=True)
    (stale / "adapter_config.json").write_text(json.dumps({"peft_type": "LORA", "base_model_name_or_path": "gone"}))
    path = train_sft("tiny", toy_s1k(4), tmp_path, recipe=S1Recipe.cpu(), method="full", max_steps=1, use_cpu=True,
                     report_to=[])
    assert path == stale and (path / "config.json").exists() and not (path / "adapter_config.json").exists()
    from s1_nb.core import load_model
    load_model(path)  # loadable: no adapter config of an older run points it elsewhere
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".model")) == []


@pytest.mark.parametrize("name", ["rows.jsonl.gz", "data/rows.csv"])
def test_a_mistyped_data_path_is_a_missing_file_not_a_hub_lookup(tmp_path, capsys, monkeypatch, name):
    import datasets
    monkeypatch.setattr(datasets, "load_dataset", lambda *a, **k: pytest.fail("looked the path up on the hub"))
    assert cli.main(["sft", "--data", str(tmp_path / name), "--out", str(tmp_path / "o")]) == 2
    assert "no data file at" in one_error_line(capsys)


def test_a_model_folder_without_a_model_is_named(tmp_path, capsys):
    (tmp_path / "notamodel").mkdir()
    (tmp_path / "notamodel" / "notes.txt").write_text("hi")
    assert cli.main(["sft", "--model", str(tmp_path / "notamodel"), "--out", str(tmp_path / "o")]) == 2
    line = one_error_line(capsys)
    assert "holds no model (no config.json" in line and "sentencepiece" not in line and "tiktoken" not in line


def test_a_second_sft_into_the_same_folder_is_refused(tmp_path, capsys):
    from s1_nb.core import run_lock
    with run_lock(tmp_path / "o"):
        import multiprocessing as mp
        ctx = mp.get_context("spawn")
        with ctx.Pool(1) as pool:
            status = pool.apply(cli.main, (["sft", "--out", str(tmp_path / "o"), "--max_steps", "1"],))
    assert status == 2


def test_cpu_threads_leave_a_shared_laptop_usable(monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(sft.os, "sched_getaffinity", lambda pid: set(range(64)), raising=False)
    assert sft.cpu_threads() == 4 and sft.cpu_threads(9) == 9
    monkeypatch.setattr(sft.os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    assert sft.cpu_threads() == 1
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert sft.cpu_threads() == 3
    with pytest.raises(ValueError, match="--threads: -1 is negative"): sft.cpu_threads(-1)


def test_sft_on_the_cpu_uses_the_threads_asked_for(tmp_path, monkeypatch):
    import torch
    seen = []
    class Stop(Exception): pass
    def stop(*a, **kw): seen.append(torch.get_num_threads()); raise Stop
    monkeypatch.setattr(sft, "train_sft", stop)
    # an in-process vLLM engine earlier in this process swaps torch.set_num_threads for a no-op (cpu_worker.py)
    monkeypatch.setattr(torch, "set_num_threads", torch._C.set_num_threads)
    was = torch.get_num_threads()
    try:
        with pytest.raises(Stop): sft.sft_cli.__wrapped__(out=str(tmp_path / "o"), threads=2)
    finally: torch.set_num_threads(was)
    assert seen == [2]


def test_a_bad_row_of_a_data_file_is_named_by_its_file_line_and_exits_2(tmp_path, capsys):
    rows = toy_s1k(4, seed=0)
    rows[2]["question"] = 7
    p = tmp_path / "rows.jsonl"
    p.write_text("\n\n".join(json.dumps(r) for r in rows) + "\n")  # blank lines between rows: lines 1, 3, 5, 7
    assert cli.main(["sft", "--data", str(p), "--out", str(tmp_path / "o")]) == 2
    assert f"{p}: line 5: 'question' is int" in one_error_line(capsys)
