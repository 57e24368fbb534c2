"""Browser tier: the workshop panels (chapter 08) in a real JupyterLab and as a Voilà app, driven by Playwright.

A headless JupyterLab (kernel = this venv's python) runs a notebook that loads the shipped laptop model and shows
`forcing_panel`, `compare_panel` and `sweep_panel`. Playwright, through Debian's chromium, moves the Waits slider
with the arrow keys, types a question (nothing may run before Enter), and clicks the sweep button. Each trace must be
exactly what `ask_html` gives in this process. The Voilà test serves the chapter itself with `voila_command` (skipped
when voila is not installed). On failure a screenshot, the page HTML and the server log (kernel output included) are
saved in `_artifacts/browser/`."""
import html
import os
import re
import shutil
import time

import pytest

from browser import (CHROMIUM_ARGS, chromium_path, jupyterlab, open_and_run, voila_app, voila_skip_reason,
                     write_notebook)
from conftest import ARTIFACTS, REPO

pytestmark = pytest.mark.browser

QUESTION = "How many r in raspberry?"  # s1's README example, in the laptop task's format ("How many {letter} in {word}?")
TYPED = "How many v in vvrev?"  # a held-out question: letter_problems(3)[2]
CELLS = [f"""from s1_nb.core import load_laptop
from s1_nb.workshop import forcing_panel, compare_panel, sweep_panel, sweep_settings
m, tok = load_laptop()
forcing_panel(m, tok, {QUESTION!r})""",
         f"compare_panel(m, tok, {QUESTION!r}, waits=2)",
         "sweep_panel(m, tok, n=12, settings=sweep_settings((0, 1), (16,)))"]
TIMEOUT_MS = 90_000  # per wait: 2 cores shared with other jobs; a kernel start plus torch import can take a while
OUT = ARTIFACTS / "browser"


@pytest.fixture(scope="module")
def expected():
    "The text a panel's trace box should show for (question, waits), computed in this process with `ask_html`."
    from s1_nb.core import load_laptop
    from s1_nb.workshop import ask_html, waits_budget
    m, tok = load_laptop()
    def get(question, waits):
        page = ask_html(m, tok, question, waits=waits, budget=waits_budget(6, tok), max_answer_tokens=12)
        return html.unescape(re.sub(r"<[^>]+>", "", page))  # = the rendered HTML widget's textContent
    return get


def save_failure(page, log, name):
    OUT.mkdir(parents=True, exist_ok=True)
    if page is not None:
        try:
            page.screenshot(path=str(OUT / f"{name}.png"), full_page=True)
            (OUT / f"{name}.html").write_text(page.content())
        except Exception as e:  # the browser itself may be what failed
            (OUT / f"{name}.screenshot-error.txt").write_text(repr(e))
    if log.exists(): shutil.copy(log, OUT / f"{name}.server.log")


def check_forcing_panel(page, expected):
    "Waits 0 -> 1 -> 2 by arrow keys, each trace exact; typing runs nothing until Enter; a budget too short says so."
    from playwright.sync_api import expect
    panel = page.locator(".s1-forcing-panel")
    expect(panel).to_have_count(1, timeout=2 * TIMEOUT_MS)  # kernel start + model load
    trace = panel.locator(".widget-html-content")
    slider = panel.locator(".widget-slider", has=page.locator(".widget-label", has_text="Waits"))
    handle, readout = slider.locator(".noUi-handle"), slider.locator(".widget-readout")
    expect(readout).to_have_text("0")  # the panel starts at 0 Waits
    expect(trace).to_have_text(expected(QUESTION, 0))
    handle.focus()
    for n in (1, 2):  # one key press at a time: each moves the slider one step and reruns generate
        page.keyboard.press("ArrowRight")
        expect(readout).to_have_text(str(n))
        expect(trace).to_have_text(expected(QUESTION, n))
        expect(trace.locator("span.forced.wait")).to_have_count(n)
    assert expected(QUESTION, 1) != expected(QUESTION, 0)
    box = panel.locator(".widget-text input")
    expect(box).to_have_value(QUESTION)
    box.click()
    page.keyboard.press("ControlOrMeta+A")
    page.keyboard.type(TYPED)
    expect(box).to_have_value(TYPED)
    page.wait_for_timeout(2000)  # time enough for a run, had a key stroke triggered one
    expect(trace).to_have_text(expected(QUESTION, 2))  # typed, not sent: the old trace stays
    page.keyboard.press("Enter")
    expect(trace).to_have_text(expected(TYPED, 2))
    budget = panel.locator(".widget-slider", has=page.locator(".widget-label", has_text="budget")).locator(".widget-readout")
    budget.click()  # the slider's readout takes a typed value: a budget of 1 token leaves no room for a Wait
    page.keyboard.press("ControlOrMeta+A")
    page.keyboard.type("1")
    page.keyboard.press("Enter")
    expect(budget).to_have_text("1")
    expect(trace).to_contain_text("0 of 2 Waits: budget reached")


