"""Run folders, invisible characters, look-alike letters, crafted rows and runaway numbers in `s1 curate`."""
import json
import re
import subprocess
import sys
import time

import pandas as pd
import pytest

from s1_nb import cli, curation
from s1_nb.curation import (_duplicate_drops, benchmark_index, curate, decontaminate, normalize_text, quality_format,
                            synthetic_pool, words)

AIME = ("Find the number of ordered pairs of positive integers $(a,b)$ such that $a+b=1000$ and neither $a$ nor $b$ "
        "has a zero digit.")


def curate_main(out, *extra, pool="synthetic:300", n="20"):
    return cli.main(["curate", "--pool", str(pool), "--n", n, "--out", str(out), *extra])


def one_error_line(capsys) -> str:
    err = [l for l in capsys.readouterr().err.splitlines() if l.startswith("s1 ")]  # progress bars aside
    assert len(err) == 1, err
    return err[0]


# --- run folders ---------------------------------------------------------------------------------------------------

def test_a_second_curate_into_the_same_folder_is_refused(tmp_path, capsys):
    out = tmp_path / "run"
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; from s1_nb.core import run_lock\n"
                               f"with run_lock({str(out)!r}):\n    print('held', flush=True); time.sleep(60)"],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        assert curate_main(out) == 2
        line = one_error_line(capsys)
        assert "is in use by another run (pid" in line and str(out) in line
        assert not (out / "s1k.parquet").exists()
    finally:
        holder.kill(); holder.wait()
    assert curate_main(out) == 0  # the lock died with its holder
    assert (out / "s1k.parquet").exists()


def test_a_write_that_dies_midway_leaves_the_old_run_whole(tmp_path, monkeypatch, capsys):
    from datasets import Dataset
    out = tmp_path / "run"
    assert curate_main(out) == 0
    before = {f: (out / f).read_bytes() for f in ("s1k.parquet", "funnel.csv", "drops.csv")}

    def dies_midway(self, path, *a, **k):
        with open(path, "wb") as f: f.write(b"PAR1 half a file")
        raise OSError("No space left on device")
    monkeypatch.setattr(Dataset, "to_parquet", dies_midway)
    assert curate_main(out, "--seed", "1") == 1
    assert "No space left on device" in capsys.readouterr().err
    assert {f: (out / f).read_bytes() for f in before} == before  # the old run, byte for byte
    assert [p.name for p in out.iterdir() if ".tmp" in p.name] == []


def test_a_failed_rerun_does_not_put_its_funnel_beside_the_old_selection(tmp_path, capsys):
    out = tmp_path / "run"
    assert curate_main(out) == 0
    before = {f: (out / f).read_bytes() for f in ("s1k.parquet", "funnel.csv", "drops.csv")}
    assert curate_main(out, n="5000") == 2
    assert "the previous run in" in one_error_line(capsys)
    assert {f: (out / f).read_bytes() for f in before} == before


# --- one normalisation for dedup, decontamination and the index ------------------------------------------------------

def test_ascii_text_normalises_exactly_as_s1_splits_it():
    qs = list(synthetic_pool(400, seed=3)["question"]) + [AIME, "  Tabs\tand\nnew\x0blines\x1c\x1d here  ", "A**B** p1."]
    for q in qs: assert words(q) == q.lower().strip().split() == words(q, skeleton=True)


@pytest.mark.parametrize("copy", [AIME + "\u200b", AIME.replace("1000", "\uff11\uff10\uff10\uff10"), "\u200f" + AIME,
                                  AIME.replace(" ", " \u200b"), AIME.upper(), "\ufeff" + AIME.replace("a", "\u00ad" + "a", 3)])
def test_invisible_and_compatibility_characters_do_not_hide_a_duplicate(copy):
    reasons = _duplicate_drops(pd.DataFrame({"question": [AIME, copy]}))
    assert list(reasons.index) == [1] and "after normalization" in reasons[1]


def test_zero_width_spaces_do_not_evade_the_s1_rule():
    index = benchmark_index({"aime24": [AIME]})
    q = pd.DataFrame({"question": ["Warm-up. " + AIME.replace(" ", " \u200b")]})
    assert list(decontaminate(q, index, "s1").index) == [0]


