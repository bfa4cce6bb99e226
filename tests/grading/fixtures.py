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
- ``build_class(root) -> dict[str, str]``: the whole hostile and broken class under
  ``root/<student>/`` (one folder per student), returning ``{student: what it is}``.
- ``HIDDEN_TEXTS``: the names of the demo lab's hidden checks (never in feedback).
"""

from __future__ import annotations

import json
import os
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


def _write_record_text(folder: Path, text: str) -> None:
    answers = folder / "labkit-answers"
    answers.mkdir(parents=True, exist_ok=True)
    (answers / f"{LAB_ID}.json").write_text(text, encoding="utf-8")


def build_class(root: Path) -> dict[str, str]:
    """The hostile and broken class, one folder per student under ``root``."""
    made: dict[str, str] = {}

    def add(student: str, what: str) -> Path:
        made[student] = what
        return root / student

    # -- ordinary work
    write_submission(
        add("perfect", "every answer right, both tasks done"), record=record_for("perfect")
    )
    write_submission(
        add("partly-wrong", "typical wrong answers, one task done (record in labkit-answers/)"),
        record=record_for("partly-wrong", wrong=True, solve=("share-with-team",)),
        in_folder=True,
    )
    write_submission(
        add("untouched", "the submission cell ran with nothing answered"),
        record=record_for("untouched", answers={}, solve=()),
    )
    # -- hand-edited and borrowed records
    edited = record_for("hand-edited", wrong=True, solve=()).to_json()
    edited["score"] = 11
    edited["grades"] = {e.id: e.points for e in LAB.exercises}
    write_submission(
        add("hand-edited", "wrong answers with scores typed into the record"),
        notebook_json=notebook(edited),
    )
    write_submission(
        add("copycat", "perfect's record, copied"), record=record_for("perfect"), in_folder=True
    )
    changed = record_for("old-version").to_json()
    changed["fingerprint"] = "000000000000"
    changed["labkit_version"] = "0.0.1"
    write_submission(
        add("old-version", "a record from another labkit version and variant"),
        notebook_json=notebook(changed),
    )
    # -- forged event logs
    forged = record_for("forged-outcome", solve=()).to_json()
    target = LAB.variant("push-your-image", "forged-outcome").params["target"]
    forged["events"] = [
        {
            "seq": 20,
            "time": TIME,
            "kind": "docker",
            "actor": "student",
            "action": f"docker push {target}",
            "args": {"stdin": False},
            "outcome": {"exit_code": 0, "output": "0123456789abcdef"},
        }
    ]
    write_submission(
        add("forged-outcome", "a push the log says succeeded, which replays as refused"),
        notebook_json=notebook(forged),
    )
    junk = record_for("forged-junk", solve=()).to_json()
    junk["events"] = [{"seq": 1, "time": "yesterday", "kind": "magic", "actor": "x", "action": "y"}]
    write_submission(
        add("forged-junk", "an event log that cannot be replayed at all"),
        notebook_json=notebook(junk),
    )
    # -- records that are missing
    write_submission(add("deleted-record", "no labkit-answers/ and no submission output"))
    add("empty-folder", "a folder with nothing in it").mkdir(parents=True)
    # -- weird JSON values as answers
    weird_folder = add("weird-json", "huge int, NaN, deep nesting and a 10 MB string as answers")
    weird_folder.mkdir(parents=True)
    base = record_for("weird-json", solve=()).to_json()
    text = json.dumps(base)
    deep = "[" * 200 + "]" * 200
    huge = "9" * 5000
    replacements = {
        "fully-qualified": json.dumps("x" * 10_000_000),
        "latest-meaning": "NaN",
        "name-the-parts": huge,
        "fully-qualify": deep,
    }
    data = json.loads(text)
    for exercise_id in replacements:
        data["answers"][exercise_id]["raw"] = f"@@{exercise_id}@@"
    text = json.dumps(data)
    for exercise_id, value in replacements.items():
        text = text.replace(json.dumps(f"@@{exercise_id}@@"), value)
    _write_record_text(weird_folder, text)
    write_submission(weird_folder)
    always = record_for("always-equal", solve=()).to_json()
    always["answers"]["fully-qualify"]["raw"] = {"__eq__": True, "__class__": "AlwaysEqual"}
    always["answers"]["latest-meaning"]["raw"] = {"__eq__": "lambda self, other: True"}
    write_submission(
        add("always-equal", "objects pretending to equal anything, as answers"),
        notebook_json=notebook(always),
    )
    # -- notebooks edited or broken
    ids = [e.id for e in LAB.exercises]
    write_submission(
        add("duplicated-cell", "an exercise cell copied three times"),
        notebook_json=notebook(
            record_for("duplicated-cell"), exercises=ids + ["fully-qualified"] * 2
        ),
    )
    no_push = record_for("deleted-cell", solve=("share-with-team",))
    no_push = Record.from_json(
        {
            **no_push.to_json(),
            "answers": {k: v.to_json() for k, v in no_push.answers.items() if k != "fully-qualify"},
        }
    )
    write_submission(
        add("deleted-cell", "the fully-qualify cell deleted (and not answered)"),
        notebook_json=notebook(no_push, exercises=[i for i in ids if i != "fully-qualify"]),
    )
    folder = add("invalid-json", "a notebook cut short")
    folder.mkdir(parents=True)
    whole = json.dumps(notebook(record_for("invalid-json")), indent=1)
    (folder / f"{LAB_ID}.ipynb").write_text(whole[: len(whole) // 2], encoding="utf-8")
    folder = add("nbformat3", "an nbformat 3 notebook")
    folder.mkdir(parents=True)
    v3 = {
        "metadata": {"name": ""},
        "nbformat": 3,
        "nbformat_minor": 0,
        "worksheets": [
            {
                "cells": [
                    {"cell_type": "code", "input": f'lab = labkit.start("{LAB_ID}")', "outputs": []}
                ]
            }
        ],
    }
    (folder / f"{LAB_ID}.ipynb").write_text(json.dumps(v3), encoding="utf-8")
    write_submission(
        add("wrong-kernel", "a notebook whose kernel is julia-1.9"),
        notebook_json=notebook(record_for("wrong-kernel"), kernel="julia-1.9"),
    )
    folder = add("extra-notebooks", "the lab plus a scratch notebook and an Untitled one")
    write_submission(folder, record=record_for("extra-notebooks"))
    scratch = notebook(None)
    scratch["cells"] = [_code("print('trying things')")]
    write_submission(folder, notebook_json=scratch, name="scratch.ipynb")
    (folder / "Untitled.ipynb").write_text("{}", encoding="utf-8")
    folder = add("non-utf8", "a notebook with bytes that are not UTF-8")
    folder.mkdir(parents=True)
    body = json.dumps(notebook(record_for("non-utf8"))).encode()
    (folder / f"{LAB_ID}.ipynb").write_bytes(body[:100] + b"\xff\xfe" + body[100:])
    # -- a folder that reaches for others' files, and shadows modules
    folder = add("reacher", "a symlinked record of perfect's, and labkit.py / tqdm.py beside it")
    write_submission(folder)
    (folder / "labkit-answers").mkdir()
    os.symlink(
        root / "copycat" / "labkit-answers" / f"{LAB_ID}.json",
        folder / "labkit-answers" / f"{LAB_ID}.json",
    )
    marker = root.parent / "IMPORTED-FROM-SUBMISSION"
    shadow = f"open({str(marker)!r}, 'w').write('imported')\nraise SystemExit('shadowed')\n"
    for name in ("labkit.py", "tqdm.py", "csv.py", "html.py"):
        (folder / name).write_text(shadow, encoding="utf-8")
    _add_adversarial_records(root, made)
    return made


def _add_adversarial_records(root: Path, made: dict[str, str]) -> None:
    """Records as data from an adversary: ids, lab ids, actors, tries, sequences, dates."""

    def add(student: str, what: str, record: dict[str, Any] | Record | None = None) -> Path:
        made[student] = what
        folder = root / student
        data = record.to_json() if isinstance(record, Record) else record
        write_submission(folder, notebook_json=notebook(data))
        return folder

    # -- ids that a spreadsheet would evaluate, and ids that fold to one file name
    add("=HYPERLINK(\"evil\")", "a folder name that is a spreadsheet formula",
        record_for("=HYPERLINK(\"evil\")"))  # fmt: skip
    add("@SUM(1+1)", "a folder name starting with @", record_for("@SUM(1+1)", wrong=True))
    add("twin:a", "an id that folds to twin_a", record_for("twin:a"))
    add("twin_a", "the id twin:a folds to", record_for("twin_a", wrong=True))
    # -- lab ids that are no lab: invented, over-long, a formula
    folder = add("lab-inventor", "records for invented, over-long and formula lab ids",
                 record_for("lab-inventor"))  # fmt: skip
    (folder / "labkit-answers").mkdir()
    for index, lab_id in enumerate(("=cmd|'/c calc'!A0", "y" * 5000, "fake-lab", "../../etc")):
        data = record_for("lab-inventor").to_json()
        data["lab"] = lab_id
        (folder / "labkit-answers" / f"extra{index}.json").write_text(json.dumps(data))
    # -- impossible actors and merged records
    impostor = record_for("impostor", solve=()).to_json()
    teammate = LAB.params_for("impostor")["teammate"]
    impostor["events"] = [
        {"seq": 30, "time": TIME, "kind": "hub", "actor": teammate, "action": "create_repository",
         "args": {"name": "notes", "private": False}, "outcome": {"ok": True}},
    ]  # fmt: skip
    add("impostor", "a Hub action done as the teammate, whose password it never had", impostor)
    merged = record_for("merged", solve=()).to_json()
    merged["events"] = record_for("perfect").to_json()["events"]
    add("merged", "its own answers merged with perfect's event log", merged)
    # -- what a kernel never writes: tries over the limit, sequences going back, future dates
    tries = record_for("too-many-tries").to_json()
    tries["answers"]["latest-meaning"]["tries"] = 40
    add("too-many-tries", "40 tries claimed on an exercise that allows 2", tries)
    shuffled = record_for("shuffled-log").to_json()
    shuffled["events"] = [{**e, "seq": 100 - e["seq"]} for e in shuffled["events"]]
    add("shuffled-log", "event sequence numbers that go back", shuffled)
    future = record_for("time-traveller").to_json()
    for entry in future["answers"].values():
        entry["time"] = "2999-01-01T00:00:00+00:00"
    add("time-traveller", "answers dated in the year 2999", future)
    # -- numbers JSON allows but Python chokes on, and a file that is a loop
    folder = add("non-finite", "NaN and Infinity as tries, sequence numbers and exit codes")
    text = json.dumps(record_for("non-finite").to_json())
    text = text.replace('"tries": 1', '"tries": NaN', 1).replace(
        '"seq": ', '"seq": Infinity, "s": ', 1
    )
    text = text.replace('"exit_code": 0', '"exit_code": -Infinity', 1)
    _write_record_text(folder, text)
    folder = add("symlink-loop", "labkit-answers/demo.json is a symbolic link to itself")
    (folder / "labkit-answers").mkdir()
    os.symlink(f"{LAB_ID}.json", folder / "labkit-answers" / f"{LAB_ID}.json")
    (folder / "up").symlink_to("..")


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
