"""The book as a reader sees it on GitHub: committed outputs free of machinery noise, numbers in prose true to the
committed results files.

`output_noise(path)` takes any notebook path, so an executed scratch copy can be checked before it is committed:
`python -c "from tests.test_book import output_noise; print(output_noise('/tmp/05.out.ipynb'))"`."""
import json
import re
from pathlib import Path

import pytest

from conftest import REPO

CHAPTERS = sorted((REPO / "nbs").glob("*.ipynb"))


def _machine_paths():
    "Folders of this machine that must not show in a reader's output: home, temporary, the checkout, installed packages."
    here = [str(REPO), str(REPO.parent)] if str(REPO.parent) not in ("/", "") else [str(REPO)]
    return re.compile("|".join([r"/root/", r"/home/\w", r"/Users/\w", r"/tmp/", r"/var/folders/", r"\\AppData\\",
                                r"site-packages"] + [re.escape(p.rstrip("/") + "/") for p in here]))


NOISE = [
    ("a log WARNING/INFO line", re.compile(r"(^|\s|\]|\))(WARNING|INFO)( |:)", re.M)),
    ("an ANSI escape", re.compile(r"\x1b\[")),
    ("a machine path", _machine_paths()),
    ("a trainer log dict", re.compile(r"\{'(loss|train_runtime|eval_loss)': ")),
    ("a frozen progress bar", re.compile(r"\d+%\|[^|\n]*\|\s*\d+/\d+ \[")),
]
TQDM_WIDGET = re.compile(r"HBox\(children=\(HTML\(value=|\d+%\|")


def _texts(output):
    "Every text a committed output shows: stream text, error traceback, and each mimetype of a display or result."
    if "text" in output:
        yield "".join(output["text"]) if isinstance(output["text"], list) else output["text"]
    if output.get("output_type") == "error":
        yield "\n".join(output.get("traceback", []))
    for mime, v in output.get("data", {}).items():
        if mime.startswith("image/"): continue
        yield json.dumps(v) if not isinstance(v, (str, list)) else ("".join(v) if isinstance(v, list) else v)


def output_noise(path) -> list:
    "Each committed output of the notebook at `path` that a reader should not see, as 'cell N: what: excerpt'."
    cells = json.loads(Path(path).read_text())["cells"]
    params = [i for i, c in enumerate(cells) if "parameters" in c.get("metadata", {}).get("tags", [])]
    found = []
    for i, c in enumerate(cells):
        if c.get("cell_type") != "code": continue
        for o in c.get("outputs", []):
            d = o.get("data", {})
            if "application/vnd.jupyter.widget-view+json" in d and TQDM_WIDGET.search(str(d.get("text/plain", ""))):
                found.append(f"cell {i}: a frozen progress widget: {str(d.get('text/plain'))[:80]!r}")
                continue
            for text in _texts(o):
                for what, pat in NOISE:
                    m = pat.search(text)
                    if m:
                        found.append(f"cell {i}: {what}: {text[max(0, m.start() - 40):m.end() + 40]!r}")
        # the cell that checks the parameters (right after the parameters cell) shows nothing: no 14-line echo
        if params and i == params[0] + 1 and "check_parameters" in "".join(c["source"]) and c.get("outputs"):
            found.append(f"cell {i}: a parameter echo: end the check_parameters(...) line with ';'")
    return found


