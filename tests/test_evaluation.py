"""Edge cases, bad input and real-data proofs for s1_nb.evaluation (the happy path runs in nbs/05_evaluation.ipynb).

The sweep tests use the real forcing engine on the tiny model; `FakeOutput` stands in only where a test needs
exact model outputs (empty, no delimiter, chosen answers)."""
import json

import pytest

from s1_nb.evaluation import (BENCHMARKS, GRADERS, PAPER_FIG1_AIME24, _REFERENCE_LABEL, Grader,
                              _as_model_answer, budget_settings, control, eval_cli, extract_answer, _gold_check,
                              grade, headline_table, load_benchmark, _load_hub_benchmark,
                              majority_setting, majority_vote, math_answer, method_metrics, performance,
                              plot_scaling, _read_jsonl, register_grader, run_sweep, scaling, _unparsed_golds,
                              wait_settings, _wrong_check)

DONE = "\nthinking\n<|im_start|>answer\n"


# ---- real data: the grader accepts every gold answer and rejects wrong ones ----

@pytest.mark.shared
@pytest.mark.parametrize("name,n", [("math500", 500), ("aime24", 30), ("aime25", 30)])
def test_every_gold_answer_grades_correct(shared_dir, name, n):
    problems = load_benchmark(name, shared_dir / "data" / "benchmarks")
    assert len(problems) == n
    for style in ("boxed", "answer"):
        r = _gold_check(problems, style)
        assert (r["correct"], r["failures"]) == (n, []), (style, r["failures"][:5])


@pytest.mark.shared
def test_wrong_answers_grade_wrong_and_all_math500_golds_parse(shared_dir):
    math500 = load_benchmark("math500", shared_dir / "data" / "benchmarks")
    assert _unparsed_golds(math500) == []  # math-verify parses all 500: the string fallback is unused here
    r = _wrong_check(math500)
    assert r["absurd_accepted"] == 0 and r["neighbour_pairs"] == 498
    assert r["neighbour_accepted"] == [("5", "x=5")]  # math-verify reads an equation as its right-hand side
    for name in ("aime24", "aime25"):
        r = _wrong_check(load_benchmark(name, shared_dir / "data" / "benchmarks"))
        assert (r["absurd_accepted"], r["neighbour_accepted"]) == (0, [])


@pytest.mark.shared
def test_loaders_share_one_schema(shared_dir):
    d = shared_dir / "data" / "benchmarks"
    a24, a25 = load_benchmark("aime24", d, n=2), load_benchmark("aime25", d)
    m = load_benchmark("math500", d, n=1)
    assert [p["answer"] for p in a24] == ["204", "113"] and a25[2]["answer"] == "16"  # "025"-style strings and ints
    assert m[0]["id"] == "math500/test/precalculus/807.json" and m[0]["kind"] == "math"
    for p in a24 + a25 + m: assert set(p) == {"id", "problem", "answer", "kind", "benchmark"}
    assert grade(_as_model_answer("25"), load_benchmark("aime24", d)[7]["answer"], "aime").correct  # gold "025"


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
    with pytest.raises(ValueError, match="line 2: expected a JSON object, got list"): _read_jsonl(f)


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
    g = grade(_as_model_answer("1"), ps[1]["answer"], ps[1]["kind"])
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
    with pytest.raises(RuntimeError, match="gated.*accept the terms"): _load_hub_benchmark("gpqa_diamond")  # offline


# ---- extraction and grading ----

def test_extraction_follows_s1():
    assert extract_answer(DONE + "x \\boxed{1} and \\boxed{\\frac{1}{2}} Answer: 3") == ("\\frac{1}{2}", "boxed")
    assert extract_answer("\n\\boxed{9}\n<|im_start|>answer\nFinal Answer:\n 12") == ("12", "Answer:")
    assert extract_answer(DONE + "I do not know.") == (None, "no \\boxed{} or 'Answer:' in the answer")
    assert extract_answer(DONE + "\\boxed{unclosed") == (None, "no \\boxed{} or 'Answer:' in the answer")
    assert extract_answer("\nx\n<|im_start|>answer\nFinal Answer:\n<|im_end|>") == (None, "nothing after 'Answer:'")


