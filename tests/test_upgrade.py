"""Upgrades keep working: what was made with the release before the exercises package still
grades the same, and a course lab written against that release's API still loads.

``tests/data/upgrade/records.json`` holds two records a lab (a student with every answer right,
one with typical wrong answers on every other exercise) made with labkit 0.1.0 at commit
6fedbd9, each with the grade that release gave it (``data/upgrade/make_records.py`` made them).
Since then one grading rule changed on purpose (a partly right answer earns at most half), and
some labs rewrote their variants (``CHANGED_SINCE``: graded against today's variant, and the
grade says so); the tests hold everything else to what that release gave.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from grading.fixtures import PACK, keyed_lab

from labkit.cli import main
from labkit.exercises import Kind, check_answer
from labkit.grading import grade_record, lint_lab
from labkit.labs import find_labs, get_lab

UPGRADE = Path(__file__).parent / "data" / "upgrade"
RECORDS = json.loads((UPGRADE / "records.json").read_text(encoding="utf-8"))
CASES = [
    pytest.param(lab_id, entry, id=f"{lab_id}-{entry['record']['student']}")
    for lab_id, entries in sorted(RECORDS["labs"].items())
    for entry in entries
]


def test_every_lab_of_the_previous_release_has_records():
    assert len(RECORDS["labs"]) == 9
    assert set(RECORDS["labs"]) <= set(find_labs())


def expected_today(lab_id: str, entry: dict) -> dict[str, list]:
    """What the previous release gave each exercise, under the one rule changed since on
    purpose (labkit.exercises.model, RULES): a partly right answer earns at most half."""
    lab = get_lab(lab_id)
    expected = {}
    for exercise_id, (status, score, mistakes) in entry["expected"]["exercises"].items():
        if status == "partial":
            score = min(score, lab.exercise(exercise_id).points / 2)
        expected[exercise_id] = [status, score, mistakes]
    return expected


# Labs whose variants changed since the previous release (their texts or choices were rewritten):
# their records are graded against today's variant and say so (variant-changed). A lab that
# changes its variants again must be added here, on purpose.
CHANGED_SINCE = {
    "01-tags",
    "03-official-images",
    "04-pushing",
    "05-organizations-and-teams",
    "06-assessment",
    "07-under-the-hood",
}


def unchanged(lab_id: str, entry: dict) -> bool:
    record = entry["record"]
    return get_lab(lab_id).fingerprint(record["student"]) == record["fingerprint"]


def test_the_labs_that_changed_their_variants_are_the_known_ones():
    changed = {
        lab_id for lab_id, entries in RECORDS["labs"].items() if not unchanged(lab_id, entries[0])
    }
    assert changed == CHANGED_SINCE


@pytest.mark.parametrize(("lab_id", "entry"), CASES)
def test_a_record_of_the_previous_release_grades_as_it_did(lab_id, entry):
    """Same statuses, mistakes and scores (partial ones capped at half, today's rule) where the
    lab's variants are unchanged; otherwise graded against today's variant, and said so."""
    record = entry["record"]
    grade = grade_record(record, record["student"], keyed_lab(lab_id))
    got = {e.exercise: [e.status, e.score, list(e.mistakes)] for e in grade.exercises}
    if unchanged(lab_id, entry):
        assert list(grade.statuses) == entry["expected"]["statuses"] == []
        assert got == expected_today(lab_id, entry)
    else:
        assert list(grade.statuses) == ["variant-changed"]
        assert set(got) == set(entry["expected"]["exercises"])
        assert all(status != "check-error" for status, _, _ in got.values())


def test_the_grader_gives_the_previous_release_records_their_scores(tmp_path):
    """Through ``labkit grade`` (one folder per student, records in labkit-answers/)."""
    totals = {}
    for lab_id, entries in RECORDS["labs"].items():
        for entry in entries:
            record = entry["record"]
            folder = tmp_path / "class" / record["student"] / "labkit-answers"
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{lab_id}.json").write_text(json.dumps(record), encoding="utf-8")
            totals[(record["student"], lab_id)] = sum(
                score for _, score, _ in expected_today(lab_id, entry).values()
            )
    out = tmp_path / "grades.csv"
    args = ["grade", str(tmp_path / "class"), "-o", str(out), "--no-progress"]
    assert main([*args, "--checks", str(PACK)]) == 0
    rows = [line.split(",") for line in out.read_text(encoding="utf-8").splitlines()[1:]]
    graded = {(r[0], r[1]): (float(r[3]), r[5]) for r in rows if r[2] == "(total)"}
    same = {key: graded[key] for key in totals if key[1] not in CHANGED_SINCE}
    assert same == {
        key: (score, "ok") for key, score in totals.items() if key[1] not in CHANGED_SINCE
    }
    assert {graded[key][1] for key in totals if key[1] in CHANGED_SINCE} == {"variant-changed"}


# -- a course lab written against the previous release's exercise API --------------------------


@pytest.fixture
def old_lab(monkeypatch):
    monkeypatch.setenv("LABKIT_LABS", str(UPGRADE / "course_labs"))
    return get_lab("course-old-api")


def test_a_lab_written_for_the_previous_api_loads_and_works(old_lab):
    push = old_lab.exercise("push")
    assert push.solve is not None  # options={"solve": ...} is read as the solver
    world = old_lab.new_world("ann")
    variant = old_lab.variant(push, "ann")
    push.solve(world, variant)
    assert check_answer(push, variant, None, world).status == "correct"
    for exercise in old_lab.exercises:
        if exercise.kind is not Kind.TASK:
            variant = old_lab.variant(exercise, "ann")
            feedback = check_answer(exercise, variant, exercise.key_raw(variant))
            assert feedback.status == "correct", exercise.id


def test_lint_names_each_change_to_make(old_lab):
    assert lint_lab(old_lab) == [
        "course-old-api/push: pass the solver as `solve=...` instead of `options={'solve': ...}`"
    ]


def test_lint_on_the_command_line_names_the_change(old_lab, capsys):
    assert main(["lint", "course-old-api"]) == 1
    assert "pass the solver as `solve=...`" in capsys.readouterr().out


def test_names_that_moved_say_where_they_went():
    with pytest.raises(ImportError, match=r"from labkit\.grading\.record import grade_record"):
        from labkit.exercises import grade_record  # noqa: F401
    with pytest.raises(ImportError, match=r"from labkit\.grading\.results import LabGrade"):
        from labkit.exercises import LabResult  # noqa: F401
