"""One lab done with the keyboard alone, in JupyterLab's dark theme: Tab to an exercise's answer
field, type, Tab to Check, Enter (a wrong answer: its feedback) and Space (the right one:
"Right"); axe-core finds nothing in the lab's outputs in the dark theme either. It runs on the
suite's one JupyterLab server, on a clean copy of the notebook in a folder of its own (its own
labkit-answers), switched to the dark theme in the page."""

from __future__ import annotations

import shutil

import pytest

from browser.driver import NOTEBOOKS, STUDENT, NotebookPage
from browser.student import (
    assert_clean,
    expected_feedback,
    notebook_lab,
    pick_exercise,
    plain,
    see_status,
    shown_exercises,
)
from browser.walker import DARK, LIGHT
from labkit.exercises import Kind
from labkit.labs import get_lab
from labkit.widgets.exercise import shown_head

pytestmark = pytest.mark.browser

NOTEBOOK = "02-image-names.ipynb"
TYPED_KINDS = (Kind.SHORT_ANSWER,)
MAX_TABS = 8

_ACTIVE = """(index) => {
  const output = document.querySelectorAll('.jp-Notebook .jp-Cell')[index]
    .querySelector('.jp-OutputArea');
  const active = document.activeElement;
  if (!active || !output.contains(active)) return 'outside';
  if (active.matches('input:not([type=radio]):not([type=checkbox]), textarea')) return 'field';
  if (active.matches('button')) return 'button:' + active.innerText.trim();
  return active.tagName.toLowerCase();
}"""


def tab_to(page: NotebookPage, index: int, wanted: str, key: str = "Tab") -> None:
    """Press Tab until the focus is on ``wanted`` inside the cell's output (at most MAX_TABS)."""
    seen = []
    for _ in range(MAX_TABS):
        page.page.keyboard.press(key)
        where = page.page.evaluate(_ACTIVE, index)
        seen.append(where)
        if where == wanted:
            return
    raise AssertionError(f"{MAX_TABS} x {key} never reached {wanted}; focus went: {seen}")


def test_a_lab_with_the_keyboard_alone_dark(lab_server, open_notebook, screenshots):
    lab_id = notebook_lab(NOTEBOOK)
    assert lab_id, f"{NOTEBOOK} starts no lab"
    lab = get_lab(lab_id)
    folder = lab_server.root / "keyboard"
    folder.mkdir()
    shutil.copy(NOTEBOOKS / NOTEBOOK, folder / NOTEBOOK)
    page = open_notebook(lab_server, f"keyboard/{NOTEBOOK}")
    page.set_theme(DARK)
    try:
        walk_with_the_keyboard(page, lab, screenshots)
    finally:
        page.set_theme(LIGHT)  # a setting of the server: the next test starts light


def walk_with_the_keyboard(page: NotebookPage, lab, screenshots) -> None:
    page.run_all()
    violations = page.axe_violations()
    assert not violations, "axe-core in the dark theme:\n" + "\n".join(violations)
    ids = shown_exercises(page)
    # not the exercise the mouse walk in test_labs answers: another exercise walked
    taken = pick_exercise(lab, ids)
    candidates = [
        lab.exercise(i)
        for i in ids
        if lab.exercise(i).kind in TYPED_KINDS
        and lab.exercise(i).examples
        and (taken is None or i != taken[0].id)
        and (lab.exercise(i).max_tries is None or lab.exercise(i).max_tries >= 2)
    ]
    assert candidates, f"{NOTEBOOK}: no typed exercise for the keyboard walk"
    exercise = candidates[0]
    index = page.cell_index(f"exercise-{exercise.id}")
    variant = lab.variant(exercise, STUDENT)
    output = page.cell(index).locator(".jp-OutputArea-output")
    output.first.scroll_into_view_if_needed()

    # The student arrives at the exercise's output (as a screen reader's "next region" would
    # bring them); from there on only keys are pressed.
    page.page.evaluate(
        """(index) => { const area = document.querySelectorAll('.jp-Notebook .jp-Cell')[index]
             .querySelector('.jp-OutputArea'); area.setAttribute('tabindex', '-1');
             area.focus(); }""",
        index,
    )
    tab_to(page, index, "field")
    wrong = exercise.examples[0].raw_for(variant)
    page.page.keyboard.type(wrong)
    tab_to(page, index, "button:Check")
    page.page.keyboard.press("Enter")
    feedback = expected_feedback(lab, exercise, variant, wrong)
    see_status(output, feedback.status)
    head = shown_head(feedback.message.splitlines()[0])
    assert plain(head) in plain(output.inner_text()), output.inner_text()

    tab_to(page, index, "field", key="Shift+Tab")
    page.page.keyboard.press("Control+a")
    right = exercise.key_raw(variant)
    page.page.keyboard.type(right)
    typed = page.page.evaluate("() => document.activeElement.value")
    assert typed == right, f"the field reads {typed!r} after typing {right!r}"
    # no wait for the kernel: Check carries the answer it checks (labkit.widgets.check), so a
    # Space at once after the last key grades what the field shows (test_check_race: with the
    # kernel busy)
    tab_to(page, index, "button:Check")
    page.page.keyboard.press("Space")
    status = "recorded" if exercise.feedback == "format-only" else "correct"
    try:
        see_status(output, status)
    except Exception:
        raise AssertionError(
            f"no {status!r} after Space on Check; the widget reads:\n" + output.inner_text()
        ) from None
    page.cell(index).screenshot(path=screenshots / f"keyboard-dark-{exercise.id}.png")
    assert_clean(page)
