"""One short check of the real-run path on a CUDA GPU, meant to finish within 8 minutes on one H100/H200, nothing from the hub.

A randomly initialised model of the real Qwen2.5-0.5B shape (or 1.5B) is built locally, with the real Qwen2.5
tokenizer from ../shared when it is there (a tiny tokenizer otherwise). Then, on whatever GPUs are present:

  forcing   budget forcing in bf16 and fp32: the in-stream engine equals s1's re-prompting loop token for token on
            a batch of 8 (fp32, TF32 off; bf16 reports the share of equal rows)
  speed     forced / plain decoding tokens/s, in-stream vs re-prompting at 4 Waits on a 1K-token prompt, batch 16 vs 1
            (the same measurements as benchmarks/forcing.py, on the GPU in bf16)
  sft       full SFT steps with the s1 recipe (fp32 master weights, bf16 autocast, gradient checkpointing) and LoRA
            steps at blocks 4096 and 16384: measured peak memory against the memory planner's prediction
  fsdp2     FSDP2 (`fully_shard`) over every GPU present: a few optimizer steps, the loss falls
  fsdp-launch  the real launch: `accelerate launch --config_file configs/fsdp_1x8.yaml -m s1_nb.sft --gpu` with one
            process per GPU on a tiny model for 3 steps (TRL, FSDP2, the full-state gather, the bf16 save)
  vllm      vLLM with the budget-forcing logits processor on the taught tiny models (real end attempts, Waits, a
            split delimiter) against the transformers engine and s1's loop, and a forced-preemption run (a 2 MiB KV
            cache, vLLM's engine process) whose texts must equal an unpreempted run's; skipped without vLLM

    python benchmarks/gpu_check.py              # on a GPU: every step, a table, benchmarks/results/gpu_check.json
    python benchmarks/gpu_check.py --dry-run    # anywhere: shapes, the planner's predictions, the steps it would run
    python benchmarks/gpu_check.py --device cpu --shape tiny --steps forcing,sft,fsdp2   # the same code on a CPU

It needs s1_nb's own requirements. On a CUDA image that already has torch, transformers, peft, accelerate,
pandas, pyarrow and matplotlib, the rest is small: trl, datasets (with dill, multiprocess, xxhash), fastcore,
math-verify (with latex2sympy2_extended and the antlr4 runtime) and ipywidgets, a few MB of wheels (`pip download
--no-deps` each to install them offline). Without vLLM's CUDA build (several hundred MB) the vllm step says it
was skipped.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from s1_nb.core import TINY_CONFIGS, _shared_folder, inference_prompt, load_model, load_tokenizer, tiny_model_folder  # noqa: E402
from s1_nb.forcing import generate  # noqa: E402
from s1_nb.sft import QWEN25_SHAPES, S1Recipe, load_dtype, model_shape, plan_sft, sft_trainer  # noqa: E402

STEPS = ("forcing", "speed", "sft", "fsdp2", "fsdp-launch", "vllm")
GPU_GB = 141  # what the dry run plans for when no GPU is visible: one H200 (an H100 has 80)
SHAPES = {"qwen2.5-0.5b": "Qwen2.5-0.5B", "qwen2.5-1.5b": "Qwen2.5-1.5B", "tiny": "tiny"}
QUESTIONS = ["How many r in raspberry?", "What is 17 * 23?", "Find the remainder when 2^100 is divided by 7.",
             "How many positive divisors does 360 have?", "Solve x^2 - 5x + 6 = 0.", "What is the 10th prime?",
             "How many e in excellence?", "Compute 1 + 2 + ... + 100."]


def check_tokenizer():
    "The real Qwen2.5 tokenizer from ../shared, else the tiny one; and its name."
    d = _shared_folder("data/qwen2.5-tokenizer")
    if d is not None:
        from transformers import AutoTokenizer
        return AutoTokenizer.from_pretrained(d), "Qwen2.5 (../shared)"
    return load_tokenizer(tiny_model_folder("tiny")), "tiny (../shared is absent)"


def random_model(shape: str, tokenizer, device: str, dtype=torch.bfloat16, seed: int = 0):
    "A randomly initialised Qwen2 of `shape` (a SHAPES key) on `device`, its vocabulary covering `tokenizer`."
    from transformers import Qwen2Config, Qwen2ForCausalLM
    torch.manual_seed(seed)
    if shape == "tiny":
        fields, vocab, tied = dict(TINY_CONFIGS["tiny"]), len(tokenizer), True
    else:
        s = QWEN25_SHAPES[SHAPES[shape]]
        fields = dict(hidden_size=s.hidden, intermediate_size=s.intermediate, num_hidden_layers=s.layers,
                      num_attention_heads=s.heads, num_key_value_heads=s.kv_heads, max_position_embeddings=32768)
        vocab, tied = max(s.vocab, len(tokenizer)), s.tied
    cfg = Qwen2Config(vocab_size=vocab, tie_word_embeddings=tied, rope_theta=1e6, bos_token_id=None,
                      eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id, **fields)
    with torch.device(device): model = Qwen2ForCausalLM(cfg)
    return model.to(dtype).eval()


def nudged(model, tokenizer, prompts, biases=(2.0, 3.0, 4.0, 4.5, 5.0, 6.0, 8.0, 10.0, 12.0)) -> float:
    """Make the random model try to end its thinking now and then, so Waits land: the smallest of `biases`
    (benchmarks/forcing.py's constant nudge, in logit standard deviations) under which one does; returns it."""
    from forcing import constant_nudge
    for b in biases:
        hook = constant_nudge(model, tokenizer, b)
        if any(o.waits for o in generate(prompts, model, tokenizer, **FORCING)): return b
        hook.remove()
    constant_nudge(model, tokenizer, biases[-1])
    return biases[-1]


def peak_gb(device: str) -> float | None:
    return torch.cuda.max_memory_allocated() / 1e9 if device.startswith("cuda") else None


def reset_peak(device: str):
    if device.startswith("cuda"): torch.cuda.empty_cache(); torch.cuda.reset_peak_memory_stats()


# forcing: engines agree token for token -------------------------------------------------------------------------
FORCING = dict(num_waits=2, max_thinking_tokens=48, max_answer_tokens=8)


def check_forcing(shape: str, tokenizer, device: str, batch: int = 8) -> list[dict]:
    "In-stream (batch) vs s1's re-prompting loop (one at a time), in fp32 (TF32 off, then restored) and bf16."
    prompts = [inference_prompt(q, tokenizer) for q in (QUESTIONS * 2)[:batch]]
    tf32 = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False  # exact fp32 for the comparison
    try: return [engines_agree(shape, tokenizer, device, prompts, dtype) for dtype in (torch.float32, torch.bfloat16)]
    finally: torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = tf32


def engines_agree(shape: str, tokenizer, device: str, prompts: list[str], dtype) -> dict:
    "One random model of `dtype`, nudged so Waits land: how many rows the two engines generate identically."
    model = random_model(shape, tokenizer, device, dtype)
    bias = nudged(model, tokenizer, prompts)
    t = time.perf_counter(); ins = generate(prompts, model, tokenizer, **FORCING); t_in = time.perf_counter() - t
    t = time.perf_counter(); ref = generate(prompts, model, tokenizer, engine="hf-reference", **FORCING)
    t_ref = time.perf_counter() - t
    return dict(dtype=str(dtype).split(".")[-1], batch=len(prompts), nudge=bias,
                equal_rows=sum(a.token_ids == b.token_ids for a, b in zip(ins, ref)),
                waits=[o.waits for o in ins], cut=[o.cut_by_budget for o in ins],
                in_stream_s=round(t_in, 2), reference_s=round(t_ref, 2))


# speed: the forcing benchmark's measurements, on this device ----------------------------------------------------
def check_speed(shape: str, tokenizer, device: str) -> dict:
    "P1 forced/plain, P2 in-stream vs re-prompting (4 Waits, 1K prompt), P3 batch 16 vs 1, as benchmarks/forcing.py."
    import forcing as fb
    model = random_model(shape, tokenizer, device, torch.bfloat16)
    nudged(model, tokenizer, [inference_prompt(q, tokenizer) for q in QUESTIONS])
    small = not device.startswith("cuda")  # the same measurements, sized for a CPU
    args = fb.parse_args(["--lengths", "256" if small else "1024", "--waits", "4", "--batch", "4" if small else "16",
                          "--p1-budget", "32" if small else "256", "--p3-singles", "2" if small else "4", "--p3-rounds", "1"])
    res = dict(p1=fb.p1_hf(model, tokenizer, args), p2=fb.p2(model, tokenizer, args), p3=fb.p3(model, tokenizer, args))
    del model
    return res


# sft: measured peak memory against the planner --------------------------------------------------------------------
def long_row(tokenizer, n_tokens: int, seed: int = 0) -> dict:
    "One s1K-schema row whose thinking is about `n_tokens` tokens of numbers (longer than the block: TRL truncates)."
    import random
    rng = random.Random(seed)
    words = " ".join(str(rng.randint(0, 999)) for _ in range(n_tokens))  # >= 1 token per number
    return dict(question="What is the sum of these numbers?", thinking_trajectories=[words], attempt="42")


def sft_runs(blocks: tuple[int, ...]) -> list[tuple[str, int]]:
    "The SFT runs of the check: full SFT and LoRA at each block."
    return [(m, b) for m in ("full", "lora") for b in blocks]


def check_sft(shape: str, tokenizer, device: str, blocks=(4096, 16384), steps: int = 3) -> list[dict]:
    "A few optimizer steps of full SFT (s1 recipe) and LoRA at each block; peak memory vs `plan_sft`'s total."
    on_gpu = device.startswith("cuda")
    gpu_gb = torch.cuda.get_device_properties(0).total_memory / 1e9 if on_gpu else 1e9
    shape_ = model_shape(random_model("tiny", tokenizer, "meta")) if shape == "tiny" else model_shape(SHAPES[shape])
    rows = []
    for method, block in sft_runs(blocks):
        plan = plan_sft(shape_, block, gpu_memory_gb=gpu_gb, n_gpus=1, method=method)
        recipe = (S1Recipe if on_gpu else S1Recipe.cpu)(block_size=block, global_batch_size=1, micro_batch_size=1,
                                                       gradient_checkpointing=True, save_dtype=None, logging_steps=1)
        model = random_model(shape, tokenizer, device, getattr(torch, load_dtype(method, on_gpu))).train()
        reset_peak(device)
        with tempfile.TemporaryDirectory() as out:
            trainer, info = sft_trainer(model, [long_row(tokenizer, block + 64)], out, recipe=recipe, method=method,
                                        tokenizer=tokenizer, max_steps=steps, use_cpu=not on_gpu)
            t = time.perf_counter(); trainer.train(); secs = time.perf_counter() - t
        losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
        measured = peak_gb(device)
        rows.append(dict(method=method, block=block, steps=steps, seconds=round(secs, 1), losses=losses,
                         measured_gb=None if measured is None else round(measured, 2),
                         planned_gb=round(plan.total_gb, 2), planned_terms={k: round(v, 2) for k, v in plan.terms.items()},
                         measured_over_planned=None if measured is None else round(measured / plan.total_gb, 3)))
        del trainer, model
    return rows


# fsdp2: sharded steps over the GPUs present ---------------------------------------------------------------------
def _fsdp2_worker(rank: int, world: int, shape: str, tok_dir: str, port: int, out: str, steps: int):
    import torch.distributed as dist
    from torch.distributed.device_mesh import init_device_mesh
    from s1_nb.sft import shard_fsdp2, train_steps
    from transformers import AutoTokenizer
    cuda = torch.cuda.is_available()
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    if cuda: torch.cuda.set_device(rank)
    dist.init_process_group("nccl" if cuda else "gloo", rank=rank, world_size=world)
    dev = f"cuda:{rank}" if cuda else "cpu"
    tok = AutoTokenizer.from_pretrained(tok_dir)
    model = random_model(shape, tok, dev, torch.float32).train()
    shard_fsdp2(model, init_device_mesh("cuda" if cuda else "cpu", (world,)))
    g = torch.Generator().manual_seed(rank)
    batch = torch.randint(0, len(tok), (2, 512 if cuda else 32), generator=g).to(dev)
    losses = train_steps(model, batch, steps, lr=1e-3)
    if rank == 0: Path(out).write_text(json.dumps(dict(world=world, losses=losses, peak_gb=peak_gb(dev))))
    dist.destroy_process_group()


def check_fsdp2(shape: str, tokenizer, device: str, steps: int = 4) -> dict:
    "FSDP2 over every GPU present (one process per GPU; gloo with one process on a CPU)."
    import socket
    import torch.multiprocessing as mp
    world = torch.cuda.device_count() if device.startswith("cuda") else 1
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]  # a free port, released for the workers
    with tempfile.TemporaryDirectory() as d:
        tokenizer.save_pretrained(d)
        out = str(Path(d) / "fsdp2.json")
        mp.spawn(_fsdp2_worker, args=(world, shape, d, port, out, steps), nprocs=world, join=True)
        res = json.loads(Path(out).read_text())
    res["loss_fell"] = res["losses"][-1] < res["losses"][0]
    return res


