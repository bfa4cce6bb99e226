"""A student's record for a lab, kept beside the notebook, and who the student is.

A :class:`Record` holds the answers (raw value, time, tries, format errors), the world's event
log, the student id, the variant fingerprint, the labkit version, the schema version and the
resets. Never a score, never a secret.

:class:`RecordStore` keeps records in ``labkit-answers/<lab>.json``: writes are atomic (a temp
file in the same folder, fsync, ``os.replace``), under a ``fcntl.lockf`` lock on a separate
``<lab>.json.lock`` file (POSIX record locks work over NFSv4 too) with a timeout, and merged
with what is on disk so two kernels never clobber each other:

- answers: per exercise, the newest by time wins; tries and format errors keep the larger count
  (opening a second notebook never gives tries back);
- the event log: a world lives in one kernel, so logs from two kernels cannot be interleaved
  (their ``seq`` numbers would collide with different events). The log whose world changed
  last (``world_updated``) is kept whole;
- resets: the union; answers older than the latest reset are dropped.

A file that cannot be read is moved aside to ``<lab>.json.corrupt-<timestamp>`` and reported,
never silently overwritten.
"""

from __future__ import annotations

# Lazy imports (inside functions): fcntl is POSIX-only (not in Pyodide, not on Windows); without it
# records are written unlocked.
import base64
import contextlib
import errno
import getpass
import html
import json
import os
import tempfile
import time
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from labkit.browser import in_browser
from labkit.errors import LabkitError

__all__ = [
    "MIME_TYPE",
    "NO_COURSE_ID",
    "SCHEMA_VERSION",
    "AnswerEntry",
    "CorruptRecord",
    "Record",
    "RecordStore",
    "RecordWarning",
    "hub_account",
    "merge_records",
    "record_bundle",
    "records_from_notebook",
    "remember_student",
    "resolve_student",
]

SCHEMA_VERSION = 1
MIME_TYPE = "application/vnd.labkit.record+json"
ANSWERS_FOLDER = "labkit-answers"
#: A record file handed in on its own (downloaded from the browser): ``<lab>.labkit.json``.
RECORD_FILE_SUFFIX = ".labkit.json"
LOCK_TIMEOUT = 10.0


class CorruptRecord(LabkitError):
    """A record file could not be read; it was moved to ``moved_to``."""

    def __init__(self, message: str, moved_to: Path | None = None) -> None:
        super().__init__(message)
        self.moved_to = moved_to


class RecordWarning(UserWarning):
    """Something about a stored record a student or instructor should know."""


def now_iso() -> str:
    """The current UTC time, with microseconds, in ISO 8601."""
    return datetime.now(UTC).isoformat()


def _time_key(text: str | None) -> datetime:
    if not text:
        return datetime.min.replace(tzinfo=UTC)
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@dataclass(frozen=True)
class AnswerEntry:
    """The latest answer to one exercise: the raw value, when, tries used, format errors."""

    raw: Any
    time: str
    tries: int = 0
    format_errors: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "raw": self.raw,
            "time": self.time,
            "tries": self.tries,
            "format_errors": self.format_errors,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AnswerEntry:
        return cls(
            raw=data.get("raw"),
            time=str(data["time"]),
            tries=int(data.get("tries", 0)),
            format_errors=int(data.get("format_errors", 0)),
        )


