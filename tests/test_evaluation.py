"""Edge cases, bad input and real-data proofs for s1_nb.evaluation (the happy path runs in nbs/05_evaluation.ipynb).

The sweep tests use the real forcing engine on the tiny model; `FakeOutput` stands in only where a test needs
exact model outputs (empty, no delimiter, chosen answers)."""
import json
import warnings

import pytest

from s1_nb.evaluation import (BENCHMARKS, GRADERS, PAPER_FIG1_AIME24, Grader, Setting, as_model_answer, budget_settings,
                              control, eval_cli, extract_answer, gold_check, gpqa_problem, grade, grade_answer,
                              headline_table, load_benchmark, load_hub_benchmark, majority_setting, majority_vote,
                              math_answer, method_metrics, normalize_rows, performance, read_jsonl, register_grader,
                              run_sweep, scaling, summarize, unparsed_golds, wait_settings, wrong_check)

DONE = "\nthinking\n<|im_start|>answer\n"


# ---- real data: the grader accepts every gold answer and rejects wrong ones ----

@pytest.mark.shared
@pytest.mark.parametrize("name,n", [("math500", 500), ("aime24", 30), ("aime25", 30)])
def test_every_gold_answer_grades_correct(shared_dir, name, n):
    problems = load_benchmark(name, shared_dir / "data" / "benchmarks")
    assert len(problems) == n
    for style in ("boxed", "answer"):
        r = gold_check(problems, style)
        assert (r["correct"], r["failures"]) == (n, []), (style, r["failures"][:5])


@pytest.mark.shared
def test_wrong_answers_grade_wrong_and_all_math500_golds_parse(shared_dir):
    math500 = load_benchmark("math500", shared_dir / "data" / "benchmarks")
    assert unparsed_golds(math500) == []  # math-verify parses all 500: the string fallback is unused here
    r = wrong_check(math500)
    assert r["absurd_accepted"] == 0 and r["neighbour_pairs"] == 498
    assert r["neighbour_accepted"] == [("5", "x=5")]  # math-verify reads an equation as its right-hand side
    for name in ("aime24", "aime25"):
        r = wrong_check(load_benchmark(name, shared_dir / "data" / "benchmarks"))
        assert (r["absurd_accepted"], r["neighbour_accepted"]) == (0, [])


@pytest.mark.shared
def test_loaders_share_one_schema(shared_dir):
    d = shared_dir / "data" / "benchmarks"
    a24, a25 = load_benchmark("aime24", d, limit=2), load_benchmark("aime25", d)
    m = load_benchmark("math500", d, limit=1)
    assert [p["answer"] for p in a24] == ["204", "113"] and a25[2]["answer"] == "16"  # "025"-style strings and ints
    assert m[0]["id"] == "math500/test/precalculus/807.json" and m[0]["kind"] == "math"
    for p in a24 + a25 + m: assert set(p) == {"id", "problem", "answer", "kind", "benchmark"}
    assert grade(as_model_answer("25"), load_benchmark("aime24", d)[7]["answer"], "aime").correct  # gold "025"


# ---- loading bad input ----

def test_unknown_benchmark_name_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown benchmark 'aime2024'.*aime24"): load_benchmark("aime2024")


def test_missing_local_file_names_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="aime24_nofigures.jsonl"): load_benchmark("aime24", tmp_path)


def test_malformed_jsonl_names_file_and_line(tmp_path):
    f = tmp_path / "aime24_nofigures.jsonl"
    f.write_text('{"id": 1, "problem": "p", "answer": "1"}\n\n{"id": 2, "problem": "q", "answer": \n')
    with pytest.raises(ValueError, match=r"aime24_nofigures.jsonl, line 3: not valid JSON"):
        load_benchmark("aime24", tmp_path)
    f.write_text('{"id": 1, "problem": "p", "answer": "1"}\n[1, 2]\n')
    with pytest.raises(ValueError, match="line 2: expected a JSON object, got list"): read_jsonl(f)


def test_row_without_problem_names_the_line(tmp_path):
    f = tmp_path / "x.jsonl"
    f.write_text('{"id": 1, "problem": "p", "answer": "1"}\n{"id": 2, "answer": "3"}\n')
    with pytest.raises(ValueError, match="x.jsonl, line 2: no 'problem' field"): load_benchmark("aime24", f)


