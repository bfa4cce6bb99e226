"""Lab 00-start-here: lints clean, the solution scores full marks for two students (on the model
and in the executed notebook), typical wrong answers get their own mistake, and the course-id
form remembers the id for every later lab."""

from __future__ import annotations

from pathlib import Path

import pytest
from lab_support import StandIn, load_solution, solution_scores_full_marks, tags_of

from labkit.exercises import check_answer
from labkit.grading import grade_record, lint_lab
from labkit.labs import get_lab
from labkit.labs.start_here import LAB, NEWEST
from labkit.records import resolve_student

NOTEBOOK = "00-start-here.ipynb"
STUDENTS = ("ada-lovelace", "s2024-0117")


def test_lab_is_registered_and_lints_clean():
    assert get_lab("00-start-here") is LAB
    assert lint_lab(LAB) == []
    assert len(LAB.exercises) >= 2
    for exercise in LAB.exercises:
        assert len(exercise.mistakes) >= 2 and exercise.hints, exercise.id


@pytest.mark.parametrize("student", STUDENTS)
def test_solution_scores_full_marks(student):
    lab = StandIn(LAB, student)
    load_solution("start_here").solve_start_here(lab)
    result = grade_record(lab.record().to_json(), student, LAB)
    assert result.statuses == ()
    assert result.score == LAB.max_points


def test_typical_wrong_answers_get_their_mistake():
    student = STUDENTS[0]
    default = LAB.exercise("default-tag")
    variant = LAB.variant(default, student)
    name = variant.params["name"]
    newest = next(c for c in variant.params["choices"] if c.startswith(f"`{NEWEST[name]}`"))
    assert "latest-is-newest" in check_answer(default, variant, newest).mistakes
    last = LAB.exercise("last-line")
    variant = LAB.variant(last, student)
    assert (
        "missing-registry"
        in check_answer(last, variant, f"library/{variant.params['name']}:latest").mistakes
    )
    assert (
        "missing-tag"
        in check_answer(last, variant, f"docker.io/library/{variant.params['name']}").mistakes
    )


def test_the_pull_task_names_a_wrong_tag_and_a_missing_pull():
    student = STUDENTS[1]
    exercise = LAB.exercise("first-pull")
    variant = LAB.variant(exercise, student)
    world = LAB.new_world(student)
    assert "not-done" in exercise.check(None, variant, world).mistakes
    world.client("student").run(f"docker pull {variant.params['name']}")
    assert "wrong-tag" in exercise.check(None, variant, world).mistakes
    world.client("student").run(f"docker pull {variant.params['image']}")
    assert exercise.check(None, variant, world).correct


def test_the_course_id_form_remembers_the_id(tmp_path, monkeypatch):
    from labkit.widgets.course import CourseIdForm

    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("LABKIT_GRADING", raising=False)
    form = CourseIdForm()
    form.text.value = "two\nlines"
    form.save_button.click()
    assert "Format error" in form.message.value and form.saved is None
    form.text.value = "  s1234567 "
    form.save_button.click()
    assert form.saved == "s1234567" and "Saved" in form.message.value
    assert resolve_student() == ("s1234567", str(Path("~") / ".labkit" / "student-id"))


def test_on_a_hub_the_form_names_the_hub_account_and_asks_for_nothing(tmp_path, monkeypatch):
    from labkit.widgets.course import CourseIdForm

    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("LABKIT_GRADING", raising=False)
    monkeypatch.setenv("JUPYTERHUB_USER", "ann")
    form = CourseIdForm(current="ann", source="JUPYTERHUB_USER")
    assert form.widget.children == (form.message,)  # no text box to type a classmate's id in
    assert "<code>ann</code>" in form.message.value and "nothing to type" in form.message.value
    assert resolve_student() == ("ann", "JUPYTERHUB_USER")


@pytest.mark.notebook
def test_notebook_runs_and_the_injected_solution_scores_full_marks(walked):
    notebook = solution_scores_full_marks(LAB, walked(LAB.id))
    assert "course-id" in tags_of(notebook)
