"""``labkit.start(lab_id)``: the lab session a notebook works with (the Jupyter layer).

See ``docs/session-api.md``. The session resolves the student, builds their world (the lab's
setup, then the saved events replayed), loads the ``%docker`` magic bound to ``lab.client``,
shows a header with "variant for: ID" and a progress bar, and keeps the record in
``labkit-answers/<lab>.json`` beside the notebook: saved after every answer and every world
event. Works without an IPython shell (plain Python, tests); in grading mode
(``LABKIT_GRADING``) nothing prompts or blocks.

This module is long because it is the whole of what a student calls in a notebook (the
LabSession: answers, checks, the world's helpers, the widgets it shows, records and resets) and
the friendly errors around it.
"""

from __future__ import annotations

# Lazy imports (inside functions): IPython, ipywidgets (python -X importtime: 0.4 s), the magic and
# the widgets load when a lab first shows one.
import difflib
import functools
import html
import inspect
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from labkit._version import __version__
from labkit.browser import in_browser
from labkit.client import Client
from labkit.errors import LabkitError, LabkitTypeError, RegistryError
from labkit.exercises import Feedback, Kind, Variant, check_answer, plain_value
from labkit.exercises.model import RULES
from labkit.labs import get_lab
from labkit.records import (
    NO_COURSE_ID,
    CorruptRecord,
    Record,
    RecordStore,
    record_bundle,
    record_download_html,
    record_file_name,
    resolve_student,
)
from labkit.shell import Result
from labkit.world import Clock, Hub, World

if TYPE_CHECKING:
    from labkit.client import Client
    from labkit.labs import Lab
    from labkit.shell import Result
    from labkit.widgets.browser import RegistryBrowser
    from labkit.widgets.exercise import ExerciseView
    from labkit.widgets.explorer import ExplorerView
    from labkit.widgets.permissions import PermissionMatrix
    from labkit.widgets.progress import ProgressView
    from labkit.widgets.push import PushView
    from labkit.widgets.scan import ScanView
    from labkit.world import Event, Hub, World

__all__ = ["LabSession", "start"]


def _shell() -> Any:
    """The running IPython shell, or None (plain Python)."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is a dependency
        return None
    return get_ipython()


def display(*objects: Any, raw: bool = False) -> None:
    """IPython's display in a kernel; in plain Python, print the text form (never widgets)."""
    if _shell() is not None:
        from IPython.display import display as ipython_display

        ipython_display(*objects, raw=raw)
        return
    for obj in objects:
        if raw and isinstance(obj, Mapping):
            print(obj.get("text/plain", ""))
        elif isinstance(obj, str):
            print(obj)


def start(
    lab_id: str, student: str | None = None, *, folder: str | os.PathLike[str] | None = None
) -> LabSession:
    """Start (or resume) a lab: returns the :class:`LabSession` (see docs/session-api.md).

    In a notebook it also registers labkit's error handler (:func:`friendly_errors`): a slip
    with a lab helper ends in a short message naming the mistake and the fix."""
    friendly_errors()
    session = LabSession(get_lab(lab_id), student, folder=folder)
    session.load_magic()
    session.show_header()
    return session


# -- friendly errors -------------------------------------------------------------------------

# Whom a student calls a labkit object by, in messages about a slip with it.
_CALLED = {
    "LabSession": "lab",
    "Hub": "hub",
    "World": "lab.world",
    "Client": "client",
    "ExplorerView": "explorer",
}


