"""Run folders: each outputs file says what it holds, a rerun regenerates only what is missing or unreadable and
never leaves a partial summary in place of a whole one; the plain ("s1 w/o BF") setting."""
import json

import pytest

from s1_nb.evaluation import (budget_settings, headline_table, majority_setting, method_metrics, plain_setting,
                              _read_outputs, _run_setting, run_sweep, wait_settings)

DONE = "\nthinking\n<|im_start|>answer\n"
PROBLEMS = [dict(id=f"t/{i}", problem=f"What is {i} + {i}?", answer=str(2 * i), kind="aime", benchmark="aime24")
            for i in range(5)]


class Out:
    def __init__(self, text, thinking_tokens=4):
        self.text, self.thinking_tokens, self.answer_tokens, self.waits, self.cut_by_budget = text, thinking_tokens, 1, 0, False


class Engine:
    """A stand-in for the forcing engine that answers each prompt's sum right and records every call; with a
    temperature, the answer depends on the seed the engine gives the sequence (seed + index in the batch)."""
    def __init__(self): self.calls = []
    def __call__(self, prompts, model, tokenizer, **cfg):
        self.calls.append((len(prompts), cfg))
        outs = []
        for j, p in enumerate(prompts):
            i = int(p.split("What is ")[1].split(" +")[0])
            drawn = f" seed {cfg.get('seed', 0) + j}" if cfg.get("temperature") else ""
            outs.append(Out(DONE + f"Answer: {2 * i}{drawn}"))
        return outs


def sweep(tmp_path, settings, engine, **kw):
    return run_sweep(PROBLEMS, settings, None, tokenizer=None, out=tmp_path, model_id="m", generate_fn=engine, progress=False, **kw)


def outputs_file(tmp_path, name):
    [path] = (tmp_path / "outputs").glob(f"{name}-*.jsonl")
    return path


def test_each_outputs_file_says_what_it_holds(tmp_path):
    sweep(tmp_path, budget_settings([8]) + [majority_setting(2, 1.0, 8)], Engine())
    for name, samples in (("budget=8", 1), ("majority=2", 2)):
        path = outputs_file(tmp_path, name)
        header = json.loads(path.read_text().splitlines()[0])
        assert header["outputs_of"] == name and path.stem.endswith(header["key"])
        assert (header["ids"], header["samples"], header["count"]) == ([p["id"] for p in PROBLEMS], samples, 5 * samples)
        kept, h = _read_outputs(path, header["key"])
        assert len(kept) == 5 * samples and h["unreadable"] == 0


def test_a_file_that_lost_its_tail_at_a_line_boundary_is_completed(tmp_path):
    first = sweep(tmp_path, budget_settings([8, 16]), Engine())
    path = outputs_file(tmp_path, "budget=8")
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:-2]))  # the last two completions gone, the file still ends in a newline
    engine = Engine()
    again = sweep(tmp_path, budget_settings([8, 16]), engine)
    assert [n for n, _ in engine.calls] == [2]  # only the two lost completions, for that setting only
    assert again.equals(first) and again.attrs["reused"] == 1
    assert path.read_text() == "".join(lines)  # the file is whole again, in its order


def test_an_unreadable_line_is_generated_again_and_only_it(tmp_path):
    first = sweep(tmp_path, budget_settings([8]), Engine())
    path = outputs_file(tmp_path, "budget=8")
    lines = path.read_text().splitlines(keepends=True)
    bad = lines[:]
    bad[2] = bad[2][: len(bad[2]) // 2] + "\n"  # cut mid-line
    bad[4] = json.dumps({"id": "t/3", "sample": 0}) + "\n"  # valid JSON, but not a completion
    path.write_text("".join(bad))
    engine = Engine()
    again = sweep(tmp_path, budget_settings([8]), engine)
    assert [n for n, _ in engine.calls] == [2] and again.equals(first)
    assert path.read_text() == "".join(lines)


def test_a_file_without_its_header_is_checked_against_the_problems(tmp_path):
    first = sweep(tmp_path, budget_settings([8]), Engine())
    path = outputs_file(tmp_path, "budget=8")
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[1:]))  # as written before the header existed
    engine = Engine()
    assert sweep(tmp_path, budget_settings([8]), engine).equals(first) and engine.calls == []
    path.write_text("".join(lines[1:-1]))
    assert sweep(tmp_path, budget_settings([8]), engine).equals(first) and [n for n, _ in engine.calls] == [1]


