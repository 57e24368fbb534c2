"""Budget forcing (s1_nb.forcing): the in-stream engine equals s1's multi-call loop token for token, budgets are
never exceeded, multi-token delimiters work, bad input fails clearly."""
import subprocess
import sys

import pytest
import torch

from s1_nb.core import FORCED_END, IM_START, THINK_DELIM, inference_prompt, load_model, tiny_model_folder, tiny_tokenizer
from s1_nb.forcing import (ForcedOutput, ForcingConfig, build_output, _check_prompts, forcing_ids, generate,
                           match_end, nudge_to_end, redraw_weights, register_engine, render_trace_html,
                           thinking_budget, ENGINES)

QUESTIONS = ["How many r in raspberry?", "What is 3 + 4?",
             "Count the letters of mississippi, one by one, and say how many s there are in it."]


def nudged(special_im_tokens=True, bias=2.0):
    m, tok = load_model(tiny_model_folder("tiny", special_im_tokens=special_im_tokens), dtype=torch.float32)
    redraw_weights(m)
    nudge_to_end(m, tok, bias=bias)
    return m, tok, [inference_prompt(q, tok) for q in QUESTIONS]


@pytest.fixture(scope="module")
def qwen_like():
    return nudged(True)


@pytest.fixture(scope="module")
def split():
    return nudged(False)


def same(a: list[ForcedOutput], b: list[ForcedOutput]):
    for x, y in zip(a, b, strict=True):
        assert x.token_ids == y.token_ids, f"{x.token_ids} != {y.token_ids}"
        assert (x.thinking_tokens, x.answer_tokens, x.waits, x.cut_by_budget) == \
               (y.thinking_tokens, y.answer_tokens, y.waits, y.cut_by_budget)
        assert [(s.kind, s.num_tokens) for s in x.segments] == [(s.kind, s.num_tokens) for s in y.segments]


def consistent(o: ForcedOutput, budget=None):
    "Invariants of one output."
    assert o.text == "".join(s.text for s in o.segments)
    assert o.thinking_tokens == sum(s.num_tokens for s in o.segments if s.kind in ("thinking", "wait"))
    assert o.waits == sum(s.kind == "wait" for s in o.segments) or not any(s.kind == "wait" for s in o.segments)
    assert len(o.token_ids) == sum(s.num_tokens for s in o.segments)
    assert o.cut_by_budget == any(s.kind == "forced_end" for s in o.segments)
    if budget is not None: assert o.thinking_tokens <= budget


@pytest.mark.parametrize("num_waits", [0, 1, 2, 4])
@pytest.mark.parametrize("budget", [8, 40])
def test_in_stream_equals_multi_call(qwen_like, num_waits, budget):
    m, tok, prompts = qwen_like
    cfg = dict(max_thinking_tokens=budget, num_waits=num_waits, max_answer_tokens=5)
    outs = generate(prompts, m, tok, **cfg)
    same(outs, generate(prompts, m, tok, engine="hf-reference", **cfg))
    for o in outs: consistent(o, budget)
    if num_waits and budget == 40: assert sum(o.waits for o in outs) >= len(prompts)  # Waits really landed


def test_suppress_only_equals_multi_call(qwen_like):
    m, tok, prompts = qwen_like
    cfg = dict(max_thinking_tokens=30, num_waits=2, wait_string=None, max_answer_tokens=4)
    outs = generate(prompts, m, tok, **cfg)
    same(outs, generate(prompts, m, tok, engine="hf-reference", **cfg))
    assert sum(o.waits for o in outs) > 0 and not any(s.kind == "wait" for o in outs for s in o.segments)


