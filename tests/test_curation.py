"""Edge cases and bad input for s1_nb.curation (the happy path runs inside nbs/01_curation.ipynb)."""
import random
import re

import numpy as np
import pandas as pd
import pytest

from s1_nb.curation import (GRADE_COLUMNS, attach_features, _AIME_SOURCE, _FALLBACK_BENCHMARKS, _FORMAT_RULES, _GPQA_SOURCE, _MATH_SOURCE,
                            _MSC_FALLBACK, S1K_COLUMNS, benchmark_index, check_schema, classify_domains, _contamination_matches,
                            curate, decontaminate, difficulty, diversity_sample, domain_classifier, is_correct, load_benchmarks,
                            load_pool, _preselection, quality_format, quality_missing, _s1k_features, save_s1k,
                            selection_hash, synthetic_pool, thinking_lengths, _to_pool_schema, _validation_drops)

BOILER = "where $m$ and $n$ are relatively prime positive integers. Find $m+n$."
BENCH = {"aime": [f"The probability that a fair coin lands heads {k} times in a row is $\\frac mn$, {BOILER}" for k in (3, 5)]
         + ["Find the number of ordered pairs of positive integers $(a,b)$ such that $a+b=1000$ and neither $a$ nor $b$ "
            "has a zero digit.", "Compute $\\dbinom{31}{28}$."]}


def row(**kw):
    r = dict(solution="$\\boxed{2}$", question="What is 1+1?", cot_type="math", source_type="x", metadata="{}", cot=None,
             thinking_trajectories=["1+1=2"], attempt="2", text=None, isqwen7bcorrect=False, isqwen32bcorrect=False,
             isgeminicorrect=True, domain="08", gemini_length=10)
    r.update(kw)
    return r


def frame(*rows):
    return pd.DataFrame(list(rows))


@pytest.fixture(scope="module")
def pool():
    return synthetic_pool(600, seed=5, benchmarks=_FALLBACK_BENCHMARKS | BENCH, n_contaminated=4)


# --- loading and schema ------------------------------------------------------------------------------------------

def test_parquet_and_jsonl_round_trip(tmp_path, pool):
    small = pool.head(50)
    small.to_parquet(tmp_path / "p.parquet")
    small.to_json(tmp_path / "p.jsonl", orient="records", lines=True)
    for f in ("p.parquet", "p.jsonl"):
        df = load_pool(tmp_path / f)
        check_schema(df)
        assert df["question"].tolist() == small["question"].tolist()
        assert df["domain"].tolist() == small["domain"].tolist()  # "05" stays a string


def test_unknown_file_type_is_refused(tmp_path):
    (tmp_path / "p.csv").write_text("question\n")
    with pytest.raises(ValueError, match="cannot read pool file .*p.csv"):
        load_pool(tmp_path / "p.csv")


def test_s1s_own_spellings_are_accepted():
    df = frame(row()).rename(columns={"isgeminicorrect": "isgenminicorrect", "gemini_length": "genmini_length"})
    check_schema(load_pool(df))


@pytest.mark.parametrize("traces", ["gemini", "deepseek"])
def test_s1k_11_columns_map_to_s1k(traces):
    r = dict(solution="4", question="2+2?", cot_type="math", source_type="x", metadata="{}",
             gemini_thinking_trajectory="g think", gemini_attempt="g 4", deepseek_thinking_trajectory="d think",
             deepseek_attempt="d 4", gemini_grade="Yes", deepseek_grade="No")
    df = _to_pool_schema(frame(r), traces=traces)
    assert df.at[0, "thinking_trajectories"] == [f"{traces[0]} think"] and df.at[0, "attempt"] == f"{traces[0]} 4"
    assert df.at[0, "isgeminicorrect"] == (traces == "gemini")
    assert not any(c.startswith(("gemini_", "deepseek_")) for c in df.columns)
    assert set(S1K_COLUMNS) <= set(df.columns)
    with pytest.raises(ValueError, match="traces='claude'"):
        _to_pool_schema(frame(r), traces="claude")


