"""Find the submissions under a folder, and read what each one carries, as plain data.

Layouts (see :func:`collect`):

- nbgrader: ``submitted/<student>/<assignment>/<notebook>.ipynb``;
- one folder per student: ``<dir>/<student>/<notebook>.ipynb``, with ``labkit-answers/`` beside
  the notebook or not (a folder holding only ``labkit-answers/`` counts too);
- a flat folder of ``<student>.ipynb`` files;
- LMS downloads whose file names carry the id: ``id_pattern`` is a regular expression with a
  named group ``student`` searched in each file name (``.ipynb`` and ``.json`` record files).

The student id comes from the layout (or the roster), never from the submission's files. Only
files inside a submission's own folder (or its own files, in a flat folder) are read; a symlink
that leads elsewhere is refused. Notebooks are parsed as plain JSON: nbformat is never imported,
and nothing in a submission is ever imported or run here.
"""

from __future__ import annotations

import csv
import errno
import gc
import json
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labkit.errors import LabkitError
from labkit.records import ANSWERS_FOLDER, MIME_TYPE, RECORD_FILE_SUFFIX, CorruptRecord, Record

__all__ = [
    "MAX_FILE_BYTES",
    "NotebookInfo",
    "RecordFile",
    "Submission",
    "collect",
    "lab_of_notebook",
    "load_json_file",
    "read_notebook",
    "read_record_file",
    "read_roster",
]

MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_INT_DIGITS = 1000
SKIPPED_DIRS = {".ipynb_checkpoints", "__pycache__", ".git", ANSWERS_FOLDER}
_START_RE = re.compile(r"""labkit\.start\(\s*(?:lab\s*=\s*)?["']([^"']+)["']""")


@dataclass(frozen=True)
class Submission:
    """One student's files: ``folder`` (None for a flat folder) bounds what may be read."""

    student: str
    folder: Path | None
    notebooks: tuple[Path, ...] = ()
    record_files: tuple[Path, ...] = ()
    layout: str = ""
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class RecordFile:
    """A record read from a file or a notebook output, or why it could not be read."""

    source: str
    record: Record | None
    problem: str = ""


@dataclass(frozen=True)
class NotebookInfo:
    """What a notebook says about itself, read as plain JSON."""

    path: Path
    problem: str = ""  # why it cannot be read (malformed), or ""
    lab: str | None = None  # from ``labkit.start("<lab>")`` in a code cell
    records: tuple[RecordFile, ...] = ()
    kernel: str = ""
    nbformat: int = 0
    sources: tuple[str, ...] = ()  # the code cells' sources
    notes: tuple[str, ...] = field(default_factory=tuple)


# -- reading files -----------------------------------------------------------------------------


def _parse_int(text: str) -> Any:
    # json refuses ints over 4300 digits with a ValueError for the whole file; keep the file
    # and make the value something no check accepts.
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        return f"<an integer with {len(text)} digits>"
    return int(text)


def _parse_constant(name: str) -> Any:
    return f"<{name}>"  # NaN and Infinity are not JSON: keep them as text no check accepts


def _loads(text: str) -> Any:
    """``json.loads`` with the cyclic garbage collector paused: parsed JSON holds no cycles, and
    collecting while a JSON bomb of millions of empty lists parses made it 7x slower."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return json.loads(text, parse_int=_parse_int, parse_constant=_parse_constant)
    finally:
        if enabled:
            gc.enable()


def load_json_file(path: Path, inside: Path | None = None) -> tuple[Any, str]:
    """``(value, "")`` or ``(None, why it cannot be read)``. Refuses a path that resolves
    outside ``inside``, a file over :data:`MAX_FILE_BYTES`, bytes that are not UTF-8, invalid
    JSON, and nesting deeper than Python's parser can follow."""
    try:
        if inside is not None and not _is_inside(path, inside):
            if _is_loop(path):
                return None, f"{path.name} is a loop of symbolic links; it was not read"
            return None, f"{path.name} leads outside the submission's folder; it was not read"
        if not path.is_file():
            return None, f"{path.name} is not a regular file"
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            return None, f"{path.name} is {size} bytes, over the {MAX_FILE_BYTES} byte limit"
        data = path.read_bytes()
    except OSError as error:
        return None, f"{path.name} cannot be read ({error.strerror or error})"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        return None, (
            f"{path.name} is not UTF-8 text (byte 0x{data[error.start]:02x} at offset "
            f"{error.start}); save it again from Jupyter"
        )
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        value = _loads(text)
    except json.JSONDecodeError as error:
        return None, (
            f"{path.name} is not valid JSON ({error.msg}: line {error.lineno}, column "
            f"{error.colno}); it may have been edited by hand or cut short"
        )
    except RecursionError:
        return None, f"{path.name} nests lists or objects too deeply to read"
    except ValueError as error:
        return None, f"{path.name} is not valid JSON ({error})"
    return value, ""