def friendly_message(error: BaseException) -> tuple[str, str] | None:
    """``(mistake, fix)`` for a slip with labkit's helpers, or None for anything else (a real
    bug in labkit, or the student's own Python error), which keeps its traceback.

    A slip is a :class:`LabkitError` (labkit refused on purpose), or a call of a labkit
    helper with wrong arguments or a name it does not have, raised in the student's own cell
    (the traceback's last frame is not inside labkit).
    """
    if isinstance(error, LabkitError):
        message = error.message if isinstance(error, RegistryError) else str(error)
        return message, getattr(error, "hint", "") or ""
    frame = error.__traceback__
    while frame is not None and frame.tb_next is not None:
        frame = frame.tb_next
    module = frame.tb_frame.f_globals.get("__name__", "") if frame is not None else ""
    if module.startswith("labkit"):
        return None  # raised inside labkit: a bug, show where
    if isinstance(error, AttributeError):
        owner = getattr(error, "obj", None)
        name = getattr(error, "name", None)
        kind = type(owner)
        if owner is None or not kind.__module__.startswith("labkit") or not name:
            return None
        public = sorted(n for n in dir(owner) if not n.startswith("_"))
        called = _CALLED.get(kind.__name__, kind.__name__)
        close = difflib.get_close_matches(name, public, n=1)
        fix = f"Did you mean `{called}.{close[0]}`? " if close else ""
        return (
            f"`{called}` has no `{name}`",
            fix + "What it has: " + ", ".join(f"`{n}`" for n in public) + ".",
        )
    if isinstance(error, TypeError):
        match = re.match(r"(\w+)\.(\w+)\(\) (.*)", str(error))
        if match is None:
            return None
        cls_name, method, problem = match.groups()
        target = _labkit_callable(cls_name, method)
        if target is None:
            return None
        called = _CALLED.get(cls_name, cls_name)
        try:
            signature = (
                str(inspect.signature(target)).replace("(self, ", "(").replace("(self)", "()")
            )
        except (TypeError, ValueError):
            signature = "(...)"
        return (
            f"`{called}.{method}()` was called the wrong way: {problem}",
            f"Call it as `{called}.{method}{signature}`.",
        )
    return None


def _labkit_callable(cls_name: str, method: str) -> Any:
    """The labkit method ``cls_name.method`` (of the classes a notebook meets), or None."""
    classes = {"LabSession": LabSession, "Hub": Hub, "World": World, "Client": Client}
    cls = classes.get(cls_name)
    return getattr(cls, method, None) if cls is not None else None


def friendly_text(mistake: str, fix: str) -> str:
    """The plain-text form of a friendly error (what a saved notebook shows)."""
    return f"✘ labkit: {mistake}" + (f"\n  How to fix it: {fix}" if fix else "")


def friendly_html(mistake: str, fix: str) -> str:
    """The HTML form of a friendly error: icon and word, the mistake, the fix."""
    from labkit.widgets.style import badge, box, inline_markdown

    inner = f"{badge('refused', words='That did not work')}: {inline_markdown(mistake)}"
    if fix:
        inner += f"<div><strong>How to fix it:</strong> {inline_markdown(fix)}</div>"
    return box(f"<div role='alert' class='labkit-error'>{inner}</div>", "refused")


def _handle(shell: Any, etype: type, value: BaseException, tb: Any, tb_offset: Any = None):
    """IPython's custom exception handler: a short message for a slip, the usual traceback
    for anything else."""
    friendly = friendly_message(value)
    if friendly is None:
        shell.showtraceback((etype, value, tb), tb_offset=tb_offset)
        return None
    display(
        {"text/plain": friendly_text(*friendly), "text/html": friendly_html(*friendly)},
        raw=True,
    )
    return None


def friendly_errors() -> None:
    """Register :func:`_handle` with the running IPython shell (nothing without one). The
    cell still counts as failed (Run All stops there), but shows no traceback."""
    shell = _shell()
    if shell is not None and getattr(shell, "CustomTB", None) is not getattr(
        shell, "_labkit_tb", 0
    ):
        shell.set_custom_exc((Exception,), _handle)
        shell._labkit_tb = shell.CustomTB


def _check_task(session: LabSession, exercise_id: str, raw: Any) -> Feedback:
    """A task's Check button: the world is checked, whatever the widget passes."""
    return session.check(exercise_id)