# fsdp-launch: the README's multi-GPU launch, on the GPUs present ------------------------------------------------------
def check_fsdp_launch(shape: str, tokenizer, device: str, steps: int = 3) -> dict:
    """The launch the README and configs/ give, for a few steps on a tiny model: `accelerate launch --config_file
    configs/fsdp_1x8.yaml --num_processes N -m s1_nb.sft --gpu` (TRL's trainer under accelerate's FSDP2, the
    full-state gather of the final model, its bf16 save). Needs CUDA (accelerate's FSDP config is for GPUs)."""
    import shutil
    import subprocess
    if not device.startswith("cuda"): return dict(skipped="accelerate's FSDP config runs on CUDA GPUs")
    launcher = shutil.which("accelerate") or str(Path(sys.executable).parent / "accelerate")
    n = torch.cuda.device_count()
    with tempfile.TemporaryDirectory() as d:
        cmd = [launcher, "launch", "--config_file", str(Path(__file__).parents[1] / "configs" / "fsdp_1x8.yaml"),
               "--num_processes", str(n), "-m", "s1_nb.sft", "--gpu", "--model", str(tiny_model_folder("tiny")),
               "--method", "full", "--max_steps", str(steps), "--block_size", "256", "--out", str(Path(d) / "run")]
        t = time.perf_counter()
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=1200)
        model = Path(d) / "run" / "model"
        cfg = json.loads((model / "config.json").read_text()) if (model / "config.json").exists() else {}
        res = dict(processes=n, returncode=r.returncode, seconds=round(time.perf_counter() - t, 1),
                   saved=sorted(p.name for p in model.glob("*.safetensors")),
                   saved_dtype=cfg.get("dtype") or cfg.get("torch_dtype"))
        if r.returncode or res["saved_dtype"] != "bfloat16": res["log_tail"] = (r.stdout + r.stderr)[-2000:]
    return res