def _is_loop(path: Path) -> bool:
    try:
        path.resolve(strict=True)
    except RuntimeError:  # Python 3.11 says a loop so
        return True
    except OSError as error:
        return error.errno == errno.ELOOP
    return False


def _is_inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except (ValueError, OSError, RuntimeError):  # RuntimeError: a symlink loop (3.11)
        return False
    return True


def read_record_file(path: Path, inside: Path | None = None) -> RecordFile:
    """A record from a ``labkit-answers/<lab>.json`` file (or an LMS-downloaded ``.json``)."""
    value, problem = load_json_file(path, inside)
    if problem:
        return RecordFile(path.name, None, problem)
    try:
        return RecordFile(path.name, Record.from_json(value))
    except CorruptRecord as error:
        return RecordFile(path.name, None, f"{path.name}: {error}")
    except RecursionError:
        return RecordFile(path.name, None, f"{path.name} nests too deeply to read")


def _record_student(path: Path) -> str | None:
    record = read_record_file(path).record
    return record.student if record is not None else None


def lab_of_notebook(sources: Iterable[str]) -> str | None:
    """The lab a notebook's setup cell starts (``labkit.start("<lab>")``), or None."""
    for source in sources:
        match = _START_RE.search(source)
        if match:
            return match.group(1)
    return None


def _cell_source(cell: Mapping[str, Any]) -> str:
    source = cell.get("source", "")
    if isinstance(source, list):
        return "".join(s for s in source if isinstance(s, str))
    return source if isinstance(source, str) else ""


def read_notebook(path: Path, inside: Path | None = None) -> NotebookInfo:
    """Read a ``.ipynb`` as plain JSON: its lab, kernel, code cells and the records carried by
    its submission cell's output. ``problem`` says why it cannot be read."""
    value, problem = load_json_file(path, inside)
    if problem:
        return NotebookInfo(path, problem)
    if not isinstance(value, dict):
        return NotebookInfo(path, f"{path.name} is JSON but not a notebook (no cells)")
    major = value.get("nbformat")
    major = major if isinstance(major, int) and not isinstance(major, bool) else 0
    metadata: dict[str, Any] = value["metadata"] if isinstance(value.get("metadata"), dict) else {}
    kernelspec: dict[str, Any] = (
        metadata["kernelspec"] if isinstance(metadata.get("kernelspec"), dict) else {}
    )
    kernel = str(kernelspec.get("name", ""))
    if major == 0 and "worksheets" not in value and "cells" not in value:
        return NotebookInfo(path, f"{path.name} is JSON but not a notebook (no cells)")
    if major < 4:
        cells: list[Any] = []
        for sheet in value.get("worksheets") or ():
            if isinstance(sheet, dict) and isinstance(sheet.get("cells"), list):
                cells.extend(sheet["cells"])
        sources = tuple(
            str(c.get("input", "")) if not isinstance(c.get("input"), list) else "".join(c["input"])
            for c in cells
            if isinstance(c, dict) and c.get("cell_type") == "code"
        )
        return NotebookInfo(
            path,
            f"{path.name} is an nbformat {major or '(unknown)'} notebook, which labkit cannot "
            "read records from; open it in Jupyter 4 or later and save it again",
            lab_of_notebook(sources),
            kernel=kernel,
            nbformat=major,
            sources=sources,
        )
    raw_cells = value.get("cells")
    if not isinstance(raw_cells, list):
        return NotebookInfo(path, f"{path.name} has no list of cells", nbformat=major)
    code_cells = [c for c in raw_cells if isinstance(c, dict) and c.get("cell_type") == "code"]
    sources = tuple(_cell_source(c) for c in code_cells)
    records = []
    for index, cell in enumerate(code_cells):
        for output in cell.get("outputs") or ():
            data = output.get("data") if isinstance(output, dict) else None
            if not isinstance(data, dict) or MIME_TYPE not in data:
                continue
            where = f"{path.name}, code cell {index + 1}"
            payload = data[MIME_TYPE]
            if isinstance(payload, str):
                try:
                    payload = json.loads(payload, parse_int=_parse_int)
                except (ValueError, RecursionError):
                    records.append(RecordFile(where, None, f"{where}: the record is not JSON"))
                    continue
            try:
                records.append(RecordFile(where, Record.from_json(payload)))
            except CorruptRecord as error:
                records.append(RecordFile(where, None, f"{where}: {error}"))
            except RecursionError:
                records.append(RecordFile(where, None, f"{where}: the record nests too deeply"))
    return NotebookInfo(
        path,
        "",
        lab_of_notebook(sources),
        tuple(records),
        kernel,
        major,
        sources,
    )