@dataclass(frozen=True)
class Record:
    """One student's work on one lab (no scores, no secrets)."""

    lab: str
    student: str
    fingerprint: str
    labkit_version: str = ""
    answers: Mapping[str, AnswerEntry] = field(default_factory=dict)
    events: tuple[Mapping[str, Any], ...] = ()
    world_updated: str = ""
    resets: tuple[str, ...] = ()
    schema: int = SCHEMA_VERSION

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": self.schema,
            "lab": self.lab,
            "student": self.student,
            "fingerprint": self.fingerprint,
            "labkit_version": self.labkit_version,
            "answers": {k: self.answers[k].to_json() for k in sorted(self.answers)},
            "events": [dict(e) for e in self.events],
            "world_updated": self.world_updated,
            "resets": list(self.resets),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Record:
        """Read a record; CorruptRecord when it is not one."""
        try:
            if not isinstance(data, Mapping):
                raise TypeError("not a JSON object")
            schema = int(data.get("schema", 0))
            if schema != SCHEMA_VERSION:
                raise ValueError(f"unknown schema version {schema}")
            answers = data.get("answers") or {}
            events = data.get("events") or []
            if not isinstance(answers, Mapping) or not isinstance(events, list):
                raise TypeError("answers must be an object and events a list")
            if not all(isinstance(e, Mapping) for e in events):
                raise TypeError("every event must be an object")
            return cls(
                lab=str(data["lab"]),
                student=str(data["student"]),
                fingerprint=str(data.get("fingerprint", "")),
                labkit_version=str(data.get("labkit_version", "")),
                answers={str(k): AnswerEntry.from_json(v) for k, v in answers.items()},
                events=tuple(dict(e) for e in events),
                world_updated=str(data.get("world_updated", "")),
                resets=tuple(str(t) for t in data.get("resets") or ()),
                schema=schema,
            )
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise CorruptRecord(f"not a labkit record: {error}") from None

    # -- changes (each returns a new record) -----------------------------------------------

    def with_answer(
        self, exercise_id: str, raw: Any, *, counted: bool = True, when: str | None = None
    ) -> Record:
        """Record an attempt: a counted one uses a try; a format error only counts itself."""
        old = self.answers.get(exercise_id)
        tries = old.tries if old else 0
        errors = old.format_errors if old else 0
        entry = AnswerEntry(
            raw=raw if counted or old is None else old.raw,
            time=when or now_iso(),
            tries=tries + 1 if counted else tries,
            format_errors=errors if counted else errors + 1,
        )
        return replace(self, answers={**self.answers, exercise_id: entry})

    def with_events(self, events: Sequence[Mapping[str, Any]], when: str | None = None) -> Record:
        """The world's event log (``Event.to_json()`` dicts) as of ``when``."""
        return replace(self, events=tuple(dict(e) for e in events), world_updated=when or now_iso())

    def reset(self, when: str | None = None) -> Record:
        """Start over: no answers, an empty world, and a note that a reset happened."""
        when = when or now_iso()
        return replace(self, answers={}, events=(), world_updated=when, resets=(*self.resets, when))


def merge_records(disk: Record, mine: Record) -> Record:
    """Merge two kernels' versions of one record (see the module docstring for the rules)."""
    resets = tuple(sorted(set(disk.resets) | set(mine.resets), key=_time_key))
    last_reset = _time_key(resets[-1]) if resets else None
    answers: dict[str, AnswerEntry] = {}
    for exercise_id in set(disk.answers) | set(mine.answers):
        candidates = [r.answers[exercise_id] for r in (disk, mine) if exercise_id in r.answers]
        if last_reset is not None:
            candidates = [c for c in candidates if _time_key(c.time) > last_reset]
        if not candidates:
            continue
        newest = max(candidates, key=lambda c: _time_key(c.time))
        answers[exercise_id] = replace(
            newest,
            tries=max(c.tries for c in candidates),
            format_errors=max(c.format_errors for c in candidates),
        )
    world = mine if _time_key(mine.world_updated) >= _time_key(disk.world_updated) else disk
    events, world_updated = world.events, world.world_updated
    if last_reset is not None and _time_key(world_updated) < last_reset:
        events, world_updated = (), resets[-1]
    return replace(mine, answers=answers, events=events, world_updated=world_updated, resets=resets)


# -- the store on disk ----------------------------------------------------------------------------


_NO_LOCKS = {
    code
    for code in (getattr(errno, n, None) for n in ("ENOSYS", "ENOTSUP", "EOPNOTSUPP", "ENOLCK"))
    if code is not None
}


