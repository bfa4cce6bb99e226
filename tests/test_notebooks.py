"""Every notebook runs top to bottom in a fresh kernel, on a scratch copy, without errors.

Output on stderr is allowed: some docker commands print warnings there, as Docker does.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))

pytestmark = pytest.mark.notebook


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_top_to_bottom(path, tmp_path, monkeypatch):
    import nbformat
    from nbclient import NotebookClient

    scratch = tmp_path / "notebooks"
    shutil.copytree(ROOT / "notebooks", scratch)
    (tmp_path / "home").mkdir()
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    nb = nbformat.read(scratch / path.name, as_version=4)
    NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(scratch)}}
    ).execute()
    errors = [
        (cell.get("id"), output)
        for cell in nb.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if output.output_type == "error"
    ]
    assert errors == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_follows_the_lab_layout(path):
    """Set-up cell first, one tagged cell per exercise of its lab, the submission cell last
    (then a word on what next), and nothing that would prompt."""
    import json
    import re

    from labkit.labs import get_lab

    cells = json.loads(path.read_text("utf-8"))["cells"]
    code = [cell for cell in cells if cell["cell_type"] == "code"]
    first = "".join(code[0]["source"])
    assert "setup" in code[0]["metadata"].get("tags", ())
    match = re.search(r'labkit\.start\("([^"]+)"\)', first)
    assert match, "the set-up cell starts the lab"
    lab = get_lab(match.group(1))
    assert code[-1]["metadata"].get("tags") == ["submission"]
    assert "".join(code[-1]["source"]).strip() == "lab.submission()"
    assert cells[-1]["cell_type"] == "markdown"
    shown = {
        tag.removeprefix("exercise-")
        for cell in code
        for tag in cell["metadata"].get("tags", ())
        if tag.startswith("exercise-")
    }
    assert shown == {exercise.id for exercise in lab.exercises}
    for cell in code:
        source = "".join(cell["source"])
        assert "getpass" not in source and "input(" not in source, cell["id"]
