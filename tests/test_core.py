"""Edge cases and bad input for s1_nb.core (the happy path is checked inside nbs/00_core.ipynb)."""
import copy
from pathlib import Path

import pytest

from s1_nb.core import (ANSWER_DELIM, FORCED_END, S1_CHAT_TEMPLATE, answer_text, inference_prompt, load_model,
                        s1_tokens, split_completion, tiny_model_folder, tiny_tokenizer, token_ids, training_text,
                        with_s1_chat_template)

ROW = dict(question="What is 2+2?", thinking_trajectories=["2+2", "is 4"], attempt="4")


def test_split_without_any_delimiter_has_no_answer():
    c = split_completion("\njust thinking<|im_end|>")
    assert (c.thinking, c.answer, c.has_answer) == ("just thinking", "", False)


def test_split_uses_the_last_answer_delimiter():
    c = split_completion("\na\n<|im_start|>answer\nfirst\n<|im_start|>answer\nsecond<|im_end|>")
    assert c.answer == "second"


def test_forced_end_is_what_s1s_harness_appends():
    assert FORCED_END == "\n<|im_start|>answer\nFinal Answer:"
    assert split_completion("\nx" + FORCED_END + " 7").answer == "Final Answer: 7"


def test_answer_prefix_rule_is_case_sensitive_like_s1():
    assert answer_text("answer: 5") == "Answer: answer: 5"


def test_tokenizer_without_eos_is_refused():
    tok = tiny_tokenizer()
    tok.eos_token = None
    with pytest.raises(ValueError, match="no eos token"):
        s1_tokens(tok)


def test_split_delimiters_are_sequences():
    st = s1_tokens(tiny_tokenizer(special_im_tokens=False))
    assert len(st.im_start) > 1 and len(st.answer) > len(st.im_start)
    assert st.answer[:len(st.im_start)] == st.im_start


def test_token_ids_refuses_a_boundary_merge():
    tok = tiny_tokenizer()
    with pytest.raises(ValueError, match="changes the tokenization"):
        token_ids(tok, "t", prefix="so Wai")


def test_tiny_tokenizer_and_model_are_deterministic(tmp_path):
    import torch
    a, b = tiny_tokenizer(), tiny_tokenizer()
    assert a.get_vocab() == b.get_vocab()
    p1, p2 = tiny_model_folder(path=tmp_path / "a"), tiny_model_folder(path=tmp_path / "b")
    m1, _ = load_model(p1); m2, _ = load_model(p2)
    assert all(torch.equal(x, y) for x, y in zip(m1.state_dict().values(), m2.state_dict().values()))


def test_unknown_tiny_size_is_refused():
    with pytest.raises(ValueError, match="unknown tiny size"):
        tiny_model_folder("huge")


def test_unknown_model_offline_names_the_model():
    with pytest.raises(OSError, match="no-such-org/x.*HF_HUB_OFFLINE"):
        load_model("no-such-org/x")


@pytest.mark.shared
def test_real_tokenizer_ids(qwen_tokenizer):
    t = s1_tokens(qwen_tokenizer)
    assert t.wait == [14190] and t.im_end == [151645] and t.end_of_thinking == [151644]
    assert token_ids(qwen_tokenizer, "<|im_start|>think") == [151644, 26865]
    assert t.answer == [151644, 9217] and t.final_answer == [19357, 21806, 25]


@pytest.mark.shared
def test_our_template_renders_like_qwens(qwen_tokenizer):
    ours = with_s1_chat_template(copy.deepcopy(qwen_tokenizer))
    assert training_text(ROW, ours) == training_text(ROW, qwen_tokenizer)
    for system in (None, "Be brief."):
        assert inference_prompt("q", ours, system) == inference_prompt("q", qwen_tokenizer, system)
    assert ours.chat_template == S1_CHAT_TEMPLATE


@pytest.mark.shared
def test_training_text_tokenizes_with_single_delimiter_ids(qwen_tokenizer):
    ids = qwen_tokenizer(training_text(ROW, qwen_tokenizer), add_special_tokens=False)["input_ids"]
    text = qwen_tokenizer.decode(ids)
    assert text.count(ANSWER_DELIM) == 1 and ids.count(151644) == 5  # system, user, assistant, think, answer


