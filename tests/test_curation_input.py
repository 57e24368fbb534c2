"""Duplicates, benchmark sets, s1's own diversity loop, and bad input for s1_nb.curation."""
import json
from collections import Counter

import numpy as np
import pandas as pd
import pytest

from s1_nb import curation
from s1_nb.core import BENCHMARK_SPECS
from s1_nb.curation import (_AIME_SOURCE, _GPQA_SOURCE, GRADE_COLUMNS, _S1_BENCHMARKS, CurationError,
                            curate, curate_cli, diversity_sample, _duplicate_drops, load_benchmarks, load_pool,
                            synthetic_pool)

BENCH = {"x": ["Find the number of ordered pairs of positive integers $(a,b)$ such that $a+b=1000$ and neither $a$ nor $b$ "
               "has a zero digit."]}


@pytest.fixture(scope="module")
def pool():
    return synthetic_pool(300, seed=11, benchmarks=BENCH)


# --- duplicates ----------------------------------------------------------------------------------------------------

def test_a_pool_appended_to_itself_yields_distinct_questions(pool):
    double = pd.concat([pool, pool], ignore_index=True)
    ds, f = curate(double, n=40, seed=0, benchmarks=BENCH)
    assert len(set(ds["question"])) == 40
    dup = f.drops[f.drops.stage == "duplicates"]
    survivors = f.table.set_index("stage").kept["difficulty"] // 2  # each filtered row is filtered in both copies
    assert len(dup) == survivors and set(dup.row) <= set(range(len(pool), 2 * len(pool)))
    assert dup.reason.str.startswith("duplicate question: the same text as row ").all()
    assert f.table.set_index("stage").loc["duplicates", "dropped"] == survivors
    assert len(f.drops) + 40 == len(double)  # still every row accounted for


def test_duplicates_reach_drops_csv(tmp_path, pool):
    p = tmp_path / "double.parquet"
    pd.concat([pool, pool], ignore_index=True).to_parquet(p)
    curate_cli.__wrapped__(pool=str(p), n=20, out=str(tmp_path / "o"), decontamination="none")
    drops, table = pd.read_csv(tmp_path / "o" / "drops.csv"), pd.read_csv(tmp_path / "o" / "funnel.csv")
    assert (drops.stage == "duplicates").sum() == table.set_index("stage").kept["difficulty"] // 2
    assert (drops.stage == "duplicates").sum() == table.set_index("stage").dropped["duplicates"] > 0
    assert pd.read_parquet(tmp_path / "o" / "s1k.parquet").question.is_unique


def test_duplicates_after_s1s_normalization_are_dropped_too(pool):
    twin = pool.iloc[:5].assign(question=["  " + q.upper().replace(" ", " \t ") for q in pool.question.iloc[:5]])
    reasons = _duplicate_drops(pd.concat([pool, twin], ignore_index=True))
    assert list(reasons.index) == list(range(len(pool), len(pool) + 5))
    assert reasons.iloc[0] == "duplicate question: the same as row 0 after normalization"


def test_the_first_copy_that_passes_the_filters_is_kept(pool):
    good = pool.iloc[[0]].copy()
    assert not curation.quality_missing(good).size and not curation.quality_format(good).size
    bad = good.assign(domain=[None])  # the first copy lacks a feature: the second one is the valid question
    both = pd.concat([bad, good, pool.iloc[1:]], ignore_index=True)
    ds, f = curate(both, n=None, benchmarks=BENCH, decontamination=None)
    stage = f.drops.set_index("row").stage
    assert stage[0] == "quality: missing features" and 1 not in stage.index
    assert good.question.iloc[0] in set(ds["question"])
    assert list(f.table.stage[:5]) == ["pool", "validation", "quality: missing features", "quality: formatting", "difficulty"]


# --- benchmark sets ------------------------------------------------------------------------------------------------

def test_no_benchmark_means_an_error_not_a_stand_in(pool, monkeypatch):
    monkeypatch.setattr(curation, "data_path", lambda *a, **k: None)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ValueError, match="no benchmark questions to decontaminate against"):
        curate(pool, n=10)
    with pytest.raises(ValueError, match="decontamination=None"):
        curate(pool, n=10, benchmarks={"aime": []})
    ds, f = curate(pool, n=10, decontamination=None)  # skipping the stage is a choice you make
    assert len(ds) == 10 and not f.table.stage.str.startswith("decontamination").any()
    with pytest.raises(ValueError, match="decontamination='fuzzy'"):
        curate(pool, n=10, benchmarks=BENCH, decontamination="fuzzy")


