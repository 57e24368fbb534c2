"""A headless JupyterLab driven by Playwright through Debian's chromium: how the widget tests see a notebook.

No `playwright install`: Playwright launches the system chromium (`chromium_path()`) with `CHROMIUM_ARGS`."""
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-gpu", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]
KERNEL_NAME, KERNEL_DISPLAY = "s1nb-browser", "s1_nb browser tests"


def chromium_path():
    return shutil.which("chromium") or shutil.which("chromium-browser")


def browser_skip_reason() -> str | None:
    "Why the browser tier cannot run here (None when it can): chromium not on PATH, or playwright not importable."
    import importlib.util
    if importlib.util.find_spec("playwright") is None:
        return "browser tier: playwright is not importable (pip install -e '.[dev]')"
    if chromium_path() is None:
        return "browser tier: needs chromium on PATH (apt-get install chromium; scripts/install.sh does it in CI)"
    return None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def install_kernelspec(jupyter_path: Path, name: str = KERNEL_NAME) -> str:
    "A kernelspec under `jupyter_path`/kernels that runs this very interpreter (the venv's), not whatever `python3` is."
    spec = jupyter_path / "kernels" / name
    spec.mkdir(parents=True, exist_ok=True)
    (spec / "kernel.json").write_text(json.dumps(dict(
        argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        display_name=KERNEL_DISPLAY, language="python")))
    return name


def write_notebook(path: Path, sources: list[str], kernel: str = KERNEL_NAME):
    cells = [dict(cell_type="code", metadata={}, execution_count=None, outputs=[], source=s) for s in sources]
    nb = dict(cells=cells, nbformat=4, nbformat_minor=5,
              metadata=dict(kernelspec=dict(name=kernel, display_name=kernel, language="python")))
    path.write_text(json.dumps(nb))


@contextmanager
def jupyterlab(root: Path, timeout: float = 120, log_path: Path | None = None):
    """Start JupyterLab on loopback serving `root`; yield `(base_url, token)`. Stopped on exit.

    Isolated from the user's Jupyter: config, data and runtime dirs live in `root/.jupyter-*`; a kernelspec running
    `sys.executable` (named `KERNEL_NAME`) is put on `JUPYTER_PATH`. The server log (kernel output included) goes to
    `log_path` (default `root/jupyterlab.log`)."""
    port, token = free_port(), secrets.token_hex(12)
    jp = root / ".jupyter-path"
    install_kernelspec(jp)
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(root / ".jupyter-config"), JUPYTER_DATA_DIR=str(root / ".jupyter-data"),
               JUPYTER_RUNTIME_DIR=str(root / ".jupyter-runtime"),
               JUPYTER_PATH=os.pathsep.join([str(jp)] + [p for p in [os.environ.get("JUPYTER_PATH")] if p]))
    log_path = log_path or root / "jupyterlab.log"
    log = open(log_path, "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", "--ip=127.0.0.1", f"--port={port}",
         f"--IdentityProvider.token={token}", "--LabApp.news_url=", f"--ServerApp.root_dir={root}",
         "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate", f"--MappingKernelManager.default_kernel_name={KERNEL_NAME}"],
        stdout=log, stderr=subprocess.STDOUT, env=env, cwd=root)
    base = f"http://127.0.0.1:{port}"
    direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: never via an http_proxy
    def up():  # the REST API answers with our token
        with direct.open(f"{base}/api/status?token={token}", timeout=5) as r: return r.status == 200
    with _running(proc, log, up, "JupyterLab", log_path, timeout):
        yield base, token


@contextmanager
def _running(proc, log, up, what: str, log_path: Path, timeout: float):
    "Wait until the server `proc` is `up()` (OSError: not yet), yield, then stop it and close its `log`."
    try:
        deadline = time.time() + timeout
        while True:
            try:
                if up(): break
            except OSError:
                pass
            if proc.poll() is not None or time.time() > deadline:
                raise RuntimeError(f"{what} did not start (exit code {proc.poll()}); see {log_path}")
            time.sleep(0.5)
        yield
    finally:
        proc.terminate()
        try: proc.wait(20)
        except subprocess.TimeoutExpired: proc.kill(); proc.wait(10)
        log.close()


def open_and_run(page, base: str, token: str, name: str, timeout_ms: int = 120_000):
    """Open notebook `name` in JupyterLab (a fresh workspace), wait until its kernel is connected and idle, and run
    all its cells. (Running before the session has its kernel makes JupyterLab ask "Select Kernel" instead.)"""
    page.goto(f"{base}/lab/tree/{name}?token={token}&reset", timeout=timeout_ms)
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=timeout_ms)
    # the status bar says "<kernelspec display name> | Idle" once the session's kernel is started and connected
    # (the notebook's metadata names the kernel but not this display name, so it cannot show up earlier)
    page.locator("#jp-main-statusbar", has_text=f"{KERNEL_DISPLAY} | Idle").wait_for(timeout=timeout_ms)
    page.wait_for_selector(".jp-NotebookPanel-toolbar .jp-Notebook-ExecutionIndicator[data-status='idle']",
                           state="attached", timeout=timeout_ms)
    page.locator(".lm-MenuBar-item", has_text="Run").first.click(timeout=timeout_ms)
    page.locator(".lm-Menu-item", has_text="Run All Cells").first.click(timeout=timeout_ms)


def voila_skip_reason() -> str | None:
    "Why the Voilà test cannot run here (None when it can): voila not importable."
    import importlib.util
    if importlib.util.find_spec("voila") is None:
        return "Voilà app: the voila package is not installed (pip install 'voila>=0.5.13,<0.6')"
    return None


@contextmanager
def voila_app(notebook: Path, log_path: Path, timeout: float = 120, token: str = "", **options):
    """Serve `notebook` with `s1_nb.workshop.voila_command` (its environment: `workshop_env`; `options`: more of
    voila_command's, e.g. pool, cull_idle) on a free loopback port, with `token` required when given (through a token
    file, as `s1 workshop` does); yield `(base_url, process)`. Stopped on exit; the server log (kernel output
    included) goes to `log_path`."""
    from s1_nb.workshop import voila_command, workshop_env
    port = free_port()
    log = open(log_path, "w")
    root = log_path.parent
    token_file = None
    if token:
        token_file = root / ".voila-token"
        token_file.write_text(token)
    env = dict(workshop_env(token_file=token_file), JUPYTER_CONFIG_DIR=str(root / ".jupyter-config"),
               JUPYTER_RUNTIME_DIR=str(root / ".jupyter-runtime"))
    proc = subprocess.Popen(voila_command(notebook, port=port, token=bool(token), **options), stdout=log,
                            stderr=subprocess.STDOUT, env=env, cwd=notebook.parent)
    base = f"http://127.0.0.1:{port}"
    def up():  # the port accepts connections (a GET of the page would start a kernel)
        with socket.create_connection(("127.0.0.1", port), timeout=5): return True
    with _running(proc, log, up, "Voilà", log_path, timeout):
        yield base, proc
