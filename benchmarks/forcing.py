"""Budget-forcing speed on CPU, measured side by side (prints a table, writes JSON).

P1  in-stream forced decoding tok/s / plain decoding tok/s, same number of generated tokens   (goal >= 0.95)
P2  in-stream ("hf") vs s1's multi-call loop ("hf-reference") at 1, 2, 4 Waits and prompts of
    ~256, 1K, 4K tokens                                                     (goal >= 1.5x at 4 Waits on 1K)
P3  batch 16 vs batch 1 throughput of the in-stream engine, every sequence thinking exactly the budget (goal >= 6x),
    beside the same ratio for plain HF generate of as many tokens (engine ratio / plain ratio: goal >= 0.95)

The model is the random "tiny-large" Qwen2 (s1_nb.core.TINY_CONFIGS) with its weights redrawn and a constant
nudge towards <|im_start|> (so it tries to end its thinking and Waits land; the nudge costs the same in every
variant). Timings are wall clock on whatever machine runs this; ratios are measured in the same run.

    python benchmarks/forcing.py                      # defaults: a few minutes on 1 CPU thread
    python benchmarks/forcing.py --lengths 256 1024 --waits 1 4 --threads 2
"""
import argparse
import json
import platform
import time
from datetime import datetime, timezone
from pathlib import Path

import torch

from s1_nb.core import inference_prompt, load_model, s1_tokens, tiny_model_folder
from s1_nb.forcing import generate, redraw_weights


def constant_nudge(model, tokenizer, bias: float):
    "Add `bias` standard deviations to the <|im_start|> logit at every step (cheap, history-free)."
    first = s1_tokens(tokenizer).end_of_thinking[0]
    def hook(module, args, kwargs, out):
        row = out.logits[:, -1]
        row[:, first] += bias * row.std(-1)
        return out
    return model.register_forward_hook(hook, with_kwargs=True)


