"""Measured numbers in the learner chapters' prose (index, 00-09) are those of the committed files they come from:
s1_nb/assets/laptop-s1/{results,paper}.json, benchmarks/results/*.json, the shipped checkpoint, and the committed
output of the chapter cell that measures the number as it runs. Each phrase is rebuilt from that source and must
appear in the chapter's markdown; a claim made in words ("half", "far more", "nothing") is checked against the
numbers it reads. A rerun that changes a number fails here until the prose says the new one.
(Chapters 02, 04, 06, 07 and the front page also have phrases checked in tests/test_book.py.)"""
import ast
import json
import re
from statistics import mean

import pytest

from conftest import REPO
from test_book import DEMO, GROUPS, PAPER, RESULTS, SEEDS, _fmt, _markdown, _over_seeds
from test_numbers_prose import DECONTAMINATION, VLLM, _checkpoint_parameters, _flat, _outputs, _point

_WORDS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six"}


def _text(nb: str) -> str:
    "A chapter's markdown, line breaks read as spaces."
    return _flat(_markdown(nb))


def _says(nb: str, *phrases: str) -> None:
    text = _text(nb)
    missing = [p for p in phrases if p not in text]
    assert not missing, f"{nb} should say (from its committed source): {missing}"


def _html(nb: str, source_has: str) -> str:
    "The committed HTML output of the one code cell of `nb` whose source contains `source_has`."
    cells = [c for c in json.loads((REPO / "nbs" / nb).read_text())["cells"]
             if c["cell_type"] == "code" and source_has in "".join(c["source"])]
    assert len(cells) == 1, f"{nb}: {len(cells)} code cells contain {source_has!r}"
    return "".join("".join(o.get("data", {}).get("text/html", "")) for o in cells[0].get("outputs", []))


def _answers(out: str) -> list:
    "The 'Final Answer: N' counts of a committed trace output, in order."
    return [int(a) for a in re.findall(r"Final Answer:\]*\s*(\d+)", out)]


# --- The laptop model's size and cost, quoted in several chapters ---

def _k_parameters() -> str:
    "The shipped laptop model's parameter count as the chapters write it, to the nearest 10K: '270K'."
    return f"{round(_checkpoint_parameters(), -4) // 1000}K"


@pytest.mark.parametrize("nb", ["00_core.ipynb", "02_sft.ipynb", "03_budget_forcing.ipynb", "06_laptop_s1.ipynb"])
def test_chapters_quote_the_shipped_model_size(nb):
    "Every 'NK-parameter' / 'N K parameters' of the laptop model is the shipped checkpoint's count."
    quoted = re.findall(r"(\d+K)(?:-parameter| parameters)", _text(nb))
    assert quoted and set(quoted) == {_k_parameters()}, f"{nb} quotes {quoted}; the checkpoint has {_k_parameters()}"


def _cpu_minutes() -> int:
    "Mean training CPU time per committed seed, in whole minutes."
    return round(mean(h["train_cpu_seconds"] for h in SEEDS.values()) / 60)


def test_chapter06_and_09_quote_the_committed_training_time():
    _says("06_laptop_s1.ipynb", f"`train = True` retrains from scratch (about {_cpu_minutes()} CPU-minutes per seed on one thread)")
    _says("09_solutions.ipynb", f"run `train_laptop(\"runs/laptop-hits3\", seed=0)` (about {_cpu_minutes()} CPU-minutes)")


# --- 00 and 02: the memory planner's arithmetic on the model table ---

def test_planner_figures_are_the_model_table():
    from s1_nb.sft import GB, QWEN25_SHAPES
    p32, p7 = QWEN25_SHAPES["Qwen2.5-32B"].params, QWEN25_SHAPES["Qwen2.5-7B"].params
    _says("02_sft.ipynb", f"Qwen2.5-32B's training state is {16 * p32 / GB:.0f} GB: no single 80 GB GPU holds it; over 16 "
                          f"GPUs it is {p32 / GB:.0f} GB each. Qwen2.5-7B needs {16 * p7 / GB:.0f} GB full, but LoRA only "
                          f"its {2 * p7 / GB:.0f} GB of bf16 weights.")
    _says("00_core.ipynb", f"`load_model` loads 32B parameters (≈{2 * p32 / GB:.0f} GB in bf16)")


# --- 01: curation of the laptop pool ---