@pytest.mark.parametrize("num_waits,budget,wait", [(0, 30, "Wait"), (2, 40, "Wait"), (4, 12, "Wait"), (2, 30, None)])
def test_split_delimiter(split, num_waits, budget, wait):
    m, tok, prompts = split
    fids = forcing_ids(tok)
    assert len(fids.end_attempts[0]) > 1  # the end of thinking is several tokens here
    cfg = dict(max_thinking_tokens=budget, num_waits=num_waits, max_answer_tokens=4, wait_string=wait)
    outs = generate(prompts, m, tok, **cfg)
    same(outs, generate(prompts, m, tok, engine="hf-reference", **cfg))
    for o in outs:
        consistent(o, budget)
        assert IM_START not in "".join(s.text for s in o.segments if s.kind == "thinking")
    if num_waits and budget == 40: assert sum(o.waits for o in outs) > 0


def test_split_delimiter_half_written_is_thinking():
    "A model that often starts `<|im_start|>` and drifts off: the half-written pieces stay thinking text."
    m, tok = load_model(tiny_model_folder("tiny", special_im_tokens=False), dtype=torch.float32)
    redraw_weights(m, seed=2)
    nudge_to_end(m, tok, bias=2.5, follow=2.0)
    prompts = [inference_prompt(q, tok) for q in QUESTIONS]
    cfg = dict(max_thinking_tokens=60, num_waits=2, max_answer_tokens=3)
    outs = generate(prompts, m, tok, **cfg)
    same(outs, generate(prompts, m, tok, engine="hf-reference", **cfg))
    thinking = "".join(s.text for o in outs for s in o.segments if s.kind == "thinking")
    assert "<|" in thinking and IM_START not in thinking  # false starts were kept, no full delimiter slipped through
    assert sum(o.waits for o in outs) > 0  # and a whole delimiter, once written, was replaced by a Wait


def test_match_end_has_no_false_matches():
    seq = [7, 8, 9]
    assert match_end([1, 7, 8, 9], [seq]) == 3
    assert match_end([7, 8], [seq]) == 0
    assert match_end([7, 8, 9, 1], [seq]) == 0
    assert match_end([7, 9, 8, 9], [seq]) == 0
    assert match_end([9], [seq, [9]]) == 1
    assert match_end([7, 8, 9], [seq, [9]]) == 3  # the longest wins


@pytest.mark.parametrize("budget", [1, 3, 7, 16])
@pytest.mark.parametrize("num_waits", [0, 3])
def test_control_sweep(qwen_like, budget, num_waits):
    m, tok, prompts = qwen_like
    for o in generate(prompts, m, tok, max_thinking_tokens=budget, num_waits=num_waits, max_answer_tokens=2):
        consistent(o, budget)


def test_min_thinking_tokens(qwen_like):
    "s1's min_tokens: below the floor an end attempt is suppressed and nothing appended (no Wait)."
    m, tok, prompts = qwen_like
    plain = generate(prompts, m, tok, max_thinking_tokens=60, max_answer_tokens=2)
    cfg = dict(max_thinking_tokens=60, min_thinking_tokens=20, max_answer_tokens=2)
    outs = generate(prompts, m, tok, **cfg)
    assert any(p.thinking_tokens < 20 for p in plain)  # without it, some stop early
    same(outs, generate(prompts, m, tok, engine="hf-reference", **cfg))
    for o in outs:
        consistent(o, 60)
        assert o.thinking_tokens >= 20 and o.waits == 0 and not any(s.kind == "wait" for s in o.segments)
    # the old rule, on request: each suppression below the floor appends the wait string
    waited = generate(prompts, m, tok, min_thinking_wait=True, **cfg)
    same(waited, generate(prompts, m, tok, engine="hf-reference", min_thinking_wait=True, **cfg))
    for o in waited:
        assert o.thinking_tokens >= 20 - len(forcing_ids(tok).wait) and o.waits > 0


def test_other_wait_strings(qwen_like):
    m, tok, prompts = qwen_like
    for w in ("Hmm", "Alternatively"):
        outs = generate(prompts, m, tok, max_thinking_tokens=40, num_waits=1, wait_string=w, max_answer_tokens=2)
        for o in outs:
            waits = [s for s in o.segments if s.kind == "wait"]
            assert all(s.text == w and s.forced for s in waits) and len(waits) == o.waits