def prompt_of_length(tokenizer, n: int, seed: int = 0) -> str:
    "An s1 prompt of about `n` tokens (a question made of numbers)."
    import random
    rng = random.Random(seed)
    words = []
    base = len(tokenizer(inference_prompt("", tokenizer), add_special_tokens=False)["input_ids"])
    while base + len(tokenizer(" ".join(words), add_special_tokens=False)["input_ids"]) < n:
        words += [str(rng.randint(0, 99)) for _ in range(max(1, (n - base) // 8))]
    return inference_prompt(" ".join(words), tokenizer)


def timed(fn, repeat: int = 1):
    "Best wall-clock seconds of `repeat` runs, and the last result."
    best, res = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter(); res = fn(); best = min(best, time.perf_counter() - t)
    return best, res


def plain_generate(model, tokenizer, prompts, n_new: int):
    "HF generate of exactly `n_new` tokens per prompt (greedy, no stop): the plain-decoding baseline."
    tokenizer.padding_side = "left"
    enc = tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False).to(model.device)  # as the engines
    with torch.no_grad():
        return model.generate(**enc, max_new_tokens=n_new, min_new_tokens=n_new, do_sample=False,
                              eos_token_id=None, pad_token_id=tokenizer.pad_token_id)


def p1_hf(model, tok, args):
    """P1 for the transformers engine, batch 1: forced decoding (a Wait at every end attempt until the thinking
    budget, then the forced end and the answer) vs HF generate of the same number of tokens. Runs alternate, and the
    median of the per-pair ratios is reported (the machine may be shared)."""
    import statistics
    p = prompt_of_length(tok, 256)
    cfg = dict(max_thinking_tokens=args.p1_budget, min_thinking_tokens=args.p1_budget, min_thinking_wait=True,
               max_answer_tokens=args.p1_answer)
    generate(p, model, tok, max_thinking_tokens=8, max_answer_tokens=2)  # warm-up
    pairs = []
    for _ in range(max(5, args.repeat)):
        t_forced, outs = timed(lambda: generate(p, model, tok, **cfg))
        n = len(outs[0].token_ids)
        t_plain, _ = timed(lambda: plain_generate(model, tok, [p], n))
        pairs.append((t_forced, t_plain))
    ratio = statistics.median(tp / tf for tf, tp in pairs)
    t_forced, t_plain = min(tf for tf, _ in pairs), min(tp for _, tp in pairs)
    return dict(engine="hf", tokens=n, waits=outs[0].waits, forced_tok_s=n / t_forced, plain_tok_s=n / t_plain,
                ratio=ratio)


P1_ENGINES = {"hf": p1_hf}  # the vLLM chapter's benchmark adds "vllm" with the same row shape


def p2(model, tok, args):
    "P2: in-stream vs multi-call, by prompt length and Wait count."
    rows = []
    for n in args.lengths:
        p = prompt_of_length(tok, n)
        for w in args.waits:
            cfg = dict(max_thinking_tokens=args.p2_budget, num_waits=w, max_answer_tokens=args.p2_answer)
            t_in, o_in = timed(lambda: generate(p, model, tok, **cfg), args.repeat)
            t_mc, o_mc = timed(lambda: generate(p, model, tok, engine="hf-reference", **cfg), args.repeat)
            rows.append(dict(prompt_tokens=len(tok(p, add_special_tokens=False)["input_ids"]), waits=w,
                             waits_landed=o_in[0].waits, same_tokens=o_in[0].token_ids == o_mc[0].token_ids,
                             in_stream_s=t_in, multi_call_s=t_mc, speedup=t_mc / t_in))
            print(f"  P2 {rows[-1]}", flush=True)
    return rows


def p3(model, tok, args):
    """P3: batch 16 vs batch 1 throughput (forced decoding, same settings), beside the same ratio for plain HF
    `generate` of the same number of tokens on the same model and threads (`plain_ratio`): how much of what
    batching gives plain decoding the engine keeps (`engine_vs_plain`, goal >= 0.95)."""
    prompts = [prompt_of_length(tok, 128, seed=i) for i in range(args.batch)]
    # every sequence thinks exactly the budget (a Wait at each end attempt until it is spent), so the batch is not
    # dominated by one straggler: what is measured is the batching itself
    cfg = dict(max_thinking_tokens=args.p3_budget, min_thinking_tokens=args.p3_budget, min_thinking_wait=True,
               max_answer_tokens=args.p3_answer)
    generate(prompts[:2], model, tok, max_thinking_tokens=4, max_answer_tokens=2)  # warm-up
    ob = generate(prompts, model, tok, **cfg)  # greedy: the same tokens in every round
    n_new = round(sum(len(o.token_ids) for o in ob) / len(ob))  # plain decoding of as many tokens per sequence
    side = tok.padding_side
    def plain(ps):
        tok.padding_side = "left"
        try: return plain_generate(model, tok, ps, n_new)
        finally: tok.padding_side = side
    runs = dict(engine_1=lambda: [generate(p, model, tok, **cfg)[0] for p in prompts[:args.p3_singles]],
                engine_b=lambda: generate(prompts, model, tok, **cfg),
                plain_1=lambda: [plain([p]) for p in prompts[:args.p3_singles]], plain_b=lambda: plain(prompts))
    best, outs = dict.fromkeys(runs, float("inf")), {}
    for _ in range(args.p3_rounds):  # rounds interleaved (a change of load hits all four), best of each
        for k, fn in runs.items():
            t = time.perf_counter(); outs[k] = fn(); best[k] = min(best[k], time.perf_counter() - t)
    o1, ob = outs["engine_1"], outs["engine_b"]
    tok1 = sum(len(o.token_ids) for o in o1) / best["engine_1"]
    tokb = sum(len(o.token_ids) for o in ob) / best["engine_b"]
    plain1, plainb = args.p3_singles * n_new / best["plain_1"], args.batch * n_new / best["plain_b"]
    return dict(batch=args.batch, batch1_tok_s=tok1, batch_tok_s=tokb, ratio=tokb / tok1, plain_new_tokens=n_new,
                plain_batch1_tok_s=plain1, plain_batch_tok_s=plainb, plain_ratio=plainb / plain1,
                engine_vs_plain=(tokb / tok1) / (plainb / plain1))


def parse_args(argv=None) -> argparse.Namespace:
    "The benchmark's settings (also what benchmarks/gpu_check.py runs the same measurements with)."
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", default="tiny-large", help="a size from s1_nb.core.TINY_CONFIGS")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=1, help="best of this many runs per timing")
    ap.add_argument("--end-bias", type=float, default=2.0, help="nudge towards <|im_start|>, in logit std")
    ap.add_argument("--lengths", type=int, nargs="+", default=[256, 1024, 4096])
    ap.add_argument("--waits", type=int, nargs="+", default=[1, 2, 4])
    ap.add_argument("--p1-budget", type=int, default=256)
    ap.add_argument("--p1-answer", type=int, default=64)
    ap.add_argument("--p2-budget", type=int, default=64)
    ap.add_argument("--p2-answer", type=int, default=8)
    ap.add_argument("--p3-budget", type=int, default=64)
    ap.add_argument("--p3-answer", type=int, default=16)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--p3-singles", type=int, default=4, help="batch-1 runs timed for P3 (their mean rate counts)")
    ap.add_argument("--p3-rounds", type=int, default=3, help="P3's interleaved rounds (best of each timing)")
    ap.add_argument("--only", nargs="+", default=["p1", "p2", "p3"])
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "forcing.json"))
    return ap.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model, tok = load_model(tiny_model_folder(args.size), dtype=torch.float32)
    redraw_weights(model)
    constant_nudge(model, tok, args.end_bias)
    res = dict(date=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), machine=platform.platform(),
               processor=platform.processor() or platform.machine(), threads=args.threads, torch=torch.__version__,
               model=args.size, args=vars(args))
    if "p1" in args.only: res["p1"] = [fn(model, tok, args) for fn in P1_ENGINES.values()]
    if "p2" in args.only: res["p2"] = p2(model, tok, args)
    if "p3" in args.only: res["p3"] = p3(model, tok, args)
    print(table(res))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(res, indent=1))
    print(f"wrote {args.out}")
    return res


