"""``labkit lint``: problems with a lab definition, found before any student sees them.

Every exercise must generate for a few students, parse its own key and score full marks with
it (a task through its ``solve``), and reach each mistake code it declares through one of its
examples. A multiple choice must test knowledge, not test-taking: its right option may not
stand out by length (much longer than every wrong one, :data:`LENGTH_MARGIN`) or by hedging
(a hedge such as "may" or "usually" that no wrong option has; :data:`HEDGES`), unless the
exercise names why in ``options["giveaway_ok"]``. A lab written for
an earlier labkit also hears which change to make (:data:`UPGRADE_NOTES`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from labkit.errors import LabkitError
from labkit.exercises.exercise import Exercise
from labkit.exercises.model import Kind, Variant

if TYPE_CHECKING:
    from labkit.labs import Lab
    from labkit.world import World

__all__ = [
    "HEDGES",
    "LENGTH_MARGIN",
    "LINT_STUDENTS",
    "UPGRADE_NOTES",
    "choice_giveaways",
    "lint_lab",
    "upgrade_notes",
]

# The right option "stands out by length" when it is longer than every wrong option by more
# than this factor (test-wise students pick the longest, most qualified option).
LENGTH_MARGIN = 1.2
# Hedges: the qualified, careful wording test-wise students take for the right one.
HEDGES = re.compile(
    r"\b(may|might|can|could|usually|often|typically|generally|sometimes|not necessarily|"
    r"in most cases|tends? to)\b",
    re.IGNORECASE,
)

LINT_STUDENTS = ("lint-student-1", "lint-student-2", "lint-student-3")

# What changed in the exercise API since labkit 0.1.0, for labs written against it: option keys
# that are now typed fields (still read, so the lab keeps working) -> the change to make.
UPGRADE_NOTES = {
    "solve": "pass the solver as `solve=...` instead of `options={'solve': ...}`",
    "key_raw": "pass the key as `key_answer=...` instead of `options={'key_raw': ...}`",
}


def upgrade_notes(exercise: Exercise) -> list[str]:
    """The changes an exercise written for labkit 0.1 should make (it still works as it is)."""
    return [note for key, note in UPGRADE_NOTES.items() if key in exercise.options]


def lint_lab(lab: Lab, students: Sequence[str] = LINT_STUDENTS) -> list[str]:
    """Problems with a lab definition (empty when fine): see the module's docstring."""
    problems: list[str] = []
    ids = [e.id for e in lab.exercises]
    for dup in sorted({i for i in ids if ids.count(i) > 1}):
        problems.append(f"exercise id {dup!r} is used twice")
    for exercise in lab.exercises:
        where = f"{lab.id}/{exercise.id}"
        problems.extend(f"{where}: {note}" for note in upgrade_notes(exercise))
        reached: set[str] = set()
        for student in students:
            try:
                variant = lab.variant(exercise, student)
                exercise.render_prompt(variant)
            except Exception as error:
                problems.append(f"{where}: cannot generate for {student!r}: {error!r}")
                continue
            if not exercise.options.get("giveaway_ok"):
                problems.extend(f"{where}: {note}" for note in choice_giveaways(variant))
            if not lab.withheld:  # a graded lab's key is linted keyed (labkit lint --checks)
                problems.extend(_check_key(lab, exercise, variant, student, where))
            problems.extend(_run_examples(lab, exercise, variant, student, where, reached))
        for code in exercise.mistakes:
            if code not in reached:
                problems.append(f"{where}: mistake {code!r} is not reached by any example")
    return problems


def choice_giveaways(variant: Variant) -> list[str]:
    """What gives a multiple choice's right option away without knowledge: length, hedging."""
    choices = list(variant.params.get("choices", ()))
    right = variant.answer
    if not isinstance(right, str) or right not in choices:
        return []
    wrong = [c for c in choices if c != right]
    if not wrong:
        return []
    problems = []
    longest = max(len(c) for c in wrong)
    if len(right) > LENGTH_MARGIN * longest:
        problems.append(
            f"the right option ({len(right)} characters) is much longer than every wrong one "
            f"(at most {longest}): {right!r}"
        )
    hedge = HEDGES.search(right)
    if hedge and not any(HEDGES.search(c) for c in wrong):
        problems.append(
            f"only the right option hedges ({hedge.group(0)!r}): {right!r}; hedge a wrong one "
            "too or drop the hedge"
        )
    return problems


def _check_key(
    lab: Lab, exercise: Exercise, variant: Variant, student: str, where: str
) -> list[str]:
    """The key, as a student would enter it, scores full marks (a task: once solved)."""
    try:
        world = lab.world_for(student, ())
        answer = exercise.parse(exercise.key_raw(variant), variant)
        if exercise.kind is Kind.TASK:
            _solve_task(exercise, variant, world)
        result = exercise.check(answer, variant, world)
    except Exception as error:
        return [f"{where}: the key fails for {student!r}: {error!r}"]
    if result.correct:
        return []
    return [
        f"{where}: the key scores {result.score:.2f} for {student!r} ({', '.join(result.mistakes)})"
    ]


def _run_examples(
    lab: Lab, exercise: Exercise, variant: Variant, student: str, where: str, reached: set[str]
) -> list[str]:
    """Each example's answer checked on a fresh world; the mistake codes it reaches are added."""
    problems = []
    for example in exercise.examples:
        try:
            world = lab.world_for(student, ())
            if example.act is not None:
                example.act(world, variant)
            answer = exercise.parse(example.raw_for(variant), variant)
            result = exercise.check(answer, variant, world)
            reached.update(result.mistakes)
        except Exception as error:
            problems.append(f"{where}: example for {example.mistake!r} fails: {error!r}")
    return problems


def _solve_task(exercise: Exercise, variant: Variant, world: World) -> None:
    if exercise.solve is None:
        raise LabkitError("a task needs solve=(world, variant) -> None so its key can be checked")
    exercise.solve(world, variant)
