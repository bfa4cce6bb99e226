"""Write what a grading run found: CSV files, feedback pages, and a class report.

- ``grades.csv``: long form, one row per student, lab and exercise plus a ``(total)`` row per
  student and lab (columns student, lab, exercise, score, max, status, reason);
- ``<stem>-<lab>.csv`` beside it: one row per student, one column per exercise, and the total,
  for an LMS to import;
- ``--feedback DIR``: ``DIR/<student>/<lab>.html``, what the student may see (their answers,
  score per exercise, the mistake messages; hidden checks only as a count unless
  ``show_hidden``);
- ``<stem>-report.html``: per-exercise mean score, completion rate and the most frequent mistake
  codes with their wording, as tables and inline SVG bars. Its figures come from the same rows as
  the CSV.

Files hold no timestamps and rows are sorted, so a re-run on the same input writes the same
bytes.
"""

from __future__ import annotations

import csv
import hashlib
import html
import io
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from labkit.errors import LabkitError
from labkit.exercises import MISTAKES
from labkit.grading.grade import UNKNOWN_LAB_ROW, LabGrade
from labkit.labs import Lab, get_lab

__all__ = [
    "ExerciseStats",
    "class_stats",
    "feedback_html",
    "fmt",
    "long_csv",
    "report_html",
    "safe_name",
    "summary_line",
    "wide_csv",
    "write_reports",
]

TOTAL = "(total)"
COMPLETED = ("correct", "partial", "wrong")  # answered and graded


def fmt(value: float) -> str:
    """A score as the files print it: up to 4 decimals, no trailing zeros."""
    text = f"{round(value, 4):.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(text: str) -> str:
    """A text cell a spreadsheet will not evaluate (OWASP's CSV injection rule: a leading
    ``=``, ``+``, ``-``, ``@``, tab or carriage return gets a ``'`` in front)."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def _csv_text(rows: Sequence[Sequence[str]]) -> str:
    """CSV text (callers neutralise text cells with :func:`cell`); a carriage return inside a
    cell becomes a line feed, which the writer quotes (it would not quote a lone CR)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerows([[v.replace("\r\n", "\n").replace("\r", "\n") for v in row] for row in rows])
    return buffer.getvalue()


def _order(grades: Sequence[LabGrade], lab: str) -> list[str]:
    """The lab's exercise ids in their lab order (taken from the first full row)."""
    for grade in grades:
        if grade.lab == lab and grade.exercises:
            return [e.exercise for e in grade.exercises]
    return []


def long_csv(grades: Sequence[LabGrade]) -> str:
    """grades.csv: student, lab, exercise, score, max, status, reason (sorted)."""
    rows = [["student", "lab", "exercise", "score", "max", "status", "reason"]]
    for grade in sorted(grades, key=lambda g: (g.student, g.lab)):
        for exercise in grade.exercises:
            rows.append(
                [
                    cell(grade.student),
                    cell(grade.lab),
                    cell(exercise.exercise),
                    fmt(exercise.score),
                    fmt(exercise.max_points),
                    cell(str(exercise.status)),
                    cell(exercise.reason),
                ]
            )
        rows.append(
            [
                cell(grade.student),
                cell(grade.lab),
                TOTAL,
                fmt(grade.score),
                fmt(grade.max_points),
                cell(str(grade.status)),
                cell(grade.reason),
            ]
        )
    return _csv_text(rows)


def wide_csv(grades: Sequence[LabGrade], lab: str) -> str:
    """One lab's grades for an LMS: student, one column per exercise, total."""
    order = _order(grades, lab)
    rows = [["student", *(cell(e) for e in order), "total"]]
    for grade in sorted((g for g in grades if g.lab == lab), key=lambda g: g.student):
        scores = {e.exercise: fmt(e.score) for e in grade.exercises}
        rows.append([cell(grade.student), *(scores.get(e, "0") for e in order), fmt(grade.score)])
    return _csv_text(rows)


