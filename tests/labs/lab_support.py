"""What every lab's tests share: a stand-in session, the solutions, and the notebook harness.

- :class:`StandIn` is what a solution needs of a ``LabSession`` without a kernel: answers are
  checked as the Check button checks them (tries and all) and kept in a record.
- :func:`load_solution` loads ``tests/solutions/<name>.py`` (kept out of the notebooks).
- :func:`run_notebook` executes a lab notebook with testbook on a scratch copy of
  ``notebooks/`` (kernel working directory there, a scratch HOME, ``LABKIT_STUDENT`` set),
  injects a solution, re-runs the submission cell, and returns the executed notebook as plain
  JSON together with the records its submission output carries.
- :func:`walk_notebook` walks a lab notebook as a student does: every cell in order, and right
  after each exercise's own cell that exercise's step of the solution (``STEPS``), optionally
  after its typical wrong answers (the exercise's examples): each exercise must be solvable with
  only what the cells above it did.
- :func:`notebook_walk` walks each lab notebook once per session (``WALKS``), and
  :func:`solution_scores_full_marks` checks that walk: the labs' notebook tests share it.
- :func:`error_outputs`, :func:`stderr_outputs` and :func:`tags_of` read an executed notebook;
  :func:`tree_digest` fingerprints what a notebook run could change in the work tree.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from labkit.exercises import Feedback, Variant, check_answer
from labkit.labs import Lab
from labkit.records import Record, records_from_notebook

ROOT = Path(__file__).resolve().parents[2]
SOLUTIONS = ROOT / "tests" / "solutions"


def load_solution(name: str) -> ModuleType:
    """``tests/solutions/<name>.py`` as a module."""
    path = SOLUTIONS / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"solution_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class StandIn:
    """A lab session without a kernel: params, world, client, Hub, answers and the record."""

    def __init__(self, lab: Lab, student: str) -> None:
        self.definition = lab
        self.student = student
        self.params = lab.params_for(student)
        self.world = lab.new_world(student)
        self.client = self.world.client("student")
        self._record = Record(lab.id, student, lab.fingerprint(student))
        self.feedback: dict[str, Feedback] = {}

    @property
    def hub(self):
        return self.world.hub(self.params["docker_id"])

    def variant(self, exercise_id: str) -> Variant:
        return self.definition.variant(exercise_id, self.student)

    def submit(self, exercise_id: str, raw: Any) -> Feedback:
        """Answer as the Check button does: parse, check, count the try, keep the answer."""
        entry = self._record.answers.get(exercise_id)
        feedback = check_answer(
            self.definition.exercise(exercise_id),
            self.variant(exercise_id),
            raw,
            self.world,
            tries_used=entry.tries if entry else 0,
        )
        self._record = self._record.with_answer(exercise_id, raw, counted=feedback.counted)
        self.feedback[exercise_id] = feedback
        return feedback

    answer = submit

    def check(self, exercise_id: str) -> Feedback:
        return self.submit(exercise_id, None)

    def record(self) -> Record:
        """The record a kernel would save now: answers and the student's events."""
        return self._record.with_events(self.definition.student_events(self.world, self.student))


def run_notebook(
    notebook: str,
    student: str,
    tmp_path: Path,
    monkeypatch: Any,
    *,
    inject: tuple[str, ...] = (),
    after_setup: bool = False,
    timeout: int = 120,
) -> tuple[dict, list[Record]]:
    """Execute ``notebooks/<notebook>`` for ``student`` on a scratch copy and return the
    executed notebook (plain JSON) and the records read back from its outputs.

    ``inject`` is code run after the whole notebook, followed by a re-run of the cell tagged
    ``submission``; with ``after_setup`` it is run (and kept) right after the ``setup`` cell
    instead, and the rest of the notebook runs after it. The kernel must work in the copy."""
    from testbook import testbook

    scratch = tmp_path / "notebooks"
    shutil.copytree(ROOT / "notebooks", scratch, ignore=shutil.ignore_patterns("labkit-answers"))
    (tmp_path / "home").mkdir(exist_ok=True)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("LABKIT_STUDENT", student)
    monkeypatch.delenv("LABKIT_GRADING", raising=False)
    resources = {"metadata": {"path": str(scratch)}}
    path = scratch / notebook
    with testbook(path, execute=not after_setup, timeout=timeout, resources=resources) as tb:
        if after_setup:
            setup = next(i for i, c in enumerate(tb.nb.cells) if "setup" in _tags(c))
            tb.execute_cell(list(range(setup + 1)))
            for offset, code in enumerate(inject):
                tb.inject(code, after=setup + offset, run=True)
            tb.execute_cell(list(range(setup + 1 + len(inject), len(tb.nb.cells))))
        else:
            for code in inject:
                tb.inject(code, pop=True)
            if inject:
                tb.execute_cell("submission")
        cwd = tb.value("__import__('os').getcwd()")
        executed = json.loads(json.dumps(tb.nb))
    assert Path(cwd).resolve() == scratch.resolve(), cwd
    return executed, records_from_notebook(executed)


