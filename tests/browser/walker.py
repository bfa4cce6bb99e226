"""A lab walked in the browser as a student walks it: the cells in order and, right after each
exercise's own cell, that exercise answered wrong first (its feedback), Hint (the hints), then
right ("Right"); once per lab the kernel restarted and every cell run again (the answers come
back from the record). Then the same page in the dark theme.

How a student answers each kind:

- short answer, name the parts, multiple choice, predict the output: in the exercise's widget
  (``enter_answer`` / ``check_and_see`` of :mod:`browser.student`), a typical wrong answer (the
  exercise's first example) first;
- code: ``lab.answer("<id>", value)`` in a new cell right below the exercise, wrong value first,
  then the same cell edited to the right value and run again;
- task: Check before doing anything (the usual slip), then the task done in a new cell right
  below, in the student's words (:func:`student_code`: ``%docker`` lines and Hub calls, what the
  lab's solver does), then Check.

Cell indices: the page's cells (``NotebookPage.cell``) include the cells the walk inserted;
:class:`Walk` maps the notebook file's indices to the page's.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grading.fixtures import keyed_lab

from browser.driver import STUDENT, NotebookPage
from browser.student import (
    badge_text,
    check_and_see,
    enter_answer,
    expected_feedback,
    explorer_reacts,
    notebook_lab,
    plain,
    see_status,
)
from labkit.exercises import Exercise, Feedback, Kind, Variant
from labkit.labs import Lab, get_lab
from labkit.widgets.exercise import shown_head

LIGHT = "JupyterLab Light"
DARK = "JupyterLab Dark"
# What an exercise's feedback area can say (the walk waits for any of them after a Check).
ATTEMPT_STATUSES = ("correct", "partial", "wrong", "format-error", "recorded", "no-tries-left")

# Known faults the walk shows, each held exactly (a fix makes the walk fail until the entry
# goes): tasks already Right before the student does anything (a cell above did the task),
# and labs whose Restart Kernel and Run All Cells stops at a cell (file index: its message).
DONE_BY_THE_CELLS_ABOVE: dict[tuple[str, str], str] = {}
RESTART_STOPS: dict[str, tuple[int, str]] = {}


# -- a task in the student's words ---------------------------------------------------------------


class _Client:
    """A client of the recording world: each command becomes a line of the cell."""

    def __init__(self, lines: list[str], name: str) -> None:
        self.lines, self.name = lines, name

    def run(self, line: str, stdin: str | None = None) -> None:
        if self.name == "student":  # the student's own client: the %docker magic
            self.lines.append(f"%{line}" + (f" <<< {stdin}" if stdin is not None else ""))
        else:
            extra = f", {stdin!r}" if stdin is not None else ""
            self.lines.append(f"lab.world.client({self.name!r}).run({line!r}{extra})")


class _Hub:
    """A Hub of the recording world: each call becomes ``lab.world.hub(...).<call>(...)``."""

    def __init__(self, lines: list[str], call: str) -> None:
        self.lines, self.call = lines, call

    def __getattr__(self, name: str) -> Callable[..., None]:
        def record(*args: Any, **options: Any) -> None:
            words = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in options.items()]
            self.lines.append(f"{self.call}.{name}({', '.join(words)})")

        return record


class _RecordingWorld:
    """What a task's solver is given: it records what the solver does, as student code."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def client(self, name: str = "student") -> _Client:
        return _Client(self.lines, name)

    def hub(self, user: str, registry: str | None = None) -> _Hub:
        where = f"{user!r}" + (f", {registry!r}" if registry else "")
        return _Hub(self.lines, f"lab.world.hub({where})")


def student_code(exercise: Exercise, variant: Variant) -> str:
    """What the lab's solver of a task does, written as a student writes it in a cell."""
    assert exercise.solve is not None, f"task {exercise.id} has no solver"
    world = _RecordingWorld()
    exercise.solve(world, variant)  # type: ignore[arg-type]
    assert world.lines, f"the solver of {exercise.id} did nothing a student could type"
    return "\n".join(world.lines)


# -- the walk ------------------------------------------------------------------------------------


