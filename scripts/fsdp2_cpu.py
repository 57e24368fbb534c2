"""Real FSDP2 sharding on CPU: torchrun --nproc_per_node 2 scripts/fsdp2_cpu.py OUT_DIR [STEPS]

Shards the tiny Qwen2 model with torch's `fully_shard` (one unit per Qwen2DecoderLayer) over the gloo backend,
trains a few steps on a fixed global batch split across the processes, gathers a full state dict and saves a plain
model folder OUT_DIR/model (rank 0) with OUT_DIR/fsdp2_result.json."""
import os
import sys

import torch

from s1_nb.sft import _fsdp2_cpu_run

if __name__ == "__main__":
    torch.set_num_threads(1)
    out = sys.argv[1] if len(sys.argv) > 1 else "runs/fsdp2"
    steps = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    _fsdp2_cpu_run("tiny", out, steps=steps)
    # The process group is destroyed and the results are on disk: leave without the interpreter's teardown, where
    # gloo's worker threads can still be torn down under load and abort the process (SIGABRT) after a good run.
    sys.stdout.flush(); sys.stderr.flush()
    os._exit(0)