def test_only_the_answer_turn_is_graded_when_there_is_one():
    """s1: the text after the LAST `<|im_start|>answer\\n`; a later turn is not part of the answer."""
    for after in ("<|im_end|>\n<|im_start|>user\nAnswer: 5", "\n<|im_start|>user\nAnswer: 5"):  # with or without im_end
        assert extract_answer(DONE + "Answer: 3" + after) == ("3", "Answer:")
    two = "\na\n<|im_start|>answer\nAnswer: 1\n<|im_start|>answer\nAnswer: 2<|im_end|>"
    assert extract_answer(two) == ("2", "Answer:")  # the last answer turn


def test_without_the_delimiter_s1_falls_back_to_the_last_turn_then_the_whole_text():
    """s1's harness (aime/utils.py, gpqa/openai/utils.py): no `<|im_start|>answer\\n` -> the text after the last
    `<|im_start|>` minus its first line (the role), else the whole completion; `strict=True` is the old reading."""
    user_turn = "\nthinking, not done<|im_start|>user\nAnswer: 5"
    assert extract_answer(user_turn) == ("5", "Answer: (no answer delimiter: last turn)")
    assert grade(user_turn, "5", "aime").correct
    assert extract_answer("\nx<|im_start|>step\nAnswer: 4") == ("4", "Answer: (no answer delimiter: last turn)")
    assert extract_answer("The sum is \\boxed{12}.") == ("12", "boxed (no answer delimiter: whole text)")
    assert extract_answer("\nI think 5 \\boxed{5}") == ("5", "boxed (no answer delimiter: whole text)")
    for text in (user_turn, "The sum is \\boxed{12}."):
        assert extract_answer(text, strict=True) == (None, "no answer delimiter")
        assert grade(text, "5", "aime", strict=True).reason == "no answer delimiter"


def test_answer_is_matched_case_insensitively_as_s1():
    for text in ("answer: 7", "ANSWER: 7", "Final answer:7", "The answer : 7"):
        assert extract_answer(DONE + text) == ("7", "Answer:"), text
    assert grade(DONE + "final answer: 7", "7", "aime").correct
    assert extract_answer(DONE + "so $\\boxed 7$.") == ("7", "boxed")  # s1's bare `\\boxed 7` form


@pytest.mark.parametrize("answer,gold,kind,named", [
    ("Answer: 204 or 205", "204", "aime", "204, 205"), ("\\boxed{204 \\text{ or } 205}", "205", "aime", "204, 205"),
    ("Answer: 3, 4", "3", "count", "3, 4"), ("Answer: 204/205", "204", "aime", "204, 205"),
    ("Answer: either A or C", "A", "gpqa", "A, C"), ("Answer: A, C", "C", "gpqa", "A, C"),
    ("\\boxed{(B) or (D)}", "B", "gpqa", "B, D")])
def test_an_answer_naming_two_candidates_is_never_correct(answer, gold, kind, named):
    g = grade(DONE + answer, gold, kind)
    assert (g.correct, g.reason) == (False, f"names more than one answer: {named}")
    assert grade(DONE + answer, gold, kind, gpqa_fallback=None).correct is False
    assert majority_vote([g.extracted] * 3, kind) is None  # no vote for it either


@pytest.mark.parametrize("answer", ["\\boxed{2 \\text{ or } 3}", "Answer: 2 or 3", "\\boxed{x=2 \\text{ or } x=3}"])
def test_math_two_candidates_are_wrong_too(answer):
    """MATH answers may be lists (`2, 3` against gold `2,3`), so math-verify judges: two candidates are not one."""
    assert not grade(DONE + answer, "2", "math").correct and not grade(DONE + answer, "3", "math").correct
    assert grade(DONE + "\\boxed{2, 3}", "2,3", "math").correct


