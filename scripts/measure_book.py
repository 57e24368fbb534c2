"""Measure the book's learner chapters against the targets they are written to, and the size of the package's public
face: `python scripts/measure_book.py` prints a line per chapter and per module; `--check` exits 1 with one line per
target missed (0 when all are met).

The learner chapters are `nbs/index.ipynb` and the numbered chapters 00-08 (06b included): every `nbs/*.ipynb` but
09_solutions and the 9x notebooks (appendices 90-97, 98_testing, 99_cli).

Per chapter it prints:

- `md`: markdown cells; `median` and `max`: words per markdown cell (the source split on whitespace, as written);
  `>150`: markdown cells over 150 words.
- `export`: export cells (`#| export`, `#| exporti`, `#| exports`); `multi`: those with more than one top-level
  `def` or `class` (one idea per exported cell).
- `opens`: whether the chapter opens with its result. The rule: among the first 5 cells after the title cell (the
  first markdown cell with a `# ` heading), counting only cells a reader sees (a cell holding nothing but nbdev
  directives, such as `#| default_exp`, and a `#| hide` cell are not shown), there is a code cell with an output a
  reader sees (an image, text on stdout, or a displayed or returned value; stderr and errors do not count) or a
  markdown cell that states the result under a bold or heading label (`**The result.**`, `## The result`); the
  title cell itself may state it (`**The result first.**` under the title).
- `closes`: whether the last markdown cell is `## What you now know` (its first line) with 3-5 top-level bullets
  (lines starting with `- `, `* ` or `+ `; other lines, such as a closing "Next" sentence, may follow).

The targets `--check` holds every learner chapter to: median words <= 35, max words <= 150, the closing cell; and the
total size of `__all__` over the package's modules (each `s1_nb` module imported) <= 220. The per-module caps are
printed beside each module's count for reference.

`tests/test_book_targets.py` runs the same functions in-process."""
import argparse
import ast
import contextlib
import importlib
import io
import json
import pkgutil
import re
import statistics
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
NBS = REPO / "nbs"
MEDIAN_WORDS, MAX_WORDS, CLOSING_BULLETS, ALL_TOTAL = 35, 150, (3, 5), 220
ALL_CAPS = dict(core=20, curation=22, evaluation=22, forcing=18, laptop=22, paper=20, sft=22, smol=24, testing=6,
                vllm_forcing=18, workshop=18, cli=8)  # per module, printed beside each count
CLOSING = re.compile(r"^##\s+What you now know\s*$")
BULLET = re.compile(r"^[-*+]\s+\S")
DIRECTIVE = re.compile(r"^\s*#\|")
EXPORT = re.compile(r"^\s*#\|\s*export[is]?(\s|$)")
HIDE = re.compile(r"^\s*#\|\s*hide\s*$")
STATED_RESULT = re.compile(r"(\*\*|^#{1,6}\s+)(the\s+)?results?\b", re.I | re.M)
SEEN_MIMES = ("image/", "text/plain", "text/html", "text/markdown", "application/vnd.jupyter.widget-view+json")
OPENING_CELLS = 5


def learner_chapters(nbs: Path = NBS) -> list[Path]:
    "index.ipynb, then the numbered chapters but 09 and the 9x notebooks (solutions, appendices, testing, CLI)."
    index = [nbs / "index.ipynb"] if (nbs / "index.ipynb").exists() else []
    return index + [p for p in sorted(nbs.glob("[0-9]*.ipynb")) if not p.stem.startswith(("09", "9"))]


def _source(cell) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def _words(cell) -> int:
    return len(_source(cell).split())


def _shown(cell) -> bool:
    "Whether a reader sees the cell: not a `#| hide` cell, not a code cell of nbdev directives alone."
    lines = _source(cell).splitlines()
    if cell["cell_type"] != "code": return True
    if any(HIDE.match(l) for l in lines): return False
    return any(l.strip() and not DIRECTIVE.match(l) for l in lines) or bool(cell.get("outputs"))


def _output_seen(output) -> bool:
    "An output a reader sees: stdout text, or a displayed/returned value (an image, text, HTML, Markdown, a widget)."
    kind = output.get("output_type")
    if kind == "stream": return output.get("name") == "stdout" and bool("".join(output.get("text", "")).strip())
    if kind in ("display_data", "execute_result"):
        return any(m.startswith(SEEN_MIMES) for m in output.get("data", {}))
    return False


def opens_with_result(cells: list) -> bool:
    "Within the first 5 shown cells after the title: a code cell with a seen output, or a markdown cell stating the result."
    title = next((i for i, c in enumerate(cells) if c["cell_type"] == "markdown"
                  and re.search(r"^#\s+\S", _source(c), re.M)), -1)
    after = [c for c in cells[title + 1:] if _shown(c)][:OPENING_CELLS]
    if title >= 0 and STATED_RESULT.search(_source(cells[title])): return True  # stated right under the title
    return any(any(_output_seen(o) for o in c.get("outputs", [])) if c["cell_type"] == "code"
               else bool(STATED_RESULT.search(_source(c))) for c in after)