def test_attach_features_joins_by_question_and_leaves_gaps_as_none(pool):
    feats = pool[["question", *GRADE_COLUMNS]].iloc[::2].rename(columns={"isgeminicorrect": "isgenminicorrect"})
    joined = attach_features(pool.drop(columns=GRADE_COLUMNS), feats)
    assert len(joined) == len(pool) and joined.question.tolist() == pool.question.tolist()
    check_schema(joined)
    odd = quality_missing(joined).index
    assert set(range(1, len(pool), 2)) <= set(odd)
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['domain'\]"):
        attach_features(pool, feats.drop(columns=["domain"]))


def test_missing_column_is_named():
    with pytest.raises(ValueError, match=r"missing column\(s\) \['gemini_length'\]"):
        check_schema(frame(row()).drop(columns=["gemini_length"]))


def test_wrong_types_name_columns_and_rows():
    df = frame(row(), row(thinking_trajectories="a plain string"), row(gemini_length=-3), row(domain=5))
    with pytest.raises(TypeError) as e:
        check_schema(df)
    msg = str(e.value)
    assert "'thinking_trajectories' must hold list[str]: rows [1]" in msg
    assert "'gemini_length' must hold number >= 0: rows [2]" in msg and "'domain' must hold str: rows [3]" in msg


def test_none_is_not_a_type_error_but_an_accounted_drop():
    df = frame(row(), row(attempt=None), row(gemini_length=None), row(thinking_trajectories=None))
    check_schema(df)
    assert quality_missing(df).to_dict() == {1: "missing feature: attempt", 2: "missing feature: gemini_length",
                                             3: "missing feature: thinking_trajectories"}


def test_validation_drops_none_and_empty_questions_and_traces():
    df = frame(row(), row(question=None), row(question=" \n"), row(thinking_trajectories=[]),
               row(thinking_trajectories=["  ", ""]))
    assert _validation_drops(df).to_dict() == {1: "question is None", 2: "empty question", 3: "empty thinking trace",
                                              4: "empty thinking trace"}


# --- stages --------------------------------------------------------------------------------------------------------

def test_p_numbering_regex_equals_s1s_loop():
    rnd = random.Random(0)
    for _ in range(3000):
        s = "".join(rnd.choice("p0123456789. x") for _ in range(rnd.randint(1, 12)))
        assert bool(re.search(_FORMAT_RULES["p{i}. numbering"], s)) == any(f"p{i}." in s for i in range(1, 1000)), s


def test_bold_rule_matches_s1s_regex_literally():
    assert list(quality_format(frame(row(question="**Step1** then"), row(question="**Step 1** then"), row(question="**bold** words"),
                                     row(question="**bold** then 7"), row(question="**x y** 3"))).index) == [0, 3]


def test_aime_keeps_asy_even_with_another_defect():
    df = frame(row(question="[asy]x[/asy] see ![Image](a)", source_type=_AIME_SOURCE),
               row(question="[asy]x[/asy]", source_type="AI-MO/NuminaMath-CoT/olympiads"),
               row(question="see ![Image](a)", source_type=_AIME_SOURCE))
    assert quality_format(df).to_dict() == {1: "format: [asy] figure", 2: "format: ![Image] link"}


def test_difficulty_keeps_only_rows_both_models_failed():
    df = frame(row(), row(isqwen7bcorrect=True), row(isqwen32bcorrect=True))
    assert list(difficulty(df).index) == [1, 2]


def test_preselection_rules():
    df = frame(row(source_type=_GPQA_SOURCE), row(source_type=_AIME_SOURCE, isgeminicorrect=False),
               row(source_type=_MATH_SOURCE + "/Geometry", gemini_length=6000), row(source_type="other", gemini_length=9999))
    assert _preselection(df).tolist() == [True, False, True, False]


# --- decontamination -----------------------------------------------------------------------------------------------

def test_literal_rule_drops_boilerplate_and_precise_mode_does_not():
    idx = benchmark_index(BENCH)
    clean = f"A bag holds 4 red and 6 blue marbles; two are drawn. The probability is $\\frac mn$, {BOILER}"
    df = frame(row(question=clean))
    lit = decontaminate(df, idx, "s1")
    assert list(lit.index) == [0] and "relatively" in lit[0]
    assert decontaminate(df, idx, "precise").empty
    m = _contamination_matches(df["question"], idx)
    assert m.boilerplate.all() and set(m.item) == {0, 1}


