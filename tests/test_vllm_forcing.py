"""Budget forcing in vLLM (s1_nb.vllm_forcing): the state machine, settings checks, equivalence with the HF engine,
split delimiters, and `vllm serve` with the logits processor."""
import json
import subprocess
import sys

import pytest
import torch
from servers import post_json, vllm_server

from s1_nb.core import inference_prompt, load_model, load_tokenizer
from s1_nb.forcing import ForcingConfig, forcing_ids, generate, match_end
from s1_nb.testing import drive_processor, drive_state, fake_processor, forcing_params, greedy_step
from s1_nb.vllm_forcing import (RequestForcing, first_match, force_rows, forcing_args, parse_forcing_args,
                                vllm_tiny_model_folder)

QUESTIONS = ["How many r in raspberry?", "What is 3 + 5?", "Count the letters in banana.", "Is 7 prime?"]
SETTINGS = [dict(max_thinking_tokens=40), dict(num_waits=2, max_thinking_tokens=40, max_answer_tokens=12),
            dict(num_waits=2, max_thinking_tokens=8), dict(num_waits=3, max_thinking_tokens=60, max_answer_tokens=5),
            dict(num_waits=2, wait_string=None, max_thinking_tokens=30, max_answer_tokens=4),
            dict(num_waits=1, wait_string="Hmm", max_thinking_tokens=30, max_answer_tokens=4),
            dict(min_thinking_tokens=10, max_thinking_tokens=30, max_answer_tokens=4)]


# ---- no vLLM needed -------------------------------------------------------------------------------------------

def test_forcing_module_does_not_import_vllm():
    code = "import sys, s1_nb.forcing; assert 'vllm' not in sys.modules, 'vllm imported'; print('ok')"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0 and "ok" in r.stdout, r.stderr[-2000:]


@pytest.mark.parametrize("args, msg", [
    ({"s1_num_wait": 2}, "s1_num_wait"),  # unknown key, named
    ({"s1_num_waits": "2"}, "s1_num_waits"),  # wrong type
    ({"s1_num_waits": 2.0}, "s1_num_waits"),
    ({"s1_num_waits": True}, "s1_num_waits"),
    ({"s1_wait_string": 3}, "s1_wait_string"),
    ({"s1_num_waits": -1}, ">= 0"),
    ({"s1_max_answer_tokens": -5}, "s1_max_answer_tokens"),
    ({"s1_max_thinking_tokens": 0}, "positive"),
    ({"s1_max_thinking_tokens": -10}, "positive"),
    ({"s1_max_thinking_tokens": "lots"}, "'auto'"),
    ({"s1_max_thinking_tokens": 5, "s1_min_thinking_tokens": 9}, "exceeds"),
])
def test_bad_forcing_args(args, msg):
    with pytest.raises(ValueError, match=msg): parse_forcing_args(args)


def test_forcing_args_round_trip():
    cfg = ForcingConfig(num_waits=3, wait_string=None, min_thinking_tokens=2, max_answer_tokens=7)
    s = parse_forcing_args(forcing_args(cfg, 50, trace="t1") | {"unrelated": 1})
    assert s == dict(num_waits=3, wait_string="", min_thinking_tokens=2, max_answer_tokens=7, max_thinking_tokens=50,
                     trace="t1")
    assert parse_forcing_args({"kv_transfer_params": {}}) is None and parse_forcing_args(None) is None


@pytest.mark.parametrize("budget, waits", [(1, 0), (3, 5), (6, 2), (10, 4), (25, 1)])
def test_state_machine_budget_and_waits(tiny_path, budget, waits):
    tok = load_tokenizer(tiny_path)
    fids = forcing_ids(tok)
    st = drive_state(RequestForcing(fids, budget=budget, num_waits=waits, max_answer_tokens=3, eos=tok.eos_token_id),
                     len(tok), wants=fids.end_attempts[0][0])
    assert st.thinking_tokens <= budget
    assert st.kinds.count("thinking") + st.kinds.count("wait") == st.thinking_tokens
    assert st.waits <= waits and st.kinds.count("wait") == st.waits * len(fids.wait)
    assert st.kinds[-1] == "stop" and st.answer_tokens == 3
    # a wait is never followed directly by an end attempt (s1's min_tokens=1 after "Wait")
    for i, k in enumerate(st.kinds[:-1]):
        if k == "wait" and st.kinds[i + 1] != "wait": assert st.out[i + 1] not in fids.banned_first


