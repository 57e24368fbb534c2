"""The book's targets for its learner chapters (index, 00-08 and 06b), measured in-process by `scripts/measure_book.py`:
markdown cells of median <= 35 words and none over 150, a closing `## What you now know` with 3-5 bullets, and at
most 220 public names (`__all__`) over the package. One test per chapter (its id is the chapter), each failure listing
the targets that chapter misses; `python scripts/measure_book.py` prints the whole table.

The measuring rules themselves (which cells count, what "opens with a result" and "closes" mean) are pinned down on
small notebooks made here."""
import importlib.util
import json

import pytest

from conftest import REPO

SCRIPT = REPO / "scripts" / "measure_book.py"


def measure_book():
    spec = importlib.util.spec_from_file_location("measure_book", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


mb = measure_book()
LEARNER = mb.learner_chapters(REPO / "nbs")


def test_learner_chapters_are_index_and_00_to_08():
    stems = [p.stem for p in LEARNER]
    assert stems[0] == "index" and "06b_real_model" in stems, stems
    assert not [s for s in stems if s.startswith(("09", "9"))], stems  # solutions, appendices, testing, CLI: not learner chapters
    assert {f"0{i}" for i in range(9)} <= {s[:2] for s in stems}, stems


@pytest.mark.parametrize("nb", LEARNER, ids=[p.stem for p in LEARNER])
def test_learner_chapter_meets_the_targets(nb):
    m = mb.measure_chapter(nb)
    missed = mb.chapter_failures(m)
    assert not missed, (f"{nb.name} misses {len(missed)} book target(s) (scripts/measure_book.py):\n  "
                        + "\n  ".join(missed))


def test_package_public_face_is_at_most_220_names():
    names = mb.public_names()
    missed = mb.package_failures(names)
    per_module = ", ".join(f"{k} {v}" for k, v in names.items() if isinstance(v, int))
    assert not missed, "\n".join(missed) + f"\n  __all__ per module: {per_module}"


# --- the measuring rules, on notebooks made here ---

def _md(text): return dict(cell_type="markdown", source=text, metadata={})


def _code(text, *outputs): return dict(cell_type="code", source=text, metadata={}, outputs=list(outputs))


def _write(tmp_path, cells, name="x.ipynb"):
    p = tmp_path / name
    p.write_text(json.dumps(dict(cells=cells, metadata={}, nbformat=4, nbformat_minor=5)))
    return p


STDOUT = dict(output_type="stream", name="stdout", text=["Final Answer: 3\n"])
STDERR = dict(output_type="stream", name="stderr", text=["a warning\n"])
IMAGE = dict(output_type="display_data", data={"image/png": "iVBOR", "text/plain": ["<Figure>"]}, metadata={})
CLOSE = _md("## What you now know\n\n- one\n- two\n- three\n  - a nested point\n\nNext: [04](04_x.ipynb).")


def test_words_median_max_and_the_closing_cell(tmp_path):
    cells = [_code("#| default_exp x"), _md("# Title\n\none two"), _md(" ".join(["w"] * 151)), _md("a b c d"), CLOSE]
    m = mb.measure_chapter(_write(tmp_path, cells))
    assert (m["md"], m["max"], m["over"], m["closing"]) == (4, 151, 1, 3)
    assert m["median"] == (4 + 17) / 2  # words per markdown cell: 4 (title), 151, 4, 17 (the closing cell)
    missed = mb.chapter_failures(m)
    assert len(missed) == 1 and "151 words" in missed[0] and "x:" in missed[0], missed


@pytest.mark.parametrize("close, want", [
    (_md("## What you now know\n\n- a\n- b"), "2 bullets"),
    (_md("## What you now know\n\n- a\n- b\n- c\n- d\n- e\n- f"), "6 bullets"),
    (_md("## What you learned\n\n- a\n- b\n- c"), "not '## What you now know'"),
    (_md("Next: chapter 04."), "not '## What you now know'"),  # a cell after the closing one
])
def test_a_wrong_close_is_a_missed_target(tmp_path, close, want):
    cells = [_md("# T"), _md("## What you now know\n\n- a\n- b\n- c"), close]
    missed = mb.chapter_failures(mb.measure_chapter(_write(tmp_path, cells)))
    assert len(missed) == 1 and want in missed[0], missed


@pytest.mark.parametrize("cells, opens", [
    ([_code("#| default_exp x"), _md("# T"), _code("print(1)", STDOUT)], True),
    ([_md("# T"), _md("**The result.** The model gets better with each Wait:"), _md("a")], True),
    ([_md("# T"), _md("## The result"), _md("a")], True),
    ([_md("# T"), _md("a"), _md("b"), _md("c"), _md("d"), _code("plot()", IMAGE)], True),  # the 5th cell after the title
    ([_md("# T"), _md("a"), _md("b"), _md("c"), _md("d"), _md("e"), _code("plot()", IMAGE)], False),  # the 6th
    ([_md("# T"), _code("#| hide\nsetup()"), _code("#| export\nimport os"), _md("b"), _md("c"), _md("d"),
      _code("plot()", IMAGE)], True),  # a hidden cell is not counted; an export cell is
    ([_md("# T"), _code("warn()", STDERR), _md("what results look like, later")], False),  # stderr, an unlabelled mention
    ([_md("# T"), _code("x = 1")], False),
])
def test_opens_with_a_result(tmp_path, cells, opens):
    assert mb.measure_chapter(_write(tmp_path, cells))["opens"] is opens


def test_export_cells_with_more_than_one_definition(tmp_path):
    cells = [_md("# T"), _code("#| export\ndef a(): pass\n\ndef b(): pass"), _code("#| exporti\nclass C: pass"),
             _code("#|export\n@dataclass\nclass D:\n    def m(self): pass\nX = 1"), _code("def e(): pass\ndef f(): pass")]
    m = mb.measure_chapter(_write(tmp_path, cells))
    assert (m["export"], m["multi"]) == (3, 1)  # the last cell is not exported; a method is not a top-level definition


def test_public_names_total_target():
    assert mb.package_failures(dict(core=20, laptop=200)) == []
    assert mb.package_failures(dict(core=21, laptop=200)) == ["s1_nb: 221 names in __all__ over all modules (target <= 220)"]
    assert "s1_nb.x: does not import" in mb.package_failures(dict(x="ImportError: boom"))[0]


def test_check_prints_one_line_per_missed_target(tmp_path, capsys, monkeypatch):
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    _write(nbs, [_md("# T"), _code("print(1)", STDOUT), CLOSE], "index.ipynb")
    _write(nbs, [_md("# T " + " ".join(["w"] * 40))], "01_a.ipynb")
    _write(nbs, [_md("# solutions " + " ".join(["w"] * 400))], "09_solutions.ipynb")  # not a learner chapter
    monkeypatch.setattr(mb, "public_names", lambda: dict(core=3))
    assert mb.main(["--nbs", str(nbs)]) == 0
    assert mb.main(["--nbs", str(nbs), "--check"]) == 1
    out = capsys.readouterr().out
    missed = out.split("target(s) missed:\n")[1].strip().splitlines()
    assert missed == ["01_a: median markdown cell 42 words (target <= 35)",
                      "01_a: the last markdown cell is not '## What you now know'"], out
    assert "09_solutions" not in out
