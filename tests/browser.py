"""A headless JupyterLab driven by Playwright through Debian's chromium: how the widget tests see a notebook."""
import json
import secrets
import shutil
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-gpu", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


def chromium_path():
    return shutil.which("chromium") or shutil.which("chromium-browser")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_notebook(path: Path, sources: list[str]):
    cells = [dict(cell_type="code", metadata={}, execution_count=None, outputs=[], source=s) for s in sources]
    nb = dict(cells=cells, nbformat=4, nbformat_minor=5,
              metadata=dict(kernelspec=dict(name="python3", display_name="python3", language="python")))
    path.write_text(json.dumps(nb))


@contextmanager
def jupyterlab(root: Path, timeout: float = 90):
    "Start JupyterLab on loopback in `root`; yield its base URL with the token. Stopped on exit."
    port, token = free_port(), secrets.token_hex(12)
    log = open(root / "jupyterlab.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", "--ip=127.0.0.1", f"--port={port}",
         f"--IdentityProvider.token={token}", "--LabApp.news_url=", f"--ServerApp.root_dir={root}",
         "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"], stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + timeout
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close(); break
            except OSError:
                if proc.poll() is not None or time.time() > deadline:
                    raise RuntimeError(f"JupyterLab did not start; see {root / 'jupyterlab.log'}")
                time.sleep(0.5)
        yield f"http://127.0.0.1:{port}", token
    finally:
        proc.terminate()
        try: proc.wait(15)
        except subprocess.TimeoutExpired: proc.kill()
        log.close()


def open_and_run(page, base: str, token: str, name: str, timeout_ms: int = 120_000):
    "Open notebook `name` in JupyterLab and run all its cells."
    page.goto(f"{base}/lab/tree/{name}?token={token}")
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=timeout_ms)
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator, #jp-main-statusbar", timeout=timeout_ms)
    time.sleep(2)  # let the kernel connect
    page.click("text=Run", timeout=timeout_ms)
    page.click("text=Run All Cells", timeout=timeout_ms)