def test_chapter01_funnel_and_counts_are_its_output():
    funnel = _outputs("01_curation.ipynb", "laptop_s1k, laptop_funnel = curate(")
    quality = re.findall(r"quality: [\w ]+?\s+(\d+)\s+(\d+)", funnel)
    assert len(quality) == 2 and all(int(d) == 0 for _, d in quality), quality  # "The quality stages drop nothing"
    _says("01_curation.ipynb", "The quality stages drop nothing")
    counts = {int(c): int(p) for c, p in re.findall(r"^(\d)\s+(\d+)\s+\d+\s+\d+\s*$",
                                                    _outputs("01_curation.ipynb", "laptop_counts = _laptop_views("), re.M)}
    easy = round(100 * (counts[0] + counts[1]) / sum(counts.values()))
    _says("01_curation.ipynb", f"In the pool {easy}% of the questions have 0 or 1 hit")


def test_chapter01_literal_rule_on_real_data_is_its_output():
    out = _outputs("01_curation.ipynb", "real_matches = _contamination_matches(")
    rows = {int(r) for r in re.findall(r"^(\d+)\s{2}", out, re.M)}
    _says("01_curation.ipynb", f"yet the rule drops {_WORDS[len(rows)]}, each for a phrase AIME repeats")


def test_chapter01_longest_question_drawn_about_half_the_time():
    out = _outputs("01_curation.ipynb", "firsts = Counter(")
    firsts = ast.literal_eval(out.split("first draw, by row:")[1].strip())
    share = firsts[7] / sum(firsts[r] for r in range(8))  # rows 0-7: one domain of 8, row 7 the longest
    assert round(share, 1) == 0.5, share
    _says("01_curation.ipynb", "in a domain of 8 questions the longest is drawn about half the time")


def test_chapter01_decontamination_copies_are_the_benchmark():
    _says("01_curation.ipynb", f"how both modes fare on {DECONTAMINATION['planted_copies']} planted copies")


# --- 02: the s1 stage before and after ---

def test_chapter02_before_and_after_is_its_output():
    out = _outputs("02_sft.ipynb", "before_after = pd.DataFrame(")
    (acc0, tok0), (acc1, tok1) = [(float(a), float(t)) for a, t in
                                  re.findall(r"(?:base \(before\)|after the s1 stage)\s+([\d.]+)\s+([\d.]+)", out)]
    assert tok1 >= 3 * tok0 and acc1 - acc0 >= 30, (acc0, tok0, acc1, tok1)
    assert tok0 < 10  # the base model's thinking is its quick guess
    _says("02_sft.ipynb", "thinks many times longer and is right far more often, with no forcing",
          "The base model mostly stops after its quick guess")


def test_chapter02_tiny_runs_fall_below_half_their_loss():
    full = [float(x) for x in re.search(r"^loss\s+(.+)$", _outputs("02_sft.ipynb", "path_full = train_sft("), re.M)
            .group(1).split()]
    lora = [float(x) for x in re.search(r"LoRA loss ([\d.]+) -> ([\d.]+)", _outputs("02_sft.ipynb", "path_lora = train_sft("))
            .groups()]
    assert full[-1] < full[0] / 2 and lora[-1] < lora[0] / 2, (full, lora)
    _says("02_sft.ipynb", "Both fall well below half their starting loss")


# --- 03: the raspberry story ---

def test_chapter03_opening_story_is_its_output():
    plain = _answers(_outputs("03_budget_forcing.ipynb", "plain = generate(prompt, model, tok)[0]"))
    waited = _answers(_outputs("03_budget_forcing.ipynb", "waited = generate(prompt, model, tok, num_waits=1)[0]"))
    assert len(plain) == len(waited) == 1
    _says("03_budget_forcing.ipynb",
          f"the laptop model guesses {plain[0]}. Forced to write \"Wait\" where it tried to stop, it counts again and answers {waited[0]}.",
          f"counts again: {waited[0]}, not yet 3")  # raspberry has 3 r's


# --- 04: forcing costs what plain decoding does ---

def test_chapter04_cost_claims_hold_in_the_results():
    rows = {(r["batch"], r["temperature"]): r["forced_over_plain"] for r in VLLM["rows"]}
    assert all(0.85 <= v <= 1.15 for v in rows.values()), rows  # "about what plain decoding does"
    below = [k for k, v in rows.items() if round(v, 2) < VLLM["goal_forced_over_plain"]]
    assert below == [(64, 0.0)], below  # "the batch-64 greedy row" is the one under the target
    _says("04_vllm_forcing.ipynb", f"| forced / plain (target ≥ {VLLM['goal_forced_over_plain']:.2f}) |",
          "Forcing costs about what plain decoding does; the batch-64 greedy row is the shared machine's noise.")


# --- 05: the opening sweep and the grader's proof ---

