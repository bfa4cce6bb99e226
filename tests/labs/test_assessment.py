"""Lab 06 (assessment): definition, format-only feedback, limited tries, solutions, notebook."""

from __future__ import annotations

import json

import pytest
from grading.fixtures import keyed_lab
from lab_support import (
    ROOT,
    StandIn,
    load_solution,
    solution_scores_full_marks,
)

from labkit.exercises import check_answer
from labkit.grading import grade_record, lint_lab
from labkit.labs import get_lab
from labkit.labs.concepts import CONCEPTS

LAB_ID = "06-assessment"
NOTEBOOK = ROOT / "notebooks" / f"{LAB_ID}.ipynb"
STUDENTS = ("ada.lovelace", "s2049117")
ACME = "registry.acme.com"


@pytest.fixture(scope="module")
def lab():
    """The lab as the grader sees it, keyed by the instructor's pack (tests/grading/pack)."""
    return keyed_lab(LAB_ID)


def test_the_shipped_lab_holds_no_key(lab):
    """What a student's kernel has: the shown parameters and format checks, nothing more; the
    keyed lab keeps its fingerprint, so records made in a kernel grade with the pack."""
    shipped = get_lab(LAB_ID)
    assert shipped.withheld and lab.shipped is shipped and not lab.withheld
    for student in STUDENTS:
        assert shipped.fingerprint(student) == lab.fingerprint(student)
        for exercise in shipped.exercises:
            variant = shipped.variant(exercise, student)
            assert variant.answer is None, exercise.id
            key_params = {"choice_mistakes", "choice_feedback", "choice_was"}
            assert not key_params & set(variant.params), exercise.id
            assert not exercise.hidden and not exercise.mistakes and exercise.solve is None
            keyed = lab.variant(exercise.id, student)
            assert {k: v for k, v in keyed.params.items() if k not in key_params} == dict(
                variant.params
            )


def test_lint_clean(lab):
    assert lint_lab(lab) == []


def test_graded_capstone_shape(lab):
    assert len(lab.exercises) >= 10
    assert len({e.kind for e in lab.exercises}) >= 4
    labs_mixed = {c.lab for c in CONCEPTS for e in lab.exercises if c.id in e.concepts}
    assert {"01-tags", "02-image-names", "03-official-images", "04-pushing"} <= labs_mixed
    assert "05-organizations-and-teams" in labs_mixed
    for exercise in lab.exercises:
        assert exercise.feedback == "format-only", exercise.id
        assert exercise.max_tries is not None and exercise.max_tries <= 3, exercise.id
        assert len(exercise.mistakes) >= 2, exercise.id


def test_variants_are_randomized_per_student(lab):
    first, second = ({e.id: lab.variant(e, s).params for e in lab.exercises} for s in STUDENTS)
    assert sum(first[k] != second[k] for k in first) >= len(first) // 2


@pytest.mark.parametrize("student", STUDENTS)
def test_feedback_never_reveals_correctness(lab, student):
    for exercise in lab.exercises:
        variant = lab.variant(exercise, student)
        answers = [exercise.key_raw(variant)]
        answers += [example.raw_for(variant) for example in exercise.examples if not example.act]
        for raw in answers:
            world = lab.new_world(student)
            feedback = check_answer(exercise, variant, raw, world, tries_used=0)
            assert feedback.status == "recorded", (exercise.id, feedback)
            assert feedback.score is None and feedback.mistakes == () and feedback.parts == ()
            assert "correct" not in feedback.message.lower()
            for hint in feedback.hints:
                assert str(variant.answer) not in hint


def test_tries_are_limited(lab):
    exercise = lab.exercise("latest")
    variant = lab.variant(exercise, STUDENTS[0])
    last = check_answer(exercise, variant, variant.answer, tries_used=exercise.max_tries)
    assert last.status == "no-tries-left" and last.tries_left == 0


@pytest.mark.parametrize("student", STUDENTS)
def test_typical_wrong_answers_get_their_mistakes_at_grading(lab, student):
    session = StandIn(lab.shipped, student)  # the student's kernel has the shipped lab
    variant = lab.variant("full-name", student)
    session.submit("full-name", variant.answer.replace("library/", ""))
    latest = lab.variant("latest", student)
    newest = next(c for c in latest.params["choices"] if "highest version" in c)
    session.submit("latest", newest)
    session.world.client("student").run(
        f"docker pull {lab.variant('share-image', student).params['source']}"
    )
    result = grade_record(session.record().to_json(), student, lab)
    assert result.exercise("full-name").mistakes == ("missing-library",)
    assert result.exercise("latest").mistakes == ("latest-is-newest",)
    assert result.exercise("share-image").mistakes[0] == "not-logged-in"
    assert result.exercise("qa-read-only").mistakes == ("no-team-access",)


@pytest.mark.parametrize("student", STUDENTS)
def test_solution_scores_full_marks(lab, student):
    session = StandIn(lab.shipped, student)  # the student's kernel has the shipped lab
    load_solution("assessment").solve_assessment(session)
    assert all(f.status == "recorded" for f in session.feedback.values()), session.feedback
    record = json.loads(json.dumps(session.record().to_json()))
    result = grade_record(record, student, lab)
    assert result.statuses == ()
    assert result.score == lab.max_points, [
        (e.exercise_id, e.status, e.mistakes) for e in result.exercises
    ]
    assert all(h.passed for e in result.exercises for h in e.hidden)


# -- the notebook ---------------------------------------------------------------------------------


@pytest.mark.notebook
def test_notebook_runs_and_solution_grades_full(walked, lab):
    solution_scores_full_marks(lab, walked(lab.id))
