"""Curation of the laptop model's generated pool (the first result of the curation chapter, and chapter 02's data)."""
import json

import pandas as pd

from s1_nb.curation import curate
from s1_nb.laptop import letter_count_pool

EXTRA = ["domain", "gemini_length", "cut_by_budget", "answer"]


def test_laptop_pool_curates_to_hard_long_rows_with_every_drop_explained():
    raw = pd.DataFrame(letter_count_pool(4000, seed=20_000))
    s1k, funnel = curate(raw, n=300, seed=0, decontamination=None, extra_columns=EXTRA)
    assert len(s1k) == 300 and s1k.column_names[-len(EXTRA):] == EXTRA
    assert len(funnel.drops) + len(s1k) == len(raw)  # every row: selected, or dropped with a reason
    assert funnel.drops.reason.str.len().gt(0).all()
    picked = raw.loc[funnel.selected]
    assert not picked.isqwen7bcorrect.any() and not picked.isqwen32bcorrect.any()
    assert min(int(a) for a in s1k["answer"]) >= 2  # 0 or 1 hit: the quick rule solves it, so it is dropped
    assert [json.loads(m)["count"] for m in s1k["metadata"]] == [int(a) for a in s1k["answer"]]
    assert sum(s1k["gemini_length"]) / len(s1k) > raw.gemini_length.mean()  # the selection thinks longer
    again, again_funnel = curate(raw, n=300, seed=0, decontamination=None, extra_columns=EXTRA)
    assert again_funnel.hash == funnel.hash and again["question"] == s1k["question"]
    other = curate(raw, n=300, seed=1, decontamination=None, extra_columns=EXTRA)[1]
    assert other.hash != funnel.hash
