"""`s1 eval` on the command line: real-run commands give s1's settings (checked with --dry-run), every argument is
checked before anything loads, the answer gets what the context leaves on a real model, `--engine hf` uses the GPU."""
import json
import re
from pathlib import Path

import pytest

from s1_nb import evaluation as ev

REPO = Path(__file__).resolve().parents[1]

S1_BUDGETS = [500, 1000, 2000, 4000, 8000, 16000, "auto"]  # eval/commands.sh, "s1 Budget Forcing"
S1_WAITS = [0, 1, 2, 4, 6]  # thinking_n_ignore=1,2,4,6 under max_tokens_thinking=auto, plus none


def documented_eval_commands() -> list[tuple[str, str]]:
    """Every `s1 eval ...` command in README.md and in the chapters' markdown, continuation lines joined."""
    import nbformat
    texts = [("README.md", (REPO / "README.md").read_text())]
    for nb in sorted((REPO / "nbs").glob("*.ipynb")):
        cells = nbformat.read(nb, as_version=4).cells
        texts += [(nb.name, c.source) for c in cells if c.cell_type == "markdown"]
    found = []
    for where, text in texts:
        joined = re.sub(r"\\\n\s*", " ", text)
        found += [(where, m.group(0).strip()) for m in re.finditer(r"(?m)^\s*s1 eval [^\n`]*", joined)]
    return found


def real_run_commands() -> list[tuple[str, str]]:
    """The documented commands that evaluate a real model (a toy model's command runs the CPU demo)."""
    def model(cmd): return (cmd.split("--model", 1)[1].split() or ["tiny"])[0] if "--model" in cmd else "tiny"
    return [(w, c) for w, c in documented_eval_commands() if not ev._is_toy_model(model(c))]


def dry_run(capsys, monkeypatch, argv: list[str]) -> list[str]:
    from s1_nb.cli import main
    def no_loading(*a, **kw): raise AssertionError("--dry-run loaded something")
    for name in ("load_engine_model", "load_benchmark", "run_sweep"): monkeypatch.setattr(ev, name, no_loading)
    capsys.readouterr()
    assert main(["eval", *argv]) == 0
    return capsys.readouterr().out.splitlines()


def settings_of(lines: list[str]) -> dict:
    return {m.group(1): json.loads(m.group(2)) for m in (re.match(r"setting (\S+): (\{.*\})$", l) for l in lines) if m}


def s1_settings() -> dict:
    out = {f"budget={b}": dict(max_thinking_tokens=b, max_answer_tokens=None, samples=1) for b in S1_BUDGETS}
    out |= {f"wait={w}": dict(num_waits=w, max_thinking_tokens="auto", max_answer_tokens=None, samples=1) for w in S1_WAITS}
    out["majority=64"] = dict(temperature=1.0, max_thinking_tokens="auto", max_answer_tokens=None, samples=64)
    out["plain"] = dict(think_prefix=False, max_thinking_tokens=None, max_answer_tokens=None, samples=1)
    return out


def test_the_documented_real_run_commands_are_found():
    cmds = real_run_commands()
    assert any(w == "README.md" for w, _ in cmds) and any(w == "05_evaluation.ipynb" for w, _ in cmds), cmds


@pytest.mark.parametrize("where,command", real_run_commands())
def test_documented_real_run_commands_give_s1s_settings(where, command, capsys, monkeypatch):
    argv = command.split()[2:]
    lines = dry_run(capsys, monkeypatch, [*argv, "--dry-run"])
    assert settings_of(lines) == s1_settings(), f"{where}: {command}"
    assert "problems per benchmark: all" in lines
    benchmarks = next(l for l in lines if l.startswith("benchmarks: ")).split(": ")[1].split(",")
    assert {"aime24", "math500", "gpqa_diamond"} <= set(benchmarks)
    assert "gpqa: prompt s1, fallback A, order s1, seed 0" in lines  # s1's letters (random seeded 0 once, rows in order)
    assert "majority prompt: think" in lines


