"""The project's own promises: two commands, a mirrored environment.yml, clean notebooks."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~ \[]", requirement.strip(), maxsplit=1)[0].lower()


def test_environment_yml_names_the_same_packages_as_pyproject():
    """environment.yml (Binder, conda) runs the labs in JupyterLab: the runtime dependencies
    plus the ``lab`` and ``server`` extras, and nothing of the grader's or the tests'."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    wanted = {_name(r) for r in [*project["dependencies"], *extras["lab"], *extras["server"]]}
    wanted -= {"labkit-images"}
    lines = (ROOT / "environment.yml").read_text().splitlines()
    lines = lines[lines.index("dependencies:") :]
    listed = {
        _name(line.strip()[2:])
        for line in lines
        if line.startswith("  - ") and not line.strip().startswith("- pip:")
    }
    listed -= {"python", "pip"}
    assert listed == wanted
    assert lines[-1].strip() == "- -e ."
    assert "conda-forge" in (ROOT / "environment.yml").read_text()


def test_python_requirement_matches():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert pyproject["project"]["requires-python"] == ">=3.11"
    assert "python>=3.11" in (ROOT / "environment.yml").read_text()


def test_readme_begins_with_the_two_commands():
    text = (ROOT / "README.md").read_text()
    first_code = re.search(r"```(?:sh|bash|console)?\n(.*?)```", text, re.S)
    assert first_code is not None
    assert first_code.group(1).split() == ["make", "lab"] or "make lab" in first_code.group(1)
    head = text[: text.index("make test") + 10]
    assert "make lab" in head
    assert "mybinder.org" not in text  # no badge for a hosted copy that does not exist


def test_ci_runs_the_readme_test_command():
    script = (ROOT / ".ci" / "run").read_text()
    assert "make test" in script


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_is_stored_clean(path):
    nb = json.loads(path.read_text())
    assert (nb["nbformat"], nb["nbformat_minor"]) == (4, 5)
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    assert "widgets" not in nb["metadata"], "saved widget state"
    ids = [cell["id"] for cell in nb["cells"]]
    assert len(ids) == len(set(ids)), "cell ids must be unique"
    assert all(re.fullmatch(r"[a-zA-Z0-9-_]{1,64}", i) for i in ids)
    for cell in nb["cells"]:
        assert "widgets" not in cell["metadata"], cell["id"]
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None, cell["id"]


def test_start_here_exists():
    assert (ROOT / "notebooks" / "00-start-here.ipynb").is_file()


def test_import_labkit_stays_light():
    prefixes = ("ipy", "nb", "IPython", "traitlets", "labkit.")
    code = f"import sys, labkit; print(sorted(m for m in sys.modules if m.startswith({prefixes})))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['labkit._version', 'labkit.errors']"


def test_the_labs_runtime_is_the_widgets_alone():
    """What a lab needs installs in the browser (Pyodide): ipywidgets and nothing else; the
    server, the grader, JupyterLab, the site's build and the tests are extras."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert [_name(r) for r in project["dependencies"]] == ["ipywidgets"]
    extras = project["optional-dependencies"]
    assert {"tornado"} == {_name(r) for r in extras["server"]}
    assert {"jupyterlab", "ipykernel"} <= {_name(r) for r in extras["lab"]}
    assert {"jupyterlite-core", "jupyterlite-pyodide-kernel"} <= {_name(r) for r in extras["lite"]}
    test = extras["test"]
    assert any(r.startswith("labkit-images[") and "server" in r and "grade" in r for r in test)