def test_missing_answer_is_kept_counted_and_graded_wrong(tmp_path):
    f = tmp_path / "m.jsonl"
    f.write_text('{"unique_id": "a", "problem": "p", "answer": "1"}\n{"unique_id": "b", "problem": "q"}\n'
                 '{"unique_id": "c", "problem": "r", "answer": ""}\n')
    with pytest.warns(UserWarning, match="2 of 3 rows have no 'answer' field.*ids b, c"):
        ps = load_benchmark("math500", f)
    assert [p["answer"] for p in ps] == ["1", None, None]
    g = grade(as_model_answer("1"), ps[1]["answer"], ps[1]["kind"])
    assert (g.correct, g.reason) == (False, "no gold answer")


def test_gpqa_local_rows_shuffle_with_a_fixed_seed(tmp_path):
    rows = [{"Record ID": f"r{i}", "Question": f"Q{i}?", "Correct Answer": "right", "Incorrect Answer 1": "w1",
             "Incorrect Answer 2": "w2", "Incorrect Answer 3": "w3"} for i in range(40)]
    f = tmp_path / "gpqa_diamond.jsonl"
    f.write_text("\n".join(json.dumps(r) for r in rows))
    ps, again = load_benchmark("gpqa_diamond", tmp_path), load_benchmark("gpqa_diamond", tmp_path)
    assert ps == again and ps[0]["kind"] == "gpqa"
    for p in ps: assert f"{p['answer']}) right" in p["problem"]
    assert len({p["answer"] for p in ps}) == 4  # the gold letter moves
    assert load_benchmark("gpqa_diamond", tmp_path, seed=1) != ps
    rows[3].pop("Incorrect Answer 2")
    f.write_text("\n".join(json.dumps(r) for r in rows))
    with pytest.raises(ValueError, match="line 4: GPQA row needs 'Incorrect Answer 1..3'"):
        load_benchmark("gpqa_diamond", f)


def test_gpqa_hub_error_says_it_is_gated():
    assert BENCHMARKS["gpqa_diamond"].gated and BENCHMARKS["gpqa_diamond"].hub_id == "Idavidrein/gpqa"
    with pytest.raises(RuntimeError, match="gated.*accept the terms"): load_hub_benchmark("gpqa_diamond")  # offline


# ---- extraction and grading ----

def test_extraction_follows_s1():
    assert extract_answer(DONE + "x \\boxed{1} and \\boxed{\\frac{1}{2}} Answer: 3") == ("\\frac{1}{2}", "boxed")
    assert extract_answer("\n\\boxed{9}\n<|im_start|>answer\nFinal Answer:\n 12") == ("12", "Answer:")
    assert extract_answer("\nthinking<|im_start|>step\nAnswer: 4") == ("4", "Answer:")  # after the last <|im_start|>
    assert extract_answer(DONE + "I do not know.") == (None, "no \\boxed{} or 'Answer:' in the answer")
    assert extract_answer(DONE + "\\boxed{unclosed") == (None, "no \\boxed{} or 'Answer:' in the answer")
    assert extract_answer("\nx\n<|im_start|>answer\nFinal Answer:\n<|im_end|>") == (None, "nothing after 'Answer:'")


@pytest.mark.parametrize("text,reason", [("", "empty output"), ("   \n", "empty output"),
                                         ("\nI think 5 \\boxed{5}", "no answer delimiter")])
def test_unanswerable_outputs_are_wrong_with_a_reason(text, reason):
    g = grade(text, "5", "aime")
    assert (g.correct, g.extracted, g.reason) == (False, None, reason)


def test_unknown_kind_and_grader_errors_never_raise():
    g = grade(DONE + "Answer: 5", "5", "chess")
    assert not g.correct and g.reason.startswith("unknown kind 'chess'")
    def boom(s): raise RuntimeError("broken")
    register_grader("broken", Grader(boom))
    try:
        g = grade(DONE + "Answer: 5", "5", "broken")
        assert (g.correct, g.reason) == (False, "grader error: RuntimeError: broken")
    finally: GRADERS.pop("broken")


