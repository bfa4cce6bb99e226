"""One set of rules for tries, format errors and credit (labkit.exercises.model.RULES), shown
by 00-start-here and 06-assessment, enforced by the exercise model for every lab."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from labkit.exercises import Status, check_answer
from labkit.exercises.model import MISTAKE_CAP, RULES
from labkit.grading.record import grade_exercise
from labkit.labs import find_labs
from labkit.records import AnswerEntry

ROOT = Path(__file__).resolve().parents[1]
LABS = find_labs()
STUDENTS = tuple(f"rules-{n}" for n in range(1, 7))


def _cells(notebook: str) -> list[str]:
    nb = json.loads((ROOT / "notebooks" / notebook).read_text(encoding="utf-8"))
    return ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]


def test_the_rules_are_written_once_and_shown_by_00_and_06():
    assert any("lab.rules()" in cell for cell in _cells("00-start-here.ipynb"))
    assert any("lab.rules()" in cell for cell in _cells("06-assessment.ipynb"))
    assert "no try" in RULES and "half" in RULES and "recorded" in RULES


def _keyed(lab_id: str):
    """The lab as it is graded: a graded lab's shipped module holds no key and no typical
    answers (they would give the key away); the instructor's pack (here the test pack)
    brings both."""
    from grading.fixtures import keyed_lab

    return keyed_lab(lab_id)


@pytest.mark.parametrize("lab_id", sorted(LABS))
def test_every_exercise_declares_the_mistakes_it_exists_to_catch(lab_id):
    """Each exercise of each lab names its typical wrong answers (``examples``), and they reach
    every mistake code it can report: the rule below has something to hold on to."""
    lab = _keyed(lab_id)
    assert lab.exercises, f"{lab_id} has no exercises"
    undeclared = [e.id for e in lab.exercises if not e.examples]
    assert undeclared == [], f"{lab_id}: no typical wrong answer declared for {undeclared}"
    unreached = [
        (e.id, code)
        for e in lab.exercises
        for code in e.mistakes
        if code not in {example.mistake for example in e.examples}
    ]
    assert unreached == [], f"{lab_id}: mistakes no typical answer reaches: {unreached}"


@pytest.mark.parametrize("lab_id", sorted(LABS))
def test_a_typical_mistake_earns_at_most_half(lab_id):
    """Every exercise of every lab, for several students' variants: each typical wrong answer
    is a real answer (it uses a try, never a format error), the check names its mistake, and
    it earns at most half, both in what Check shows and in what the grader gives (hidden
    checks included)."""
    lab = _keyed(lab_id)
    wrong = []
    made: set[tuple[str, str]] = set()
    for exercise in lab.exercises:
        for student in STUDENTS:
            variant = lab.variant(exercise, student)
            for example in exercise.examples:
                world = lab.world_for(student, ())
                if example.act is not None:
                    example.act(world, variant)
                raw = example.raw_for(variant)
                where = f"{exercise.id} / {example.mistake} / {student}"
                shown = check_answer(exercise, variant, raw, world)
                graded = grade_exercise(exercise, variant, AnswerEntry(raw, "t", tries=1), world)
                if graded.score == graded.max_points and not graded.mistakes:
                    continue  # no mistake in this variant (who-can: a Read-only team may pull)
                made.add((exercise.id, example.mistake))
                if shown.status == Status.FORMAT_ERROR or not shown.counted:
                    wrong.append(f"{where}: a format error, not an answer ({shown.message})")
                    continue
                if exercise.feedback != "format-only" and (
                    example.mistake not in shown.mistakes or (shown.score or 0.0) > MISTAKE_CAP
                ):
                    wrong.append(f"{where}: Check shows {shown.score} naming {shown.mistakes}")
                if (
                    example.mistake not in graded.mistakes
                    or graded.score > MISTAKE_CAP * graded.max_points
                ):
                    wrong.append(
                        f"{where}: graded {graded.score}/{graded.max_points} naming "
                        f"{graded.mistakes}"
                    )
    assert wrong == []
    never = [(e.id, x.mistake) for e in lab.exercises for x in e.examples]
    assert [pair for pair in never if pair not in made] == [], "examples that are never wrong"


# The same typed names in a practice lab and in the assessment: the same rule decides.
SAME_STRINGS = (
    ("Alpine:latest", True),  # a mistake the labs teach: a wrong answer, uses a try
    ("https://docker.io/library/nginx:1.27", True),
    ("ñginx:1.27", False),  # refused for another reason: a format error, no try
    ("", False),
)


@pytest.mark.parametrize(("typed", "uses_a_try"), SAME_STRINGS)
@pytest.mark.parametrize(
    ("lab_id", "exercise_id"),
    [
        ("00-start-here", "last-line"),
        ("02-image-names", "fully-qualify"),
        ("06-assessment", "full-name"),
    ],
)
def test_practice_and_assessment_count_the_same_answers(lab_id, exercise_id, typed, uses_a_try):
    lab = LABS[lab_id]
    exercise = lab.exercise(exercise_id)
    variant = lab.variant(exercise, STUDENTS[0])
    feedback = check_answer(exercise, variant, typed, lab.world_for(STUDENTS[0], ()))
    assert feedback.counted is uses_a_try
    assert feedback.status != "correct"
    if uses_a_try and exercise.feedback == "format-only":
        assert feedback.status == "recorded"
        assert "right" not in feedback.message.lower()
        assert "well-formed" not in feedback.message
    if not uses_a_try:
        assert feedback.status == "format-error" and "did not use a try" in feedback.message


def test_recorded_never_looks_like_right():
    from labkit.widgets.style import STATUS

    assert STATUS["recorded"][0] != STATUS["correct"][0]
    assert STATUS["recorded"][2] != STATUS["correct"][2]
