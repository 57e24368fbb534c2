"""The book as a static website (`scripts/build_site.py`): pages, navigation, links, images and math, offline.

The unit tests build a three-page book made here; the browser test builds the real book (`nbs/`) into a temporary
folder, serves it on loopback and loads every page in Debian's chromium through Playwright, with every request off
this machine refused: each page answers 200 with no console error, every image is decoded (a chapter with a figure
shows at least one), and every link inside the site reaches a page and an anchor that exist."""
import base64
import functools
import http.server
import importlib.util
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from conftest import ARTIFACTS, REPO

SCRIPT = REPO / "scripts" / "build_site.py"
# a 2x1 PNG: red, blue
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAIAAAABCAIAAAB7QOjdAAAAEElEQVR4nGP4z8DAwMDw/z8AD/8C/6aUwcsAAAAASUVORK5CYII=")


def build_site_module():
    spec = importlib.util.spec_from_file_location("build_site", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def write(path: Path, cells):
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(new_notebook(cells=cells), path)


@pytest.fixture
def small_book(tmp_path):
    "A repository with an index, two chapters, a figure in docs/ and a README, as the build finds them."
    repo = tmp_path / "repo"
    (repo / "docs").mkdir(parents=True)
    (repo / "docs" / "fig.png").write_bytes(PNG)
    (repo / "README.md").write_text("readme")
    (repo / "settings.ini").write_text("[DEFAULT]\ngit_url = https://github.com/someone/book\nbranch = trunk\n")
    nbs = repo / "nbs"
    write(nbs / "index.ipynb", [new_markdown_cell("# The book\n\nStart with [the first chapter](00_first.ipynb), "
                                                  "or read the [README](../README.md).")])
    write(nbs / "00_first.ipynb", [
        new_code_cell("#| default_exp first"),
        new_markdown_cell("# First chapter\n\n![the figure](../docs/fig.png)\n\nThe mean is $\\frac{1}{n}\\sum x$."),
        new_code_cell("#| hide\nsecret_setup = 1"),
        new_code_cell("#| export\ndef f(): return 1", outputs=[new_output("execute_result", {"text/plain": "1"},
                                                                           execution_count=1)]),
        new_code_cell("plot()", outputs=[new_output("display_data", {"image/png": base64.b64encode(PNG).decode()})]),
        new_markdown_cell("Two *pixels*, red and blue. Then more."),
        new_markdown_cell("Next: [the second](01_second.ipynb#2.-Part-two)")])
    write(nbs / "01_second.ipynb", [new_markdown_cell("# Second chapter"), new_markdown_cell("## 2. Part two")])
    return repo


def test_pages_navigation_links_images_math(small_book, tmp_path):
    "Chapter links go to pages, repo files to GitHub, a file image is copied, math is MathML, hidden cells are gone."
    bs = build_site_module()
    out = tmp_path / "site"
    pages = bs.build_site(out, small_book / "nbs", quiet=True)
    assert [p.name for p in pages] == ["index.html", "00_first.html", "01_second.html"]
    index, first, second = (p.read_text() for p in pages)
    assert 'href="00_first.html"' in index and ".ipynb" not in index + first + second
    assert 'href="https://github.com/someone/book/blob/trunk/README.md"' in index
    assert 'href="01_second.html#2.-Part-two"' in first and 'id="2.-Part-two"' in second
    assert 'src="images/docs_fig.png"' in first and (out / "images" / "docs_fig.png").read_bytes() == PNG
    assert "<math" in first and "$" not in first.split("<main>")[1]
    assert 'alt="Two pixels, red and blue."' in first  # a figure's alt text is its caption's first sentence
    assert "secret_setup" not in first and "#|" not in first and "def" in first
    for page in (index, first, second):  # every page lists every page; nothing comes from elsewhere
        assert all(f'href="{p.name}"' in page for p in pages)
        assert "<script" not in page and 'src="http' not in page
    assert 'class="s1-next" href="01_second.html"' in first and 'class="s1-prev" href="index.html"' in first
    css = sorted((out / "css").glob("*.css"))  # JupyterLab's CSS, once for the book, linked from every page
    assert css and all(f'href="css/{c.name}"' in page for c in css for page in (index, first, second))
    assert (out / ".nojekyll").exists() and out.stat().st_mode & 0o005 == 0o005  # others may read the site


def test_book_order_and_sidebar_parts(tmp_path):
    "index, the chapters (06b after 06), 09, the appendices 9x, then 98 and 99; the sidebar names each part once."
    bs = build_site_module()
    nbs = tmp_path / "repo" / "nbs"
    stems = ["99_cli", "91_appendix_b", "06b_real", "09_solutions", "98_testing", "00_core", "90_appendix_a", "06_laptop"]
    for stem in stems + ["index"]:
        write(nbs / f"{stem}.ipynb", [new_markdown_cell(f"# Page {stem}")])
    order = ["index", "00_core", "06_laptop", "06b_real", "09_solutions", "90_appendix_a", "91_appendix_b",
             "98_testing", "99_cli"]
    assert [p.stem for p in bs.chapters(nbs)] == order
    pages = bs.build_site(tmp_path / "site", nbs, quiet=True)
    assert [p.stem for p in pages] == order
    side = pages[0].read_text().split('<nav class="s1-sidebar">')[1].split("</nav>")[0]
    at = lambda s: side.index(s)
    assert [side.count(f'<li class="s1-part">{t}</li>') for t in ("Chapters", "Exercise answers", "Appendices",
                                                                   "Reference")] == [1, 1, 1, 1]
    assert at("index.html") < at(">Chapters<") < at("00_core.html") < at("06b_real.html") < at(">Exercise answers<") \
        < at("09_solutions.html") < at(">Appendices<") < at("90_appendix_a.html") < at("91_appendix_b.html") \
        < at(">Reference<") < at("98_testing.html") < at("99_cli.html")
    nine = (tmp_path / "site" / "09_solutions.html").read_text()
    assert 'class="s1-prev" href="06b_real.html"' in nine and 'class="s1-next" href="90_appendix_a.html"' in nine


def test_missing_image_is_an_error_and_the_old_site_stays(small_book, tmp_path):
    "A markdown image whose file is missing: exit 2, one line naming the notebook and the image; _site unchanged."
    out = tmp_path / "site"
    args = [sys.executable, str(SCRIPT), "--out", str(out), "--nbs", str(small_book / "nbs"), "--quiet"]
    assert subprocess.run(args).returncode == 0
    files = lambda: {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    before = files()
    (small_book / "docs" / "fig.png").unlink()
    r = subprocess.run(args, capture_output=True, text=True)
    assert r.returncode == 2, r.stderr
    assert r.stderr.strip().count("\n") == 0 and "00_first.ipynb" in r.stderr and "../docs/fig.png" in r.stderr
    assert files() == before and (out / "images" / "docs_fig.png").exists()
    assert [p.name for p in tmp_path.iterdir()] == [p.name for p in tmp_path.iterdir() if ".tmp" not in p.name]
    r = subprocess.run([sys.executable, str(SCRIPT), "--nbs", str(tmp_path / "nowhere"), "--out", str(out)],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "nowhere" in r.stderr and "does not exist" in r.stderr


def figures_in(nb_path: Path) -> int:
    "How many images a notebook shows: image outputs and markdown images."
    nb = nbformat.read(nb_path, as_version=4)
    outs = sum(any(k.startswith("image/") for k in o.get("data", {})) for c in nb.cells if c.cell_type == "code"
               for o in c.outputs)
    return outs + sum(c.source.count("![") + c.source.count("<img") for c in nb.cells if c.cell_type == "markdown")


@pytest.mark.browser
def test_book_site_in_chromium(tmp_path):
    "Every page of the real book loads offline from a local server; its images decode; its internal links resolve."
    from playwright.sync_api import sync_playwright

    from browser import CHROMIUM_ARGS, chromium_path
    bs = build_site_module()
    site = tmp_path / "site"
    pages = bs.build_site(site, REPO / "nbs", quiet=True)
    handler = functools.partial(type("Quiet", (http.server.SimpleHTTPRequestHandler,),
                                     dict(log_message=lambda *a: None)), directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    offsite, problems, ids, links = [], [], {}, []
    page = None
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
            context = browser.new_context(viewport=dict(width=1280, height=900))
            def route(r):  # the site must need nothing from elsewhere: such a request fails and is counted
                if r.request.url.startswith(base) or r.request.url.startswith("data:"): r.continue_()
                else: offsite.append(r.request.url); r.abort()
            context.route("**/*", route)
            page = context.new_page()
            page.on("console", lambda m: m.type == "error" and problems.append(f"{page.url}: console: {m.text}"))
            page.on("pageerror", lambda e: problems.append(f"{page.url}: {e}"))
            page.on("requestfailed", lambda r: problems.append(f"{page.url}: request failed: {r.url[:120]}"))
            page.on("response", lambda r: r.status >= 400 and problems.append(f"{page.url}: {r.status} {r.url[:120]}"))
            for p in pages:
                resp = page.goto(f"{base}/{p.name}", wait_until="load")
                assert resp.status == 200, p.name
                imgs = page.eval_on_selector_all("img", "es => es.map(e => [e.src.slice(0, 60), e.naturalWidth])")
                assert all(w > 0 for _, w in imgs), (p.name, [s for s, w in imgs if not w])
                if figures_in(REPO / "nbs" / f"{p.stem}.ipynb"):
                    assert imgs, f"{p.name}: the chapter has figures, the page shows none"
                sheets = page.evaluate("[...document.styleSheets].map(s => s.cssRules.length)")
                assert len(sheets) >= 3 and min(sheets) > 0, f"{p.name}: style sheets {sheets}"  # JupyterLab's CSS
                ids[p.name] = set(page.eval_on_selector_all("[id]", "es => es.map(e => e.id)"))
                links += [(p.name, h) for h in page.eval_on_selector_all("a[href]", "es => es.map(e => e.href)")]
            assert len({h for _, h in links}) > len(pages)  # the sidebar alone links every page
            for src, href in links:
                url = urlsplit(href)
                if f"{url.scheme}://{url.netloc}" != base: continue
                name = url.path.lstrip("/") or "index.html"
                if name not in ids:  # not a page: a file of the site (an image, ...)
                    assert context.request.get(href).status == 200, f"{src}: link {href} is broken"
                elif url.fragment:
                    # the browser looks the fragment up as it is, then percent-decoded
                    assert {url.fragment, unquote(url.fragment)} & ids[name], f"{src}: {href}: no such anchor in {name}"
            math = page.goto(f"{base}/05_evaluation.html") and page.eval_on_selector_all(
                "math", "es => es.map(e => e.getBoundingClientRect().height)")
            assert not math or all(h > 0 for h in math)  # MathML laid out by the browser itself
            browser.close()
    except BaseException:
        out = ARTIFACTS / "site"
        out.mkdir(parents=True, exist_ok=True)
        if page is not None:
            try: page.screenshot(path=str(out / "failure.png"))
            except Exception: pass
        raise
    finally:
        server.shutdown()
    assert not offsite, f"requests off this machine: {offsite[:5]}"
    assert not problems, problems[:10]
