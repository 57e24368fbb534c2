"""Budget forcing as s1 does it (s1_nb.forcing): one decision core for every engine, the answer gets what the context
leaves, s1's "auto" budget, s1's min_tokens, no generation_config leaks, the run without the think prefix, bad input."""
import json

import pytest
import torch

from s1_nb.core import THINK_DELIM, inference_prompt, load_model, tiny_model_folder
from s1_nb.forcing import (ForcingConfig, ForcingRules, forcing_ids, forcing_rules, generate,
                           nudge_to_end, _plain_parts, redraw_weights, _reference_one, thinking_budget)

QUESTIONS = ["How many r in raspberry?", "What is 3 + 4?",
             "Count the letters of mississippi, one by one, and say how many s there are in it."]


def nudged(path=None, bias=2.0):
    m, tok = load_model(path or tiny_model_folder("tiny"), dtype=torch.float32)
    redraw_weights(m)
    nudge_to_end(m, tok, bias=bias)
    return m, tok, [inference_prompt(q, tok) for q in QUESTIONS]


@pytest.fixture(scope="module")
def qwen_like():
    return nudged()


def same(a, b):
    for x, y in zip(a, b, strict=True):
        assert x.token_ids == y.token_ids
        assert (x.thinking_tokens, x.answer_tokens, x.waits, x.cut_by_budget) == \
               (y.thinking_tokens, y.answer_tokens, y.waits, y.cut_by_budget)
        assert [(s.kind, s.num_tokens) for s in x.segments] == [(s.kind, s.num_tokens) for s in y.segments]


# ---- one decision core ---------------------------------------------------------------------------------------

def test_rules_decide():
    from s1_nb.core import tiny_tokenizer
    fids = forcing_ids(tiny_tokenizer())
    r = ForcingRules(fids, cap=10, num_waits=1, min_thinking_tokens=4)
    assert r.on_end_attempt(2, 0) == "wait" and r.on_end_attempt(2, 1) == "floor" and r.on_end_attempt(5, 1) == "end"
    assert r.on_end_attempt(10, 0) == "end"  # the Wait does not fit the cap any more
    assert ForcingRules(forcing_ids(tiny_tokenizer(), None), cap=10, num_waits=1).on_end_attempt(3, 0) == "ignore"
    assert ForcingRules(fids, 10, min_thinking_tokens=4, min_thinking_wait=True).on_end_attempt(2, 5) == "wait"
    assert r.budget_spent(10) and not r.budget_spent(9) and not ForcingRules(fids, None).budget_spent(10**9)
    a = ForcingRules(fids, 10, answer_cap=5, room=30)
    assert a.answer_left(0) == 5 and a.answer_left(27) == 3 and ForcingRules(fids, 10).answer_left(3) is None
    assert a.answer_spent(5, 10) and a.answer_spent(1, 30) and not a.answer_spent(4, 29)


@pytest.mark.parametrize("engine", ["hf", "hf-reference"])
def test_engines_take_their_decisions_from_the_rules(qwen_like, engine, monkeypatch):
    "Change the core, and every engine follows: no engine keeps a rule of its own."
    m, tok, prompts = qwen_like
    cfg = dict(max_thinking_tokens=40, num_waits=3, max_answer_tokens=3)
    assert all(o.waits for o in generate(prompts, m, tok, engine=engine, **cfg))
    monkeypatch.setattr(ForcingRules, "on_end_attempt", lambda self, t, w: "end")
    assert not any(o.waits for o in generate(prompts, m, tok, engine=engine, **cfg))
    monkeypatch.setattr(ForcingRules, "budget_spent", lambda self, t: t >= 5)
    assert all(o.thinking_tokens <= 5 for o in generate(prompts, m, tok, engine=engine, **cfg))


# ---- faithfulness ----------------------------------------------------------------------------------------------