def _lockf() -> Any:
    """``fcntl.lockf``, or None where the platform has none (Pyodide, Windows)."""
    try:
        import fcntl
    except ImportError:
        return None
    lockf = getattr(fcntl, "lockf", None)
    if lockf is None or not hasattr(fcntl, "LOCK_EX"):
        return None
    return lockf


class RecordStore:
    """Records in ``<folder>/labkit-answers/<lab>.json``, locked, atomic and merged."""

    def __init__(self, folder: str | os.PathLike[str] = ".", timeout: float = LOCK_TIMEOUT) -> None:
        self.folder = Path(folder) / ANSWERS_FOLDER
        self.timeout = timeout
        self.problems: list[str] = []

    def path(self, lab: str) -> Path:
        if not lab or "/" in lab or "\\" in lab or lab.startswith("."):
            raise LabkitError(f"not a lab id: {lab!r}")
        return self.folder / f"{lab}.json"

    @contextlib.contextmanager
    def locked(self, lab: str) -> Iterator[None]:
        """Hold the lab's lock (``fcntl.lockf`` on ``<lab>.json.lock``), waiting up to timeout.

        Where there is no such lock (Pyodide's ``fcntl`` has no ``lockf``, and in the browser
        one kernel owns the notebook's folder; Windows has no ``fcntl``), writes stay atomic
        and merged, only unlocked.
        """
        self.folder.mkdir(parents=True, exist_ok=True)
        lockf = _lockf()
        if lockf is None:
            yield
            return
        import fcntl

        lock_path = self.path(lab).with_name(f"{lab}.json.lock")
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            deadline = time.monotonic() + self.timeout
            delay = 0.005
            while True:
                try:
                    lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError as error:
                    if error.errno in _NO_LOCKS:  # the file system has no record locks
                        break
                    if error.errno not in (errno.EACCES, errno.EAGAIN):
                        raise
                    if time.monotonic() >= deadline:
                        raise LabkitError(
                            f"{lock_path} is locked by another kernel (waited {self.timeout:g} s)"
                        ) from None
                    time.sleep(delay)
                    delay = min(delay * 2, 0.1)
            try:
                yield
            finally:
                with contextlib.suppress(OSError):
                    lockf(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def load(self, lab: str) -> Record | None:
        """The stored record, or None. A corrupt file is moved aside and reported
        (CorruptRecord is raised, with ``moved_to``)."""
        with self.locked(lab):
            return self._read(lab)

    def load_or_none(self, lab: str) -> Record | None:
        """Like :meth:`load`, but a corrupt file is reported in ``problems`` and a warning."""
        try:
            return self.load(lab)
        except CorruptRecord:
            return None

    def save(self, record: Record) -> Record:
        """Merge ``record`` with the stored one and write the result atomically; returns it."""
        with self.locked(record.lab):
            try:
                disk = self._read(record.lab)
            except CorruptRecord:
                disk = None  # moved aside and reported: nothing is overwritten
            if disk is not None and disk.student != record.student:
                self._keep_aside(record.lab, f"student {disk.student!r}")
                disk = None  # another student's record is never merged into this one
            merged = record if disk is None else merge_records(disk, record)
            self._write(merged)
            return merged

    def _read(self, lab: str) -> Record | None:
        path = self.path(lab)
        try:
            text = path.read_bytes()
        except FileNotFoundError:
            return None
        try:
            return Record.from_json(json.loads(text.decode("utf-8")))
        except (ValueError, RecursionError, CorruptRecord) as error:
            # ValueError: not UTF-8, not JSON, or an integer over Python's 4,300-digit limit
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
            aside = path.with_name(f"{path.name}.corrupt-{stamp}")
            os.replace(path, aside)
            message = (
                f"{path} could not be read ({error}); it was kept as {aside.name} and a new "
                "record was started"
            )
            self.problems.append(message)
            warnings.warn(message, RecordWarning, stacklevel=3)
            raise CorruptRecord(message, aside) from None

    def _keep_aside(self, lab: str, whose: str) -> Path:
        path = self.path(lab)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
        aside = path.with_name(f"{path.name}.other-{stamp}")
        os.replace(path, aside)
        message = (
            f"{path} held the record of {whose}, not this student's; it was kept as "
            f"{aside.name} and this student's record was started on its own"
        )
        self.problems.append(message)
        if whose != f"student {NO_COURSE_ID!r}":  # answers given before a course id was saved
            warnings.warn(message, RecordWarning, stacklevel=4)
        return aside

    def _write(self, record: Record) -> None:
        path = self.path(record.lab)
        data = json.dumps(record.to_json(), indent=1, ensure_ascii=False, sort_keys=False) + "\n"
        fd, temp = tempfile.mkstemp(prefix=f".{record.lab}.", suffix=".tmp", dir=self.folder)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)
            raise
        with contextlib.suppress(OSError):  # make the rename itself durable
            dir_fd = os.open(self.folder, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)


