"""What every lab's tests share: a stand-in session, the solutions, and the notebook harness.

- :class:`StandIn` is what a solution needs of a ``LabSession`` without a kernel: answers are
  checked as the Check button checks them (tries and all) and kept in a record.
- :func:`load_solution` loads ``tests/solutions/<name>.py`` (kept out of the notebooks).
- :func:`run_notebook` executes a lab notebook with testbook on a scratch copy of
  ``notebooks/`` (kernel working directory there, a scratch HOME, ``LABKIT_STUDENT`` set),
  injects a solution, re-runs the submission cell, and returns the executed notebook as plain
  JSON together with the records its submission output carries.
- :func:`error_outputs`, :func:`stderr_outputs` and :func:`tags_of` read an executed notebook;
  :func:`tree_digest` fingerprints what a notebook run could change in the work tree.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import shutil
from pathlib import Path
from types import ModuleType
from typing import Any

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


def solution_scores_full_marks(
    lab: Lab, notebook: str, solution: str, student: str, tmp_path: Path, monkeypatch: Any, **run
) -> dict:
    """Execute the lab's notebook for ``student``, inject ``tests/solutions/<solution>.py`` and
    call ``solve_<solution>(lab)``; the notebook shows no error, carries one record of this lab
    and this student that grades to full marks, and leaves the work tree as it was. Returns
    the executed notebook for a lab's own further checks."""
    from labkit.exercises import grade_record

    before = tree_digest(notebook)
    code = (SOLUTIONS / f"{solution}.py").read_text(encoding="utf-8")
    executed, records = run_notebook(
        notebook, student, tmp_path, monkeypatch, inject=(code, f"solve_{solution}(lab)"), **run
    )
    assert error_outputs(executed) == []
    assert {"setup", "submission"} <= tags_of(executed)
    assert {f"exercise-{e.id}" for e in lab.exercises} <= tags_of(executed)
    assert [(r.lab, r.student) for r in records] == [(lab.id, student)]
    result = grade_record(records[0], student, lab)
    assert result.statuses == ()
    assert result.score == lab.max_points, [
        (e.exercise_id, e.status, e.mistakes, e.feedback) for e in result.exercises
    ]
    assert tree_digest(notebook) == before
    assert [folder for folder in ANSWER_FOLDERS if folder.exists()] == []
    return executed