def test_answer_gets_what_the_context_leaves(qwen_like):
    "max_answer_tokens=None (the default): s1's rule, the answer runs until a stop or the end of the context."
    m, tok, prompts = qwen_like
    assert ForcingConfig().max_answer_tokens is None
    n = max(len(tok(p, add_special_tokens=False)["input_ids"]) for p in prompts)
    old = m.config.max_position_embeddings
    try:
        m.config.max_position_embeddings = n + 150
        outs = generate(prompts, m, tok, max_thinking_tokens=8)
        same(outs, generate(prompts, m, tok, engine="hf-reference", max_thinking_tokens=8))
        lens = [len(tok(p, add_special_tokens=False)["input_ids"]) for p in prompts]
        for o, k in zip(outs, lens):
            assert len(o.token_ids) <= n + 150 - k
        assert any(o.answer_tokens > 100 for o in outs)  # more than any old default reserve would leave
        capped = generate(prompts, m, tok, max_thinking_tokens=8, max_answer_tokens=7)
        assert all(o.answer_tokens <= 7 for o in capped)
    finally:
        m.config.max_position_embeddings = old


def test_s1_auto_budget(qwen_like):
    """'auto-s1' = context - longest prompt of the batch - s1's forced end - 100, the same for every prompt. s1's
    harness subtracts `thinking_end_max` = "<|im_start|>answer\nFinal Answer:", the forced end without its leading
    newline (eval/lm-evaluation-harness/lm_eval/models/vllm_causallms.py, the "auto" rule)."""
    m, tok, prompts = qwen_like
    fids = forcing_ids(tok)
    lens = [len(tok(p, add_special_tokens=False)["input_ids"]) for p in prompts]
    cfg = ForcingConfig("auto-s1")
    assert thinking_budget(cfg, 100, 8192, reserve=0, longest_prompt=150, forced_tokens=10) == 8192 - 150 - 10 - 100
    s1_end = tok("<|im_start|>answer\nFinal Answer:", add_special_tokens=False)["input_ids"]
    caps = [r.cap for r in forcing_rules(cfg, fids, lens, context=400)]
    assert caps == [400 - max(lens) - len(s1_end) - 100] * len(lens)
    ours = [r.cap for r in forcing_rules(ForcingConfig("auto", max_answer_tokens=20), fids, lens, context=400)]
    assert ours == [400 - k - len(fids.forced_end) - 20 for k in lens]  # ours: per prompt, the answer cap reserved
    old = m.config.max_position_embeddings
    try:
        m.config.max_position_embeddings = 400
        for o in generate(prompts, m, tok, max_thinking_tokens="auto-s1", max_answer_tokens=3):
            assert o.thinking_tokens <= caps[0]
    finally:
        m.config.max_position_embeddings = old


@pytest.fixture(scope="module")
def leaky(tmp_path_factory):
    """A tiny model whose generation_config carries what Qwen checkpoints carry: repetition_penalty 1.1 and
    `<|endoftext|>` (id 0 here) beside `<|im_end|>` as eos; nudged to write `<|endoftext|>` now and then."""
    m, tok = load_model(tiny_model_folder("tiny"), dtype=torch.float32)
    redraw_weights(m)
    eot = tok.convert_tokens_to_ids("<|endoftext|>")
    m.generation_config.repetition_penalty = 1.1
    m.generation_config.eos_token_id = [tok.eos_token_id, eot]
    path = tmp_path_factory.mktemp("leaky")
    m.save_pretrained(path); tok.save_pretrained(path)
    assert json.loads((path / "generation_config.json").read_text())["repetition_penalty"] == 1.1
    m, tok = load_model(path, dtype=torch.float32)
    def push(module, args, kwargs, output):
        output.logits[..., eot] += 2.5 * output.logits[..., -1:, :].std()
        return output
    m.register_forward_hook(push, with_kwargs=True)
    return m, tok, [inference_prompt(q, tok) for q in QUESTIONS], eot


def test_no_generation_config_leaks(leaky):
    "The checkpoint's repetition_penalty never applies, and its `<|endoftext|>` is an end attempt in every engine."
    m, tok, prompts, eot = leaky
    cfg = dict(max_thinking_tokens=30, num_waits=2, max_answer_tokens=4)
    outs = generate(prompts, m, tok, **cfg)
    same(outs, generate(prompts, m, tok, engine="hf-reference", **cfg))
    assert any(o.waits for o in outs)
    for o in outs: assert eot not in o.token_ids  # suppressed (a Wait) or the end of thinking/answer, never kept