def test_sampled_completions_are_repaired_with_the_seeds_they_had(tmp_path):
    first = sweep(tmp_path, [majority_setting(3, 1.0, 8)], Engine())
    path = outputs_file(tmp_path, "majority=3")
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:5] + lines[8:]))  # lose sample 0's last and sample 1's first two
    engine = Engine()
    again = sweep(tmp_path, [majority_setting(3, 1.0, 8)], engine)
    assert [n for n, _ in engine.calls] == [1, 1, 1]  # each pair alone ...
    assert path.read_text() == "".join(lines) and again.equals(first)  # ... and drawn exactly as before


def test_a_rerun_that_cannot_repair_leaves_the_summary_alone(tmp_path):
    sweep(tmp_path, budget_settings([8, 16]), Engine())
    before = {f: (tmp_path / f).read_bytes() for f in ("results.json", "results.csv")}
    path = outputs_file(tmp_path, "budget=16")
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:3]) + "{not json\n" + "".join(lines[4:]))
    def dead(*a, **kw): raise RuntimeError("GPU lost")
    with pytest.raises(RuntimeError, match="GPU lost"): sweep(tmp_path, budget_settings([8, 16]), dead)
    assert {f: (tmp_path / f).read_bytes() for f in before} == before  # no partial table in place of the whole one


def test_a_file_written_for_another_key_is_not_used(tmp_path):
    sweep(tmp_path, budget_settings([8]), Engine())
    path = outputs_file(tmp_path, "budget=8")
    lines = path.read_text().splitlines(keepends=True)
    header = json.loads(lines[0]); header["key"] = "0000000000"
    path.write_text(json.dumps(header) + "\n" + "".join(lines[1:]))
    engine = Engine()
    sweep(tmp_path, budget_settings([8]), engine)
    assert [n for n, _ in engine.calls] == [5]


def test_repeated_problem_ids_are_refused(tmp_path):
    with pytest.raises(ValueError, match="problem ids must be unique"):
        run_sweep(PROBLEMS + PROBLEMS[:1], budget_settings([8]), None, tokenizer=None, out=tmp_path, generate_fn=Engine(),
                  progress=False)


# ---- the plain setting: s1 w/o BF ----

def test_plain_runs_without_think_prefix_cap_or_forced_end():
    engine = Engine()
    records = _run_setting(plain_setting(), PROBLEMS[:2], None, None, generate_fn=engine, max_answer_tokens=None)
    [(n, cfg)] = engine.calls
    assert n == 2 and cfg["think_prefix"] is False and cfg["max_thinking_tokens"] is None
    assert "num_waits" not in cfg and cfg["max_answer_tokens"] is None
    assert plain_setting().name == "plain" and [r["sample"] for r in records] == [0, 0]


def test_the_headline_no_forcing_row_is_the_plain_run(tmp_path):
    res = sweep(tmp_path, budget_settings([8, "auto"]) + wait_settings([1], "auto") + [plain_setting()], Engine())
    assert list(res.setting) == ["budget=8", "budget=auto", "wait=1", "plain"]
    h = headline_table(res)
    no_bf = h[(h.metric == "accuracy, no forcing (%)") & (h.benchmark == "aime24")].iloc[0]
    assert (no_bf.ours_from, no_bf.ours) == ("plain", 100.0)
    forcing = [m for m in method_metrics(res, "aime24") if m["method"] == "forcing"][0]
    assert forcing["settings"] == 3  # budget and Wait runs; plain is not budget forcing


def test_plain_reaches_the_forcing_engine(tiny):
    """The real engine takes the plain setting's overrides (think_prefix=False: no prefill, no cap)."""
    from s1_nb.forcing import ForcingConfig, make_config
    cfg = make_config(None, **plain_setting().config, max_answer_tokens=None)
    assert isinstance(cfg, ForcingConfig) and cfg.think_prefix is False and cfg.max_thinking_tokens is None


# ---- GPQA: s1's bare question by default, simple-evals' preamble as an option ----

GPQA_ROW = {"Question": "Which is a noble gas? ", "Correct Answer": " Argon", "Incorrect Answer 1": "Oxygen",
            "Incorrect Answer 2": "Iron", "Incorrect Answer 3": "Sodium", "Record ID": "rec1"}


def test_gpqa_asks_the_bare_question_as_s1(tmp_path):
    import re
    from s1_nb.evaluation import _GPQA_INSTRUCTED_TEMPLATE, load_benchmark
    f = tmp_path / "gpqa.jsonl"
    f.write_text(json.dumps(GPQA_ROW) + "\n")
    [p] = load_benchmark("gpqa_diamond", f)
    assert p["problem"].startswith("Which is a noble gas? \n\nA) ")  # s1's QUERY_TEMPLATE, the text as given
    choices = dict(re.findall(r"^([A-D])\) (.*)$", p["problem"], re.M))
    assert sorted(choices.values()) == [" Argon", "Iron", "Oxygen", "Sodium"] and choices[p["answer"]] == " Argon"
    assert "Answer the following" not in p["problem"]
    [q] = load_benchmark("gpqa_diamond", f, gpqa_template=_GPQA_INSTRUCTED_TEMPLATE)
    assert q["problem"].startswith("Answer the following multiple choice question.") and q["answer"] == p["answer"]
    assert q["problem"].endswith(p["problem"])


