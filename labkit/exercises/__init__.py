"""Exercises: one definition each, per-student variants, checks that name the mistake.

The package is split by job; every public name is re-exported here, so a lab imports what it
needs from ``labkit.exercises`` (as ``labkit/labs/demo.py`` and ``docs/instructor.md`` show):

- :mod:`~labkit.exercises.model`: kinds, statuses, mistake codes, variants, parts, feedback;
- :mod:`~labkit.exercises.answers`: comparing image names and printed lines part by part;
- :mod:`~labkit.exercises.kinds`: how each kind parses and checks by default;
- :mod:`~labkit.exercises.exercise`: the :class:`Exercise` and :func:`check_answer` (widgets);
- :mod:`~labkit.exercises.choices`: the multiple-choice builder (per-choice mistake and feedback);
- :mod:`~labkit.exercises.world_checks`: what a task reads from the simulated world.

Grading a record and linting a lab are the grader's jobs: :mod:`labkit.grading.record` and
:mod:`labkit.grading.lint`.
"""

from __future__ import annotations

from labkit.exercises.answers import (
    DOCKER_HUB_NAMES,
    ReferenceAnswer,
    compare_lines,
    compare_reference_parts,
    compare_references,
    normalize_lines,
    parse_reference_answer,
)
from labkit.exercises.choices import (
    Choice,
    choice_examples,
    choice_feedback,
    choice_params,
    choice_was,
    choice_with,
    multiple_choice,
    pick_choice,
)
from labkit.exercises.exercise import Exercise, check_answer, public_message
from labkit.exercises.kinds import KIND_RULES, PART_NAMES
from labkit.exercises.model import (
    HIDDEN_NOTICE,
    LAB_STATUS_ORDER,
    MISTAKES,
    Checker,
    CheckResult,
    Example,
    Feedback,
    FormatError,
    Generator,
    HiddenCheck,
    HiddenResult,
    Hint,
    Kind,
    Parser,
    Part,
    Solver,
    Status,
    Variant,
    canonical_json,
    plain_value,
    variant_seed,
)
from labkit.exercises.world_checks import can_pull, check_pushed, client_logins, client_tags

__all__ = [
    "DOCKER_HUB_NAMES",
    "HIDDEN_NOTICE",
    "KIND_RULES",
    "LAB_STATUS_ORDER",
    "MISTAKES",
    "PART_NAMES",
    "CheckResult",
    "Checker",
    "Choice",
    "Example",
    "Exercise",
    "Feedback",
    "FormatError",
    "Generator",
    "HiddenCheck",
    "HiddenResult",
    "Hint",
    "Kind",
    "Parser",
    "Part",
    "ReferenceAnswer",
    "Solver",
    "Status",
    "Variant",
    "can_pull",
    "canonical_json",
    "check_answer",
    "check_pushed",
    "choice_examples",
    "choice_feedback",
    "choice_params",
    "choice_was",
    "choice_with",
    "client_logins",
    "client_tags",
    "compare_lines",
    "compare_reference_parts",
    "compare_references",
    "multiple_choice",
    "normalize_lines",
    "parse_reference_answer",
    "pick_choice",
    "plain_value",
    "public_message",
    "variant_seed",
]

# Names labkit 0.1.0 exported here that moved to the grader: importing one says where it went.
MOVED = {
    "grade_record": "labkit.grading.record",
    "lint_lab": "labkit.grading.lint",
    "ExerciseResult": "labkit.grading.results (now ExerciseGrade)",
    "LabResult": "labkit.grading.results (now LabGrade)",
}


def __getattr__(name: str) -> object:
    if name in MOVED:
        new = MOVED[name]
        target = new.split(" ")[0]
        imported = new.rpartition("now ")[2].rstrip(")") if "now " in new else name
        raise ImportError(
            f"labkit.exercises.{name} moved to {target}: use `from {target} import {imported}`"
        )
    raise AttributeError(f"module 'labkit.exercises' has no attribute {name!r}")