def test_precise_mode_catches_copies_including_short_ones_the_literal_rule_misses():
    idx = benchmark_index(BENCH)
    df = frame(row(question=BENCH["aime"][2]), row(question="  " + BENCH["aime"][2].upper().replace(" ", "\t ")),
               row(question="compute   $\\DBINOM{31}{28}$."), row(question="Compute $\\dbinom{31}{29}$."))
    pre, lit = decontaminate(df, idx, "precise"), decontaminate(df, idx, "s1")
    assert list(pre.index) == [0, 1, 2] and list(lit.index) == [0, 1]  # literal: too few words for an 8-gram
    assert "aime#2" in pre[0]


def test_unknown_decontamination_mode():
    with pytest.raises(ValueError, match="mode='fuzzy'"):
        decontaminate(frame(row()), benchmark_index(BENCH), "fuzzy")


@pytest.mark.shared
def test_math500_against_aime_on_real_data(shared_dir):
    b = load_benchmarks(("aime24", "aime25", "math500"), shared_dir=shared_dir, hub=False)
    assert {k: len(v) for k, v in b.items()} == {"aime24": 30, "aime25": 30, "math500": 500}
    idx = benchmark_index({k: b[k] for k in ("aime24", "aime25")})
    df = pd.DataFrame({"question": b["math500"]})
    assert sorted(decontaminate(df, idx, "s1").index) == [390, 475]
    assert decontaminate(df, idx, "precise").empty
    copy = pd.DataFrame({"question": [b["aime25"][4]]})
    assert len(decontaminate(copy, idx, "precise")) == 1


# --- diversity -----------------------------------------------------------------------------------------------------

def toy(n_per=10, domains=("05", "11", "51")):
    return pd.DataFrame(dict(question=[f"q{d}{i}" for d in domains for i in range(n_per)],
                             domain=[d for d in domains for _ in range(n_per)],
                             gemini_length=[100 * (i + 1) for _ in domains for i in range(n_per)],
                             source_type=["x"] * (n_per * len(domains))))


def test_rank_weights_follow_two_to_the_minus_rank():
    df = toy(4, ("05",))
    counts = np.bincount([diversity_sample(df, 1, seed=s)[0] for s in range(1000)], minlength=4)
    expected = np.array([1, 2, 4, 8]) / 15 * 1000  # row 3 is the longest
    assert np.all(np.abs(counts - expected) < 5 * np.sqrt(expected)), counts


def test_seed_reproducibility():
    df = toy()
    a, b, c = (diversity_sample(df, 12, seed=s) for s in (7, 7, 8))
    assert a == b and a != c
    assert selection_hash(df, a) == selection_hash(df, list(reversed(a))) != selection_hash(df, c)


def test_preselected_rows_are_kept_and_not_drawn_twice():
    df = toy()
    sel = diversity_sample(df, 10, seed=0, preselected=[0, 1, 2])
    assert sel[:3] == [0, 1, 2] and len(set(sel)) == 10
    with pytest.raises(ValueError, match="pre-selection kept 3 rows, more than n=2"):
        diversity_sample(df, 2, preselected=[0, 1, 2])


def test_repo_variant_weights_domains_by_benchmarks_after_uniform_phase():
    df = toy(30)
    df.loc[df.domain == "51", "source_type"] = _AIME_SOURCE
    sel = diversity_sample(df, 25, seed=0, variant="repo", uniform_until=10)
    assert set(df.loc[sel[10:], "domain"]) == {"51"} and len(set(df.loc[sel[:10], "domain"])) > 1
    paper = diversity_sample(df, 25, seed=0, variant="paper")
    assert set(df.loc[paper[10:], "domain"]) != {"51"}
    with pytest.raises(ValueError, match="variant='random'"):
        diversity_sample(df, 3, variant="random")


# --- the pipeline --------------------------------------------------------------------------------------------------

def test_curate_accounts_for_every_row_and_catches_every_planted_defect(pool):
    ds, f = curate(pool, n=40, seed=0, benchmarks=_FALLBACK_BENCHMARKS | BENCH, decontamination="precise")
    assert len(ds) == 40 and f.table.kept.iloc[-1] == 40
    assert len(f.drops) + 40 == len(pool) and f.drops.row.is_unique
    assert not set(f.drops.row) & set(f.selected)
    stage = f.drops.set_index("row").stage
    for r, meta in pool["metadata"].items():
        for p in re.findall(r"'(\w+):([\w:.]+)'", meta):
            kind = p[0]
            if kind == "missing": assert stage[r] == "quality: missing features", (r, meta)
            if kind == "format" and "exempt" not in p[1]: assert stage[r] in ("quality: formatting",), (r, meta)
            if kind == "copy": assert stage.get(r, "selected") not in ("selection", "selected"), (r, meta)
    assert (stage == "decontamination (precise)").sum() >= 4