# vllm: the logits processor on this device -------------------------------------------------------------------------
VLLM_FORCING = dict(num_waits=2, max_thinking_tokens=40, max_answer_tokens=8)


def check_vllm(shape: str, tokenizer, device: str) -> dict:
    """vLLM (on a GPU: the CUDA build, model runner V2) with the budget-forcing processor, on the taught tiny models
    that really try to end (Waits, the ban after a Wait, the split delimiter), against the transformers engine and
    s1's loop (a split delimiter: in-stream vLLM writes the Wait after the delimiter's pieces, so only the Waits are
    compared, chapter 04); then a forced-preemption run (a 2 MiB KV cache, the multiprocess engine) against an unpreempted one."""
    if importlib.util.find_spec("vllm") is None: return dict(skipped="vLLM is not installed")
    from s1_nb.vllm_forcing import load_vllm, vllm_tiny_model_folder
    res = {}
    for name, special in (("tiny", True), ("tiny-split-delimiter", False)):
        path = vllm_tiny_model_folder(special_im_tokens=special)
        model, tok = load_model(path, dtype=torch.float32)
        prompts = [inference_prompt(q, tok) for q in QUESTIONS]
        hf = generate(prompts, model.to(device), tok, **VLLM_FORCING)
        del model
        llm = load_vllm(path, dtype="float32", max_model_len=1024)
        t = time.perf_counter(); vo = generate(prompts, llm, tok, engine="vllm", **VLLM_FORCING); secs = time.perf_counter() - t
        vh = generate(prompts, llm, tok, engine="vllm-harness", **VLLM_FORCING)
        del llm
        res[name] = dict(rows=len(prompts), equal_hf=sum(a.token_ids == b.token_ids for a, b in zip(hf, vo)),
                         equal_harness=sum(a.token_ids == b.token_ids for a, b in zip(vh, vo)),
                         waits=[o.waits for o in vo], hf_waits=[o.waits for o in hf], vllm_s=round(secs, 2))
    res["preemption"] = _preempted_run()
    return res