def test_without_the_think_prefix(qwen_like):
    "think_prefix=False (s1's w/o BF run): the prompt ends at the assistant turn, the model writes everything."
    m, tok, prompts = qwen_like
    outs = generate(prompts, m, tok, think_prefix=False, max_answer_tokens=30)
    same(outs, generate(prompts, m, tok, engine="hf-reference", think_prefix=False, max_answer_tokens=30))
    for o, p in zip(outs, prompts):
        assert o.prompt == p[:-len(THINK_DELIM)] and not o.cut_by_budget and o.waits == 0
        assert not any(s.forced for s in o.segments) and len(o.token_ids) <= 30
    with pytest.raises(ValueError, match="think_prefix=False"):
        generate(prompts, m, tok, think_prefix=False, num_waits=1)
    fids = forcing_ids(tok)
    ids = [5, 6] + fids.think + [7, 8] + fids.end + [9]
    assert _plain_parts(ids, fids) == [("thinking", [5, 6]), ("start", fids.think), ("thinking", [7, 8]),
                                      ("end", fids.end), ("answer", [9])]
    assert _plain_parts([5, 6], fids) == [("answer", [5, 6])]
    assert _plain_parts(fids.think + [5], fids) == [("thinking", []), ("start", fids.think), ("thinking", [5])]


# ---- bad input -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kw,exc,name", [
    (dict(temperature=float("inf")), ValueError, "temperature"),
    (dict(temperature=float("nan")), ValueError, "temperature"),
    (dict(seed="7"), TypeError, "seed"),
    (dict(seed=1.5), TypeError, "seed"),
    (dict(wait_string="Wait<|im_end|>"), ValueError, "wait_string"),
    (dict(wait_string="<|im_start|>think"), ValueError, "wait_string"),
    (dict(max_answer_tokens=-1), ValueError, "max_answer_tokens"),
    (dict(think_prefix="no"), TypeError, "think_prefix"),
])
def test_bad_settings(qwen_like, kw, exc, name):
    m, tok, prompts = qwen_like
    with pytest.raises(exc, match=name): generate(prompts, m, tok, **kw)


def test_reference_one_checks_its_config(qwen_like):
    m, tok, prompts = qwen_like
    with pytest.raises(ValueError, match="num_waits"): _reference_one(prompts[0], m, tok, ForcingConfig(num_waits=-3))
    with pytest.raises(TypeError, match="num_waits"): _reference_one(prompts[0], m, tok, ForcingConfig(num_waits="many"))
    with pytest.raises(ValueError, match="think delimiter"): _reference_one("no prompt", m, tok, ForcingConfig())




@pytest.mark.shared
def test_s1_auto_budget_with_qwen(qwen_tokenizer):
    "With Qwen's tokenizer s1's forced end is 6 tokens, ours (with the newline) 7: 'auto-s1' is s1's number."
    fids = forcing_ids(qwen_tokenizer)
    s1_end = qwen_tokenizer("<|im_start|>answer\nFinal Answer:", add_special_tokens=False)["input_ids"]
    assert (len(s1_end), len(fids.forced_end)) == (6, 7)
    assert forcing_rules(ForcingConfig("auto-s1"), fids, [50, 80], context=32768)[0].cap == 32768 - 80 - 6 - 100


@pytest.mark.parametrize("engine", ["hf", "hf-reference"])
def test_thinking_cannot_end_on_its_first_token_when_waits_are_asked(engine):
    """s1's harness sets vLLM's min_tokens=1 on every thinking round when Waits are asked for (the first round too):
    a model that always tries to end writes one thinking token first; without Waits it may end at once."""
    m, tok, prompts = nudged(bias=50.0)
    fids = forcing_ids(tok)
    for o in generate(prompts[:2], m, tok, engine=engine, num_waits=1, max_thinking_tokens=20, max_answer_tokens=2):
        kinds = [s.kind for s in o.segments if s.num_tokens]
        assert kinds[0] == "thinking" and o.segments[0].num_tokens == 1 and o.waits == 1, o.segments
        assert o.token_ids[0] not in fids.banned_first
    for o in generate(prompts[:2], m, tok, engine=engine, num_waits=0, max_thinking_tokens=20, max_answer_tokens=2):
        assert o.thinking_tokens == 0  # no Waits asked: s1 sets no min_tokens, the end stands at once