def closing_bullets(cells: list) -> int | None:
    "The number of top-level bullets of the last markdown cell if it is `## What you now know`, else None."
    md = [c for c in cells if c["cell_type"] == "markdown"]
    if not md: return None
    lines = [l for l in _source(md[-1]).splitlines() if l.strip()]
    if not lines or not CLOSING.match(lines[0].strip()): return None
    return sum(bool(BULLET.match(l)) for l in lines[1:])


def _definitions(cell) -> int:
    "Top-level `def`/`class` statements of a code cell (directive and magic lines left out); 0 if it does not parse."
    code = "\n".join(l for l in _source(cell).splitlines() if not l.lstrip().startswith(("#|", "%", "!")))
    try: tree = ast.parse(code)
    except SyntaxError: return 0
    return sum(isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) for n in tree.body)


def measure_chapter(path: Path) -> dict:
    "The numbers of one chapter notebook (see the module's docstring)."
    cells = json.loads(Path(path).read_text())["cells"]
    md = [_words(c) for c in cells if c["cell_type"] == "markdown"]
    exports = [c for c in cells if c["cell_type"] == "code" and any(EXPORT.match(l) for l in _source(c).splitlines())]
    return dict(chapter=Path(path).stem, md=len(md), median=statistics.median(md) if md else 0,
                max=max(md, default=0), over=sum(m > MAX_WORDS for m in md), export=len(exports),
                multi=sum(_definitions(c) > 1 for c in exports), opens=opens_with_result(cells),
                closing=closing_bullets(cells))


def chapter_failures(m: dict) -> list[str]:
    "One line per target the chapter `m` (`measure_chapter`) misses."
    lo, hi = CLOSING_BULLETS
    out = []
    if m["median"] > MEDIAN_WORDS:
        out.append(f"{m['chapter']}: median markdown cell {m['median']:g} words (target <= {MEDIAN_WORDS})")
    if m["max"] > MAX_WORDS:
        out.append(f"{m['chapter']}: longest markdown cell {m['max']} words, {m['over']} cell(s) over {MAX_WORDS} "
                   f"(target <= {MAX_WORDS})")
    if m["closing"] is None:
        out.append(f"{m['chapter']}: the last markdown cell is not '## What you now know'")
    elif not lo <= m["closing"] <= hi:
        out.append(f"{m['chapter']}: '## What you now know' has {m['closing']} bullets (target {lo}-{hi})")
    return out


def public_names() -> dict:
    "Each s1_nb module (imported) -> the length of its `__all__`, or the import error as a string."
    import s1_nb
    out = {}
    for info in sorted(pkgutil.iter_modules(s1_nb.__path__), key=lambda i: i.name):
        if info.name.startswith("_"): continue  # _modidx: nbdev's index, no public names
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            try: mod = importlib.import_module(f"s1_nb.{info.name}")
            except Exception as e:
                out[info.name] = f"{type(e).__name__}: {e}"
                continue
        out[info.name] = len(getattr(mod, "__all__", []))
    return out


def package_failures(names: dict) -> list[str]:
    "One line per package target missed: a module that does not import, or the total `__all__` over its target."
    out = [f"s1_nb.{m}: does not import ({v})" for m, v in names.items() if isinstance(v, str)]
    total = sum(v for v in names.values() if isinstance(v, int))
    if total > ALL_TOTAL: out.append(f"s1_nb: {total} names in __all__ over all modules (target <= {ALL_TOTAL})")
    return out


def report(chapters: list[dict], names: dict) -> str:
    "The printed table: a line per chapter, a line per module, the total."
    yes = lambda b: "yes" if b else "no"
    lines = [f"{'chapter':28} {'md':>3} {'median':>6} {'max':>4} {'>150':>4} {'export':>6} {'multi':>5} "
             f"{'opens':>5} closes"]
    for m in chapters:
        closes = "no" if m["closing"] is None else f"{m['closing']} bullets"
        lines.append(f"{m['chapter']:28} {m['md']:3} {m['median']:6g} {m['max']:4} {m['over']:4} {m['export']:6} "
                     f"{m['multi']:5} {yes(m['opens']):>5} {closes}")
    lines.append("")
    lines.append(f"{'module':14} {'__all__':>7} {'cap':>4}")
    for mod, n in names.items():
        cap = ALL_CAPS.get(mod)
        if isinstance(n, str): lines.append(f"{mod:14} {'error':>7} {cap or '-':>4}  {n[:80]}")
        else: lines.append(f"{mod:14} {n:7} {cap or '-':>4}" + ("  over its cap" if cap is not None and n > cap else ""))
    lines.append(f"{'total':14} {sum(v for v in names.values() if isinstance(v, int)):7} {ALL_TOTAL:>4}")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Measure the learner chapters and the package's public face.")
    ap.add_argument("--check", action="store_true", help="exit 1 with one line per target missed")
    ap.add_argument("--nbs", type=Path, default=NBS, help="the notebooks (default: nbs)")
    a = ap.parse_args(argv)
    chapters = [measure_chapter(p) for p in learner_chapters(a.nbs)]
    names = public_names()
    print(report(chapters, names))
    if not a.check: return 0
    failed = [f for m in chapters for f in chapter_failures(m)] + package_failures(names)
    if failed:
        print(f"\n{len(failed)} target(s) missed:")
        print("\n".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
