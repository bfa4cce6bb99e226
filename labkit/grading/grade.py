"""Grade submissions: records in, one :class:`LabGrade` per student and lab out.

Default mode runs no student code. For each submission it reads the records (the
``labkit-answers`` folder and the notebooks' submission-cell outputs; newest answer per
exercise), replays the event log on a fresh world for the layout's student and compares every
recorded docker outcome with the replay (``forged`` when they differ), grades with
:func:`labkit.grading.record.grade_record` (hidden checks included) and runs the instructor's
``--checks``. Each submission is graded inside its own ``try``; with ``jobs > 1`` in worker
processes, and a worker that dies gives its submission the status ``killed``.

Statuses of a lab grade (:class:`labkit.exercises.Status`): ok, other-student, variant-changed,
forged, wrong-lab, replay-failed, malformed, missing, no-submission-cell, unknown-lab, error, and
with ``--execute`` the execution statuses (timed-out, killed, memory-limit, output-limit,
not-a-notebook).

This module is long because grading one submission takes its records, their integrity checks,
the replays, the instructor's checks and the worker processes with their bounds.
"""

from __future__ import annotations

# Lazy imports (inside functions): the worker pool (labkit.grading.workers, fork), resource
# and signal are POSIX-only and needed only for a bounded or --execute run; --execute's module and
# tqdm load only when used.
import contextlib
import importlib.util
import json
import os
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from labkit._version import __version__
from labkit.errors import LabkitError
from labkit.exercises.model import LAB_STATUS_ORDER, HiddenResult, Status
from labkit.grading.collect import (
    RecordFile,
    Submission,
    read_notebook,
    read_record_file,
)
from labkit.grading.key import apply_keys
from labkit.grading.record import NOT_AS, grade_record, release_of, replay_leniently
from labkit.grading.results import ExerciseGrade, LabGrade, SubmissionGrade, most_serious
from labkit.labs import find_labs
from labkit.records import ANSWERS_FOLDER, Record, merge_records
from labkit.world import Clock, World

if TYPE_CHECKING:
    from labkit.labs import Lab

__all__ = [
    "STATUS_ORDER",
    "CheckContext",
    "ExerciseGrade",
    "GradeOptions",
    "LabGrade",
    "SubmissionGrade",
    "grade_all",
    "grade_submission",
    "graded_labs",
    "lab_grades",
    "load_checks",
]

# Problem statuses, most serious first: a lab grade shows the first that applies.
STATUS_ORDER = LAB_STATUS_ORDER
MAX_EVENTS = 5000
MAX_ANSWER_DEPTH = 64
MAX_ANSWER_CHARS = 1_000_000
MAX_ANSWER_NODES = 100_000


@dataclass(frozen=True)
class GradeOptions:
    """How to grade: ``lab`` is ``--lab``; ``checks_dir`` is ``--checks``; ``labs_dir`` adds
    course labs (as ``LABKIT_LABS``)."""

    lab: str | None = None
    checks_dir: str | None = None
    execute: bool = False
    unisolated: bool = False  # --unisolated: run notebooks even without a sandbox
    # default mode: what grading one submission may use (in a worker process)
    submission_seconds: float = 30
    memory_bytes: int = 1 << 30
    labs_dir: str | None = None
    cell_seconds: float | None = None  # --cell-timeout (execute mode)
    total_seconds: float | None = None  # --timeout: a whole notebook (execute mode)


@dataclass(frozen=True)
class CheckContext:
    """What an instructor check sees (``--checks``): all plain data or trusted objects."""

    student: str
    lab: Lab
    exercise_id: str
    variant: Any  # labkit.exercises.Variant of this student
    answer: Any  # the raw answer from the record (None when unanswered)
    record: Record
    world: Any  # the replayed World


InstructorCheck = Callable[[CheckContext], Any]


# -- labs and instructor checks, loaded once per process ----------------------------------------

_CACHE: dict[tuple[str | None, ...], Any] = {}


def load_checks(folder: str | os.PathLike[str]) -> dict[str, dict[str, list[InstructorCheck]]]:
    """Instructor-only checks from every ``*.py`` in ``folder`` (trusted code: it is imported).

    Each file defines ``CHECKS = {"<lab>": {"<exercise>": [check, ...]}}``; a check takes a
    :class:`CheckContext` and returns a bool, a score in [0, 1], or ``(score, message)``.
    Files are merged in name order. A file may define ``KEYS`` instead (or too): the keys of
    graded labs that labkit does not ship (:func:`load_keys`).
    """
    return load_pack(folder)[0]


def load_keys(folder: str | os.PathLike[str]) -> dict[str, dict[str, Mapping[str, Any]]]:
    """The graded labs' keys from the checks folder: every file's
    ``KEYS = {"<lab>": {"<exercise>": {"answer": ..., ...}}}`` merged in name order (see
    :func:`labkit.grading.key.apply_keys` for what an exercise's entry holds)."""
    return load_pack(folder)[1]