def _table_rows(out: str, settings) -> dict:
    "setting -> (accuracy, thinking tokens) from a committed sweep table."
    found = {}
    for s in settings:
        m = re.search(rf"^\s*\d+\s+{re.escape(s)}\s+\d+\s+([\d.]+)\s+([\d.]+)", out, re.M)
        assert m, f"no {s!r} row in the committed sweep"
        found[s] = (float(m.group(1)), float(m.group(2)))
    return found


def test_chapter05_cutoffs_change_nothing_in_its_output():
    sweep = _outputs("05_evaluation.ipynb", "lap_results = run_sweep(")
    rows = _table_rows(sweep, ["wait=0", "budget=8-128 (10 settings, one score)"])
    (acc0, tok0), (acc_cut, _) = rows.values()
    assert acc_cut == acc0 and tok0 < 8, rows  # the model stops before the smallest cut-off (8 tokens)
    budget = re.search(r"letters\s+budget\s+\d+\s+\d+\s+([\d.]+)\s+([\d.]+)",
                       _outputs("05_evaluation.ipynb", "lap_metrics = pd.DataFrame(method_metrics(lap_results"))
    assert float(budget.group(2)) == 0.0, budget.group(0)  # Scaling 0: the cut-offs change nothing
    _says("05_evaluation.ipynb", "The budget cut-offs change nothing: the model stops on its own (`wait=0`) before most cut-offs.")


def test_chapter05_neighbour_answers_are_its_output():
    out = _outputs("05_evaluation.ipynb", "wrong = {name: _wrong_check(ps)")
    checks = {line.split(" ", 1)[0]: ast.literal_eval(line.split(" ", 1)[1]) for line in out.strip().splitlines()}
    assert all(r["absurd_accepted"] == 0 for r in checks.values()), checks
    accepted = checks["math500"]["neighbour_accepted"]
    assert len(accepted) == 1 and not any(r["neighbour_accepted"] for k, r in checks.items() if k != "math500")
    (gold, answer), = accepted
    _says("05_evaluation.ipynb", "No absurd answer is accepted.",
          f"Among the MATH500 neighbour pairs, math-verify accepts {_WORDS[len(accepted)]}: gold `{gold}`, answer `{answer}`.")


# --- 06: the laptop model ---

def test_chapter06_mississippi_traces_are_its_output():
    out = _outputs("06_laptop_s1.ipynb", 'question = "How many s in mississippi?"')
    a0, a1, a2 = _answers(out)
    _says("06_laptop_s1.ipynb",
          f"one Wait buys a pass that stops at {_WORDS[a1]} hits, two Waits read on to {_WORDS[a2]}",
          f"\"How many s in mississippi?\" is {a1} after one Wait and {a2} after two.")
    assert "mis1s2is3s4" in out
    _says("06_laptop_s1.ipynb", "`mis1s2is3s4` is not how mississippi is spelled")


def test_chapter06_s1_stage_claims_hold_in_its_output():
    out = _outputs("06_laptop_s1.ipynb", "stage_rows = []")
    (b0, b1, bt), (s0, s1, st) = [tuple(map(float, m)) for m in
                                  re.findall(r"^\s*\d+\s+(?:base|s1)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s*$", out, re.M)]
    assert st > bt and s1 - s0 < b1 - b0, (b0, b1, bt, s0, s1, st)
    _says("06_laptop_s1.ipynb", "The s1 stage makes the model think longer by itself, so less is left for a forced Wait")


def test_chapter06_seed_claims_hold_in_the_results():
    assert all(h["control"] == 100 for h in SEEDS.values())
    rises = sorted({h["budget_rises"] for h in SEEDS.values()})
    span = lambda k: max(h[k] for h in SEEDS.values()) - min(h[k] for h in SEEDS.values())
    assert span("wait4") > max(span("wait1"), span("wait2")), [span(k) for k in ("wait1", "wait2", "wait4")]
    _says("06_laptop_s1.ipynb", f"{' or '.join(map(str, rises))} rises of the exact-budget curve; Control 100%.",
          "The spread is small where the task is mechanical and larger at Wait ×4")


def test_chapter06_first_model_words_and_costs_are_the_results():
    evals = [h["eval_seconds"] for h in SEEDS.values()]
    n_demo = int(re.search(r"(\d+) questions", DEMO["what"]).group(1))
    first_one_wait = _fmt(GROUPS["first model's words"]["wait=1"])
    _says("06_laptop_s1.ipynb",
          f"on the first model's words one Wait gives {first_one_wait}%",
          f"# shipped checkpoint, {n_demo} questions, about {round(DEMO['cpu_seconds'], -1):g} s of CPU time",
          f"then sweeps its {RESULTS['n_eval']} questions in {round(min(evals))}-{round(max(evals))} s")


