"""labkit.grading.key: a graded lab's key from the instructor's checks folder (KEYS), applied as
a keyed lab by ``labkit key --checks`` and ``labkit grade --checks``; practice labs keep theirs."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from grading.fixtures import PACK, keyed_lab
from labkit.cli import main
from labkit.errors import LabkitError
from labkit.exercises import Kind
from labkit.grading import grade_record
from labkit.grading.key import answer_key, apply_key
from labkit.labs import get_lab
from labkit.records import Record

LAB_ID = "06-assessment"


def test_key_command_reads_the_graded_key_from_the_checks_folder(capsys):
    assert main(["key", LAB_ID, "--student", "ann", "--checks", str(PACK), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    practice = answer_key("04-pushing", "ann")
    assert set(data) == set(practice)
    assert {k for e in data["exercises"] for k in e} == {
        k for e in practice["exercises"] for k in e
    }
    assert data["fingerprint"] == get_lab(LAB_ID).fingerprint("ann")
    for item in data["exercises"]:
        if item["kind"] == str(Kind.TASK):
            assert item["steps"] and item["answer"] is None, item["id"]
        else:
            assert item["answer"] not in (None, ""), item["id"]
    qa = next(e for e in data["exercises"] if e["id"] == "qa-read-only")
    assert qa["hidden_checks"]


def test_without_the_checks_folder_a_graded_lab_has_no_key(capsys):
    assert main(["key", LAB_ID, "--student", "ann", "--json"]) == 2
    err = capsys.readouterr().err
    assert "does not ship its key" in err and "--checks DIR" in err
    with pytest.raises(LabkitError, match="does not ship its key"):
        answer_key(LAB_ID, "ann")


def test_practice_labs_keep_their_keys():
    for lab_id in ("demo", "04-pushing", "05-organizations-and-teams"):
        lab = get_lab(lab_id)
        assert not lab.withheld
        key = answer_key(lab_id, "ann")
        assert any(e["answer"] is not None for e in key["exercises"]), lab_id


def test_a_key_that_names_what_the_lab_does_not_show_is_refused():
    entry = {"answer": lambda p: "an option nobody is shown"}
    lab = apply_key(get_lab(LAB_ID), {"owners": entry})
    with pytest.raises(LabkitError, match="does not show"):
        lab.variant("owners", "ann")
    with pytest.raises(LabkitError, match="no exercise"):
        apply_key(get_lab(LAB_ID), {"nope": entry})
    with pytest.raises(LabkitError, match="unknown entries"):
        apply_key(get_lab(LAB_ID), {"owners": {"answr": entry["answer"]}}).variant("owners", "a")


def _class(root: Path, students: list[str]) -> dict[str, float]:
    """Records made with the shipped lab (as in a student's kernel), the right answer typed for
    every question; what the keyed lab should give each."""
    shipped, keyed = get_lab(LAB_ID), keyed_lab(LAB_ID)
    expected = {}
    for student in students:
        record = Record(LAB_ID, student, shipped.fingerprint(student))
        for exercise in keyed.exercises:
            if exercise.kind is not Kind.TASK:
                raw = exercise.key_raw(keyed.variant(exercise, student))
                record = record.with_answer(exercise.id, raw, counted=True)
        folder = root / student / "labkit-answers"
        folder.mkdir(parents=True)
        (folder / f"{LAB_ID}.json").write_text(json.dumps(record.to_json()), encoding="utf-8")
        answered = sum(e.points for e in keyed.exercises if e.kind is not Kind.TASK)
        expected[student] = grade_record(record.to_json(), student, keyed).score
        assert expected[student] >= answered  # every answer right (a task undone may be part)
    return expected


def _totals(path: Path) -> dict[str, tuple[float, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))[1:]
    return {r[0]: (float(r[3]), r[5]) for r in rows if r[2] == "(total)"}


def test_grade_with_the_checks_folder_scores_records_made_with_the_shipped_lab(tmp_path):
    expected = _class(tmp_path / "class", ["ann", "bo"])
    out = tmp_path / "keyed.csv"
    argv = ["grade", str(tmp_path / "class"), "-o", str(out), "--no-progress"]
    assert main([*argv, "--checks", str(PACK)]) == 0
    assert _totals(out) == {s: (score, "ok") for s, score in expected.items()}


def test_grade_without_the_checks_folder_says_the_key_is_missing(tmp_path, capsys):
    _class(tmp_path / "class", ["ann"])
    out = tmp_path / "bare.csv"
    argv = ["grade", str(tmp_path / "class"), "-o", str(out), "--no-progress"]
    main(argv)
    assert _totals(out) == {"ann": (0.0, "error")}
    assert "--checks DIR" in out.read_text(encoding="utf-8")
    assert main([*argv, "--lab", LAB_ID]) != 0
    assert "does not ship" in capsys.readouterr().err
