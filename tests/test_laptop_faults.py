"""`s1 demo` and `s1 paper`: seeds, runaway numbers, a folder that is not a model, clipped echoes, threads, one run
per folder."""
import pytest
import torch

from s1_nb import cli, laptop, paper
from s1_nb.core import run_lock


def one_error_line(capsys) -> str:
    err = [l for l in capsys.readouterr().err.splitlines() if l.startswith("s1 ")]
    assert len(err) == 1, err
    return err[0]


@pytest.mark.parametrize("args, message", [
    (["--train", "--seeds", "0,0,1"], "--seeds: '0,0,1' repeats seed 0"),
    (["--seeds", "1", "--checkpoint", "somewhere"], "--seeds trains one model per seed; --checkpoint"),
    (["--seeds", "1"], "--seeds needs --train"),
    (["--train", "--seeds", "a"], "--seeds: 'a' is not a comma-separated list of whole numbers"),
    (["--train", "--seeds=-1"], "--seeds: '-1' needs whole numbers >= 0"),
    (["--n_eval", "0"], "--n_eval: 0 is not a whole number >= 1"),
    (["--threads", "-2"], "--threads: -2 is negative"),
])
def test_demo_refuses_bad_seeds_and_counts_in_one_line(tmp_path, capsys, args, message):
    assert cli.main(["demo", "--out", str(tmp_path / "run"), *args]) == 2
    assert message in one_error_line(capsys)
    assert not (tmp_path / "run" / "results.json").exists()


def test_demo_checkpoint_that_is_not_a_model_is_named(tmp_path, capsys):
    (tmp_path / "ckpt").mkdir()
    assert cli.main(["demo", "--out", str(tmp_path / "run"), "--checkpoint", str(tmp_path / "ckpt")]) == 2
    line = one_error_line(capsys)
    assert "--checkpoint" in line and "holds no model" in line and "sentencepiece" not in line
    assert cli.main(["demo", "--question", "How many r in raspberry?", "--checkpoint", str(tmp_path / "ckpt")]) == 2
    assert "holds no model" in one_error_line(capsys)


def test_a_refused_long_question_is_not_echoed_whole(capsys):
    word = "r" * 100_000
    assert cli.main(["demo", "--question", f"How many r in {word}?"]) == 2
    line = one_error_line(capsys)
    assert len(line) < 300 and "100,000 characters" in line
    assert cli.main(["demo", "--question", "x" * 100_000]) == 2
    assert len(one_error_line(capsys)) < 300


def test_a_second_demo_into_the_same_folder_is_refused(tmp_path, capsys):
    with run_lock(tmp_path / "run"):
        import multiprocessing as mp
        with mp.get_context("spawn").Pool(1) as pool:
            status = pool.apply(cli.main, (["demo", "--out", str(tmp_path / "run"), "--n_eval", "1"],))
    assert status == 2 and not (tmp_path / "run" / "results.json").exists()


def test_demo_uses_the_threads_asked_for_not_every_core(monkeypatch):
    was = torch.get_num_threads()
    # an in-process vLLM engine earlier in this process swaps torch.set_num_threads for a no-op (cpu_worker.py)
    monkeypatch.setattr(torch, "set_num_threads", torch._C.set_num_threads)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(laptop, "_ask_question", lambda *a, **k: torch.get_num_threads())
    try:
        assert laptop.run_demo(question="How many r in raspberry?", threads=2) == 2
        monkeypatch.setattr("os.sched_getaffinity", lambda pid: set(range(32)), raising=False)
        assert laptop.run_demo(question="How many r in raspberry?") == 4  # half the cores, at most 4
    finally: torch.set_num_threads(was)


@pytest.mark.parametrize("kwargs, message", [
    (dict(seeds="0,0"), "--seeds: '0,0' repeats seed 0"),
    (dict(seeds="0", epochs=float("inf")), "--epochs: inf is not a finite number > 0"),
    (dict(seeds="0", epochs=float("nan")), "--epochs: nan is not a finite number > 0"),
    (dict(seeds="0", max_samples=0), "--max_samples: 0 is not a whole number >= 1"),
])
def test_paper_refuses_repeated_seeds_and_runaway_numbers(tmp_path, kwargs, message):
    with pytest.raises(ValueError, match=message):
        paper.run_paper(str(tmp_path), **kwargs)
    assert not (tmp_path / "results.json").exists()


def test_a_second_paper_run_into_the_same_folder_is_refused(tmp_path):
    with run_lock(tmp_path):
        import multiprocessing as mp
        with mp.get_context("spawn").Pool(1) as pool:
            status = pool.apply(cli.main, (["paper", "--out", str(tmp_path), "--seeds", "0"],))
    assert status == 2