def test_s1s_test_sets_are_the_default():
    assert _S1_BENCHMARKS == ("aime22_24", "math500", "gpqa_diamond", "livecodebench_v4")
    hub = {n: (b.hub_id, b.config, b.split) for n, b in BENCHMARK_SPECS.items()}
    assert hub["aime22_24"][0] == "AI-MO/aimo-validation-aime"
    assert hub["math500"][:3] == ("simplescaling/openaimath", None, "test")
    assert hub["gpqa_diamond"][:2] == ("Idavidrein/gpqa", "gpqa_diamond")
    lcb = BENCHMARK_SPECS["livecodebench_v4"].hub_files
    assert [f.rsplit("/", 1)[-1] for f in lcb] == ["test.jsonl", "test2.jsonl", "test3.jsonl", "test4.jsonl"]
    from s1_nb.evaluation import BENCHMARKS
    assert hub["aime25"][0] == BENCHMARKS["aime25"].hub_id == "TIGER-Lab/AIME25"  # s1's aime25 task


def test_curation_and_evaluation_read_one_benchmark_registry():
    from s1_nb.evaluation import BENCHMARKS
    assert all(BENCHMARKS[n] is BENCHMARK_SPECS[n] for n in BENCHMARKS)  # the same records, not copies
    assert set(BENCHMARKS) == {"aime24", "aime25", "math500", "gpqa_diamond"}
    assert load_benchmarks.__defaults__[0] == _S1_BENCHMARKS
    with pytest.raises(ValueError, match="unknown benchmark 'aime99'"):
        load_benchmarks(("aime99",))


@pytest.mark.shared
def test_offline_default_sets_and_aime25_is_only_an_option(shared_dir, pool, capsys):
    b = load_benchmarks(shared_dir=shared_dir, hub=False)
    assert {k: len(v) for k, v in b.items()} == {"aime22_24": 30, "math500": 500}  # AIME 2024 part of 2022-24
    out = capsys.readouterr().out
    assert "aime22_24: only its aime24_nofigures.jsonl part" in out and "gpqa_diamond skipped" in out
    extra = load_benchmarks(("aime24", "aime25"), shared_dir=shared_dir, hub=False)
    p = pool.copy()
    clean = p.index[~p.metadata.str.contains("copy:")][:2]
    p.loc[clean[0], "question"], p.loc[clean[1], "question"] = extra["aime24"][4], extra["aime25"][4]
    p.loc[clean, ["isqwen7bcorrect", "isqwen32bcorrect"]] = False
    _, f = curate(p, n=10, decontamination="precise")  # default: s1's sets
    stage = f.drops.set_index("row").stage
    assert stage[clean[0]] == "decontamination (precise)" and stage.get(clean[1]) != "decontamination (precise)"
    _, f = curate(p, n=10, decontamination="precise", benchmarks={**b, "aime25": extra["aime25"]})
    assert f.drops.set_index("row").stage[clean[1]] == "decontamination (precise)"


# --- the repository's diversity loop ---------------------------------------------------------------------------------

