"""Every chapter's exercises: each is numbered ("Exercise 03.2"), names the cell or parameter to edit, and has its
answer in chapter 09 under the same number."""
import json
import re
from pathlib import Path

import pytest

NBS = Path(__file__).resolve().parents[1] / "nbs"
SOLUTIONS = NBS / "09_solutions.ipynb"
EXERCISE = re.compile(r"\*\*Exercise (\d\d[a-z]?)\.(\d+) \((easy|medium|hard)\)\.\*\*(.*?)(?=\n\s*- \*\*Exercise|\n\n|\Z)", re.S)


def cells(nb: Path) -> list[dict]:
    return json.loads(nb.read_text())["cells"]


def text(cell: dict) -> str:
    return "".join(cell["source"])


def chapters() -> list[Path]:
    "The chapters with an Exercises section (every notebook of the book but the solutions)."
    return [nb for nb in sorted(NBS.glob("[0-9]*.ipynb")) if nb != SOLUTIONS
            and any(re.search(r"^## Exercises", text(c), re.M) for c in cells(nb) if c["cell_type"] == "markdown")]


def exercises(nb: Path) -> list[tuple[str, str, str]]:
    "`(id, level, text)` of each exercise of the chapter's Exercises section."
    out = []
    for c in cells(nb):
        if c["cell_type"] != "markdown" or not re.search(r"^## Exercises", text(c), re.M): continue
        section = re.split(r"^## Exercises", text(c), flags=re.M)[1].split("\n## ")[0]
        out += [(f"{a}.{b}", level, body.strip()) for a, b, level, body in EXERCISE.findall(section)]
    return out


def sections(nb: Path) -> set[str]:
    "The numbers of the chapter's numbered sections (`## 4. The panel` -> '4')."
    return {m for c in cells(nb) if c["cell_type"] == "markdown" for m in re.findall(r"^## (\d+)\.", text(c), re.M)}


def subsections(nb: Path) -> list[str]:
    "The titles of the chapter's unnumbered subsections (`### Will it fit? A memory planner`), as under 'Under the hood'."
    return [m for c in cells(nb) if c["cell_type"] == "markdown" for m in re.findall(r"^###+ (.+)$", text(c), re.M)]


def parameters(nb: Path) -> set[str]:
    "The names the chapter's papermill `parameters` cell sets."
    src = next(text(c) for c in cells(nb) if "parameters" in c.get("metadata", {}).get("tags", []))
    return set(re.findall(r"^(\w+)\s*=", src, re.M))


def answers() -> dict[str, str]:
    "Exercise id -> the markdown that answers it in chapter 09 (its heading paragraph and what follows up to the next one)."
    out, current = {}, None
    for c in cells(SOLUTIONS):
        if c["cell_type"] == "markdown":
            for part in re.split(r"(?=\*\*Exercise \d\d[a-z]?\.\d+ )", text(c)):
                m = re.match(r"\*\*Exercise (\d\d[a-z]?\.\d+) ", part)
                if m:
                    assert m.group(1) not in out, f"09 answers Exercise {m.group(1)} twice"
                    current = m.group(1); out[current] = part
                elif current: out[current] += part
        elif current: out[current] += "\n" + text(c)
    return out


def test_every_chapter_has_numbered_exercises():
    found = {nb.name: exercises(nb) for nb in chapters()}
    assert len(found) >= 9, sorted(found)
    for name, exs in found.items():
        assert exs, f"{name}: its Exercises section has no '**Exercise NN.k (level).**' item"
        stem = name.split("_")[0]
        for i, (ex_id, level, body) in enumerate(exs, 1):
            assert ex_id == f"{stem}.{i}", f"{name}: exercise {i} is numbered {ex_id}, not {stem}.{i}"
            assert len(body.split()) >= 8, f"{name}: Exercise {ex_id} says too little: {body!r}"
        levels = [level for _, level, _ in exs]
        assert levels == sorted(levels, key=["easy", "medium", "hard"].index), f"{name}: levels out of order: {levels}"


@pytest.mark.parametrize("nb", chapters(), ids=lambda p: p.stem)
def test_each_exercise_names_the_cell_or_parameter_to_edit(nb):
    "An exercise points at an existing section (§N), a subsection under the hood (*its title*) or a `parameters` value."
    secs, subs, params = sections(nb), subsections(nb), parameters(nb)
    for ex_id, _, body in exercises(nb):
        refs = set(re.findall(r"§(\d+)", body))
        assert refs <= secs, f"Exercise {ex_id} points at §{sorted(refs - secs)}: {nb.name} has sections {sorted(secs, key=int)}"
        hood = re.findall(r"Under the hood, in \*([^*]+)\*", " ".join(body.split()))
        assert all(any(t.startswith(h) for t in subs) for h in hood), \
            f"Exercise {ex_id} points under the hood at {hood}: {nb.name}'s subsections are {subs}"
        named = {p for p in params if re.search(rf"`{p}\s*=", body)}
        assert refs or hood or named, (f"Exercise {ex_id} names neither a section (§N), a subsection under the hood, nor a "
                                       f"`parameters` cell value ({', '.join(sorted(params))}): {body!r}")


def test_every_exercise_is_answered_in_09():
    asked = {ex_id: body for nb in chapters() for ex_id, _, body in exercises(nb)}
    given = answers()
    assert not (missing := sorted(set(asked) - set(given))), f"chapter 09 has no answer to Exercise {', '.join(missing)}"
    assert not (stray := sorted(set(given) - set(asked))), f"chapter 09 answers exercises no chapter asks: {stray}"
    for ex_id, answer in given.items():
        body = re.sub(r"^\*\*Exercise [^*]+\*\*", "", answer).strip()
        assert len(body.split()) >= 15, f"09's answer to Exercise {ex_id} is too short: {body!r}"


def test_09_answers_in_book_order():
    order = [ex_id for nb in chapters() for ex_id, _, _ in exercises(nb)]
    assert [a for a in answers() if a in order] == [a for a in order if a in answers()]


def test_no_exercise_points_at_a_widget_outside_08():
    "The Waits/budget panel lives in chapter 08: no other chapter's exercises (or the README's chapter table) send a reader to it."
    for nb in chapters():
        if nb.name.startswith("08"): continue
        for ex_id, _, body in exercises(nb):
            assert not re.search(r"\bpanel\b|widget|slider", body), f"Exercise {ex_id} points at a panel of chapter 08"
    readme = (NBS.parent / "README.md").read_text()
    row = next(l for l in readme.splitlines() if l.startswith("| [`03_"))
    assert not re.search(r"widget|panel|slider", row), f"README's chapter 03 row: {row}"