# -- the submission cell's output ---------------------------------------------------------------


def record_summary(record: Record) -> str:
    """A short readable summary of a record (plain text)."""
    lines = [
        f"labkit record for lab {record.lab}",
        f"student: {record.student}   variant: {record.fingerprint}   "
        f"labkit {record.labkit_version}",
        f"answers: {len(record.answers)}   world events: {len(record.events)}   "
        f"resets: {len(record.resets)}",
    ]
    for exercise_id in sorted(record.answers):
        entry = record.answers[exercise_id]
        tries = "try" if entry.tries == 1 else "tries"
        lines.append(f"  {exercise_id}: answered {entry.time} ({entry.tries} {tries})")
    lines.append("Save the notebook (Ctrl+S) so that this record travels with it.")
    return "\n".join(lines)


def record_bundle(record: Record) -> dict[str, Any]:
    """The MIME bundle for the submission cell: the whole record plus readable summaries."""
    text = record_summary(record)
    rows = "".join(
        f"<tr><td>{html.escape(k)}</td><td>{html.escape(v.time)}</td><td>{v.tries}</td></tr>"
        for k, v in sorted(record.answers.items())
    )
    page = (
        f"<div class='labkit-record'><p><strong>labkit record</strong> for lab "
        f"<code>{html.escape(record.lab)}</code>, student <code>{html.escape(record.student)}"
        f"</code>, variant <code>{html.escape(record.fingerprint)}</code>: "
        f"{len(record.answers)} answers, {len(record.events)} world events.</p>"
        + (
            f"<table><tr><th>exercise</th><th>answered</th><th>tries</th></tr>{rows}</table>"
            if rows
            else "<p>No answers yet.</p>"
        )
        + "</div>"
    )
    return {MIME_TYPE: record.to_json(), "text/plain": text, "text/html": page}


def record_file_name(record: Record) -> str:
    """The name a record is downloaded under: ``<lab>.labkit.json``."""
    return f"{record.lab}{RECORD_FILE_SUFFIX}"


def record_download_html(record: Record) -> str:
    """A one-click download of the record file: an ``<a download>`` with a ``data:`` URL (no
    server and no front-end code needed, so it works in JupyterLite too)."""
    data = json.dumps(record.to_json(), indent=1, ensure_ascii=False) + "\n"
    url = "data:application/json;base64," + base64.b64encode(data.encode("utf-8")).decode("ascii")
    name = record_file_name(record)
    return (
        f"<a class='labkit-record-download' download='{html.escape(name)}' "
        f"href='{url}'>Download {html.escape(name)}</a>"
    )