def test_state_machine_split_delimiter():
    "A 12-token `<|im_start|>`: an end attempt is the whole sequence at the end of the output, never a lone piece."
    path = vllm_tiny_model_folder(special_im_tokens=False)
    tok = load_tokenizer(path)
    fids = forcing_ids(tok)
    seq = fids.end_attempts[0]
    assert len(seq) == 12
    st = RequestForcing(fids, budget=40, num_waits=1, max_answer_tokens=2, eos=tok.eos_token_id)
    for t in seq[:-1] + [5]:  # the model writes "<|im_start|" then something else: no attempt
        row = torch.zeros(len(tok)); row[t] = 1.0
        greedy_step(st, row)
    assert st.waits == 0 and set(st.kinds) == {"thinking"}
    for t in seq:  # now the whole delimiter: suppressed at its last piece, "Wait" forced instead
        row = torch.zeros(len(tok)); row[t] = 1.0
        greedy_step(st, row)
    assert st.waits == 1 and st.out[-1] == fids.wait[0] and st.kinds[-1] == "wait"
    assert st.out[-1 - len(seq) + 1:-1] == seq[:-1]  # the first 11 pieces stay (a stream cannot take them back)
    assert match_end(st.out, fids.end_attempts) == 0
    for t in [5] + seq:  # (right after a Wait an end may not start: s1's min_tokens=1) then no Waits left: the model's own end stands, completed into "<|im_start|>answer"
        row = torch.zeros(len(tok)); row[t] = 1.0
        greedy_step(st, row)
        if st.queue: break
    while st.queue:
        greedy_step(st, torch.zeros(len(tok)))
    assert st.out[-len(fids.end):] == fids.end and st.phase == "answer"
    assert st.kinds[-len(fids.end):] == ["end"] * len(fids.end)
    assert st.thinking_tokens <= 40


# ---- the processor driven like vLLM drives it (no engine; s1_nb.testing) --------------------------------------

def _state_of(proc):
    return next(iter(proc.requests.values()))


@pytest.mark.parametrize("temperature", [0.0, 1.0])
def test_async_placeholder_is_never_observed(tiny_path, temperature):
    "Async scheduling: a -1 placeholder at update_state time changes nothing; the same run as without placeholders."
    pytest.importorskip("vllm")
    tok = load_tokenizer(tiny_path)
    fids = forcing_ids(tok)
    runs = []
    for placeholder in (False, True):
        proc = fake_processor(tiny_path)
        params = forcing_params(temperature, seed=3)
        out = drive_processor(proc, params, fids.end_attempts[0][0], n_vocab=len(tok), eos=tok.eos_token_id, placeholder=placeholder)
        st = _state_of(proc)
        st.catch_up(out)
        assert -1 not in st.out and st.out == out
        runs.append((out, st.kinds, st.waits, st.thinking_tokens, st.cut_by_budget, st.phase))
    assert runs[0] == runs[1]
    assert runs[0][2] >= 1 and runs[0][5] == "done"  # Waits landed and the request finished