def load_pack(
    folder: str | os.PathLike[str],
) -> tuple[dict[str, dict[str, list[InstructorCheck]]], dict[str, dict[str, Mapping[str, Any]]]]:
    """``(CHECKS, KEYS)`` of the checks folder, each merged over its files in name order."""
    merged: dict[str, dict[str, list[InstructorCheck]]] = {}
    keys: dict[str, dict[str, Mapping[str, Any]]] = {}
    path = Path(folder)
    if not path.is_dir():
        raise LabkitError(f"--checks {folder}: not a folder")
    for file in sorted(path.glob("*.py")):
        if file.name.startswith("_"):
            continue
        name = f"labkit_instructor_checks.{file.stem.replace('-', '_')}"
        spec = importlib.util.spec_from_file_location(name, file)
        if spec is None or spec.loader is None:
            continue
        module = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(module)
        except Exception as error:
            raise LabkitError(f"--checks: cannot load {file}: {error!r}") from error
        checks = getattr(module, "CHECKS", None)
        file_keys = getattr(module, "KEYS", None)
        if not isinstance(checks, Mapping) and not isinstance(file_keys, Mapping):
            raise LabkitError(f"--checks: {file} defines no CHECKS dict (nor KEYS)")
        for lab_id, per_exercise in (checks or {}).items():
            if not isinstance(per_exercise, Mapping):
                raise LabkitError(f"--checks: {file}: CHECKS[{lab_id!r}] must map exercises")
            for exercise_id, functions in per_exercise.items():
                if callable(functions):
                    functions = [functions]
                merged.setdefault(str(lab_id), {}).setdefault(str(exercise_id), []).extend(
                    functions
                )
        for lab_id, per_exercise in (file_keys or {}).items():
            if not isinstance(per_exercise, Mapping) or not all(
                isinstance(entry, Mapping) for entry in per_exercise.values()
            ):
                raise LabkitError(
                    f"--checks: {file}: KEYS[{lab_id!r}] must map exercises to their keys"
                )
            keys.setdefault(str(lab_id), {}).update(
                {str(ex): entry for ex, entry in per_exercise.items()}
            )
    return merged, keys


def _pack(folder: str | None) -> tuple[dict[str, Any], dict[str, Any]]:
    if folder is None:
        return {}, {}
    key = ("pack", folder)
    if key not in _CACHE:
        _CACHE[key] = load_pack(folder)
    return _CACHE[key]


def _checks(folder: str | None) -> dict[str, dict[str, list[InstructorCheck]]]:
    return _pack(folder)[0]


def _labs(labs_dir: str | None, checks_dir: str | None = None) -> dict[str, Lab]:
    """The labs, the graded ones keyed by the checks folder's ``KEYS``."""
    key = ("labs", labs_dir, checks_dir)
    if key not in _CACHE:
        _CACHE[key] = apply_keys(find_labs(labs_dir), _pack(checks_dir)[1])
    return _CACHE[key]


def graded_labs(options: GradeOptions) -> dict[str, Lab]:
    """The labs a run with ``options`` grades with: installed and ``--labs-dir`` labs, the
    graded ones keyed by the ``--checks`` folder (what the class report words mistakes from)."""
    return _labs(options.labs_dir, options.checks_dir)


# -- answers that are JSON but not sensible --------------------------------------------------------


def _answer_problem(raw: Any) -> str:
    """Why an answer is too big or too deep to grade, or ""."""
    stack = [(raw, 1)]
    nodes = chars = 0
    while stack:
        value, depth = stack.pop()
        nodes += 1
        if depth > MAX_ANSWER_DEPTH:
            return f"the answer nests lists or objects over {MAX_ANSWER_DEPTH} levels deep"
        if nodes > MAX_ANSWER_NODES:
            return f"the answer holds over {MAX_ANSWER_NODES} values"
        if isinstance(value, str):
            chars += len(value)
        elif isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values())
            chars += sum(len(str(k)) for k in value)
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)
        if chars > MAX_ANSWER_CHARS:
            return f"the answer is over {MAX_ANSWER_CHARS} characters long"
    return ""


def _answer_text(raw: Any, limit: int = 400) -> str:
    if raw is None:
        return ""
    try:
        text = raw if isinstance(raw, str) else json.dumps(raw, ensure_ascii=False)
    except (ValueError, TypeError, RecursionError):
        text = "(not shown)"
    return text if len(text) <= limit else text[:limit] + f"… ({len(text)} characters)"


# -- the forgery check: does the event log replay to its own recorded outcomes? -------------------


def _replay_mismatches(lab: Lab, student: str, events: Sequence[Mapping[str, Any]]) -> list[str]:
    world = World.default(clock=Clock.fixed(), seed=0)
    lab.setup_world(world, student)
    problems = []
    for index, event in enumerate(events, 1):
        try:
            pairs = world.apply([event])
        except Exception as error:
            problems.append(f"event {index} does not replay ({error})")
            continue
        for recorded, replayed in pairs:
            if recorded.kind != "docker":
                continue
            want, got = recorded.outcome, replayed.outcome
            if want.get("exit_code") != got.get("exit_code"):
                problems.append(
                    f"event {index} (`{recorded.action}`) records exit code "
                    f"{want.get('exit_code')!r} but replays to {got.get('exit_code')!r}"
                )
            elif want.get("output") != got.get("output"):
                problems.append(
                    f"event {index} (`{recorded.action}`) records an output that the command "
                    "does not print when replayed"
                )
    return problems


# -- one lab of one submission -------------------------------------------------------------------


def _fmt(value: float) -> str:
    return f"{round(value, 4):g}"


def _grade_lab(
    student: str,
    lab: Lab,
    sources: Sequence[tuple[str, Record]],
    notes: Sequence[str],
    cell_counts: Mapping[str, int] | None,
    checks: Mapping[str, list[InstructorCheck]],
) -> LabGrade:
    """Merge a lab's records, grade them, and say what is off about them (most serious first)."""
    record = sources[0][1]
    for _, other in sources[1:]:
        record = merge_records(record, other)
    statuses: list[Status] = []
    reasons: list[str] = list(notes)
    recorded_students = sorted({r.student for _, r in sources})
    record, bad_answers = _without_bad_answers(record)
    events = list(record.events)
    if len(events) > MAX_EVENTS:
        statuses.append(Status.MALFORMED)
        reasons.append(f"the event log has {len(events)} events; only the first {MAX_EVENTS} count")
        events = events[:MAX_EVENTS]
        record = replace(record, events=tuple(events))
    # a log is checked against the world of the student it was made for
    log_student = record.student if record.student != student else student
    record, integrity = _integrity_problems(lab, log_student, record)
    for status, reason in integrity:
        if status is not None:
            statuses.append(status)
        reasons.append(reason)
    events = list(record.events)
    result = grade_record(record, student, lab)
    log_student = record.student if Status.OTHER_STUDENT in result.statuses else student
    mismatches = _replay_mismatches(lab, log_student, events) if events else []
    if mismatches:
        statuses.append(Status.FORGED)
        shown = "; ".join(mismatches[:3])
        more = f" (and {len(mismatches) - 3} more)" if len(mismatches) > 3 else ""
        reasons.append(
            f"the event log does not replay to its recorded outcomes: {shown}{more}; "
            "graded on the replayed world"
        )
    for status, words in _record_problems(result, record, student, recorded_students, lab):
        if status is Status.REPLAY_FAILED and mismatches:
            continue  # the forgery already says the log does not replay
        if status is not None:
            statuses.append(status)
        reasons.extend(words)
    exercises = [
        _exercise_grade(
            grade,
            record,
            bad_answer=bad_answers.get(grade.exercise, ""),
            cells=None if cell_counts is None else cell_counts.get(grade.exercise, 0),
        )
        for grade in result.exercises
    ]
    if checks:
        exercises = _run_instructor_checks(exercises, lab, student, record, checks)
    return LabGrade(
        student,
        lab.id,
        most_serious(statuses),
        "; ".join(reasons),
        tuple(exercises),
        tuple(statuses),
    )


