"""The files a run writes: CSV forms, statistics, feedback pages, the class report."""

from __future__ import annotations

import csv
import io
import re

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


# -- a graded lab's mistakes: the instructor's words in the class report, never in feedback -----


def _assessment_class(root):
    """Three students of 06-assessment, each answering with the pack's examples (mistakes)."""
    from grading.fixtures import TIME, keyed_lab, notebook, write_submission
    from labkit import __version__
    from labkit.exercises import Kind
    from labkit.records import Record

    lab = keyed_lab("06-assessment")
    for n in range(3):
        student = f"stu{n}"
        record = Record(lab.id, student, lab.fingerprint(student), __version__)
        for exercise in lab.exercises:
            if exercise.kind is Kind.TASK or not exercise.examples:
                continue
            example = exercise.examples[n % len(exercise.examples)]
            raw = example.raw_for(lab.variant(exercise, student))
            record = record.with_answer(exercise.id, raw, when=TIME)
        made = notebook(record, lab=lab.id, exercises=[e.id for e in lab.exercises])
        write_submission(root / student, notebook_json=made, name=f"{lab.id}.ipynb")


def _graded(tmp_path, *extra):
    from labkit.cli import main

    out = tmp_path / ("with" if extra else "without")
    argv = ["grade", str(tmp_path / "subs"), "-o", str(out / "grades.csv"), "--no-progress"]
    assert main([*argv, "--feedback", str(out / "feedback"), *extra]) == 0
    pages = {p: p.read_text(encoding="utf-8") for p in (out / "feedback").rglob("*.html")}
    return out, (out / "grades-report.html").read_text(encoding="utf-8"), pages


def test_a_graded_labs_mistakes_are_in_the_instructors_words_in_the_report_only(tmp_path, capsys):
    import html

    from grading.fixtures import PACK
    from grading.pack.assessment_key import WORDS

    _assessment_class(tmp_path / "subs")
    out, report, pages = _graded(tmp_path, "--checks", str(PACK))
    capsys.readouterr()
    made = [code for code in WORDS if f"<code>{code}</code>" in report]
    assert len(made) >= 8  # the class made these mistakes: each worded as the pack words it
    for code in made:
        worded = re.search(rf"<li><code>{re.escape(code)}</code> ×\d+: (.*?)</li>", report)
        assert worded is not None, code
        shown = html.unescape(re.sub(r"</?code>", "`", worded.group(1)))
        assert shown == WORDS[code], code
    assert "hidden check not passed ×" in report  # by name, for the instructor
    assert len(pages) == 3
    for page, text in pages.items():
        for words in WORDS.values():
            longest = max(words.split("`"), key=len).strip()
            assert html.escape(longest) not in text, (page, words)
        assert "hidden check not passed" not in text
        assert "that choice is not the right one" in text  # the shipped lab's words
    rows = list(csv.DictReader(io.StringIO((out / "grades.csv").read_text(encoding="utf-8"))))
    assert any("tag-copies" in r["reason"] for r in rows)  # the codes, for the instructor


def test_without_the_checks_folder_a_graded_lab_says_why_and_words_no_mistake(tmp_path, capsys):
    _assessment_class(tmp_path / "subs")
    out, report, pages = _graded(tmp_path)
    capsys.readouterr()
    rows = list(csv.DictReader(io.StringIO((out / "grades.csv").read_text(encoding="utf-8"))))
    totals = [r for r in rows if r["exercise"] == "(total)"]
    assert [r["status"] for r in totals] == ["error"] * 3
    assert all("grade it with --checks DIR" in r["reason"] for r in totals)
    assert "<li>" not in report and "hidden check not passed" not in report
    assert all("Status: error" in text for text in pages.values())


def test_the_report_words_mistakes_as_the_lab_it_is_given(tmp_path):
    """A practice lab keyed with the instructor's words: the report uses the lab passed in, the
    installed lab's words without it."""
    from labkit.grading.key import apply_key
    from labkit.labs import get_lab

    demo = get_lab("demo")
    exercise = demo.exercises[0]
    grades = [
        LabGrade(
            "ann",
            "demo",
            "ok",
            "",
            (ExerciseGrade(exercise.id, 0, 2, "wrong", mistakes=("missing-tag",)),),
        )
    ]
    mine = "my own words for a missing tag"
    keyed = apply_key(demo, {exercise.id: {"mistake_text": {"missing-tag": mine}}})
    assert mine in report_html(grades, ["demo"], {"demo": keyed})
    assert mine not in report_html(grades, ["demo"])
    assert "without a tag Docker uses <code>latest</code>" in report_html(grades, ["demo"])