def test_one_candidate_with_words_still_reads():
    assert grade(DONE + "Answer: 204 minutes", "204", "aime").correct
    assert grade(DONE + "Answer: B) A noble gas", "B", "gpqa").correct  # 'A' the article is no candidate
    assert grade(DONE + "\\boxed{x = 204}", "204", "aime").correct


def test_a_budget_cut_reaches_the_grader_with_its_forced_end(tiny):
    """A real ForcedOutput cut by the budget: its text carries `<|im_start|>answer\\nFinal Answer:`."""
    from s1_nb.core import FORCED_END
    from s1_nb.evaluation import forcing_generate
    lm, tok = tiny
    [out] = forcing_generate(["<|im_start|>user\nWhat is 1 + 1?<|im_end|>\n<|im_start|>assistant\n<|im_start|>think"],
                             lm, tok, max_thinking_tokens=4, max_answer_tokens=4)
    assert out.cut_by_budget and FORCED_END in out.text
    assert extract_answer(out.text)[1] != "no answer delimiter"
    assert extract_answer("\nhmm" + FORCED_END + " 12<|im_end|>") == ("12", "Answer:")


@pytest.mark.parametrize("text,reason", [("", "empty output"), ("   \n", "empty output"),
                                         ("\nI think 5, no box", "no answer delimiter, and no \\boxed{} or 'Answer:' in the text")])
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


@pytest.mark.parametrize("answer,correct", [("\\boxed{x = 204}", True), ("\\boxed{204^\\circ}", True),
                                            ("$\\boxed{204^{\\circ}}$", True), ("\\boxed{x = 205}", False),
                                            ("\\boxed{204.5}", False), ("Answer: 204", True)])
def test_aime_near_misses_fall_back_to_math_verify(answer, correct):
    g = grade(DONE + answer, "204", "aime")
    assert (g.correct, g.reason) == (correct, "correct" if correct else "wrong")


def test_aime_unreadable_answer_keeps_its_reason():
    assert grade(DONE + "Answer: ::::", "204", "aime").reason == "could not read '::::' as an integer"
    assert not grade(DONE + "Answer: 2^{10}", "204", "aime").correct


@pytest.mark.parametrize("text,why", [(DONE + "Probably the noble gas.", "no \\boxed{} or 'Answer:' in the answer"),
                                      (DONE + "Answer: Argon", "could not read 'Argon' as a letter A-D"),
                                      ("", "empty output"),
                                      ("\nno end of thinking", "no answer delimiter, and no \\boxed{} or 'Answer:' in the text")])
def test_gpqa_defaults_to_a_like_s1_unless_strict(text, why):
    for gold, correct in (("A", True), ("C", False)):
        g = grade(text, gold, "gpqa")  # default: s1's harness
        assert (g.correct, g.extracted, g.reason) == (correct, "A", f"no choice found: defaulted to A ({why})")
        strict = grade(text, gold, "gpqa", gpqa_fallback=None)
        assert (strict.correct, strict.reason) == (False, why)
    assert grade(text, "C", "gpqa", gpqa_fallback="C").correct  # any letter can be the default
    assert grade(DONE + "Answer: B", "A", "gpqa").reason == "wrong"  # a readable letter is never replaced


