"""Grade submissions: records in, one :class:`LabGrade` per student and lab out.

Default mode runs no student code. For each submission it reads the records (the
``labkit-answers`` folder and the notebooks' submission-cell outputs; newest answer per
exercise), replays the event log on a fresh world for the layout's student and compares every
recorded docker outcome with the replay (``forged`` when they differ), grades with
:func:`labkit.exercises.grade_record` (hidden checks included) and runs the instructor's
``--checks``. Each submission is graded inside its own ``try``; with ``jobs > 1`` in worker
processes, and a worker that dies gives its submission the status ``killed``.

Statuses of a lab grade: ok, other-student, variant-changed, forged, wrong-lab, replay-failed,
malformed, missing, no-submission-cell, unknown-lab, error, and with ``--execute`` the execution
statuses (timed-out, killed, memory-limit, output-limit, not-a-notebook).
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from labkit.grading.collect import (
    RecordFile,
    Submission,
    read_notebook,
    read_record_file,
)

if TYPE_CHECKING:
    from labkit.exercises import ExerciseResult
    from labkit.labs import Lab
    from labkit.records import Record

__all__ = [
    "STATUS_ORDER",
    "CheckContext",
    "ExerciseGrade",
    "GradeOptions",
    "LabGrade",
    "SubmissionGrade",
    "grade_all",
    "grade_submission",
    "lab_grades",
    "load_checks",
]

# Problem statuses, most serious first: a lab grade shows the first that applies.
STATUS_ORDER = (
    "error",
    "killed",
    "timed-out",
    "memory-limit",
    "output-limit",
    "not-a-notebook",
    "malformed",
    "unknown-lab",
    "missing",
    "no-submission-cell",
    "forged",
    "other-student",
    "wrong-lab",
    "variant-changed",
    "replay-failed",
    "ok",
)
MAX_EVENTS = 5000
MAX_ANSWER_DEPTH = 64
MAX_ANSWER_CHARS = 1_000_000
MAX_ANSWER_NODES = 100_000


@dataclass(frozen=True)
class ExerciseGrade:
    """One exercise of one student's lab. ``hidden`` holds (name, passed) pairs and is shown
    only with ``--show-hidden``; instructor checks count as hidden."""

    exercise: str
    score: float
    max_points: float
    status: str
    reason: str = ""
    answer: str = ""  # the raw answer as JSON text (shortened), for the feedback page
    feedback: str = ""  # the public message the student would have seen
    mistakes: tuple[str, ...] = ()
    hidden: tuple[tuple[str, bool], ...] = ()
    tries: int = 0

    @property
    def hidden_failed(self) -> int:
        return sum(not passed for _, passed in self.hidden)


@dataclass(frozen=True)
class LabGrade:
    """One student's grade for one lab, with the status and reason of the record itself."""

    student: str
    lab: str
    status: str
    reason: str
    exercises: tuple[ExerciseGrade, ...] = ()

    @property
    def score(self) -> float:
        return round(sum(e.score for e in self.exercises), 6)

    @property
    def max_points(self) -> float:
        return round(sum(e.max_points for e in self.exercises), 6)


@dataclass(frozen=True)
class SubmissionGrade:
    """What one submission gave: lab grades, and a status for labs it did not show."""

    student: str
    labs: tuple[LabGrade, ...] = ()
    status: str = "missing"  # for every lab of the run this submission has no grade for
    reason: str = "no submission"


@dataclass(frozen=True)
class GradeOptions:
    """How to grade: ``lab`` is ``--lab``; ``checks_dir`` is ``--checks``; ``labs_dir`` adds
    course labs (as ``LABKIT_LABS``)."""

    lab: str | None = None
    checks_dir: str | None = None
    execute: bool = False
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

_CACHE: dict[tuple[str, str | None], Any] = {}


def _labs(labs_dir: str | None) -> dict[str, Lab]:
    key = ("labs", labs_dir)
    if key not in _CACHE:
        from labkit.labs import find_labs

        _CACHE[key] = find_labs(labs_dir)
    return _CACHE[key]


