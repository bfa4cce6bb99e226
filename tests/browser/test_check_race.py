"""Check grades the answer the page shows when it is pressed, even while the kernel is busy.

ipywidgets' frontend holds back a widget's state messages while one of that widget's messages
waits for the kernel, but sends a Button's click at once; a student who typed an answer and
pressed Check while a long cell ran had the first keystroke graded (issue #14 item 9). The
kernel here is held busy by a cell that waits for a file the test writes only after the
answers are typed and Check is pressed, so the race is certain, not a matter of timing: a
text answer typed key by key, a radio option changed once, and the four fields of
name-the-parts typed key by key, each Check pressed at once. The graded answers (the feedback
and the record) must be the full ones.
"""

from __future__ import annotations

import json

import nbformat
import pytest

from browser.driver import STUDENT
from browser.student import see_status
from labkit.labs import get_lab

pytestmark = pytest.mark.browser

RECORDS = "race-records"
RELEASE = "race-release"
CELLS = [
    f'import labkit\nlab = labkit.start("demo", folder={RECORDS!r})',
    'lab.show("fully-qualified")',
    'lab.show("latest-meaning")',
    'lab.show("name-the-parts")',
    # busy until the test says so (at most two minutes)
    "import pathlib, time\n"
    f"release = pathlib.Path({RELEASE!r})\n"
    "deadline = time.monotonic() + 120\n"
    "while not release.exists() and time.monotonic() < deadline:\n"
    "    time.sleep(0.05)",
]
SHORT, CHOICE, PARTS, BUSY = 1, 2, 3, 4
KEY_DELAY_MS = 30  # a quick typist


def test_check_pressed_while_the_kernel_is_busy_grades_the_answer_shown(
    lab_server, open_notebook, screenshots
):
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in CELLS]
    nbformat.write(notebook, lab_server.root / "scratch-race.ipynb")
    (lab_server.root / RELEASE).write_text("")  # Run All passes the busy cell at once
    page = open_notebook(lab_server, "scratch-race.ipynb")
    # cell by cell (Run All can take a loaded kernel's idle between two cells for the end)
    page.run_cells(0, BUSY)
    (lab_server.root / RELEASE).unlink()

    lab = get_lab("demo")
    short = lab.exercise("fully-qualified")
    choice = lab.exercise("latest-meaning")
    parts = lab.exercise("name-the-parts")
    short_key = short.key_raw(lab.variant(short, STUDENT))
    choice_key = choice.key_raw(lab.variant(choice, STUDENT))
    parts_key = parts.key_raw(lab.variant(parts, STUDENT))
    options = lab.variant(choice, STUDENT).params["choices"]
    wrong_option = next(i for i, text in enumerate(options) if text != choice_key)
    output = {i: page.cell(i).locator(".jp-OutputArea-output") for i in (SHORT, CHOICE, PARTS)}

    # the kernel is busy: the last cell runs until the release file appears
    page.click(page.cell(BUSY).locator(".jp-InputPrompt"))
    page.page.keyboard.press("Shift+Enter")
    page.page.wait_for_function(
        """() => [...document.querySelectorAll('.jp-Notebook-ExecutionIndicator')]
             .some(e => e.getAttribute('data-status') === 'busy')"""
    )

    field = output[SHORT].locator(".widget-text input").first
    field.press_sequentially(short_key, delay=KEY_DELAY_MS)
    page.click(output[SHORT].get_by_role("button", name="Check"))

    radios = output[CHOICE].locator(".widget-radio-box input[type=radio]")
    radios.nth(wrong_option).check()
    radios.nth(options.index(choice_key)).check()
    page.click(output[CHOICE].get_by_role("button", name="Check"))

    fields = output[PARTS].locator(".widget-text input")
    for position, name in enumerate(("registry", "namespace", "name", "tag")):
        fields.nth(position).press_sequentially(parts_key[name], delay=KEY_DELAY_MS)
    page.click(output[PARTS].get_by_role("button", name="Check"))

    busy = page.page.evaluate(
        """() => [...document.querySelectorAll('.jp-Notebook-ExecutionIndicator')]
             .some(e => e.getAttribute('data-status') === 'busy')"""
    )
    assert busy, "the kernel was not busy when Check was pressed: this test tests nothing"
    # pressed, not graded yet: it must look like the button before the press
    page.cell(SHORT).screenshot(path=screenshots / "race-check-pressed-while-busy.png")
    (lab_server.root / RELEASE).write_text("")
    page.wait_kernel_idle()

    stale = []
    for index in (SHORT, CHOICE, PARTS):
        out = output[index]
        out.get_by_text("Tries used:").first.wait_for()
        try:
            see_status(out, "correct")
        except Exception:
            page.cell(index).screenshot(path=screenshots / f"race-{index}.png")
            stale.append(f"cell {index} reads:\n{out.inner_text()}")
    assert not stale, "Check graded something else than the answer shown:\n" + "\n".join(stale)
    page.cell(CHOICE).screenshot(path=screenshots / "race-multiple-choice.png")
    record = json.loads((lab_server.root / RECORDS / "labkit-answers" / "demo.json").read_text())
    answers = record["answers"]
    assert answers["fully-qualified"]["raw"] == short_key
    assert answers["latest-meaning"]["raw"] == choice_key
    assert answers["name-the-parts"]["raw"] == parts_key
    for exercise_id in ("fully-qualified", "latest-meaning", "name-the-parts"):
        assert answers[exercise_id]["tries"] == 1, answers[exercise_id]
