"""Lab 00-start-here: lints clean, the solution scores full marks for two students (on the model
and in the executed notebook), typical wrong answers get their own mistake, and the course-id
form remembers the id for every later lab."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from labkit.exercises import check_answer, grade_record, lint_lab
from labkit.labs import get_lab
from labkit.labs.start_here import LAB, NEWEST
from labkit.records import AnswerEntry, Record, now_iso, records_from_notebook, resolve_student

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = "00-start-here.ipynb"
SOLUTION = ROOT / "tests" / "solutions" / "start_here.py"
STUDENTS = ("ada-lovelace", "s2024-0117")


def _solution() -> Any:
    spec = importlib.util.spec_from_file_location("solution_start_here", SOLUTION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class StandIn:
    """What the solution needs of a LabSession, without a kernel."""

    def __init__(self, student: str) -> None:
        self.student = student
        self.world = LAB.new_world(student)
        self.client = self.world.client("student")
        self.answers: dict[str, Any] = {}

    def variant(self, exercise_id: str):
        return LAB.variant(exercise_id, self.student)

    def submit(self, exercise_id: str, raw: Any) -> None:
        self.answers[exercise_id] = raw

    def check(self, exercise_id: str) -> None:
        self.answers[exercise_id] = None

    def record(self) -> Record:
        return Record(
            lab=LAB.id,
            student=self.student,
            fingerprint=LAB.fingerprint(self.student),
            answers={k: AnswerEntry(v, now_iso(), tries=1) for k, v in self.answers.items()},
            events=tuple(LAB.student_events(self.world, self.student)),
        )


def test_lab_is_registered_and_lints_clean():
    assert get_lab("00-start-here") is LAB
    assert lint_lab(LAB) == []
    assert len(LAB.exercises) >= 2
    for exercise in LAB.exercises:
        assert len(exercise.mistakes) >= 2 and exercise.hints, exercise.id


@pytest.mark.parametrize("student", STUDENTS)
def test_solution_scores_full_marks(student):
    lab = StandIn(student)
    _solution().solve_start_here(lab)
    result = grade_record(lab.record().to_json(), student, LAB)
    assert result.statuses == ()
    assert result.score == LAB.max_points


def test_typical_wrong_answers_get_their_mistake():
    student = STUDENTS[0]
    default = LAB.exercise("default-tag")
    variant = LAB.variant(default, student)
    name = variant.params["name"]
    newest = next(c for c in variant.params["choices"] if c.startswith(f"`{NEWEST[name]}`"))
    assert "latest-is-newest" in check_answer(default, variant, newest).mistakes
    last = LAB.exercise("last-line")
    variant = LAB.variant(last, student)
    assert (
        "missing-registry"
        in check_answer(last, variant, f"library/{variant.params['name']}:latest").mistakes
    )
    assert (
        "missing-tag"
        in check_answer(last, variant, f"docker.io/library/{variant.params['name']}").mistakes
    )


def test_the_pull_task_names_a_wrong_tag_and_a_missing_pull():
    student = STUDENTS[1]
    exercise = LAB.exercise("first-pull")
    variant = LAB.variant(exercise, student)
    world = LAB.new_world(student)
    assert "not-done" in exercise.check(None, variant, world).mistakes
    world.client("student").run(f"docker pull {variant.params['name']}")
    assert "wrong-tag" in exercise.check(None, variant, world).mistakes
    world.client("student").run(f"docker pull {variant.params['image']}")
    assert exercise.check(None, variant, world).correct


def test_the_course_id_form_remembers_the_id(tmp_path, monkeypatch):
    from labkit.widgets.course import CourseIdForm

    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("LABKIT_GRADING", raising=False)
    form = CourseIdForm()
    form.text.value = "two\nlines"
    form.save_button.click()
    assert "Format error" in form.message.value and form.saved is None
    form.text.value = "  s1234567 "
    form.save_button.click()
    assert form.saved == "s1234567" and "Saved" in form.message.value
    assert resolve_student() == ("s1234567", str(Path("~") / ".labkit" / "student-id"))


@pytest.mark.notebook
@pytest.mark.parametrize("student", STUDENTS)
def test_notebook_runs_and_the_injected_solution_scores_full_marks(student, tmp_path, monkeypatch):
    from testbook import testbook

    scratch = tmp_path / "notebooks"
    shutil.copytree(ROOT / "notebooks", scratch, ignore=shutil.ignore_patterns("labkit-answers"))
    (tmp_path / "home").mkdir()
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("LABKIT_STUDENT", student)
    before = (ROOT / "notebooks" / NOTEBOOK).read_bytes()
    resources = {"metadata": {"path": str(scratch)}}
    with testbook(scratch / NOTEBOOK, execute=True, timeout=60, resources=resources) as tb:
        errors = [
            (cell.get("id"), output)
            for cell in tb.nb.cells
            if cell.cell_type == "code"
            for output in cell.outputs
            if output.output_type == "error"
        ]
        assert errors == []
        tags = {t for cell in tb.nb.cells for t in cell.metadata.get("tags", ())}
        assert {"setup", "submission", "course-id"} <= tags
        assert {f"exercise-{e.id}" for e in LAB.exercises} <= tags
        tb.inject(SOLUTION.read_text(encoding="utf-8"), pop=True)
        tb.inject("solve_start_here(lab)", pop=True)
        tb.execute_cell("submission")
        notebook = json.loads(json.dumps(tb.nb))
    records = [r for r in records_from_notebook(notebook) if r.lab == LAB.id]
    assert len(records) == 1 and records[0].student == student
    result = grade_record(records[0], student, LAB)
    assert result.statuses == () and result.score == LAB.max_points
    assert (ROOT / "notebooks" / NOTEBOOK).read_bytes() == before
    assert not (ROOT / "notebooks" / "labkit-answers").exists()