def _preempted_run(n: int = 32) -> dict:
    "The laptop model in vLLM's own engine process with a 2 MiB KV cache (preempted) and with 256 MiB: the same texts?"
    from s1_nb.core import laptop_folder
    from s1_nb.laptop import laptop_question
    from s1_nb.vllm_forcing import load_vllm
    env = {k: os.environ.get(k) for k in ("VLLM_ENABLE_V1_MULTIPROCESSING", "VLLM_ALLOW_INSECURE_SERIALIZATION")}
    os.environ.update(VLLM_ENABLE_V1_MULTIPROCESSING="1", VLLM_ALLOW_INSECURE_SERIALIZATION="1")
    try:
        words = ["banana", "raspberry", "Mississippi", "strawberry", "committee", "bookkeeper", "assessment", "parallel"]
        runs = {}
        for mib in (2, 256):
            llm = load_vllm(laptop_folder("base"), kv_cache_mib=mib, disable_log_stats=False)
            tok = llm.get_tokenizer()
            prompts = [inference_prompt(laptop_question(f"How many {c} in {w}?"), tok) for w in words for c in "aeis"][:n]
            outs = generate(prompts, llm, tok, engine="vllm", num_waits=4, max_thinking_tokens=256, max_answer_tokens=12)
            pre = sum(m.value for m in llm.get_metrics() if m.name == "vllm:num_preemptions")
            runs[mib] = (outs, pre)
            del llm
    finally:
        for k, v in env.items():
            if v is None: os.environ.pop(k, None)
            else: os.environ[k] = v
    (small, pre), (big, _) = runs[2], runs[256]
    return dict(rows=n, preemptions=pre, equal_rows=sum((a.token_ids, a.waits) == (b.token_ids, b.waits)
                                                        for a, b in zip(small, big)))


