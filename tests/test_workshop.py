"""The workshop kit (chapter 08) driven in-process: widgets set and clicked as a learner would, outputs read back.

Expected answers are never written here: they are read from the shipped laptop model at run time."""
import re

import pytest

from s1_nb import workshop as ws
from s1_nb.core import inference_prompt, load_laptop
from s1_nb.forcing import generate
from s1_nb.laptop import laptop_answer

QUESTION = "How many r in raspberry?"


@pytest.fixture(scope="module")
def laptop():
    return load_laptop()


def direct(laptop, question, waits, budget):
    "What the panels should show, from `generate` itself."
    m, tok = laptop
    return generate(inference_prompt(question, tok), m, tok, num_waits=waits, max_thinking_tokens=budget,
                    max_answer_tokens=12)[0]


def shown_answer(page):
    return re.search(r"answer: <b>([^<]*)</b>", page).group(1)


@pytest.fixture
def generate_calls(monkeypatch):
    calls = []
    def counting(*a, **k):
        calls.append(k.get("num_waits"))
        return generate(*a, **k)
    monkeypatch.setattr(ws, "generate", counting)
    return calls


def test_loading_prints_no_progress_bar(capfd):
    from transformers.utils import logging as hf_logging
    load_laptop()
    assert "Loading weights" not in capfd.readouterr().err
    assert hf_logging.is_progress_bar_enabled()  # on again afterwards


def test_default_budget_lets_every_wait_land(laptop):
    for n in (1, 3, 6):
        out = direct(laptop, "How many s in mississippi?", n, ws.waits_budget(n, laptop[1]))
        assert out.waits == n and not out.cut_by_budget, out.text
    with pytest.raises(ValueError, match="max_waits"): ws.waits_budget(-2, laptop[1])


def test_panel_starts_at_zero_and_one_wait_changes_trace_and_answer(laptop):
    p = ws.forcing_panel(*laptop, QUESTION)
    assert p.waits.value == 0 and p.budget.value == ws.waits_budget(6, laptop[1])
    zero = p.view.value
    assert shown_answer(zero) == str(laptop_answer(direct(laptop, QUESTION, 0, p.budget.value)))
    assert zero.count('class="forced wait"') == 0
    p.waits.value = 1
    one = p.view.value
    assert one != zero and one.count('class="forced wait"') == 1 and "1 Wait," in one
    assert shown_answer(one) == str(laptop_answer(direct(laptop, QUESTION, 1, p.budget.value)))
    assert "forced Wait" in one  # the colour key
    assert p.view.layout.height  # a fixed height: the panel does not jump


def test_budget_that_blocks_a_wait_says_so(laptop):
    two = direct(laptop, QUESTION, 2, 200)
    p = ws.forcing_panel(*laptop, QUESTION)
    p.budget.value = two.thinking_tokens  # room for two passes
    p.waits.value = 3
    blocked = direct(laptop, QUESTION, 3, two.thinking_tokens)
    assert blocked.waits < 3
    assert f"{blocked.waits} of 3 Waits: budget reached" in p.view.value


def test_question_runs_on_enter_or_run_not_per_keystroke(laptop, generate_calls):
    p = ws.forcing_panel(*laptop, QUESTION)
    assert len(generate_calls) == 1  # the first trace
    assert p.question.continuous_update is False  # the browser sends the text on Enter (or blur) only
    p.waits.value = 2
    assert len(generate_calls) == 2
    p.question.value = "How many n in banana?"  # what Enter sends
    assert len(generate_calls) == 3 and "2 Waits" in p.view.value
    p.run.click()
    assert generate_calls == [0, 2, 2, 2]


@pytest.mark.parametrize("bad", ["", "   ", "What is 2+2?", "How many r in r2d2?", "How many ab in abab?",
                                 "How many s in " + "s" * 25 + "?"])
def test_bad_question_gets_a_message_not_a_trace(laptop, generate_calls, bad):
    p = ws.forcing_panel(*laptop, QUESTION)
    p.question.value = bad
    assert "s1-message" in p.view.value and "s1-trace" not in p.view.value
    assert len(generate_calls) == 1  # nothing generated for it
    expected = ws.question_message(bad)
    assert expected and ws.html.escape(expected) in p.view.value