class LabSession:
    """One student's lab in a kernel: world, client, Hub, exercises, record and widgets."""

    def __init__(
        self,
        definition: Lab,
        student: str | None = None,
        *,
        folder: str | os.PathLike[str] | None = None,
    ) -> None:
        self.definition = definition
        self.id = definition.id
        self.title = definition.title
        self.student, self.student_source = resolve_student(student)
        self.grading = bool(os.environ.get("LABKIT_GRADING"))
        self.folder = Path(folder) if folder is not None else Path.cwd()
        self.store = RecordStore(self.folder)
        self.problems: list[str] = []
        self.params: dict[str, Any] = definition.params_for(self.student)
        self._variants: dict[str, Variant] = {}
        self._feedback: dict[str, Feedback] = {}
        self._views: dict[str, ExerciseView] = {}
        self._progress: list[ProgressView] = []
        self._header: Any = None
        self._saving = False
        self.record = self._load_record()
        self._start_world(list(self.record.events))
        self._restore_feedback()

    # -- start-up --------------------------------------------------------------------------

    def _fresh_record(self) -> Record:
        return Record(
            lab=self.id,
            student=self.student,
            fingerprint=self.definition.fingerprint(self.student),
            labkit_version=__version__,
        )

    def _load_record(self) -> Record:
        fresh = self._fresh_record()
        try:
            stored = self.store.load(self.id)
        except CorruptRecord as error:
            self.problems.append(str(error))
            return fresh
        if stored is None:
            return fresh
        if stored.student != self.student:
            self.problems.append(
                f"{self.store.path(self.id)} holds the record of {stored.student!r}, not of "
                f"{self.student!r}: it was not restored (it is merged when you answer)"
            )
            return fresh
        if stored.fingerprint != fresh.fingerprint:
            self.problems.append(
                f"the saved record was made for variant {stored.fingerprint}; this is variant "
                f"{fresh.fingerprint} (the lab changed): answers are restored, check them again"
            )
        return replace(stored, fingerprint=fresh.fingerprint, labkit_version=fresh.labkit_version)

    def _start_world(self, events: list[Mapping[str, Any]]) -> None:
        self.world: World = self.definition.new_world(self.student)
        self._setup_events = len(self.world.events)
        if events:
            try:
                self.world.apply(events)
            except LabkitError as error:
                self.problems.append(f"the saved world could not be fully restored: {error}")
            self.world.clock = Clock()  # replay pins the clock to the events' times
        self.client: Client = self.world.client("student")
        self.world.listeners.append(self._on_event)

    def _restore_feedback(self) -> None:
        """Re-check restored answers (public checks, no try used) for the widgets and progress."""
        for exercise_id, entry in self.record.answers.items():
            try:
                exercise = self.definition.exercise(exercise_id)
            except LabkitError:
                continue
            if entry.tries == 0:
                continue
            self._feedback[exercise_id] = check_answer(
                exercise,
                self.variant(exercise_id),
                entry.raw,
                self.world,
                tries_used=max(entry.tries - 1, 0),
            )

    # -- the public members ------------------------------------------------------------------

    @property
    def hub(self) -> Hub:
        """Hub actions (Docker Hub's web UI) as the student's account."""
        user = self.params.get("docker_id")
        if not user:
            raise LabkitError(f"lab {self.id} gives the student no Docker Hub account")
        return self.world.hub(user)

    def variant(self, exercise_id: str) -> Variant:
        """That exercise's variant for this student (params and answer)."""
        if exercise_id not in self._variants:
            self._variants[exercise_id] = self.definition.variant(exercise_id, self.student)
        return self._variants[exercise_id]

    def show(self, exercise_id: str) -> None:
        """Display the exercise's widget (``view(exercise_id)`` gives the object itself)."""
        display(self.view(exercise_id).widget)

    def view(self, exercise_id: str) -> ExerciseView:
        """The exercise's widget object (built once per session; tests drive it)."""
        if exercise_id not in self._views:
            from labkit.widgets.exercise import ExerciseView

            exercise = self.definition.exercise(exercise_id)
            entry = self.record.answers.get(exercise_id)
            view = ExerciseView(
                exercise,
                self.variant(exercise_id),
                functools.partial(self.submit, exercise_id),
                tries_used=entry.tries if entry else 0,
            )
            if exercise.kind is Kind.TASK:
                view.submit = functools.partial(_check_task, self, exercise_id)
            if entry is not None:
                view.restore(entry.raw, entry.tries, self._feedback.get(exercise_id))
            self._views[exercise_id] = view
        return self._views[exercise_id]

    def submit(self, exercise_id: str, raw: Any) -> Feedback:
        """Answer an exercise exactly as its Check button does: parse, check, count the try,
        unlock hints, record and save; returns the Feedback."""
        exercise = self.definition.exercise(exercise_id)
        entry = self.record.answers.get(exercise_id)
        tries = entry.tries if entry else 0
        feedback = check_answer(
            exercise, self.variant(exercise_id), raw, self.world, tries_used=tries
        )
        if feedback.status != "no-tries-left":
            self.record = self.record.with_answer(
                exercise_id, _storable(raw), counted=feedback.counted
            )
            self._feedback[exercise_id] = feedback
            self.save()
        if exercise_id in self._views:
            self._views[exercise_id].show(feedback)
        self._update_progress()
        return feedback

    def answer(self, exercise_id: str, value: Any) -> None:
        """For code exercises: check ``value``, record it and display the feedback (returns
        nothing, so a cell ending with it shows the feedback once; ``submit`` returns it)."""
        feedback = self.submit(exercise_id, value)
        if _shell() is not None:
            import ipywidgets as widgets

            from labkit.widgets.exercise import feedback_html

            display(widgets.HTML(feedback_html(feedback)))
        else:
            print(f"{feedback.status}: {feedback.message}")

    def check(self, exercise_id: str | None = None) -> Any:
        """``lab.check("id")``: for task exercises, check the world's state now (what the
        task's Check does) and return the Feedback. ``lab.check()``: where you stand in this
        lab, exercise by exercise (an :class:`Overview`)."""
        if exercise_id is None:
            return self.overview()
        return self.submit(exercise_id, None)

    @property
    def graded_later(self) -> bool:
        """True for an assessment: Check only records, the grader decides."""
        return all(e.feedback == "format-only" for e in self.definition.exercises)

    def overview(self) -> Overview:
        """Per exercise, in notebook order: answered or not and, in a practice lab, right,
        partly right or wrong (the assessment says only answered or not); tries; when."""
        rows = []
        for exercise in self.definition.exercises:
            entry = self.record.answers.get(exercise.id)
            feedback = self._feedback.get(exercise.id)
            if entry is None or feedback is None:
                state = "not-yet"
            elif feedback.status == "format-error":
                state = "format-error"
            elif self.graded_later or exercise.feedback == "format-only":
                state = "answered"
            else:
                state = str(feedback.status)
            score = None if feedback is None or self.graded_later else feedback.score
            rows.append(
                OverviewRow(
                    exercise.id,
                    exercise.title,
                    state,
                    score,
                    entry.tries if entry else 0,
                    _readable_time(entry.time) if entry else "",
                )
            )
        return Overview(self.id, self.title, tuple(rows), self.graded_later, self.student)

    def explorer(self, text: str = "") -> ExplorerView:
        """The reference explorer widget (type a name, see its parts)."""
        from labkit.widgets.explorer import ExplorerView

        return ExplorerView(text)

    def push_view(self, result: Result) -> PushView:
        """Layers with their final status, the digest and the size of a push Result."""
        from labkit.widgets.push import PushView

        if not isinstance(result, Result):
            raise LabkitTypeError(
                f"lab.push_view shows the result of a push, not {type(result).__name__} {result!r}",
                'Run the push first: lab.push_view(lab.client.run("docker push NAME")).',
            )
        return PushView(result)

    def browser(self) -> RegistryBrowser:
        """The registry browser over ``world.snapshot()``."""
        from labkit.widgets.browser import RegistryBrowser

        return RegistryBrowser(self.world)

    def permissions(self, org: str, registry: str = "registry.acme.com") -> PermissionMatrix:
        """The permission matrix of ``org`` on ``registry`` (changes call Hub actions)."""
        from labkit.widgets.permissions import PermissionMatrix

        if not isinstance(org, str) or org not in self.world.registry(registry).accounts.orgs:
            orgs = ", ".join(repr(o) for o in sorted(self.world.registry(registry).accounts.orgs))
            error = LabkitError(f"there is no organization {org!r} on {registry}")
            error.hint = f"Its organizations: {orgs}."
            raise error
        user = self.params.get("docker_id") or ""
        return PermissionMatrix(self.world, org, registry=registry, user=user)

    def scan(self, reference: str) -> ScanView:
        """The scan view of ``world.scan(reference)``, clearly marked simulated."""
        from labkit.widgets.scan import ScanView

        return ScanView(self.world, reference)

    def progress(self) -> ProgressView:
        """The lab's progress bar widget."""
        from labkit.widgets.progress import ProgressView

        view = ProgressView(len(self.definition.exercises))
        self._progress.append(view)
        self._update_progress()
        return view

    def counts(self) -> tuple[int, int]:
        """(exercises answered correctly, format-only exercises recorded)."""
        correct = sum(f.status == "correct" for f in self._feedback.values())
        recorded = sum(f.status == "recorded" for f in self._feedback.values())
        return correct, recorded

    def _update_progress(self) -> None:
        correct, recorded = self.counts()
        for view in self._progress:
            view.update(correct, recorded)

    # -- the header ----------------------------------------------------------------------------

    def header(self) -> Any:
        """The header widget: title, "variant for: ID" and its source, problems, progress."""
        import ipywidgets as widgets

        from labkit.widgets.style import MUTED, badge, box

        lines = [
            # h2: the setup cell follows the notebook's h1 title (axe-core: heading-order)
            f"<h2 style='margin: 4px 0; font-size: var(--jp-content-font-size3, 1.44em)'>"
            f"{html.escape(self.title)}</h2>",
            f"<div>variant for: <strong>{html.escape(self.student)}</strong> "
            f"<span style='color: {MUTED}'>(from {html.escape(self.student_source)})</span></div>",
        ]
        if self.grading:
            lines.append(f"<div style='color: {MUTED}'>grading mode</div>")
        for problem in self.problems + self.store.problems:
            lines.append(f"<div>{badge('refused', '')} {html.escape(problem)}</div>")
        restored = len(self.record.answers)
        if restored or self.record.events:
            lines.append(
                f"<div style='color: {MUTED}'>restored from {html.escape(self._record_path())}: "
                f"{restored} answers, {len(self.record.events)} world events</div>"
            )
        self.header_html = widgets.HTML(box("".join(lines)))
        self._header = widgets.VBox([self.header_html, self.progress().widget])
        return self._header

    def header_text(self) -> str:
        """The header as plain text (what a saved notebook shows without widget state)."""
        lines = [self.title, f"variant for: {self.student} (from {self.student_source})"]
        lines += [f"⚠ {problem}" for problem in self.problems + self.store.problems]
        return "\n".join(lines)

    def show_header(self) -> None:
        """Display the header: HTML with a plain-text fallback, then the progress bar, so the
        saved notebook says whose variant it is even without widget state."""
        header = self.header()
        display({"text/plain": self.header_text(), "text/html": self.header_html.value}, raw=True)
        if _shell() is not None:
            display(header.children[1])

    def _record_path(self) -> str:
        return str(self.store.path(self.id))

    # -- records ------------------------------------------------------------------------------

    def student_events(self) -> list[dict[str, Any]]:
        """The world's events after the lab's setup, as a record keeps them."""
        return [event.to_json() for event in self.world.events[self._setup_events :]]

    def save(self) -> Record:
        """Write the record (answers and the student's events), merged with the one on disk."""
        if self._saving:
            return self.record
        self._saving = True
        try:
            self.record = self.store.save(self.record.with_events(self.student_events()))
        finally:
            self._saving = False
        return self.record

    def _on_event(self, event: Event) -> None:
        try:
            self.save()
        except LabkitError as error:  # e.g. the lock timed out: keep working, say so
            self.problems.append(f"the record could not be saved: {error}")

    def submission_bundle(self) -> dict[str, Any]:
        """The submission cell's MIME bundle: the whole record (saved first) as
        ``application/vnd.labkit.record+json``, shown as the lab's overview and next steps."""
        bundle = record_bundle(self.save())
        overview = self.overview()
        folder = f"labkit-answers/{Path(self._record_path()).name}"
        bundle["text/plain"] = overview.text(handing_in=True, folder=folder)
        bundle["text/html"] = overview.html(handing_in=True, folder=folder)
        return bundle

    def submission(self) -> None:
        """Display the whole record with where the student stands (:meth:`overview`) and the
        next step, with an instructor (save, hand in this file) and alone (the result is
        here)."""
        display(self.submission_bundle(), raw=True)
        link = record_download_html(self.record)
        display({"text/html": link, "text/plain": record_file_name(self.record)}, raw=True)
        if self.student == NO_COURSE_ID:
            print(
                "These answers are marked as having no course id: give yours here, then run "
                "this lab's set-up cell again (its variants are made for your id)."
            )
            self.course_id_form()

    def rules(self) -> None:
        """Show the one set of rules for tries, format errors and credit (every lab)."""
        if _shell() is not None:
            from IPython.display import Markdown

            display(Markdown(RULES))
        else:
            print(RULES)

    def reset(self, confirm: bool = False) -> None:
        """Start the lab over (new world, answers cleared) with ``confirm=True``; the reset is
        recorded. Without it, only explains how to confirm."""
        if confirm not in (True, False):
            raise LabkitError(
                f"confirm must be True or False, not {confirm!r}: "
                "to start over, run lab.reset(confirm=True)"
            )
        if not confirm:
            message = (
                "This would erase your answers and your simulated world for lab "
                f"{self.id}. To start over, run: lab.reset(confirm=True)"
            )
            print(message)
            return
        self.world.listeners.remove(self._on_event)
        self.record = self.record.reset()
        self._feedback.clear()
        self._start_world([])
        self.save()
        for exercise_id, view in list(self._views.items()):
            view.fill(None)
            view.state = type(view.state)()
            view.feedback.value = ""
            view.hints.value = ""
            view._update_hint_button()
            del exercise_id
        self._update_progress()
        from labkit.magic import use_client

        use_client(self.client)
        print(f"Lab {self.id} starts over: a new world, no answers. The reset is recorded.")

    # -- the magic ----------------------------------------------------------------------------

    def course_id_form(self) -> Any:  # the CourseIdForm, already shown (a _Shown proxy)
        """A box where the student gives their course id once; every lab then uses it for
        the student's variants (kept in ``~/.labkit/student-id``)."""
        from labkit.widgets.course import CourseIdForm

        form = CourseIdForm(current=self.student, source=self.student_source)
        display(form.widget)
        # the cell's value is the form too: it shows nothing more (no object repr under it)
        return _Shown(form)

    def load_magic(self) -> None:
        """Bind ``%docker`` to this lab's client, and register it when a shell is running."""
        from labkit.magic import load_ipython_extension, use_client

        use_client(self.client)
        shell = _shell()
        if shell is not None:
            load_ipython_extension(shell)

    def __repr__(self) -> str:
        return f"<labkit lab {self.id!r}: variant for {self.student}>"


