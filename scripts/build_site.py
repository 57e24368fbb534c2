"""Build the book as a static website, offline: `python scripts/build_site.py` writes `_site/`.

The pages are the committed chapters as they are (outputs included, nothing is run), each converted by nbconvert's
HTML exporter (the `lab` template), in the book's order: the front page (`nbs/index.ipynb`), the chapters (00-08,
06b after 06), the exercise answers (09), the appendices (90-97), then the reference notebooks (98 testing, 99 the
CLI). Every page has a sidebar of all pages, grouped by those parts, and previous/next links in the same order.
Links between chapters (`X.ipynb`) point at `X.html`; links to other files of the repository point at them on
GitHub (`git_url` in settings.ini); images a markdown cell takes from a file (`../docs/x.png`) are copied into
`images/`. Nothing is loaded from a CDN: no require.js, no widget renderer (a widget output says how to use it live),
and math is MathML made at build time by latex2mathml. The new site replaces the old one only once it is complete
(built in a temporary folder beside it, then swapped in)."""
import argparse
import configparser
import html
import re
import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
IMAGES = "images"
HIDE = re.compile(r"^\s*#\|\s*hide\s*$", re.M)  # nbdev: a cell hidden from the docs
DIRECTIVE = re.compile(r"^\s*#\|.*(\n|$)", re.M)  # nbdev/quarto directives (`#| export`): not for the reader

TEMPLATE = r"""{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock -%}
{%- block jupyter_widgets -%}{%- endblock -%}
{%- block html_head_js_mathjax -%}{%- endblock -%}
{%- block html_head_js_mermaidjs -%}{%- endblock -%}
{% block extra_css %}<style type="text/css">
body.jp-Notebook { margin: 0; padding: 0; }
nav.s1-sidebar { position: fixed; top: 0; left: 0; bottom: 0; width: 15rem; overflow-y: auto; padding: 1rem;
  box-sizing: border-box; border-right: 1px solid #ddd; background: #fafafa; font: 14px/1.4 sans-serif; }
nav.s1-sidebar .s1-book { font-weight: bold; font-size: 16px; display: block; margin-bottom: .8rem; }
nav.s1-sidebar ol { list-style: none; padding: 0; margin: 0; }
nav.s1-sidebar li { margin: .25rem 0; }
nav.s1-sidebar li.s1-current a { font-weight: bold; color: #000; }
nav.s1-sidebar li.s1-part { margin-top: .9rem; font-size: 12px; text-transform: uppercase; letter-spacing: .05em;
  color: #666; }
nav.s1-sidebar a { text-decoration: none; color: #1a5fb4; }
main { margin-left: 15rem; padding: 1rem 2rem; max-width: 60rem; }
nav.s1-pager { display: flex; justify-content: space-between; margin: 1rem 0; font: 14px sans-serif; }
nav.s1-pager a { color: #1a5fb4; }
.s1-widget-note { font-style: italic; color: #555; padding: .3rem 0; }
@media (max-width: 50rem) { nav.s1-sidebar { position: static; width: auto; border-right: 0; }
  main { margin-left: 0; } }
</style>{% endblock extra_css %}
{%- block body_header -%}
<body class="jp-Notebook" data-jp-theme-light="true" data-jp-theme-name="JupyterLab Light">
{{ resources.s1_sidebar }}
<main>
{{ resources.s1_pager }}
{%- endblock body_header -%}
{% block body_footer %}
{{ resources.s1_pager }}
</main>
</body>
{% endblock body_footer %}
{% block footer %}
</html>
{% endblock footer %}
{% block input %}
<div class="jp-CodeMirrorEditor jp-Editor jp-InputArea-editor" data-type="inline">
     <div class="cm-editor cm-s-jupyter">
{{ cell.source | highlight_code(metadata=cell.metadata) }}
     </div>
</div>
{%- endblock input %}
{% block data_png scoped %}
<div class="jp-RenderedImage jp-OutputArea-output {{ extra_class }}">
<img src="data:image/png;base64,{{ output.data['image/png'] | escape_html }}"
 alt="{{ output.metadata.get('s1_alt', 'A figure made by the code above') | escape_html }}"
{%- set width=output | get_metadata('width', 'image/png') -%}
{%- if width is not none %} width={{ width | escape_html }}{%- endif %}>
</div>
{%- endblock data_png %}
{%- block data_widget_view scoped %}
<div class="jp-OutputArea-output s1-widget-note">An interactive widget: open this notebook in Jupyter
(or run <code>s1 workshop</code>) to use it.</div>
{%- endblock data_widget_view -%}
"""


