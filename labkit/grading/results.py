"""The one result family, from a record's check to a row of ``grades.csv``.

:func:`labkit.grading.record.grade_record` gives a :class:`LabGrade` of :class:`ExerciseGrade`
items (pure: a record, a student and a lab in); :mod:`labkit.grading.grade` adds what it knows
about the submission (forged logs, notebook cells, instructor checks, execution) with
``dataclasses.replace``; :mod:`labkit.grading.report` writes them. Statuses are
:class:`labkit.exercises.Status` values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from labkit.exercises.model import LAB_STATUS_ORDER, HiddenResult, Part, Status

__all__ = ["ExerciseGrade", "LabGrade", "SubmissionGrade", "most_serious"]


@dataclass(frozen=True)
class ExerciseGrade:
    """One exercise of one student's lab.

    ``score`` is in points; ``feedback`` is the public message the student would have seen;
    ``hidden`` (hidden and instructor checks) is shown only with ``--show-hidden``; ``answer``
    is the raw answer as JSON text (shortened), for the feedback page; ``reason`` says what the
    grader noticed (mistakes, cells, answers it could not grade).
    """

    exercise: str
    score: float
    max_points: float
    status: Status
    reason: str = ""
    answer: str = ""
    feedback: str = ""
    mistakes: tuple[str, ...] = ()
    hidden: tuple[HiddenResult, ...] = ()
    tries: int = 0
    parts: tuple[Part, ...] = ()

    @property
    def exercise_id(self) -> str:
        return self.exercise

    @property
    def hidden_failed(self) -> int:
        return sum(not h.passed for h in self.hidden)

    def to_json(self, *, include_hidden: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = {
            "exercise": self.exercise,
            "status": self.status,
            "score": self.score,
            "max_points": self.max_points,
            "mistakes": list(self.mistakes),
            "feedback": self.feedback,
            "tries": self.tries,
            "hidden_checks": len(self.hidden),
        }
        if include_hidden:
            data["hidden"] = [vars(h).copy() for h in self.hidden]
        return data


def most_serious(statuses: tuple[Status, ...] | list[Status]) -> Status:
    """The status a lab grade shows: the most serious of ``statuses``, or ok."""
    return min(statuses, key=LAB_STATUS_ORDER.index) if statuses else Status.OK


@dataclass(frozen=True)
class LabGrade:
    """One student's grade for one lab, with the status and reason of the record itself.

    ``statuses`` lists every problem status that applies (``status`` is the most serious) and
    ``problems`` what :func:`~labkit.grading.record.grade_record` found about the record itself
    (another student's, a changed variant, a log that does not replay, another lab's).
    """

    student: str
    lab: str
    status: Status
    reason: str
    exercises: tuple[ExerciseGrade, ...] = ()
    statuses: tuple[Status, ...] = ()
    problems: tuple[str, ...] = ()

    @property
    def score(self) -> float:
        return round(sum(e.score for e in self.exercises), 6)

    @property
    def max_points(self) -> float:
        return round(sum(e.max_points for e in self.exercises), 6)

    def exercise(self, exercise_id: str) -> ExerciseGrade:
        for grade in self.exercises:
            if grade.exercise == exercise_id:
                return grade
        raise KeyError(exercise_id)


@dataclass(frozen=True)
class SubmissionGrade:
    """What one submission gave: lab grades, and a status for labs it did not show."""

    student: str
    labs: tuple[LabGrade, ...] = ()
    status: Status = Status.MISSING  # for every lab of the run this submission has no grade for
    reason: str = "no submission"