def test_a_bare_real_model_command_gets_s1s_values(capsys, monkeypatch):
    lines = dry_run(capsys, monkeypatch, ["--model", "simplescaling/s1.1-32B", "--engine", "vllm", "--dry_run"])
    assert settings_of(lines) == s1_settings()
    assert "benchmarks: aime24,aime25,math500,gpqa_diamond" in lines


def test_a_toy_model_gets_the_cpu_demo_values(capsys, monkeypatch, tiny_path):
    for model in ("tiny", str(tiny_path)):
        got = settings_of(dry_run(capsys, monkeypatch, ["--model", model, "--dry-run"]))
        assert list(got) == ["budget=16", "budget=32", "budget=64", "wait=0", "wait=1", "wait=2", "majority=4"]
        assert got["wait=1"] == dict(num_waits=1, max_thinking_tokens=32, max_answer_tokens=16, samples=1)


def test_the_answer_cap_is_an_option(capsys, monkeypatch):
    real = settings_of(dry_run(capsys, monkeypatch, ["--model", "org/real", "--max_answer_tokens", "2048", "--dry-run"]))
    assert {s["max_answer_tokens"] for s in real.values()} == {2048}
    toy = settings_of(dry_run(capsys, monkeypatch, ["--max_answer_tokens", "context", "--dry-run"]))
    assert {s["max_answer_tokens"] for s in toy.values()} == {None}


def test_evaluate_gives_the_answer_what_the_context_leaves_on_a_real_model(tmp_path, monkeypatch):
    data = tmp_path / "aime24.jsonl"
    data.write_text(json.dumps(dict(id=1, problem="What is 1 + 1?", answer="2")) + "\n")
    monkeypatch.setattr(ev, "load_engine_model", lambda *a, **kw: (None, None))
    seen = []
    class Out:
        text, thinking_tokens, answer_tokens, waits, cut_by_budget = "\nx\n<|im_start|>answer\nAnswer: 2", 3, 1, 0, False
    def fake(prompts, model, tokenizer, **cfg):
        seen.append(cfg); return [Out() for _ in prompts]
    for model, cap in (("org/real-model", None), ("tiny", 16)):
        seen.clear()
        ev.evaluate(model, ["aime24"], n=0, budgets=[8], waits=[1], majority=0, data=str(data), out=tmp_path / model,
                    generate_fn=fake, plain=False)
        assert [c["max_answer_tokens"] for c in seen] == [cap, cap]
        assert seen[1]["max_thinking_tokens"] == ("auto" if cap is None else 32)  # the Wait cap


@pytest.mark.parametrize("argv,message", [
    (["--n", "-1"], "--n: -1 is not a count >= 0"),
    (["--majority", "-2"], "--majority: -2 is not a count >= 0"),
    (["--benchmarks", "aime24,aime24"], "--benchmarks: 'aime24' is listed twice"),
    (["--benchmarks", "aime2024"], "--benchmarks: unknown benchmark 'aime2024'"),
    (["--budgets", "8,8"], "--budgets: 8 is listed twice"),
    (["--budgets", "-5"], "--budgets: -5 is not a positive budget"),
    (["--budgets", "8,lots"], "--budgets: 'lots' is not a positive budget"),
    (["--waits", "1,1"], "--waits: 1 is listed twice"),
    (["--waits", "-1"], "--waits: -1 is not a number of Waits"),
    (["--wait_budget", "0"], "--wait_budget: 0 is not a positive budget"),
    (["--max_answer_tokens", "-3"], "--max_answer_tokens: '-3' is not a positive cap"),
    (["--temperature", "0"], "--temperature: 0 (greedy) makes all 4 majority samples the same"),
    (["--temperature", "-1"], "--temperature: -1.0 is not a finite temperature"),
    (["--temperature", "inf"], "--temperature: inf is not a finite temperature"),
    (["--temperature", "nan"], "--temperature: nan is not a finite temperature"),
    (["--majority_prompt", "chatty"], "--majority_prompt: 'chatty' is not one of think, plain"),
    (["--gpqa_order", "random"], "--gpqa_order: 'random' is not one of s1, question"),
    (["--gpqa_seed", "-1"], "--gpqa_seed: -1 is not a seed >= 0"),
    (["--engine", "x" * 100_000], "--engine: 'xxx"),
    (["--tp", "0"], "--tp: 0 is not a count >= 1"),
    (["--engine", "jax"], "--engine: 'jax' is not hf, vllm or vllm-harness"),
    (["--gpqa_fallback", "E"], "--gpqa_fallback: 'E' is not A-D"),
    (["--gpqa_prompt", "chatty"], "--gpqa_prompt: 'chatty' is not one of"),
    (["--plain", "maybe"], "--plain: 'maybe' is not yes or no"),
    (["--budgets", "", "--waits", "", "--majority", "0"], "nothing to run"),
])
def test_bad_arguments_stop_before_anything_loads(argv, message, monkeypatch):
    def loads(*a, **kw): raise AssertionError("loaded before the arguments were checked")
    for name in ("load_engine_model", "load_benchmark", "run_sweep", "forcing_generate"): monkeypatch.setattr(ev, name, loads)
    monkeypatch.setattr("sys.argv", ["s1 eval", *argv])
    with pytest.raises(ValueError, match=re.escape(message)): ev.eval_cli()