def table(res) -> str:
    "The results as a markdown table."
    lines = [f"budget forcing, {res['model']}, {res['threads']} thread(s), {res['date']}, {res['machine']}", "",
             "| measure | setting | figure | goal |", "| --- | --- | --- | --- |"]
    for r in res.get("p1", []):
        lines.append(f"| P1 forced / plain tok/s (median of pairs) | {r['engine']}, {r['tokens']} tokens, {r['waits']} "
                     f"Waits | {r['forced_tok_s']:.0f} / {r['plain_tok_s']:.0f} (best) = **{r['ratio']:.2f}** | >= 0.95 |")
    for r in res.get("p2", []):
        goal = ">= 1.5" if (r["waits"] == 4 and 700 < r["prompt_tokens"] < 1500) else ""
        lines.append(f"| P2 multi-call / in-stream time | {r['prompt_tokens']} prompt tokens, {r['waits']} Waits "
                     f"({r['waits_landed']} landed) | {r['multi_call_s']:.2f}s / {r['in_stream_s']:.2f}s = "
                     f"**{r['speedup']:.2f}x** | {goal} |")
    if "p3" in res:
        r = res["p3"]
        lines.append(f"| P3 batch {r['batch']} / batch 1 tok/s | forced, thinking = budget | {r['batch_tok_s']:.0f} / "
                     f"{r['batch1_tok_s']:.0f} = **{r['ratio']:.1f}x** | >= 6 |")
        if "plain_ratio" in r:
            lines.append(f"| P3 same, plain HF generate | {r['plain_new_tokens']} new tokens per sequence | "
                         f"{r['plain_batch_tok_s']:.0f} / {r['plain_batch1_tok_s']:.0f} = **{r['plain_ratio']:.1f}x** | |")
            lines.append(f"| P3 engine ratio / plain ratio | side by side, same run | **{r['engine_vs_plain']:.2f}** | >= 0.95 |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