class _Shown:
    """A widget's object, returned by a helper that has already displayed it: a cell ending
    with the call shows nothing more (no ``<...object at 0x...>`` under the widget). Attribute
    access goes to the object."""

    def __init__(self, target: Any) -> None:
        object.__setattr__(self, "_target", target)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._target, name)

    def _ipython_display_(self) -> None:
        return None

    def __repr__(self) -> str:
        return ""


def _readable_time(stamp: str) -> str:
    """An ISO time as a person reads it, in local time: ``30 Nov 14:05``."""
    try:
        when = datetime.fromisoformat(stamp)
    except ValueError:
        return stamp
    if when.tzinfo is not None:
        when = when.astimezone()
    return when.strftime("%d %b %H:%M").lstrip("0")


@dataclass(frozen=True)
class OverviewRow:
    exercise_id: str
    title: str
    state: str  # correct, partial, wrong, format-error, no-tries-left, answered, not-yet
    score: float | None
    tries: int
    when: str


_STATE_WORDS = {
    "correct": ("✔", "right"),
    "partial": ("◐", "partly right"),
    "wrong": ("✘", "wrong"),
    "format-error": ("⚠", "format error"),
    "no-tries-left": ("✘", "no tries left"),
    "answered": ("✎", "answered"),
    "not-yet": ("—", "not yet"),
}


