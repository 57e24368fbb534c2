"""Edge cases of chapter 08 (`s1_nb.workshop`) that the chapter does not need to show: quiet loading, the budget's
arithmetic, questions the model cannot take, reading failures off made-up traces, and the server's command line."""
import pytest

from s1_nb.core import inference_prompt, load_laptop
from s1_nb.forcing import build_output, generate
from s1_nb.workshop import (ask_html, bind_note, copy_slips, failing_word, failure_reason, learner_notebook, pass_room,
                            run_html, voila_command, waits_budget, workshop_env)

QUESTION = "How many r in raspberry?"


@pytest.fixture(scope="module")
def laptop():
    return load_laptop("base")


def test_loading_quietly_leaves_progress_bars_on_for_everything_else(laptop):
    from transformers.utils import logging as hf_logging
    assert hf_logging.is_progress_bar_enabled()


def test_pass_room_and_waits_budget(laptop):
    _, tok = laptop
    assert pass_room(tok, max_len=5, hits=2) == len(tok("\nWait, a1a2bbb. So 2.", add_special_tokens=False)["input_ids"])
    assert waits_budget(2, tok) - waits_budget(1, tok) == pass_room(tok)
    for bad in (-1, 1.5, True):
        with pytest.raises(ValueError, match="max_waits"): waits_budget(bad, tok)


def test_run_html_has_no_return_marks(laptop):
    m, tok = laptop
    out = generate(inference_prompt(QUESTION, tok), m, tok, num_waits=1, max_thinking_tokens=64, max_answer_tokens=12)[0]
    assert "↵" not in run_html(out, 1)


@pytest.mark.parametrize("bad", ["", "   ", "What is 2+2?", "How many r in strawberry jam?"])
def test_questions_the_model_cannot_take_get_a_message(laptop, bad):
    m, tok = laptop
    page = ask_html(m, tok, bad, waits=1, budget=64)
    assert "s1-message" in page and "s1-trace" not in page


def test_a_question_is_normalized_before_it_runs(laptop):
    m, tok = laptop
    assert "s1-trace" in ask_html(m, tok, "How many R's are in RASPBERRY?", waits=1, budget=64)


def test_failures_read_off_made_up_traces(laptop):
    _, tok = laptop
    fake = build_output("", [("thinking", tok.encode("\nQuick: 1.\nWait, mis1s2s3... So 3.\nWait, mis1s2is3is4i. So 4.\n"))],
                        tok, waits=2, cut=False)
    assert copy_slips(fake, "mississippi") == ["pass 1 copied misss for missi", "pass 2 copied missisisi for mississip"]
    short = build_output("", [("thinking", tok.encode("\nQuick: 1.\nWait, a1bra2ca3da4... So 4.\n"))], tok, waits=1, cut=False)
    abra = dict(word="abracadabra", letter="a", answer="5")
    assert failure_reason(short, abra).startswith("the passes ran out") and "5 hits need 3 Waits" in failure_reason(short, abra)
    assert failure_reason(fake, dict(word="mississippi", answer="4")).startswith("a pass miscopied the word: pass 1 copied misss")


def test_too_few_waits_give_a_failure_to_show(laptop):
    m, tok = laptop
    assert failing_word(m, tok, waits=2) is not None


def test_voila_command_environment_and_bind_note():
    cmd = voila_command(learner_notebook())
    assert learner_notebook().exists() and "--MappingKernelManager.cull_idle_timeout=60" in cmd
    assert not any("token=" in c for c in cmd)
    with pytest.raises(ValueError, match="--port"): voila_command("x.ipynb", port=70000)
    assert workshop_env({"OMP_NUM_THREADS": "8"})["OMP_NUM_THREADS"] == "1"
    assert workshop_env({}, token_file="/tmp/t")["JUPYTER_TOKEN_FILE"] == "/tmp/t"
    assert "token" in bind_note("0.0.0.0", 8866)