def test_gpqa_fallback_flows_through_a_sweep(tmp_path):
    problems = [dict(id=f"g/{i}", problem="q", answer=gold, kind="gpqa", benchmark="g") for i, gold in enumerate("AAB")]
    texts = [DONE + "Answer: A", DONE + "no idea", DONE + "no idea"]
    fake = lambda prompts, *a, **kw: [FakeOutput(t) for t in texts]
    s1_like = run_sweep(problems, budget_settings([8]), None, tokenizer=None, out=tmp_path / "s1", generate_fn=fake, progress=False)
    strict = run_sweep(problems, budget_settings([8]), None, tokenizer=None, out=tmp_path / "strict", generate_fn=fake,
                       progress=False, gpqa_fallback=None)
    assert (s1_like.accuracy.item(), strict.accuracy.item()) == (pytest.approx(66.67), pytest.approx(33.33))
    assert json.loads(s1_like.failures.item()) == {
        "no choice found: defaulted to A (no \\boxed{} or 'Answer:' in the answer)": 2}
    assert json.loads(strict.failures.item()) == {"no \\boxed{} or 'Answer:' in the answer": 2}


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
        assert grade(_as_model_answer("Yes"), "yes", "yesno").correct
        assert grade(_as_model_answer("maybe"), "yes", "yesno").reason == "could not read 'maybe' as yes/no"
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
    nothing = "no answer delimiter, and no \\boxed{} or 'Answer:' in the text"
    fake = lambda prompts, *a, **kw: [FakeOutput(t) for t in texts]
    res = run_sweep(problems, budget_settings([8]), None, tokenizer=None, out=tmp_path, generate_fn=fake, progress=False)
    row = res.iloc[0]
    assert (row.n, row.accuracy) == (5, 20.0)
    assert json.loads(row.failures) == {"empty output": 1, nothing: 1, "no gold answer": 1,
                                        "unknown kind 'chess' (known: ['aime', 'count', 'gpqa', 'math'])": 1}


def test_majority_rows_vote_over_the_first_k_samples(tmp_path):
    problems = [dict(id="t/0", problem="q", answer="7", kind="aime", benchmark="t")]
    answers = iter(["3", "7", "7", "7"])
    seeds = []
    def fake(prompts, *a, seed=None, **kw):
        seeds.append(seed)
        return [FakeOutput(DONE + f"Answer: {next(answers)}", thinking_tokens=10)]
    res = run_sweep(problems, [majority_setting(4, 1.0, 64)], None, tokenizer=None, out=tmp_path, generate_fn=fake, progress=False)
    assert list(res.value) == [1, 2, 4] and list(res.accuracy) == [0.0, 0.0, 100.0]  # 3 | 3,7 tie -> 3 | 7 wins
    assert list(res.thinking_tokens) == [10, 20, 40] and len(set(seeds)) == 4


def test_interrupted_sweep_resumes_without_redoing_settings(tiny, tmp_path):
    """The real forcing engine on the tiny model: a sweep dies after 2 settings; the rerun makes only the rest."""
    lm, tok = tiny
    from s1_nb.evaluation import forcing_generate
    problems = [dict(id=f"t/{i}", problem=f"What is {i} + {i}?", answer=str(2 * i), kind="aime", benchmark="t")
                for i in range(3)]
    settings = budget_settings([4, 8]) + wait_settings([0, 1], 6)
    calls = []
    def dies_after_two(prompts, *a, **kw):
        if len(calls) == 2: raise KeyboardInterrupt
        calls.append(kw); return forcing_generate(prompts, *a, **kw)
    with pytest.raises(KeyboardInterrupt):
        run_sweep(problems, settings, lm, tokenizer=tok, out=tmp_path, model_id="tiny", generate_fn=dies_after_two,
                  progress=False, max_answer_tokens=4)
    assert len(list((tmp_path / "outputs").glob("*.jsonl"))) == 2 and not list((tmp_path / "outputs").glob("*.tmp"))
    partial = json.loads((tmp_path / "results.json").read_text())
    assert [r["setting"] for r in partial] == ["budget=4", "budget=8"]
    counted = []
    def counting(prompts, *a, **kw):
        counted.append(kw); return forcing_generate(prompts, *a, **kw)
    res = run_sweep(problems, settings, lm, tokenizer=tok, out=tmp_path, model_id="tiny", generate_fn=counting, progress=False,
                    max_answer_tokens=4)
    assert [c["num_waits"] for c in counted] == [0, 1]  # only the two wait settings ran
    assert res.attrs["reused"] == 2 and list(res.setting) == ["budget=4", "budget=8", "wait=0", "wait=1"]
    assert all(res[res.method == "budget"].thinking_tokens <= res[res.method == "budget"].value)
    again = run_sweep(problems, settings, lm, tokenizer=tok, out=tmp_path, model_id="tiny", generate_fn=counting, progress=False,
                      max_answer_tokens=4)
    assert len(counted) == 2 and again.equals(res)  # a finished run is read back whole
    run_sweep(problems, settings[:1], lm, tokenizer=tok, out=tmp_path, model_id="tiny", generate_fn=counting, progress=False,
              max_answer_tokens=5)
    assert len(counted) == 3  # a changed base config is a different setting