def test_curate_with_n_none_keeps_all_survivors_and_too_large_n_fails(pool):
    ds, f = curate(pool, n=None, benchmarks=BENCH, decontamination=None)
    assert len(ds) == f.table.kept.iloc[-2] and f.table.dropped.iloc[-1] == 0
    with pytest.raises(ValueError, match="cannot select n=100000"):
        curate(pool, n=100_000, benchmarks=BENCH)


def test_output_schema_and_parquet_round_trip(tmp_path, pool):
    from datasets import load_dataset
    ds, _ = curate(pool, n=20, benchmarks=BENCH)
    assert ds.column_names == S1K_COLUMNS and ds.features == _s1k_features()
    assert all(isinstance(t, list) and t for t in ds["thinking_trajectories"]) and set(ds["cot"]) == {None}
    back = load_dataset("parquet", data_files=str(save_s1k(ds, tmp_path / "x" / "s1k.parquet")), split="train")
    assert back.features == ds.features and back["question"] == ds["question"]


def test_synthetic_pool_is_deterministic_and_has_the_real_columns():
    a, b = synthetic_pool(200, seed=3), synthetic_pool(200, seed=3)
    pd.testing.assert_frame_equal(a, b)
    check_schema(a)
    assert {_AIME_SOURCE, _GPQA_SOURCE} <= set(a.source_type) and a.source_type.str.startswith(_MATH_SOURCE).any()
    lengths = a.gemini_length.dropna()
    assert lengths.min() < 1000 and lengths.max() > 8000  # a realistic spread
    with pytest.raises(ValueError, match="n=0"):
        synthetic_pool(0)


# --- featurization -------------------------------------------------------------------------------------------------

def test_batched_lengths_equal_a_row_by_row_count():
    from datasets import Dataset
    from s1_nb.core import tiny_tokenizer
    tok = tiny_tokenizer()
    texts = ["count the r in raspberry", "Wait, 3.", "", "x " * 50]
    ds = Dataset.from_dict({"thinking_trajectories": [[t, "second trace ignored"] for t in texts]})
    got = thinking_lengths(ds, tok, batch_size=3)["gemini_length"]
    assert got == [len(tok.encode(t, add_special_tokens=False)) for t in texts]


@pytest.mark.shared
def test_lengths_with_the_real_tokenizer_and_two_processes(qwen_tokenizer):
    from datasets import Dataset
    texts = [f"Let me think about case {i}. Wait, check it." * (i + 1) for i in range(40)]
    ds = Dataset.from_dict({"thinking_trajectories": [[t] for t in texts]})
    want = [len(qwen_tokenizer.encode(t, add_special_tokens=False)) for t in texts]
    assert thinking_lengths(ds, qwen_tokenizer, batch_size=8)["gemini_length"] == want
    assert thinking_lengths(ds, qwen_tokenizer, batch_size=8, num_proc=2)["gemini_length"] == want


def test_math_verify_grading():
    assert is_correct("So the answer is $\\boxed{\\frac{1}{2}}$.", "The answer: $0.5$")
    assert not is_correct("$\\boxed{3}$", "$\\boxed{4}$")
    assert not is_correct(None, "$4$") and not is_correct("4", "")


def test_domain_classifier_with_the_fallback_list():
    clf = domain_classifier(_MSC_FALLBACK)
    assert clf(["How many prime divisors does 30 have?", "A triangle has a right angle.", "qqq zzz"]) == ["11", "51", None]
    from datasets import Dataset
    ds = classify_domains(Dataset.from_dict({"question": ["Roll a fair die: what is the probability of a 6?"]}), clf)
    assert ds["domain"] == ["60"]


# --- the LLM judge -------------------------------------------------------------------------------------------------