def test_forced_end_text(qwen_like):
    m, tok, prompts = qwen_like
    o = generate(prompts[0], m, tok, max_thinking_tokens=2, max_answer_tokens=3)[0]
    fe = [s for s in o.segments if s.kind == "forced_end"][0]
    assert fe.forced and o.cut_by_budget and fe.text.endswith("<|im_start|>answer\nFinal Answer:")
    assert fe.text.startswith("\n") != o.thinking.endswith("\n")  # the newline only if needed
    fids = forcing_ids(tok)
    nl, word = tok("a\n", add_special_tokens=False)["input_ids"][-1], tok("a", add_special_tokens=False)["input_ids"][-1]
    assert tok.decode(fids.forced_end_for(nl)) == FORCED_END[1:] and tok.decode(fids.forced_end_for(word)) == FORCED_END


def test_sampling_is_seeded(qwen_like):
    m, tok, prompts = qwen_like
    run = lambda seed: [o.token_ids for o in generate(prompts, m, tok, max_thinking_tokens=20, num_waits=1,
                                                      temperature=1.0, top_p=0.9, seed=seed, max_answer_tokens=3)]
    a, b, c = run(0), run(0), run(1)
    assert a == b and a != c
    for o in generate(prompts, m, tok, max_thinking_tokens=20, temperature=1.5, max_answer_tokens=3): consistent(o, 20)


def test_auto_budget_uses_the_context(qwen_like):
    m, tok, prompts = qwen_like
    n = len(tok(prompts[0], add_special_tokens=False)["input_ids"])
    old = m.config.max_position_embeddings
    try:
        m.config.max_position_embeddings = n + 40
        o = generate(prompts[:1], m, tok, max_thinking_tokens="auto", max_answer_tokens=4)[0]
        reserve = len(forcing_ids(tok).forced_end) + 4
        left = 40 - reserve
        assert thinking_budget(ForcingConfig("auto"), n, n + 40, reserve=reserve) == left
        consistent(o, left)
        assert o.cut_by_budget or o.thinking_tokens < left
        with pytest.raises(ValueError, match="max_thinking_tokens=100"):
            generate(prompts[:1], m, tok, max_thinking_tokens=100, max_answer_tokens=4)
        m.config.max_position_embeddings = n + 5
        with pytest.raises(ValueError, match=r"prompts\[0\]"):
            generate(prompts[:1], m, tok, max_thinking_tokens="auto")
    finally:
        m.config.max_position_embeddings = old


@pytest.mark.parametrize("kw,exc,name", [
    (dict(max_thinking_tokens=0), ValueError, "max_thinking_tokens"),
    (dict(max_thinking_tokens=-5), ValueError, "max_thinking_tokens"),
    (dict(max_thinking_tokens="lots"), TypeError, "max_thinking_tokens"),
    (dict(num_waits=-1), ValueError, "num_waits"),
    (dict(min_thinking_tokens=50, max_thinking_tokens=10), ValueError, "min_thinking_tokens"),
    (dict(max_answer_tokens=-1), ValueError, "max_answer_tokens"),
    (dict(temperature=-0.1), ValueError, "temperature"),
    (dict(top_p=0), ValueError, "top_p"),
    (dict(wait_string=3), TypeError, "wait_string"),
    (dict(num_wait=2), TypeError, "num_wait"),
])
def test_bad_settings(qwen_like, kw, exc, name):
    m, tok, prompts = qwen_like
    with pytest.raises(exc, match=name):
        generate(prompts, m, tok, **kw)