def _accounts(lab: Lab, student: str) -> set[str]:
    """The Hub accounts a lab gives ``student``: their own, and each account whose password the
    lab hands out (a ``<name>_password`` parameter beside ``<name>``)."""
    params = lab.params_for(student)
    accounts = {params["docker_id"]} if isinstance(params.get("docker_id"), str) else set()
    for key, value in params.items():
        if key.endswith("_password") and isinstance(value, str):
            account = params.get(key.removesuffix("_password"))
            if isinstance(account, str):
                accounts.add(account)
    return accounts


def _integrity_problems(
    lab: Lab, student: str, record: Record
) -> tuple[Record, list[tuple[Status | None, str]]]:
    """What a kernel could not have written: events done by accounts the lab did not give the
    student (taken out of the log: ``forged``), more tries than an exercise allows
    (``forged``); sequence numbers that go back and times in the future (named only: an
    edited, merged or clock-skewed record)."""
    from datetime import UTC, datetime, timedelta

    from labkit.records import _time_key

    found: list[tuple[Status | None, str]] = []
    accounts = _accounts(lab, student)
    kept, foreign = [], []
    for index, event in enumerate(record.events, 1):
        actor, kind = event.get("actor"), event.get("kind")
        allowed = {"student"} if kind == "docker" else accounts
        if kind in ("docker", "hub") and isinstance(actor, str) and actor not in allowed:
            foreign.append((index, actor, str(event.get("action", ""))[:60]))
            continue
        kept.append(event)
    if foreign:
        names = sorted({actor for _, actor, _ in foreign})
        shown = ", ".join(_shown_id(n) for n in names[:3]) + (" ..." if len(names) > 3 else "")
        found.append(
            (
                Status.FORGED,
                f"{len(foreign)} event(s) of the log were done as {shown}, an account the lab "
                f"did not give {student!r} (first: event {foreign[0][0]}, "
                f"`{foreign[0][2]}`); they were not applied",
            )
        )
        record = replace(record, events=tuple(kept))
    by_id = {e.id: e for e in lab.exercises}
    for exercise_id, entry in sorted(record.answers.items()):
        exercise = by_id.get(exercise_id)
        limit = exercise.max_tries if exercise is not None else None
        if limit is not None and entry.tries > limit:
            found.append(
                (
                    Status.FORGED,
                    f"the answer to {exercise_id} claims {entry.tries} tries; the exercise "
                    f"allows {limit}",
                )
            )
    previous = None
    for index, event in enumerate(record.events, 1):
        seq = event.get("seq")
        if not isinstance(seq, int) or isinstance(seq, bool):
            continue
        if previous is not None and seq <= previous:
            found.append(
                (
                    None,
                    f"event {index} has sequence number {seq} after {previous}: the log was "
                    "edited or put together from several",
                )
            )
            break
        previous = seq
    latest = datetime.now(UTC) + timedelta(days=1)
    times: list[tuple[str, Any]] = [("the record's world", record.world_updated)]
    times += [(f"the answer to {k}", v.time) for k, v in sorted(record.answers.items())]
    times += [(f"event {i}", e.get("time")) for i, e in enumerate(record.events, 1)]
    for what, text in times:
        if isinstance(text, str) and text and _time_key(text) > latest:
            found.append((None, f"{what} is dated {text[:40]!r}, in the future"))
            break
    return record, found


def _without_bad_answers(record: Record) -> tuple[Record, dict[str, str]]:
    """The record without answers too big or too deep to grade, and why each was taken out."""
    bad_answers = {}
    for exercise_id, entry in record.answers.items():
        problem = _answer_problem(entry.raw)
        if problem:
            bad_answers[exercise_id] = problem
    if bad_answers:
        kept = {k: v for k, v in record.answers.items() if k not in bad_answers}
        record = replace(record, answers=kept)
    return record, bad_answers