@pytest.mark.parametrize("placeholder, copy_params", [(False, False), (True, False), (False, True), (True, True)])
def test_request_removed_and_readded_keeps_its_state(tiny_path, placeholder, copy_params):
    """vLLM removes an unscheduled request and re-adds it with its output list: the parked state continues. V1's runner
    re-adds its cached request state, the same SamplingParams object (vllm/v1/worker/gpu_model_runner.py
    `_update_states`: `reqs_to_add.append(req_state)`); a pickled copy (as V2 sends, tests/test_vllm_preemption.py)
    is found by its settings and prompt."""
    pytest.importorskip("vllm")
    tok = load_tokenizer(tiny_path)
    fids = forcing_ids(tok)
    wants = fids.end_attempts[0][0]
    proc = fake_processor(tiny_path)
    ref = drive_processor(proc, forcing_params(), wants, n_vocab=len(tok), eos=tok.eos_token_id)
    ref_state = _state_of(proc)
    ref_state.catch_up(ref)
    proc = fake_processor(tiny_path)
    got = drive_processor(proc, forcing_params(), wants, n_vocab=len(tok), eos=tok.eos_token_id, placeholder=placeholder, pause_after=fids.wait[-1],
                           copy_params=copy_params)
    st = _state_of(proc)
    st.catch_up(got)
    assert got == ref and st.kinds == ref_state.kinds and st.waits == ref_state.waits == 2
    assert (st.phase, st.thinking_tokens) == (ref_state.phase, ref_state.thinking_tokens)
    assert not proc.parked  # restored, not left behind


def test_resume_checks_identity_and_prefix(tiny_path):
    "The same SamplingParams (or a copy: same settings and prompt) with the seen ids as a prefix gets the parked state; an empty list is new."
    pytest.importorskip("vllm")
    from vllm.v1.sample.logits_processor import BatchUpdate
    proc = fake_processor(tiny_path)
    p = forcing_params()
    proc.update_state(BatchUpdate(1, [], [(0, p, [1], [])], []))
    st = _state_of(proc)
    st.catch_up([5, 6])
    proc.update_state(BatchUpdate(0, [0], [], []))
    assert proc.parked[id(p)] is st
    proc.update_state(BatchUpdate(1, [], [(0, forcing_params(), [9], [5, 6])], []))  # another request: fresh
    assert _state_of(proc) is not st and id(p) in proc.parked
    proc.update_state(BatchUpdate(1, [], [(0, forcing_params(s1_num_waits=3), [1], [5, 6])], []))  # other settings
    assert _state_of(proc) is not st and id(p) in proc.parked
    proc.update_state(BatchUpdate(1, [], [(0, p, [1], [5, 9, 7])], []))  # ids do not match: fresh (replayed)
    assert _state_of(proc) is not st and id(p) not in proc.parked  # the mismatching state is dropped
    st2 = _state_of(proc)
    proc.update_state(BatchUpdate(1, [], [(0, p, [1], [5, 9, 7, 8])], []))  # row 0 reused: st2 parked, then restored
    assert _state_of(proc) is st2


def test_parking_is_capped(tiny_path):
    "Finished requests also leave the batch: the parked states stay bounded (oldest dropped first)."
    pytest.importorskip("vllm")
    from vllm.v1.sample.logits_processor import BatchUpdate
    proc = fake_processor(tiny_path, max_num_seqs=2)
    keep = []
    for _ in range(20):
        p = forcing_params(); keep.append(p)
        proc.update_state(BatchUpdate(1, [], [(0, p, [1], [])], []))
        proc.update_state(BatchUpdate(0, [0], [], []))
    assert len(proc.parked) == proc.max_parked == 8
    assert id(keep[-1]) in proc.parked and id(keep[0]) not in proc.parked


def test_trace_is_internal(tiny_path):
    "A client cannot set s1_trace (two requests could share a state); a registered trace is claimed once."
    pytest.importorskip("vllm")
    from vllm.v1.sample.logits_processor import BatchUpdate
    from s1_nb.vllm_forcing import TRACES, BudgetForcingLogitsProcessor
    with pytest.raises(ValueError, match="s1_trace"):
        BudgetForcingLogitsProcessor.validate_params(forcing_params(s1_trace="someone-elses"))
    TRACES["t-reg"] = None
    try:
        a, b = forcing_params(s1_trace="t-reg"), forcing_params(s1_trace="t-reg")
        BudgetForcingLogitsProcessor.validate_params(a)
        proc = fake_processor(tiny_path)
        proc.update_state(BatchUpdate(2, [], [(0, a, [1], []), (1, b, [1], [])], []))
        assert TRACES["t-reg"] is proc.requests[0] and proc.requests[1] is not proc.requests[0]
    finally:
        TRACES.pop("t-reg", None)