# -- statistics -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExerciseStats:
    """One exercise across the class (every student row of the lab counts)."""

    exercise: str
    students: int
    mean_score: float
    max_points: float
    completion_rate: float  # answered and graded (correct, partial or wrong) / students
    correct_rate: float
    mistakes: tuple[tuple[str, int], ...]  # (code, how many students), most frequent first
    # (hidden check's name, how many students' answers did not pass it), most frequent first
    hidden_failed: tuple[tuple[str, int], ...] = ()


def class_stats(grades: Sequence[LabGrade], lab: str) -> list[ExerciseStats]:
    """Per-exercise figures for one lab, computed from the same rows as the CSV."""
    rows = [g for g in grades if g.lab == lab]
    stats = []
    for exercise_id in _order(grades, lab):
        items = [e for g in rows for e in g.exercises if e.exercise == exercise_id]
        n = len(items)
        mistakes = Counter(code for e in items for code in dict.fromkeys(e.mistakes))
        answered = [e for e in items if e.status in COMPLETED]  # not the ungraded rows' zeros
        hidden = Counter(h.name for e in answered for h in e.hidden if not h.passed)
        stats.append(
            ExerciseStats(
                exercise_id,
                n,
                round(sum(e.score for e in items) / n, 4) if n else 0.0,
                items[0].max_points if items else 0.0,
                round(sum(e.status in COMPLETED for e in items) / n, 4) if n else 0.0,
                round(sum(e.status == "correct" for e in items) / n, 4) if n else 0.0,
                tuple(sorted(mistakes.items(), key=lambda kv: (-kv[1], kv[0]))),
                tuple(sorted(hidden.items(), key=lambda kv: (-kv[1], kv[0]))),
            )
        )
    return stats


def _mistake_wording(
    lab: str, code: str, exercise: str | None = None, labs: Mapping[str, Lab] | None = None
) -> str:
    """How the exercise words a mistake code: the lab the run graded with (``labs``: a graded
    lab keyed by the instructor's pack words it in the pack's words, a course lab from
    ``--labs-dir`` in its own), else the installed lab, else labkit's shared wording."""
    if exercise is not None:
        try:
            graded = labs[lab] if labs is not None and lab in labs else get_lab(lab)
            return graded.exercise(exercise).mistake_message(code)
        except LabkitError:
            pass
    return MISTAKES.get(code, code)


