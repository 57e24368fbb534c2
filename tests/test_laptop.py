"""The laptop s1 chapter: the task generator, the tokenizer, the shipped checkpoint and bad input."""
import json
import random
import re

import pytest
from fastcore.test import test_fail as fails

from s1_nb.core import FINAL_ANSWER, FORCED_END, IM_START, inference_prompt, s1_tokens, training_text
from s1_nb.laptop import (check_line, letter_count_pool, letter_count_trace, laptop_tokenizer, _sft_example,
                          task_word, _thinking_length)


def test_words_have_the_asked_count_and_length():
    rng = random.Random(1)
    for k in range(7):
        for _ in range(50):
            w = task_word(rng, "e", k)
            assert w.count("e") == k and max(3, k) <= len(w) <= 20


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
        if m["checks"] and not r["cut_by_budget"]:  # the last pass read on to hit 2 x passes, or to the end
            assert r["isgeminicorrect"] == (k <= 2 * m["checks"])
    assert 0.1 < sum(r["cut_by_budget"] for r in pool) / len(pool) < 0.25  # 30% of the ~53% with checks
    assert letter_count_pool(5, seed=9) == letter_count_pool(5, seed=9)


def test_cut_traces_answer_the_last_finished_count_or_the_guess():
    rng = random.Random(0)
    cut = [t for t in (letter_count_trace("strawbery", "r", rng, p_cut=1.0, p_check_short=1.0) for _ in range(200))]
    assert all(t["cut"] for t in cut)
    for t in cut:
        done = re.findall(r"So (\d)", t["thinking"])  # the passes' finished counts
        assert t["answer"] == (int(done[-1]) if done else t["guess"])
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
    assert _thinking_length(th) == len(tok(th, add_special_tokens=False)["input_ids"])


def test_cut_rows_put_the_forced_end_in_the_prompt():
    tok = laptop_tokenizer()
    rows = letter_count_pool(200, seed=2)
    cut = next(r for r in rows if r["cut_by_budget"])
    ex = _sft_example(cut, tok)
    assert ex["prompt"].endswith(FORCED_END) and FORCED_END not in ex["completion"]
    whole = next(r for r in rows if not r["cut_by_budget"])
    ex = _sft_example(whole, tok)
    assert ex["prompt"] == inference_prompt(whole["question"], tok)
    assert ex["prompt"] + ex["completion"] == training_text(whole, tok).rstrip("\n")


def test_bad_input_is_refused_with_a_clear_error():
    rng = random.Random(0)
    fails(lambda: task_word(rng, "R", 1), contains="letter must be one of a-z")
    fails(lambda: task_word(rng, "r", 21), contains="count must be in 0..20")
    fails(lambda: letter_count_pool(-1), contains="n must be >= 0")


@pytest.fixture(scope="module")
def shipped():
    from s1_nb.core import load_model
    from s1_nb.core import laptop_folder
    return load_model(laptop_folder("base"))


def test_shipped_checkpoint_gains_from_each_wait(shipped):
    from s1_nb.laptop import evaluate_laptop, headline
    from s1_nb.evaluation import wait_settings
    model, tok = shipped
    res = evaluate_laptop(model, tok, n=60, settings=wait_settings([0, 1, 2, 4], 256), progress=False)
    h = headline(res)
    assert h["wait_gain"] >= 10, h  # one Wait turns early guesses into a first pass
    assert h["no_forcing"] < h["wait1"] < h["wait2"] <= h["wait4"], h  # each Wait reads two more hits
    assert h["wait4"] >= 70, h


def test_shipped_heads_fit_vllm_and_the_package_stays_small():
    from s1_nb.core import _laptop_assets_folder, laptop_folder
    for stage in ("base", "s1"):
        cfg = json.loads((laptop_folder(stage) / "config.json").read_text())
        assert cfg["hidden_size"] // cfg["num_attention_heads"] >= 32, cfg
    assert sum(f.stat().st_size for f in _laptop_assets_folder().rglob("*") if f.is_file()) <= 5 * 2**20