def test_sampler_probs_matches_vllm():
    "Our truncation of a row (temperature, min_p, top_k, top_p) keeps exactly the ids vLLM's sampler keeps."
    pytest.importorskip("vllm")
    from vllm.v1.sample.ops.topk_topp_sampler import apply_top_k_top_p_pytorch
    from s1_nb.vllm_forcing import sampler_probs
    g = torch.Generator().manual_seed(0)
    for top_p, top_k in [(0.9, 0), (1.0, 5), (0.5, 20), (0.95, 3)]:
        row = torch.randn(200, generator=g) * 3
        ours = sampler_probs(row, 0.7, top_p=top_p, top_k=top_k)
        k = torch.tensor([top_k]) if top_k else None
        theirs = torch.softmax(apply_top_k_top_p_pytorch((row / 0.7)[None].clone(), k, torch.tensor([top_p]))[0], -1)
        assert torch.allclose(ours, theirs, atol=1e-6)
    row = torch.tensor([3.0, 2.0, 0.0, -2.0])
    assert (sampler_probs(row, 1.0, min_p=0.2) > 0).tolist() == [True, True, False, False]


def test_top_p_excludes_the_end(tiny_path):
    "temperature 1, top_p 0.9: an end token outside the nucleus never ends the thinking (it could never be sampled)."
    tok = load_tokenizer(tiny_path)
    fids = forcing_ids(tok)
    end = fids.end_attempts[0][0]
    def attempts(top_p):
        st = RequestForcing(fids, num_waits=100, max_answer_tokens=3, temperature=1.0, top_p=top_p, seed=0,
                            eos=tok.eos_token_id)
        for _ in range(300):
            row = torch.full((len(tok),), -30.0); row[7] = 5.0; row[end] = 2.0  # p(end) ~ 5%, the nucleus is {7}
            forced = st.apply(row)
            st.observe(forced if forced is not None else 7)
        return st.waits
    assert attempts(0.9) == 0
    assert attempts(1.0) > 3  # without truncation the same row does end now and then


def test_unseeded_requests_draw_differently(tiny_path):
    tok = load_tokenizer(tiny_path)
    fids = forcing_ids(tok)
    seeds = []
    for seed in (None, None, 5, 5):
        st = RequestForcing(fids, num_waits=1, temperature=1.0, seed=seed, eos=tok.eos_token_id)
        st.apply(torch.zeros(len(tok)))
        seeds.append(st._gen.initial_seed())
    assert seeds[0] != seeds[1] and seeds[2] == seeds[3] == 5


def test_first_match():
    assert first_match([1, 2, 3, 4, 2, 3], [[2, 3]]) == (1, [2, 3])
    assert first_match([1, 2, 4], [[2, 3]]) is None
    assert first_match([5, 9], [[9], [5, 9]]) == (0, [5, 9])


# ---- with vLLM ------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def taught():
    "(path, HF model, tokenizer) of the tiny model taught to end its thinking, loadable by vLLM."
    path = vllm_tiny_model_folder()
    hf, tok = load_model(path, dtype=torch.float32)
    return path, hf, tok


@pytest.fixture(scope="module")
def llm(taught):
    pytest.importorskip("vllm")
    from s1_nb.vllm_forcing import load_vllm
    return load_vllm(taught[0])


def test_engine_start_logs_no_info_unless_asked(taught):
    "vLLM's INFO lines (settings, local paths) and its loading bar stay out of a learner's cell; `log_level` brings them back."
    pytest.importorskip("vllm")
    code = ("import sys; from s1_nb.vllm_forcing import load_vllm; load_vllm(sys.argv[1]); print('asked', flush=True); "
            "load_vllm(sys.argv[1], log_level='INFO')")
    r = subprocess.run([sys.executable, "-c", code, str(taught[0])], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, timeout=600)  # vLLM logs to stdout, progress bars go to stderr
    assert r.returncode == 0, r.stdout[-3000:]
    quiet, _, asked = r.stdout.partition("asked")
    assert " INFO " not in quiet and "checkpoint shards" not in quiet, quiet[-3000:]
    assert " INFO " in asked  # a later engine in the same process too (vLLM caches its environment after the first)


