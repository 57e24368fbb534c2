"""Budget forcing in vLLM on CPU, measured side by side (prints a table, writes JSON).

P1  in-stream forced decoding tok/s / plain decoding tok/s, same number of generated tokens   (goal >= 0.95)
    forced = one `LLM.generate` call with the BudgetForcingLogitsProcessor active (Waits and the forced end
    are inserted by it); plain = the same prompts, each asked for exactly as many tokens with `ignore_eos`,
    on the same engine (the processor is loaded but has nothing to do for requests without `s1_` settings).
Also  in-stream `generate(engine="vllm")` vs s1's loop on vLLM `generate(engine="vllm-harness")`, same output.

The model is "tiny-large" (s1_nb.core.TINY_CONFIGS) taught to end its thinking (s1_nb.vllm_forcing.vllm_tiny_model),
so Waits land. Timings are wall clock; the ratios are measured in the same run, rounds interleaved, best of each.

    python benchmarks/vllm_forcing.py                          # about a minute on a free 2-core CPU
    python benchmarks/vllm_forcing.py --batch 16 --budget 400 --waits 4 --rounds 3
"""
import argparse
import json
import os
import platform
import time
from datetime import datetime, timezone
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="tiny-large", help="a tiny size of s1_nb.core.TINY_CONFIGS")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--budget", type=int, default=200, help="max_thinking_tokens")
    ap.add_argument("--waits", type=int, default=4)
    ap.add_argument("--min-thinking", type=int, default=None,
                    help="min_thinking_tokens (default: the budget, so every request thinks exactly `budget` tokens)")
    ap.add_argument("--answer", type=int, default=32, help="max_answer_tokens")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "vllm_forcing.json"))
    args = ap.parse_args()

    from vllm import SamplingParams, TokensPrompt
    from s1_nb.core import inference_prompt, load_tokenizer
    from s1_nb.forcing import ForcingConfig, forcing_ids, forcing_reserve, generate
    from s1_nb.vllm_forcing import forcing_args, load_vllm, vllm_tiny_model

    path = vllm_tiny_model(args.size)
    tok = load_tokenizer(path)
    llm = load_vllm(path)
    words = "raspberry strawberry banana mississippi committee bookkeeper letter answer".split()
    prompts = [inference_prompt(f"How many {w[i % 3]} in {w}? Count them one by one.", tok)
               for i, w in zip(range(args.batch), words * args.batch)]
    ids = [tok(p, add_special_tokens=False)["input_ids"] for p in prompts]
    mins = args.budget if args.min_thinking is None else args.min_thinking
    cfg = ForcingConfig(max_thinking_tokens=args.budget, num_waits=args.waits, min_thinking_tokens=mins,
                        max_answer_tokens=args.answer)
    forced_params = [SamplingParams(max_tokens=4096, temperature=0, extra_args=forcing_args(cfg, args.budget))
                     for _ in prompts]
    toks = [TokensPrompt(prompt_token_ids=i) for i in ids]

    def run_forced():
        return [len(o.outputs[0].token_ids) for o in llm.generate(toks, forced_params, use_tqdm=False)]

    lengths = run_forced()  # warm-up, and the number of tokens each request generates
    plain_params = [SamplingParams(max_tokens=n, temperature=0, ignore_eos=True) for n in lengths]

    def run_plain():
        return [len(o.outputs[0].token_ids) for o in llm.generate(toks, plain_params, use_tqdm=False)]

    assert run_plain() == lengths
    settings = dict(max_thinking_tokens=args.budget, num_waits=args.waits, min_thinking_tokens=mins,
                    max_answer_tokens=args.answer)
    waits = [o.waits for o in generate(prompts, llm, tok, engine="vllm", **settings)]
    times = {k: [] for k in ("forced", "plain", "engine_vllm", "engine_vllm_harness")}
    for _ in range(args.rounds):
        for name, fn in (("forced", run_forced), ("plain", run_plain),
                         ("engine_vllm", lambda: generate(prompts, llm, tok, engine="vllm", **settings)),
                         ("engine_vllm_harness", lambda: generate(prompts, llm, tok, engine="vllm-harness", **settings))):
            t = time.perf_counter(); fn(); times[name].append(time.perf_counter() - t)
    best = {k: min(v) for k, v in times.items()}
    total = sum(lengths)
    p1 = (total / best["forced"]) / (total / best["plain"])
    res = dict(when=datetime.now(timezone.utc).isoformat(timespec="seconds"),
               machine=dict(cpus=os.cpu_count(), python=platform.python_version(), load_avg=os.getloadavg()[0]),
               params=vars(args), generated_tokens=total, waits_inserted=sum(waits), times_s=times, best_s=best,
               forced_tok_per_s=total / best["forced"], plain_tok_per_s=total / best["plain"],
               P1_forced_over_plain=p1, P1_goal=0.95,
               instream_over_harness_speedup=best["engine_vllm_harness"] / best["engine_vllm"])
    print(f"model {args.size}, batch {args.batch}, budget {args.budget}, waits {args.waits}, min thinking {mins}: "
          f"{total} generated tokens, {sum(waits)} Waits inserted")
    print(f"{'run':<28}{'best s':>10}{'tok/s':>10}")
    for k in ("forced", "plain", "engine_vllm", "engine_vllm_harness"):
        print(f"{k:<28}{best[k]:>10.3f}{total / best[k]:>10.0f}")
    print(f"P1 forced/plain tok/s = {p1:.3f} (goal >= 0.95)   in-stream vs harness: "
          f"{res['instream_over_harness_speedup']:.2f}x faster")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(res, indent=1))
    print("wrote", args.out)


if __name__ == "__main__":
    main()