def test_bad_arguments_are_one_line_errors_from_the_s1_command(monkeypatch, capsys):
    from s1_nb.cli import main
    monkeypatch.setattr(ev, "load_engine_model", lambda *a, **kw: pytest.fail("loaded"))
    try: rc = main(["eval", "--budgets", "8,8"])
    except ValueError as e: rc, err = 2, str(e)  # a cli.main that does not turn errors into lines yet
    else: err = capsys.readouterr().err
    assert rc == 2 and "--budgets: 8 is listed twice" in err


def test_the_auto_values_are_the_forcing_engines():
    from s1_nb.forcing import AUTO_BUDGETS
    assert tuple(ev._AUTO_VALUES) == tuple(AUTO_BUDGETS)


@pytest.mark.parametrize("cuda", [True, False])
def test_hf_engine_puts_the_model_on_the_gpu_when_there_is_one(cuda, monkeypatch):
    import torch
    from s1_nb import core
    seen = {}
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    monkeypatch.setattr(core, "load_model", lambda model, **kw: seen.update(kw, model=model) or ("m", "t"))
    assert ev.load_engine_model("tiny", "hf") == ("m", "t")
    assert seen["device"] == ("cuda" if cuda else None) and seen["dtype"] in ("auto", torch.bfloat16)


@pytest.mark.gpu
def test_hf_engine_loads_onto_the_gpu(tiny_path):
    model, tok = ev.load_engine_model(str(tiny_path), "hf")
    assert next(model.parameters()).device.type == "cuda"


def test_cli_flags_are_the_library_parameters():
    import inspect
    from s1_nb import evaluation as ev, sft
    flags = set(inspect.signature(ev._eval_command).parameters) - {"dry_run"}  # `s1 eval --n ...`
    assert flags <= set(inspect.signature(ev.evaluate).parameters), flags - set(inspect.signature(ev.evaluate).parameters)
    assert {"model", "data", "out"} <= set(inspect.signature(sft.train_sft).parameters)


def test_a_real_run_loads_the_model_in_s1s_float32_unless_told(capsys, monkeypatch):
    assert "dtype: float32" in dry_run(capsys, monkeypatch, ["--model", "simplescaling/s1.1-32B", "--dry-run"])
    assert "dtype: bfloat16" in dry_run(capsys, monkeypatch, ["--model", "simplescaling/s1.1-32B", "--dtype", "bfloat16",
                                                             "--dry-run"])
    assert ev.eval_plan("tiny")["args"]["dtype"] is None  # a toy keeps the engine's own
    with pytest.raises(ValueError, match="--dtype"): ev.eval_plan("simplescaling/s1.1-32B", dtype="fp8")


