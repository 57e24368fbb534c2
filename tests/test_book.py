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