def s1_loop(df, preselected, seed, n=1000, switch=700):
    "filter.ipynb's sampling loop, restated over a DataFrame (legacy global numpy RNG seeded with `seed`)."
    np.random.seed(seed)
    chosen = set(preselected)
    gpqa = Counter(df.domain[df.source_type == _GPQA_SOURCE]); aime = Counter(df.domain[df.source_type == _AIME_SOURCE])
    ratio = 0.5 * sum(aime.values()) / sum(gpqa.values())
    for d in gpqa: gpqa[d] = int(gpqa[d] * ratio)
    both = gpqa + aime
    bd, bw = list(both.keys()), np.array(list(both.values())) / sum(both.values())
    doms = sorted(set(df.domain))
    left = {d: {i: df.gemini_length[i] for i in df.index if df.domain[i] == d} for d in doms}
    while len(chosen) < n:
        d = np.random.choice(doms, size=1)[0] if len(chosen) < switch else np.random.choice(bd, size=1, p=bw)[0]
        ids = list(left[d]); lengths = np.array([int(left[d][i]) for i in ids])
        ranks = len(lengths) - 1 - np.argsort(np.argsort(lengths))
        w = np.power(2.0, -ranks); w = w / w.sum()
        pick = np.random.choice(ids, p=w)
        chosen.add(pick); left[d].pop(pick)
        if not left[d]:
            doms.remove(d)
            if d in bd: bw = np.delete(bw, bd.index(d)); bw = bw / bw.sum(); bd.remove(d)
    return chosen


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_repo_variant_is_s1s_loop(seed):
    rng = np.random.default_rng(seed)
    k = 1400
    src = rng.choice([_AIME_SOURCE, _GPQA_SOURCE, "other"], k, p=[0.15, 0.05, 0.8])
    df = pd.DataFrame(dict(question=[f"q{i}" for i in range(k)], source_type=src,
                           domain=[f"{d:02d}" for d in rng.integers(0, 30, k)], gemini_length=rng.integers(100, 20000, k)))
    pre = list(df.index[(df.source_type != "other") & (rng.random(k) < 0.5)])
    ours = diversity_sample(df, 1000, seed=seed, preselected=pre, variant="repo")
    theirs = s1_loop(df, pre, seed)
    assert len(ours) == 1000 and len(set(ours)) == 1000 and ours[:len(pre)] == pre
    assert set(ours) == theirs
    assert Counter(df.domain[ours]) == Counter(df.domain[list(theirs)])


# --- bad input -----------------------------------------------------------------------------------------------------

def test_malformed_and_non_utf8_jsonl_name_file_and_line(tmp_path, pool):
    good = pool.head(3).to_json(orient="records", lines=True).splitlines()
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join([good[0], good[1], '{"question": "x", ', good[2]]) + "\n")
    with pytest.raises(ValueError, match=r"bad.jsonl, line 3: not valid JSON"):
        curate(bad, n=1)
    latin = tmp_path / "latin.jsonl"
    latin.write_bytes((good[0] + "\n").encode() + '{"question": "caf\u00e9"}\n'.encode("latin-1"))
    with pytest.raises(ValueError, match=r"latin.jsonl, line 2: not UTF-8"):
        load_pool(latin)
    (tmp_path / "list.jsonl").write_text("[1, 2]\n")
    with pytest.raises(ValueError, match=r"list.jsonl, line 1: expected a JSON object, got list"):
        load_pool(tmp_path / "list.jsonl")
    with pytest.raises(FileNotFoundError, match="nowhere.jsonl does not exist"):
        curate(tmp_path / "nowhere.jsonl")
    ok = tmp_path / "ok.jsonl"
    ok.write_text("\n".join(good) + "\n\n")
    assert load_pool(ok).question.tolist() == pool.question.head(3).tolist()


def test_empty_pool_says_it_is_empty(tmp_path):
    (tmp_path / "empty.jsonl").write_text("")
    with pytest.raises(ValueError, match="empty.jsonl is empty"):
        curate(tmp_path / "empty.jsonl")
    with pytest.raises(ValueError, match="pool is empty"):
        curate(pd.DataFrame())


def test_features_that_match_nothing_or_would_replace_grades(tmp_path, pool):
    from s1_nb.curation import attach_features
    bare = pool.drop(columns=GRADE_COLUMNS)
    other = synthetic_pool(50, seed=99, benchmarks=BENCH)[["question", *GRADE_COLUMNS]]
    other = other.assign(question=other.question + " (another pool)")
    with pytest.raises(ValueError, match=r"--features: none of the 300 pool questions is in the featurized table \(50"):
        attach_features(bare, other)
    with pytest.raises(ValueError, match=r"--features: the pool already has grade column\(s\) \['isqwen7bcorrect'"):
        attach_features(pool, pool[["question", *GRADE_COLUMNS]])
    half = pool[["question", *GRADE_COLUMNS]].iloc[::2]
    assert attach_features(bare.assign(domain=None), half).domain.notna().sum() == half.domain.notna().sum() > 0  # empty columns: fine