def test_compare_shows_both_answers(laptop):
    c = ws.compare_panel(*laptop, QUESTION, waits=2)
    budget = ws.waits_budget(6, laptop[1])
    for view, k in ((c.left, 0), (c.right, 2)):
        assert f"<h4>{k} Waits</h4>" in view.value
        assert shown_answer(view.value) == str(laptop_answer(direct(laptop, QUESTION, k, budget)))
        assert f"{direct(laptop, QUESTION, k, budget).thinking_tokens} thinking tokens" in view.value
    c.waits.value = 1
    assert "<h4>1 Wait</h4>" in c.right.value and "<h4>0 Waits</h4>" in c.left.value


def test_sweep_button_draws_a_figure(laptop):
    s = ws.sweep_panel(*laptop, n=12, settings=ws.sweep_settings((0, 1), (16,)))
    assert not s.plot.outputs
    s.run.click()
    assert s.status.value == "3 of 3 settings done"
    png = s.plot.outputs[0]["data"]["image/png"]
    import base64
    assert base64.b64decode(png)[:8] == b"\x89PNG\r\n\x1a\n"


def test_sweep_reuses_the_evaluation_chapter(laptop):
    res = ws.sweep_results(*laptop, n=8, settings=ws.sweep_settings((0, 2), ()))
    assert list(res.setting) == ["wait=0", "wait=2"]
    from s1_nb.evaluation import grade
    from s1_nb.laptop import letter_problems
    m, tok = laptop
    outs = generate([inference_prompt(p["problem"], tok) for p in letter_problems(8)], m, tok, num_waits=2,
                    max_thinking_tokens=256, max_answer_tokens=12)
    right = sum(grade(o.text, p["answer"], "count").correct for o, p in zip(outs, letter_problems(8)))
    assert res.accuracy.iloc[1] == pytest.approx(100 * right / 8)


def test_no_progress_widgets_in_the_panels(laptop):
    import ipywidgets as w
    def walk(x):
        yield x
        for c in getattr(x, "children", ()): yield from walk(c)
    for panel in (ws.forcing_panel(*laptop), ws.compare_panel(*laptop), ws.sweep_panel(*laptop, n=4)):
        assert not [x for x in walk(panel) if isinstance(x, (w.FloatProgress, w.IntProgress))]


def test_copy_slips_reads_the_passes(laptop):
    from s1_nb.forcing import build_output
    tok = laptop[1]
    out = build_output("", [("thinking", tok.encode("\nQuick: 1.\nWait, mis1s2... So 2.\nWait, mis1s2s3... So 3.\n"))],
                       tok, waits=2, cut=False)
    assert ws.copy_slips(out, "mississippi") == ["pass 2 copied misss for missi"]


def test_voila_command_line():
    cmd = ws.voila_command("nbs/08_workshop.ipynb", port=9000, cull_idle=30, pool=3, max_kernels=12)
    assert cmd[1:4] == ["-m", "voila", "nbs/08_workshop.ipynb"]
    for flag in ("--no-browser", "--Voila.ip=127.0.0.1", "--port=9000", "--MappingKernelManager.cull_idle_timeout=30",
                 "--MappingKernelManager.cull_interval=10", "--MappingKernelManager.cull_connected=False",
                 "--VoilaConfiguration.preheat_kernel=True", "--VoilaConfiguration.default_pool_size=3",
                 "--VoilaConfiguration.multi_kernel_manager_class=s1_nb.workshop.RoomKernelManager",
                 "--RoomKernelManager.max_kernels=12", "--Voila.identity_provider_class=s1_nb.workshop.RoomIdentityProvider"):
        assert flag in cmd
    assert not any("preheat" in c for c in ws.voila_command("x.ipynb", pool=0))
    assert "--Voila.ip=0.0.0.0" in ws.voila_command("x.ipynb", ip="0.0.0.0")
    for bad in (dict(port=-1), dict(port=70000), dict(cull_idle=-5), dict(port=True), dict(pool=-1),
                dict(pool=4, max_kernels=4)):
        with pytest.raises(ValueError, match="--"): ws.voila_command("x.ipynb", **bad)
    assert not [c for c in cmd if "token" in c]
    assert ws.voila_command("x.ipynb", token=True)[-1] == "--Voila.auto_token=True"  # the token itself: from a file
    env = ws.workshop_env({"OMP_NUM_THREADS": "16", "PATH": "/bin", "JUPYTER_TOKEN": "stray"}, token_file="/t/f")
    assert env["OMP_NUM_THREADS"] == "1" and env["PATH"] == "/bin"
    assert env["JUPYTER_TOKEN_FILE"] == "/t/f" and "JUPYTER_TOKEN" not in env


