"""A vLLM OpenAI-compatible server on loopback, for the tests that talk to one over HTTP."""
import os
import socket
import subprocess
import json
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def vllm_server(model, log_path: Path, timeout: float = 300, kv_cache_mib: int = 256):
    "Start `serve_command(model)` (budget forcing on offer) on a free port; yield its base URL; stop it on exit."
    from s1_nb.vllm_forcing import serve_command
    port, log = free_port(), open(log_path, "w")
    env = dict(os.environ, VLLM_ENABLE_V1_MULTIPROCESSING="1")
    server = subprocess.Popen(serve_command(model, port=port, kv_cache_mib=kv_cache_mib), stdout=log, stderr=subprocess.STDOUT, env=env,
                              start_new_session=True)
    tail = lambda: Path(log_path).read_text()[-3000:]
    try:
        base, deadline = f"http://127.0.0.1:{port}", time.time() + timeout
        while True:
            assert server.poll() is None, "the vLLM server exited:\n" + tail()
            try:
                with urllib.request.urlopen(base + "/health", timeout=2) as r:
                    if r.status == 200: break
            except OSError: pass
            if time.time() > deadline: pytest.fail(f"the vLLM server did not start in {timeout:.0f} s:\n" + tail())
            time.sleep(1)
        yield base
    finally:
        os.killpg(server.pid, 15)
        try: server.wait(timeout=30)
        except subprocess.TimeoutExpired: os.killpg(server.pid, 9); server.wait()
        log.close()


def post_json(url: str, body: dict) -> tuple[int, dict]:
    "POST `body` as JSON; the HTTP status and the JSON answer (an error status too, with its body)."
    req = urllib.request.Request(url, json.dumps(body).encode(), {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=60) as r: return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e: return e.code, json.loads(e.read() or b"{}")