def _record_problems(
    result: LabGrade, record: Record, student: str, recorded_students: Sequence[str], lab: Lab
) -> list[tuple[Status | None, list[str]]]:
    """The statuses :func:`grade_record` found about the record, each with the grader's words
    (``None``: words only, a note that is no problem)."""
    found: list[tuple[Status | None, list[str]]] = []
    if Status.OTHER_STUDENT in result.statuses:
        others = [s for s in recorded_students if s != student] or [record.student]
        theirs = grade_record(record, others[0], lab)
        found.append(
            (
                Status.OTHER_STUDENT,
                [
                    f"the records were made for student {', '.join(map(repr, others))}, not "
                    f"{student!r}: graded as {student!r} ({_fmt(result.score)}/"
                    f"{_fmt(result.max_points)}); as {others[0]!r} they score "
                    f"{_fmt(theirs.score)}/{_fmt(theirs.max_points)}"
                ],
            )
        )
    if Status.WRONG_LAB in result.statuses:
        found.append(
            (Status.WRONG_LAB, [f"the record is for lab {record.lab!r}, graded as {lab.id!r}"])
        )
    version_note = ""
    if record.labkit_version and record.labkit_version != __version__:
        version_note = f"made with labkit {record.labkit_version}, graded with {__version__}"
    if Status.VARIANT_CHANGED in result.statuses and Status.OTHER_STUDENT not in result.statuses:
        made = version_note or f"made with {release_of(record)}"
        found.append(
            (
                Status.VARIANT_CHANGED,
                [
                    f"the record's variant fingerprint {record.fingerprint!r} is not this "
                    f"labkit's {lab.fingerprint(student)!r} for {student!r} ({made})"
                    ": the lab changed since the student worked on it; graded against "
                    "today's variant",
                    *(p for p in result.problems if p.startswith(NOT_AS)),
                ],
            )
        )
    elif version_note:
        # an earlier release, the same variant: graded as usual (not a problem, so no status;
        # the instructor still reads which release made it)
        found.append((None, [f"the record was {version_note}; the variant is the same"]))
    if Status.REPLAY_FAILED in result.statuses:
        found.append((Status.REPLAY_FAILED, [p for p in result.problems if "replayed" in p]))
    return found


def _exercise_grade(
    grade: ExerciseGrade,
    record: Record,
    *,
    bad_answer: str,
    cells: int | None,
) -> ExerciseGrade:
    """``grade`` with what the grader knows beyond the record: the answer as text, an answer it
    could not grade, and how many of the notebook's cells show the exercise."""
    entry = record.answers.get(grade.exercise)
    reasons = []
    status = grade.status
    feedback = grade.feedback
    if bad_answer:
        status = Status.FORMAT_ERROR
        feedback = f"The answer could not be graded: {bad_answer}."
        reasons.append(bad_answer)
    elif grade.mistakes:
        reasons.append("mistakes: " + ", ".join(grade.mistakes))
    elif status in (Status.FORMAT_ERROR, Status.CHECK_ERROR):
        reasons.append(grade.feedback.splitlines()[0] if grade.feedback else status)
    if cells == 0 and status == Status.UNANSWERED:
        reasons.append("the notebook has no cell for this exercise (deleted?)")
    elif cells is not None and cells > 1:
        reasons.append(f"the exercise appears in {cells} cells; the newest answer counts")
    return replace(
        grade,
        status=status,
        reason="; ".join(reasons),
        answer=_answer_text(entry.raw) if entry is not None and not bad_answer else "",
        feedback=feedback,
    )


def _run_instructor_checks(
    exercises: list[ExerciseGrade],
    lab: Lab,
    student: str,
    record: Record,
    checks: Mapping[str, list[InstructorCheck]],
) -> list[ExerciseGrade]:
    world = None
    graded = []
    for grade in exercises:
        functions = checks.get(grade.exercise, [])
        if not functions:
            graded.append(grade)
            continue
        if world is None:
            try:
                world = lab.world_for(student, record.events)
            except Exception:
                world, _ = replay_leniently(lab, student, record.events)
        entry = record.answers.get(grade.exercise)
        context = CheckContext(
            student,
            lab,
            grade.exercise,
            lab.variant(grade.exercise, student),
            None if entry is None else entry.raw,
            record,
            world,
        )
        scores, hidden, notes = [], list(grade.hidden), []
        for function in functions:
            name = getattr(function, "__name__", "instructor check")
            try:
                outcome = function(context)
                message = ""
                if isinstance(outcome, tuple):
                    outcome, message = outcome[0], str(outcome[1])
                score = float(outcome)
                if not 0.0 <= score <= 1.0:
                    raise ValueError(f"score {score} is not in [0, 1]")
            except Exception as error:
                notes.append(f"instructor check {name} raised {error!r}; not counted")
                continue
            scores.append(score)
            hidden.append(HiddenResult(f"instructor: {name}", score >= 1.0, message))
            if score < 1.0:
                notes.append(
                    f"instructor check {name}: {_fmt(score)}" + (f" ({message})" if message else "")
                )
        factor = sum(scores) / len(scores) if scores else 1.0
        score = round(grade.score * factor, 6)
        status = grade.status
        if score < grade.score:
            status = Status.PARTIAL if score > 0 else Status.WRONG
        reason = "; ".join(r for r in (grade.reason, *notes) if r)
        graded.append(
            replace(grade, score=score, status=status, reason=reason, hidden=tuple(hidden))
        )
    return graded


def _empty_lab(student: str, lab: Lab, status: Status, reason: str) -> LabGrade:
    """A lab that could not be graded: every exercise at 0 with the lab's status."""
    exercises = tuple(
        ExerciseGrade(
            e.id,
            0.0,
            e.points,
            status,
            "",
            hidden=tuple(HiddenResult(h.name, False) for h in e.hidden),
        )
        for e in lab.exercises
    )
    return LabGrade(student, lab.id, status, reason, exercises, (status,))


def _exercise_cell_counts(lab: Lab, sources: Iterable[str]) -> dict[str, int]:
    sources = list(sources)
    counts = {}
    for exercise in lab.exercises:
        quoted = (f'"{exercise.id}"', f"'{exercise.id}'")
        counts[exercise.id] = sum(any(q in s for q in quoted) for s in sources)
    return counts


# -- one submission -------------------------------------------------------------------------------


def grade_submission(
    submission: Submission, options: GradeOptions = GradeOptions()
) -> SubmissionGrade:
    """Grade one submission; never raises (a crash becomes the status ``error``)."""
    try:
        return _grade_submission(submission, options)
    except RecursionError:
        return SubmissionGrade(
            submission.student, (), Status.MALFORMED, "the records nest too deeply"
        )
    except MemoryError:
        return SubmissionGrade(
            submission.student,
            (),
            Status.MEMORY_LIMIT,
            f"grading this submission needed more than {options.memory_bytes >> 20} MiB of "
            "memory (a JSON bomb?); it was stopped",
        )
    except Exception as error:  # a broken submission never stops the others
        return SubmissionGrade(
            submission.student,
            (),
            Status.ERROR,
            f"grading failed ({type(error).__name__}: {error}); please report this",
        )