def test_workshop_command(capsys, monkeypatch, tmp_path):
    monkeypatch.delenv(ws.TOKEN_ENV, raising=False)
    cmd = ws.workshop(dry_run=True)
    out = capsys.readouterr().out
    assert cmd[3] == str(ws.learner_notebook()) and "127.0.0.1:8866" in out and "proxy" in out and "token" not in cmd[-1]
    cmd = ws.workshop(ip="0.0.0.0", dry_run=True)  # a public bind without a token gets one, printed for the leader
    out = capsys.readouterr().out
    token = re.search(r"\?token=(\S+) \(generated", out).group(1)
    assert len(token) >= 16 and cmd[-1] == "--Voila.auto_token=True" and not any(token in c for c in cmd)
    monkeypatch.setenv(ws.TOKEN_ENV, "s3cret")
    cmd = ws.workshop(ip="0.0.0.0", dry_run=True)
    assert "?token=s3cret (from $S1_WORKSHOP_TOKEN)" in capsys.readouterr().out and not any("s3cret" in c for c in cmd)
    with pytest.raises(FileNotFoundError, match="--notebook"): ws.workshop(notebook=str(tmp_path / "none.ipynb"))
    with pytest.raises(ValueError, match="--port: 70000"): ws.workshop(port=70000, dry_run=True)
    monkeypatch.setattr(ws.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ModuleNotFoundError, match="voila"): ws.workshop(port=8866)  # (no arguments: it reads sys.argv)


def test_s1_workshop_on_the_command_line(capsys, monkeypatch):
    from s1_nb.cli import main
    monkeypatch.delenv(ws.TOKEN_ENV, raising=False)
    for spelling in ("--dry-run", "--dry_run"):
        assert main(["workshop", spelling]) == 0
        assert "voila" in capsys.readouterr().out
    assert main(["workshop", "--dry-run", "--port", "70000"]) == 2
    assert "--port: 70000 is not a whole number from 1 to 65535" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e: main(["workshop", "--token", "s3cret"])  # a token never goes on a command line
    assert e.value.code == 2


def test_the_learner_page(laptop):
    page = ws.learner_page(QUESTION, n_sweep=10)
    (forcing, guide), questions, compare, sweep = page.children[0].children, *page.children[1:]
    assert "s1-forcing-panel" in forcing._dom_classes and "How to read a trace" in guide.value
    assert questions.value.count("<li>") == len(ws.ROOM_QUESTIONS)
    assert "s1-compare-panel" in compare._dom_classes and "s1-sweep-panel" in sweep._dom_classes
    forcing.waits.value = 2
    shown = forcing.view.value
    assert shown.index('class="s1-key"') < shown.index('class="s1-trace"')  # the colour key above the trace
    assert "↵" not in shown and "&lt;|im_start|&gt;" not in shown and "end of thinking" in shown
    assert shown.count('class="forced wait"') == 2


def test_the_room_caps_its_kernels():
    import asyncio
    from tornado import web
    km = ws.RoomKernelManager(max_kernels=0)  # no kernel may start: refused before anything is launched
    with pytest.raises(web.HTTPError) as e: asyncio.run(km.start_kernel())
    assert e.value.status_code == 503 and "the room is full" in e.value.log_message


def test_why_this_word_fails_finds_and_explains_real_failures(laptop):
    "Section 7 has a failure to show: at 2 Waits a word outruns its passes; at the panel's last Wait (the default) a copy slips."
    m, tok = laptop
    few = ws.failing_word(m, tok, waits=2)
    assert few is not None, "every typed word right at 2 Waits: section 7 would show no failure"
    p, out = few
    assert laptop_answer(out) != int(p["answer"])
    assert ws.failure_reason(out, p).startswith("the passes ran out"), ws.failure_reason(out, p)
    many = ws.failing_word(m, tok)
    assert many is not None, "every typed word right at the default Waits: section 7 would show no failure"
    p, out = many
    assert out.waits == 6 and ws.failure_reason(out, p).startswith("a pass miscopied the word: pass ")
    assert ws.failure_reason(out, p) != "every pass copied the word, but the count slipped"
