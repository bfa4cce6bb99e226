"""Instructor grading: ``labkit grade`` and ``labkit key``.

- :mod:`labkit.grading.collect` finds the submissions in a folder (nbgrader, one folder per
  student, a flat folder, LMS downloads) and reads records and notebooks as plain JSON;
- :mod:`labkit.grading.record` grades one record (pure: every check, on the replayed world),
  :mod:`labkit.grading.results` holds the one result family (:class:`LabGrade` of
  :class:`ExerciseGrade`) from that check to the CSV, and :mod:`labkit.grading.lint` checks a lab
  definition (``labkit lint``);
- :mod:`labkit.grading.grade` grades them (default mode runs no student code, in the bounded
  worker processes of :mod:`labkit.grading.workers` with ``-j``; ``--execute`` runs each notebook
  in the sandbox of :mod:`labkit.grading.execute`, forked warm by :mod:`labkit.grading.zygote`,
  its processes found and ended by :mod:`labkit.grading.processes`);
- :mod:`labkit.grading.report` writes grades.csv, one CSV per lab, feedback pages and the class
  report.

Nothing here imports widgets, ipywidgets or nbformat.
"""

from __future__ import annotations

from labkit.grading.collect import Submission, collect, read_roster
from labkit.grading.grade import (
    CheckContext,
    ExerciseGrade,
    GradeOptions,
    LabGrade,
    SubmissionGrade,
    grade_all,
    grade_submission,
    lab_grades,
    load_checks,
)
from labkit.grading.lint import lint_lab
from labkit.grading.record import grade_record
from labkit.grading.report import write_reports

__all__ = [
    "CheckContext",
    "ExerciseGrade",
    "GradeOptions",
    "LabGrade",
    "Submission",
    "SubmissionGrade",
    "collect",
    "grade_all",
    "grade_record",
    "grade_submission",
    "lab_grades",
    "lint_lab",
    "load_checks",
    "read_roster",
    "write_reports",
]
