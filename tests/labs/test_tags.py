"""Lab 01-tags: the definition lints clean, the solution scores full marks for two students
(on the model and in the executed notebook), and typical wrong answers get their own mistake."""

from __future__ import annotations

from typing import Any

import pytest
from lab_support import (
    StandIn,
    load_solution,
    solution_scores_full_marks,
    stderr_outputs,
)

from labkit.exercises import Kind, check_answer
from labkit.grading import grade_record, lint_lab
from labkit.labs import get_lab
from labkit.labs.tags import LAB
from labkit.records import Record

NOTEBOOK = "01-tags.ipynb"
STUDENTS = ("ada-lovelace", "s2024-0117")


def _solved(student: str) -> StandIn:
    lab = StandIn(LAB, student)
    load_solution("tags").solve_tags(lab)
    return lab


# -- model level --------------------------------------------------------------------------


def test_lab_is_registered_and_lints_clean():
    assert get_lab("01-tags") is LAB
    assert lint_lab(LAB) == []
    assert len(LAB.exercises) >= 6
    assert len({e.kind for e in LAB.exercises}) >= 3
    assert any(e.kind is Kind.TASK for e in LAB.exercises)


def test_every_exercise_has_two_mistakes_and_a_hint():
    for exercise in LAB.exercises:
        assert len(exercise.mistakes) >= 2, exercise.id
        assert exercise.hints, exercise.id


def test_every_concept_of_the_lab_is_exercised():
    exercised = {c for e in LAB.exercises for c in e.concepts}
    assert set(LAB.concepts) <= exercised


def test_variants_differ_between_students():
    a, b = STUDENTS
    assert LAB.fingerprint(a) != LAB.fingerprint(b)
    differing = [
        e.id for e in LAB.exercises if LAB.variant(e, a).params != LAB.variant(e, b).params
    ]
    assert len(differing) >= 4


@pytest.mark.parametrize("student", STUDENTS)
def test_solution_scores_full_marks(student):
    result = grade_record(_solved(student).record().to_json(), student, LAB)
    assert result.statuses == ()
    assert {e.exercise_id: e.status for e in result.exercises} == {
        e.id: "correct" for e in LAB.exercises
    }
    assert result.score == LAB.max_points


def test_an_empty_record_scores_nothing():
    student = STUDENTS[0]
    record = Record(lab=LAB.id, student=student, fingerprint=LAB.fingerprint(student))
    result = grade_record(record, student, LAB)
    assert result.score == 0
    assert {e.status for e in result.exercises} == {"unanswered"}


def _grade_answer(student: str, exercise_id: str, raw: Any, commands: tuple[str, ...] = ()):
    lab = StandIn(LAB, student)
    for line in commands:
        lab.client.run(line)
    lab.submit(exercise_id, raw)
    return grade_record(lab.record(), student, LAB).exercise(exercise_id)


@pytest.mark.parametrize("student", STUDENTS)
def test_typical_wrong_answers_get_their_mistake(student):
    params = {e.id: LAB.variant(e, student).params for e in LAB.exercises}
    name = params["pull-default-tag"]["name"]
    newest = params["pull-default-tag"]["newest"]
    cases = [
        ("unique-names", _choice(params, "unique-names", "different tags"), "tag-not-owner"),
        ("unique-names", _choice(params, "unique-names", "nothing"), "name-not-unique"),
        (
            "pull-default-tag",
            f"Using default tag: {newest}\n{newest}: Pulling from library/{name}",
            "latest-is-newest",
        ),
        (
            "pull-default-tag",
            f"Using default tag: latest\nlatest: Pulling from {name}",
            "missing-library",
        ),
        ("shared-id", _choice(params, "shared-id", "two different"), "tags-are-copies"),
        ("shared-id", _choice(params, "shared-id", "a single row"), "one-row-per-image"),
        (
            "moved-tag",
            _choice(params, "moved-tag", f"`{params['moved-tag']['a']}`"),
            "tag-is-fixed",
        ),
        ("moved-tag", _choice(params, "moved-tag", "none"), "tag-refused"),
        ("latest-not-newest", _choice(params, "latest-not-newest", "24.10"), "latest-is-newest"),
        (
            "latest-not-newest",
            _choice(params, "latest-not-newest", "whichever"),
            "latest-automatic",
        ),
    ]
    for exercise_id, raw, code in cases:
        graded = _grade_answer(student, exercise_id, raw)
        assert graded.status != "correct" and code in graded.mistakes, (exercise_id, code, graded)


@pytest.mark.parametrize("student", STUDENTS)
def test_typical_wrong_tasks_get_their_mistake(student):
    explicit = LAB.variant("pull-explicit-tag", student).params
    second = LAB.variant("tag-same-id", student).params
    target_repo = second["target"].rsplit(":", 1)[0]
    cases = [
        ("pull-explicit-tag", (f"docker pull {explicit['name']}",), "missing-tag"),
        (
            "pull-explicit-tag",
            (f"docker pull {explicit['name']}:{explicit['other']}",),
            "wrong-tag",
        ),
        ("pull-explicit-tag", (), "not-done"),
        (
            "tag-same-id",
            (f"docker pull {second['name']}", f"docker tag {second['name']} {second['target']}"),
            "wrong-image",
        ),
        (
            "tag-same-id",
            (f"docker pull {second['source']}", f"docker tag {second['source']} {target_repo}"),
            "missing-tag",
        ),
        ("tag-same-id", (f"docker pull {second['source']}",), "not-done"),
    ]
    for exercise_id, commands, code in cases:
        graded = _grade_answer(student, exercise_id, None, commands)
        assert graded.score == 0 and code in graded.mistakes, (exercise_id, code, graded)


def test_a_tag_moved_away_fails_the_second_name_task():
    student = STUDENTS[1]
    p = LAB.variant("tag-same-id", student).params
    lines = (
        f"docker pull {p['source']}",
        f"docker tag {p['source']} {p['target']}",
        f"docker pull {p['name']}",
        f"docker tag {p['name']} {p['target']}",
    )
    assert "wrong-image" in _grade_answer(student, "tag-same-id", None, lines).mistakes


def test_feedback_names_the_mistake_and_hints_unlock():
    student = STUDENTS[0]
    exercise = LAB.exercise("latest-not-newest")
    variant = LAB.variant(exercise, student)
    wrong = _choice({exercise.id: variant.params}, exercise.id, "24.10")
    first = check_answer(exercise, variant, wrong, tries_used=0)
    assert first.status == "wrong" and "LTS" not in first.message
    assert "long-term-support" in first.message
    assert first.hints and first.tries_left == 2
    assert check_answer(exercise, variant, "24.04", tries_used=1).status == "format-error"


def _choice(params: dict[str, Any], exercise_id: str, start: str) -> str:
    (choice,) = [c for c in params[exercise_id]["choices"] if c.startswith(start)]
    return choice


# -- notebook level ----------------------------------------------------------------------------


@pytest.mark.notebook
def test_notebook_runs_and_the_injected_solution_scores_full_marks(walked):
    notebook = solution_scores_full_marks(LAB, walked(LAB.id))
    assert stderr_outputs(notebook) == []
