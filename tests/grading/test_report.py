"""The files a run writes: CSV forms, statistics, feedback pages, the class report."""

from __future__ import annotations

import csv
import io

from labkit.exercises import HiddenResult
from labkit.grading.grade import ExerciseGrade, LabGrade
from labkit.grading.report import (
    class_stats,
    feedback_html,
    fmt,
    long_csv,
    report_html,
    safe_name,
    wide_csv,
    write_reports,
)


def _grade(student: str, scores: dict[str, tuple[float, str, tuple[str, ...]]], status="ok"):
    exercises = tuple(
        ExerciseGrade(
            name,
            score,
            2.0,
            state,
            mistakes=mistakes,
            feedback="Not yet (0%):\n- write the `registry`" if mistakes else "Correct",
            answer="<script>alert(1)</script>",
            hidden=(HiddenResult("secret rule", score >= 2),),
        )
        for name, (score, state, mistakes) in scores.items()
    )
    return LabGrade(student, "lab1", status, "", exercises)


GRADES = [
    _grade("zoe", {"b": (2, "correct", ()), "a": (0, "wrong", ("missing-tag",))}),
    _grade("amy", {"b": (1, "partial", ("missing-tag", "wrong-tag")), "a": (0, "unanswered", ())}),
    _grade("bob", {"b": (0, "missing", ()), "a": (0, "missing", ())}, status="missing"),
]


def test_fmt():
    assert [fmt(x) for x in (0, 1.0, 2.5, 1 / 3, -0.0, 10)] == [
        "0",
        "1",
        "2.5",
        "0.3333",
        "0",
        "10",
    ]


def test_long_csv_is_sorted_with_a_total_row_per_student():
    rows = list(csv.reader(io.StringIO(long_csv(GRADES))))
    assert rows[0] == ["student", "lab", "exercise", "score", "max", "status", "reason"]
    assert [(r[0], r[2]) for r in rows[1:4]] == [("amy", "b"), ("amy", "a"), ("amy", "(total)")]
    assert rows[3][3:6] == ["1", "4", "ok"]
    assert [r[0] for r in rows[1:]] == ["amy"] * 3 + ["bob"] * 3 + ["zoe"] * 3


def test_wide_csv_has_one_column_per_exercise_in_lab_order():
    rows = list(csv.reader(io.StringIO(wide_csv(GRADES, "lab1"))))
    assert rows == [
        ["student", "b", "a", "total"],
        ["amy", "1", "0", "1"],
        ["bob", "0", "0", "0"],
        ["zoe", "2", "0", "2"],
    ]


def test_class_stats():
    b, a = class_stats(GRADES, "lab1")
    assert (b.exercise, b.students, b.mean_score, b.completion_rate) == ("b", 3, 1.0, 0.6667)
    assert b.correct_rate == 0.3333
    assert b.mistakes == (("missing-tag", 1), ("wrong-tag", 1))
    assert (a.mean_score, a.completion_rate, a.mistakes) == (0.0, 0.3333, (("missing-tag", 1),))


def test_feedback_escapes_answers_and_hides_hidden_checks():
    page = feedback_html(GRADES[0])
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "secret rule" not in page
    assert "1 hidden check run at grading; 1 did not pass." in page
    assert "<code>registry</code>" in page
    assert "secret rule" in feedback_html(GRADES[0], show_hidden=True)
    missing = feedback_html(GRADES[2])
    assert "Status: missing" in missing


def test_report_shows_mistake_wording_and_bars():
    page = report_html(GRADES, ["lab1"])
    assert "<code>missing-tag</code> ×2" not in page  # counted per exercise, not per lab
    assert "<code>missing-tag</code> ×1: without a tag Docker uses <code>latest</code>" in page
    assert page.count("<svg") == 4
    assert "data-rate='0.6667'" in page
    assert "<td>missing</td><td class='num'>1</td>" in page


def test_safe_name():
    assert safe_name("../etc/passwd") == "_.._etc_passwd"
    assert safe_name("") == "_"
    assert safe_name("ann.lee@uni.edu") == "ann.lee@uni.edu"


def test_write_reports_writes_every_file(tmp_path):
    written = write_reports(GRADES, tmp_path / "out" / "g.csv", feedback_dir=tmp_path / "fb")
    names = sorted(str(p.relative_to(tmp_path)) for p in written)
    assert names == [
        "fb/amy/lab1.html",
        "fb/bob/lab1.html",
        "fb/zoe/lab1.html",
        "out/g-lab1.csv",
        "out/g-report.html",
        "out/g.csv",
    ]


def test_every_text_cell_is_neutralised_for_spreadsheets():
    """OWASP's CSV injection rule: a leading =, +, -, @, tab or CR gets a ' in front."""
    from labkit.grading.report import cell

    hostile = ["=1+1", "+A1", "-2+3", "@SUM(A1)", "\tx", "\rx", '=HYPERLINK("http://x")']
    for text in hostile:
        assert cell(text) == "'" + text
    assert cell("ann") == "ann" and cell("") == ""
    grades = [
        LabGrade(text, "demo", "ok", text, (ExerciseGrade("fq", 1.0, 2.0, "partial", text),))
        for text in hostile
    ]
    for written in (long_csv(grades), wide_csv(grades, "demo")):
        for row in csv.reader(io.StringIO(written, newline="")):
            for value in row:
                assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), value
    rows = list(csv.DictReader(io.StringIO(long_csv(grades), newline="")))
    assert {r["student"] for r in rows} == {"'" + t.replace("\r", "\n") for t in hostile}
    assert all(r["reason"].startswith("'") for r in rows)


def test_ids_that_fold_to_one_file_name_get_their_own_feedback_folders(tmp_path):
    ids = ["ann", "Ann", "a/b", "a_b", "a:b", ".hidden", "x" * 300]
    grades = [
        LabGrade(i, "demo", "ok", "", (ExerciseGrade("fq", 1.0, 2.0, "partial", answer=i),))
        for i in ids
    ]
    write_reports(grades, tmp_path / "grades.csv", feedback_dir=tmp_path / "fb")
    folders = sorted(p.name for p in (tmp_path / "fb").iterdir())
    assert len(folders) == len(ids) and len({f.lower() for f in folders}) == len(ids)
    assert "a_b" not in folders or folders.count("a_b") == 1
    assert all(len(f) < 120 and not f.startswith(".") for f in folders)
    for folder in (tmp_path / "fb").iterdir():
        page = (folder / "demo.html").read_text()
        owners = [i for i in ids if f">{i}<" in page or i in page]
        assert owners  # each page is one student's own