CHECKS = {"forcing": check_forcing, "speed": check_speed, "sft": check_sft, "fsdp2": check_fsdp2,
          "fsdp-launch": check_fsdp_launch, "vllm": check_vllm}


NEEDS = ("on a machine with CUDA torch only: pip install s1_nb's requirements (transformers, peft, accelerate, trl, "
         "datasets, fastcore, math-verify, ipywidgets, pandas, pyarrow, matplotlib: tens of MB of wheels); the vllm "
         "step also needs vLLM's CUDA build (pip install vllm, several hundred MB, with its own torch pin) and is "
         "skipped without it; fsdp-launch needs the accelerate CLI and a CUDA GPU")


def missing_packages() -> list[str]:
    "The packages the steps import that this Python lacks (vllm: its step is skipped)."
    mods = ("transformers", "peft", "accelerate", "trl", "datasets", "fastcore", "math_verify", "vllm")
    return [m for m in mods if importlib.util.find_spec(m) is None]


def dry_run(shape: str, tokenizer_name: str, device: str, steps, blocks) -> dict:
    "What the check would do: the model's size, the planner's memory per SFT run, and the steps with their settings."
    gpu_gb = torch.cuda.get_device_properties(0).total_memory / 1e9 if torch.cuda.is_available() else GPU_GB
    s = model_shape(SHAPES[shape]) if shape != "tiny" else None
    plans = []
    for method, block in sft_runs(blocks):
        if s is None: break
        p = plan_sft(s, block, gpu_memory_gb=gpu_gb, n_gpus=1, method=method)
        plans.append(dict(method=method, block=block, planned_gb=round(p.total_gb, 2), decision=p.method,
                          terms={k: round(v, 2) for k, v in p.terms.items()}))
    return dict(shape=shape, params=s.params if s else None, tokenizer=tokenizer_name, device=device, gpu_gb=gpu_gb, steps=list(steps),
                forcing=FORCING, sft_plans=plans, blocks=list(blocks), needs=NEEDS, missing=missing_packages(),
                skipped_without_vllm=["vllm"])