@dataclass
class Walk:
    """One lab notebook walked in one page; ``inserted`` holds the page indices of new cells."""

    page: NotebookPage
    notebook: str
    lab: Lab  # as the student's kernel has it (what the widgets show)
    keyed: Lab  # keyed by the instructor's pack (the answers typed, the tasks' solvers)
    inserted: list[int] = field(default_factory=list)
    seen: dict[str, list[str]] = field(default_factory=dict)  # exercise -> statuses shown

    @classmethod
    def open(cls, page: NotebookPage, notebook: str) -> Walk:
        lab_id = notebook_lab(notebook)
        assert lab_id, f"{notebook} starts no lab"
        return cls(page, notebook, get_lab(lab_id), keyed_lab(lab_id))

    @property
    def stem(self) -> str:
        return self.notebook.removesuffix(".ipynb")

    def at(self, model_index: int) -> int:
        """The page index of the notebook file's cell ``model_index``."""
        index = model_index
        for new in sorted(self.inserted):
            if new <= index:
                index += 1
        return index

    def exercise_cells(self) -> list[tuple[int, str]]:
        """(file index, exercise id) of each cell tagged ``exercise-<id>``, in order."""
        found = []
        for index, cell in enumerate(self.page.model()["cells"]):
            for tag in cell.get("metadata", {}).get("tags", []):
                if tag.startswith("exercise-"):
                    found.append((index, tag.removeprefix("exercise-")))
        return found

    def walk(self) -> None:
        """Every cell in order; each exercise answered right after its own cell ran."""
        page = self.page
        next_cell = 0
        for model_index, exercise_id in self.exercise_cells():
            here = self.at(model_index)
            page.run_cells(next_cell, here)
            inserted = self.answer(here, exercise_id)
            next_cell = here + 1 + inserted
        last = page.page.locator(".jp-Notebook .jp-Cell").count() - 1
        if next_cell <= last:
            page.run_cells(next_cell, last)

    def answer(self, index: int, exercise_id: str) -> int:
        """Wrong first, Hint, right, for the exercise whose cell is at ``index``; returns how
        many cells were inserted below it."""
        exercise = self.keyed.exercise(exercise_id)
        shown = self.lab.exercise(exercise_id)
        variant = self.lab.variant(shown, STUDENT)
        key_variant = self.keyed.variant(exercise, STUDENT)
        output = self.page.cell(index).locator(".jp-OutputArea-output")
        output.first.scroll_into_view_if_needed()
        right_status = "recorded" if exercise.feedback == "format-only" else "correct"
        seen = self.seen.setdefault(exercise_id, [])
        if exercise.kind is Kind.TASK:
            self.page.click(output.get_by_role("button", name="Check"))
            status = self.status_shown(index)
            seen.append(status)
            done_above = (self.lab.id, exercise_id) in DONE_BY_THE_CELLS_ABOVE
            assert (status == "correct") == done_above, (
                f"{exercise_id}: {status} before the student did anything "
                f"(DONE_BY_THE_CELLS_ABOVE: {done_above})"
            )
            self.see_hints(index, shown.hints_unlocked(1 if status != "format-error" else 0))
            new = self.page.insert_cell_below(index, student_code(exercise, key_variant))
            self.inserted.append(new)
            self.page.run_cells(new, new)
            self.page.click(output.get_by_role("button", name="Check"))
            see_status(output, right_status)
            seen.append(right_status)
            return 1
        wrong = exercise.examples[0].raw_for(key_variant)
        wrong_feedback = expected_feedback(self.lab, shown, variant, wrong)
        right = exercise.key_raw(key_variant)
        if exercise.kind is Kind.CODE:
            new = self.page.insert_cell_below(index, f"lab.answer({exercise_id!r}, {wrong!r})")
            self.inserted.append(new)
            self.page.run_cells(new, new)
            see_feedback(output, wrong_feedback)
            seen.append(wrong_feedback.status)
            self.see_hints(index, wrong_feedback.hints)
            self.page.set_source(new, f"lab.answer({exercise_id!r}, {right!r})")
            self.page.run_cells(new, new)
            see_status(output, right_status)
            seen.append(right_status)
            return 1
        enter_answer(self.page, index, exercise, wrong)
        check_and_see(self.page, index, wrong_feedback)
        seen.append(wrong_feedback.status)
        if exercise.feedback == "immediate":
            assert exercise.examples[0].mistake in wrong_feedback.mistakes
        self.see_hints(index, wrong_feedback.hints)
        enter_answer(self.page, index, exercise, right)
        check_and_see(self.page, index, expected_feedback(self.lab, shown, variant, right))
        seen.append(right_status)
        return 0

    def status_shown(self, index: int) -> str:
        """Wait for the feedback area of the exercise at ``index`` to show a status; which."""
        output = self.page.cell(index).locator(".jp-OutputArea-output")
        pattern = "|".join(re.escape(badge_text(s)) for s in ATTEMPT_STATUSES)
        output.get_by_text(re.compile(pattern)).first.wait_for()
        text = output.inner_text()
        return next(s for s in ATTEMPT_STATUSES if badge_text(s) in text)

    def see_hints(self, index: int, unlocked: tuple[str, ...]) -> None:
        """Press Hint: the hints box shows the first hint unlocked (or says none is yet)."""
        output = self.page.cell(index).locator(".jp-OutputArea-output")
        self.page.click(output.get_by_role("button", name=re.compile(r"Hint \(")))
        output.get_by_text("Hints", exact=True).first.wait_for()
        shown = plain(output.inner_text())
        if unlocked:
            assert plain(unlocked[0]) in shown, f"hint {unlocked[0]!r} not shown:\n{shown}"
        else:
            assert "No hint yet" in shown or "No hints for this one" in shown, shown

    def restart(self) -> None:
        """Restart Kernel and Run All Cells: every cell runs again, or Run All stops where
        :data:`RESTART_STOPS` says (exactly), and the student runs the rest from the next."""
        stopped = self.page.restart_and_run_all()
        expected = RESTART_STOPS.get(self.lab.id)
        if expected is None:
            assert stopped is None, (
                f"Run All after a restart stopped before cell {stopped}; the cell before shows:\n"
                + self.page.cell(stopped - 1).inner_text()[-1500:]
            )
            return
        model_index, message = expected
        at = self.at(model_index)
        shows = self.page.cell(at).inner_text()
        message = message.format(**self.lab.params_for(STUDENT))
        assert stopped is not None and stopped > at and message in shows, (
            f"RESTART_STOPS says Run All stops at cell {model_index} with {message!r}; "
            f"it stopped before {stopped}; cell {model_index} shows:\n{shows[-800:]}"
        )
        self.page.run_cells(stopped, self.page.page.locator(".jp-Notebook .jp-Cell").count() - 1)

    def see_restored(self) -> None:
        """After a restart and a new run of every cell: each exercise shows its right answer's
        status again; those answered in their widget say so from the record, the field
        refilled."""
        for model_index, exercise_id in self.exercise_cells():
            index = self.at(model_index)
            exercise = self.keyed.exercise(exercise_id)
            output = self.page.cell(index).locator(".jp-OutputArea-output")
            status = "recorded" if exercise.feedback == "format-only" else "correct"
            see_status(output, status)
            if exercise.kind is Kind.CODE:
                continue  # its lab.answer cell ran again: a new check, not a restored one
            text = output.inner_text()
            assert "restored from your record" in text, f"{exercise_id} not restored:\n{text}"
            if exercise.kind is Kind.SHORT_ANSWER:
                right = exercise.key_raw(self.keyed.variant(exercise, STUDENT))
                value = output.locator(".widget-text input").first.input_value()
                assert value == right, f"{exercise_id}: the field reads {value!r}, not {right!r}"

    def docker_outputs(self) -> list[str]:
        """Cells running ``%docker`` / ``%%docker`` that show no output."""
        empty = []
        for model_index, cell in enumerate(self.page.model()["cells"]):
            source = "".join(cell["source"]) if cell["cell_type"] == "code" else ""
            if re.search(r"^%%?docker\b", source, re.MULTILINE):
                area = self.page.cell(self.at(model_index)).locator(".jp-OutputArea")
                if not area.inner_text().strip():
                    empty.append(f"cell {model_index} ({source.splitlines()[0]!r}) shows nothing")
        return empty

    def explorer(self) -> None:
        """The reference explorer, where the lab shows one, reacts to each keystroke."""
        for model_index, cell in enumerate(self.page.model()["cells"]):
            if "lab.explorer(" in "".join(cell["source"]):
                explorer_reacts(self.page, self.at(model_index))

    def screenshot(self, folder: Path, theme: str) -> list[Path]:
        """The page at 1280 px at the first exercise and at the middle one."""
        cells = self.exercise_cells()
        paths = []
        for n, (model_index, _) in enumerate((cells[0], cells[len(cells) // 2])):
            self.page.page.evaluate(
                "(i) => document.querySelectorAll('.jp-Notebook .jp-Cell')[i]"
                ".scrollIntoView({block: 'start'})",
                self.at(model_index),
            )
            path = folder / f"walk-{self.stem}-{theme}-{n + 1}.png"
            self.page.page.screenshot(path=path)
            paths.append(path)
        return paths


def see_feedback(output: Any, feedback: Feedback) -> None:
    """The widget shows ``feedback``'s status and the first lines of its message (for the code
    kind, whose feedback follows ``lab.answer`` in another cell, not a Check)."""
    see_status(output, feedback.status)
    shown = plain(output.inner_text())
    lines = [line.removeprefix("- ") for line in feedback.message.splitlines() if line.strip()]
    lines[:1] = [shown_head(line) for line in lines[:1]]
    for line in lines[:2]:
        assert plain(line) in shown, f"feedback {line!r} not shown; the widget reads:\n{shown}"
