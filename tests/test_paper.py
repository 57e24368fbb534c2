"""The paper in miniature (chapter 07, `s1_nb.paper`): a small run of every argument has every row, with Control
computed; the committed results have three seeds of each; bad arguments get one line."""
import json
import math

import pytest

from s1_nb import paper
from s1_nb.laptop import laptop_tokenizer, letter_count_pool

SMALL = dict(n_eval=4, pool_rows=300, s1_rows=32, epochs=0.5, max_samples=2, progress=False)


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("paper")
    return out, paper.run_paper(str(out), "0", **SMALL)


def _methods(rows): return [r["method"] for r in rows]


def test_small_run_has_every_row(small_run):
    out, res = small_run
    s = res["seeds"]["0"]
    assert [r["data"] for r in s["table2"]] == list(paper.ABLATIONS)
    for r in s["table2"]:
        assert 0 <= r["no_forcing"] <= 100 and 0 <= r["wait1"] <= 100
        assert r["control"] == 100.0  # exact budgets never overrun
    assert _methods(s["table3"]) == ["bf", "tcc", "tcc+bf", "scc", "scc+bf", "ccc", "rs"]
    for r in s["table3"]:
        assert not math.isnan(r["control"]) and 0 <= r["control"] <= 100, r
    for m in ("bf", "tcc+bf", "scc+bf", "rs"):
        assert next(r for r in s["table3"] if r["method"] == m)["control"] == 100.0, m
    points = {(r["method"], str(r["value"])) for r in s["table3_points"]}
    assert {("tcc", str(b)) for b in paper.TABLE3_BUDGETS} <= points
    assert {("scc+bf", str(k)) for k in paper.SCC_STEPS} <= points
    assert {("ccc", "short"), ("ccc", "long")} <= points
    f4 = {(r["model"], r["method"], r["value"]) for r in s["fig4"]}
    assert {("base", "wait", w) for w in (0, 1, 2, 4, 6)} <= f4
    assert {("base", "majority", k) for k in (1, 2, 4, 8, 16)} <= f4
    assert {("s1k", "exact", b) for b in (8, 128)} <= f4
    assert {(r["model"], r["value"]) for r in s["table4"]} == {(m, v) for m in ("base", "s1k")
                                                                for v in ("Wait", "Hmm", "Alternatively", "none")}
    assert s["selections"]["full"]["rows"] > s["selections"]["random"]["rows"] == SMALL["s1_rows"]
    for f in ("results.json", "results.md", "scaling.png"): assert (out / f).stat().st_size > 0
    md = (out / "results.md").read_text()
    assert "| s1k |" in md and "| rs |" in md and "| Hmm |" in md


def test_second_run_reuses_models_and_sweeps(small_run):
    out, res = small_run
    model = out / "seed0" / "ablations" / "random" / "model" / "model.safetensors"
    before = model.stat().st_mtime
    again = paper.run_paper(str(out), "0", **SMALL)
    assert model.stat().st_mtime == before
    assert again["seeds"]["0"]["table2"] == res["seeds"]["0"]["table2"]
    assert again["seeds"]["0"]["table3"][-1]["performance"] == res["seeds"]["0"]["table3"][-1]["performance"]


def test_committed_results_have_three_seeds_of_every_argument():
    res = paper.shipped_paper()
    assert sorted(res["seeds"]) == ["0", "1", "2"] and res["n_eval"] == 200
    for s, r in res["seeds"].items():
        assert [x["data"] for x in r["table2"]] == list(paper.ABLATIONS), s
        assert _methods(r["table3"]) == ["bf", "tcc", "tcc+bf", "scc", "scc+bf", "ccc", "rs"], s
        assert len({(x["model"], x["value"]) for x in r["table4"]}) == 8, s
        assert all(x["n"] == 200 for x in r["fig4"] + r["table4"]), s
    md = paper.paper_markdown(res)
    assert md.count("± ") > 40


def test_selections_follow_their_rule():
    import pandas as pd
    pool = paper.ablation_pool(3, rows=2000)
    kept, dropped = paper.quality_rows(pool)
    assert len(kept) + sum(dropped.values()) == len(pool)  # every dropped row is counted with its reason
    longest = paper.select_rows(pool, "longest", 100, seed=1)
    assert min(r["gemini_length"] for r in longest) >= kept.gemini_length.nlargest(100).min()
    skewed = pool.assign(domain=["a" if i < len(pool) // 2 else d for i, d in enumerate(pool.domain)])
    diverse = pd.Series([r["domain"] for r in paper.select_rows(skewed, "diverse", 260, seed=1)])
    randomly = pd.Series([r["domain"] for r in paper.select_rows(skewed, "random", 260, seed=1)])
    assert (diverse == "a").sum() < 30 < 100 < (randomly == "a").sum()  # domains drawn uniformly, not rows
    assert diverse.nunique() == 26
    assert paper.select_rows(pool, "random", 50, seed=1) != paper.select_rows(pool, "random", 50, seed=2)
    s1k = paper.select_rows(pool, "s1k", 100, seed=1)
    assert all(json.loads(r["metadata"])["count"] >= 2 for r in s1k)


def test_control_rows_carry_the_true_count():
    tok = laptop_tokenizer()
    rows = paper.select_rows(paper.ablation_pool(0, rows=1000), "s1k", 50)
    tcc, _ = paper.control_rows(rows, "tcc", tok)
    scc, units = paper.control_rows(rows, "scc", tok)
    ccc, cu = paper.control_rows(rows, "ccc", tok)
    for r, t, s, c in zip(rows, tcc, scc, ccc):
        trace = "\n".join(r["thinking_trajectories"])
        steps = trace.count("\n") + 1
        assert t["question"] == f"{r['question']}\n\nThink for up to {paper.thinking_tokens(trace, tok)} tokens."  # s1's template
        assert s["question"].endswith(f"up to {steps} step{'s' if steps > 1 else ''}.")
        assert s["thinking_trajectories"][0].startswith(f"{steps} step")
        assert c["question"].endswith("Think short." if paper.thinking_tokens(trace, tok) <= cu["short_tokens"] else "Think long.")
    assert units["step_tokens"] > 0


@pytest.mark.parametrize("kwargs, message", [
    (dict(seeds="a,b"), "--seeds: 'a,b' is not a comma-separated list"),
    (dict(seeds=""), "needs whole numbers >= 0"),
    (dict(seeds="0", pool_rows=10, s1_rows=20), "pool_rows >= s1_rows"),
    (dict(seeds="0", n_eval=0), "n_eval >= 1"),
])
def test_bad_arguments_get_one_line(tmp_path, kwargs, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        paper.run_paper(str(tmp_path), **kwargs)
    assert not (tmp_path / "results.json").exists()


def test_s1_paper_command_reports_bad_input(tmp_path):
    import subprocess, sys
    r = subprocess.run([sys.executable, "-c", "import sys; from s1_nb.cli import main; sys.exit(main())", "paper",
                        "--seeds", "x", "--out", str(tmp_path)],
                       capture_output=True, text=True)
    assert r.returncode == 2, r.stderr
    assert "--seeds: 'x' is not a comma-separated list" in r.stderr and "Traceback" not in r.stderr