def results_table(rows, benchmark="aime24"):
    """A sweep summary from (method, value, thinking tokens, accuracy, cap) rows, as run_sweep makes it."""
    import pandas as pd
    return pd.DataFrame([dict(method=m, value=v, setting=m if v is None else f"{m}={v}", benchmark=benchmark, n=30, accuracy=a,
                              thinking_tokens=t, budget=cap) for m, v, t, a, cap in rows])


FIG1_ROWS = [("budget", 500, 500, 0.0, 500), ("budget", 1000, 1000, 13.3, 1000), ("budget", 2000, 2000, 30.0, 2000),
             ("budget", 4000, 3933, 43.3, 4000), ("budget", "auto", 5300, 50.0, None),
             ("wait", 0, 5300, 50.0, None), ("wait", 2, 6657, 53.3, None), ("wait", 4, 7319, 56.7, None)]


def test_forcing_group_reproduces_the_papers_budget_forcing_numbers():
    """Figure 1's 7 points as budget and Wait rows (the no-forcing run in both): the paper's BF numbers come back."""
    res = results_table(FIG1_ROWS)
    by = {m["method"]: m for m in method_metrics(res, "aime24")}
    f = by["forcing"]
    assert (f["settings"], f["scaling_points"], f["control"], f["performance"]) == (7, 7, 100.0, 56.7)
    assert f["scaling"] == pytest.approx(14.85, abs=0.051)  # S1_METHOD.md: 14.8; with the repeat counted twice: 14.7
    assert f["scaling"] == round(scaling(**PAPER_FIG1_AIME24), 1)
    assert (by["budget"]["performance"], by["budget"]["settings"], by["wait"]["settings"]) == (50.0, 5, 3)
    h = headline_table(res).set_index(["metric", "benchmark"])
    assert h.loc[("Performance (%)", "aime24")].ours == 56.7 and h.loc[("Control (%)", "aime24")].ours == 100.0
    assert h.loc[("accuracy, budget forcing (%)", "aime24")].ours == 56.7
    assert round(h.loc[("Scaling (points per doubling)", "aime24")].ours) == 15
    no_bf = h.loc[("accuracy, no forcing (%)", "aime24")]
    assert no_bf[["paper", "ours_from"]].tolist() == [50.0, "plain"] and no_bf.ours != no_bf.ours  # no plain row: NaN
    h = headline_table(results_table(FIG1_ROWS + [("plain", None, 5300, 50.0, None)])).set_index(["metric", "benchmark"])
    assert h.loc[("accuracy, no forcing (%)", "aime24")][["paper", "ours", "ours_from"]].tolist() == [50.0, 50.0, "plain"]
    assert h.loc[("accuracy, no forcing (%)", "math500")].paper == 92.6


