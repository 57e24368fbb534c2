"""SFT training throughput on CPU: padded batches vs padding-free vs packed (TRL), same rows, same model.

    python benchmarks/sft.py [--model tiny] [--rows 64] [--batch 8] [--steps 12] [--block 1024] [--repeats 2]

Measures real (non-pad) training tokens per second for the tiny Qwen2 model with TRL's SFTTrainer in three batch
layouts: padded to the longest row of each batch (the default collator), `padding_free=True` (the batch flattened into
one row with position_ids), and `packing=True` (best-fit-decreasing blocks of --block tokens, also padding-free). The
rows are s1K-style generated rows whose lengths vary like the long tail of s1K. Prints a table and writes
benchmarks/results/sft.json. The first optimizer step of each run is not timed; each layout runs --repeats times,
interleaved, and the best run counts. A fourth run, `padded_example`, is the padded layout with s1's per-example loss
weighting (the chapter's default), which runs each row of a micro-batch through its own forward pass: its ratio to
`padded` is the price of that weighting at micro-batch --batch (s1's GPU recipe uses micro-batch 1, where it is free).
"""
import argparse
import json
import os
import platform
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="tiny")
    ap.add_argument("--rows", type=int, default=64)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--steps", type=int, default=12)
    ap.add_argument("--block", type=int, default=1024, help="packing block (tokens)")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "sft.json"))
    args = ap.parse_args()

    import datasets
    import torch
    import transformers
    torch.set_num_threads(1)
    datasets.disable_progress_bars()
    transformers.logging.set_verbosity_error()
    from s1_nb.sft import _measure_throughput, toy_s1k
    rows = toy_s1k(args.rows, seed=args.seed, max_checks=10)

    best = {}
    for _ in range(args.repeats):
        for name in ("padded", "padding_free", "packed", "padded_example"):
            mode, weighting = ("padded", "example") if name == "padded_example" else (name, "token")
            r = _measure_throughput(args.model, rows, mode, batch_size=args.batch, steps=args.steps, block_size=args.block,
                                   loss_weighting=weighting)
            mode = name
            if mode not in best or r["tokens_per_s"] > best[mode]["tokens_per_s"]: best[mode] = r

    base = best["padded"]["tokens_per_s"]
    print(f"\nSFT throughput, {args.model} on CPU ({torch.get_num_threads()} thread), {args.rows} rows, batch {args.batch}")
    print(f"{'layout':<14}{'real tok/s':>12}{'vs padded':>11}{'pad share':>11}{'timed steps':>13}")
    for mode, r in best.items():
        print(f"{mode:<14}{r['tokens_per_s']:>12.0f}{r['tokens_per_s'] / base:>10.2f}x{r['pad_share']:>11.1%}{r['steps_timed']:>13}")
    pad_avoided = best["padded"]["pad_share"]
    print(f"padding-free avoids {pad_avoided:.1%} of the padded batch's tokens (all of them pad)")
    out = dict(model=args.model, rows=args.rows, batch=args.batch, steps=args.steps, block=args.block,
               machine=platform.processor() or platform.machine(), torch=torch.__version__,
               results=best, ratio_padding_free=best["padding_free"]["tokens_per_s"] / base,
               ratio_packed=best["packed"]["tokens_per_s"] / base, pad_share_avoided=pad_avoided,
               ratio_example_weighting=best["padded_example"]["tokens_per_s"] / base)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=1))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