def _grade_submission(submission: Submission, options: GradeOptions) -> SubmissionGrade:
    student = submission.student
    if not submission.notebooks and not submission.record_files:
        folder = submission.folder
        where = f" ({folder.name}/ is empty)" if folder is not None else ""
        reason = (
            "no submission" + where
            if submission.layout == "roster" or folder is None
            else ("; ".join(submission.notes) or "no notebook and no records")
        )
        return SubmissionGrade(student, (), Status.MISSING, reason)
    found = _Found(options)
    found.read_record_files(submission)
    found.read_notebooks(submission)
    labs = _labs(options.labs_dir, options.checks_dir)
    checks = _checks(options.checks_dir)
    grades = [
        _grade_found_lab(found, lab_id, labs[lab_id], submission, checks)
        for lab_id in found.lab_ids()
        if lab_id in labs
    ]
    unknown = [lab_id for lab_id in found.lab_ids() if lab_id not in labs]
    if unknown:  # ids come from records a student wrote: one row, never a lab of the run
        shown = ", ".join(_shown_id(lab_id) for lab_id in unknown[:5])
        more = f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
        grades.append(
            LabGrade(
                student,
                UNKNOWN_LAB_ROW,
                Status.UNKNOWN_LAB,
                f"records for labs that are not installed here were ignored: {shown}{more}",
                (),
                (Status.UNKNOWN_LAB,),
            )
        )
    if grades:
        return SubmissionGrade(
            student,
            tuple(grades),
            Status.MISSING,
            "; ".join(["no notebook or record for this lab", *found.problems]),
        )
    if found.problems:
        return SubmissionGrade(student, (), Status.MALFORMED, "; ".join(found.problems))
    return SubmissionGrade(
        student, (), Status.MISSING, "; ".join(submission.notes) or "no labkit notebook or record"
    )


UNKNOWN_LAB_ROW = "(unknown lab)"  # the lab column of a student's row for unknown lab ids


def _shown_id(text: str, limit: int = 40) -> str:
    """An id from a record, quoted and shortened for a reason."""
    return repr(text[:limit] + ("…" if len(text) > limit else ""))


