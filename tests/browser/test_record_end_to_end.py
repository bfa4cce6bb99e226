"""The record, end to end: answers given in the browser (across a page reload), the submission
cell, Ctrl+S; then ``labkit grade`` on that saved notebook alone gives the expected score."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from browser.driver import NOTEBOOKS, STUDENT
from browser.student import enter_answer, notebook_lab, see_status, shown_exercises
from labkit.exercises import Kind
from labkit.grading import grade_record
from labkit.labs import get_lab
from labkit.records import records_from_notebook

pytestmark = pytest.mark.browser

NOTEBOOK = "02-image-names.ipynb"
TEXT_KINDS = (Kind.SHORT_ANSWER, Kind.NAME_THE_PARTS, Kind.PREDICT_OUTPUT, Kind.MULTIPLE_CHOICE)


def two_exercises(lab, ids: list[str]) -> list:
    """Two exercises a student answers in their widgets, immediate feedback first."""
    picked = [lab.exercise(i) for i in ids if lab.exercise(i).kind in TEXT_KINDS]
    assert len(picked) >= 2, f"{NOTEBOOK} shows fewer than two widget exercises"
    return picked[:2]


def answer_right(page, lab, exercise) -> None:
    index = page.cell_index(f"exercise-{exercise.id}")
    page.cell(index).scroll_into_view_if_needed()
    enter_answer(page, index, exercise, exercise.key_raw(lab.variant(exercise, STUDENT)))
    output = page.cell(index).locator(".jp-OutputArea-output")
    page.click(output.get_by_role("button", name="Check"))
    see_status(output, "recorded" if exercise.feedback == "format-only" else "correct")


def grade_with_cli(notebook: Path, folder: Path) -> list[dict[str, str]]:
    """``labkit grade`` on a folder holding only this notebook (no labkit-answers)."""
    submissions = folder / "submissions"
    submissions.mkdir()
    shutil.copy(notebook, submissions / f"{STUDENT}.ipynb")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LABKIT_")}
    output = folder / "grades.csv"
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "labkit.cli",
            "grade",
            str(submissions),
            "-o",
            str(output),
            "--no-progress",
        ],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    with output.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.skipif(not (NOTEBOOKS / NOTEBOOK).exists(), reason=f"{NOTEBOOK} not written yet")
def test_answers_survive_a_reload_and_grade_from_the_saved_notebook(
    lab_server, open_notebook, screenshots, tmp_path
):
    folder = lab_server.root / "record-e2e"
    folder.mkdir()
    # The notebook as stored in the repository: the server's own copy may have been run and
    # saved (autosave) by an earlier test, and a student starts from a clean notebook.
    shutil.copy(NOTEBOOKS / NOTEBOOK, folder / NOTEBOOK)
    lab = get_lab(notebook_lab(NOTEBOOK))
    page = open_notebook(lab_server, f"record-e2e/{NOTEBOOK}")
    first, second = two_exercises(lab, shown_exercises(page))

    page.run_all()
    answer_right(page, lab, first)
    # A reload shows the notebook as last saved (no outputs): the student runs it all again,
    # and the setup cell restores the first answer from labkit-answers/.
    page.reload()
    page.run_all()
    restored = page.cell(page.cell_index(f"exercise-{first.id}"))
    restored.get_by_text("restored from your record").wait_for()
    answer_right(page, lab, second)
    page.run_cell(page.cell_index("submission"))
    page.save()
    assert not page.problems(), page.problems()
    page.page.screenshot(path=screenshots / "record-submission.png")

    saved = json.loads(page.file.read_text(encoding="utf-8"))
    records = records_from_notebook(saved)
    assert [r.lab for r in records] == [lab.id]
    assert records[0].student == STUDENT
    assert set(records[0].answers) >= {first.id, second.id}
    expected = first.points + second.points
    assert grade_record(records[0], STUDENT, lab).score == pytest.approx(expected)

    rows = grade_with_cli(page.file, tmp_path)
    mine = {row["exercise"]: row for row in rows if row["lab"] == lab.id}
    assert all(row["student"] == STUDENT for row in rows)
    assert float(mine["(total)"]["score"]) == pytest.approx(expected)
    for exercise in (first, second):
        assert float(mine[exercise.id]["score"]) == pytest.approx(exercise.points)
