"""Edge cases of s1_nb.core's internals (parameter checks, atomic writes, run locks, cached folders, figures),
moved here from nbs/00_core.ipynb: they pin behaviour down but teach nothing."""
import json
import os
from pathlib import Path

import pytest

from s1_nb.core import _publish_files, cached_folder, check_parameters, laptop_folder, run_lock, save_figure, write_atomic


@pytest.mark.parametrize("values, rules, message", [
    (dict(num_waits="many"), dict(num_waits="count"), "parameter num_waits: 'many' is not a whole number >= 0"),
    (dict(num_waits=-3), dict(num_waits="count"), "-3 is not a whole number"),
    (dict(flag=True), dict(flag="count"), "True is not"),
    (dict(engine="x"), dict(engine=("hf", "vllm")), "is not one of 'hf', 'vllm'"),
    (dict(t=float("nan")), dict(t="number"), "is not a finite number"),
    (dict(end_bias=float("inf")), dict(end_bias=float), "inf is not a finite number"),
])
def test_check_parameters_names_the_bad_value(values, rules, message):
    with pytest.raises(ValueError, match=None) as e: check_parameters(values, rules)
    assert message in str(e.value)


def test_check_parameters_names_an_unknown_injected_parameter():
    with pytest.raises(ValueError) as e: check_parameters(dict(n=1), dict(n="count"), injected=["nn"])
    assert "parameter nn: this notebook has no such parameter (did you mean n?)" in str(e.value)
    assert check_parameters(dict(t=1, n=0, e="hf", p=0.5), dict(t=float, n="count", e=("hf",), p="fraction"))["n"] == 0


def test_a_failed_atomic_write_leaves_the_old_file_whole(tmp_path):
    p = write_atomic(tmp_path / "f.json", dict(a=1))
    def broken(path): path.write_text("half a fi"); raise OSError("disk full")
    with pytest.raises(OSError, match="disk full"): write_atomic(p, broken)
    assert json.loads(p.read_text()) == dict(a=1)
    assert not list(tmp_path.glob(".f.tmp*"))


def test_run_lock_refuses_a_second_run_and_publish_removes_stale_files(tmp_path):
    folder = tmp_path / "run"
    with run_lock(folder):
        with pytest.raises(ValueError, match=r"is in use by another run \(pid"): run_lock(folder).__enter__()
        _publish_files(folder, {"a.csv": "x\n1\n", "b.txt": "old"})
    with run_lock(folder): _publish_files(folder, {"a.csv": "x\n2\n"}, stale=["b.txt"])  # released: the next run gets it
    assert sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) == ["a.csv"]


def test_cached_folder_builds_once_and_never_overwrites(tmp_path):
    built = []
    folder = cached_folder(tmp_path / "f", lambda p: (built.append(p), (p / "config.json").write_text("{}")))
    assert folder.exists() and cached_folder(folder, lambda p: built.append(p)) == folder and len(built) == 1
    empty = tmp_path / "empty"; empty.mkdir()  # an existing empty folder is built into, not returned empty
    assert (cached_folder(empty, lambda p: (p / "config.json").write_text("{}")) / "config.json").exists()
    other = tmp_path / "other"; other.mkdir(); (other / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="exists but lacks config.json"):
        cached_folder(other, lambda p: (p / "config.json").write_text("{}"))
    assert (other / "notes.txt").read_text() == "mine"


def test_load_model_keeps_the_attention_choice_and_the_bars_setting():
    from transformers.utils import logging as hf_logging
    from s1_nb.core import load_laptop, load_model
    assert load_model("tiny", attn_implementation="eager")[0].config._attn_implementation == "eager"
    load_laptop()
    assert hf_logging.is_progress_bar_enabled()  # loaded without a bar, and the bars are on again for everything else


def test_laptop_folder_refuses_an_unknown_stage():
    with pytest.raises(ValueError, match="stage must be"): laptop_folder("final")


def test_save_figure_creates_the_folder(tmp_path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    out = tmp_path / "sub" / "f.png"
    save_figure(plt.figure(), out); plt.close("all")
    assert out.exists()
