"""Build submissions for grading tests, at test time (so they never drift from labkit).

Small API, shared by the default-mode tests and the ``--execute`` tests:

- ``LAB_ID``: the lab every fixture uses (``demo``: one exercise of each kind).
- ``record_for(student, *, answers=..., solve=..., wrong=False) -> Record``: a record as a
  student's kernel would save it: answers (default: the key of every non-task exercise, or
  typical wrong answers with ``wrong=True``) and the event log of solving the tasks named in
  ``solve`` (default: every task) on the student's own world.
- ``notebook(record=None, *, lab=LAB_ID, exercises=None, kernel="python3", extra=()) -> dict``:
  an nbformat 4.5 notebook as plain JSON: the setup cell ``labkit.start(lab)``, one cell per
  exercise (``lab.exercise("<id>")``), ``extra`` code cells, and the submission cell, whose
  output carries ``record`` when given.
- ``write_submission(folder, *, record=None, notebook=None, in_folder=False) -> Path``: write
  ``folder/<LAB_ID>.ipynb`` (and ``folder/labkit-answers/<LAB_ID>.json`` with ``in_folder``).
- the hostile class graded in both modes is built by ``tests/grading/hostile_class.py``.
- ``HIDDEN_TEXTS``: the names of the demo lab's hidden checks (never in feedback).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from labkit import __version__
from labkit.exercises import Kind
from labkit.labs import get_lab
from labkit.records import MIME_TYPE, Record, record_bundle
from labkit.world import Clock

LAB_ID = "demo"
TIME = "2025-01-15T10:00:00+00:00"
LAB = get_lab(LAB_ID)
HIDDEN_TEXTS = tuple(h.name for e in LAB.exercises for h in e.hidden)

WRONG_ANSWERS = {
    "fully-qualified": lambda v: f"library/{v.params['short']}",  # missing-registry
    "latest-meaning": lambda v: "nothing: Docker refuses a name without a tag",  # missing-tag
    "name-the-parts": lambda v: {
        "registry": "docker.io",
        "namespace": "",
        "name": v.params["text"],
        "tag": "latest",
    },  # missing-library
    "predict-uppercase": lambda v: "Error: no such image",  # wrong-line
    "fully-qualify": lambda v: [n.rsplit(":", 1)[0] for n in v.answer],  # missing-tag
}


def _key_answers(student: str, wrong: bool) -> dict[str, Any]:
    answers = {}
    for exercise in LAB.exercises:
        if exercise.kind is Kind.TASK:
            continue
        variant = LAB.variant(exercise, student)
        answers[exercise.id] = (
            WRONG_ANSWERS[exercise.id](variant) if wrong else exercise.key_raw(variant)
        )
    return answers


def record_for(
    student: str,
    *,
    answers: dict[str, Any] | None = None,
    solve: tuple[str, ...] | None = None,
    wrong: bool = False,
) -> Record:
    """A record for ``student`` as their kernel would save it (fixed times)."""
    if answers is None:
        answers = _key_answers(student, wrong)
    world = LAB.new_world(student, clock=Clock.fixed())
    tasks = [e for e in LAB.exercises if e.kind is Kind.TASK]
    for exercise in tasks:
        if solve is None or exercise.id in solve:
            exercise.solve(world, LAB.variant(exercise, student))
    record = Record(LAB_ID, student, LAB.fingerprint(student), __version__)
    for exercise_id, raw in answers.items():
        record = record.with_answer(exercise_id, raw, when=TIME)
    return record.with_events(LAB.student_events(world, student), when=TIME)


def _code(source: str, outputs: list[dict[str, Any]] | None = None, n: int = 0) -> dict:
    return {
        "cell_type": "code",
        "execution_count": None,
        "id": f"cell-{n}",
        "metadata": {},
        "outputs": outputs or [],
        "source": source,
    }


def notebook(
    record: Record | dict[str, Any] | None = None,
    *,
    lab: str = LAB_ID,
    exercises: list[str] | None = None,
    kernel: str = "python3",
    extra: tuple[str, ...] = (),
) -> dict[str, Any]:
    """A notebook (plain JSON) for ``lab`` whose submission cell carries ``record``."""
    if exercises is None:
        exercises = [e.id for e in LAB.exercises]
    cells = [_code(f'import labkit\nlab = labkit.start("{lab}")', n=0)]
    cells += [_code(f'lab.show("{e}")', n=i + 1) for i, e in enumerate(exercises)]
    cells += [_code(source, n=100 + i) for i, source in enumerate(extra)]
    outputs = []
    if record is not None:
        data = record_bundle(record) if isinstance(record, Record) else {MIME_TYPE: record}
        outputs = [{"output_type": "display_data", "data": data, "metadata": {}}]
    cells.append(_code("lab.submission()", outputs, n=999))
    return {
        "cells": cells,
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": kernel},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def write_submission(
    folder: Path,
    *,
    record: Record | None = None,
    notebook_json: dict[str, Any] | None = None,
    in_folder: bool = False,
    name: str = f"{LAB_ID}.ipynb",
) -> Path:
    """Write a student's folder: the notebook, and the record in labkit-answers/ if asked."""
    folder.mkdir(parents=True, exist_ok=True)
    if notebook_json is None:
        notebook_json = notebook(None if in_folder else record)
    path = folder / name
    path.write_text(json.dumps(notebook_json, indent=1), encoding="utf-8")
    if in_folder and record is not None:
        answers = folder / "labkit-answers"
        answers.mkdir(exist_ok=True)
        (answers / f"{LAB_ID}.json").write_text(json.dumps(record.to_json()), encoding="utf-8")
    return path


# -- the instructor's pack: the graded assessment's key, which labkit does not ship ---------------

PACK = Path(__file__).resolve().parent / "pack"


def keyed_lab(lab_id: str):
    """The lab as the instructor's grader sees it: keyed by the test pack when it is graded."""
    from labkit.grading.grade import load_keys
    from labkit.grading.key import apply_key
    from labkit.labs import get_lab

    lab = get_lab(lab_id)
    keys = load_keys(PACK)
    return apply_key(lab, keys[lab.id]) if lab.id in keys else lab