def table(res: dict) -> str:
    "The results as markdown."
    out = [f"GPU check: {res.get('gpu', res['device'])}, shape {res['shape']}, tokenizer {res['tokenizer']}, {res['date']}", ""]
    for r in res.get("forcing", []):
        out.append(f"- forcing {r['dtype']}: in-stream == re-prompting on {r['equal_rows']}/{r['batch']} rows "
                   f"(Waits landed {sum(r['waits'])}); {r['in_stream_s']} s vs {r['reference_s']} s")
    if "speed" in res:
        sp = res["speed"]
        out.append(f"- speed: P1 forced/plain {sp['p1']['ratio']:.2f}; P2 re-prompting/in-stream "
                   + ", ".join(f"{r['speedup']:.2f}x ({r['prompt_tokens']} tokens)" for r in sp["p2"])
                   + f"; P3 batch {sp['p3']['batch']}/1 {sp['p3']['ratio']:.1f}x")
    if res.get("sft"):
        out += ["", "| SFT | block | measured GB | planner GB | measured / planned | s |", "| --- | --- | --- | --- | --- | --- |"]
        out += [f"| {r['method']} | {r['block']} | {r['measured_gb']} | {r['planned_gb']} | {r['measured_over_planned']} | "
                f"{r['seconds']} |" for r in res["sft"]]
    if "fsdp2" in res:
        f = res["fsdp2"]; out.append(f"- fsdp2 over {f['world']} process(es): losses {[round(x, 3) for x in f['losses']]}")
    if "vllm" in res: out.append(f"- vllm: {res['vllm']}")
    for k, v in res.get("errors", {}).items(): out.append(f"- {k} FAILED: {v}")
    return "\n".join(out)


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shape", default="qwen2.5-0.5b", choices=sorted(SHAPES))
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--steps", default=",".join(STEPS), help=f"comma-separated, from {','.join(STEPS)}")
    ap.add_argument("--blocks", default="4096,16384", help="SFT block sizes")
    ap.add_argument("--dry-run", action="store_true", help="print what would run; build nothing")
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "gpu_check.json"))
    args = ap.parse_args(argv)
    steps = [s for s in args.steps.split(",") if s]
    bad = [s for s in steps if s not in STEPS]
    if bad: ap.error(f"--steps: unknown {bad}; choose from {', '.join(STEPS)}")
    blocks = tuple(int(b) for b in args.blocks.split(","))
    if args.device.startswith("cuda") and not torch.cuda.is_available() and not args.dry_run:
        ap.error("--device cuda: no CUDA GPU is visible (use --dry-run, or --device cpu --shape tiny)")
    tokenizer, tok_name = check_tokenizer()
    if args.dry_run:
        res = dry_run(args.shape, tok_name, args.device, steps, blocks)
        print(json.dumps(res, indent=1))
        return res
    if missing_packages(): print(f"missing: {missing_packages()}; {NEEDS}", flush=True)
    res = dict(date=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), machine=platform.platform(),
               torch=torch.__version__, device=args.device, shape=args.shape, tokenizer=tok_name, errors={},
               gpu=torch.cuda.get_device_name(0) if torch.cuda.is_available() else None, seconds={})
    for step in steps:
        t = time.perf_counter()
        kw = dict(blocks=blocks) if step == "sft" else {}
        try: res[step] = CHECKS[step](args.shape, tokenizer, args.device, **kw)
        except Exception as e: res["errors"][step] = f"{type(e).__name__}: {e}"  # the other steps still run
        res["seconds"][step] = round(time.perf_counter() - t, 1)
        print(f"{step}: {res['seconds'][step]} s", "FAILED " + res["errors"][step] if step in res["errors"] else "", flush=True)
    print(table(res))
    if args.device.startswith("cuda"):
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(res, indent=1))
        print(f"wrote {args.out}")
    return res


if __name__ == "__main__":
    main()