def read_roster(path: Path) -> list[str]:
    """Student ids from a CSV roster: the column named id, student, student_id, username,
    login or email (first match, any case), else the first column."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise LabkitError(f"cannot read the roster {path}: {error}") from None
    rows = list(csv.reader(text.splitlines()))
    if not rows:
        return []
    header = [h.strip().lower() for h in rows[0]]
    wanted = ("student", "student_id", "id", "username", "login", "sis user id", "email")
    column = next((header.index(w) for w in wanted if w in header), None)
    body = rows[1:] if column is not None else rows
    column = column or 0
    ids = [row[column].strip() for row in body if len(row) > column and row[column].strip()]
    return list(dict.fromkeys(ids))


# -- layouts -----------------------------------------------------------------------------------


def _notebooks_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.ipynb") if p.is_file() or p.is_symlink())


def _answer_files(folder: Path) -> list[Path]:
    """``labkit-answers/*.json``, and record files downloaded from the browser
    (``<lab>.labkit.json``, handed in like a notebook) beside the notebooks."""
    answers = folder / ANSWERS_FOLDER
    found = [p for p in folder.glob(f"*{RECORD_FILE_SUFFIX}") if p.is_file()]
    if answers.is_dir():
        found += [p for p in answers.glob("*.json") if not p.name.startswith(".")]
    return sorted(found)


def _student_folder(student: str, folder: Path, layout: str) -> Submission | None:
    notebooks = _notebooks_in(folder)
    records = _answer_files(folder)
    if notebooks or records:
        return Submission(student, folder, tuple(notebooks), tuple(records), layout)
    # nbgrader: submitted/<student>/<assignment>/<notebook>.ipynb
    notebooks, records = [], []
    for sub in sorted(p for p in folder.iterdir() if p.is_dir() and p.name not in SKIPPED_DIRS):
        notebooks.extend(_notebooks_in(sub))
        records.extend(_answer_files(sub))
    if notebooks or records:
        return Submission(student, folder, tuple(notebooks), tuple(records), "nbgrader")
    return Submission(
        student, folder, (), (), layout, (f"{folder.name}/ holds no notebook and no records",)
    )


def collect(
    root: str | os.PathLike[str],
    *,
    id_pattern: str | None = None,
    roster: Sequence[str] | None = None,
    only: str | None = None,
) -> list[Submission]:
    """The submissions under ``root``, one per student, sorted by student id.

    With ``roster``, students without a submission get an empty :class:`Submission` (graded as
    missing). ``only`` keeps one student. Raises LabkitError when ``root`` is not a folder or
    ``id_pattern`` has no ``student`` group.
    """
    root = Path(root)
    if not root.is_dir():
        raise LabkitError(f"{root} is not a folder")
    if (root / "submitted").is_dir():  # an nbgrader course folder
        root = root / "submitted"
    pattern = None
    if id_pattern is not None:
        try:
            pattern = re.compile(id_pattern)
        except re.error as error:
            raise LabkitError(f"--id-pattern is not a regular expression: {error}") from None
        if "student" not in pattern.groupindex:
            raise LabkitError("--id-pattern needs a named group: (?P<student>...)")
    found: dict[str, Submission] = {}
    flat: dict[str, tuple[list[Path], list[Path]]] = {}
    for entry in sorted(root.iterdir()):
        if entry.name.startswith(".") or entry.name in SKIPPED_DIRS:
            continue
        if entry.is_dir():
            student = entry.name
            if pattern is not None:
                match = pattern.search(entry.name)
                if not match:
                    continue
                student = match.group("student")
            submission = _student_folder(student, entry, "folder-per-student")
            if submission is not None:
                found[student] = submission
        elif entry.suffix in (".ipynb", ".json"):
            if pattern is not None:
                match = pattern.search(entry.name)
                if not match:
                    continue
                student = match.group("student")
            elif entry.suffix == ".ipynb":
                student = entry.stem
            elif entry.name.endswith(RECORD_FILE_SUFFIX):
                # a record downloaded from the browser names its student inside
                named = _record_student(entry)
                if named is None:
                    continue
                student = named
            else:
                continue  # a stray .json in a flat folder names no student
            notebooks, records = flat.setdefault(student, ([], []))
            (notebooks if entry.suffix == ".ipynb" else records).append(entry)
    for student, (notebooks, records) in flat.items():
        layout = "lms" if pattern is not None else "flat"
        if student in found:
            old = found[student]
            found[student] = Submission(
                student,
                old.folder,
                (*old.notebooks, *notebooks),
                (*old.record_files, *records),
                old.layout,
                old.notes,
            )
        else:
            found[student] = Submission(student, None, tuple(notebooks), tuple(records), layout)
    if roster is not None:
        for student in roster:
            found.setdefault(student, Submission(student, None, (), (), "roster"))
        listed = set(roster)
        for student, submission in list(found.items()):
            if student not in listed:
                found[student] = Submission(
                    student,
                    submission.folder,
                    submission.notebooks,
                    submission.record_files,
                    submission.layout,
                    (*submission.notes, f"{student!r} is not on the roster"),
                )
    if only is not None:
        found = {k: v for k, v in found.items() if k == only}
        if not found:
            found[only] = Submission(only, None, (), (), "student")
    return [found[k] for k in sorted(found)]