class BadInput(ValueError):
    "A problem with the book's files, said in one line (exit status 2)."


PARTS = ("", "Chapters", "Exercise answers", "Appendices", "Reference")  # the sidebar's groups, in order


def part(path: Path) -> int:
    """Where a notebook sits in the book (an index into PARTS): 0 the front page, 1 a chapter (00-08, 06b, any other
    number below 90 but 09), 2 the exercise answers (09), 3 an appendix (90-97), 4 a reference notebook (98, 99)."""
    if path.stem == "index": return 0
    n = re.match(r"\d+", path.stem).group()
    if n == "09": return 2
    return 1 if int(n) < 90 else 3 if int(n) < 98 else 4


def chapters(nbs: Path) -> list[Path]:
    "The book's pages in reading order: index.ipynb, the chapters, 09, the appendices (90-97), then 98 and 99."
    if not nbs.is_dir(): raise BadInput(f"notebook folder {nbs} does not exist")
    index = nbs / "index.ipynb"
    found = ([index] if index.exists() else []) + sorted(nbs.glob("[0-9]*.ipynb"), key=lambda p: (part(p), p.stem))
    if not found: raise BadInput(f"no notebooks in {nbs} (expected index.ipynb and [0-9]*.ipynb)")
    return found


def title(nb, path: Path) -> str:
    "The notebook's first markdown heading (`# Budget forcing`), else its file name."
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            m = re.search(r"^#\s+(.+?)\s*$", cell.source, re.M)
            if m: return re.sub(r"[`*]", "", m.group(1))
    return path.stem


def for_reader(nb):
    """Drop the cells nbdev hides from its docs (`#| hide`), the `#| ...` directive lines of the others, and the code
    cells left with nothing to show (`#| default_exp x` alone); give each figure its caption as alt text."""
    for c in nb.cells:
        if c.cell_type == "code" and not HIDE.search(c.source): c.source = DIRECTIVE.sub("", c.source).strip("\n")
    nb.cells = [c for c in nb.cells if not (c.cell_type == "code" and (HIDE.search(c.source) or
                                                                      not (c.source.strip() or c.outputs)))]
    for i, c in enumerate(nb.cells):  # a figure's alt text: the caption (the next markdown cell's first sentence)
        caption = next((m.source for m in nb.cells[i + 1:] if m.cell_type == "markdown"), "")
        alt = re.split(r"(?<=[.!?])\s", re.sub(r"[`*#>]|\$", "", caption).strip(), maxsplit=1)[0][:200]
        for o in c.get("outputs", []):
            if alt and "image/png" in o.get("data", {}): o.setdefault("metadata", {})["s1_alt"] = alt
    return nb


