"""Precise decontamination on the real benchmark files: every copy caught, few other hits (needs ../shared)."""
import re

import numpy as np
import pandas as pd
import pytest

from s1_nb.curation import benchmark_index, decontaminate, load_benchmarks

STEMS = ["A bag holds {a} red and {b} blue marbles, and three marbles are drawn at random without replacement.",
         "Two circles of radii {a} and {b} are externally tangent, and a line tangent to both is drawn.",
         "Let $S$ be the set of ordered triples $(x,y,z)$ of integers with $1 \\le x,y,z \\le {a}$ and $x+y+z={b}$.",
         "A frog starts at $0$ on the number line and jumps one unit left or right with equal probability, {a} times.",
         "In trapezoid $PQRS$ the parallel sides have lengths {a} and {b}, and the two legs are equal.",
         "A fair coin is tossed {a} times and the longest run of heads has length at least {b}.",
         "Points $A$ and $B$ lie on a circle of radius {a}, and chord $AB$ has length {b}.",
         "A committee of {a} people is chosen at random from {b} women and {b} men.",
         "Each vertex of a regular {a}-gon is colored red or blue, each color with probability one half.",
         "The real numbers $x$ and $y$ satisfy $x^2+y^2={a}$ and $xy={b}$."]
FORMAT = re.compile(r"(?:\$[^$]+\$|\\\([^)]*\\\)),?\s*where\s.*(?:relatively prime|square of any prime).*", re.S)  # "$\frac mn$, where ..."


def answer_formats(questions):
    "AIME's answer-format clauses ('... where $m$ and $n$ are relatively prime positive integers. Find $m+n$.')."
    out = []
    for q in questions:
        m = FORMAT.search(q)
        if m and len(m.group(0).split()) < 40: out.append(m.group(0).strip())
    return out


def edits(q, rng):
    "A benchmark question, verbatim and with light edits."
    out = {"verbatim": q, "respaced": "  " + q.upper().replace(" ", "  "),
           "appended": q + " Express your answer in simplest form.", "prefixed": "Problem 4. Solve the following. " + q}
    nums = list(re.finditer(r"\d+", q))
    if nums:
        m = nums[rng.integers(len(nums))]
        out["one number"] = q[:m.start()] + str(int(m.group()) + 1) + q[m.end():]
    ws = q.split()
    i = int(rng.integers(len(ws)))
    out["one word"] = " ".join(ws[:i] + ["quantity"] + ws[i + 1:])
    return out


def eval_set(b, against=("aime24", "math500"), other="aime25", n_items=10, seed=0):
    "Copies of `against` questions (True), and non-copies (False): `other`'s questions, new stems + `against[0]`'s answer formats."
    rng = np.random.default_rng(seed)
    rows = []
    for name in against:
        long = [i for i, q in enumerate(b[name]) if len(q.split()) >= 12]
        for i in rng.choice(long, n_items, replace=False):
            rows += [(True, f"{name}#{i}", kind, q) for kind, q in edits(b[name][i], rng).items()]
    rows += [(False, f"{other}#{i}", "other benchmark", q) for i, q in enumerate(b[other])]
    tails = answer_formats(b[against[0]])
    for j, tail in enumerate(tails):
        for k, stem in enumerate(STEMS):
            rows.append((False, f"tail{j}", "new stem + AIME answer format",
                         stem.format(a=int(rng.integers(3, 30)), b=int(rng.integers(3, 30))) + " The answer is " + tail))
    return pd.DataFrame(rows, columns=["is_copy", "source", "kind", "question"])


@pytest.fixture(scope="module")
def real(shared_dir):
    return load_benchmarks(("aime24", "aime25", "math500"), shared_dir=shared_dir, hub=False)


@pytest.mark.shared
def test_the_eval_set_is_what_it_claims(real):
    tails = answer_formats(real["aime24"])
    assert len(tails) >= 8 and all(("relatively prime" in t or "square of any prime" in t) and len(t.split()) < 40 for t in tails)
    df = eval_set(real)
    assert df.is_copy.sum() >= 100 and (~df.is_copy).sum() >= df.is_copy.sum()  # more non-copies than copies
    idx = benchmark_index({k: real[k] for k in ("aime24", "math500")})
    lit = decontaminate(df, idx, "s1")  # the literal rule flags the tails: they really share 8-grams
    assert df.index[~df.is_copy & (df.kind != "other benchmark")].isin(lit.index).mean() > 0.9


@pytest.mark.shared
@pytest.mark.parametrize("against,other", [(("aime24", "math500"), "aime25"), (("aime25", "math500"), "aime24")])
def test_precise_catches_every_copy_and_few_others(real, against, other):
    df = eval_set(real, against, other)
    idx = benchmark_index({k: real[k] for k in against})
    pre = decontaminate(df, idx, "precise")
    hit = df.index.isin(pre.index)
    copies, others = int((hit & df.is_copy).sum()), int((hit & ~df.is_copy).sum())
    missed = df[df.is_copy & ~hit]
    print(f"{against}: {copies} of {int(df.is_copy.sum())} copies caught, {others} other hits of {int((~df.is_copy).sum())}")
    assert missed.empty, missed[["source", "kind"]].to_string()
    assert others <= copies / 2, df[~df.is_copy & hit][["source", "kind"]].value_counts().head().to_string()
    for r in pre.index[df.is_copy[pre.index]]:  # each reason names the copied question
        assert df.source[r] in pre[r] or "normalization" in pre[r], (pre[r], df.source[r])


@pytest.mark.shared
def test_precise_is_strict_about_realistic_non_copies(real):
    "MATH500 against AIME 2024/25 shares only answer formats: precise drops nothing, the literal rule two."
    idx = benchmark_index({k: real[k] for k in ("aime24", "aime25")})
    df = pd.DataFrame({"question": real["math500"]})
    assert decontaminate(df, idx, "precise").empty and len(decontaminate(df, idx, "s1")) == 2


@pytest.mark.shared
@pytest.mark.parametrize("seed", [1, 2])
def test_precise_with_few_copies_among_many_look_alikes(real, seed):
    "As in a real pool: a few copies, many questions that only share AIME's answer formats."
    df = eval_set(real, n_items=2, seed=seed)
    idx = benchmark_index({k: real[k] for k in ("aime24", "math500")})
    hit = df.index.isin(decontaminate(df, idx, "precise").index)
    copies, others = int((hit & df.is_copy).sum()), int((hit & ~df.is_copy).sum())
    assert copies == df.is_copy.sum() >= 20 and others <= copies / 2, (copies, others)