def test_bad_prompts(qwen_like):
    m, tok, prompts = qwen_like
    with pytest.raises(ValueError, match="empty"): generate([], m, tok)
    with pytest.raises(ValueError, match=r"prompts\[1\].*end in the think delimiter"):
        generate([prompts[0], "How many r in raspberry?"], m, tok)
    with pytest.raises(ValueError, match=r"prompts\[0\].*2 times"):  # thinking already started and restarted
        generate([prompts[0] + "\nhmm\n" + THINK_DELIM], m, tok)
    with pytest.raises(ValueError, match=r"prompts\[0\].*end in the think delimiter"):  # thinking already under way
        generate([prompts[0] + "\nhmm"], m, tok)
    with pytest.raises(TypeError, match=r"prompts\[0\]"): generate([None], m, tok)
    with pytest.raises(ValueError, match="engine"): generate(prompts, m, tok, engine="nope")
    with pytest.raises(ValueError, match="tokenizer"): generate(prompts, m, None)


def test_tokenizer_lacking_delimiters_or_stop(qwen_like):
    m, _, prompts = qwen_like
    tok = tiny_tokenizer()
    tok.eos_token = None
    with pytest.raises(ValueError, match="eos"): generate(prompts, m, tok)
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast
    t = Tokenizer(models.WordLevel({"[UNK]": 0, "a": 1}, unk_token="[UNK]"))
    t.pre_tokenizer = pre_tokenizers.Whitespace()
    words = PreTrainedTokenizerFast(tokenizer_object=t, unk_token="[UNK]", eos_token="a")
    with pytest.raises(ValueError, match="delimiter"): generate(prompts, m, words)


def test_engine_registry_and_no_vllm_import():
    calls = []
    register_engine("echo", lambda prompts, model, tok, cfg: calls.append((prompts, cfg.num_waits)) or [])
    try:
        generate(inference_prompt("hi"), object(), tiny_tokenizer(), engine="echo", num_waits=3)
        assert calls == [([inference_prompt("hi")], 3)]
    finally:
        ENGINES.pop("echo")
    code = "import sys, s1_nb.forcing; assert 'vllm' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_render_trace_html():
    tok = tiny_tokenizer()
    parts = [("thinking", tok("\nso <b>2</b>", add_special_tokens=False)["input_ids"]),
             ("wait", tok("Wait", add_special_tokens=False)["input_ids"]),
             ("forced_end", tok("\n<|im_start|>answer\nFinal Answer:", add_special_tokens=False)["input_ids"]),
             ("answer", tok(" 3", add_special_tokens=False)["input_ids"])]
    o = build_output("p", parts, tok, waits=1, cut=True)
    h = render_trace_html(o)
    assert "&lt;b&gt;2&lt;/b&gt;" in h and "<b>2</b>" not in h  # model text is escaped
    assert h.count('class="forced') == 2 and "Wait" in h
    assert f"{o.thinking_tokens} thinking tokens" in h and "1 wait" in h and "cut by the budget" in h


@pytest.mark.shared
def test_qwen_forcing_ids(qwen_tokenizer):
    fids = forcing_ids(qwen_tokenizer)
    im_start, im_end = qwen_tokenizer.convert_tokens_to_ids(["<|im_start|>", "<|im_end|>"])
    assert fids.end_attempts == [[im_start], [im_end]] and fids.stops == [[im_end]]
    assert qwen_tokenizer.decode(fids.end) == "<|im_start|>answer"
    assert qwen_tokenizer.decode(fids.forced_end) == FORCED_END
    assert qwen_tokenizer.decode(fids.forced_end_after_newline) == FORCED_END[1:]
    assert qwen_tokenizer.decode(fids.wait) == "Wait" and len(fids.wait) == 1
    assert fids.forced_end_for(qwen_tokenizer("so 3.\n")["input_ids"][-1]) == fids.forced_end_after_newline


def test_no_answer_tokens(qwen_like):
    m, tok, prompts = qwen_like
    cfg = dict(max_thinking_tokens=10, num_waits=1, max_answer_tokens=0)
    outs = generate(prompts, m, tok, **cfg)
    same(outs, generate(prompts, m, tok, engine="hf-reference", **cfg))
    assert all(o.answer_tokens == 0 and o.answer == "" for o in outs)