def exporter():
    "nbconvert's HTML exporter (lab template, no CDN scripts) whose markdown turns `$...$` math into MathML."
    from jinja2 import DictLoader
    from latex2mathml.converter import convert
    from nbconvert.exporters import HTMLExporter
    from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath

    def mathml(tex, display):
        try: return convert(html.unescape(tex), display=display)
        except Exception: return f"<code>{html.escape(tex)}</code>"  # TeX latex2mathml cannot read stays legible

    class Renderer(IPythonRenderer):
        def inline_math(self, body): return mathml(body, "inline")
        def block_math(self, body): return mathml(body, "block")

    class Exporter(HTMLExporter):
        def markdown2html(self, context, source):
            cell = context.get("cell", {})
            path = context.get("resources", {}).get("metadata", {}).get("path", "")
            r = Renderer(escape=False, attachments=cell.get("attachments", {}), path=path,
                         anchor_link_text=self.anchor_link_text, exclude_anchor_links=self.exclude_anchor_links)
            return self.rewrite(MarkdownWithMath(renderer=r).render(source))
        rewrite = staticmethod(lambda fragment: fragment)  # set per page: the links and images of its markdown
    Exporter.markdown2html.__dict__.update(HTMLExporter.markdown2html.__dict__)  # keep @contextfilter's flag
    return Exporter(extra_loaders=[DictLoader({"s1_site.html.j2": TEMPLATE})], template_file="s1_site.html.j2",
                    exclude_input_prompt=True, exclude_output_prompt=True)


def github_url(repo: Path) -> str:
    "Where the repository's files are read online: settings.ini's git_url and branch."
    cfg = configparser.ConfigParser()
    cfg.read(repo / "settings.ini")
    s = cfg["DEFAULT"]
    return f"{s.get('git_url', 'https://github.com/s1-nb/s1_nb').rstrip('/')}/blob/{s.get('branch', 'main')}"


def navigation(pages: list[tuple[str, str]], i: int, parts: list[int] | None = None) -> tuple[str, str]:
    """The sidebar (every page, the current one marked, a heading where a new part of the book starts: `parts[j]` is
    page j's index into PARTS) and the previous/next links of page `i`."""
    esc = html.escape
    current = ' class="s1-current"'
    parts = parts or [0] * len(pages)
    items = "".join((f'<li class="s1-part">{esc(PARTS[parts[j]])}</li>'
                     if PARTS[parts[j]] and (j == 0 or parts[j] != parts[j - 1]) else "")
                    + f'<li{current if j == i else ""}><a href="{esc(f)}">{esc(t)}</a></li>'
                    for j, (f, t) in enumerate(pages))
    sidebar = f'<nav class="s1-sidebar"><a class="s1-book" href="index.html">s1_nb</a><ol>{items}</ol></nav>'
    prev = f'<a class="s1-prev" href="{esc(pages[i-1][0])}">&larr; {esc(pages[i-1][1])}</a>' if i else "<span></span>"
    nxt = (f'<a class="s1-next" href="{esc(pages[i+1][0])}">{esc(pages[i+1][1])} &rarr;</a>'
           if i + 1 < len(pages) else "<span></span>")
    return sidebar, f'<nav class="s1-pager">{prev}{nxt}</nav>'


def rewrite(page: str, src: Path, nbs: Path, repo: Path, out: Path, names: set[str], github: str) -> str:
    """Point the chapter links of a markdown cell's HTML at their pages, other repository files at GitHub, and file
    images at copies in `out/images`. A missing image file is an error naming the notebook and the path."""
    from bs4 import BeautifulSoup
    soup = BeautifulSoup(page, "html.parser")
    local = lambda u: u and not re.match(r"^([a-z][a-z0-9+.-]*:|//|#)", u, re.I)
    for a in soup.find_all("a", href=True):
        href = a["href"]
        if not local(href): continue
        path, _, frag = href.partition("#")
        if path.endswith(".html") and path[:-5] in names: continue  # the site's own pages (the navigation)
        target = (nbs / path).resolve()
        if target.suffix == ".ipynb" and target.parent == nbs.resolve() and target.stem in names:
            a["href"] = f"{target.stem}.html" + (f"#{frag}" if frag else "")
        elif target.is_relative_to(repo):
            a["href"] = f"{github}/{target.relative_to(repo).as_posix()}" + (f"#{frag}" if frag else "")
        else: raise BadInput(f"{src.name}: link {href!r} points outside the repository")
    for img in soup.find_all("img", src=True):
        s = img["src"]
        if not local(s): continue
        f = (nbs / s.split("#")[0].split("?")[0]).resolve()
        if not f.is_file():
            raise BadInput(f"{src.name}: image {s!r} not found ({f.relative_to(repo) if f.is_relative_to(repo) else f})")
        rel = f.relative_to(repo).as_posix().replace("/", "_") if f.is_relative_to(repo) else f.name
        (out / IMAGES).mkdir(exist_ok=True)
        shutil.copy2(f, out / IMAGES / rel)
        img["src"] = f"{IMAGES}/{rel}"
    return str(soup)