@pytest.mark.parametrize("prompt,preamble", [("s1", False), ("instructed", True)])
def test_the_gpqa_prompt_option_reaches_the_engine(prompt, preamble, tmp_path, monkeypatch):
    from s1_nb import evaluation as ev
    (tmp_path / "gpqa_diamond.jsonl").write_text(json.dumps(GPQA_ROW) + "\n")
    monkeypatch.setattr(ev, "load_engine_model", lambda *a, **kw: (None, None))
    seen = []
    def fake(prompts, model, tokenizer, **cfg):
        seen.extend(prompts); return [Out(DONE + "Answer: A") for _ in prompts]
    ev.evaluate("org/real-model", ["gpqa_diamond"], n=0, budgets=[8], waits=[], majority=0, data=str(tmp_path), out=tmp_path / prompt,
                generate_fn=fake, plain=False, gpqa_prompt=prompt)
    assert seen and all(("Answer the following multiple choice question." in p) == preamble for p in seen)


def test_plain_runs_on_the_real_engine(tiny_path):
    """The HF forcing engine on the tiny model: no prefill, no cap, no forced end, no Wait (a short context keeps the
    random model's uncapped run short)."""
    from s1_nb.core import FORCED_END, load_model
    lm, tok = load_model(tiny_path)
    lm.config.max_position_embeddings = 160
    records = _run_setting(plain_setting(), PROBLEMS[:2], lm, tok, max_answer_tokens=None)
    assert len(records) == 2
    for r in records:
        assert (r["cut_by_budget"], r["waits"]) == (False, 0) and FORCED_END not in r["text"]
        assert 0 < r["thinking_tokens"] + r["answer_tokens"] < 160


@pytest.mark.parametrize("change", [dict(problem="What is 0 + 0? Think hard."), dict(answer="7")])
def test_a_changed_prompt_or_gold_is_not_read_back(change, tmp_path):
    sweep(tmp_path, budget_settings([8]), Engine())
    engine = Engine()
    changed = [dict(PROBLEMS[0], **change), *PROBLEMS[1:]]
    run_sweep(changed, budget_settings([8]), None, tokenizer=None, out=tmp_path, model_id="m", generate_fn=engine, progress=False)
    assert engine.calls, "the old completions were reused for another prompt or gold answer"
    assert len(list((tmp_path / "outputs").glob("budget=8-*.jsonl"))) == 2


def test_settings_the_engine_cannot_tell_apart_are_generated_once(tmp_path):
    engine = Engine()  # budget=auto and wait=0 under the auto cap: the same ForcingConfig
    res = sweep(tmp_path, budget_settings(["auto"]) + wait_settings([0], "auto"), engine)
    assert len(engine.calls) == 1
    assert list(res.setting) == ["budget=auto", "wait=0"] and res.attrs["shared"] == 1
    cols = ["n", "accuracy", "thinking_tokens", "cut_by_budget", "waits"]
    assert res.iloc[0][cols].equals(res.iloc[1][cols])
    sweep(tmp_path, budget_settings([8]) + wait_settings([0, 1], 8), engine)
    assert len(engine.calls) == 3  # budget=8 and wait=1; wait=0 under cap 8 is budget=8


def test_a_batch_split_by_memory_gives_the_same_records(tmp_path):
    settings = budget_settings([8]) + [majority_setting(2, 1.0, 8)]
    whole, split = Engine(), Engine()
    a = sweep(tmp_path / "whole", settings, whole)
    b = sweep(tmp_path / "split", settings, split, batch_size=2)
    assert [n for n, _ in whole.calls] == [5, 5, 5] and [n for n, _ in split.calls] == [2, 2, 1] * 3
    assert [c.get("seed", 0) for n, c in split.calls[3:]] == [0, 2, 4, 5, 7, 9]  # each part seeded where it stands
    assert a.to_dict("records") == b.to_dict("records")
    read = lambda d, name: [json.loads(l) for l in outputs_file(d, name).read_text().splitlines()[1:]]
    assert read(tmp_path / "whole", "majority=2") == read(tmp_path / "split", "majority=2")
    with pytest.raises(ValueError, match="'auto-s1' takes its budget from the longest prompt.*use --engine vllm"):
        sweep(tmp_path / "s1", budget_settings(["auto-s1"]), Engine(), batch_size=2)