def _prompts(tok): return [inference_prompt(q, tok) for q in QUESTIONS]


def _kinds(o):
    "The kind of each token of a ForcedOutput."
    return [s.kind for s in o.segments for _ in range(s.num_tokens)]


def _same(a, b):
    "The fields every engine must agree on (greedy)."
    for f in ("token_ids", "thinking_tokens", "answer_tokens", "waits", "cut_by_budget", "thinking", "answer"):
        assert getattr(a, f) == getattr(b, f), (f, getattr(a, f), getattr(b, f))


@pytest.mark.vllm
@pytest.mark.parametrize("settings", SETTINGS, ids=[str(i) for i in range(len(SETTINGS))])
def test_vllm_equals_hf_and_harness(taught, llm, settings):
    "Greedy, float32: vLLM in-stream == HF in-stream == vLLM harness, token for token."
    _, hf, tok = taught
    ps = _prompts(tok)
    ours = generate(ps, llm, tok, engine="vllm", **settings)
    for other in (generate(ps, hf, tok, engine="hf", **settings), generate(ps, llm, tok, engine="vllm-harness", **settings)):
        for a, b in zip(ours, other): _same(a, b)
    if settings.get("num_waits") and settings.get("wait_string", "Wait"):
        assert all(o.waits >= 1 for o in ours), "the taught model tries to end: Waits must land"
        wait_ids = forcing_ids(tok, settings.get("wait_string", "Wait")).wait
        for o in ours:
            waits = [s for s in o.segments if s.kind == "wait"]
            assert len(waits) == o.waits and all(s.forced and s.num_tokens == len(wait_ids) for s in waits)


@pytest.mark.vllm
def test_budget_never_exceeded(taught, llm):
    "Control = 100%: over a sweep of budgets and Wait counts, thinking tokens never exceed the budget."
    _, _, tok = taught
    ps = _prompts(tok)
    for budget in (1, 2, 5, 13, 40):
        for waits in (0, 1, 4):
            for engine in ("vllm", "vllm-harness"):
                outs = generate(ps, llm, tok, engine=engine, max_thinking_tokens=budget, num_waits=waits, max_answer_tokens=2)
                for o in outs:
                    assert o.thinking_tokens <= budget, (engine, budget, waits, o.thinking_tokens)
                    assert o.waits <= waits and o.answer_tokens <= 2
                    assert o.cut_by_budget == ("forced_end" in _kinds(o))
                    if o.cut_by_budget: assert o.thinking_tokens == budget  # cut exactly at the budget


@pytest.mark.vllm
def test_sampling_respects_budget_and_seed(taught, llm):
    _, _, tok = taught
    ps = _prompts(tok)
    kw = dict(engine="vllm", temperature=1.0, top_p=0.9, num_waits=2, max_thinking_tokens=20, max_answer_tokens=3)
    a, b = generate(ps, llm, tok, seed=1, **kw), generate(ps, llm, tok, seed=1, **kw)
    assert [o.token_ids for o in a] == [o.token_ids for o in b]  # same seed, same draws
    assert all(o.thinking_tokens <= 20 and o.waits <= 2 for o in a)


@pytest.mark.vllm
def test_bad_input_reaches_the_user(taught, llm):
    from vllm import SamplingParams
    from vllm.exceptions import VLLMValidationError  # vLLM wraps the processor's ValueError (HTTP 400 on a server)
    _, _, tok = taught
    p = _prompts(tok)[:1]
    with pytest.raises(VLLMValidationError, match="s1_num_wait"):
        llm.generate(p, SamplingParams(max_tokens=4, extra_args={"s1_num_wait": 1}), use_tqdm=False)
    with pytest.raises(VLLMValidationError, match="s1_max_thinking_tokens"):
        llm.generate(p, SamplingParams(max_tokens=4, extra_args={"s1_max_thinking_tokens": -3}), use_tqdm=False)
    with pytest.raises(ValueError, match="max_thinking_tokens"):
        generate(p, llm, tok, engine="vllm", max_thinking_tokens=-1)
    with pytest.raises(ValueError, match="num_waits"):
        generate(p, llm, tok, engine="vllm-harness", num_waits=-2)
    with pytest.raises(ValueError, match="larger than the context"):
        generate(p, llm, tok, engine="vllm", max_thinking_tokens=10**6)
    # plain requests pass through the processor untouched
    plain = llm.generate(p, SamplingParams(max_tokens=5, temperature=0), use_tqdm=False)[0].outputs[0].token_ids
    assert len(plain) >= 1


