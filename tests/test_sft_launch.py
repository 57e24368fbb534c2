"""The launch configs say what accelerate's launcher runs; the planner knows every Qwen2.5 size and says what would fit."""
import re

import pytest
import yaml

from conftest import REPO
from s1_nb.sft import QWEN25_SHAPES, S1Recipe, model_shape, plan_sft, sft_config

CONFIGS = ["fsdp_1x8.yaml", "fsdp_2x8.yaml"]


def _torchrun_config(path, machine_rank="1"):
    "What `accelerate launch --config_file path` hands torchrun (accelerate's own code, no processes started)."
    import torch.distributed.run as distrib_run
    from accelerate.commands.launch import _validate_launch_command, launch_command_parser, prepare_multi_gpu_env
    from accelerate.utils.launch import _filter_args
    args = launch_command_parser().parse_args(["--config_file", str(path), "--main_process_ip", "10.0.0.1",
                                               "--machine_rank", machine_rank, "-m", "s1_nb.sft"])
    args, _, _ = _validate_launch_command(args)
    prepare_multi_gpu_env(args)
    targs = _filter_args(args, distrib_run.get_args_parser(), ["--training_script", "x", "--training_script_args", []])
    return args, distrib_run.config_from_args(targs)[0]


@pytest.mark.parametrize("name", CONFIGS)
def test_config_file_says_what_the_launcher_runs(name):
    path = REPO / "configs" / name
    cfg = yaml.safe_load(path.read_text())
    args, run = _torchrun_config(path)
    assert cfg.get("rdzv_backend", "static") == run.rdzv_backend == "static"
    for key in ("same_network",):  # keys the launcher would not honour must not be in the file
        assert key not in cfg or cfg[key] == getattr(args, key), key
    assert run.min_nodes == run.max_nodes == cfg["num_machines"]
    assert run.nproc_per_node == cfg["num_processes"] // cfg["num_machines"]
    if cfg["num_machines"] > 1: assert run.rdzv_endpoint == "10.0.0.1:29500" and "static" in path.read_text()


@pytest.mark.parametrize("name", CONFIGS)
def test_config_comment_states_the_accumulation_and_weighting_that_run(name, tmp_path):
    text = (REPO / "configs" / name).read_text()
    cfg = yaml.safe_load(text)
    m = re.search(r"(\d+) processes x micro-batch (\d+) x (?:gradient )?accumulation (\d+) = (?:the recipe's )?global batch 16",
                  text)
    assert m, "the config does not say how the global batch is made"
    procs, micro, accum = map(int, m.groups())
    c = sft_config(S1Recipe(), tmp_path, n_procs=cfg["num_processes"], use_cpu=True)
    assert (procs, micro, accum) == (cfg["num_processes"], c.per_device_train_batch_size, c.gradient_accumulation_steps)
    assert not c.average_tokens_across_devices and S1Recipe().loss_weighting == "example"
    assert "zero-filled fp32 CPU copy" in text and "bf16" in text  # host RAM at load, saved dtype


def test_planner_knows_qwen25_72b():
    s = model_shape("Qwen/Qwen2.5-72B-Instruct")
    assert s == QWEN25_SHAPES["Qwen2.5-72B"] and abs(s.params - 72.71e9) < 0.01e9  # Qwen's model card: 72.7B


def test_a_none_plan_keeps_the_gpus_offered_and_says_what_would_fit():
    p = plan_sft("Qwen2.5-32B", 32768, gpu_memory_gb=80, n_gpus=8)
    assert p.method == "none" and p.n_gpus == 8
    assert "sharded over 16 GPUs fits at block 32768" in p.reason
    assert "block 8192 fits on 8 GPU(s)" in p.reason and plan_sft("Qwen2.5-32B", 8192, gpu_memory_gb=80, n_gpus=8).method == "full-fsdp"
    assert plan_sft("Qwen2.5-32B", 32768, gpu_memory_gb=80, n_gpus=16).method == "full-fsdp"
    assert "no LoRA under FSDP" in p.reason
    p72 = plan_sft("Qwen/Qwen2.5-72B-Instruct", 32768, gpu_memory_gb=80, n_gpus=8)
    more = int(re.search(r"sharded over (\d+) GPUs", p72.reason).group(1))
    assert p72.method == "none" and p72.n_gpus == 8 and plan_sft("Qwen2.5-72B", 32768, gpu_memory_gb=80, n_gpus=more).method == "full-fsdp"
    assert plan_sft("Qwen2.5-72B", 32768, gpu_memory_gb=80, n_gpus=more - 8).method == "none"
    assert "no block fits on 8 GPU(s)" in p72.reason
