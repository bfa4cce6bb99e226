"""The demo lab in a scratch notebook (explorer, ``%docker``, a widget answered), and every lab
notebook naming a lab the package defines. Each lab notebook itself is walked in
test_walk.py."""

from __future__ import annotations

import pytest

from browser.driver import lab_notebooks
from browser.student import (
    answer_wrong_hint_right,
    assert_clean,
    assert_docker_outputs,
    explorer_reacts,
    notebook_lab,
)
from labkit.errors import LabkitError
from labkit.labs import get_lab

pytestmark = pytest.mark.browser


DEMO_CELLS = [
    'import labkit\nlab = labkit.start("demo")',
    'lab.explorer("alpine")',
    "%docker pull alpine:3.21",
    'lab.show("fully-qualified")',
]


def test_explorer_and_docker_in_a_scratch_notebook(lab_server, open_notebook, screenshots):
    """The demo lab in a scratch notebook: explorer, ``%docker``, a short-answer widget."""
    import nbformat

    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in DEMO_CELLS]
    notebook.cells[-1].metadata["tags"] = ["exercise-fully-qualified"]
    nbformat.write(notebook, lab_server.root / "scratch-demo.ipynb")

    page = open_notebook(lab_server, "scratch-demo.ipynb")
    page.run_all()
    assert_clean(page)
    assert_docker_outputs(page)
    assert "Status: Downloaded newer image" in page.cell(2).inner_text()
    explorer_reacts(page, 1)
    page.cell(1).screenshot(path=screenshots / "demo-explorer.png")
    lab = get_lab("demo")
    exercise = lab.exercise("fully-qualified")
    answer_wrong_hint_right(page, lab, exercise, exercise.examples[0])
    assert_clean(page)


def test_lab_notebooks_name_known_labs():
    """Every lab notebook's setup cell starts a lab the package defines."""
    for notebook in lab_notebooks():
        lab_id = notebook_lab(notebook)
        if lab_id is not None:
            try:
                get_lab(lab_id)
            except LabkitError as error:
                pytest.fail(f"{notebook}: {error}")