@pytest.mark.vllm
def test_llm_without_processor_is_refused(taught, llm):
    from s1_nb.vllm_forcing import check_forcing_llm

    class NoProc:  # an LLM-like object whose model config has no logits processors
        class llm_engine:
            class model_config: logits_processors = None
    with pytest.raises(ValueError, match="no budget-forcing logits processor"): check_forcing_llm(NoProc())
    check_forcing_llm(llm)


@pytest.fixture(scope="module")
def split_setup():
    pytest.importorskip("vllm")
    from s1_nb.vllm_forcing import load_vllm
    path = vllm_tiny_model_folder(special_im_tokens=False)
    hf, tok = load_model(path, dtype=torch.float32)
    return hf, tok, load_vllm(path)


@pytest.mark.vllm
def test_split_delimiter_engines(split_setup):
    """A 12-token delimiter (s1 issue #113): natural ends agree with HF token for token; a suppressed end keeps the
    pieces the model wrote (vLLM cannot take back a token), so vLLM agrees with HF up to the first suppression."""
    hf, tok, llm = split_setup
    fids = forcing_ids(tok)
    ps = _prompts(tok)
    for a, b in zip(generate(ps, llm, tok, engine="vllm", max_thinking_tokens=30, max_answer_tokens=6),
                    generate(ps, hf, tok, engine="hf", max_thinking_tokens=30, max_answer_tokens=6)):
        _same(a, b)
        assert a.segments[1].kind in ("end", "forced_end")
    kw = dict(num_waits=2, max_thinking_tokens=40, max_answer_tokens=6)
    ours, ref = generate(ps, llm, tok, engine="vllm", **kw), generate(ps, hf, tok, engine="hf", **kw)
    harness = generate(ps, llm, tok, engine="vllm-harness", **kw)
    assert any(o.waits for o in ours), "the taught model writes the whole delimiter: Waits must land"
    for a, b, h in zip(ours, ref, harness):
        assert a.thinking_tokens <= 40 and b.thinking_tokens <= 40 and h.thinking_tokens <= 40
        assert a.waits == b.waits or a.cut_by_budget or b.cut_by_budget
        _same(b, h)  # the re-prompting harness cuts the pieces away, like HF
        if a.waits:
            first = next(i for i, s in enumerate(a.segments) if s.kind == "wait")
            upto = sum(s.num_tokens for s in a.segments[:first])
            # the dangling pieces: all but the last token of the end sequence the model wrote
            seq = next((s for s in fids.end_attempts if a.token_ids[upto - (len(s) - 1):upto] == s[:-1]), None)
            assert seq is not None, "a Wait in vLLM follows the pieces of an end sequence"
            assert a.token_ids[:upto - (len(seq) - 1)] == b.token_ids[:upto - (len(seq) - 1)]
            assert b.token_ids[upto - (len(seq) - 1):][:len(fids.wait)] == fids.wait
        thinking_ids = [i for i, k in zip(a.token_ids, _kinds(a)) if k in ("thinking", "wait")]
        assert first_match(thinking_ids, fids.end_attempts) is None  # a whole delimiter never stays in the thinking


