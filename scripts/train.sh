#!/usr/bin/env bash
# Launch s1 SFT (s1_nb.sft, the same entry point the chapter calls) on one machine or a SLURM cluster.
#
#   bash scripts/train.sh cpu                      2 CPU processes over gloo (DDP via torchrun), tiny model, seconds
#   bash scripts/train.sh 1x8  [extra flags]       one node, 8 GPUs, FSDP2 (configs/fsdp_1x8.yaml)
#   bash scripts/train.sh torchrun [extra flags]   the same node with plain torchrun (DDP; add FSDP via accelerate)
#   sbatch scripts/train.sh 2x8 [extra flags]      two nodes x 8 GPUs under SLURM (configs/fsdp_2x8.yaml), as s1-32B
#
# Extra flags go to `python -m s1_nb.sft` (see `python -m s1_nb.sft --help`), e.g.
#   --model Qwen/Qwen2.5-32B-Instruct --data simplescaling/s1K-1.1 --out runs/s1.1-32B
#
#SBATCH --job-name=s1-sft
#SBATCH --nodes=2
#SBATCH --ntasks-per-node=1
#SBATCH --gpus-per-node=8
#SBATCH --cpus-per-task=32
#SBATCH --time=02:00:00
set -euo pipefail
cd "$(dirname "$0")/.." 2>/dev/null || true
[ -n "${SLURM_SUBMIT_DIR:-}" ] && cd "$SLURM_SUBMIT_DIR"
mode="${1:-cpu}"; shift || true
MODEL_ARGS=(--model "${MODEL:-Qwen/Qwen2.5-7B-Instruct}" --data "${DATA:-simplescaling/s1K-1.1}" --out "${OUT:-runs/sft}")

case "$mode" in
  cpu)
    # 2 CPU processes; the Trainer joins them over gloo (DDP) and the recipe keeps the global batch.
    # (`accelerate launch --cpu --num_processes 2` starts a single process unless it runs under mpirun.)
    exec torchrun --nproc_per_node 2 -m s1_nb.sft --model tiny --out "${OUT:-runs/sft-cpu}" \
      --max_steps "${MAX_STEPS:-8}" "$@"
    ;;
  1x8)
    exec accelerate launch --config_file configs/fsdp_1x8.yaml -m s1_nb.sft --gpu "${MODEL_ARGS[@]}" "$@"
    ;;
  torchrun)
    exec torchrun --nproc_per_node "${GPUS:-8}" -m s1_nb.sft --gpu "${MODEL_ARGS[@]}" "$@"
    ;;
  2x8)
    # One srun task per node; each runs accelerate, which starts 8 processes on its node. accelerate's launcher joins
    # the nodes with torchrun's static rendezvous: each node needs its --machine_rank and the head's address and port.
    # Host RAM at load: 8 fp32 copies of the model per node (~1 TB for 32B; see configs/fsdp_2x8.yaml).
    head=$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)
    MODEL="${MODEL:-Qwen/Qwen2.5-32B-Instruct}"
    MODEL_ARGS=(--model "$MODEL" --data "${DATA:-simplescaling/s1K-1.1}" --out "${OUT:-runs/s1.1-32B}")
    exec srun bash -c "accelerate launch --config_file configs/fsdp_2x8.yaml \
      --machine_rank \$SLURM_NODEID --main_process_ip $head --main_process_port 29500 \
      -m s1_nb.sft --gpu ${MODEL_ARGS[*]} $*"
    ;;
  *) echo "usage: bash scripts/train.sh [cpu|1x8|torchrun|2x8] [flags for s1_nb.sft]" >&2; exit 2 ;;
esac