@dataclass
class _Found:
    """What one submission holds, lab by lab: its records (and where each came from), the
    notebooks' sources, notes about each lab, problems with the submission, and the status of
    each executed notebook."""

    options: GradeOptions
    records: dict[str, list[tuple[str, Record]]] = field(default_factory=dict)
    sources: dict[str, list[str]] = field(default_factory=dict)
    notes: dict[str, list[str]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    notebook_labs: set[str] = field(default_factory=set)
    execution: dict[str, tuple[str, str]] = field(default_factory=dict)
    unreadable: set[str] = field(default_factory=set)
    refused: list[str] = field(default_factory=list)  # record files that could not be read
    others: dict[str, list[str]] = field(default_factory=dict)  # --execute: others' records
    flags: dict[str, list[Status]] = field(default_factory=dict)  # --execute: the saved log's

    def lab_ids(self) -> list[str]:
        """The labs to grade: every lab with a record or a notebook (only ``--lab`` if given)."""
        ids = sorted(set(self.records) | self.notebook_labs)
        return [i for i in ids if self.options.lab is None or i == self.options.lab]

    def note(self, lab_id: str, text: str) -> None:
        self.notes.setdefault(lab_id, []).append(text)

    def add(self, lab_id: str, source: str, record: Record) -> None:
        if self.options.lab is not None and lab_id != self.options.lab:
            self.problems.append(
                f"{source}: a record for lab {lab_id!r} was ignored (grading {self.options.lab!r})"
            )
            return
        self.records.setdefault(lab_id, []).append((source, record))

    def read_record_files(self, submission: Submission) -> None:
        """The records of the ``labkit-answers`` folder."""
        for path in submission.record_files:
            found = read_record_file(path, submission.folder or path.parent)
            if found.record is None:
                self.problems.append(found.problem)
                self.refused.append(found.problem)
                continue
            if path.parent.name == ANSWERS_FOLDER and path.stem != found.record.lab:
                self.note(
                    found.record.lab, f"{path.name} holds a record for lab {found.record.lab!r}"
                )
            self.add(found.record.lab, f"{ANSWERS_FOLDER}/{path.name}", found.record)

    def read_notebooks(self, submission: Submission) -> None:
        """The records of each notebook's submission cell (with ``--execute``: of its run)."""
        for path in submission.notebooks:
            self._read_notebook(path, submission)

    def _read_notebook(self, path: Path, submission: Submission) -> None:
        options = self.options
        info = read_notebook(path, submission.folder or path.parent)
        if info.problem and not info.sources:
            self.problems.append(info.problem)
            return
        record_labs = {r.record.lab for r in info.records if r.record is not None}
        lab_id = (
            info.lab or (next(iter(sorted(record_labs))) if record_labs else None) or options.lab
        )
        if lab_id is None:
            self.problems.append(f"{path.name} is not a labkit notebook (no labkit.start cell)")
            return
        if info.problem:
            self.problems.append(info.problem)
            self.unreadable.add(lab_id)
        self.notebook_labs.add(lab_id)
        self.sources.setdefault(lab_id, []).extend(info.sources)
        if info.kernel and info.kernel != "python3":
            self.note(
                lab_id,
                f"{path.name} names the kernel {info.kernel!r}, not python3"
                + ("" if options.execute else " (nothing runs in default mode)"),
            )
        records: Sequence[RecordFile] = info.records
        if options.execute and not info.problem:
            records = self._run(path, submission, lab_id, records)
        for found in records:
            if found.record is None:
                self.problems.append(found.problem)
                continue
            if found.record.lab != lab_id:
                what = "its run left" if found.source.startswith("executed") else "carries"
                self.note(
                    lab_id,
                    f"{path.name} starts lab {lab_id!r} but {what} a record for lab "
                    f"{_shown_id(found.record.lab)}",
                )
            self.add(found.record.lab, found.source, found.record)

    def _run(
        self, path: Path, submission: Submission, lab_id: str, saved: Sequence[RecordFile]
    ) -> Sequence[RecordFile]:
        """Execute the notebook (``--execute``): the saved answers with the run's world."""
        student = submission.student
        ran = _execute(path, student, lab_id, submission.folder, self.options)
        if ran is None:
            return saved
        status, reason, ran_records = ran
        if status != Status.OK:
            self.execution[lab_id] = (status, f"{path.name}: {reason}")
        elif "errors in" in reason:  # it ran to the end, but some cells raised
            self.note(lab_id, f"{path.name}: {reason}")
        kept = [f.record for f in saved if f.record is not None]
        kept += [record for _, record in self.records.get(lab_id, [])]
        own = [r for r in kept if r.student == student and r.lab == lab_id]
        # a record made for another student (saved, or left by the run) is never merged into
        # this student's: it is named, and the lab's status says so
        theirs = [r for r in ran_records if r.record is not None and r.record.student != student]
        ran_records = [r for r in ran_records if r not in theirs]
        others = sorted(
            {r.student for r in kept if r.student != student}
            | {r.record.student for r in theirs if r.record is not None}
        )
        if others:
            self.others[lab_id] = others
            self.note(
                lab_id,
                f"the records were made for student {', '.join(map(_shown_id, others))}, not "
                f"{student!r}: they were not used; graded on this student's own answers and run",
            )
        records, notes = _combine_with_run(own, ran_records, lab_id)
        used = [f.record.events for f in records if f.record is not None and f.record.lab == lab_id]
        self._check_saved_log(lab_id, student, own, used)
        for note in notes:
            self.note(lab_id, note)
        self.records.pop(lab_id, None)  # the combined record replaces the saved ones
        return records

    def _check_saved_log(
        self, lab_id: str, student: str, own: Sequence[Record], used: Sequence[Sequence[Any]]
    ) -> None:
        """``--execute`` grades on the re-run's world, not the saved record's event log; a
        saved log that is forged (events by accounts the lab did not give the student, outcomes
        that do not replay) is still named, and the lab is ``forged``, as in default mode. A
        saved log that is the one graded (``used``: the run left it) is checked there, once."""
        lab = _labs(self.options.labs_dir, self.options.checks_dir).get(lab_id)
        if lab is None or lab.withheld or not own:
            return
        record = own[0]
        for other in own[1:]:
            record = merge_records(record, other)
        if not record.events or any(list(events) == list(record.events) for events in used):
            return
        events = replace(record, answers={}, events=tuple(record.events[:MAX_EVENTS]))
        kept, integrity = _integrity_problems(lab, student, events)
        found = [reason for _, reason in integrity]
        forged = any(status is Status.FORGED for status, _ in integrity)
        mismatches = _replay_mismatches(lab, student, list(kept.events))
        if mismatches:
            forged = True
            more = f" (and {len(mismatches) - 3} more)" if len(mismatches) > 3 else ""
            found.append(
                "it does not replay to its recorded outcomes: " + "; ".join(mismatches[:3]) + more
            )
        if found:
            self.note(
                lab_id,
                "the saved record's event log was not used (the re-run's world counts): "
                + "; ".join(found),
            )
        if forged:
            self.flags.setdefault(lab_id, []).append(Status.FORGED)


def _withheld_reason(lab: Lab) -> str:
    return (
        f"{lab.id} is a graded lab whose key labkit does not ship: grade it with --checks DIR, "
        "the instructor's checks folder whose KEYS give its key"
    )


def _grade_found_lab(
    found: _Found,
    lab_id: str,
    lab: Lab | None,
    submission: Submission,
    checks: Mapping[str, Mapping[str, list[InstructorCheck]]],
) -> LabGrade:
    """One lab of a submission: graded from its records, or the reason it cannot be."""
    student = submission.student
    if lab is None:
        reason = "; ".join([f"no lab {lab_id!r} is installed here", *found.notes.get(lab_id, [])])
        return LabGrade(student, lab_id, Status.UNKNOWN_LAB, reason, (), (Status.UNKNOWN_LAB,))
    if lab.withheld:
        return _empty_lab(student, lab, Status.ERROR, _withheld_reason(lab))
    note_list = [*submission.notes, *found.notes.get(lab_id, []), *found.problems]
    execution = found.execution.get(lab_id)
    records = found.records.get(lab_id)
    if execution is not None:
        status, reason = execution
        if records is None:
            return _empty_lab(student, lab, Status(status), "; ".join([reason, *note_list]))
        note_list.insert(0, reason)
    if records is None and lab_id in found.unreadable:
        return _empty_lab(student, lab, Status.MALFORMED, "; ".join(note_list))
    if records is None and found.refused:  # a record file is there, but could not be read
        rest = [n for n in note_list if n not in found.refused]
        reason = "; ".join([*found.refused, "no other record of this lab was found", *rest])
        return _empty_lab(student, lab, Status.MALFORMED, reason)
    if records is None:
        missing_cell = (
            "the notebook has no saved submission-cell output and there is no "
            f"{ANSWERS_FOLDER}/{lab_id}.json beside it: run the last cell, save, "
            "and submit again"
        )
        return _empty_lab(
            student, lab, Status.NO_SUBMISSION_CELL, "; ".join([missing_cell, *note_list])
        )
    counts = None
    if lab_id in found.sources:
        counts = _exercise_cell_counts(lab, found.sources[lab_id])
        if not any(counts.values()):
            counts = None  # the notebook names no exercise: nothing to say about cells
    sources = sorted(records, key=lambda pair: pair[0])
    grade = _grade_lab(student, lab, sources, note_list, counts, checks.get(lab_id, {}))
    if execution is not None and grade.status == Status.OK:
        grade = replace(grade, status=Status(execution[0]), statuses=(Status(execution[0]),))
    extra = [Status.OTHER_STUDENT] if lab_id in found.others else []
    extra += [s for s in found.flags.get(lab_id, []) if s not in grade.statuses]
    if extra:
        statuses = (*grade.statuses, *extra)
        grade = replace(grade, status=most_serious(statuses), statuses=statuses)
    return grade


def _execute(
    notebook: Path,
    student: str,
    lab_id: str | None,
    folder: Path | None,
    options: GradeOptions,
) -> tuple[str, str, list[RecordFile]] | None:
    """Run the notebook through :mod:`labkit.grading.execute`; (status, reason, records)."""
    from labkit.grading.execute import Limits, execute_submission
    from labkit.records import CorruptRecord, records_from_notebook

    limits = Limits()
    if options.cell_seconds is not None:
        limits = replace(limits, cell_seconds=options.cell_seconds)
    if options.total_seconds is not None:
        limits = replace(limits, total_seconds=options.total_seconds)
    # the answers folder beside the notebook travels with it (never files outside the folder)
    beside = notebook.parent if folder is not None else None
    result = execute_submission(
        notebook,
        student=student,
        lab=lab_id or "",
        limits=limits,
        extra_files=beside,
        unisolated_ok=options.unisolated,
    )
    found: list[RecordFile] = []
    for index, data in enumerate(result.records):
        try:
            found.append(RecordFile(f"executed run, record {index + 1}", Record.from_json(data)))
        except CorruptRecord as error:
            found.append(RecordFile("executed run", None, f"executed run: {error}"))
    if not found and result.notebook is not None:
        found = [
            RecordFile("executed notebook output", r)
            for r in records_from_notebook(result.notebook)
        ]
    return result.status, result.reason, found


def _combine_with_run(
    saved: Sequence[Record], ran: Sequence[RecordFile], lab_id: str
) -> tuple[list[RecordFile], list[str]]:
    """One record from an executed notebook: the answers of the saved record (what the student
    entered, widgets included, which re-running cannot reproduce), the world of the re-run (its
    event log), and for an exercise answered only in the re-run, the re-run's answer. A saved
    answer that the re-run gives differently is a note (the saved one counts)."""
    from labkit.records import merge_records

    problems = [f for f in ran if f.record is None]
    run_records = [f.record for f in ran if f.record is not None and f.record.lab == lab_id]
    other_labs = [f for f in ran if f.record is not None and f.record.lab != lab_id]
    notes: list[str] = []
    saved_record = None
    for record in saved:
        saved_record = record if saved_record is None else merge_records(saved_record, record)
    run_record = None
    for record in run_records:
        run_record = record if run_record is None else merge_records(run_record, record)
    if run_record is None and saved_record is None:
        return [*problems, *other_labs], notes
    if run_record is None:
        assert saved_record is not None
        combined = replace(saved_record, events=())
        if saved_record.events:
            notes.append(
                "the re-run made no record: the saved answers count, the saved world does not"
            )
        return [RecordFile("saved answers", combined), *problems, *other_labs], notes
    if saved_record is None:
        return [RecordFile("executed run", run_record), *problems, *other_labs], notes
    answers = dict(run_record.answers)
    differ = []
    for exercise_id, entry in saved_record.answers.items():
        theirs = answers.get(exercise_id)
        if theirs is not None and theirs.raw != entry.raw:
            differ.append(exercise_id)
        answers[exercise_id] = entry
    if differ:
        shown = ", ".join(sorted(differ)[:5]) + (" ..." if len(differ) > 5 else "")
        notes.append(
            f"the re-run answered {shown} differently from the saved record; the saved "
            "answers count"
        )
    combined = replace(run_record, answers=answers)
    return [
        RecordFile("saved answers and the re-run's world", combined),
        *problems,
        *other_labs,
    ], notes


# -- the whole run ---------------------------------------------------------------------------


def _worker_init(options: GradeOptions | None = None) -> None:
    """A grading worker: its address space is bounded (``memory_bytes``), in both modes: with
    ``--execute`` it still reads the saved records, and each notebook's child sets its own."""
    os.environ.setdefault("LABKIT_GRADER", "1")
    if options is not None and options.memory_bytes:
        import resource

        _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        limit = options.memory_bytes
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


class _Overrun(BaseException):
    """Raised in a worker when grading one submission takes too long."""


def _bounded_grade(submission: Submission, options: GradeOptions) -> SubmissionGrade:
    """:func:`grade_submission` stopped after ``options.submission_seconds`` (default mode)."""
    import signal

    seconds = options.submission_seconds
    if options.execute or not seconds or not hasattr(signal, "setitimer"):
        return grade_submission(submission, options)

    def overrun(signum: int, frame: Any) -> None:
        raise _Overrun

    previous = signal.signal(signal.SIGALRM, overrun)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return grade_submission(submission, options)
    except _Overrun:
        return SubmissionGrade(
            submission.student,
            (),
            Status.TIMED_OUT,
            f"grading this submission took longer than {seconds:g} s (a replay bomb?); it was "
            "stopped",
        )
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def grade_all(
    submissions: Sequence[Submission],
    options: GradeOptions = GradeOptions(),
    *,
    jobs: int = 1,
    progress: bool | None = None,
) -> list[SubmissionGrade]:
    """Grade every submission (``jobs`` worker processes when > 1), in the order given.

    ``progress`` None shows a tqdm bar on stderr when it is a terminal.
    """
    from tqdm import tqdm

    labs = _labs(options.labs_dir, options.checks_dir)  # once before any fork; bad --checks fail
    withheld = labs.get(options.lab or "")
    if withheld is not None and withheld.withheld:
        raise LabkitError(_withheld_reason(withheld))
    bar = tqdm(
        total=len(submissions),
        desc="grading",
        unit="submission",
        file=sys.stderr,
        disable=(not sys.stderr.isatty()) if progress is None else not progress,
        dynamic_ncols=True,
    )
    results: dict[int, SubmissionGrade] = {}
    try:
        if submissions and sys.platform.startswith("linux"):
            # every submission in a worker with a memory bound (and in default mode a time one)
            _grade_parallel(submissions, options, max(1, jobs), results, bar)
        elif jobs <= 1 or len(submissions) <= 1:
            with _warm_sandbox(options):
                for index, submission in enumerate(submissions):
                    results[index] = grade_submission(submission, options)
                    bar.update(1)
        else:
            _grade_parallel(submissions, options, jobs, results, bar)
    finally:
        bar.close()
    return [results[i] for i in range(len(submissions))]


def _grade_parallel(
    submissions: Sequence[Submission],
    options: GradeOptions,
    jobs: int,
    results: dict[int, SubmissionGrade],
    bar: Any,
) -> None:
    """Every submission in long-lived worker processes (:mod:`labkit.grading.workers`): each
    worker grades many, each submission within its own time bound (a timer in the worker, and
    SIGKILL from here when the worker stops answering) and the worker's memory bound; a worker
    that dies gives its submission ``killed`` and is replaced."""
    from labkit.grading.workers import run_in_workers

    def work(index: int) -> SubmissionGrade:
        return _bounded_grade(submissions[index], options)

    def died(index: int, why: str) -> SubmissionGrade:
        student = submissions[index].student
        if why == "timed-out":
            return SubmissionGrade(
                student,
                (),
                Status.TIMED_OUT,
                f"grading this submission took longer than {options.submission_seconds:g} s and "
                "its process stopped answering; it was killed",
            )
        return SubmissionGrade(
            student,
            (),
            Status.KILLED,
            "the grading process for this submission died (out of memory, or killed)",
        )

    def done(index: int, grade: SubmissionGrade) -> None:
        results[index] = grade
        bar.update(1)

    kept = contextlib.ExitStack()  # each worker's own copy: its warm sandbox (--execute)

    def init() -> None:
        _worker_init(options)
        kept.enter_context(_warm_sandbox(options))

    bounded = not options.execute and bool(options.submission_seconds)
    run_in_workers(
        len(submissions),
        jobs,
        work,
        died=died,
        on_result=done,
        init=init,
        finish=kept.close,
        retire=lambda grade: grade.status in (Status.TIMED_OUT, Status.MEMORY_LIMIT),
        hard_seconds=options.submission_seconds + HARD_GRACE_SECONDS if bounded else None,
    )


def _warm_sandbox(options: GradeOptions) -> contextlib.AbstractContextManager[Any]:
    """With ``--execute``: one warm sandbox for the notebooks this process runs (a zygote with
    its own uid, see :func:`labkit.grading.execute.keep_warm`)."""
    if not options.execute:
        return contextlib.nullcontext()
    from labkit.grading import execute

    keep_warm = getattr(execute, "keep_warm", None)
    return keep_warm() if keep_warm is not None else contextlib.nullcontext()


HARD_GRACE_SECONDS = 10  # past a submission's time bound, a worker that does not answer is killed


def lab_grades(
    graded: Sequence[SubmissionGrade], options: GradeOptions = GradeOptions()
) -> list[LabGrade]:
    """Every (student, lab) of the run, sorted: a submission without a grade for one of the
    run's labs gets a row with its own status (missing, malformed...)."""
    labs_by_id = _labs(options.labs_dir, options.checks_dir)
    lab_filter = options.lab
    lab_ids = {g.lab for s in graded for g in s.labs if g.lab in labs_by_id}
    if lab_filter is not None:
        lab_ids = {lab_filter}
    rows: list[LabGrade] = []
    for submission in graded:
        have = {g.lab: g for g in submission.labs}
        rows.extend(g for g in submission.labs if g.lab not in labs_by_id)
        for lab_id in sorted(lab_ids):
            if lab_id in have:
                rows.append(have[lab_id])
            elif lab_id in labs_by_id:
                rows.append(
                    _empty_lab(
                        submission.student, labs_by_id[lab_id], submission.status, submission.reason
                    )
                )
            else:
                rows.append(
                    LabGrade(submission.student, lab_id, submission.status, submission.reason)
                )
        if not lab_ids and not any(g.lab not in labs_by_id for g in submission.labs):
            rows.append(LabGrade(submission.student, "", submission.status, submission.reason))
    rows.sort(key=lambda g: (g.student, g.lab))
    return _name_other_students(rows, labs_by_id)


def _name_other_students(rows: list[LabGrade], labs_by_id: Mapping[str, Lab]) -> list[LabGrade]:
    """A log with events done as another account of the class: name that account's student
    (a record merged from two students' work)."""
    marker = "an account the lab did not give"
    flagged = [i for i, g in enumerate(rows) if marker in g.reason and g.lab in labs_by_id]
    if not flagged:
        return rows
    students = sorted({g.student for g in rows})
    owners: dict[str, dict[str, str]] = {}
    for index in flagged:
        grade = rows[index]
        if grade.lab not in owners:
            lab = labs_by_id[grade.lab]
            owners[grade.lab] = {}
            for other in students:
                for account in _accounts(lab, other):
                    owners[grade.lab].setdefault(account, other)
        found = sorted(
            {
                owner
                for account, owner in owners[grade.lab].items()
                if owner != grade.student and repr(account) in grade.reason
            }
        )
        if found:
            names = ", ".join(map(repr, found[:3]))
            rows[index] = replace(
                grade,
                reason=f"{grade.reason}; those accounts belong to {names} in this class: the "
                "record was merged with another student's",
            )
    return rows