@pytest.mark.vllm
@pytest.mark.slow
def test_vllm_serve_budget_forcing(taught, llm, tmp_path):
    "`vllm serve --logits-processors s1_nb.vllm_forcing:BudgetForcingLogitsProcessor` forces Waits for a client."
    path, _, tok = taught
    with vllm_server(path, tmp_path / "serve.log") as base:
        prompt = _prompts(tok)[0]
        body = dict(model=str(path), prompt=prompt, max_tokens=200, temperature=0, skip_special_tokens=False,
                    return_token_ids=True,
                    vllm_xargs=dict(s1_num_waits=2, s1_max_thinking_tokens=12, s1_max_answer_tokens=4))
        status, res = post_json(base + "/v1/completions", body)
        assert status == 200, res
        offline = generate([prompt], llm, tok, engine="vllm", num_waits=2, max_thinking_tokens=12, max_answer_tokens=4)[0]
        assert offline.waits == 2 and offline.thinking_tokens <= 12
        got = res["choices"][0]["token_ids"]
        assert got[:len(offline.token_ids)] == offline.token_ids  # the same forced completion, Waits included
        assert res["choices"][0]["text"].count("Wait") >= 2
        status, res = post_json(base + "/v1/completions", dict(body, vllm_xargs=dict(s1_num_waits=-1)))
        assert status == 400 and "s1_num_waits" in json.dumps(res)


def test_a_budget_without_room_for_the_answer_is_refused_up_front():
    pytest.importorskip("vllm")
    from vllm import SamplingParams
    from s1_nb.vllm_forcing import BudgetForcingLogitsProcessor
    ok = SamplingParams(max_tokens=200, extra_args=dict(s1_max_thinking_tokens=100, s1_max_answer_tokens=32))
    BudgetForcingLogitsProcessor.validate_params(ok)
    for bad in (dict(s1_max_thinking_tokens=300), dict(s1_max_thinking_tokens=190, s1_max_answer_tokens=32)):
        with pytest.raises(ValueError, match="does not fit in max_tokens"):
            BudgetForcingLogitsProcessor.validate_params(SamplingParams(max_tokens=200, extra_args=bad))


@pytest.mark.parametrize("temperature", [0.0, 1.0])
def test_a_discarded_prefill_chunk_leaves_no_trace(tiny_path, temperature):
    "Chunked prefill: `apply` on a prompt chunk (its token thrown away) must not start a Wait or use up a draw."
    tok = load_tokenizer(tiny_path)
    fids = forcing_ids(tok)
    end, other = fids.end_attempts[0][0], 7
    def row(top):
        r = torch.zeros(len(tok)); r[top] = 5.0; r[other if top != other else 8] = 4.0
        return r
    def run(chunks):
        st = RequestForcing(fids, budget=30, num_waits=2, max_answer_tokens=3, eos=tok.eos_token_id,
                            temperature=temperature, seed=5)
        for _ in range(chunks): st.apply(row(end).clone())  # mid-prompt rows that "want" to end: discarded
        for top in [other, end, other, other, end, other]:
            logits = row(top)[None].clone()
            forced = st.apply(logits[0])
            if forced is not None: force_rows(logits, [0], [forced])
            st.observe(int(logits[0].argmax()) if temperature == 0 else int(torch.multinomial(
                torch.softmax(logits[0] / temperature, -1), 1, generator=torch.Generator().manual_seed(len(st.out)))))
        return st.out, st.kinds, st.waits, st.thinking_tokens
    assert run(chunks=2) == run(chunks=0)


@pytest.mark.vllm
def test_in_stream_engine_accepts_what_the_others_accept(taught, llm):
    "The largest budget the context allows (the tokenizer's forced end, not a 33-token bound) runs in every engine."
    _, hf, tok = taught
    p = _prompts(tok)[:1]
    context = llm.llm_engine.model_config.max_model_len
    n, end = len(tok(p[0], add_special_tokens=False)["input_ids"]), len(forcing_ids(tok).forced_end)
    kw = dict(max_thinking_tokens=context - n - end - 50, max_answer_tokens=50)
    for engine, model in (("vllm", llm), ("vllm-harness", llm)):
        assert generate(p, model, tok, engine=engine, **kw)[0].thinking_tokens <= kw["max_thinking_tokens"]
    with pytest.raises(ValueError, match="larger than the context"):
        generate(p, llm, tok, engine="vllm", **dict(kw, max_thinking_tokens=kw["max_thinking_tokens"] + 1))
