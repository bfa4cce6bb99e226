"""Upgrades keep working: what was made with the release before the exercises package still
grades the same, and a course lab written against that release's API still loads.

``tests/data/upgrade/records.json`` holds two records a lab (a student with every answer right,
one with typical wrong answers on every other exercise) made with labkit 0.1.0 at commit
6fedbd9, each with the grade that release gave it (``data/upgrade/make_records.py`` made them).
Since then one grading rule changed on purpose (a partly right answer earns at most half), and
some labs reworded their choices (``CHANGED_SINCE``): their records' fingerprints differ, the
grade says so and names the release, and every exercise still grades as that release graded it,
a choice's earlier wording counting as the choice it became (``was=``).

``tests/data/upgrade/choices.json`` holds every choice each release offered (for four students):
the guard below fails, naming the choice, when a change would make one of them grade otherwise.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from grading.fixtures import PACK, keyed_lab

from labkit import __version__
from labkit.cli import main
from labkit.exercises import FormatError, Kind, check_answer
from labkit.grading import grade_record, lint_lab
from labkit.labs import find_labs, get_lab
from labkit.session import LabSession

UPGRADE = Path(__file__).parent / "data" / "upgrade"
RECORDS = json.loads((UPGRADE / "records.json").read_text(encoding="utf-8"))
RELEASE = RECORDS["labkit_version"]
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


# Labs whose variants changed since the previous release (choices reworded, each keeping its
# earlier wording with `was=`): their records' fingerprints differ, and the grade says so. A lab
# that changes its variants again must be added here, on purpose.
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
    """Same statuses, mistakes and scores (partial ones capped at half, today's rule), whether
    or not the lab's variants changed; a changed one is said so, naming the release."""
    record = entry["record"]
    grade = grade_record(record, record["student"], keyed_lab(lab_id))
    got = {e.exercise: [e.status, e.score, list(e.mistakes)] for e in grade.exercises}
    assert got == expected_today(lab_id, entry)
    if unchanged(lab_id, entry):
        assert list(grade.statuses) == entry["expected"]["statuses"] == []
    else:
        assert list(grade.statuses) == ["variant-changed"]
        assert grade.problems == (
            f"variant fingerprint {record['fingerprint']!r}, expected "
            f"{get_lab(lab_id).fingerprint(record['student'])!r} (the record was made with "
            f"labkit {RELEASE})",
        )


def test_the_grader_gives_the_previous_release_records_their_grades(tmp_path):
    """Through ``labkit grade`` (one folder per student, records in labkit-answers/): every
    exercise's score and status, every total, and the release named where variants changed."""
    expected = {}
    for lab_id, entries in RECORDS["labs"].items():
        for entry in entries:
            record = entry["record"]
            folder = tmp_path / "class" / record["student"] / "labkit-answers"
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{lab_id}.json").write_text(json.dumps(record), encoding="utf-8")
            for exercise_id, (status, score, _) in expected_today(lab_id, entry).items():
                expected[(record["student"], lab_id, exercise_id)] = (score, status)
            total = sum(score for _, score, _ in expected_today(lab_id, entry).values())
            status = "variant-changed" if lab_id in CHANGED_SINCE else "ok"
            expected[(record["student"], lab_id, "(total)")] = (total, status)
    out = tmp_path / "grades.csv"
    args = ["grade", str(tmp_path / "class"), "-o", str(out), "--no-progress"]
    assert main([*args, "--checks", str(PACK)]) == 0
    with out.open(encoding="utf-8", newline="") as file:
        rows = list(csv.DictReader(file))
    key_of = list(rows[0])[:3]  # student, lab, exercise
    graded = {tuple(r[k] for k in key_of): r for r in rows}
    score_of, status_of = list(rows[0])[3], list(rows[0])[5]
    assert {k: (float(r[score_of]), r[status_of]) for k, r in graded.items()} == expected
    reason_of = list(rows[0])[6]
    made = f"made with labkit {RELEASE}, graded with {__version__}"
    assert __version__ != RELEASE  # records made by this release say so
    for (_, lab_id, exercise_id), row in graded.items():
        if exercise_id == "(total)" and lab_id in CHANGED_SINCE:
            assert f"({made})" in row[reason_of], row
        elif exercise_id == "(total)":  # the same variant: graded as usual, the release named
            assert row[reason_of] == f"the record was {made}; the variant is the same", row


def test_a_choice_no_release_offered_is_named_as_not_graded_as_before():
    """A record whose choice today's lab cannot map (say, reworded without ``was=``): the grade
    names the exercise, the release and why, and the exercise is a format error."""
    entry = RECORDS["labs"]["04-pushing"][0]
    record = json.loads(json.dumps(entry["record"]))
    record["answers"]["mount-meaning"]["raw"] = "a wording no release offered"
    grade = grade_record(record, record["student"], keyed_lab("04-pushing"))
    why = (
        "could not be graded as before: mount-meaning: the choice 'a wording no release "
        f"offered', offered by labkit {RELEASE}, is not one of today's choices nor an earlier "
        "wording of one (a choice reworded without `was=`)"
    )
    assert grade.problems[1:] == (why,)
    (mount,) = [e for e in grade.exercises if e.exercise == "mount-meaning"]
    assert (mount.status, mount.score, mount.feedback) == ("format-error", 0.0, why)


def test_a_reopened_notebook_shows_each_earlier_choice_selected_as_the_choice_it_became(
    tmp_path,
):
    """A student whose notebook saved its record with the previous release reopens it after the
    upgrade: each widget with choices shows the option picked then, under today's wording
    (as grading reads it), never an empty selection. The 06 assessment keeps its earlier
    wordings in the instructor's pack, so its widgets cannot map them (not checked here)."""
    reworded = 0
    for lab_id in sorted(CHANGED_SINCE - {"06-assessment"}):
        for entry in RECORDS["labs"][lab_id]:
            record = entry["record"]
            folder = tmp_path / lab_id / record["student"]
            (folder / "labkit-answers").mkdir(parents=True)
            path = folder / "labkit-answers" / f"{lab_id}.json"
            path.write_text(json.dumps(record), encoding="utf-8")
            session = LabSession(get_lab(lab_id), record["student"], folder=folder)
            for exercise_id, answer in sorted(record["answers"].items()):
                raw = answer["raw"]
                variant = session.variant(exercise_id)
                if not variant.params.get("choices") or not isinstance(raw, str):
                    continue  # a widget with radio buttons: multiple choice, predicted output
                today = dict(variant.params.get("choice_was", {})).get(raw, raw)
                reworded += today != raw
                view = session.view(exercise_id)
                assert view.input.value == today, (lab_id, exercise_id, raw)
    assert reworded >= 3  # the records do pick choices that were reworded since


# -- the guard: every choice any release offered grades as it did ---------------------------------

SNAPSHOT = json.loads((UPGRADE / "choices.json").read_text(encoding="utf-8"))
SNAPSHOT_SCRIPT = ".venv/bin/python tests/data/upgrade/snapshot_choices.py"


def _outcome(exercise, variant, text: str) -> str:
    answer = exercise.parse(text, variant)
    result = exercise.check(answer, variant, None)
    return "right" if result.correct else ",".join(result.mistakes)


@pytest.mark.parametrize("lab_id", sorted(SNAPSHOT["labs"]))
def test_every_choice_an_earlier_release_offered_grades_as_it_did(lab_id):
    """A choice reworded without keeping its earlier wording fails here: a record that picked
    it would no longer grade (see labkit/exercises/choices.py)."""
    lab = keyed_lab(lab_id)
    problems = []
    for exercise_id, students in sorted(SNAPSHOT["labs"][lab_id].items()):
        where = f"{lab_id}/{exercise_id}"
        if exercise_id not in {e.id for e in lab.exercises}:
            problems.append(f"{where}: gone; run `{SNAPSHOT_SCRIPT} --forget {where}`")
            continue
        exercise = lab.exercise(exercise_id)
        for student, choices in sorted(students.items()):
            variant = lab.variant(exercise, student)
            for text, was in sorted(choices.items()):
                try:
                    now = _outcome(exercise, variant, text)
                except FormatError:
                    problems.append(
                        f"{where}: the choice {text!r} (offered to {student!r} by an earlier "
                        "release) is no longer offered, so a record that picked it grades as a "
                        "format error. If you reworded it, keep its earlier wording: "
                        "`Choice(new_text, ..., was=old_text)` or `choice_was(choices, "
                        "{new_text: old_text})` (labkit/exercises/choices.py, "
                        "docs/instructor.md). If the change is on purpose and nothing can "
                        f"follow it, run `{SNAPSHOT_SCRIPT} --forget {where}`."
                    )
                    continue
                if now != was:
                    problems.append(
                        f"{where}: the choice {text!r} (offered to {student!r}) graded {was!r} "
                        f"and now grades {now!r}; a record that picked it changes grade"
                    )
    assert not problems, "\n".join(problems)


def test_every_choice_offered_today_is_in_the_snapshot():
    """So that the next rewording is caught: a new or reworded choice is added to
    tests/data/upgrade/choices.json (after giving a reworded one its ``was=``)."""
    students = SNAPSHOT["students"]
    missing = []
    for lab_id in sorted(find_labs()):
        lab = keyed_lab(lab_id)
        for exercise in lab.exercises:
            for student in students:
                variant = lab.variant(exercise, student)
                known = SNAPSHOT["labs"].get(lab_id, {}).get(exercise.id, {}).get(student, {})
                missing += [
                    f"{lab_id}/{exercise.id}: {text!r}"
                    for text in variant.params.get("choices", ())
                    if text not in known
                ]
    assert not missing, (
        "choices not yet in tests/data/upgrade/choices.json (if one is a rewording, give it "
        f"`was=` with its earlier text first), then run `{SNAPSHOT_SCRIPT}`:\n" + "\n".join(missing)
    )


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