def test_one_home_for_benchmarks_math_grading_and_loading(tmp_path):
    from s1_nb import core, curation, evaluation
    assert curation.is_correct is core.is_correct and evaluation.math_answer is core.math_answer
    assert evaluation.BENCHMARKS["math500"] is core.BENCHMARK_SPECS["math500"]
    m, _ = load_model("tiny", attn_implementation="sdpa")
    assert m.config._attn_implementation == "sdpa"
    calls = []
    def build(p):
        calls.append(p); (p / "config.json").write_text("{}")
    first = core.cached_folder(tmp_path / "m", build)
    assert core.cached_folder(tmp_path / "m", build) == first and len(calls) == 1 and (first / "config.json").exists()
    assert not list(tmp_path.glob("m.tmp*"))  # the temporary folder was renamed into place


MODULES = ["core", "curation", "sft", "forcing", "evaluation", "cli", "laptop", "paper", "workshop", "vllm_forcing", "testing"]
ENGINE_PROTOCOL = {"reference_engine", "vllm_engine", "vllm_harness_engine"}  # engines are called fn(prompts, model, tokenizer, config)


@pytest.mark.parametrize("name", MODULES)
def test_public_api_fits_a_screen_and_reads_like_fastcore(name):
    "Each module's `__all__` is short; its functions take at most three positional parameters, each documented."
    import importlib
    import inspect
    from fastcore.docments import docments
    mod = importlib.import_module(f"s1_nb.{name}")
    assert len(mod.__all__) <= 36, f"s1_nb.{name}: {len(mod.__all__)} public names"
    assert all(not n.startswith("_") for n in mod.__all__)
    for n in mod.__all__:
        f = getattr(mod, n)
        if not inspect.isfunction(f) or hasattr(f, "__wrapped__"): continue  # classes, call_parse commands
        params = inspect.signature(f).parameters.values()
        positional = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        assert len(positional) <= 3 or n in ENGINE_PROTOCOL, f"{name}.{n}: positional {positional}"
        docs = docments(f)
        undocumented = [p.name for p in params if not docs.get(p.name) and p.kind != p.VAR_KEYWORD]  # docments skips **kw
        assert not undocumented, f"{name}.{n}: no docments comment on {undocumented}"


def test_shipped_data_comes_first_and_shared_is_an_optional_fallback(monkeypatch, tmp_path):
    import s1_nb
    from s1_nb.core import _local_benchmark_file, data_path, _shared_folder
    assets = Path(s1_nb.__file__).resolve().parent / "assets" / "data"
    for sub in ("benchmarks/math500.jsonl", "s1/msc.json", "s1/grading.txt", "qwen2.5-tokenizer"):
        assert data_path(sub) == assets / sub
    assert _local_benchmark_file("aime24") == assets / "benchmarks" / "aime24_nofigures.jsonl"
    (tmp_path / "S1_METHOD.md").write_text("")
    (tmp_path / "data" / "s1").mkdir(parents=True)
    (tmp_path / "data" / "s1" / "msc.json").write_text("[]")
    (tmp_path / "data" / "extra.jsonl").write_text("")
    monkeypatch.setenv("S1_SHARED", str(tmp_path))
    assert data_path("extra.jsonl") == tmp_path / "data" / "extra.jsonl"  # what does not ship: from shared/
    assert data_path("s1/msc.json") == assets / "s1" / "msc.json"  # what ships: never shadowed
    monkeypatch.setenv("S1_SHARED", "")  # set but empty: no shared folder, not even one beside the checkout
    assert _shared_folder() is None and data_path("extra.jsonl") is None
    assert data_path("benchmarks/math500.jsonl") == assets / "benchmarks" / "math500.jsonl"


def test_the_real_tokenizer_loads_from_the_shipped_files_alone():
    from transformers import AutoTokenizer
    from s1_nb.core import data_path
    files = sorted(f.name for f in data_path("qwen2.5-tokenizer").iterdir())
    assert files == ["LICENSE", "SOURCE.txt", "config.json", "merges.txt", "tokenizer_config.json", "vocab.json"]
    tok = AutoTokenizer.from_pretrained(data_path("qwen2.5-tokenizer"))
    assert len(tok) == 151665 and tok.eos_token == "<|im_end|>"


def test_the_offline_hint_names_the_command_line_flag(monkeypatch):
    from s1_nb.evaluation import load_benchmark
    monkeypatch.setenv("HF_HUB_OFFLINE", "1"); monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    with pytest.raises(RuntimeError, match="--data") as e: load_benchmark("aime25", hub=True)
    assert "data=..." not in str(e.value)