@pytest.mark.parametrize("nb", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_committed_outputs_are_clean(nb):
    problems = output_noise(nb)
    assert not problems, (f"{nb.name}: {len(problems)} committed outputs show machinery a reader should not see "
                          "(log lines, colour codes, machine paths, trainer dicts, progress bars):\n"
                          + "\n".join(problems[:15]))


def _nb(cells, *outputs, tags=()):
    "A notebook with one code cell per output list (for checking the checker)."
    return dict(cells=[dict(cell_type="code", source="x", metadata=dict(tags=list(tags)), outputs=list(outs))
                       for outs in (cells, *outputs)], metadata={}, nbformat=4, nbformat_minor=5)


@pytest.mark.parametrize("output, what", [
    (dict(output_type="stream", name="stderr", text=["WARNING 12-07 05:00:01 [config.py:1] chunked prefill\n"]), "log"),
    (dict(output_type="stream", name="stderr", text=["\x1b[0;36m(MainProcess)\x1b[0;0m hello\n"]), "ANSI"),
    (dict(output_type="stream", name="stdout", text=["saved to /tmp/tmpab12cd/run\n"]), "machine path"),
    (dict(output_type="stream", name="stdout", text=[f"cache: {REPO}/_artifacts/x\n"]), "machine path"),
    (dict(output_type="stream", name="stderr", text=["/x/.venv/lib/python3.11/site-packages/vllm/a.py:3: FutureWarning"]),
     "machine path"),
    (dict(output_type="stream", name="stdout", text=["{'loss': '3.715', 'grad_norm': '2.035'}\n"]), "trainer log"),
    (dict(output_type="display_data", data={"application/vnd.jupyter.widget-view+json": {"model_id": "a"},
                                            "text/plain": ["sweep:   0%|          | 0/3 [00:00<?, ?it/s]"]}),
     "progress widget"),
    (dict(output_type="stream", name="stderr", text=["sweep:  40%|####      | 2/5 [00:03<00:04, 1.2s/it]"]), "progress bar"),
])
def test_output_noise_finds_each_kind(tmp_path, output, what):
    p = tmp_path / "x.ipynb"
    p.write_text(json.dumps(_nb([output])))
    found = output_noise(p)
    assert len(found) == 1 and what.split()[0].lower() in found[0].lower(), found


def test_output_noise_passes_a_clean_reader_output(tmp_path):
    clean = [dict(output_type="stream", name="stdout", text=["Quick: 1.\nWait, r1aspber2... So 2.\n"]),
             dict(output_type="stream", name="stdout", text=["wrote 20 rows to run/s1k.parquet (warnings: 0)\n"]),
             dict(output_type="execute_result", data={"text/plain": ["{'accuracy': 0.5}"]}, metadata={}),
             dict(output_type="display_data", data={"application/vnd.jupyter.widget-view+json": {"model_id": "a"},
                                                    "text/plain": ["VBox(children=(IntSlider(value=0),))"]})]
    p = tmp_path / "x.ipynb"
    p.write_text(json.dumps(_nb(clean)))
    assert output_noise(p) == []


def test_output_noise_flags_a_parameter_echo(tmp_path):
    nb = _nb([], [dict(output_type="execute_result", data={"text/plain": ["{'seed': 0,\n 'n': 3}"]}, metadata={})],
             tags=())
    nb["cells"][0]["metadata"]["tags"] = ["parameters"]
    nb["cells"][1]["source"] = "check_parameters(dict(seed=seed, n=n), dict(seed='count', n='positive'))"
    p = tmp_path / "x.ipynb"
    p.write_text(json.dumps(nb))
    assert [f for f in output_noise(p) if "parameter echo" in f]


# --- Numbers in prose: each quoted figure is checked against the committed results file it comes from. ---

RESULTS = json.loads((REPO / "s1_nb/assets/laptop-s1/results.json").read_text())
SEEDS = {h["seed"]: h for h in RESULTS["headlines"]}
SHIPPED = SEEDS[0]  # the package ships seed 0
GROUPS = {g["group"]: g for g in RESULTS["groups"]["0"]}  # the shipped seed's accuracy by question group


def _markdown(nb_name: str) -> str:
    "The markdown of a chapter, cells joined."
    cells = json.loads((REPO / "nbs" / nb_name).read_text())["cells"]
    return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")


def _fmt(v) -> str:
    "A number as the prose writes it: 21.5, 22, 813.5."
    return f"{v:g}"


def _span(key: str, *, digits: int | None = None, sep: str = "-") -> str:
    "min-max over the three seeds of a headline number, as the prose writes it."
    vals = [SEEDS[s][key] for s in sorted(SEEDS)]
    lo, hi = (round(min(vals), digits), round(max(vals), digits)) if digits is not None else (min(vals), max(vals))
    return f"{_fmt(lo)}{sep}{_fmt(hi)}"


def _mean(key: str) -> int:
    "The mean over the seeds of a headline number, rounded as the prose's 'about'."
    return round(sum(SEEDS[s][key] for s in SEEDS) / len(SEEDS))


def _gain(key: str, sep: str = "-") -> str:
    "min-max over the seeds of `key` minus the accuracy without forcing."
    vals = [SEEDS[s][key] - SEEDS[s]["no_forcing"] for s in SEEDS]
    return f"{_fmt(min(vals))}{sep}{_fmt(max(vals))}"


def _table(text: str, header: str) -> list:
    "The rows (lists of cells) of the markdown table whose header line starts with `header`."
    lines = text.splitlines()
    start = next(i for i, l in enumerate(lines) if l.startswith(header))
    rows = []
    for l in lines[start + 2:]:
        if not l.startswith("|"): break
        rows.append([c.strip() for c in l.strip().strip("|").split("|")])
    return rows


README = (REPO / "README.md").read_text()
SFT_BENCH = json.loads((REPO / "benchmarks/results/sft.json").read_text())
DEMO_RUN = json.loads((REPO / "benchmarks/results/laptop_demo.json").read_text())
DEMO = next(r for r in DEMO_RUN["rows"] if r["what"].startswith("s1 demo"))
README_SEED_ROWS = {"accuracy, no forcing (%)": "no_forcing", "accuracy, Wait ×1 (%)": "wait1",
                    "accuracy, Wait ×2 (%)": "wait2", "accuracy, Wait ×4 (%)": "wait4",
                    "distinct rises of the budget curve (10 budgets, 8–128 tokens)": "budget_rises",
                    "Control (%)": "control", "Scaling (paper's metric)": "scaling",
                    "training time, CPU (s, one thread)": "train_cpu_seconds",
                    "training time, wall (s, shared machine)": "train_seconds"}


def test_readme_seed_table_is_the_results_file():
    rows = _table(README, "| metric | seed 0 | seed 1 | seed 2 |")
    assert [r[0] for r in rows] == list(README_SEED_ROWS), "the README's seed table lists other rows than results.json"
    for name, *cells in rows:
        key = README_SEED_ROWS[name]
        vals = [SEEDS[s][key] for s in (0, 1, 2)]
        assert [float(c) for c in cells[:3]] == vals, f"README seed table, {name!r}: {cells[:3]} but results.json has {vals}"
        mean, half = (float(x) for x in cells[3].split("±"))
        assert mean == pytest.approx(sum(vals) / 3, abs=0.01) and half == pytest.approx((max(vals) - min(vals)) / 2, abs=0.01), \
            f"README seed table, {name!r}: mean ± half-range {cells[3]}"


def test_readme_group_table_is_the_shipped_seed():
    rows = _table(README, "| group (seed 0, shipped) |")
    groups = {g["group"]: g for g in RESULTS["groups"]["0"]}
    assert [r[0] for r in rows] == list(groups), "the README's group table lists other groups than results.json"
    for name, n, *acc in rows:
        g = groups[name]
        got = [int(n)] + [float(a) for a in acc]
        want = [g["n"]] + [g[f"wait={w}"] for w in (0, 1, 2, 4)]
        assert got == want, f"README group table, {name!r}: {got} but results.json has {want}"


@pytest.mark.parametrize("where, phrase", [
    ("README.md", lambda: f"Training took {_span('train_cpu_seconds', digits=0, sep='–')} s of CPU time per seed"),
    ("README.md", lambda: f"(about {_mean('wait1')}%, {_mean('wait2')}%, {_span('wait4', sep='–')}%)"),
    ("README.md", lambda: f"{_span('budget_rises', sep='–')} rises of the exact-budget curve"),
    ("README.md", lambda: f"a quick guess ({_fmt(SHIPPED['no_forcing'])}% right on held-out words)"),
    ("README.md", lambda: f"`s1 demo` reruns the sweep on the shipped checkpoint (about {round(DEMO['cpu_seconds'], -1):g} s of CPU time"),
    ("README.md", lambda: f"{DEMO['cpu_seconds']:.0f} s of CPU time ({DEMO['seconds']:.0f} s wall at load "
                          f"{DEMO_RUN['load_average']:.0f})"),
    ("06_laptop_s1.ipynb", lambda: f"({_span('train_cpu_seconds', digits=0)} s of CPU time per seed"),
    ("06_laptop_s1.ipynb", lambda: f"about {_mean('wait1')}% with one Wait, {_mean('wait2')}% with two and "
                                   f"{_span('wait4')}% with four, from {_span('no_forcing')}% without forcing"),
    ("06_laptop_s1.ipynb", lambda: f"{_span('budget_rises', sep=' or ')} rises of the exact-budget curve"),
    ("06_laptop_s1.ipynb", lambda: f"reaches {_fmt(GROUPS['repeated pair']['wait=4'])}% with four Waits, against "
                                   f"{_fmt(GROUPS['no repeated pair']['wait=4'])}% on words without"),
    ("06_laptop_s1.ipynb", lambda: f"a fourth pass adds nothing over the second ({_fmt(GROUPS['16-20 letters']['wait=4'])}% both)"
                                   if GROUPS['16-20 letters']['wait=4'] == GROUPS['16-20 letters']['wait=2'] else "(they differ)"),
    ("06_laptop_s1.ipynb", lambda: f"tops out at {_fmt(SHIPPED['wait4'])}% with four Waits and {_fmt(SHIPPED['performance'])}% "
                                   "with an exact budget"),
    ("06_laptop_s1.ipynb", lambda: "this model reaches " + _fmt(GROUPS["first model's words"]["wait=2"]) + "% with two Waits"),
    ("02_sft.ipynb", lambda: f"measured padded {SFT_BENCH['results']['padded']['tokens_per_s']:,.0f} tok/s, padding-free "
                             f"{SFT_BENCH['results']['padding_free']['tokens_per_s']:,.0f} ({SFT_BENCH['ratio_padding_free']:.2f}×, "
                             f"although it avoids {100 * SFT_BENCH['pad_share_avoided']:.1f}% pad tokens) and packed "
                             f"{SFT_BENCH['results']['packed']['tokens_per_s']:,.0f} ({SFT_BENCH['ratio_packed']:.2f}×"),
    ("index.ipynb", lambda: f"gains {_span('wait_gain')} points from one Wait and {_gain('wait4')} from four"),
])
def test_quoted_numbers_are_the_results_file(where, phrase):
    text = " ".join((README if where == "README.md" else _markdown(where)).split())  # line breaks read as spaces
    want = phrase()
    assert want in text, f"{where} should say {want!r} (from s1_nb/assets/laptop-s1/results.json); the prose differs"


_IMPORT = re.compile(r"^\s*from (s1_nb(?:\.\w+)*) import \(?([\w ,]+)\)?", re.M)


@pytest.mark.parametrize("doc", ["README.md"] + [p.name for p in CHAPTERS])
def test_prose_snippets_import_names_that_exist(doc):
    "Every `from s1_nb... import ...` shown in prose (README, markdown cells) names something the package has."
    import importlib
    text = README if doc == "README.md" else _markdown(doc)
    missing = []
    for mod, names in _IMPORT.findall(text):
        m = importlib.import_module(mod)
        missing += [f"{mod}.{n}" for n in (x.split(" as ")[0].strip() for x in names.split(",")) if n and not hasattr(m, n)]
    assert not missing, f"{doc}: a snippet imports names the package does not have: {missing}"


# --- Figures: labels a reader can read. ---

def _label_collisions(fig) -> list:
    "Pairs of point labels whose boxes overlap, per axes of `fig` (drawn at the size it is saved at)."
    fig.tight_layout(); fig.canvas.draw()
    r = fig.canvas.get_renderer()
    found = []
    for ax in fig.axes:
        boxes = [(t.get_text(), t.get_window_extent(r)) for t in ax.texts]
        found += [(a, b) for i, (a, ba) in enumerate(boxes) for b, bb in boxes[i + 1:] if ba.overlaps(bb)]
    return found


def test_scaling_figures_label_each_point_without_collisions():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd
    from s1_nb.evaluation import plot_scaling
    from s1_nb.laptop import plot_seeds
    sweeps = {int(s): pd.DataFrame(rows) for s, rows in RESULTS["sweeps"].items()}
    fig = plot_seeds(sweeps)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert not _label_collisions(fig), _label_collisions(fig)
    assert {"no Wait", "1 Wait", "2 Waits", "4 Waits"} <= set(texts), texts  # words, not W0/W1
    assert not any(t.count(",") > 1 for t in texts), texts  # no smeared list of settings on one spot
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert any("one spot" in t for t in legend), legend  # the cut-offs that all land on one spot say so once
    plt.close(fig)
    seed0 = sweeps[0]
    fig = plot_scaling(seed0[seed0.method != "budget"], ["letters"], reference=None, title="laptop model")
    assert not _label_collisions(fig), _label_collisions(fig)
    plt.close(fig)


PAPER = json.loads((REPO / "s1_nb/assets/laptop-s1/paper.json").read_text())


def _table4(model: str, value: str, key: str = "accuracy") -> str:
    "Chapter 07's Table 4 number: the mean over seeds of `key` for appending `value` on `model`, as its table rounds it."
    vals = [r[key] for s in PAPER["seeds"].values() for r in s["table4"] if r["model"] == model and r["value"] == value]
    assert len(vals) == len(PAPER["seeds"]), (model, value)
    return _fmt(round(sum(vals) / len(vals), 1))


@pytest.mark.parametrize("phrase", [
    lambda: f"({_table4('base', 'Wait')}% and {_table4('base', 'Wait', 'thinking_tokens')} tokens each)",
    lambda: f'"Hmm" ({_table4("base", "Hmm")}%) and "Alternatively" ({_table4("base", "Alternatively")}%) fall far below '
            f"suppress-only ({_table4('base', 'none')}%)",
    lambda: f"Wait {_table4('s1k', 'Wait')} = none {_table4('s1k', 'none')} > Hmm {_table4('s1k', 'Hmm')} > "
            f"Alternatively {_table4('s1k', 'Alternatively')}",
])
def test_chapter07_quotes_its_results_file(phrase):
    text, want = " ".join(_markdown("07_paper_in_miniature.ipynb").split()), phrase()
    assert want in text, f"07 should say {want!r} (from s1_nb/assets/laptop-s1/paper.json); the prose differs"


def test_training_prints_no_trainer_log_dicts(tmp_path, capsys):
    "Chapter 02 trains in a notebook: the loss lives in `sft_summary`, not in a dict printed each logging step."
    from s1_nb.sft import S1Recipe, pretrained_tiny_folder, sft_summary, toy_s1k, train_sft
    train_sft(pretrained_tiny_folder("tiny"), toy_s1k(8, seed=0), tmp_path, recipe=S1Recipe.cpu(block_size=256),
              method="full", max_steps=4, logging_steps=1)
    out = capsys.readouterr()
    assert "{'loss'" not in out.out + out.err and "'train_runtime'" not in out.out + out.err, out.out[-300:]
    assert len(sft_summary(tmp_path)["loss"]) == 4  # every logged step is still recorded


def test_sweep_progress_is_plain_and_names_no_machine_path(tmp_path, capsys):
    "In a notebook (stderr not a terminal) `run_sweep` draws no progress bar and names its run folder, not its path."
    from s1_nb.evaluation import budget_settings, run_sweep

    class Out:  # what run_sweep reads of a completion
        text, thinking_tokens, cut_by_budget, answer_tokens, waits = "\nthinking\n<|im_start|>answer\nAnswer: 1", 4, False, 1, 0
    problems = [dict(id=f"t/{i}", problem=f"q{i}", answer="1", kind="aime", benchmark="t") for i in range(3)]
    run_sweep(problems, budget_settings([8, 16]), None, tokenizer=None, out=tmp_path / "run",
              generate_fn=lambda prompts, *a, **kw: [Out() for _ in prompts], progress=True)
    out = capsys.readouterr()
    assert "%|" not in out.err and "it/s" not in out.err, out.err[-300:]  # no tqdm frame left on the page
    assert "read back from run/" in out.out and str(tmp_path) not in out.out, out.out


def _fig4(model: str, method: str, value: int) -> int:
    "Chapter 07's sequential-vs-parallel number: mean accuracy over seeds, rounded to a whole percent as its prose does."
    vals = [r["accuracy"] for s in PAPER["seeds"].values() for r in s["fig4"]
            if (r["model"], r["method"], r["value"]) == (model, method, value)]
    assert len(vals) == len(PAPER["seeds"]), (model, method, value)
    return round(sum(vals) / len(vals))


@pytest.mark.parametrize("phrase", [
    lambda: f"| about 30 | one Wait: {_fig4('base', 'wait', 1)}% | two votes: {_fig4('base', 'majority', 2)}% |",
    lambda: f"| about 60 | two Waits: {_fig4('base', 'wait', 2)}% | four votes: {_fig4('base', 'majority', 4)}% |",
    lambda: f"| about 120 | four Waits: {_fig4('base', 'wait', 4)}% | eight votes: {_fig4('base', 'majority', 8)}% |",
    lambda: f"Wait ×6 falls back to {_fig4('base', 'wait', 6)}%",
    lambda: f"rises from {_fig4('s1k', 'exact', 8)}% at 8 tokens to {_fig4('s1k', 'exact', 96)}% at 96",
])
def test_chapter07_sequential_against_parallel_is_its_results_file(phrase):
    text, want = " ".join(_markdown("07_paper_in_miniature.ipynb").split()), phrase()
    assert want in text, f"07 should say {want!r} (from s1_nb/assets/laptop-s1/paper.json); the prose differs"


def _over_seeds(table: str, key: str, row: str, col: str, spread: bool = False) -> str:
    "A number of chapter 07's tables as its prose quotes it: the chapter's own `over_seeds` over paper.json."
    from s1_nb.paper import over_seeds
    t = over_seeds({s: r[table] for s, r in PAPER["seeds"].items()}, key, [col])
    return _fmt(t.loc[row, f"{col} spread" if spread else col])


@pytest.mark.parametrize("phrase", [
    lambda: f"({_over_seeds('table2', 'data', 's1k', 'no_forcing')} against {_over_seeds('table2', 'data', 'random', 'no_forcing')})",
    lambda: f"**Diversity alone does not help** ({_over_seeds('table2', 'data', 'diverse', 'no_forcing')}, the same as random)",
    lambda: f"**Length alone wins here** ({_over_seeds('table2', 'data', 'longest', 'no_forcing')})",
    lambda: f"**The whole pool is no better than random** ({float(_over_seeds('table2', 'data', 'full', 'no_forcing')):.1f})",
    lambda: f"({_over_seeds('table2', 'data', 's1k', 'no_forcing')} ± {_over_seeds('table2', 'data', 's1k', 'no_forcing', True)})",
    lambda: f"Scaling {_over_seeds('table3', 'method', 'bf', 'scaling')} (paper: 100% and 15)",
    lambda: f"(Control {round(float(_over_seeds('table3', 'method', 'tcc', 'control')))}%; paper 40%)",
    lambda: f"Its Scaling ({_over_seeds('table3', 'method', 'tcc', 'scaling')} ± {_over_seeds('table3', 'method', 'tcc', 'scaling', True)})",
    lambda: f"(Control {round(float(_over_seeds('table3', 'method', 'scc', 'control')))}%; paper 60%)",
    lambda: f"{_over_seeds('table3', 'method', 'rs', 'samples')} samples per question",
    lambda: f"positive ({_over_seeds('table3', 'method', 'rs', 'scaling')})",
])
def test_chapter07_tables_2_and_3_in_prose_are_its_results_file(phrase):
    text, want = " ".join(_markdown("07_paper_in_miniature.ipynb").split()), phrase()
    assert want in text, f"07 should say {want!r} (from s1_nb/assets/laptop-s1/paper.json); the prose differs"


def test_chapter04_cost_table_is_its_results_file():
    "04's forcing-cost table, Wait count and in-stream speed-up are those of benchmarks/results/vllm_forcing.json."
    d = json.loads((REPO / "benchmarks/results/vllm_forcing.json").read_text())
    text = " ".join(_markdown("04_vllm_forcing.ipynb").split())
    want = [f"| {r['batch']} | {r['temperature']:g} | {r['forced_tok_per_s']:,.0f} | {r['plain_tok_per_s']:,.0f} | "
            f"{r['forced_over_plain']:.2f} |" for r in d["rows"]]
    want += [f"{d['waits_inserted']} Waits at batch 16", f"`engine=\"vllm\"` was {d['instream_over_harness_speedup']:.1f}×"]
    missing = [w for w in want if w not in text]
    assert not missing, f"04 should say (from benchmarks/results/vllm_forcing.json): {missing}"


SMOL = json.loads((REPO / "s1_nb/assets/smol-s1/results.json").read_text())
SMOL_ROWS = {"accuracy, no forcing (%)": "no_forcing", "accuracy, Wait ×1 (%)": "wait1", "accuracy, Wait ×2 (%)": "wait2",
             "accuracy, Wait ×4 (%)": "wait4", "think exactly B tokens (%)": "exact_curve", "rises of that curve": "rises",
             "Control (%)": "control", "LoRA training, CPU-minutes": "lora_cpu_min"}


def test_readme_smol_table_is_the_results_file():
    from s1_nb.smol import smol_summary
    want = smol_summary(SMOL)["rows"]
    rows = _table(README, "| metric (SmolLM2) |")
    assert [r[0] for r in rows] == list(SMOL_ROWS), "the README's SmolLM2 table lists other rows than smol_summary"
    for name, *cells in rows:
        key = SMOL_ROWS[name]
        got = [c if key == "exact_curve" else float(c) for c in cells]
        assert got == [w[key] if key == "exact_curve" else float(w[key]) for w in want], f"README SmolLM2 table, {name!r}"
