"""Grading one submission: statuses and reasons, instructor checks, workers, the answer key."""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path

import pytest

from grading.fixtures import HIDDEN_TEXTS, LAB, LAB_ID, notebook, record_for, write_submission
from labkit.cli import main
from labkit.grading import GradeOptions, Submission, collect, grade_all, grade_submission
from labkit.grading.grade import load_checks
from labkit.grading.key import answer_key, format_key
from labkit.grading.report import feedback_html


def _one(folder: Path):
    (submission,) = collect(folder.parent, only=folder.name)
    graded = grade_submission(submission)
    assert len(graded.labs) == 1, graded
    return graded.labs[0]


def test_a_perfect_record_gets_full_marks(tmp_path):
    write_submission(tmp_path / "ann", record=record_for("ann"))
    grade = _one(tmp_path / "ann")
    assert (grade.status, grade.reason, grade.score, grade.max_points) == ("ok", "", 10, 10)
    assert {e.status for e in grade.exercises} == {"correct"}


def test_folder_and_notebook_records_merge_newest_answer_wins(tmp_path):
    old = record_for("ann")
    new = record_for("ann", answers={}, solve=())
    new = new.with_answer(
        "latest-meaning",
        "nothing: Docker refuses a name without a tag",
        when="2025-02-01T00:00:00+00:00",
    )
    folder = tmp_path / "ann"
    write_submission(folder, record=old, in_folder=True)
    (folder / f"{LAB_ID}.ipynb").write_text(json.dumps(notebook(new)))
    grade = _one(folder)
    scores = {e.exercise: e.score for e in grade.exercises}
    assert scores["latest-meaning"] == 0  # the notebook's newer (wrong) answer counts
    assert scores["fully-qualify"] == 1  # answers never given again keep their newest


def test_other_student_reports_the_recorded_student_and_their_score(tmp_path):
    write_submission(tmp_path / "bob", record=record_for("ann"))
    grade = _one(tmp_path / "bob")
    assert grade.status == "other-student"
    assert "made for student 'ann', not 'bob'" in grade.reason
    assert "as 'ann' they score 10/10" in grade.reason
    assert grade.score < 10


def test_an_edited_outcome_is_forged_and_graded_on_the_replay(tmp_path):
    data = record_for("ann").to_json()
    push = next(e for e in data["events"] if e["action"].startswith("docker push"))
    push["outcome"]["output"] = "0" * 16
    write_submission(tmp_path / "ann", notebook_json=notebook(data))
    grade = _one(tmp_path / "ann")
    assert grade.status == "forged"
    assert "records an output that the command does not print" in grade.reason
    assert grade.score == 10  # the replayed world is what counts; the status flags it


def test_deleting_the_login_makes_the_push_fail_on_replay(tmp_path):
    data = record_for("ann").to_json()
    data["events"] = [e for e in data["events"] if "login" not in e["action"]]
    write_submission(tmp_path / "ann", notebook_json=notebook(data))
    grade = _one(tmp_path / "ann")
    assert grade.status == "forged"
    assert "records exit code 0 but replays to 1" in grade.reason
    assert next(e for e in grade.exercises if e.exercise == "push-your-image").score == 0


def test_a_record_for_another_lab_is_reported(tmp_path):
    data = record_for("ann").to_json()
    data["lab"] = "no-such-lab"
    folder = tmp_path / "ann"
    write_submission(folder, notebook_json=notebook(data))
    graded = grade_submission(collect(tmp_path)[0])
    by_lab = {g.lab: g for g in graded.labs}
    assert by_lab["(unknown lab)"].status == "unknown-lab"
    assert by_lab[LAB_ID].status == "no-submission-cell"
    assert "demo.ipynb starts lab 'demo' but carries a record for lab 'no-such-lab'" in (
        by_lab[LAB_ID].reason
    )
    assert by_lab["(unknown lab)"].reason == (
        "records for labs that are not installed here were ignored: 'no-such-lab'"
    )