def test_forcing_group_keeps_wait0_runs_that_differ():
    """wait=0 is dropped only when it repeats a budget run: same cap AND the same measured point."""
    other_cap = results_table([("budget", 8, 8, 10.0, 8), ("wait", 0, 8, 10.0, 16), ("wait", 1, 12, 20.0, 16)])
    assert {m["method"]: m for m in method_metrics(other_cap, "aime24")}["forcing"]["settings"] == 3
    same_cap = results_table([("budget", 16, 9, 10.0, 16), ("wait", 0, 9, 10.0, 16), ("wait", 1, 12, 20.0, 16)])
    assert {m["method"]: m for m in method_metrics(same_cap, "aime24")}["forcing"]["settings"] == 2
    differs = results_table([("budget", "auto", 9, 10.0, None), ("wait", 0, 10, 10.0, None)])  # e.g. auto vs no cap
    assert {m["method"]: m for m in method_metrics(differs, "aime24")}["forcing"]["settings"] == 2
    import pandas as pd  # float value column (a None budget value) and a repeated index (concatenated tables)
    glued = pd.concat([results_table([("budget", None, 9, 10.0, None)]), results_table([("wait", 0, 9, 10.0, None)])])
    assert glued.value.tolist()[1] == 0 and list(glued.index) == [0, 0]
    assert {m["method"]: m for m in method_metrics(glued, "aime24")}["forcing"]["settings"] == 1


def test_settings_without_thinking_count_for_control_and_performance():
    """Only Scaling (log2) leaves out a zero-token setting; Control, Performance and `settings` keep it."""
    res = results_table([("budget", 4, 0, 60.0, 4), ("budget", 8, 6, 20.0, 8), ("budget", 16, 14, 40.0, 16)])
    [m] = [m for m in method_metrics(res, "aime24") if m["method"] == "budget"]
    assert (m["settings"], m["scaling_points"], m["performance"], m["control"]) == (3, 2, 60.0, 100.0)
    assert m["scaling"] == pytest.approx(round(scaling([6, 14], [20.0, 40.0]), 1))
    over = results_table([("budget", 4, 0, 0.0, 4), ("budget", 8, 9, 0.0, 8)])  # the overshoot is 1 of 2 settings
    assert [m for m in method_metrics(over, "aime24") if m["method"] == "budget"][0]["control"] == 50.0
    [only] = [m for m in method_metrics(results_table([("budget", 4, 0, 0.0, 4)]), "aime24") if m["method"] == "budget"]
    assert (only["settings"], only["scaling_points"], only["control"]) == (1, 0, 100.0)
    assert only["scaling"] != only["scaling"]  # NaN: no pair to measure


def test_reference_curve_only_on_the_aime24_panel():
    import matplotlib
    matplotlib.use("Agg")
    res = results_table([("budget", 8, 6, 10.0, 8), ("budget", 16, 12, 20.0, 16)], "math500")
    res = __import__("pandas").concat([res, results_table([("budget", 8, 7, 0.0, 8)], "aime24")], ignore_index=True)
    fig = plot_scaling(res, ["math500", "aime24"])
    labels = [[l.get_label() for l in ax.lines] for ax in fig.axes]
    assert [_REFERENCE_LABEL in ls for ls in labels] == [False, True]
    fig = plot_scaling(res, ["math500", "aime24"], reference=None)
    assert not any(_REFERENCE_LABEL in [l.get_label() for l in ax.lines] for ax in fig.axes)


def test_exact_budgets_have_their_own_style_and_label():
    "The laptop sweep's exact budgets (s1's min = max) get a legend label of their own, apart from the cut-offs."
    import matplotlib
    matplotlib.use("Agg")
    res = results_table([("exact", 8, 8, 30.0, 8), ("exact", 16, 16, 40.0, 16), ("budget", 8, 7, 30.0, 8)], "letters")
    fig = plot_scaling(res, ["letters"], reference=None)
    assert [l.get_label() for l in fig.axes[0].lines] == ["exact budget (min = max)", "budget cut-off"]