def load_checks(folder: str | os.PathLike[str]) -> dict[str, dict[str, list[InstructorCheck]]]:
    """Instructor-only checks from every ``*.py`` in ``folder`` (trusted code: it is imported).

    Each file defines ``CHECKS = {"<lab>": {"<exercise>": [check, ...]}}``; a check takes a
    :class:`CheckContext` and returns a bool, a score in [0, 1], or ``(score, message)``.
    Files are merged in name order.
    """
    from labkit.errors import LabkitError

    merged: dict[str, dict[str, list[InstructorCheck]]] = {}
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
        if not isinstance(checks, Mapping):
            raise LabkitError(f"--checks: {file} defines no CHECKS dict")
        for lab_id, per_exercise in checks.items():
            if not isinstance(per_exercise, Mapping):
                raise LabkitError(f"--checks: {file}: CHECKS[{lab_id!r}] must map exercises")
            for exercise_id, functions in per_exercise.items():
                if callable(functions):
                    functions = [functions]
                merged.setdefault(str(lab_id), {}).setdefault(str(exercise_id), []).extend(
                    functions
                )
    return merged


def _checks(folder: str | None) -> dict[str, dict[str, list[InstructorCheck]]]:
    if folder is None:
        return {}
    key = ("checks", folder)
    if key not in _CACHE:
        _CACHE[key] = load_checks(folder)
    return _CACHE[key]


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
    import json

    if raw is None:
        return ""
    try:
        text = raw if isinstance(raw, str) else json.dumps(raw, ensure_ascii=False)
    except (ValueError, TypeError, RecursionError):
        text = "(not shown)"
    return text if len(text) <= limit else text[:limit] + f"… ({len(text)} characters)"


# -- the forgery check: does the event log replay to its own recorded outcomes? -------------------


def _replay_mismatches(lab: Lab, student: str, events: Sequence[Mapping[str, Any]]) -> list[str]:
    from labkit.world import Clock, World

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
    from labkit import __version__
    from labkit.exercises import grade_record
    from labkit.records import merge_records

    record = sources[0][1]
    for _, other in sources[1:]:
        record = merge_records(record, other)
    statuses: list[str] = []
    reasons: list[str] = list(notes)
    recorded_students = sorted({r.student for _, r in sources})
    # answers too big or too deep are taken out before grading, and reported
    bad_answers = {}
    for exercise_id, entry in record.answers.items():
        problem = _answer_problem(entry.raw)
        if problem:
            bad_answers[exercise_id] = problem
    if bad_answers:
        record = replace(
            record, answers={k: v for k, v in record.answers.items() if k not in bad_answers}
        )
    events = list(record.events)
    if len(events) > MAX_EVENTS:
        statuses.append("malformed")
        reasons.append(f"the event log has {len(events)} events; only the first {MAX_EVENTS} count")
        events = events[:MAX_EVENTS]
        record = replace(record, events=tuple(events))
    result = grade_record(record, student, lab)
    # a log is checked against the world of the student it was made for
    log_student = record.student if "other-student" in result.statuses else student
    mismatches = _replay_mismatches(lab, log_student, events) if events else []
    if mismatches:
        statuses.append("forged")
        shown = "; ".join(mismatches[:3])
        more = f" (and {len(mismatches) - 3} more)" if len(mismatches) > 3 else ""
        reasons.append(
            f"the event log does not replay to its recorded outcomes: {shown}{more}; "
            "graded on the replayed world"
        )
    if "other-student" in result.statuses:
        statuses.append("other-student")
        others = [s for s in recorded_students if s != student] or [record.student]
        theirs = grade_record(record, others[0], lab)
        reasons.append(
            f"the records were made for student {', '.join(map(repr, others))}, not "
            f"{student!r}: graded as {student!r} ({_fmt(result.score)}/"
            f"{_fmt(result.max_points)}); as {others[0]!r} they score "
            f"{_fmt(theirs.score)}/{_fmt(theirs.max_points)}"
        )
    if "wrong-lab" in result.statuses:
        statuses.append("wrong-lab")
        reasons.append(f"the record is for lab {record.lab!r}, graded as {lab.id!r}")
    version_note = ""
    if record.labkit_version and record.labkit_version != __version__:
        version_note = f"made with labkit {record.labkit_version}, graded with {__version__}"
    if "variant-changed" in result.statuses and "other-student" not in result.statuses:
        statuses.append("variant-changed")
        reasons.append(
            f"the record's variant fingerprint {record.fingerprint!r} is not this labkit's "
            f"{lab.fingerprint(student)!r} for {student!r}"
            + (f" ({version_note})" if version_note else "")
            + ": the lab changed since the student worked on it; graded against today's variant"
        )
    elif version_note:
        statuses.append("variant-changed")
        reasons.append(f"the record was {version_note}; the variant is the same")
    if "replay-failed" in result.statuses and not mismatches:
        statuses.append("replay-failed")
        reasons.extend(p for p in result.problems if "replayed" in p)
    exercises = []
    for ex_result in result.exercises:
        exercises.append(
            _exercise_grade(
                ex_result,
                record,
                bad_answer=bad_answers.get(ex_result.exercise_id, ""),
                cells=None if cell_counts is None else cell_counts.get(ex_result.exercise_id, 0),
            )
        )
    if checks:
        exercises = _run_instructor_checks(exercises, lab, student, record, checks)
    status = min(statuses, key=STATUS_ORDER.index) if statuses else "ok"
    return LabGrade(student, lab.id, status, "; ".join(reasons), tuple(exercises))