@pytest.mark.parametrize("engine", ["hf", "vllm"])
def test_the_dtype_reaches_the_engine_loader(engine, monkeypatch, tmp_path):
    import sys, types
    from s1_nb import core
    seen = {}
    monkeypatch.setattr(core, "load_model", lambda model, **kw: seen.update(kw) or ("m", "t"))
    fake = types.SimpleNamespace(load_vllm=lambda model, **kw: seen.update(kw) or types.SimpleNamespace(get_tokenizer=lambda: "t"))
    monkeypatch.setitem(sys.modules, "s1_nb.vllm_forcing", fake)
    ev.load_engine_model("tiny", engine, dtype="float32")
    assert seen["dtype"] == "float32"
    seen.clear()
    monkeypatch.setattr(ev, "load_engine_model", lambda *a, **kw: seen.update(kw) or pytest.skip("loaded"))
    monkeypatch.setattr(ev, "load_benchmark", lambda *a, **kw: [])
    with pytest.raises(pytest.skip.Exception):
        ev.evaluate("simplescaling/s1.1-32B", ["aime24"], engine=engine, out=tmp_path / engine)
    assert seen["dtype"] == "float32"


def test_a_data_file_serves_one_benchmark_only(tmp_path, capsys, monkeypatch):
    f = tmp_path / "aime.jsonl"
    f.write_text(json.dumps(dict(id=1, problem="What is 1 + 1?", answer="2")) + "\n")
    monkeypatch.setattr(ev, "load_engine_model", lambda *a, **kw: pytest.fail("loaded"))
    with pytest.raises(ValueError, match="--data"): ev.evaluate("simplescaling/s1.1-32B", data=str(f), out=tmp_path / "r")
    from s1_nb.cli import main
    assert main(["eval", "--model", "simplescaling/s1.1-32B", "--data", str(f), "--dry-run"]) == 2
    assert "--data" in capsys.readouterr().err
    assert any(l.startswith("benchmarks: aime24") for l in dry_run(capsys, monkeypatch, [
        "--model", "simplescaling/s1.1-32B", "--data", str(f), "--benchmarks", "aime24", "--dry-run"]))


def test_flags_and_library_share_one_name_per_concept():
    "Each `s1 eval` flag is a parameter of the library call it reaches, by the same name (n, majority, tp, data, out)."
    import inspect
    params = lambda f: set(inspect.signature(f).parameters)
    flags = params(ev.eval_cli) - {"dry_run"}
    assert flags <= params(ev.evaluate) | params(ev.eval_plan), flags - params(ev.evaluate) - params(ev.eval_plan)
    assert {"n", "majority", "tp"} <= params(ev.eval_plan) and {"data", "out"} <= params(ev.evaluate)
    assert "n" in params(ev.load_benchmark) and "out" in params(ev.run_sweep)
    assert "tp" in params(ev.load_engine_model)


def test_a_huge_bad_value_is_not_echoed_whole(monkeypatch):
    monkeypatch.setattr("sys.argv", ["s1 eval", "--engine", "x" * 100_000])
    with pytest.raises(ValueError) as e: ev.eval_cli()
    assert len(str(e.value)) < 300 and "100002 characters" in str(e.value)


def test_majority_can_be_s1s_plain_baseline(capsys, monkeypatch):
    "s1's Figure 4b majority run (commands.sh, 'Majority'): Qwen2.5-32B-Instruct, no think prefill, no thinking cap."
    got = settings_of(dry_run(capsys, monkeypatch, ["--model", "Qwen/Qwen2.5-32B-Instruct", "--majority_prompt", "plain",
                                                    "--dry-run"]))
    assert got["majority=64"] == dict(temperature=1.0, think_prefix=False, max_thinking_tokens=None,
                                      max_answer_tokens=None, samples=64)
    assert got["budget=500"]["max_thinking_tokens"] == 500  # the other settings are untouched
    think = ev.eval_plan("org/real")["settings"]
    assert [s.config for s in think if s.method == "majority"] == [dict(temperature=1.0, max_thinking_tokens="auto")]


