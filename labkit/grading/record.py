"""Grade one record: every check, hidden ones too, on the replayed world; pure.

:func:`grade_record` is what the grader (:mod:`labkit.grading.grade`) and the labs' tests call:
no files, no student code. The world is the record's event log replayed on a fresh world set up
for the student; each variant is re-generated from the student id (never read from the record).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from labkit.exercises.exercise import Exercise, public_message
from labkit.exercises.kinds import CHOICE_GONE
from labkit.exercises.model import CheckResult, FormatError, Kind, Status, Variant
from labkit.grading.results import ExerciseGrade, LabGrade, most_serious
from labkit.records import AnswerEntry, Record

if TYPE_CHECKING:
    from labkit.labs import Lab
    from labkit.world import World

__all__ = ["NOT_AS", "grade_exercise", "grade_record", "release_of", "replay_leniently"]


def grade_record(record: Record | Mapping[str, Any], student: str, lab: Lab) -> LabGrade:
    """Grade one record with every check, hidden ones too (see the module's docstring).

    The grade's ``statuses`` may hold other-student (the record names another student),
    variant-changed (its fingerprint is not the expected one), replay-failed and wrong-lab;
    ``problems`` says each in words.

    A record whose variants changed (one made with an earlier release) is graded against
    today's variants, a choice worded as that release worded it counting as the choice it became
    (``choice_was``, see :mod:`labkit.exercises.choices`). The problems name the release the
    record was made with and each exercise that could not be graded as that release graded it:
    an answer well-formed when given (it used a try) that is not well-formed for today's variant.
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
    changed = record.fingerprint != expected
    if changed:
        statuses.append(Status.VARIANT_CHANGED)
        problems.append(
            f"variant fingerprint {record.fingerprint!r}, expected {expected!r} (the record was "
            f"made with {release_of(record)})"
        )
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
    # a graded lab keyed by the instructor's pack: the student's feedback words each mistake
    # as the shipped lab does, never in the pack's words (the class report uses those)
    shipped = lab.shipped if lab.shipped is not None and lab.shipped.withheld else None
    grades = tuple(
        grade_exercise(
            exercise,
            exercise.variant_for(lab.id, student, params),
            record.answers.get(exercise.id),
            world,
            shipped=shipped.exercise(exercise.id) if shipped is not None else None,
        )
        for exercise in lab.exercises
    )
    if changed:
        grades = tuple(_not_as_before(grade, record) for grade in grades)
        problems.extend(grade.feedback for grade in grades if grade.feedback.startswith(NOT_AS))
    return LabGrade(
        student,
        lab.id,
        most_serious(statuses),
        "; ".join(problems),
        grades,
        tuple(statuses),
        tuple(problems),
    )


# How a problem about an exercise graded otherwise than its record's release graded it begins.
NOT_AS = "could not be graded as before: "


def release_of(record: Record) -> str:
    """The release a record was made with, in words."""
    return f"labkit {record.labkit_version}" if record.labkit_version else "an unknown labkit"


def _not_as_before(grade: ExerciseGrade, record: Record) -> ExerciseGrade:
    """A format error on an answer that used a try (so it was well-formed when the student gave
    it) says that its exercise could not be graded as the record's release graded it, and why."""
    entry = record.answers.get(grade.exercise)
    if grade.status is not Status.FORMAT_ERROR or entry is None or entry.tries == 0:
        return grade
    why = (
        f"{NOT_AS}{grade.exercise}: the answer {entry.raw!r}, made with {release_of(record)}, "
        f"is not a well-formed answer to today's variant ({grade.feedback})"
    )
    if grade.feedback == CHOICE_GONE:
        why = (
            f"{NOT_AS}{grade.exercise}: the choice {entry.raw!r}, offered by "
            f"{release_of(record)}, is not one of today's choices nor an earlier wording of one "
            "(a choice reworded without `was=`)"
        )
    return replace(grade, feedback=why)


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
    exercise: Exercise,
    variant: Variant,
    entry: AnswerEntry | None,
    world: World | None,
    *,
    shipped: Exercise | None = None,
) -> ExerciseGrade:
    """One exercise: parse the recorded answer, run the public and hidden checks.

    A failed hidden check takes a correct answer down by half a point's share per check. With
    ``shipped`` (the exercise as labkit ships it, for a graded lab keyed by the instructor's
    pack) the feedback words each mistake as ``shipped`` does: the pack's texts and its
    checkers' messages stay out of what the student reads.
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
        feedback=public_message(exercise, _worded_as(result, shipped)),
        mistakes=result.mistakes,
        hidden=hidden,
        tries=tries,
        parts=result.parts,
    )


def _worded_as(result: CheckResult, shipped: Exercise | None) -> CheckResult:
    """``result`` with each failed part's message in ``shipped``'s words (unchanged without)."""
    if shipped is None:
        return result
    parts = tuple(
        part
        if part.ok
        else replace(part, message=shipped.mistake_message(part.mistake) if part.mistake else "")
        for part in result.parts
    )
    return replace(result, parts=parts)