# Run in the kernel right after the setup cell: answers one exercise in place, wrong first
# when asked (its examples, leaving one try for the right answer), then with its step.
WALK_HELPER = """
def _walk_step(lab, exercise_id, wrong_first):
    exercise = lab.definition.exercise(exercise_id)
    variant = lab.variant(exercise_id)
    wrong = []
    if wrong_first and exercise.kind.value != "task":
        budget = len(exercise.examples)
        if exercise.max_tries is not None:
            budget = min(budget, exercise.max_tries - 1)
        for example in exercise.examples[:budget]:
            feedback = lab.submit(exercise_id, example.raw_for(variant))
            wrong.append([example.mistake, feedback.status, list(feedback.mistakes)])
    STEPS[exercise_id](lab)
    feedback = lab._feedback.get(exercise_id)
    return {"wrong": wrong, "status": feedback.status if feedback else None}
"""


def walk_notebook(
    notebook: str,
    student: str,
    solution: str,
    tmp_path: Path,
    monkeypatch: Any,
    *,
    wrong_first: bool = False,
    finally_run: tuple[str, ...] = (),
    timeout: int = 120,
) -> tuple[dict, list[Record], dict[str, dict]]:
    """Execute ``notebooks/<notebook>`` cell by cell on a scratch copy; right after the cell
    tagged ``exercise-<id>``, take ``STEPS[id]`` of ``tests/solutions/<solution>.py`` (after
    the exercise's typical wrong answers with ``wrong_first``). Returns the executed notebook,
    the records its submission output carries, and per exercise what the walk saw
    (``{"wrong": [[expected mistake, status, mistakes]...], "status": ...}``)."""
    from testbook import testbook

    scratch = tmp_path / "notebooks"
    shutil.copytree(ROOT / "notebooks", scratch, ignore=shutil.ignore_patterns("labkit-answers"))
    (tmp_path / "home").mkdir(exist_ok=True)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("LABKIT_STUDENT", student)
    monkeypatch.delenv("LABKIT_GRADING", raising=False)
    resources = {"metadata": {"path": str(scratch)}}
    code = (SOLUTIONS / f"{solution}.py").read_text(encoding="utf-8") + WALK_HELPER
    seen: dict[str, dict] = {}
    with testbook(scratch / notebook, execute=False, timeout=timeout, resources=resources) as tb:
        for index in range(len(tb.nb.cells)):
            cell = tb.nb.cells[index]
            if cell.cell_type != "code":
                continue
            tags = _tags(cell)
            if "submission" in tags:
                for extra in finally_run:
                    tb.inject(extra, pop=True)
            tb.execute_cell(index)
            if "setup" in tags:
                tb.inject(code, pop=True)
            for tag in tags:
                if tag.startswith("exercise-"):
                    exercise_id = tag.removeprefix("exercise-")
                    seen[exercise_id] = tb.value(
                        f"_walk_step(lab, {exercise_id!r}, {wrong_first!r})"
                    )
        cwd = tb.value("__import__('os').getcwd()")
        executed = json.loads(json.dumps(tb.nb))
    assert Path(cwd).resolve() == scratch.resolve(), cwd
    return executed, records_from_notebook(executed), seen


def error_outputs(notebook: dict) -> list[tuple[str, dict]]:
    """Error outputs of an executed notebook (stderr is fine: docker prints warnings there)."""
    return [
        (cell.get("id"), output)
        for cell in notebook["cells"]
        if cell["cell_type"] == "code"
        for output in cell.get("outputs", ())
        if output.get("output_type") == "error"
    ]


def stderr_outputs(notebook: dict) -> list[tuple[str, str]]:
    """``(cell id, text)`` of every stderr stream of an executed notebook."""
    return [
        (cell.get("id"), output.get("text", ""))
        for cell in notebook["cells"]
        if cell["cell_type"] == "code"
        for output in cell.get("outputs", ())
        if output.get("output_type") == "stream" and output.get("name") == "stderr"
    ]


def tags_of(notebook: dict) -> set[str]:
    return {t for cell in notebook["cells"] for t in _tags(cell)}


def _tags(cell: dict) -> list[str]:
    return cell.get("metadata", {}).get("tags", [])


#: Where a lab run could write in the work tree besides its notebook.
ANSWER_FOLDERS = (
    ROOT / "notebooks" / "labkit-answers",
    ROOT / "notebooks" / ".labkit",
    ROOT / "labkit-answers",
)


