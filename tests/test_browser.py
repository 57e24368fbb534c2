"""Browser tier: the workshop widget `forcing_panel` in a real JupyterLab, driven with the keyboard by Playwright.

A headless JupyterLab (kernel = this venv's python) runs a notebook that loads the shipped laptop checkpoint and
shows `forcing_panel`. Playwright, through Debian's chromium, moves the Waits slider with the arrow keys and types a
new question; each time the rendered trace must be exactly what `generate` + `render_trace_html` give in this
process, with as many highlighted forced "Wait" spans as the slider says. On failure a screenshot, the page HTML and
the JupyterLab log (kernel output included) are saved in `_artifacts/browser/`."""
import html
import re
import shutil

import pytest

from browser import CHROMIUM_ARGS, chromium_path, jupyterlab, open_and_run, write_notebook
from conftest import ARTIFACTS

pytestmark = pytest.mark.browser

QUESTION = "How many r in raspberry?"  # s1's README example, in the laptop task's format ("How many {letter} in {word}?")
TYPED = "How many v in vvrev?"  # a held-out question: letter_problems(3)[2]
PANEL = dict(max_waits=4, max_budget=128, max_thinking_tokens=120, max_answer_tokens=16)
CELL = f"""from s1_nb.core import load_model
from s1_nb.core import laptop_folder
from s1_nb.forcing import forcing_panel
m, tok = load_model(laptop_folder())
forcing_panel(m, tok, question={QUESTION!r}, num_waits=0, **{PANEL!r})"""
TIMEOUT_MS = 90_000  # per wait: 2 cores shared with other jobs; a kernel start plus torch import can take a while
OUT = ARTIFACTS / "browser"


@pytest.fixture(scope="module")
def expected():
    "The trace text and counts line `forcing_panel` should render for (question, waits), computed in this process."
    from s1_nb.core import inference_prompt, load_model
    from s1_nb.forcing import generate, render_trace_html
    from s1_nb.core import laptop_folder
    m, tok = load_model(laptop_folder())
    cfg = dict(max_thinking_tokens=PANEL["max_thinking_tokens"], max_answer_tokens=PANEL["max_answer_tokens"])
    def get(question, waits):
        out = generate(inference_prompt(question, tok), m, tok, num_waits=waits, **cfg)[0]
        text = html.unescape(re.sub(r"<[^>]+>", "", render_trace_html(out)))  # = the rendered div's textContent
        return out, text
    return get


def waits_line(n): return f"{n} wait{'s' if n != 1 else ''} inserted"


def check_trace(trace, expected, question, waits):
    "The trace shows `waits` Waits, highlighted as forced, and is exactly the in-process rendering."
    from playwright.sync_api import expect
    out, text = expected(question, waits)
    assert out.waits == waits, f"the shipped checkpoint ended its thinking fewer than {waits} times: {out.text!r}"
    expect(trace).to_contain_text(waits_line(waits), timeout=TIMEOUT_MS)
    expect(trace).to_have_text(text, timeout=TIMEOUT_MS)
    forced_waits = trace.locator("span.forced.wait")
    expect(forced_waits).to_have_count(waits)
    assert forced_waits.all_text_contents() == ["Wait"] * waits
    assert trace.locator("span.forced").count() == waits  # not cut by the budget: no forced end


def save_failure(page, log, name):
    OUT.mkdir(parents=True, exist_ok=True)
    if page is not None:
        try:
            page.screenshot(path=str(OUT / f"{name}.png"), full_page=True)
            (OUT / f"{name}.html").write_text(page.content())
        except Exception as e:  # the browser itself may be what failed
            (OUT / f"{name}.screenshot-error.txt").write_text(repr(e))
    if log.exists(): shutil.copy(log, OUT / f"{name}.jupyterlab.log")


def test_forcing_panel_in_jupyterlab(tmp_path, expected):
    from playwright.sync_api import expect, sync_playwright
    root, log = tmp_path / "lab", tmp_path / "jupyterlab.log"
    root.mkdir()
    write_notebook(root / "panel.ipynb", [CELL])
    expected(QUESTION, 2)  # load the model here before the kernel competes for the CPU
    page = None
    try:
        with jupyterlab(root, log_path=log) as (base, token), sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True)
            try:
                page = browser.new_page(viewport=dict(width=1400, height=1000))
                page.set_default_timeout(TIMEOUT_MS)
                expect.set_options(timeout=TIMEOUT_MS)
                open_and_run(page, base, token, "panel.ipynb", timeout_ms=TIMEOUT_MS)
                panel = page.locator(".widget-vbox", has=page.locator(".widget-textarea"))
                expect(panel).to_have_count(1, timeout=2 * TIMEOUT_MS)  # kernel start + model load
                trace = panel.locator(".widget-html-content")
                slider = panel.locator(".widget-slider", has=page.locator(".widget-label", has_text="Waits"))
                handle, readout = slider.locator(".noUi-handle"), slider.locator(".widget-readout")

                check_trace(trace, expected, QUESTION, 0)
                expect(readout).to_have_text("0")
                handle.focus()
                for n in (1, 2):  # one key press at a time: each moves the slider one step and reruns generate
                    page.keyboard.press("ArrowRight")
                    expect(readout).to_have_text(str(n))
                    expect(handle).to_have_attribute("aria-valuetext", str(n))
                    check_trace(trace, expected, QUESTION, n)

                box = panel.locator(".widget-textarea textarea")
                expect(box).to_have_value(QUESTION)
                box.click()
                page.keyboard.press("ControlOrMeta+A")
                page.keyboard.type(TYPED)  # one update per key stroke; the last one must win
                expect(box).to_have_value(TYPED)
                check_trace(trace, expected, TYPED, 2)
                expect(page.locator(".jp-NotebookPanel-toolbar .jp-Notebook-ExecutionIndicator[data-status='idle']")
                       ).to_have_count(1)  # every queued update handled...
                check_trace(trace, expected, TYPED, 2)  # ...and the trace still shows the whole question's
            except BaseException:
                save_failure(page, log, "forcing_panel")
                page = None  # saved; the log is copied again below once JupyterLab has stopped
                raise
            finally:
                browser.close()
    except BaseException:
        save_failure(None, log, "forcing_panel")
        raise