@dataclass(frozen=True)
class Overview:
    """Where a student stands in one lab (``lab.check()``, the submission cell)."""

    lab_id: str
    title: str
    rows: tuple[OverviewRow, ...]
    graded_later: bool
    student: str = ""

    def state_words(self, row: OverviewRow) -> str:
        icon, words = _STATE_WORDS.get(row.state, ("", row.state))
        if row.state == "partial" and row.score is not None:
            words += f" ({round(row.score * 100)}%)"
        return f"{icon} {words}"

    @property
    def unanswered(self) -> list[OverviewRow]:
        return [r for r in self.rows if r.state == "not-yet"]

    def headline(self) -> str:
        total = len(self.rows)
        left = len(self.unanswered)
        if self.graded_later:
            return (
                f"{total - left} of {total} questions answered, {left} remain. "
                "Check only records answers: they are graded with the lab."
            )
        right = sum(r.state == "correct" for r in self.rows)
        return f"{right} of {total} exercises right, {left} not answered yet."

    def next_steps(self, *, handing_in: bool, folder: str = "") -> list[str]:
        steps = []
        if self.unanswered:
            names = ", ".join(f"“{r.title}”" for r in self.unanswered)
            steps.append(f"Not answered yet: {names}. Scroll up to their cells to answer them.")
        if handing_in and in_browser():
            steps.append(
                "With an instructor: hand in the record file that the link below downloads "
                "(one click), or the notebook itself (File ▸ Download). Your work stays in this "
                "browser only: clearing the site's data erases it."
            )
        elif handing_in:
            steps.append(
                "With an instructor: save the notebook now (Ctrl+S, or File ▸ Save Notebook) "
                "and hand in the saved .ipynb file: this cell's output carries your whole "
                f"record ({folder} beside the notebook is a spare copy)."
            )
        if self.graded_later:
            steps.append(
                "On your own: this assessment is scored by an instructor's grader; the "
                "practice labs show your result right away."
            )
        else:
            steps.append(
                "On your own: this table is your result. Wrong or partly right answers can be "
                "tried again where tries remain; hints unlock as you try."
            )
        return steps

    def text(self, *, handing_in: bool = False, folder: str = "") -> str:
        width = max((len(r.title) for r in self.rows), default=10)
        lines = [f"{self.title}: {self.headline()}"]
        for number, row in enumerate(self.rows, 1):
            tries = f"{row.tries} tr{'y' if row.tries == 1 else 'ies'}" if row.tries else ""
            lines.append(
                f"{number:>2}. {row.title.ljust(width)}  {self.state_words(row):<24} "
                f"{tries:<9} {row.when}".rstrip()
            )
        lines += ["", *self.next_steps(handing_in=handing_in, folder=folder)]
        if handing_in:
            lines.append(f"(labkit record of lab {self.lab_id} for {self.student})")
        return "\n".join(lines)

    def html(self, *, handing_in: bool = False, folder: str = "") -> str:
        from labkit.widgets.style import MUTED, box, inline_markdown

        left = "style='text-align: left'"
        rows = "".join(
            f"<tr><td>{n}</td><td {left}>{inline_markdown(r.title)}</td>"
            f"<td {left}>{html.escape(self.state_words(r))}</td><td>{r.tries or ''}</td>"
            f"<td {left}>{html.escape(r.when)}</td></tr>"
            for n, r in enumerate(self.rows, 1)
        )
        steps = "".join(
            f"<li>{html.escape(s)}</li>"
            for s in self.next_steps(handing_in=handing_in, folder=folder)
        )
        return box(
            f"<div class='labkit-overview'><p><strong>{html.escape(self.title)}</strong>: "
            f"{html.escape(self.headline())}</p>"
            f"<table><thead><tr><th>#</th><th {left}>exercise</th><th {left}>where you stand</th>"
            f"<th>tries</th><th {left}>last answer</th></tr></thead><tbody>{rows}</tbody></table>"
            f"<ul style='color: {MUTED}'>{steps}</ul>"
            + (
                f"<p style='color: {MUTED}'>labkit record of lab {html.escape(self.lab_id)} for "
                f"{html.escape(self.student)}</p>"
                if handing_in
                else ""
            )
            + "</div>"
        )

    def _repr_html_(self) -> str:
        return self.html()

    def __repr__(self) -> str:
        return self.text()


def _storable(raw: Any) -> Any:
    """The raw answer as the record keeps it (plain JSON; anything else is kept as text)."""
    try:
        return plain_value(raw)
    except LabkitError:
        return repr(raw)
