"""Record every choice the labs offer in tests/data/upgrade/choices.json, beside those of earlier
releases (the file only grows): ``tests/test_upgrade.py`` then holds each recorded choice to
grading, today, as it graded when offered (right, or the same mistake code).

A record keeps the text of the choice a student picked. If a later release rewords that choice
without keeping the earlier wording (``Choice(..., was=...)`` or ``choice_was``, see
``labkit/exercises/choices.py``), the record's answer no longer matches any choice, and a right
answer would grade as a format error. This file is how the tests know every wording ever offered.

Run it after adding or rewording a choice (``tests/test_upgrade.py`` says when):

    .venv/bin/python tests/data/upgrade/snapshot_choices.py

With ``--checkout DIR`` it records the choices of another checkout instead (the 0.1.0 ones came
from ``git worktree add /tmp/labkit-0.1 6fedbd9``). ``--forget LAB/EXERCISE`` drops an exercise's
earlier choices, for a change made on purpose that no earlier wording can follow (the grader
then says, for each record made before, that the exercise could not be graded as before).
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SNAPSHOT = HERE / "choices.json"
PACK = HERE.parent.parent / "grading" / "pack"
# The students whose variants are recorded: the upgrade records' two and two more, so that
# choices built from a variant's parameters are seen with several values.
STUDENTS = ("upgrade-ada", "upgrade-bo", "upgrade-cy", "upgrade-dee")


def outcome(variant: Any, text: str) -> str:
    """How a choice grades: ``right``, or its mistake code."""
    if text == variant.answer:
        return "right"
    return dict(variant.params.get("choice_mistakes", {})).get(text, "wrong-choice")


def offered(checkout: Path) -> dict[str, dict[str, dict[str, dict[str, str]]]]:
    """{lab: {exercise: {student: {choice: outcome}}}} for every exercise with choices of the
    labkit in ``checkout`` (graded labs keyed with the tests' instructor pack, when that labkit
    has one)."""
    sys.path.insert(0, str(checkout))
    labkit = importlib.import_module("labkit")
    assert Path(labkit.__file__).is_relative_to(checkout), labkit.__file__
    labs = importlib.import_module("labkit.labs").find_labs()
    try:
        grade = importlib.import_module("labkit.grading.grade")
        key = importlib.import_module("labkit.grading.key")
        labs = key.apply_keys(labs, grade.load_keys(PACK))
    except (ImportError, AttributeError):
        pass  # a release that shipped every key in its labs
    found: dict[str, dict[str, dict[str, dict[str, str]]]] = {}
    for lab_id, lab in sorted(labs.items()):
        for exercise in lab.exercises:
            for student in STUDENTS:
                variant = lab.variant(exercise, student)
                choices = variant.params.get("choices")
                if not choices:
                    continue
                by_student = found.setdefault(lab_id, {}).setdefault(exercise.id, {})
                by_student[student] = {text: outcome(variant, text) for text in choices}
    return found


def merged(old: dict, new: dict) -> dict:
    """``old`` with what ``new`` adds (a choice already recorded keeps its recorded outcome)."""
    result = json.loads(json.dumps(old))
    for lab_id, exercises in new.items():
        for exercise_id, students in exercises.items():
            for student, choices in students.items():
                kept = result.setdefault(lab_id, {}).setdefault(exercise_id, {})
                kept.setdefault(student, {})
                for text, how in choices.items():
                    kept[student].setdefault(text, how)
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkout", type=Path, default=HERE.parent.parent.parent)
    parser.add_argument("--forget", action="append", default=[], metavar="LAB/EXERCISE")
    args = parser.parse_args(argv)
    data = json.loads(SNAPSHOT.read_text(encoding="utf-8")) if SNAPSHOT.exists() else {}
    labs = data.get("labs", {})
    for item in args.forget:
        lab_id, _, exercise_id = item.partition("/")
        labs.get(lab_id, {}).pop(exercise_id, None)
    labs = merged(labs, offered(args.checkout.resolve()))
    data = {"students": list(STUDENTS), "labs": labs}
    text = json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    SNAPSHOT.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