def test_shipped_results_have_three_seeds_every_setting_and_the_groups():
    from s1_nb.laptop import targets_met, laptop_settings, shipped_results
    r = shipped_results()
    assert r["n_eval"] == 200 and [h["seed"] for h in r["headlines"]] == [0, 1, 2]
    names = {s.name for s in laptop_settings()}
    for h in r["headlines"]:
        assert {"no_forcing", "wait1", "wait2", "wait4", "budget_rises", "control", "train_seconds"} <= set(h)
        assert {row["setting"] for row in r["sweeps"][str(h["seed"])]} == names
    assert sorted(r["groups"]) == ["0", "1", "2"]
    for rows in r["groups"].values():
        assert {g["group"] for g in rows} == {"all held-out", "no repeated pair", "repeated pair", "4-6 hits",
                                              "16-20 letters", "typed words", "first model's words"}
        assert all({"wait=0", "wait=1", "wait=2", "wait=4", "n"} <= set(g) for g in rows)
    for h in r["headlines"]:  # every seed meets every design target on its own (seed 0 is the model in the package)
        assert all(targets_met(h).values()), (h["seed"], targets_met(h))
        assert h["train_cpu_seconds"] <= 15 * 60, h  # a laptop model: at most 15 CPU-minutes per seed, one thread
    mean = {k: sum(h[k] for h in r["headlines"]) / 3 for k in ("no_forcing", "wait1", "wait2", "wait4", "wait_gain",
                                                                 "budgets", "budget_rises", "control", "scaling")}
    assert all(targets_met(mean).values()), targets_met(mean)


@pytest.mark.parametrize("question, answer", [("How many S in Mississippi?", 4), ("How many n in banana?", 2),
                                              ("How many e in excellence?", 4)])
def test_shipped_checkpoint_counts_words_the_first_model_miscounted(shipped, question, answer):
    from s1_nb.laptop import ask_laptop
    model, tok = shipped
    rows = ask_laptop(question, model, tok, waits=(0, 2))  # a short word: the guess, then two passes reach hit 4
    assert rows[0]["answer"] == 1 and rows[1]["answer"] == answer, rows[1]["trace"]


def test_asking_refuses_before_generating(shipped):
    from s1_nb.laptop import ask_laptop
    model, tok = shipped
    fails(lambda: ask_laptop("What is 2+2?", model, tok), contains="only answers 'How many <letter> in <word>?'")
    fails(lambda: ask_laptop("", model, tok), contains="type a question")


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
    import s1_nb.core as core
    monkeypatch.setattr(core, "_laptop_assets_folder", lambda: tmp_path / "nowhere")
    fails(lambda: core.laptop_folder("base"), contains="no shipped laptop checkpoint")
    fails(lambda: laptop.train_stage([], tmp_path, steps=10), contains="must be at least warmup_steps")


def test_demo_question_answers_at_each_wait_and_refuses_bad_input(capsys):
    import s1_nb.laptop as laptop
    rows = laptop.run_demo(question="How many S in Mississippi?", waits="0,2")
    assert [r["waits"] for r in rows] == [0, 2] and [r["answer"] for r in rows] == [1, 4]
    assert "--- Wait x2: answer 4" in capsys.readouterr().out
    fails(lambda: laptop.run_demo(question="What is 2+2?"), contains="question: this model only answers")
    fails(lambda: laptop.run_demo(question="How many s in mississippi?", waits="x"), contains="--waits: 'x'")
    fails(lambda: laptop.run_demo(question="How many s in mississippi?", waits="-1"), contains="needs whole numbers")


def test_a_finished_seed_is_reused_only_with_the_same_recipe(tmp_path):
    from s1_nb.laptop import _trained_seed
    seed = tmp_path / "seed0"
    assert _trained_seed(seed, base_steps=5000) is None
    for stage in ("base", "s1"):
        (seed / stage / "model").mkdir(parents=True)
        (seed / stage / "model" / "config.json").write_text("{}")
    (seed / "train_info.json").write_text(json.dumps(dict(seed=0, base_steps=5000, base_rows=50_000)))
    assert _trained_seed(seed, base_steps=5000, base_rows=50_000)["seed"] == 0
    assert _trained_seed(seed, base_steps=6000, base_rows=50_000) is None
    (seed / "s1" / "model" / "config.json").unlink()
    assert _trained_seed(seed, base_steps=5000) is None
