"""The laptop s1 chapter: the task generator, the tokenizer, the shipped checkpoint and bad input."""
import json
import random

import pytest
from fastcore.test import test_fail as fails

from s1_nb.core import FINAL_ANSWER, FORCED_END, IM_START, inference_prompt, s1_tokens, training_text
from s1_nb.laptop import (check_line, letter_count_pool, letter_count_trace, laptop_tokenizer, sft_example,
                          task_word, thinking_length)


def test_words_have_the_asked_count_and_unique_bigrams():
    rng = random.Random(1)
    for k in range(4):
        for _ in range(50):
            w = task_word(rng, "e", k)
            assert w.count("e") == k and 5 <= len(w) <= 16
            pairs = [w[i:i + 2] for i in range(len(w) - 1)]
            assert len(set(pairs)) == len(pairs)


def test_check_line_counts_each_hit():
    assert check_line("raspberry", "r") == "Wait, r1aspber2r3y. So 3."
    assert check_line("abc", "z") == "Wait, abc. So 0."


def test_pool_rows_are_in_the_59k_schema_and_their_grades_are_right():
    pool = letter_count_pool(400, seed=3)
    cols = {"question", "solution", "cot_type", "source_type", "metadata", "cot", "thinking_trajectories", "attempt",
            "isqwen7bcorrect", "isqwen32bcorrect", "isgeminicorrect", "domain", "gemini_length"}
    for r in pool:
        assert cols <= set(r)
        m = json.loads(r["metadata"])
        k = m["word"].count(m["letter"])
        assert r["question"] == f"How many {m['letter']} in {m['word']}?" and r["answer"] == str(k)
        assert r["attempt"].startswith(FINAL_ANSWER)
        assert r["isqwen7bcorrect"] == (m["guess"] == k)
        assert r["isqwen32bcorrect"] == (k <= 1)
        assert r["isgeminicorrect"] == (r["attempt"] == f"{FINAL_ANSWER} {k}")
        if m["checks"] and not r["cut_by_budget"]: assert r["isgeminicorrect"]
    assert 0.1 < sum(r["cut_by_budget"] for r in pool) / len(pool) < 0.25  # 30% of the ~53% with checks
    assert letter_count_pool(5, seed=9) == letter_count_pool(5, seed=9)


def test_cut_traces_answer_the_last_finished_count_or_the_guess():
    rng = random.Random(0)
    cut = [t for t in (letter_count_trace("strawbery", "r", rng, p_cut=1.0, p_check_short=1.0) for _ in range(200))]
    assert all(t["cut"] for t in cut)
    for t in cut:
        assert t["answer"] == (2 if "So 2" in t["thinking"] else t["guess"])
        assert not t["thinking"].endswith(("Wai", "Wa", "W")) or t["thinking"].endswith("Wait")


def test_tokenizer_keeps_s1_words_single_and_round_trips():
    tok = laptop_tokenizer()
    for w in ("Wait", "Quick", "So", "Final", "Answer", IM_START):
        assert len(tok(w, add_special_tokens=False)["input_ids"]) == 1, w
    ids = s1_tokens(tok)
    assert ids.is_single("im_start") and ids.is_single("wait")
    row = letter_count_pool(1, seed=5)[0]
    text = training_text(row, tok)
    assert tok.decode(tok(text, add_special_tokens=False)["input_ids"]) == text
    th = row["thinking_trajectories"][0]
    assert thinking_length(th) == len(tok(th, add_special_tokens=False)["input_ids"])


def test_cut_rows_put_the_forced_end_in_the_prompt():
    tok = laptop_tokenizer()
    rows = letter_count_pool(200, seed=2)
    cut = next(r for r in rows if r["cut_by_budget"])
    ex = sft_example(cut, tok)
    assert ex["prompt"].endswith(FORCED_END) and FORCED_END not in ex["completion"]
    whole = next(r for r in rows if not r["cut_by_budget"])
    ex = sft_example(whole, tok)
    assert ex["prompt"] == inference_prompt(whole["question"], tok)
    assert ex["prompt"] + ex["completion"] == training_text(whole, tok).rstrip("\n")


def test_bad_input_is_refused_with_a_clear_error():
    rng = random.Random(0)
    fails(lambda: task_word(rng, "R", 1), contains="letter must be one of a-z")
    fails(lambda: task_word(rng, "r", 9), contains="count must be in 0..5")
    fails(lambda: letter_count_pool(-1), contains="n must be >= 0")


@pytest.fixture(scope="module")
def shipped():
    from s1_nb.core import load_model
    from s1_nb.laptop import shipped_checkpoint
    return load_model(shipped_checkpoint("base"))


def test_shipped_checkpoint_gains_from_one_wait(shipped):
    from s1_nb.laptop import evaluate_laptop, headline, laptop_settings
    from s1_nb.evaluation import wait_settings
    model, tok = shipped
    res = evaluate_laptop(model, tok, n=40, settings=wait_settings([0, 1], 200), progress=False)
    h = headline(res)
    assert h["wait_gain"] >= 10, h  # one Wait turns early guesses into checked counts
    assert h["wait1"] >= 85, h


def test_headline_refuses_a_sweep_without_the_baseline():
    import pandas as pd
    from s1_nb.laptop import headline
    fails(lambda: headline(pd.DataFrame(dict(setting=["wait=1"], accuracy=[50.0], method=["wait"]))),
              contains="no ['wait=0'] setting")


def test_evaluation_and_demo_refuse_bad_arguments(shipped, tmp_path, monkeypatch):
    import s1_nb.laptop as laptop
    model, tok = shipped
    fails(lambda: laptop.evaluate_laptop(model, tok, n=0), contains="n must be >= 1")
    fails(lambda: laptop.run_demo(out=str(tmp_path), stage="final"), contains="--stage must be 'base' or 's1'")
    monkeypatch.setattr(laptop, "assets_dir", lambda: tmp_path / "nowhere")
    fails(lambda: laptop.shipped_checkpoint("base"), contains="no shipped laptop checkpoint")
    fails(lambda: laptop.train_base([], tmp_path, steps=10), contains="must be at least warmup_steps")
