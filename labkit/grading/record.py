"""Grade one record: every check, hidden ones too, on the replayed world; pure.

:func:`grade_record` is what the grader (:mod:`labkit.grading.grade`) and the labs' tests call:
no files, no student code. The world is the record's event log replayed on a fresh world set up
for the student; each variant is re-generated from the student id (never read from the record).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from labkit.exercises.exercise import Exercise, public_message
from labkit.exercises.model import FormatError, Kind, Status, Variant
from labkit.grading.results import ExerciseGrade, LabGrade, most_serious
from labkit.records import AnswerEntry, Record

if TYPE_CHECKING:
    from labkit.labs import Lab
    from labkit.world import World

__all__ = ["grade_exercise", "grade_record", "replay_leniently"]


def grade_record(record: Record | Mapping[str, Any], student: str, lab: Lab) -> LabGrade:
    """Grade one record with every check, hidden ones too (see the module's docstring).

    The grade's ``statuses`` may hold other-student (the record names another student),
    variant-changed (its fingerprint is not the expected one), replay-failed and wrong-lab;
    ``problems`` says each in words.
    """
    if not isinstance(record, Record):
        record = Record.from_json(record)
    statuses: list[Status] = []
    problems: list[str] = []
    if record.lab != lab.id:
        statuses.append(Status.WRONG_LAB)
        problems.append(f"the record is for lab {record.lab!r}, not {lab.id!r}")
    if record.student != student:
        statuses.append(Status.OTHER_STUDENT)
        problems.append(f"the record names student {record.student!r}, not {student!r}")
    expected = lab.fingerprint(student)
    if record.fingerprint != expected:
        statuses.append(Status.VARIANT_CHANGED)
        problems.append(f"variant fingerprint {record.fingerprint!r}, expected {expected!r}")
    world: World | None
    try:
        world = lab.world_for(student, record.events)
    except Exception as error:
        statuses.append(Status.REPLAY_FAILED)
        world, skipped = replay_leniently(lab, student, record.events)
        problems.append(
            f"the event log could not be replayed ({error}); {skipped} event(s) were skipped"
        )
    params = lab.params_for(student)  # once, not once per exercise (lab.variant's way)
    grades = tuple(
        grade_exercise(
            exercise,
            exercise.variant_for(lab.id, student, params),
            record.answers.get(exercise.id),
            world,
        )
        for exercise in lab.exercises
    )
    return LabGrade(
        student,
        lab.id,
        most_serious(statuses),
        "; ".join(problems),
        grades,
        tuple(statuses),
        tuple(problems),
    )


def replay_leniently(lab: Lab, student: str, events: Sequence[Any]) -> tuple[World, int]:
    """The world with every event that can be applied, one at a time; and how many could not."""
    world = lab.world_for(student, ())
    skipped = 0
    for event in events:
        try:
            world.apply([event])
        except Exception:
            skipped += 1
    return world, skipped


def grade_exercise(
    exercise: Exercise, variant: Variant, entry: AnswerEntry | None, world: World | None
) -> ExerciseGrade:
    """One exercise: parse the recorded answer, run the public and hidden checks.

    A failed hidden check takes a correct answer down by half a point's share per check.
    """
    tries = entry.tries if entry is not None else 0
    if entry is None and exercise.kind is not Kind.TASK:
        return ExerciseGrade(
            exercise.id, 0.0, exercise.points, Status.UNANSWERED, feedback="not answered"
        )
    raw = entry.raw if entry is not None else None
    try:
        answer = exercise.parse(raw, variant)
    except FormatError as error:
        return ExerciseGrade(
            exercise.id,
            0.0,
            exercise.points,
            Status.FORMAT_ERROR,
            feedback=error.message,
            tries=tries,
        )
    try:
        result = exercise.check(answer, variant, world)
    except Exception as error:
        return ExerciseGrade(
            exercise.id,
            0.0,
            exercise.points,
            Status.CHECK_ERROR,
            feedback=repr(error),
            tries=tries,
        )
    hidden = tuple(exercise.run_hidden(answer, variant, world))
    score = result.score
    if result.correct and not all(h.passed for h in hidden):
        score = min(score, 1.0 - 0.5 * sum(not h.passed for h in hidden) / len(hidden))
    status = Status.of_score(score)
    if exercise.kind is Kind.TASK and entry is None and score <= 0:
        status = Status.UNANSWERED
    return ExerciseGrade(
        exercise.id,
        round(score * exercise.points, 6),
        exercise.points,
        status,
        feedback=public_message(exercise, result),
        mistakes=result.mistakes,
        hidden=hidden,
        tries=tries,
        parts=result.parts,
    )
