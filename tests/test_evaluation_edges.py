"""Edge cases of s1_nb.evaluation that chapter 05 once pinned in its cells: GPQA prompts, reading integers and
letters, bad run arguments, the resume key of a model, and the figure's point labels."""
import random

import pytest

from s1_nb.evaluation import (_GPQA_INSTRUCTED_TEMPLATE, _gpqa_problem, _place_labels, _setting_labels, _setting_words,
                              _several_integers, _several_letters, _to_int, _to_letter, eval_plan, model_identity)


def test_gpqa_prompts_keep_the_text_and_spread_the_gold_letter():
    q, gold = _gpqa_problem("Which is a noble gas?", "Argon", ["Oxygen", "Iron", "Sodium"], key="rec1")
    assert _gpqa_problem("Which is a noble gas?", "Argon", ["Oxygen", "Iron", "Sodium"], key="rec1") == (q, gold)
    assert _gpqa_problem(" Q \n", " Argon", ["O", "I", "S"], key="r")[0].startswith(" Q \n\n\nA) ")  # not stripped
    instructed = _gpqa_problem("Which is a noble gas?", "Argon", ["Oxygen", "Iron", "Sodium"], key="rec1",
                               template=_GPQA_INSTRUCTED_TEMPLATE)
    assert instructed[0].startswith("Answer the following multiple choice question.") and instructed[1] == gold
    golds = [_gpqa_problem("q", "right", ["w1", "w2", "w3"], key=str(i))[1] for i in range(200)]
    assert all(golds.count(l) > 25 for l in "ABCD")  # the shuffle spreads the gold letter
    rng = random.Random(0)
    assert [_gpqa_problem("q", "right", ["w1", "w2", "w3"], key="", rng=rng)[1] for _ in range(8)] == \
        ["D", "C", "D", "C", "C", "A", "C", "A"]  # s1's letters: random.seed(0) once, rows in file order


def test_integers_and_letters_read_as_a_model_writes_them():
    assert [_to_int(s) for s in ["025", 25, "$204$", "\\text{204}", "1,000", "204 minutes.", "2^{10}", "", "x",
                                 "204 or 205", "204 \\text{ or } 205", "12+13=25", "25 (since m=12, n=13)", "x = 204"]] == \
        [25, 25, 204, 204, 1000, 204, None, None, None, None, None, 25, 25, 204]
    assert [_to_letter(s) for s in ["B", "(C)", "\\text{(D)}", "A) Argon", "$B$", "E", "Argon", "B) A noble gas",
                                    "A is wrong, the answer is C", "(B) or (D)", "A or B", "c", "a cat",
                                    "C, since A and B are wrong", "B. A"]] == \
        ["B", "C", "D", "A", "B", None, None, "B", "C", None, None, "C", None, "C", "B"]
    assert [_several_integers(s) for s in ["204 or 205", "204/205", "either 3 or 4", "3, 4", "204", "2^{10}", "x = 204",
                                           "204 or 204", "12+13=25", "25 (since m=12, n=13)", "3 \\cdot 5"]] == \
        ["204, 205", "204, 205", "3, 4", "3, 4", None, None, None, None, None, None, None]
    assert [_several_letters(s) for s in ["(B) or (D)", "either A or C", "A/C", "A, C", "A is wrong, the answer is C",
                                          "C, since A and B are wrong", "B. A", "B) A noble gas", "C", "A or A"]] == \
        ["B, D", "A, C", "A, C", "A, C", None, None, None, None, None, None]


def test_a_real_model_gets_s1s_values_and_bad_arguments_name_their_flag():
    real = eval_plan("simplescaling/s1.1-32B", engine="vllm", tp=8)
    assert (real["base"], real["settings"][8].config) == (dict(max_answer_tokens=None), dict(num_waits=1, max_thinking_tokens="auto"))
    assert real["args"]["n"] == 0  # all problems
    assert eval_plan("tiny")["base"] == dict(max_answer_tokens=16)
    for bad, flag in [(dict(n=-1), "--n: -1 is not a count"), (dict(majority=-2), "--majority: -2"),
                      (dict(benchmarks="aime24,aime24"), "--benchmarks: 'aime24' is listed twice"),
                      (dict(budgets="8,8"), "--budgets: 8 is listed twice"),
                      (dict(budgets=[-5]), "--budgets: -5 is not a positive budget")]:
        with pytest.raises(ValueError, match=flag.replace("(", r"\(")):
            eval_plan("tiny", **bad)


def test_model_identity_follows_the_weights():
    from pathlib import Path
    import torch
    from s1_nb.core import load_model, resolve_model
    assert model_identity("no-such-org/no-such-model") == "no-such-org/no-such-model"  # offline, not cached: the id
    assert model_identity("tiny").rpartition("@")[0] == str(Path(resolve_model("tiny")).resolve())
    m, _ = load_model("tiny")
    before = model_identity(m)
    with torch.no_grad(): m.lm_head.weight.add_(1.0)  # other weights: another identity
    assert model_identity(m) != before


def test_point_labels_are_words_and_do_not_collide():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    assert [_setting_words("wait", [0]), _setting_words("wait", [1]), _setting_words("wait", [4])] == ["no Wait", "1 Wait", "4 Waits"]
    assert [_setting_words("majority", [4]), _setting_words("budget", [8, 16, 128]), _setting_words("exact", [16, 8])] == \
        ["vote of 4", "8-128", "8, 16"]
    assert _setting_labels("budget", [(7.1, 25, 8), (7.2, 25, 16), (7.1, 25.5, 32)]) is None  # one spot: the legend says so
    assert _setting_labels("wait", [(7, 20, 0), (28, 51, 1)]) == [(7.0, 20.0, "no Wait", True), (28.0, 51.0, "1 Wait", True)]
    fig, ax = plt.subplots(); ax.plot([7, 28], [20, 51], "s-"); ax.plot([7.5, 30], [20, 50], "v-")
    _place_labels(ax, _setting_labels("wait", [(7, 20, 0), (28, 51, 1)]) + _setting_labels("exact", [(7.5, 20, 8), (30, 50, 32)]))
    assert [t.get_text() for t in ax.texts] == ["no Wait", "1 Wait", "8", "32"]
    plt.close(fig)