def records_from_notebook(notebook: Mapping[str, Any]) -> list[Record]:
    """Every record carried by a saved notebook's outputs (a parsed .ipynb, plain JSON).

    Outputs that are not readable records are skipped (the grader reports them separately).
    """
    records = []
    for cell in notebook.get("cells") or ():
        if not isinstance(cell, Mapping):
            continue
        for output in cell.get("outputs") or ():
            data = output.get("data") if isinstance(output, Mapping) else None
            if not isinstance(data, Mapping) or MIME_TYPE not in data:
                continue
            value = data[MIME_TYPE]
            try:
                # Plain JSON types only: some front-ends store JSON outputs as text, and a
                # notebook read with nbformat holds dict subclasses the checks would refuse.
                value = json.loads(value if isinstance(value, str) else json.dumps(value))
            except (TypeError, ValueError):
                continue
            try:
                records.append(Record.from_json(value))
            except CorruptRecord:
                continue
    return records


# -- who the student is --------------------------------------------------------------------------

STUDENT_ID_FILE = Path(".labkit") / "student-id"
#: In the browser (JupyterLite) ``~`` lives in memory only; the notebook's folder is kept in
#: the browser's storage, so the course id is kept there too, beside the records.
BROWSER_ID_FILE = Path(ANSWERS_FOLDER) / "course-id.txt"
#: The student id of work done in the browser before a course id was saved.
NO_COURSE_ID = "no-course-id"


def _student_id_path() -> Path:
    home = os.environ.get("HOME") or os.path.expanduser("~")
    return Path(home) / STUDENT_ID_FILE


def _student_id_paths() -> list[Path]:
    """Where the course id is kept, the lasting place first."""
    if in_browser():
        return [Path.cwd() / BROWSER_ID_FILE, _student_id_path()]
    return [_student_id_path()]


def remember_student(student: str) -> Path:
    """Keep the course id the student gave in 00-start-here (``~/.labkit/student-id``; in the
    browser also ``labkit-answers/course-id.txt`` beside the notebook, which lasts)."""
    student = student.strip()
    if not student or "\n" in student:
        raise LabkitError("a student id is one non-empty line")
    if student == NO_COURSE_ID:
        raise LabkitError(f"{NO_COURSE_ID!r} is what labkit calls work without a course id")
    paths = _student_id_paths()
    for path in paths:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(student + "\n", encoding="utf-8")
    return paths[0]


def remembered_student() -> str | None:
    for path in _student_id_paths():
        try:
            text = path.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError):
            continue
        if text:
            return text
    return None


def hub_account() -> str | None:
    """The JupyterHub user this server runs for (``JUPYTERHUB_USER``), or None off a hub."""
    return os.environ.get("JUPYTERHUB_USER", "").strip() or None


def resolve_student(explicit: str | None = None) -> tuple[str, str]:
    """``(student id, where it came from)``.

    When ``LABKIT_GRADING`` is set, ``LABKIT_STUDENT`` wins. Otherwise: ``explicit``,
    ``JUPYTERHUB_USER`` (on a hub the account is who the student is: ``labkit collect --hub``
    files their work under it, so a course id typed in 00 must not change their variants), the
    remembered course id, ``LABKIT_STUDENT``, the local user name (in the browser, where every
    user has the same name: :data:`NO_COURSE_ID`).
    """
    env = os.environ
    if env.get("LABKIT_GRADING") and env.get("LABKIT_STUDENT", "").strip():
        return env["LABKIT_STUDENT"].strip(), "LABKIT_STUDENT (grading)"
    if explicit is not None and explicit.strip():
        return explicit.strip(), "student="
    hub_user = hub_account()
    if hub_user:
        return hub_user, "JUPYTERHUB_USER"
    remembered = remembered_student()
    if remembered:
        return remembered, str(BROWSER_ID_FILE if in_browser() else Path("~") / STUDENT_ID_FILE)
    if env.get("LABKIT_STUDENT", "").strip():
        return env["LABKIT_STUDENT"].strip(), "LABKIT_STUDENT"
    if in_browser():  # every browser has the same user name: no variant is anyone's
        return NO_COURSE_ID, "no course id saved yet"
    try:
        user = getpass.getuser()
    except Exception:
        user = ""
    return (user, "local user") if user else ("anonymous", "default")