def tree_digest(notebook: str) -> str:
    """What a run of ``notebooks/<notebook>`` could change in the work tree: that notebook's
    bytes, which answer folders exist, and every path and file in them (other engineers may
    change other notebooks meanwhile)."""
    digest = hashlib.sha256((ROOT / "notebooks" / notebook).read_bytes())
    for folder in ANSWER_FOLDERS:
        if folder.is_dir():
            digest.update(b"\0folder " + str(folder).encode())
            for path in sorted(folder.rglob("*")):
                digest.update(b"\0" + str(path).encode())
                digest.update(path.read_bytes() if path.is_file() else b"")
    return digest.hexdigest()


# Every lab notebook is walked once per test session, by one student, typical wrong answers
# first (lab id -> the solution in tests/solutions/, walk options); the labs' notebook tests and
# test_walk.py all check that one walk.
NO_SERVER_LEFT = (
    "assert [t.name for t in __import__('threading').enumerate()"
    " if t.name.startswith('labkit-serve')] == [], 'a labkit-serve thread is still running'"
)
WALKS: dict[str, tuple[str, dict[str, Any]]] = {
    "00-start-here": ("start_here", {}),
    "01-tags": ("tags", {}),
    "02-image-names": ("image_names", {}),
    "03-official-images": ("official_images", {}),
    "04-pushing": ("pushing", {}),
    "05-organizations-and-teams": ("organizations", {}),
    "06-assessment": ("assessment", {}),
    "07-under-the-hood": ("under_the_hood", {"finally_run": (NO_SERVER_LEFT,)}),
}
WALKER = "walker-wrong-first"


@dataclass(frozen=True)
class Walk:
    """One walk of a lab notebook (:func:`walk_notebook` with ``wrong_first``) and what it left
    behind: whether the work tree is as it was, and answer folders that should not exist."""

    lab_id: str
    student: str
    executed: dict
    records: list[Record]
    seen: dict[str, dict]
    tree_unchanged: bool
    folders_left: list[Path]


_WALKS: dict[str, Walk | BaseException] = {}


def notebook_walk(lab_id: str, tmp_root: Path) -> Walk:
    """The session's walk of ``notebooks/<lab_id>.ipynb`` (made on first use; a walk that
    raised raises again for every test that asks for it)."""
    if lab_id not in _WALKS:
        solution, options = WALKS[lab_id]
        notebook = f"{lab_id}.ipynb"
        scratch = tmp_root / lab_id
        scratch.mkdir(parents=True)
        try:
            before = tree_digest(notebook)
            with pytest.MonkeyPatch.context() as monkeypatch:
                executed, records, seen = walk_notebook(
                    notebook, WALKER, solution, scratch, monkeypatch, wrong_first=True, **options
                )
            _WALKS[lab_id] = Walk(
                lab_id,
                WALKER,
                executed,
                records,
                seen,
                tree_digest(notebook) == before,
                [folder for folder in ANSWER_FOLDERS if folder.exists()],
            )
        except Exception as error:
            _WALKS[lab_id] = error
    walk = _WALKS[lab_id]
    if isinstance(walk, BaseException):
        raise walk
    return walk


def solution_scores_full_marks(lab: Lab, walk: Walk) -> dict:
    """The lab's walk (:func:`notebook_walk`: each exercise solved by
    ``tests/solutions/<solution>.py`` right after its own cell, typical wrong answers first):
    the notebook shows no error, each step is right where it stands, the wrong answers get
    their own mistake, the notebook carries one record of this lab and this student that grades
    to full marks, and the work tree is as it was. Returns the executed notebook for a lab's own
    further checks."""
    from labkit.grading import grade_record

    executed, records, seen = walk.executed, walk.records, walk.seen
    assert error_outputs(executed) == []
    assert {e.id for e in lab.exercises} == set(seen)
    right = {e.id: "recorded" if e.feedback == "format-only" else "correct" for e in lab.exercises}
    assert {i: s["status"] for i, s in seen.items() if s["status"] != right[i]} == {}
    for exercise_id, step in seen.items():
        for expected, status, mistakes in step["wrong"]:
            if lab.exercise(exercise_id).feedback == "format-only":
                assert status == "recorded", (exercise_id, expected, status)
            else:
                assert expected in mistakes, (exercise_id, expected, status, mistakes)
    assert {"setup", "submission"} <= tags_of(executed)
    assert {f"exercise-{e.id}" for e in lab.exercises} <= tags_of(executed)
    assert [(r.lab, r.student) for r in records] == [(lab.id, walk.student)]
    result = grade_record(records[0], walk.student, lab)
    assert result.statuses == ()
    assert result.score == lab.max_points, [
        (e.exercise_id, e.status, e.mistakes, e.feedback) for e in result.exercises
    ]
    assert walk.tree_unchanged
    assert walk.folders_left == []
    return executed