# --- 07: claims in words about the paper's runs ---

def _sel(how: str, key: str, seed: str | None = None) -> float:
    seeds = [seed] if seed else list(PAPER["seeds"])
    return mean(PAPER["seeds"][s]["selections"][how][key] for s in seeds)


def test_chapter07_selection_claims_hold_in_the_results():
    assert round(1 - _sel("full", "thinks"), 1) == 0.5  # "about half the pool's traces stop after the quick guess"
    assert round(1 - _sel("random", "thinks", "0"), 1) == round(1 - _sel("diverse", "thinks", "0"), 1) == 0.5
    assert _sel("longest", "thinks", "0") == 1.0 and _sel("longest", "right", "0") > 0.5
    assert _sel("s1k", "hard", "0") == 1.0 and _sel("s1k", "right", "0") < 1.0
    _says("07_paper_in_miniature.ipynb", "about half the pool's traces stop after the quick guess",
          "Random and diversity-only selections look like the pool: half their traces stop after the quick guess. The "
          "longest traces all count, and most end on the right count. s1K is all hard questions, but keeps some traces "
          "that stopped early with a wrong count.")


def _gap() -> float:
    "Table 2: s1K over the better of random and diversity-only, without forcing (mean over seeds)."
    nf = lambda d: float(_over_seeds("table2", "data", d, "no_forcing"))
    return nf("s1k") - max(nf("random"), nf("diverse"))


def test_chapter07_table2_claims_hold_in_the_results():
    steps = [s["train_steps"] for s in PAPER["seeds"].values()]
    assert min(t["full"] / t["s1k"] for t in steps) >= 3  # "at many times the steps"
    passing = mean(s["selections"]["full"]["rows"] * s["selections"]["full"]["hard"] for s in PAPER["seeds"].values())
    assert 1000 < passing < 10_000, passing  # "the few thousand that pass the difficulty filter"
    _says("07_paper_in_miniature.ipynb",
          f"s1K beats random and diversity-only selection by about {round(_gap(), -1):.0f} points without forcing",
          "at many times the steps", "from the few thousand that pass the difficulty filter")
    _says("09_solutions.ipynb", f"Table 2's gap without forcing (about {round(_gap(), -1):.0f} points)")


def test_chapter07_table3_claims_hold_in_the_results():
    control = lambda m: _over_seeds("table3", "method", m, "control")
    assert control("bf") == control("tcc+bf") == control("scc+bf") == "100"  # "alone or on top of a conditional prompt"
    assert _point("scc", 4, "thinking_tokens") > _point("scc", 4, "budget")  # "it overruns a little at 4 steps"
    assert _point("scc", 8, "thinking_tokens") < _point("scc", 8, "budget")  # "and stops early at 8"
    tightest = min(p["value"] for p in PAPER["seeds"]["0"]["table3_points"] if p["method"] == "rs")
    assert _point("rs", tightest, "samples") > 2 * float(_over_seeds("table3", "method", "rs", "samples"))
    assert _point("rs", tightest, "gave_up") > 0
    _says("07_paper_in_miniature.ipynb", f"prompt: Control {control('bf')}%, Scaling",
          f"**Class-conditional control works here** (Control {control('ccc')}%; paper 50%)",
          "it overruns a little at 4 steps and stops early at 8",
          "far more at the tightest budget, where many questions never fit")


def test_chapter07_votes_stall_in_the_results():
    "'The votes stall: each sample is mostly a quick guess': votes gain little past two, a sample thinks less than a pass."
    fig4 = lambda method, value, key="accuracy": mean(r[key] for s in PAPER["seeds"].values() for r in s["fig4"]
                                                     if (r["model"], r["method"], r["value"]) == ("base", method, value))
    votes = sorted({r["value"] for r in PAPER["seeds"]["0"]["fig4"] if r["method"] == "majority"})
    assert max(fig4("majority", v) for v in votes) - fig4("majority", 2) <= 10, [fig4("majority", v) for v in votes]
    assert fig4("wait", 4) - fig4("wait", 1) > 30
    assert fig4("majority", 1, "thinking_tokens") < fig4("wait", 1, "thinking_tokens")  # one sample: less than one pass
    _says("07_paper_in_miniature.ipynb", "The votes stall: each sample is mostly a quick guess")


# --- 08: the workshop ---

