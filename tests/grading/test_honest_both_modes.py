"""An honest class scores the same in default mode and with ``--execute`` (Linux, sandboxed).

The students answered in the widgets (answers live only in the saved record: re-running the
notebook cannot reproduce them) and solved the tasks in code cells (re-running reproduces the
world). Some handed in only the ``.ipynb``, some the answers folder too.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import pytest

from grading.fixtures import LAB, notebook, record_for, write_submission
from labkit.cli import main
from labkit.exercises import Kind
from labkit.grading.execute import isolation

pytestmark = [
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="--execute is Linux only"),
    pytest.mark.skipif(isolation() == "limits only", reason="needs the bubblewrap sandbox"),
    pytest.mark.timeout(120),
]


def solve_cell(task: str) -> str:
    index = [e.id for e in LAB.exercises].index(task)
    return (
        f"task = lab.definition.exercises[{index}]\n"
        "task.solve(lab.world, lab.variant(task.id))\n"
        "lab.check(task.id)"
    )


def build(root: Path) -> None:
    tasks = [e.id for e in LAB.exercises if e.kind is Kind.TASK]
    for student, wrong, solved, folder in (
        ("widgets-only", False, tasks, False),
        ("widgets-and-folder", False, tasks, True),
        ("typical-mistakes", True, tasks[:1], False),
        ("answers-no-tasks", False, [], True),
    ):
        record = record_for(student, wrong=wrong, solve=tuple(solved))
        made = notebook(
            None if folder else record, extra=tuple(solve_cell(task) for task in solved)
        )
        write_submission(root / student, record=record, notebook_json=made, in_folder=folder)


def rows(path: Path) -> list[tuple[str, ...]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return [
            (r["student"], r["exercise"], r["score"], r["status"]) for r in csv.DictReader(handle)
        ]


def test_the_same_honest_class_scores_identically_in_both_modes(tmp_path, capsys):
    build(tmp_path / "subs")
    default, executed = tmp_path / "default" / "grades.csv", tmp_path / "execute" / "grades.csv"
    assert main(["grade", str(tmp_path / "subs"), "-o", str(default), "--no-progress"]) == 0
    command = ["grade", str(tmp_path / "subs"), "-o", str(executed), "--no-progress"]
    assert main([*command, "--execute", "-j", "2"]) == 0
    capsys.readouterr()
    want, got = rows(default), rows(executed)
    assert got == want
    totals = {r[0]: r[2] for r in want if r[1] == "(total)"}
    assert totals["widgets-only"] == totals["widgets-and-folder"] == "10"
    assert totals["answers-no-tasks"] == "6"
    assert all(r[3] == "ok" for r in want if r[1] == "(total)")
