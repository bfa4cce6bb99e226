"""One lab notebook in Notebook 7 (``jupyter notebook``), in the dark theme: the same checks."""

from __future__ import annotations

import pytest
from grading.fixtures import keyed_lab

from browser.driver import lab_notebooks
from browser.student import (
    answer_wrong_hint_right,
    assert_clean,
    assert_docker_outputs,
    notebook_lab,
    pick_exercise,
    shown_exercises,
)
from labkit.labs import get_lab

pytestmark = pytest.mark.browser

LAB_NOTEBOOKS = [name for name in lab_notebooks() if notebook_lab(name)]


@pytest.mark.skipif(not LAB_NOTEBOOKS, reason="no lab notebook in notebooks/ yet")
def test_a_lab_in_notebook7_dark(notebook7_server, open_notebook, screenshots):
    notebook = LAB_NOTEBOOKS[0]
    page = open_notebook(notebook7_server, notebook)
    theme = page.page.locator("body").get_attribute("data-jp-theme-name")
    assert theme == "JupyterLab Dark", "the dark theme from the settings folder was not applied"
    assert page.page.locator("#main-panel, .jp-NotebookPanel").count()  # Notebook 7's shell

    page.run_all()
    assert_clean(page)
    assert_docker_outputs(page)
    lab = get_lab(notebook_lab(notebook))
    keyed = keyed_lab(lab.id)
    picked = pick_exercise(keyed, shown_exercises(page))
    assert picked, f"{notebook}: no exercise a student answers in its widget"
    exercise, example = picked
    answer_wrong_hint_right(page, lab, exercise, example, keyed)
    stem = notebook.removesuffix(".ipynb")
    page.page.screenshot(path=screenshots / f"notebook7-dark-{stem}.png")
    cell = page.cell(page.cell_index(f"exercise-{exercise.id}"))
    cell.screenshot(path=screenshots / f"notebook7-dark-{stem}-exercise-{exercise.id}.png")
    assert_clean(page)
    page.save()
    assert not page.saved_error_outputs(), page.saved_error_outputs()