def test_grading_prompt_and_verdicts():
    from s1_nb.curation import grading_prompt, parse_verdict
    assert grading_prompt("{attempt}?", "a", "s", template="{problem}|{attempt}|{solution}") == "{attempt}?|a|s"
    assert [parse_verdict(t) for t in ("ok\nYes.", "No", "Yes\nbut wait", "")] == [True, False, None, None]


@pytest.mark.shared
def test_s1s_grading_prompt_has_its_placeholders(shared_dir):
    from s1_nb.curation import _load_grading_prompt
    t = _load_grading_prompt(shared_dir)
    assert all(k in t for k in ("{problem}", "{attempt}", "{solution}")) and '"Yes" or "No"' in t


@pytest.mark.vllm
@pytest.mark.slow
def test_llm_judge_against_a_real_vllm_server(tmp_path):
    "A real OpenAI-compatible vLLM server with the tiny model: the prompt arrives whole, constrained replies parse."
    from servers import vllm_server
    from transformers import AutoTokenizer
    from s1_nb.curation import grading_prompt, llm_judge
    from s1_nb.vllm_forcing import vllm_tiny_model_folder
    path = vllm_tiny_model_folder()
    with vllm_server(path, tmp_path / "serve.log") as base:
        template = "# Problem\n{problem}\n\n## Attempt\n{attempt}\n\n## Correct answer\n{solution}\n\nYes or No?"
        items = [("What is 2+2?", "4", "4"), ("What is 3*3?", "6", "9")]
        constrained = llm_judge(items, base + "/v1", template=template, max_tokens=30, reasoning_chars=20)
        assert len(constrained) == 2
        for v in constrained:
            assert v.correct in (True, False) and v.text.strip().splitlines()[-1] in ("Yes", "No"), v
        tok = AutoTokenizer.from_pretrained(path)
        rendered = tok.apply_chat_template([{"role": "user", "content": grading_prompt(*items[0], template=template)}],
                                           tokenize=False, add_generation_prompt=True)
        assert constrained[0].prompt_tokens == len(tok(rendered, add_special_tokens=False)["input_ids"])
        free = llm_judge(items[:1], base + "/v1", template=template, max_tokens=8)[0]
        assert free.text and free.correct is None or free.text.strip().splitlines()[-1].strip(". ").lower() in ("yes", "no")


def test_s1_curate_command_writes_selection_funnel_and_every_drop(tmp_path):
    from datasets import load_dataset
    from s1_nb.cli import main
    from s1_nb.curation import curate_cli
    assert main(["curate", "--pool", "synthetic:400", "--n", "30", "--seed", "3", "--out", str(tmp_path)]) == 0
    ds = load_dataset("parquet", data_files=str(tmp_path / "s1k.parquet"), split="train")
    assert len(ds) == 30
    drops = pd.read_csv(tmp_path / "drops.csv")
    assert len(drops) + 30 == 400 and drops.reason.notna().all()  # nothing lost without a reason
    table = pd.read_csv(tmp_path / "funnel.csv")
    assert table.kept.iloc[-1] == 30 and table.dropped.sum() == len(drops)
    expected, _ = curate(synthetic_pool(400, seed=3), n=30, seed=3)
    assert ds["question"] == expected["question"]  # the command is `curate`, nothing more
    with pytest.raises(ValueError, match="synthetic:N"):
        curate_cli.__wrapped__(pool="synthetic:many", out=str(tmp_path))
    with pytest.raises(ValueError, match="--n"):
        curate_cli.__wrapped__(pool="synthetic:50", n=0, out=str(tmp_path))
    assert main(["curate", "--pool", "synthetic:many", "--out", str(tmp_path)]) == 2  # one line, usage error


def test_s1_curate_joins_grade_columns_from_features(tmp_path):
    from s1_nb.cli import main
    full = synthetic_pool(300, seed=5)
    full.drop(columns=GRADE_COLUMNS).to_parquet(tmp_path / "pool.parquet")
    full[["question", *GRADE_COLUMNS]].to_parquet(tmp_path / "features.parquet")
    main(["curate", "--pool", str(tmp_path / "pool.parquet"), "--features", str(tmp_path / "features.parquet"),
          "--n", "20", "--out", str(tmp_path / "out")])
    ds = pd.read_parquet(tmp_path / "out" / "s1k.parquet")
    expected, _ = curate(full, n=20)
    assert list(ds["question"]) == expected["question"]