def test_invented_lab_ids_are_one_row_for_that_student_only(tmp_path):
    """Lab ids come from records a student wrote: many, long or formula-like ones give that
    student one row and never a lab of the run (no rows or files for anyone else)."""
    from labkit.grading import lab_grades, write_reports

    folder = tmp_path / "subs" / "mallory"
    write_submission(folder, record=record_for("mallory"), in_folder=True)
    for index, lab_id in enumerate(["=HYPERLINK(1)", "x" * 5000, *[f"fake-{i}" for i in range(9)]]):
        data = record_for("mallory").to_json()
        data["lab"] = lab_id
        (folder / "labkit-answers" / f"extra{index}.json").write_text(json.dumps(data))
    write_submission(tmp_path / "subs" / "ann", record=record_for("ann"))
    graded = [grade_submission(s) for s in collect(tmp_path / "subs")]
    rows = lab_grades(graded)
    assert sorted((g.student, g.lab) for g in rows) == [
        ("ann", LAB_ID), ("mallory", "(unknown lab)"), ("mallory", LAB_ID)
    ]  # fmt: skip
    unknown = next(g for g in rows if g.lab == "(unknown lab)")
    assert "'=HYPERLINK(1)'" in unknown.reason and "and 6 more" in unknown.reason
    assert len(unknown.reason) < 400
    written = write_reports(rows, tmp_path / "out" / "grades.csv", feedback_dir=tmp_path / "fb")
    assert sorted(p.name for p in written if p.suffix == ".csv") == [
        "grades-demo.csv",
        "grades.csv",
    ]
    assert next(g for g in rows if g.student == "mallory" and g.lab == LAB_ID).score == 10


def test_with_lab_a_record_for_another_lab_is_ignored_with_a_reason(tmp_path):
    data = record_for("ann").to_json()
    data["lab"] = "other"
    folder = tmp_path / "ann"
    write_submission(folder, notebook_json=notebook(data))
    graded = grade_submission(collect(tmp_path)[0], GradeOptions(lab=LAB_ID))
    (grade,) = graded.labs
    assert grade.status == "no-submission-cell"
    assert "a record for lab 'other' was ignored (grading 'demo')" in grade.reason


def test_lab_from_dash_dash_lab_when_the_notebook_does_not_say(tmp_path):
    nb = notebook(record_for("ann").to_json())
    nb["cells"] = nb["cells"][1:]  # no setup cell; the record still names its lab
    write_submission(tmp_path / "ann", notebook_json=nb)
    assert _one(tmp_path / "ann").score == 10
    bare = notebook(None)
    bare["cells"] = [{"cell_type": "code", "source": "x = 1", "outputs": [], "metadata": {}}]
    write_submission(tmp_path / "bob", notebook_json=bare)
    graded = grade_submission(collect(tmp_path, only="bob")[0], GradeOptions(lab=LAB_ID))
    assert graded.labs[0].status == "no-submission-cell"