# -- HTML -------------------------------------------------------------------------------------

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; max-width: 72em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #bbb; padding: 0.3em 0.6em; text-align: left; vertical-align: top; }
th { background: #eee; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
pre { white-space: pre-wrap; margin: 0; }
.status { font-weight: bold; }
svg text { font-size: 12px; font-family: system-ui, sans-serif; }
td.mistakes { min-width: 24em; }
td.mistakes ul { margin: 0; padding-left: 1.2em; }
"""

MARKS = {
    "correct": "✔ correct",
    "partial": "◐ partly right",
    "wrong": "✘ not right",
    "unanswered": "○ not answered",
    "format-error": "⚠ format error",
}


def _page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n<html lang='en'>\n<head>\n<meta charset='utf-8'>\n"
        f"<title>{html.escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        f"{body}\n</body>\n</html>\n"
    )


def _md_code(text: str) -> str:
    """Escape text, showing `code` spans as <code>."""
    parts = html.escape(text).split("`")
    return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))


def feedback_html(grade: LabGrade, *, show_hidden: bool = False) -> str:
    """What a student sees about one lab. Hidden and instructor checks appear only as counts
    (and whether any failed) unless ``show_hidden``; their names and messages never do."""
    e = html.escape
    rows = []
    for item in grade.exercises:
        status = MARKS.get(item.status, item.status)
        message = _md_code(item.feedback) if item.feedback else ""
        n = len(item.hidden)
        if n:
            failed = item.hidden_failed
            plural = "s" if n != 1 else ""
            if show_hidden:
                detail = "".join(
                    f"<li>{'✔' if h.passed else '✘'} {e(h.name)}</li>" for h in item.hidden
                )
                message += f"<p>Hidden checks:</p><ul>{detail}</ul>"
            elif "hidden check" in item.feedback and not failed:
                pass  # the public message already says how many hidden checks run
            elif failed:
                message += f"<p>{n} hidden check{plural} run at grading; {failed} did not pass.</p>"
            else:
                message += f"<p>{n} hidden check{plural} run at grading.</p>"
        rows.append(
            f"<tr><td>{e(item.exercise)}</td><td><pre>{e(item.answer)}</pre></td>"
            f"<td class='num'>{fmt(item.score)} / {fmt(item.max_points)}</td>"
            f"<td class='status'>{e(status)}</td><td>{message.replace(chr(10), '<br>')}</td></tr>"
        )
    note = ""
    if grade.status != "ok":
        note = (
            f"<p class='status'>Status: {e(grade.status)}</p>"
            f"<p>{e(_student_reason(grade.reason))}</p>"
        )
    body = (
        f"<h1>Feedback: {e(grade.lab)}</h1>\n"
        f"<p>Student <code>{e(grade.student)}</code>: <strong>{fmt(grade.score)} / "
        f"{fmt(grade.max_points)}</strong> points.</p>\n{note}\n"
        "<table>\n<tr><th>exercise</th><th>your answer</th><th>score</th><th>result</th>"
        "<th>feedback</th></tr>\n" + "\n".join(rows) + "\n</table>"
    )
    return _page(f"{grade.lab}: feedback for {grade.student}", body)


def _student_reason(reason: str) -> str:
    """The status reason without instructor-check details."""
    return "; ".join(p for p in reason.split("; ") if not p.startswith("instructor check"))


def _bar(fraction: float, width: int = 120, label: str = "") -> str:
    fraction = min(max(fraction, 0.0), 1.0)
    filled = round(fraction * width)
    return (
        f"<svg width='{width + 60}' height='16' role='img' aria-label='{html.escape(label)}'>"
        f"<rect x='0' y='2' width='{width}' height='12' fill='#e6e6e6'/>"
        f"<rect x='0' y='2' width='{filled}' height='12' fill='#3b6ea5'/>"
        f"<text x='{width + 6}' y='13'>{round(fraction * 100)}%</text></svg>"
    )


def report_html(
    grades: Sequence[LabGrade], labs: Sequence[str], graded: Mapping[str, Lab] | None = None
) -> str:
    """The class report (for the instructor): per lab, status counts and, per exercise, the
    mean score, the completion rate, the most frequent mistakes worded as the lab the run graded
    with words them (``graded``: the instructor's pack's words for a graded lab), and the hidden
    checks most often not passed, by name."""
    e = html.escape
    sections = ["<h1>Class report</h1>"]
    for lab in labs:
        rows = [g for g in grades if g.lab == lab]
        statuses = Counter(g.status for g in rows)
        total = sum(g.score for g in rows)
        maximum = rows[0].max_points if rows else 0.0
        mean = total / len(rows) if rows else 0.0
        sections.append(
            f"<h2>{e(lab)}</h2>\n<p>{len(rows)} students; mean total "
            f"<span class='mean-total'>{fmt(mean)}</span> / {fmt(maximum)}.</p>"
        )
        sections.append(
            "<table class='statuses'><tr><th>status</th><th>students</th></tr>"
            + "".join(
                f"<tr><td>{e(s)}</td><td class='num'>{n}</td></tr>"
                for s, n in sorted(statuses.items(), key=lambda kv: (-kv[1], kv[0]))
            )
            + "</table>"
        )
        table = [
            "<table class='exercises'><tr><th>exercise</th><th>mean score</th><th>max</th>"
            "<th>mean (share of max)</th><th>completion rate</th><th>correct</th>"
            "<th>most frequent mistakes</th></tr>"
        ]
        for stat in class_stats(grades, lab):
            share = stat.mean_score / stat.max_points if stat.max_points else 0.0
            mistakes = "".join(
                f"<li><code>{e(code)}</code> ×{count}: "
                f"{_md_code(_mistake_wording(lab, code, stat.exercise, graded))}</li>"
                for code, count in stat.mistakes[:5]
            ) + "".join(
                f"<li class='hidden-check'>hidden check not passed ×{count}: {e(name)}</li>"
                for name, count in stat.hidden_failed[:5]
            )
            table.append(
                f"<tr data-exercise='{e(stat.exercise)}'><td>{e(stat.exercise)}</td>"
                f"<td class='num mean'>{fmt(stat.mean_score)}</td>"
                f"<td class='num'>{fmt(stat.max_points)}</td>"
                f"<td>{_bar(share, label=f'mean {round(share * 100)}%')}</td>"
                f"<td class='completion' data-rate='{fmt(stat.completion_rate)}'>"
                f"{_bar(stat.completion_rate, label='completion')}</td>"
                f"<td class='num'>{fmt(stat.correct_rate * 100)}%</td>"
                f"<td class='mistakes'><ul>{mistakes}</ul></td></tr>"
            )
        table.append("</table>")
        sections.append("\n".join(table))
    return _page("Class report", "\n".join(sections))


# -- writing ----------------------------------------------------------------------------------

_UNSAFE = re.compile(r"[^A-Za-z0-9._@+-]")


def safe_name(text: str) -> str:
    """A file or folder name for a student or lab id (never empty, never a dot name)."""
    name = _UNSAFE.sub("_", text[:100]) or "_"
    return "_" + name if name.startswith(".") else name


def unique_names(ids: Iterable[str]) -> dict[str, str]:
    """A file name per id, unique even on a case-insensitive file system: an id that is not
    its own safe name, or whose safe name another id shares (in any case), gets a short hash
    of itself appended, so two students never share a feedback folder."""
    ids = sorted(set(ids))
    folded: dict[str, list[str]] = {}
    for text in ids:
        folded.setdefault(safe_name(text).lower(), []).append(text)
    names = {}
    for text in ids:
        name = safe_name(text)
        if name != text or len(folded[name.lower()]) > 1:
            digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:10]
            name = f"{name}-{digest}"
        names[text] = name
    return names


def write_reports(
    grades: Sequence[LabGrade],
    output: Path,
    *,
    feedback_dir: Path | None = None,
    show_hidden: bool = False,
    labs: Mapping[str, Lab] | None = None,
) -> list[Path]:
    """Write grades.csv, the per-lab CSVs, the class report and the feedback pages; returns
    the paths written. ``labs`` are the labs the run graded with (keyed by the instructor's
    pack): the class report words mistakes as they do."""
    output.parent.mkdir(parents=True, exist_ok=True)
    lab_ids = sorted({g.lab for g in grades if g.lab and g.lab != UNKNOWN_LAB_ROW})
    written = [output]
    output.write_text(long_csv(grades), encoding="utf-8")
    for lab in lab_ids:
        path = output.with_name(f"{output.stem}-{safe_name(lab)}.csv")
        path.write_text(wide_csv(grades, lab), encoding="utf-8")
        written.append(path)
    report = output.with_name(f"{output.stem}-report.html")
    report.write_text(report_html(grades, lab_ids, labs), encoding="utf-8")
    written.append(report)
    if feedback_dir is not None:
        folders = unique_names(g.student for g in grades)
        for grade in grades:
            if not grade.lab or not grade.exercises:
                continue
            folder = feedback_dir / folders[grade.student]
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"{safe_name(grade.lab)}.html"
            path.write_text(feedback_html(grade, show_hidden=show_hidden), encoding="utf-8")
            written.append(path)
    return written


def summary_line(grades: Sequence[LabGrade]) -> str:
    """One line for the terminal: how many rows and statuses."""
    counts = Counter(g.status for g in grades)
    parts = ", ".join(f"{n} {s}" for s, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    return f"graded {len(grades)} student-lab pairs: {parts}"