def test_method_metrics_and_headline_table(tmp_path):
    problems = [dict(id=f"aime24/{i}", problem="q", answer="1", kind="aime", benchmark="aime24") for i in range(2)]
    tokens = {4: 3, 8: 6, 16: 20}  # the 16-token setting overshoots its budget
    def fake(prompts, *a, max_thinking_tokens=None, **kw):
        return [FakeOutput(DONE + ("Answer: 1" if max_thinking_tokens >= 8 and i == 0 else "Answer: 2"),
                           tokens[max_thinking_tokens]) for i, _ in enumerate(prompts)]
    res = run_sweep(problems, budget_settings([4, 8, 16]), None, tokenizer=None, out=tmp_path, generate_fn=fake, progress=False)
    budget, forcing = method_metrics(res, "aime24")  # no Wait rows: the forcing group is the budget group
    assert (budget["method"], forcing["method"]) == ("budget", "forcing")
    assert {k: v for k, v in budget.items() if k != "method"} == {k: v for k, v in forcing.items() if k != "method"}
    m = budget
    assert (m["control"], m["performance"], m["settings"]) == (pytest.approx(200 / 3, abs=0.1), 50.0, 3)
    assert m["scaling"] == pytest.approx(round(scaling([3, 6, 20], [0, 50, 50]), 1))
    h = headline_table(res)
    assert h[h.metric == "Performance (%)"].ours.item() == 50.0 and h.paper.tolist()[0] == 56.7


def test_auto_budget_has_no_numeric_cap(tmp_path):
    problems = [dict(id="t/0", problem="q", answer="1", kind="aime", benchmark="t")]
    fake = lambda prompts, *a, max_thinking_tokens=None, **kw: [FakeOutput(DONE + "Answer: 1", 6, cut=True)]
    res = run_sweep(problems, budget_settings([8, "auto"]), None, tokenizer=None, out=tmp_path, generate_fn=fake, progress=False)
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
    import pandas as pd
    metrics = pd.read_csv(out / "metrics.csv")
    assert list(metrics.columns) == ["benchmark", "method", "settings", "scaling_points", "control", "scaling",
                                     "performance"]
    assert metrics.set_index("method").settings.to_dict() == {"budget": 2, "wait": 1, "majority": 2, "forcing": 3}
    rows = json.loads((out / "results.json").read_text())
    assert [r["setting"] for r in rows] == ["budget=4", "budget=8", "wait=1", "majority=1", "majority=2"]
    assert [r["n"] for r in rows] == [2] * 5