def test_aime_compares_integers_and_gpqa_letters():
    assert grade(DONE + "Answer: $\\boxed{073}$", "73", "aime").correct
    assert not grade(DONE + "Answer: 73.5", "73", "aime").correct
    assert grade(DONE + "Answer: (C)", "C", "gpqa").correct and not grade(DONE + "Answer: D", "C", "gpqa").correct
    assert grade(DONE + "Answer: 3", "3", "count").correct  # the laptop chapter's kind


def test_math_uses_math_verify_and_falls_back_to_strings():
    assert grade(DONE + "\\boxed{0.5}", "\\frac{1}{2}", "math").correct
    assert grade(DONE + "\\boxed{\\dfrac{\\sqrt{3}}{2}}", "\\frac{\\sqrt3}{2}", "math").correct
    assert not grade(DONE + "\\boxed{\\frac{1}{3}}", "\\frac{1}{2}", "math").correct
    assert math_answer("north-east").parsed == []  # math-verify cannot parse it ...
    assert grade(DONE + "\\boxed{\\text{North-East}}", "north-east", "math").correct  # ... the string fallback can
    assert not grade(DONE + "\\boxed{south}", "north-east", "math").correct


def test_a_toy_kind_plugs_in():
    register_grader("yesno", Grader(lambda s: {"yes": True, "no": False}.get(str(s).strip().lower()), what="yes/no"))
    try:
        assert grade(as_model_answer("Yes"), "yes", "yesno").correct
        assert grade(as_model_answer("maybe"), "yes", "yesno").reason == "could not read 'maybe' as yes/no"
    finally: GRADERS.pop("yesno")


def test_majority_vote_groups_equal_answers():
    assert majority_vote(["5", "7", "005", None, "x"], "aime") == "5"
    assert majority_vote(["\\frac13", "0.5", "\\frac{1}{2}"], "math") == "0.5"
    assert majority_vote(["7", "5"], "aime") == "7"  # ties go to the earliest
    assert majority_vote([None, "?"], "aime") is None


# ---- metrics: the paper's test vectors ----

def test_metrics_reproduce_the_paper():
    assert round(scaling([7939, 7158, 8263, 7108, 7500], [26.7, 30.0, 33.3, 33.3, 40.0]), 1) == -23.4  # TCC
    tokens, acc = [1024, 2048, 4031, 5664, 6330], [3.3, 30.0, 33.3, 33.3, 40.0]  # TCC+BF
    assert round(scaling(tokens, acc), 1) == 13.2 and performance(acc) == 40.0
    assert control(tokens, [1024, 2048, 4096, 8192, 8192]) == 1.0
    assert round(scaling([1517, 2963, 4636, 5409, 7551], [23.3, 23.3, 33.3, 36.7, 33.3])) == 6  # SCC+BF
    assert abs(scaling(**PAPER_FIG1_AIME24) - 14.85) < 0.005  # BF, Figure 1 (reported 15)


def test_metric_edge_cases():
    assert control([100, 300, 50], 200) == pytest.approx(2 / 3)
    assert control([100, 300], [None, 200], min_tokens=150) == 0.0
    assert scaling([100, 100, 200], [0, 10, 20]) == pytest.approx((20 + 10) / 2)  # the equal-token pair is skipped
    assert scaling([100, 100], [0, 10]) != scaling([100, 100], [0, 10])  # nan: no pair to measure
    with pytest.raises(ValueError, match="positive thinking tokens, got 0"): scaling([0, 100], [0, 1])
    with pytest.raises(ValueError, match="one accuracy per"): scaling([1, 2], [1])


# ---- sweeps ----

class FakeOutput:
    def __init__(self, text, thinking_tokens=4, cut=False):
        self.text, self.thinking_tokens, self.cut_by_budget = text, thinking_tokens, cut
        self.answer_tokens, self.waits = 1, 0


