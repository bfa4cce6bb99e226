"""Lab 06 (assessment): definition, format-only feedback, limited tries, solutions, notebook."""

from __future__ import annotations

import importlib.util
import inspect
import json
import shutil
from pathlib import Path

import pytest

from labkit.exercises import check_answer, grade_record, lint_lab
from labkit.labs import get_lab
from labkit.labs.concepts import CONCEPTS
from labkit.records import Record

ROOT = Path(__file__).resolve().parents[2]
LAB_ID = "06-assessment"
NOTEBOOK = ROOT / "notebooks" / f"{LAB_ID}.ipynb"
STUDENTS = ("ada.lovelace", "s2049117")
ACME = "registry.acme.com"


def _solutions():
    path = ROOT / "tests" / "solutions" / "assessment.py"
    spec = importlib.util.spec_from_file_location("solutions_assessment", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class StandIn:
    """What the solution needs of a LabSession, without a kernel: answers go into a Record."""

    def __init__(self, lab, student):
        self.definition = lab
        self.student = student
        self.params = lab.params_for(student)
        self.world = lab.new_world(student)
        self.record = Record(lab.id, student, lab.fingerprint(student))
        self.feedback = {}

    def variant(self, exercise_id):
        return self.definition.variant(exercise_id, self.student)

    def submit(self, exercise_id, raw):
        exercise = self.definition.exercise(exercise_id)
        entry = self.record.answers.get(exercise_id)
        feedback = check_answer(
            exercise,
            self.variant(exercise_id),
            raw,
            self.world,
            tries_used=entry.tries if entry else 0,
        )
        self.record = self.record.with_answer(exercise_id, raw, counted=feedback.counted)
        self.feedback[exercise_id] = feedback
        return feedback

    def check(self, exercise_id):
        return self.submit(exercise_id, None)

    def final_record(self):
        return self.record.with_events(self.definition.student_events(self.world, self.student))


@pytest.fixture(scope="module")
def lab():
    return get_lab(LAB_ID)


def test_lint_clean(lab):
    assert lint_lab(lab) == []


def test_graded_capstone_shape(lab):
    assert len(lab.exercises) >= 10
    assert len({e.kind for e in lab.exercises}) >= 4
    labs_mixed = {c.lab for c in CONCEPTS for e in lab.exercises if c.id in e.concepts}
    assert {"01-tags", "02-image-names", "03-official-images", "04-pushing"} <= labs_mixed
    assert "05-organizations-and-teams" in labs_mixed
    for exercise in lab.exercises:
        assert exercise.feedback == "format-only", exercise.id
        assert exercise.max_tries is not None and exercise.max_tries <= 3, exercise.id
        assert len(exercise.mistakes) >= 2, exercise.id


def test_variants_are_randomized_per_student(lab):
    first, second = ({e.id: lab.variant(e, s).params for e in lab.exercises} for s in STUDENTS)
    assert sum(first[k] != second[k] for k in first) >= len(first) // 2


@pytest.mark.parametrize("student", STUDENTS)
def test_feedback_never_reveals_correctness(lab, student):
    for exercise in lab.exercises:
        variant = lab.variant(exercise, student)
        answers = [exercise.key_raw(variant)]
        answers += [example.raw_for(variant) for example in exercise.examples if not example.act]
        for raw in answers:
            world = lab.new_world(student)
            feedback = check_answer(exercise, variant, raw, world, tries_used=0)
            assert feedback.status == "recorded", (exercise.id, feedback)
            assert feedback.score is None and feedback.mistakes == () and feedback.parts == ()
            assert "correct" not in feedback.message.lower()
            for hint in feedback.hints:
                assert str(variant.answer) not in hint


def test_tries_are_limited(lab):
    exercise = lab.exercise("latest")
    variant = lab.variant(exercise, STUDENTS[0])
    last = check_answer(exercise, variant, variant.answer, tries_used=exercise.max_tries)
    assert last.status == "no-tries-left" and last.tries_left == 0


@pytest.mark.parametrize("student", STUDENTS)
def test_typical_wrong_answers_get_their_mistakes_at_grading(lab, student):
    session = StandIn(lab, student)
    variant = lab.variant("full-name", student)
    session.submit("full-name", variant.answer.replace("library/", ""))
    latest = lab.variant("latest", student)
    newest = next(c for c in latest.params["choices"] if "highest version" in c)
    session.submit("latest", newest)
    session.world.client("student").run(
        f"docker pull {lab.variant('share-image', student).params['source']}"
    )
    result = grade_record(session.final_record().to_json(), student, lab)
    assert result.exercise("full-name").mistakes == ("missing-library",)
    assert result.exercise("latest").mistakes == ("latest-is-newest",)
    assert result.exercise("share-image").mistakes[0] == "not-logged-in"
    assert result.exercise("qa-read-only").mistakes == ("no-team-access",)


@pytest.mark.parametrize("student", STUDENTS)
def test_solution_scores_full_marks(lab, student):
    session = StandIn(lab, student)
    _solutions().solve_assessment(session)
    assert all(f.status == "recorded" for f in session.feedback.values()), session.feedback
    record = json.loads(json.dumps(session.final_record().to_json()))
    result = grade_record(record, student, lab)
    assert result.statuses == ()
    assert result.score == lab.max_points, [
        (e.exercise_id, e.status, e.mistakes) for e in result.exercises
    ]
    assert all(h.passed for e in result.exercises for h in e.hidden)


# -- the notebook ---------------------------------------------------------------------------------


def _cells():
    return json.loads(NOTEBOOK.read_text("utf-8"))["cells"]


def test_notebook_is_stored_clean_with_tags():
    data = json.loads(NOTEBOOK.read_text("utf-8"))
    assert (data["nbformat"], data["nbformat_minor"]) == (4, 5)
    assert data["metadata"]["kernelspec"]["name"] == "python3"
    cells = data["cells"]
    ids = [cell["id"] for cell in cells]
    assert len(set(ids)) == len(ids)
    for cell in cells:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None
        assert "widgets" not in cell["metadata"]
    assert "widgets" not in data["metadata"]
    code = [cell for cell in cells if cell["cell_type"] == "code"]
    assert "setup" in code[0]["metadata"]["tags"]
    assert f'labkit.start("{LAB_ID}")' in "".join(code[0]["source"])
    assert code[-1]["metadata"]["tags"] == ["submission"]
    assert cells[-1]["cell_type"] == "markdown"
    shown = {
        tag.removeprefix("exercise-")
        for cell in code
        for tag in cell["metadata"].get("tags", [])
        if tag.startswith("exercise-")
    }
    assert shown == {exercise.id for exercise in get_lab(LAB_ID).exercises}
    assert not any(
        "getpass" in "".join(c["source"]) or "input(" in "".join(c["source"]) for c in code
    )


def _tree_state():
    """This lab's notebook bytes, and whether an answers folder exists in the work tree."""
    answers = [ROOT / "labkit-answers", ROOT / "notebooks" / "labkit-answers"]
    return NOTEBOOK.read_bytes(), [
        sorted(p.name for p in folder.iterdir()) if folder.exists() else None for folder in answers
    ]


@pytest.mark.notebook
@pytest.mark.parametrize("student", STUDENTS)
def test_notebook_runs_and_solution_grades_full(student, tmp_path, monkeypatch, lab):
    from testbook import testbook

    from labkit.records import records_from_notebook

    before = _tree_state()
    scratch = tmp_path / "notebooks"
    shutil.copytree(ROOT / "notebooks", scratch)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("LABKIT_STUDENT", student)
    monkeypatch.delenv("LABKIT_GRADING", raising=False)
    monkeypatch.chdir(scratch)
    source = inspect.getsource(_solutions())
    resources = {"metadata": {"path": str(scratch)}}
    with testbook(scratch / NOTEBOOK.name, execute=False, timeout=120, resources=resources) as tb:
        setup = next(i for i, c in enumerate(tb.nb.cells) if "setup" in c.metadata.get("tags", []))
        tb.execute_cell(list(range(setup + 1)))
        tb.inject(source + "\nsolve_assessment(lab)\n", after=setup, run=True)
        tb.execute_cell(list(range(setup + 2, len(tb.nb.cells))))
        errors = [
            (cell.get("id"), output)
            for cell in tb.nb.cells
            if cell.cell_type == "code"
            for output in cell.get("outputs", [])
            if output.output_type == "error"
        ]
        assert errors == []
        records = records_from_notebook(json.loads(json.dumps(tb.nb)))
    assert len(records) == 1
    result = grade_record(records[0], student, lab)
    assert result.statuses == ()
    assert result.score == lab.max_points, [
        (e.exercise_id, e.status, e.mistakes) for e in result.exercises
    ]
    assert _tree_state() == before