def test_grade_submission_never_raises(tmp_path, monkeypatch):
    write_submission(tmp_path / "ann", record=record_for("ann"))
    import labkit.grading.grade as grade_module

    def boom(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(grade_module, "_grade_lab", boom)
    graded = grade_submission(collect(tmp_path)[0])
    assert graded.status == "error" and "RuntimeError: a bug" in graded.reason


CHECKS = '''
def tagged_twice(context):
    """Secret: the image must also be tagged :stable."""
    return 0.0 if context.student == "bob" else 1.0

def crashes(context):
    raise ValueError("instructor bug")

def with_message(context):
    return (0.5, "half") if context.answer is None else True

CHECKS = {"demo": {"push-your-image": [tagged_twice, crashes], "fully-qualify": with_message}}
'''


def test_instructor_checks_score_and_stay_hidden(tmp_path):
    checks = tmp_path / "checks"
    checks.mkdir()
    (checks / "course.py").write_text(CHECKS)
    loaded = load_checks(checks)
    assert sorted(loaded["demo"]) == ["fully-qualify", "push-your-image"]
    subs = tmp_path / "subs"
    write_submission(subs / "ann", record=record_for("ann"))
    write_submission(subs / "bob", record=record_for("bob"))
    options = GradeOptions(checks_dir=str(checks))
    ann, bob = (grade_submission(s, options).labs[0] for s in collect(subs))
    assert ann.score == 10
    push = next(e for e in bob.exercises if e.exercise == "push-your-image")
    assert (push.score, push.status) == (0, "wrong")
    assert "instructor check tagged_twice: 0" in push.reason
    assert (
        "instructor check crashes raised ValueError('instructor bug'); not counted" in push.reason
    )
    page = feedback_html(bob)
    assert "tagged_twice" not in page and "Secret" not in page and "instructor" not in page
    assert "1 hidden check run at grading; 1 did not pass." in page
    shown = feedback_html(bob, show_hidden=True)
    assert "instructor: tagged_twice" in shown
    for text in HIDDEN_TEXTS:
        assert text not in page


def test_bad_checks_folder(tmp_path):
    from labkit.errors import LabkitError

    with pytest.raises(LabkitError, match="not a folder"):
        load_checks(tmp_path / "none")
    (tmp_path / "x.py").write_text("X = 1\n")
    with pytest.raises(LabkitError, match="defines no CHECKS"):
        load_checks(tmp_path)


KILLER = """
import os

def kill(context):
    if context.student == "bob":
        os._exit(9)
    return 1.0

CHECKS = {"demo": {"fully-qualified": kill}}
"""


def test_a_worker_that_dies_gives_its_submission_killed_and_the_others_are_graded(tmp_path):
    checks = tmp_path / "checks"
    checks.mkdir()
    (checks / "k.py").write_text(KILLER)
    subs = tmp_path / "subs"
    for student in ("ann", "bob", "cat", "dan"):
        write_submission(subs / student, record=record_for(student))
    graded = grade_all(collect(subs), GradeOptions(checks_dir=str(checks)), jobs=2, progress=False)
    statuses = {g.student: (g.labs[0].status if g.labs else g.status) for g in graded}
    assert statuses == {"ann": "ok", "bob": "killed", "cat": "ok", "dan": "ok"}
    bob = next(g for g in graded if g.student == "bob")
    assert "died" in bob.reason


def test_parallel_equals_serial(tmp_path):
    for student in ("ann", "bob", "cat"):
        write_submission(tmp_path / student, record=record_for(student, wrong=student == "bob"))
    submissions = collect(tmp_path)
    assert grade_all(submissions, jobs=1, progress=False) == grade_all(
        submissions, jobs=3, progress=False
    )


def test_execute_mode_takes_answers_from_the_saved_record_and_the_world_from_the_run(
    tmp_path, monkeypatch
):
    """--execute through the interface: widget answers are not code, so the saved record's
    answers count; the world (event log) is the re-run's; a re-run answer that differs is a
    note; a run that makes no record keeps the saved answers but not the saved world."""
    from dataclasses import dataclass

    @dataclass(frozen=True)
    class Result:
        status: str
        reason: str
        notebook: dict | None
        records: list
        seconds: float = 0.1

    calls = []

    def execute_submission(path, *, student, lab, limits=None, extra_files=None, **options):
        calls.append((Path(path).name, student, lab))
        if student == "bob":
            return Result("timed-out", "cell 3 ran over 30 s", None, [])
        if student == "cy":  # re-running a code cell gives another answer
            return Result("ok", "", None, [record_for(student, wrong=True).to_json()])
        # the re-run reproduces the world but not the widget answers
        return Result("ok", "", None, [record_for(student, answers={}).to_json()])

    from labkit.grading.execute import Limits

    fake = types.ModuleType("labkit.grading.execute")
    fake.execute_submission = execute_submission
    fake.Limits = Limits
    monkeypatch.setitem(sys.modules, "labkit.grading.execute", fake)
    write_submission(tmp_path / "ann", record=record_for("ann", solve=()))
    write_submission(tmp_path / "bob", record=record_for("bob"))
    write_submission(tmp_path / "cy", record=record_for("cy"))
    options = GradeOptions(execute=True)
    ann, bob, cy = (grade_submission(s, options) for s in collect(tmp_path))
    assert [c[1] for c in calls] == ["ann", "bob", "cy"]
    assert (ann.labs[0].status, ann.labs[0].score) == ("ok", 10)  # tasks from the run
    assert (bob.labs[0].status, bob.labs[0].score) == ("timed-out", 6)  # answers, no world
    assert "cell 3 ran over 30 s" in bob.labs[0].reason
    assert "the saved world does not" in bob.labs[0].reason
    assert cy.labs[0].score == 10
    assert "differently from the saved record" in cy.labs[0].reason


def test_answer_key_lists_answers_and_task_commands():
    key = answer_key(LAB_ID, "ann")
    assert key["fingerprint"] == LAB.fingerprint("ann")
    by_id = {e["id"]: e for e in key["exercises"]}
    variant = LAB.variant("fully-qualified", "ann")
    assert by_id["fully-qualified"]["answer"] == variant.answer
    target = LAB.variant("push-your-image", "ann").params["target"]
    assert f"docker push {target}" in by_id["push-your-image"]["steps"]
    assert any(s.startswith("lab.hub.grant(") for s in by_id["share-with-team"]["steps"])
    text = format_key(key)
    assert f"docker tag {LAB.variant('push-your-image', 'ann').params['source']} {target}" in text
    assert "student: ann" in text


def test_key_command(capsys):
    assert main(["key", LAB_ID, "--student", "ann", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["student"] == "ann" and len(data["exercises"]) == len(LAB.exercises)
    assert main(["key", "nope", "--student", "ann"]) == 2
    assert "no lab 'nope'" in capsys.readouterr().err


def test_grade_command_summary_and_missing_student(tmp_path, capsys):
    write_submission(tmp_path / "subs" / "ann", record=record_for("ann"))
    out = tmp_path / "out" / "g.csv"
    argv = ["grade", str(tmp_path / "subs"), "-o", str(out), "--student", "zed", "--lab", LAB_ID]
    assert main([*argv, "--no-progress"]) == 0
    assert "1 missing" in capsys.readouterr().out
    assert "zed,demo,(total),0,10,missing,no submission" in out.read_text()
    assert main(["grade", str(tmp_path / "subs"), "-o", str(out), "--lab", "nope"]) == 2


def test_an_empty_submission_is_missing():
    graded = grade_submission(Submission("ann", None, (), (), "roster"))
    assert (graded.status, graded.reason, graded.labs) == ("missing", "no submission", ())


def test_execute_mode_passes_the_limits_given_on_the_command_line(tmp_path, monkeypatch):
    from labkit.grading.execute import Limits

    seen = []

    def execute_submission(path, *, student, lab, limits=None, extra_files=None, **options):
        seen.append(limits)
        return types.SimpleNamespace(status="ok", reason="", notebook=None, records=[])

    fake = types.ModuleType("labkit.grading.execute")
    fake.execute_submission = execute_submission
    fake.Limits = Limits
    monkeypatch.setitem(sys.modules, "labkit.grading.execute", fake)
    write_submission(tmp_path / "ann", record=record_for("ann"))
    options = GradeOptions(execute=True, cell_seconds=3, total_seconds=12)
    [submission] = collect(tmp_path)
    grade_submission(submission, options)
    assert (seen[0].cell_seconds, seen[0].total_seconds) == (3, 12)
    assert seen[0].memory_bytes == Limits().memory_bytes


def test_default_mode_bounds_each_submissions_time_and_memory(tmp_path):
    """A replay bomb stops at the time bound and a JSON bomb at the memory bound, each with its
    own status; the other students are graded."""
    from labkit.grading import grade_all

    bomb = record_for("replay-bomb").to_json()
    bomb["events"] = bomb["events"] * 300  # thousands of events to replay
    write_submission(tmp_path / "time" / "replay-bomb", notebook_json=notebook(bomb))
    folder = tmp_path / "memory" / "json-bomb"
    write_submission(folder, notebook_json=notebook(None))
    (folder / "labkit-answers").mkdir()
    # 45 MB on disk, about 1 GB once parsed (15 million empty objects)
    (folder / "labkit-answers" / "demo.json").write_text("[" + "{}," * 15_000_000 + "{}]")
    write_submission(tmp_path / "memory" / "ann", record=record_for("ann"))
    vm = int(Path("/proc/self/status").read_text().split("VmSize:")[1].split()[0]) << 10
    timed = GradeOptions(submission_seconds=0.05)
    graded = {g.student: g for g in grade_all(collect(tmp_path / "time"), timed, progress=False)}
    assert graded["replay-bomb"].status == "timed-out", graded["replay-bomb"]
    assert "longer than 0.05 s" in graded["replay-bomb"].reason
    bounded = GradeOptions(submission_seconds=120, memory_bytes=vm + (100 << 20))
    subs = collect(tmp_path / "memory")
    graded = {g.student: g for g in grade_all(subs, bounded, progress=False)}
    assert graded["ann"].labs[0].score == 10
    assert graded["json-bomb"].status in ("memory-limit", "killed"), graded["json-bomb"]