def _exercise_grade(
    result: ExerciseResult,
    record: Record,
    *,
    bad_answer: str,
    cells: int | None,
) -> ExerciseGrade:
    entry = record.answers.get(result.exercise_id)
    reasons = []
    status = result.status
    feedback = result.feedback
    if bad_answer:
        status = "format-error"
        feedback = f"The answer could not be graded: {bad_answer}."
        reasons.append(bad_answer)
    elif result.mistakes:
        reasons.append("mistakes: " + ", ".join(result.mistakes))
    elif status in ("format-error", "check-error"):
        reasons.append(result.feedback.splitlines()[0] if result.feedback else status)
    if cells == 0 and status == "unanswered":
        reasons.append("the notebook has no cell for this exercise (deleted?)")
    elif cells is not None and cells > 1:
        reasons.append(f"the exercise appears in {cells} cells; the newest answer counts")
    hidden = tuple((h.name, h.passed) for h in result.hidden)
    return ExerciseGrade(
        exercise=result.exercise_id,
        score=result.score,
        max_points=result.max_points,
        status=status,
        reason="; ".join(reasons),
        answer=_answer_text(entry.raw) if entry is not None and not bad_answer else "",
        feedback=feedback,
        mistakes=result.mistakes,
        hidden=hidden,
        tries=result.tries,
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
                from labkit.exercises import _replay_leniently

                world, _ = _replay_leniently(lab, student, record.events)
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
            hidden.append((f"instructor: {name}", score >= 1.0))
            if score < 1.0:
                notes.append(
                    f"instructor check {name}: {_fmt(score)}" + (f" ({message})" if message else "")
                )
        factor = sum(scores) / len(scores) if scores else 1.0
        score = round(grade.score * factor, 6)
        status = grade.status
        if score < grade.score:
            status = "partial" if score > 0 else "wrong"
        reason = "; ".join(r for r in (grade.reason, *notes) if r)
        graded.append(
            replace(grade, score=score, status=status, reason=reason, hidden=tuple(hidden))
        )
    return graded


def _empty_lab(student: str, lab: Lab, status: str, reason: str) -> LabGrade:
    exercises = tuple(
        ExerciseGrade(
            e.id, 0.0, e.points, status, "", hidden=tuple((h.name, False) for h in e.hidden)
        )
        for e in lab.exercises
    )
    return LabGrade(student, lab.id, status, reason, exercises)


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
        return SubmissionGrade(submission.student, (), "malformed", "the records nest too deeply")
    except Exception as error:  # a broken submission never stops the others
        return SubmissionGrade(
            submission.student,
            (),
            "error",
            f"grading failed ({type(error).__name__}: {error}); please report this",
        )


def _grade_submission(submission: Submission, options: GradeOptions) -> SubmissionGrade:
    labs = _labs(options.labs_dir)
    checks = _checks(options.checks_dir)
    student = submission.student
    folder = submission.folder
    notes = list(submission.notes)
    if not submission.notebooks and not submission.record_files:
        where = f" ({folder.name}/ is empty)" if folder is not None else ""
        reason = (
            "no submission" + where
            if submission.layout == "roster" or folder is None
            else ("; ".join(notes) or "no notebook and no records")
        )
        return SubmissionGrade(student, (), "missing", reason)

    # what each lab's records are, and where they came from
    by_lab: dict[str, list[tuple[str, Record]]] = {}
    sources_by_lab: dict[str, list[str]] = {}
    lab_notes: dict[str, list[str]] = {}
    problems: list[str] = []
    seen_notebook_lab: set[str] = set()
    execution: dict[str, tuple[str, str]] = {}
    unreadable: set[str] = set()

    def add(lab_id: str, source: str, record: Record) -> None:
        if options.lab is not None and lab_id != options.lab:
            problems.append(
                f"{source}: a record for lab {lab_id!r} was ignored (grading {options.lab!r})"
            )
            return
        by_lab.setdefault(lab_id, []).append((source, record))

    for path in submission.record_files:
        found = read_record_file(path, folder or path.parent)
        if found.record is None:
            problems.append(found.problem)
            continue
        if path.parent.name == "labkit-answers" and path.stem != found.record.lab:
            lab_notes.setdefault(found.record.lab, []).append(
                f"{path.name} holds a record for lab {found.record.lab!r}"
            )
        add(found.record.lab, f"labkit-answers/{path.name}", found.record)

    for path in submission.notebooks:
        info = read_notebook(path, folder or path.parent)
        if info.problem and not info.sources:
            problems.append(info.problem)
            continue
        record_labs = {r.record.lab for r in info.records if r.record is not None}
        lab_id = (
            info.lab or (next(iter(sorted(record_labs))) if record_labs else None) or options.lab
        )
        if lab_id is None:
            problems.append(f"{path.name} is not a labkit notebook (no labkit.start cell)")
            continue
        if info.problem:
            problems.append(info.problem)
            unreadable.add(lab_id)
        seen_notebook_lab.add(lab_id)
        sources_by_lab.setdefault(lab_id, []).extend(info.sources)
        if info.kernel and info.kernel != "python3":
            lab_notes.setdefault(lab_id, []).append(
                f"{path.name} names the kernel {info.kernel!r}, not python3"
                + ("" if options.execute else " (nothing runs in default mode)")
            )
        records: Sequence[RecordFile] = info.records
        if options.execute and not info.problem:
            ran = _execute(path, student, lab_id, folder, options)
            if ran is not None:
                status, reason, ran_records = ran
                if status != "ok":
                    execution[lab_id] = (status, f"{path.name}: {reason}")
                elif "errors in" in reason:  # it ran to the end, but some cells raised
                    lab_notes.setdefault(lab_id, []).append(f"{path.name}: {reason}")
                saved = [f.record for f in records if f.record is not None]
                saved += [record for _, record in by_lab.get(lab_id, [])]
                others = sorted({r.student for r in saved if r.student != student})
                if others:
                    lab_notes.setdefault(lab_id, []).append(
                        f"the saved records of {', '.join(map(repr, others))} were not used: "
                        "the run made this student's own"
                    )
                records = ran_records
                by_lab.pop(lab_id, None)  # records from the run replace the saved ones
        for found in records:
            if found.record is None:
                problems.append(found.problem)
                continue
            if found.record.lab != lab_id:
                lab_notes.setdefault(lab_id, []).append(
                    f"{path.name} starts lab {lab_id!r} but carries a record for lab "
                    f"{found.record.lab!r}"
                )
            add(found.record.lab, found.source, found.record)

    grades = []
    for lab_id in sorted(set(by_lab) | seen_notebook_lab):
        if options.lab is not None and lab_id != options.lab:
            continue
        lab = labs.get(lab_id)
        if lab is None:
            grades.append(
                LabGrade(
                    student,
                    lab_id,
                    "unknown-lab",
                    "; ".join([f"no lab {lab_id!r} is installed here", *lab_notes.get(lab_id, [])]),
                )
            )
            continue
        note_list = [*notes, *lab_notes.get(lab_id, []), *problems]
        if lab_id in execution:
            status, reason = execution[lab_id]
            if lab_id not in by_lab:
                grades.append(_empty_lab(student, lab, status, "; ".join([reason, *note_list])))
                continue
            note_list.insert(0, reason)
        if lab_id not in by_lab and lab_id in unreadable:
            grades.append(_empty_lab(student, lab, "malformed", "; ".join(note_list)))
            continue
        if lab_id not in by_lab:
            grades.append(
                _empty_lab(
                    student,
                    lab,
                    "no-submission-cell",
                    "; ".join(
                        [
                            "the notebook has no saved submission-cell output and there is no "
                            f"labkit-answers/{lab_id}.json beside it: run the last cell, save, "
                            "and submit again",
                            *note_list,
                        ]
                    ),
                )
            )
            continue
        counts = None
        if lab_id in sources_by_lab:
            counts = _exercise_cell_counts(lab, sources_by_lab[lab_id])
            if not any(counts.values()):
                counts = None  # the notebook names no exercise: nothing to say about cells
        sources = sorted(by_lab[lab_id], key=lambda pair: pair[0])
        grade = _grade_lab(student, lab, sources, note_list, counts, checks.get(lab_id, {}))
        if lab_id in execution and grade.status == "ok":
            grade = replace(grade, status=execution[lab_id][0])
        grades.append(grade)
    if grades:
        return SubmissionGrade(
            student,
            tuple(grades),
            "missing",
            "; ".join(["no notebook or record for this lab", *problems]),
        )
    if problems:
        return SubmissionGrade(student, (), "malformed", "; ".join(problems))
    return SubmissionGrade(
        student, (), "missing", "; ".join(notes) or "no labkit notebook or record"
    )


def _execute(
    notebook: Path,
    student: str,
    lab_id: str | None,
    folder: Path | None,
    options: GradeOptions,
) -> tuple[str, str, list[RecordFile]] | None:
    """Run the notebook through :mod:`labkit.grading.execute`; (status, reason, records)."""
    from labkit.grading.execute import Limits, execute_submission
    from labkit.records import CorruptRecord, Record, records_from_notebook

    limits = Limits()
    if options.cell_seconds is not None:
        limits = replace(limits, cell_seconds=options.cell_seconds)
    if options.total_seconds is not None:
        limits = replace(limits, total_seconds=options.total_seconds)
    # the answers folder beside the notebook travels with it (never files outside the folder)
    beside = notebook.parent if folder is not None else None
    result = execute_submission(
        notebook, student=student, lab=lab_id or "", limits=limits, extra_files=beside
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


# -- the whole run ---------------------------------------------------------------------------


def _worker_init() -> None:
    os.environ.setdefault("LABKIT_GRADER", "1")


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

    _labs(options.labs_dir)  # load once before any fork, and fail early on a bad --checks
    _checks(options.checks_dir)
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
        if jobs <= 1 or len(submissions) <= 1:
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
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    context = multiprocessing.get_context("fork" if sys.platform.startswith("linux") else None)
    pending = list(range(len(submissions)))
    with ProcessPoolExecutor(jobs, mp_context=context, initializer=_worker_init) as pool:
        futures = {pool.submit(grade_submission, submissions[i], options): i for i in pending}
        try:
            for future in as_completed(futures):
                index = futures[future]
                results[index] = future.result()
                bar.update(1)
        except BrokenProcessPool:
            pass
    # A worker died (and took the pool down): grade what is left one at a time, each in its own
    # process, so the one that kills its worker is found and the others are graded.
    for index in pending:
        if index in results:
            continue
        with ProcessPoolExecutor(1, mp_context=context, initializer=_worker_init) as pool:
            try:
                results[index] = pool.submit(grade_submission, submissions[index], options).result()
            except BrokenProcessPool:
                results[index] = SubmissionGrade(
                    submissions[index].student,
                    (),
                    "killed",
                    "the grading process for this submission died (out of memory, or killed)",
                )
        bar.update(1)


def lab_grades(
    graded: Sequence[SubmissionGrade], options: GradeOptions = GradeOptions()
) -> list[LabGrade]:
    """Every (student, lab) of the run, sorted: a submission without a grade for one of the
    run's labs gets a row with its own status (missing, malformed...)."""
    labs_by_id = _labs(options.labs_dir)
    lab_filter = options.lab
    lab_ids = {g.lab for s in graded for g in s.labs}
    if lab_filter is not None:
        lab_ids = {lab_filter}
    rows = []
    for submission in graded:
        have = {g.lab: g for g in submission.labs}
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
        if not lab_ids:
            rows.append(LabGrade(submission.student, "", submission.status, submission.reason))
    rows.sort(key=lambda g: (g.student, g.lab))
    return rows
