"""One set of rules for tries, format errors and credit (labkit.exercises.model.RULES), shown
by 00-start-here and 06-assessment, enforced by the exercise model for every lab."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from labkit.exercises import check_answer
from labkit.exercises.model import MISTAKE_CAP, RULES
from labkit.labs import find_labs

ROOT = Path(__file__).resolve().parents[1]
LABS = find_labs()
STUDENTS = ("rules-1", "rules-2")


def _cells(notebook: str) -> list[str]:
    nb = json.loads((ROOT / "notebooks" / notebook).read_text(encoding="utf-8"))
    return ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]


def test_the_rules_are_written_once_and_shown_by_00_and_06():
    assert any("lab.rules()" in cell for cell in _cells("00-start-here.ipynb"))
    assert any("lab.rules()" in cell for cell in _cells("06-assessment.ipynb"))
    assert "no try" in RULES and "half" in RULES and "recorded" in RULES


@pytest.mark.parametrize("lab_id", sorted(LABS))
def test_a_typical_mistake_earns_at_most_half(lab_id):
    lab = LABS[lab_id]
    over = []
    for exercise in lab.exercises:
        for student in STUDENTS:
            variant = lab.variant(exercise, student)
            for example in exercise.examples:
                world = lab.world_for(student, ())
                if example.act is not None:
                    example.act(world, variant)
                answer = exercise.parse(example.raw_for(variant), variant)
                result = exercise.check(answer, variant, world)
                if result.score > MISTAKE_CAP:
                    over.append((exercise.id, example.mistake, result.score))
    assert over == []


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
