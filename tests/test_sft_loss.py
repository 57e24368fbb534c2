"""SFT text, loss weighting and saved dtype: what s1 trained on and how its examples were weighted."""
import json

import pytest
import torch

from s1_nb.core import ANSWER_DELIM
from s1_nb.sft import (_S1_1_BLOCK_SIZE, S1Recipe, chat_rows, data_block_size, pretrained_tiny_folder, sft_summary,
                       sft_trainer, toy_s1k, train_sft)

torch.set_num_threads(1)
ROWS = toy_s1k(24, seed=0)
BY_LEN = sorted(ROWS, key=lambda r: len(r["thinking_trajectories"]))
TWO = [BY_LEN[0], BY_LEN[-1]]  # a short and a long example: token and example weighting differ


@pytest.fixture(scope="module")
def base():
    return pretrained_tiny_folder("tiny")


def test_answer_is_stripped_after_the_prefix_as_s1():
    # s1's tokenization.py: answer = "Answer: " + attempt (unless it has "Answer:"), then answer.strip()
    row = dict(question="q", thinking_trajectories=["t"], attempt=" 42\n")
    assert chat_rows([row])[0]["messages"][1]["content"].endswith(f"{ANSWER_DELIM}\nAnswer:  42")
    row["attempt"] = "\n\nThe count is 7.\nAnswer: 7  \n"
    assert chat_rows([row])[0]["messages"][1]["content"].endswith(f"{ANSWER_DELIM}\nThe count is 7.\nAnswer: 7")


def test_s1_1_data_gets_s1_1s_block():
    assert data_block_size(["question", "deepseek_thinking_trajectory", "deepseek_attempt"]) == _S1_1_BLOCK_SIZE == 20000
    assert data_block_size(["question", "thinking_trajectories", "attempt"]) == 32768
    assert data_block_size(["question", "gemini_thinking_trajectory", "gemini_attempt", "deepseek_thinking_trajectory",
                            "deepseek_attempt"], "gemini") == 32768


def test_cli_uses_the_datas_block_on_gpu_runs(monkeypatch, tmp_path):
    import s1_nb.sft as sft
    seen = {}
    monkeypatch.setattr(sft, "train_sft", lambda model, rows, out, recipe, **kw: seen.update(recipe=recipe) or out)
    s11 = [dict(question=r["question"], deepseek_thinking_trajectory="\n".join(r["thinking_trajectories"]),
                deepseek_attempt=r["attempt"]) for r in ROWS[:2]]
    (tmp_path / "s11.jsonl").write_text("\n".join(json.dumps(r) for r in s11))
    sft.sft_cli(data=str(tmp_path / "s11.jsonl"), out=str(tmp_path / "o"), gpu=True)
    assert seen["recipe"].block_size == 20000 and seen["recipe"].save_dtype == "bfloat16"
    sft.sft_cli(data=str(tmp_path / "s11.jsonl"), out=str(tmp_path / "o"), gpu=True, block_size=4096)
    assert seen["recipe"].block_size == 4096
    sft.sft_cli(out=str(tmp_path / "o"), gpu=True)  # s1K-schema rows: the paper's block
    assert seen["recipe"].block_size == 32768


def _first_loss_and_means(base, tmp_path, recipe):
    "The logged loss of step 1 (one window: both examples), and the example- and token-weighted means before it."
    tr, _ = sft_trainer(base, TWO, tmp_path, recipe=recipe, method="full", max_steps=1, logging_steps=1)
    per, toks = [], []
    with torch.no_grad():
        for ex in tr.train_dataset:
            b = tr.data_collator([ex])
            per.append(tr.model(**b).loss.item())
            toks.append(int((b["labels"][:, 1:] != -100).sum()))
    tr.train()
    logged = next(h["loss"] for h in tr.state.log_history if "loss" in h)
    return tr, logged, sum(per) / len(per), sum(p * n for p, n in zip(per, toks)) / sum(toks)


@pytest.mark.parametrize("micro", [1, None])  # 1: accumulation 2 (as 1x8 GPUs); None: one micro-batch of 2
def test_every_example_weighs_the_same_with_or_without_accumulation(base, tmp_path, micro):
    r = S1Recipe.cpu(global_batch_size=2, micro_batch_size=micro, block_size=512)
    tr, logged, per_example, per_token = _first_loss_and_means(base, tmp_path, r)
    assert tr.args.gradient_accumulation_steps == (2 if micro == 1 else 1)
    assert abs(per_example - per_token) > 0.1  # the two weightings differ on these rows
    assert abs(logged - per_example) < 1e-4, (logged, per_example, per_token)


def test_token_weighting_is_an_explicit_option(base, tmp_path):
    r = S1Recipe.cpu(global_batch_size=2, micro_batch_size=1, block_size=512, loss_weighting="token")
    tr, logged, per_example, per_token = _first_loss_and_means(base, tmp_path, r)
    assert tr.args.average_tokens_across_devices
    assert abs(logged - per_token) < 1e-4, (logged, per_example, per_token)
    with pytest.raises(ValueError, match="loss_weighting"):
        sft_trainer(base, TWO, tmp_path, recipe=S1Recipe.cpu(loss_weighting="sample"), max_steps=1)
    with pytest.raises(ValueError, match="padding_free"):
        sft_trainer(base, TWO, tmp_path, recipe=S1Recipe.cpu(), max_steps=1, padding_free=True)


def _saved_dtypes(path):
    from safetensors import safe_open
    out = set()
    for f in path.glob("*.safetensors"):
        with safe_open(str(f), "pt") as st:
            out |= {str(st.get_slice(k).get_dtype()) for k in st.keys()}
    return out, json.loads((path / "config.json").read_text()).get("dtype")


def test_recipe_saves_bf16_as_s1_released_and_cpu_keeps_fp32():
    assert S1Recipe().save_dtype == "bfloat16" and S1Recipe.cpu().save_dtype == "float32"


@pytest.mark.parametrize("method", ["full", "lora"])
def test_final_model_is_saved_in_the_asked_dtype(base, tmp_path, method):
    from s1_nb.core import load_model
    r = S1Recipe.cpu(block_size=256, save_dtype="bfloat16")
    path = train_sft(base, ROWS[:4], tmp_path, recipe=r, method=method, max_steps=2, save_steps=1)
    dtypes, cfg_dtype = _saved_dtypes(path)
    assert dtypes == {"BF16"} and cfg_dtype == "bfloat16", (dtypes, cfg_dtype)
    assert sft_summary(tmp_path)["save_dtype"] == "bfloat16"
    if method == "full":  # checkpoints keep the fp32 master weights (resuming from bf16 would lose them)
        assert _saved_dtypes(tmp_path / "checkpoint-2")[0] == {"F32"}
    m, _ = load_model(path)
    assert next(m.parameters()).dtype == torch.bfloat16
    fp32 = train_sft(base, ROWS[:4], tmp_path / "f", recipe=S1Recipe.cpu(block_size=256), method=method, max_steps=1)
    assert _saved_dtypes(fp32)[0] == {"F32"}
    with pytest.raises(ValueError, match="save_dtype"):
        train_sft(base, ROWS[:4], tmp_path / "x", recipe=S1Recipe.cpu(save_dtype="int8"), max_steps=1)