def test_too_large_n_still_writes_funnel_and_every_drop(tmp_path, pool):
    from s1_nb.cli import main
    p = tmp_path / "pool.parquet"
    pool.to_parquet(p)
    out = tmp_path / "out"
    with pytest.raises(ValueError, match=r"--n 5000: only \d+ rows are left .*funnel.csv"):
        curate_cli.__wrapped__(pool=str(p), n=5000, out=str(out), decontamination="none")
    table, drops = pd.read_csv(out / "funnel.csv"), pd.read_csv(out / "drops.csv")
    assert not (out / "s1k.parquet").exists()
    assert table.stage.tolist()[-1] == "duplicates" and table.dropped.sum() == len(drops) > 0
    assert len(drops) + table.kept.iloc[-1] == len(pool) and drops.reason.notna().all()
    assert main(["curate", "--pool", str(p), "--n", "5000", "--out", str(out), "--decontamination", "none"]) == 2


def test_nothing_left_still_writes_funnel_and_every_drop(tmp_path, pool):
    easy = pool.assign(isqwen7bcorrect=True)
    with pytest.raises(CurationError) as e:
        curate(easy, n=1, decontamination=None)
    assert e.value.funnel.table.kept.iloc[-1] == 0 and len(e.value.funnel.drops) == len(pool)
    p = tmp_path / "easy.parquet"
    easy.to_parquet(p)
    with pytest.raises(ValueError, match="only 0 rows are left"):
        curate_cli.__wrapped__(pool=str(p), n=1, out=str(tmp_path / "o"), decontamination="none")
    drops = pd.read_csv(tmp_path / "o" / "drops.csv")
    assert len(drops) == len(pool) and set(drops.stage) >= {"difficulty", "quality: missing features"}


def test_cli_flags_are_checked(tmp_path):
    with pytest.raises(ValueError, match="--decontamination 'fuzzy'"):
        curate_cli.__wrapped__(pool="synthetic:50", decontamination="fuzzy", out=str(tmp_path))
    with pytest.raises(ValueError, match="--diversity 'random'"):
        curate_cli.__wrapped__(pool="synthetic:50", diversity="random", out=str(tmp_path))


def test_local_benchmark_files_with_their_own_question_field(tmp_path):
    bench = tmp_path / "data" / "benchmarks"
    bench.mkdir(parents=True)
    (bench / "gpqa_diamond.jsonl").write_text(json.dumps({"Question": "Which gas is lighter than air?", "Record ID": "r1"}) + "\n")
    (bench / "math500.jsonl").write_text('{"problem": "Compute 1+1."}\n{"problem": \n')
    assert load_benchmarks(("gpqa_diamond",), shared_dir=tmp_path, hub=False) == {"gpqa_diamond": ["Which gas is lighter than air?"]}
    with pytest.raises(ValueError, match=r"math500.jsonl, line 2: not valid JSON"):
        load_benchmarks(("math500",), shared_dir=tmp_path, hub=False)


def test_json_pools_in_both_layouts(tmp_path, pool):
    small = pool.head(4)
    small.to_json(tmp_path / "cols.json")
    small.to_json(tmp_path / "rows.json", orient="records")
    for f in ("cols.json", "rows.json"):
        assert load_pool(tmp_path / f).domain.tolist() == small.domain.tolist()
    with pytest.raises(ValueError, match="diversity='random'"):
        curate(pool, n=5, benchmarks=BENCH, diversity="random")


def test_one_json_reader_for_pools_training_data_and_benchmarks(tmp_path):
    from s1_nb.curation import read_json_rows
    from s1_nb.evaluation import _read_jsonl
    from s1_nb.sft import load_rows
    row = dict(question="What is 1+1?", thinking_trajectories=["1+1=2"], attempt="2")
    (tmp_path / "one.json").write_text(json.dumps(row))  # one object: one row, for every caller
    (tmp_path / "cols.json").write_text(json.dumps({k: [v] for k, v in row.items()}))  # pandas' column layout
    for f in ("one.json", "cols.json"):
        assert read_json_rows(tmp_path / f) == [(1, row)], f
        assert load_rows(str(tmp_path / f)) == [row] and _read_jsonl(tmp_path / f) == [(1, row)]
        assert load_pool(tmp_path / f).question.tolist() == [row["question"]]
    (tmp_path / "bad.jsonl").write_text(json.dumps(row) + "\n\n[1]\n")
    for read in (read_json_rows, _read_jsonl, lambda p: load_rows(str(p)), load_pool):
        with pytest.raises(ValueError, match=r"bad.jsonl, line 3: expected a JSON object, got list"): read(tmp_path / "bad.jsonl")