@pytest.mark.vllm
@pytest.mark.slow
def test_sweep_runs_on_the_vllm_engine(tmp_path):
    from s1_nb.evaluation import load_engine_model
    from s1_nb.vllm_forcing import vllm_tiny_model_folder
    llm, tok = load_engine_model(str(vllm_tiny_model_folder()), "vllm")
    problems = [dict(id=f"t/{i}", problem=f"What is {i} + {i}?", answer=str(2 * i), kind="aime", benchmark="t")
                for i in range(3)]
    res = run_sweep(problems, budget_settings([4, 8]) + wait_settings([1], 8), llm, tokenizer=tok, out=tmp_path, engine="vllm",
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


@pytest.mark.parametrize("answer,gold,kind", [
    ("12+13=25", "25", "aime"), ("25 (since m=12, n=13)", "25", "aime"), ("3 \\cdot 5", "15", "aime"),
    ("12+13=25", "25", "count"), ("C, since A and B are wrong", "C", "gpqa"), ("B. A", "B", "gpqa"),
    ("A is wrong, the answer is C", "C", "gpqa")])
def test_numbers_and_letters_that_are_no_alternatives_do_not_reject_the_answer(answer, gold, kind):
    for completion in (DONE + f"Answer: {answer}", DONE + f"$\\boxed{{{answer}}}$"):
        g = grade(completion, gold, kind, gpqa_fallback=None)
        assert (g.correct, g.reason) == (True, "correct"), (completion, g)
    assert not grade(DONE + "Answer: A is wrong, the answer is C", "A", "gpqa").correct


def test_the_answer_after_answer_colon_may_start_on_a_later_line_as_in_s1():
    assert extract_answer(DONE + "Answer: Here is the solution:\n\n10") == ("10", "Answer:")
    assert grade(DONE + "Answer: Here is the solution:\n\n10", "10", "aime").correct
    assert extract_answer(DONE + "Answer:\n7\nbecause 3 + 4 = 7") == ("7", "Answer:")
    assert extract_answer(DONE + "Answer: 5\nWait, final answer: 6") == ("6", "Answer:")  # the last `answer:`
    assert extract_answer(DONE + "Answer: Here it is:")[0] is None


def s1_process_docs(docs: list[dict]) -> list[dict]:
    """s1's own code, copied from simplescaling/s1 eval/lm-evaluation-harness/lm_eval/tasks/gpqa/openai/utils.py
    (`process_docs`), run as its harness runs it: `random.seed(0)` once (evaluator.py, random_seed=0), then the rows
    in dataset order."""
    import random
    random.seed(0)
    out = []
    for doc in docs:
        choices = [doc["Incorrect Answer 1"], doc["Incorrect Answer 2"], doc["Incorrect Answer 3"], doc["Correct Answer"]]
        random.shuffle(choices)
        correct_answer_index = choices.index(doc["Correct Answer"])
        out.append({"choice1": choices[0], "choice2": choices[1], "choice3": choices[2], "choice4": choices[3],
                    "answer": f"{chr(65 + correct_answer_index)}"})
    return out


def test_gpqa_letters_are_s1s_by_default(tmp_path):
    rows = [{"Record ID": f"rec{i}", "Question": f"Which is right, {i}?", "Correct Answer": f"right {i}",
             "Incorrect Answer 1": f"wrong a{i}", "Incorrect Answer 2": f"wrong b{i}", "Incorrect Answer 3": f"wrong c{i}"}
            for i in range(12)]
    (tmp_path / "gpqa_diamond.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    ours = load_benchmark("gpqa_diamond", tmp_path)
    for row, s1, p in zip(rows, s1_process_docs(rows), ours, strict=True):
        assert p["answer"] == s1["answer"]
        assert p["problem"] == "{Question}\n\nA) {choice1}\nB) {choice2}\nC) {choice3}\nD) {choice4}".format(
            Question=row["Question"], **{k: v for k, v in s1.items() if k.startswith("choice")})
    assert load_benchmark("gpqa_diamond", tmp_path, n=3) == ours[:3]  # the first n keep their letters
    per_question = load_benchmark("gpqa_diamond", tmp_path, gpqa_order="question")
    assert per_question != ours and per_question[1:] != ours[1:]
    assert load_benchmark("gpqa_diamond", tmp_path, gpqa_order="question")[1:] == per_question[1:]
    (tmp_path / "gpqa_diamond.jsonl").write_text("\n".join(json.dumps(r) for r in rows[1:]))  # a row dropped:
    assert load_benchmark("gpqa_diamond", tmp_path, gpqa_order="question") == per_question[1:]  # the others stay
    with pytest.raises(ValueError, match="gpqa_order: 'shuffled' is not one of s1, question"):
        load_benchmark("gpqa_diamond", tmp_path, gpqa_order="shuffled")


def test_a_huge_unreadable_answer_is_not_echoed_whole_in_its_reason():
    from s1_nb.evaluation import grade
    huge = "x" * 100_000
    for gold, kind in (("5", "aime"), ("B", "gpqa")):
        g = grade(DONE + "Answer: " + huge, gold, kind, gpqa_fallback=None)
        assert not g.correct and len(g.reason) < 200 and "100002 characters" in g.reason, g.reason[:200]