def test_bad_outputs_mid_sweep_are_recorded_not_raised(tmp_path):
    golds = [("1", "aime"), ("2", "aime"), ("3", "aime"), (None, "aime"), ("5", "chess")]
    problems = [dict(id=f"t/{i}", problem=f"q{i}", answer=a, kind=k, benchmark="t") for i, (a, k) in enumerate(golds)]
    texts = [DONE + "Answer: 1", "", "\nno delimiter at all", DONE + "Answer: 4", DONE + "Answer: 5"]
    fake = lambda prompts, *a, **kw: [FakeOutput(t) for t in texts]
    res = run_sweep(problems, budget_settings([8]), None, None, tmp_path, generate_fn=fake, progress=False)
    row = res.iloc[0]
    assert (row.n, row.accuracy) == (5, 20.0)
    assert json.loads(row.failures) == {"empty output": 1, "no answer delimiter": 1, "no gold answer": 1,
                                        "unknown kind 'chess' (known: ['aime', 'count', 'gpqa', 'math'])": 1}


def test_majority_rows_vote_over_the_first_k_samples(tmp_path):
    problems = [dict(id="t/0", problem="q", answer="7", kind="aime", benchmark="t")]
    answers = iter(["3", "7", "7", "7"])
    seeds = []
    def fake(prompts, *a, seed=None, **kw):
        seeds.append(seed)
        return [FakeOutput(DONE + f"Answer: {next(answers)}", thinking_tokens=10)]
    res = run_sweep(problems, [majority_setting(4, 1.0, 64)], None, None, tmp_path, generate_fn=fake, progress=False)
    assert list(res.value) == [1, 2, 4] and list(res.accuracy) == [0.0, 0.0, 100.0]  # 3 | 3,7 tie -> 3 | 7 wins
    assert list(res.thinking_tokens) == [10, 20, 40] and len(set(seeds)) == 4


def test_interrupted_sweep_resumes_without_redoing_settings(tiny, tmp_path):
    """The real forcing engine on the tiny model: a sweep dies after 2 settings; the rerun makes only the rest."""
    lm, tok = tiny
    from s1_nb.evaluation import forcing_generate
    problems = [dict(id=f"t/{i}", problem=f"What is {i} + {i}?", answer=str(2 * i), kind="aime", benchmark="t")
                for i in range(3)]
    settings = budget_settings([4, 8]) + wait_settings([0, 1], 8)
    calls = []
    def dies_after_two(prompts, *a, **kw):
        if len(calls) == 2: raise KeyboardInterrupt
        calls.append(kw); return forcing_generate(prompts, *a, **kw)
    with pytest.raises(KeyboardInterrupt):
        run_sweep(problems, settings, lm, tok, tmp_path, model_id="tiny", generate_fn=dies_after_two,
                  progress=False, max_answer_tokens=4)
    assert len(list((tmp_path / "outputs").glob("*.jsonl"))) == 2 and not list((tmp_path / "outputs").glob("*.tmp"))
    partial = json.loads((tmp_path / "results.json").read_text())
    assert [r["setting"] for r in partial] == ["budget=4", "budget=8"]
    counted = []
    def counting(prompts, *a, **kw):
        counted.append(kw); return forcing_generate(prompts, *a, **kw)
    res = run_sweep(problems, settings, lm, tok, tmp_path, model_id="tiny", generate_fn=counting, progress=False,
                    max_answer_tokens=4)
    assert [c["num_waits"] for c in counted] == [0, 1]  # only the two wait settings ran
    assert res.attrs["reused"] == 2 and list(res.setting) == ["budget=4", "budget=8", "wait=0", "wait=1"]
    assert all(res[res.method == "budget"].thinking_tokens <= res[res.method == "budget"].value)
    again = run_sweep(problems, settings, lm, tok, tmp_path, model_id="tiny", generate_fn=counting, progress=False,
                      max_answer_tokens=4)
    assert len(counted) == 2 and again.equals(res)  # a finished run is read back whole
    run_sweep(problems, settings[:1], lm, tok, tmp_path, model_id="tiny", generate_fn=counting, progress=False,
              max_answer_tokens=5)
    assert len(counted) == 3  # a changed base config is a different setting