@pytest.mark.parametrize("disguise", [lambda t: t.replace(" ", " \u200f"), lambda t: "\u202e" + t + "\u202c",
                                      lambda t: t.translate(str.maketrans("aeopcx", "\u0430\u0435\u043e\u0440\u0441\u0445"))])
def test_bidi_marks_and_cyrillic_look_alikes_do_not_evade_precise(disguise):
    q = pd.DataFrame({"question": [disguise(AIME)]})
    from s1_nb.curation import _benchmark_index_for
    index = _benchmark_index_for("precise", {"aime24": [AIME]})
    assert list(decontaminate(q, index, "precise").index) == [0]


def test_normalize_text_folds_what_looks_the_same():
    assert normalize_text("\u200fＦｉｎｄ  x\u200b\u00ad ") == "find x"
    assert normalize_text("\u0420\u0430ypal", skeleton=True) == "paypal" != normalize_text("\u0420\u0430ypal")


# --- linear regexes on pool text -----------------------------------------------------------------------------------

OLD_BOLD = re.compile(r"\*\*(?=.*\d)[^\s\]]*\*\*")


@pytest.mark.parametrize("text", ["What is **12**?", "**Note** it is 5.", "**a** b\n5", "x **a**", "** ** 3", "****7",
                                  "**]** 1", "a **b\n**c** 9", "**x** y **z** 1", "no bold 12", "**1**", "\r**a** 2",
                                  "** " * 50 + "7", "**a" * 30 + "**", "[**]**3**"])
def test_the_linear_bold_number_rule_agrees_with_s1s_regex(text):
    assert curation._bold_number(text) == bool(OLD_BOLD.search(text))


def test_a_crafted_row_of_bold_markers_is_still_judged_right():
    rows = pd.DataFrame({"question": ["** " * 200_000, "** " * 200_000 + "**9**", "**" + "a" * 300_000 + "** 1"],
                         "source_type": ["x"] * 3})
    assert quality_format(rows).to_dict() == {1: "format: bold number", 2: "format: bold number"}


# --- crafted rows: types, suffixes, runaway numbers ------------------------------------------------------------------

def pool_file(tmp_path, n=60, edit=None, name="pool.jsonl"):
    rows = json.loads(synthetic_pool(n, seed=5).to_json(orient="records"))
    if edit: edit(rows)
    p = tmp_path / name
    p.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return p


def test_a_wrong_type_names_the_file_line_and_exits_2(tmp_path, capsys):
    p = pool_file(tmp_path, edit=lambda rows: rows[2].update(isqwen7bcorrect="yes"))
    assert curate_main(tmp_path / "run", pool=p, n="5") == 2
    line = one_error_line(capsys)
    assert f"{p}, lines [3]" in line and "isqwen7bcorrect" in line


@pytest.mark.parametrize("name", ["pool.jsonl.gz", "data/pool.csv", "./pool"])
def test_a_mistyped_local_path_is_a_missing_file_not_a_hub_lookup(tmp_path, capsys, monkeypatch, name):
    import datasets
    monkeypatch.setattr(datasets, "load_dataset", lambda *a, **k: pytest.fail("looked the path up on the hub"))
    assert curate_main(tmp_path / "run", pool=tmp_path / name) == 2
    assert "does not exist" in one_error_line(capsys)


def test_an_existing_file_of_an_unknown_kind_is_refused(tmp_path, capsys):
    (tmp_path / "pool.jsonl.gz").write_bytes(b"\x1f\x8b")
    assert curate_main(tmp_path / "run", pool=tmp_path / "pool.jsonl.gz") == 2
    assert "use .parquet, .jsonl or .json" in one_error_line(capsys)


def test_an_infinite_length_is_dropped_with_its_reason_not_drawn_first(tmp_path):
    def inf(rows):
        for r in rows[:3]: r.update(gemini_length=float("inf"), isqwen7bcorrect=False, isqwen32bcorrect=False)
    p = pool_file(tmp_path, n=200, edit=inf)
    assert "Infinity" in p.read_text()
    ds, f = curate(str(p), n=10, decontamination=None)
    dropped = f.drops[f.drops.reason == "gemini_length is infinite"]
    assert sorted(dropped.row) == [0, 1, 2]


def test_a_negative_seed_is_refused_in_one_line(tmp_path, capsys):
    assert curate_main(tmp_path / "run", "--seed=-1") == 2
    assert "--seed must be a whole number >= 0, got -1" in one_error_line(capsys)
