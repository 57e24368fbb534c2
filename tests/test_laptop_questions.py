"""What people type into the laptop model: normalization, refusals, and the words the old model miscounted."""
import random

import pytest
from fastcore.test import test_fail as fails

from s1_nb.laptop import (DEFAULT_TASK, MAX_COUNT, _RESERVED_WORDS, TYPED_WORDS, check_line, _has_repeated_pair,
                          laptop_question, laptop_question_problem, laptop_tokenizer, letter_count_pool,
                          letter_problems, normalize_laptop_question, _pass_lines, task_word, _word_groups)


@pytest.mark.parametrize("typed, trained", [
    ("How many S in Mississippi?", "How many s in mississippi?"),
    ("how many r's in strawberry", "How many r in strawberry?"),
    ("How many e in 'excellence'?", "How many e in excellence?"),
    ("HOW MANY N IN BANANA?", "How many n in banana?"),
    ("  How many o in the word Bookkeeper's?  ", "How many o in bookkeeper?"),
    ("How many r in raspberry?", "How many r in raspberry?"),
])
def test_typed_questions_are_brought_into_the_trained_form(typed, trained):
    assert normalize_laptop_question(typed) == trained
    assert laptop_question_problem(typed) is None
    assert laptop_question(typed) == trained


@pytest.mark.parametrize("question, says", [
    ("", "type a question of the form"),
    ("   ", "type a question of the form"),
    ("What is 2+2?", "only answers 'How many <letter> in <word>?'"),
    ("How many 7 in 1777?", "'7' is not one letter a-z"),
    ("How many r in ice cream?", "'ice cream' is not one word of letters a-z"),
    ("How many e in café?", "is not one word of letters a-z"),
    ("How many a in ab?", "'ab' has 2 letters"),
    ("How many i in supercalifragilisticexpialidocious?", "has 34 letters"),
    ("How many a in aaaaaaaa?", f"more than {MAX_COUNT} 'a'"),
    ("How many n in think?", "a word of the chat format"),
])
def test_questions_outside_the_training_get_a_message_not_a_trace(question, says):
    why = laptop_question_problem(question)
    assert why is not None and says in why, why
    fails(lambda: laptop_question(question), contains=says)


def test_words_cover_repeats_lengths_and_counts():
    rng = random.Random(1)
    words = [(k, task_word(rng, "e", k)) for k in range(MAX_COUNT + 1) for _ in range(200)]
    assert all(w.count("e") == k and 3 <= len(w) <= 20 for k, w in words)
    assert {len(w) for _, w in words} == set(range(3, 21))
    share = sum(_has_repeated_pair(w) for _, w in words) / len(words)
    assert 0.3 < share < 0.8, share  # both groups are well represented
    pool = letter_count_pool(2000, seed=4)
    counts = {int(r["answer"]) for r in pool}
    assert counts == set(range(MAX_COUNT + 1))


def test_passes_read_two_more_hits_each_and_the_typed_words_count_right():
    assert _pass_lines("mississippi", "s", 3) == ["Wait, mis1s2... So 2.", "Wait, mis1s2is3s4... So 4.",
                                                "Wait, mis1s2is3s4ippi. So 4."]
    assert check_line("banana", "n") == "Wait, ban1an2a. So 2."
    assert check_line("excellence", "e") == "Wait, e1xce2lle3nce4. So 4."
    for c, w in TYPED_WORDS:
        assert check_line(w, c).endswith(f"So {w.count(c)}.")
        assert laptop_question_problem(f"How many {c} in {w}?") is None


def test_role_words_stay_letters_inside_longer_words():
    tok = laptop_tokenizer()
    for word in ("thinking", "username", "answers", "systems"):
        ids = tok(word, add_special_tokens=False)["input_ids"]
        assert len(ids) == len(word), word
    for word in _RESERVED_WORDS:
        assert len(tok(word, add_special_tokens=False)["input_ids"]) == 1


def test_first_model_words_are_its_distribution():
    from s1_nb.laptop import _first_model_problems
    ps = _first_model_problems(100)
    assert all(5 <= len(p["word"]) <= 16 and int(p["answer"]) <= 3 and not _has_repeated_pair(p["word"]) for p in ps)
    assert {int(p["answer"]) for p in ps} == {0, 1, 2, 3}


def test_held_out_groups():
    ps = letter_problems(200)
    assert len({p["problem"] for p in ps}) > 190
    assert _word_groups("banana", "a") == ["repeated pair"]
    assert _word_groups("mississippi", "s") == ["repeated pair", "4-6 hits"]
    assert _word_groups("abcdefghijklmnopq", "z") == ["no repeated pair", "16-20 letters"]
    seen = {g for p in ps for g in p["groups"]}
    assert seen == {"no repeated pair", "repeated pair", "4-6 hits", "16-20 letters"}
    assert DEFAULT_TASK["min_len"] == 3 and DEFAULT_TASK["max_len"] == 20


def test_group_accuracy_on_typed_words_alone_skips_the_empty_group():
    from s1_nb.core import load_model
    from s1_nb.core import laptop_folder
    from s1_nb.laptop import group_accuracy, typed_problems
    model, tok = load_model(laptop_folder("base"))
    rows = group_accuracy(model, tok, typed_problems()[:4], waits=(0,))
    assert [r["group"] for r in rows] == ["typed words"] and rows[0]["n"] == 4