def check_compare_and_sweep(page, expected):
    from playwright.sync_api import expect
    compare = page.locator(".s1-compare-panel")
    left, right = compare.locator(".s1-left .widget-html-content"), compare.locator(".s1-right .widget-html-content")
    expect(left).to_have_text("0 Waits" + expected(QUESTION, 0))
    expect(right).to_have_text("2 Waits" + expected(QUESTION, 2))
    sweep = page.locator(".s1-sweep-panel")
    expect(sweep.locator("img")).to_have_count(0)
    sweep.locator("button").click()
    expect(sweep.locator(".widget-html-content")).to_have_text("3 of 3 settings done")
    expect(sweep.locator(".jp-OutputArea-output img, .widget-output img").first).to_be_visible()


def test_workshop_panels_in_jupyterlab(tmp_path, expected):
    from playwright.sync_api import expect, sync_playwright
    root, log = tmp_path / "lab", tmp_path / "jupyterlab.log"
    root.mkdir()
    write_notebook(root / "panel.ipynb", CELLS)
    expected(QUESTION, 2)  # load the model here before the kernel competes for the CPU
    page = None
    try:
        with jupyterlab(root, log_path=log) as (base, token), sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True)
            try:
                page = browser.new_page(viewport=dict(width=1400, height=1400))
                page.set_default_timeout(TIMEOUT_MS)
                expect.set_options(timeout=TIMEOUT_MS)
                open_and_run(page, base, token, "panel.ipynb", timeout_ms=TIMEOUT_MS)
                check_forcing_panel(page, expected)
                check_compare_and_sweep(page, expected)
            except BaseException:
                save_failure(page, log, "workshop_lab")
                page = None  # saved; the log is copied again below once JupyterLab has stopped
                raise
            finally:
                browser.close()
    except BaseException:
        save_failure(None, log, "workshop_lab")
        raise


def _kernels(proc):
    "The live kernel processes of the server `proc` (one just shut down may linger a moment as a zombie)."
    import psutil
    live = []
    for c in psutil.Process(proc.pid).children(recursive=True):
        try:
            if c.status() != psutil.STATUS_ZOMBIE and "ipykernel" in " ".join(c.cmdline()): live.append(c)
        except psutil.Error: pass  # gone meanwhile
    return live


def _wait_for(what, test, timeout: float, every: float = 1.0):
    "Poll `test()` until it is true; the seconds it took; a failure naming `what` after `timeout` s."
    t0 = time.time()
    while not test():
        if time.time() - t0 > timeout: pytest.fail(f"{what}: not after {timeout:.0f} s")
        time.sleep(every)
    return time.time() - t0


# pages at once (what a shared 2-core machine holds next to the preheated kernels) and preheated kernels;
# S1_ROOM=learners,pool measures a bigger room
LEARNERS, POOL = map(int, os.environ.get("S1_ROOM", "3,2").split(","))
CULL = 20  # seconds a kernel with no page is given before it is culled (the room: 60)