def test_the_hf_engine_batches_by_what_memory_holds(tmp_path, monkeypatch):
    from types import SimpleNamespace
    from s1_nb import evaluation as ev
    config = SimpleNamespace(num_hidden_layers=64, num_key_value_heads=8, num_attention_heads=40, hidden_size=5120,
                             head_dim=128, max_position_embeddings=32768)  # Qwen2.5-32B
    qwen32b = SimpleNamespace(config=config, dtype=SimpleNamespace(itemsize=2))
    per_sequence = 2 * 64 * 8 * 128 * 2 * 32768  # keys and values, bf16, the whole context: 8 GiB
    assert ev.hf_batch_size(qwen32b, free_bytes=10 * per_sequence) == 8  # 80% of the free memory
    with pytest.raises(ValueError, match=r"8\.0 GiB of KV cache and 4\.0 GiB is free: use --engine vllm"):
        ev.hf_batch_size(qwen32b, free_bytes=per_sequence // 2)
    engine = Engine()
    monkeypatch.setattr(ev, "_free_bytes", lambda model: 3 * per_sequence)  # room for 2 full-context sequences
    run_sweep(PROBLEMS, budget_settings([8]), qwen32b, out=tmp_path, generate_fn=engine, progress=False, engine="hf")
    assert [n for n, _ in engine.calls] == [2, 2, 1]
    monkeypatch.setattr(ev, "_free_bytes", lambda model: per_sequence // 2)
    with pytest.raises(ValueError, match="use --engine vllm"):
        run_sweep(PROBLEMS, budget_settings([16]), qwen32b, out=tmp_path, generate_fn=Engine(), progress=False)


def test_a_second_run_into_the_same_folder_is_refused(tmp_path, capsys, monkeypatch):
    from s1_nb import evaluation as ev
    from s1_nb.cli import main
    from s1_nb.core import run_lock
    data = tmp_path / "aime24.jsonl"
    data.write_text(json.dumps(dict(id=1, problem="What is 1 + 1?", answer="2")) + "\n")
    monkeypatch.setattr(ev, "load_engine_model", lambda *a, **kw: pytest.fail("the second run loaded the model"))
    with run_lock(tmp_path / "run"):  # a first run holds the folder
        with pytest.raises(ValueError, match="in use by another run"):
            ev.evaluate("org/real", ["aime24"], data=str(data), out=tmp_path / "run")
        with pytest.raises(ValueError, match="in use by another run"): sweep(tmp_path / "run", budget_settings([8]), Engine())
        assert main(["eval", "--model", "org/real", "--benchmarks", "aime24", "--data", str(data),
                     "--out", str(tmp_path / "run")]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and "in use by another run" in err
    sweep(tmp_path / "run", budget_settings([8]), Engine())  # released: the next run goes ahead


def test_outputs_are_written_under_a_temporary_name_of_their_own(tmp_path):
    from s1_nb.evaluation import _write_jsonl
    path = tmp_path / "budget=8-abc.jsonl"
    (tmp_path / "budget=8-abc.jsonl.tmp").mkdir()  # another writer's temporary file at the old shared name
    _write_jsonl(path, [dict(a=1), dict(b=2)])
    assert [json.loads(l) for l in path.read_text().splitlines()] == [dict(a=1), dict(b=2)]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["budget=8-abc.jsonl", "budget=8-abc.jsonl.tmp"]


def test_a_problem_with_a_chat_marker_is_named_before_the_model_loads(tmp_path, capsys, monkeypatch):
    from s1_nb import evaluation as ev
    from s1_nb.cli import main
    rows = [dict(id=1, problem="What is 1 + 1?", answer="2"),
            dict(id=7, problem="Begin <|im_start|>think " + "x" * 100_000, answer="3")]
    data = tmp_path / "aime24.jsonl"
    data.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    monkeypatch.setattr(ev, "load_engine_model", lambda *a, **kw: pytest.fail("loaded before the problems were checked"))
    with pytest.raises(ValueError) as e: ev.evaluate("org/real", ["aime24"], data=str(data), out=tmp_path / "r")
    msg = str(e.value)
    assert msg.startswith("aime24 problem 2 (id aime24/7): its text holds the chat marker '<|im_start|>'"), msg
    assert len(msg) < 400 and "characters)" in msg  # the 100 KB question is not echoed whole
    assert main(["eval", "--model", "org/real", "--benchmarks", "aime24", "--data", str(data),
                 "--out", str(tmp_path / "r")]) == 2
    assert "aime24 problem 2" in capsys.readouterr().err