def test_chapter08_model_size_and_opening_picture():
    mb = round((REPO / "s1_nb/assets/laptop-s1/base/model.safetensors").stat().st_size / 2**20)
    _says("08_workshop.ipynb", f"(about {mb} MB)")
    html = _html("08_workshop.ipynb", 'demo = inference_prompt("How many r in raspberry?"')
    answers = [int(a) for a in re.findall(r"answer: <b>(\d+)</b>", html)]
    assert answers[0] != 3 and answers[1] == 3, answers  # raspberry has 3 r's: the guess is wrong, two Waits right
    _says("08_workshop.ipynb", "The quick guess is wrong; two forced Waits count the letters.")


# --- 09: the answers' claims against their printouts ---

def test_chapter09_curation_answers_are_their_output():
    out = _outputs("09_solutions.ipynb", "runs = {s: curate(pool, n=n_select")
    chance, seeds = map(int, re.search(r"would share (\d+) on average \(the seeds above share (\d+)\)", out).groups())
    assert seeds >= 3 * chance, (seeds, chance)
    _says("09_solutions.ipynb", "The rest overlap far more than chance would make them")


def test_chapter09_random_selection_is_the_results():
    random0 = PAPER["seeds"]["0"]["selections"]["random"]  # the printout's row: seed 0's pool
    assert round(1 - random0["thinks"], 1) == 0.5
    _says("09_solutions.ipynb", f"where {round(100 * (1 - random0['hard']))}% of the questions are easy (0 or 1 hit) "
                                "and half the traces stop after the quick guess")


def test_chapter09_lora_targets_answer_is_its_output():
    out = _outputs("09_solutions.ipynb", 'for name, targets in (("all-linear"')
    runs = {n: (int(p.replace(",", "")), float(a), float(b)) for n, p, a, b in
            re.findall(r"^(all-linear|attention only): ([\d,]+) trainable parameters, loss ([\d.]+) -> ([\d.]+)", out, re.M)}
    assert runs["attention only"][0] < runs["all-linear"][0] and runs["attention only"][2] > runs["all-linear"][2], runs
    _says("09_solutions.ipynb", "Fewer trainable parameters", "the loss falls more slowly than with all linear layers")


def test_chapter09_forced_end_length_is_qwen_tokenizer():
    from s1_nb.core import FORCED_END, WAIT, data_path, load_tokenizer
    tok = load_tokenizer(str(data_path("qwen2.5-tokenizer")))
    n_end = len(tok(FORCED_END, add_special_tokens=False)["input_ids"])
    n_wait = len(tok(WAIT, add_special_tokens=False)["input_ids"])
    assert 6 <= n_end <= 10 and 1 <= n_wait <= 4, (n_end, n_wait)
    _says("09_solutions.ipynb", "the forced end is 6-10 tokens with Qwen", 'cheap for a 1-4 token "Wait"')


def test_chapter09_per_sample_control_answer_is_its_output():
    avg = float(re.search(r"Wait x2: average ([\d.]+) tokens", _outputs("09_solutions.ipynb", "w2 = generate(")).group(1))
    assert avg < 64, avg
    _says("09_solutions.ipynb", "Wait ×2 on the laptop model has an average below 64 tokens")


def test_chapter09_smol_pass_length_is_its_output():
    out = _outputs("09_solutions.ipynb", "thinking tokens at the end of the guess and of each pass")
    ends = ast.literal_eval(out.split("(347+85):")[1].strip())
    per_pass = mean(b - a for a, b in zip(ends, ends[1:]))
    _says("09_solutions.ipynb", f"a pass is about {round(per_pass, -1):.0f} tokens, so the steps sit about "
                                f"{_WORDS[round(per_pass / 8)]} budgets apart")


def test_chapter09_better_guess_answer_is_its_output():
    out = _outputs("09_solutions.ipynb", "probs06b = addition_problems(200)")
    need = {int(w): (int(a), int(b)) for w, a, b in re.findall(r"^(\d)\s+(\d+)\s+(\d+)\s*$", out, re.M)}
    assert need[1][1] == 0 and need[2][0] == need[2][1] and need[3][0] == need[3][1], need
    _says("09_solutions.ipynb", "Wait ×1 then gains nothing", "Waits 2 and 3 gain what they gained before")


def test_chapter09_good_pool_selections_are_its_output():
    out = _outputs("09_solutions.ipynb", "good_pool = pd.DataFrame(letter_count_pool(")
    stats = {h: tuple(map(float, r)) for h, *r in
             re.findall(r"^(random|s1k)\s+[\d.]+\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+[\d.]+\s*$", out, re.M)}
    assert all(thinks == 1.0 and right >= 0.9 for _, thinks, right in stats.values()), stats
    assert stats["random"][0] < 1.0 == stats["s1k"][0], stats
    _says("09_solutions.ipynb", "every trace of both counts and nearly all end on the right count, and random keeps "
                                "the easy counts s1K never shows")
