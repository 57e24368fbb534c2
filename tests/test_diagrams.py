"""The book's drawn diagrams: each SVG parses, says what it shows, is placed in its chapter, and quotes true numbers."""
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SVG = "{http://www.w3.org/2000/svg}"
DIAGRAMS = {  # diagram -> the chapters that show it
    "budget_forcing.svg": ["03_budget_forcing.ipynb", "index.ipynb"],
    "reprompting_vs_instream.svg": ["04_vllm_forcing.ipynb"],
    "what_each_wait_adds.svg": ["06_laptop_s1.ipynb"],
}


def svg_text(name):
    "All the text of a diagram: its title, description and labels."
    root = ET.parse(REPO / "docs" / "diagrams" / name).getroot()
    assert root.tag == SVG + "svg", f"{name}: root element is {root.tag}, not <svg>"
    return root, " ".join(t.strip() for t in root.itertext() if t.strip())


def markdown_images(nb_name):
    "The image paths of the markdown cells of a chapter."
    nb = json.loads((REPO / "nbs" / nb_name).read_text())
    src = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    return re.findall(r"!\[([^\]]*)\]\(([^)\s]+)\)", src)


@pytest.mark.parametrize("name", sorted(DIAGRAMS))
def test_diagram_is_a_titled_svg_without_external_resources(name):
    root, text = svg_text(name)
    title = root.find(SVG + "title")
    assert title is not None and title.text.strip(), f"{name}: no <title>"
    assert len(text.split()) >= 20, f"{name}: too little text to be read without the chapter"
    raw = (REPO / "docs" / "diagrams" / name).read_text()
    for bad in ("<script", "@import", "@font-face", "http://", "https://"):
        assert bad not in raw.replace("http://www.w3.org/2000/svg", ""), f"{name}: contains {bad!r}"


@pytest.mark.parametrize("name,chapter", [(n, c) for n, cs in sorted(DIAGRAMS.items()) for c in cs])
def test_diagram_is_shown_in_its_chapter(name, chapter):
    images = markdown_images(chapter)
    hits = [alt for alt, path in images if path == f"../docs/diagrams/{name}"]
    assert hits, f"{chapter}: no markdown image of ../docs/diagrams/{name}"
    assert all(alt.strip() for alt in hits), f"{chapter}: the image of {name} has no alt text"


def test_budget_forcing_diagram_quotes_chapter_03s_traces():
    "The diagram's strings are the laptop model's committed traces in chapter 03."
    nb = json.loads((REPO / "nbs" / "03_budget_forcing.ipynb").read_text())
    outputs = "".join("".join(o.get("text", "")) for c in nb["cells"] if c["cell_type"] == "code"
                      for o in c.get("outputs", []))
    _, text = svg_text("budget_forcing.svg")
    for s in ("Quick: 1.", "r1aspber2... So 2.", "Final Answer: 2"):
        assert s in text and s in outputs, s


def test_what_each_wait_adds_quotes_the_committed_accuracies():
    "The bars are seed 0's accuracies at 0, 1, 2 and 4 Waits in the shipped results."
    results = json.loads((REPO / "s1_nb" / "assets" / "laptop-s1" / "results.json").read_text())
    waits = {r["value"]: r for r in results["sweeps"]["0"] if r["method"] == "wait"}
    _, text = svg_text("what_each_wait_adds.svg")
    for n in (0, 1, 2, 4):
        assert f"{waits[n]['accuracy']:g}%" in text, f"accuracy at {n} Waits ({waits[n]['accuracy']}) not in the diagram"
        assert f"{waits[n]['thinking_tokens']:g} tok" in text, f"thinking tokens at {n} Waits not in the diagram"