def test_method_metrics_and_headline_table(tmp_path):
    problems = [dict(id=f"aime24/{i}", problem="q", answer="1", kind="aime", benchmark="aime24") for i in range(2)]
    tokens = {4: 3, 8: 6, 16: 20}  # the 16-token setting overshoots its budget
    def fake(prompts, *a, max_thinking_tokens=None, **kw):
        return [FakeOutput(DONE + ("Answer: 1" if max_thinking_tokens >= 8 and i == 0 else "Answer: 2"),
                           tokens[max_thinking_tokens]) for i, _ in enumerate(prompts)]
    res = run_sweep(problems, budget_settings([4, 8, 16]), None, None, tmp_path, generate_fn=fake, progress=False)
    [m] = method_metrics(res, "aime24")
    assert (m["control"], m["performance"]) == (pytest.approx(200 / 3, abs=0.1), 50.0)
    assert m["scaling"] == pytest.approx(round(scaling([3, 6, 20], [0, 50, 50]), 1))
    h = headline_table(res)
    assert h[h.metric == "Performance (%)"].ours.item() == 50.0 and h.paper.tolist()[0] == 56.7


def test_auto_budget_has_no_numeric_cap(tmp_path):
    problems = [dict(id="t/0", problem="q", answer="1", kind="aime", benchmark="t")]
    fake = lambda prompts, *a, max_thinking_tokens=None, **kw: [FakeOutput(DONE + "Answer: 1", 6, cut=True)]
    res = run_sweep(problems, budget_settings([8, "auto"]), None, None, tmp_path, generate_fn=fake, progress=False)
    assert list(res.setting) == ["budget=8", "budget=auto"] and res.budget.isna().tolist() == [False, True]
    assert method_metrics(res, "t")[0]["control"] == 100.0


@pytest.mark.shared
def test_s1_eval_command_line_writes_a_run_folder(tiny_path, tmp_path, monkeypatch):
    out = tmp_path / "run"
    monkeypatch.setattr("sys.argv", ["s1 eval", "--model", str(tiny_path), "--benchmarks", "aime24", "--n", "2",
                                     "--budgets", "4,8", "--waits", "1", "--wait_budget", "8", "--majority", "2",
                                     "--max_answer_tokens", "4", "--out", str(out)])
    eval_cli()  # parses sys.argv, as `s1 eval ...` does
    for f in ("results.csv", "results.json", "metrics.csv", "headlines.csv", "test_time_scaling.png"):
        assert (out / f).exists(), f
    rows = json.loads((out / "results.json").read_text())
    assert [r["setting"] for r in rows] == ["budget=4", "budget=8", "wait=1", "majority=1", "majority=2"]
    assert [r["n"] for r in rows] == [2] * 5


@pytest.mark.vllm
@pytest.mark.slow
def test_sweep_runs_on_the_vllm_engine(tmp_path):
    from s1_nb.evaluation import load_engine_model
    from s1_nb.vllm_forcing import vllm_tiny_model
    llm, tok = load_engine_model(str(vllm_tiny_model()), "vllm")
    problems = [dict(id=f"t/{i}", problem=f"What is {i} + {i}?", answer=str(2 * i), kind="aime", benchmark="t")
                for i in range(3)]
    res = run_sweep(problems, budget_settings([4, 8]) + wait_settings([1], 8), llm, tok, tmp_path, engine="vllm",
                    model_id="tiny-vllm", progress=False, max_answer_tokens=4)
    assert list(res.setting) == ["budget=4", "budget=8", "wait=1"] and list(res.n) == [3, 3, 3]
    assert (res.thinking_tokens <= res.budget).all()
    wait = res[res.setting == "wait=1"].iloc[0]  # this tiny model ends its thinking at once: Wait must extend it
    assert wait.waits == 1.0 and wait.thinking_tokens > res[res.setting == "budget=8"].thinking_tokens.item()


def test_model_identity_changes_with_the_weights(tiny_path, tmp_path):
    import shutil, time
    from s1_nb.evaluation import model_identity
    folder = tmp_path / "model"
    shutil.copytree(tiny_path, folder)
    first = model_identity(str(folder))
    assert first.startswith(str(folder.resolve()) + "@") and model_identity(str(folder)) == first
    time.sleep(0.01)
    weights = folder / "model.safetensors"
    weights.write_bytes(weights.read_bytes())  # retrained into the same folder: same size, new file
    assert model_identity(str(folder)) != first
    assert model_identity("no-such-org/no-such-model") == "no-such-org/no-such-model"