def shared_css(page: str, out: Path, *,
               min_chars: int = 4096,  # smaller style blocks stay in the page
              ) -> str:
    """Move the page's big `<style>` blocks (JupyterLab's CSS, the same on every page) into files `out/css/<hash>.css`
    linked in their place, so the browser fetches them once for the whole book."""
    import hashlib
    def link(m):
        css = m.group(1)
        if len(css) < min_chars: return m.group(0)
        name = f"css/{hashlib.sha256(css.encode()).hexdigest()[:12]}.css"
        if not (out / name).exists():
            (out / "css").mkdir(exist_ok=True)
            (out / name).write_text(css)
        return f'<link rel="stylesheet" href="{name}">'
    head, sep, rest = page.partition("</head>")
    return re.sub(r'<style type="text/css">(.*?)</style>', link, head, flags=re.S) + sep + rest


def build_site(out: Path = REPO / "_site", nbs: Path = REPO / "nbs", *,
               quiet: bool = False,  # print nothing (a line per page otherwise)
              ) -> list[Path]:
    "Write the book's pages (HTML) to `out` from the notebooks in `nbs`; return the pages written."
    import nbformat
    nbs, out = Path(nbs), Path(out)
    repo = nbs.resolve().parent
    srcs = chapters(nbs)
    nbs_read = []
    for p in srcs:
        try: nbs_read.append(nbformat.read(p, as_version=4))
        except Exception as e: raise BadInput(f"{p}: not a readable notebook ({type(e).__name__}: {e})") from None
    pages = [(f"{p.stem}.html", title(nb, p)) for p, nb in zip(srcs, nbs_read)]
    names, github, ex = {p.stem for p in srcs}, github_url(repo), exporter()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp", dir=out.parent))
    tmp.chmod(0o755)  # mkdtemp's folder is private; a site is read by a web server (or a Pages upload)
    try:
        for i, (p, nb) in enumerate(zip(srcs, nbs_read)):
            sidebar, pager = navigation(pages, i, [part(q) for q in srcs])
            ex.rewrite = lambda fragment: rewrite(fragment, p, nbs, repo.resolve(), tmp, names, github)
            body, _ = ex.from_notebook_node(for_reader(nb), resources=dict(
                metadata=dict(name=pages[i][1], path=str(nbs)), s1_sidebar=sidebar, s1_pager=pager))
            (tmp / pages[i][0]).write_text(shared_css(body, tmp))
            if not quiet: print(f"{p.name} -> {out / pages[i][0]}")
        (tmp / ".nojekyll").write_text("")  # GitHub Pages: serve the files as they are
        old = out.with_name(f".{out.name}.tmp-old")
        if old.exists(): shutil.rmtree(old)
        if out.exists(): out.rename(old)
        tmp.rename(out)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return [out / f for f, _ in pages]


def main(argv=None):
    ap = argparse.ArgumentParser(description="Build the book as a static website (offline) from the committed chapters.")
    ap.add_argument("--out", type=Path, default=REPO / "_site", help="output folder (default: _site)")
    ap.add_argument("--nbs", type=Path, default=REPO / "nbs", help="the notebooks (default: nbs)")
    ap.add_argument("--quiet", action="store_true", help="print nothing")
    a = ap.parse_args(argv)
    try: pages = build_site(a.out, a.nbs, quiet=a.quiet)
    except BadInput as e:
        print(f"build_site: {e}", file=sys.stderr)
        return 2
    if not a.quiet: print(f"{len(pages)} pages in {a.out}; open {a.out / 'index.html'} or serve: python -m http.server -d {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