def test_voila_room(tmp_path, expected):
    """The learner's page as `s1 workshop` serves it: preheated kernels, several learners at once (the time to usable
    panels printed), a trace without raw markup, a wrong token's page, and closed or reloaded pages freeing their
    kernels."""
    if why := voila_skip_reason(): pytest.skip(why)
    import urllib.request
    from playwright.sync_api import expect, sync_playwright
    from s1_nb.workshop import learner_notebook
    log, token = tmp_path / "voila.log", "room-secret"
    expected(QUESTION, 1)
    pages = []
    try:
        with voila_app(learner_notebook(), log, token=token, pool=POOL, cull_idle=CULL, cull_interval=1,
                       max_kernels=LEARNERS + POOL + 2) as (base, proc), sync_playwright() as p:
            assert token not in " ".join(" ".join(k.cmdline()) for k in [__import__("psutil").Process(proc.pid)] + _kernels(proc))
            # the pool: kernels that already ran the page (the model loaded, the panels built)
            warm = _wait_for("the preheated kernels", lambda: len(ks := _kernels(proc)) == POOL and  # the page run: idle
                             all(k.memory_info().rss > 300 * 2**20 and k.cpu_percent(0.5) < 10 for k in ks), 4 * TIMEOUT_MS / 1000)
            print(f"\n{POOL} preheated kernels ready {warm:.0f} s after the server started answering")
            with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(base + "/?token=wrong", timeout=30) as r:
                assert "That token is not this workshop" in r.read().decode()  # not Jupyter's generic login
            browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True)
            try:
                expect.set_options(timeout=2 * TIMEOUT_MS)
                t0 = time.time()
                for _ in range(LEARNERS):  # the learners arrive together
                    page = browser.new_page(viewport=dict(width=1400, height=1000))
                    page.set_default_timeout(2 * TIMEOUT_MS)
                    page.goto(f"{base}/?token={token}", wait_until="commit")
                    pages.append(page)
                usable = []
                for page in pages:  # usable: the first trace is there, i.e. the kernel answers the panel
                    expect(page.locator(".s1-forcing-panel .s1-trace")).to_have_count(1)
                    usable.append(time.time() - t0)
                print(f"{LEARNERS} learners at once, panels usable after " + ", ".join(f"{u:.1f}" for u in usable) + " s")
                page = pages[0]
                panel = page.locator(".s1-forcing-panel")
                trace = panel.locator(".widget-html-content")
                expect(trace).to_have_text(expected(QUESTION, 0))
                panel.locator(".noUi-handle").first.focus()
                page.keyboard.press("ArrowRight")
                expect(trace).to_have_text(expected(QUESTION, 1))
                text = trace.inner_text()
                assert "↵" not in text and "<|im_start|>" not in text and "end of thinking" in text
                expect(panel.locator(".s1-key")).to_be_visible()
                expect(page.locator(".s1-guide")).to_contain_text("How to read a trace")
                expect(page.locator(".s1-questions li")).to_have_count(5)
                expect(page.locator(".s1-compare-panel")).to_have_count(1)
                expect(page.locator(".s1-sweep-panel button")).to_have_count(1)
                _wait_for("the pool refilled", lambda: len(_kernels(proc)) == LEARNERS + POOL, 2 * TIMEOUT_MS / 1000)
                mib = sorted(k.memory_info().rss / 2**20 for k in _kernels(proc))
                assert all(k.environ().get("OMP_NUM_THREADS") == "1" for k in _kernels(proc))
                print(f"kernel memory, resident: {mib[0]:.0f}-{mib[-1]:.0f} MiB each ({len(mib)} kernels: "
                      f"{LEARNERS} learners, {POOL} preheated)")
                # a reload and closed tabs: the kernels they held are freed within the cull time
                pages[0].reload(wait_until="commit")
                expect(pages[0].locator(".s1-forcing-panel .s1-trace")).to_have_count(1)
                for page in pages[1:]: page.close()
                freed = _wait_for("kernels freed after close/reload", lambda: len(_kernels(proc)) == 1 + POOL,
                                  CULL + 2 * TIMEOUT_MS / 1000)
                print(f"{LEARNERS - 1} tabs closed and 1 reloaded: back to {1 + POOL} kernels after {freed:.0f} s "
                      f"(cull after {CULL} s)")
            except BaseException:
                save_failure(pages[0] if pages else None, log, "workshop_voila")
                raise
            finally:
                browser.close()
    except BaseException:
        save_failure(None, log, "workshop_voila")
        raise