def test_majority_plain_baseline_reaches_the_engine_without_the_prefill(tmp_path, monkeypatch):
    data = tmp_path / "aime24.jsonl"
    data.write_text(json.dumps(dict(id=1, problem="What is 1 + 1?", answer="2")) + "\n")
    monkeypatch.setattr(ev, "load_engine_model", lambda *a, **kw: (None, None))
    seen = []
    class Out:
        text, thinking_tokens, answer_tokens, waits, cut_by_budget = "Answer: 2", 0, 2, 0, False
    def fake(prompts, model, tokenizer, **cfg):
        seen.append(cfg); return [Out() for _ in prompts]
    ev.evaluate("org/real", ["aime24"], budgets=[], waits=[], majority=2, plain=False, majority_prompt="plain",
                data=str(data), out=tmp_path / "run", generate_fn=fake)
    assert [(c["think_prefix"], c["max_thinking_tokens"], c["temperature"]) for c in seen] == [(False, None, 1.0)] * 2


def test_a_missing_data_path_is_named_not_miscounted(tmp_path, capsys):
    from s1_nb.cli import main
    missing = tmp_path / "aime.jsonl.gz"
    for argv in (["--data", str(missing)], ["--data", str(missing), "--benchmarks", "aime24"]):
        assert main(["eval", *argv, "--out", str(tmp_path / "r"), "--dry-run"]) == 2
        err = capsys.readouterr().err
        assert f"--data: no such file or folder: {missing}" in err and "benchmarks are asked" not in err, err


def test_a_mistyped_model_path_is_not_a_hub_lookup(tmp_path, capsys, monkeypatch):
    from s1_nb.cli import main
    monkeypatch.setattr(ev, "load_engine_model", lambda *a, **kw: pytest.fail("loaded"))
    assert main(["eval", "--model", str(tmp_path / "my-model.gz"), "--out", str(tmp_path / "r")]) == 2
    assert f"--model: no model folder at {tmp_path / 'my-model.gz'}" in capsys.readouterr().err
    (tmp_path / "not-a-model").mkdir()
    (tmp_path / "not-a-model" / "notes.txt").write_text("x")
    assert main(["eval", "--model", str(tmp_path / "not-a-model"), "--out", str(tmp_path / "r")]) == 2
    assert "holds no config.json: it is not a model folder" in capsys.readouterr().err


def test_the_random_default_model_says_so(tmp_path, capsys, monkeypatch):
    import pandas as pd
    row = dict(benchmark="aime24", setting="budget=16", n=1, accuracy=0.0, thinking_tokens=16, cut_by_budget=1.0)
    monkeypatch.setattr(ev, "evaluate", lambda *a, **kw: pd.DataFrame([row]))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.argv", ["s1 eval"])
    ev.eval_cli()
    out = capsys.readouterr().out
    assert "tiny random model" in out and "--model" in out


def test_help_says_how_the_hf_engine_keeps_within_memory(capsys, monkeypatch):
    monkeypatch.setattr("sys.argv", ["s1 eval", "--help"])
    with pytest.raises(SystemExit): ev.eval_cli()
    text = " ".join(capsys.readouterr().out.split())
    assert "what memory holds" in text and "use vllm" in text


def test_the_gpqa_seed_reaches_the_loader(tmp_path, monkeypatch):
    seen = []
    monkeypatch.setattr(ev, "load_benchmark", lambda name, data, **kw: seen.append(kw) or [])
    monkeypatch.setattr(ev, "load_engine_model", lambda *a, **kw: pytest.skip("loaded"))
    with pytest.raises(pytest.skip.Exception):
        ev.evaluate("org/real", ["gpqa_diamond"], gpqa_seed=1234, gpqa_order="s1", out=tmp_path / "r")
    assert (seen[0]["seed"], seen[0]["gpqa_order"]) == (1234, "s1")
