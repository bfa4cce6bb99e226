# ruff: noqa: E501  (the golden CSV below has long lines)
"""One default-mode run over the whole hostile and broken class (tests/grading/fixtures.py).

The expected grades.csv is checked exactly; the feedback never holds a hidden check's text; the
class report's figures match the CSV; a re-run writes the same bytes; -j 2 equals -j 1; nothing
is written inside SUBMISSIONS and nothing there is imported.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from grading.fixtures import HIDDEN_TEXTS, build_class
from labkit import __version__
from labkit.cli import main
from labkit.labs import get_lab


def ids_in_lab_order() -> list[str]:
    return [e.id for e in get_lab("demo").exercises]


GOLDEN = """\
student,lab,exercise,score,max,status,reason
"'=HYPERLINK(""evil"")",demo,fully-qualified,2,2,correct,
"'=HYPERLINK(""evil"")",demo,latest-meaning,1,1,correct,
"'=HYPERLINK(""evil"")",demo,name-the-parts,1,1,correct,
"'=HYPERLINK(""evil"")",demo,predict-uppercase,1,1,correct,
"'=HYPERLINK(""evil"")",demo,share-with-team,2,2,correct,
"'=HYPERLINK(""evil"")",demo,push-your-image,2,2,correct,
"'=HYPERLINK(""evil"")",demo,fully-qualify,1,1,correct,
"'=HYPERLINK(""evil"")",demo,(total),10,10,ok,
'@SUM(1+1),demo,fully-qualified,1,2,partial,mistakes: missing-registry
'@SUM(1+1),demo,latest-meaning,0,1,wrong,mistakes: missing-tag
'@SUM(1+1),demo,name-the-parts,0.5,1,partial,mistakes: missing-library
'@SUM(1+1),demo,predict-uppercase,0,1,wrong,mistakes: wrong-line
'@SUM(1+1),demo,share-with-team,2,2,correct,
'@SUM(1+1),demo,push-your-image,2,2,correct,
'@SUM(1+1),demo,fully-qualify,0.5,1,partial,mistakes: missing-tag
'@SUM(1+1),demo,(total),6,10,ok,
absent,demo,fully-qualified,0,2,missing,
absent,demo,latest-meaning,0,1,missing,
absent,demo,name-the-parts,0,1,missing,
absent,demo,predict-uppercase,0,1,missing,
absent,demo,share-with-team,0,2,missing,
absent,demo,push-your-image,0,2,missing,
absent,demo,fully-qualify,0,1,missing,
absent,demo,(total),0,10,missing,no submission
always-equal,demo,fully-qualified,2,2,correct,
always-equal,demo,latest-meaning,0,1,format-error,pick one of the choices
always-equal,demo,name-the-parts,1,1,correct,
always-equal,demo,predict-uppercase,1,1,correct,
always-equal,demo,share-with-team,0,2,unanswered,"mistakes: no-team-access, repo-private"
always-equal,demo,push-your-image,0,2,unanswered,mistakes: not-logged-in
always-equal,demo,fully-qualify,0,1,format-error,"pass a list of strings: lab.answer('fully-qualify', [...])"
always-equal,demo,(total),4,10,ok,
copycat,demo,fully-qualified,1,2,partial,"mistakes: wrong-name, wrong-tag"
copycat,demo,latest-meaning,1,1,correct,
copycat,demo,name-the-parts,0.5,1,partial,mistakes: wrong-name
copycat,demo,predict-uppercase,0,1,wrong,mistakes: wrong-line
copycat,demo,share-with-team,0,2,unanswered,"mistakes: no-team-access, repo-private"
copycat,demo,push-your-image,0,2,unanswered,mistakes: not-logged-in
copycat,demo,fully-qualify,0.5,1,partial,"mistakes: wrong-name, wrong-namespace"
copycat,demo,(total),3,10,other-student,"the records were made for student 'perfect', not 'copycat': graded as 'copycat' (3/10); as 'perfect' they score 10/10"
deleted-cell,demo,fully-qualified,2,2,correct,
deleted-cell,demo,latest-meaning,1,1,correct,
deleted-cell,demo,name-the-parts,1,1,correct,
deleted-cell,demo,predict-uppercase,1,1,correct,
deleted-cell,demo,share-with-team,2,2,correct,
deleted-cell,demo,push-your-image,0,2,unanswered,mistakes: not-logged-in
deleted-cell,demo,fully-qualify,0,1,unanswered,the notebook has no cell for this exercise (deleted?)
deleted-cell,demo,(total),7,10,ok,
deleted-record,demo,fully-qualified,0,2,no-submission-cell,
deleted-record,demo,latest-meaning,0,1,no-submission-cell,
deleted-record,demo,name-the-parts,0,1,no-submission-cell,
deleted-record,demo,predict-uppercase,0,1,no-submission-cell,
deleted-record,demo,share-with-team,0,2,no-submission-cell,
deleted-record,demo,push-your-image,0,2,no-submission-cell,
deleted-record,demo,fully-qualify,0,1,no-submission-cell,
deleted-record,demo,(total),0,10,no-submission-cell,"the notebook has no saved submission-cell output and there is no labkit-answers/demo.json beside it: run the last cell, save, and submit again"
duplicated-cell,demo,fully-qualified,2,2,correct,the exercise appears in 3 cells; the newest answer counts
duplicated-cell,demo,latest-meaning,1,1,correct,
duplicated-cell,demo,name-the-parts,1,1,correct,
duplicated-cell,demo,predict-uppercase,1,1,correct,
duplicated-cell,demo,share-with-team,2,2,correct,
duplicated-cell,demo,push-your-image,2,2,correct,
duplicated-cell,demo,fully-qualify,1,1,correct,
duplicated-cell,demo,(total),10,10,ok,
empty-folder,demo,fully-qualified,0,2,missing,
empty-folder,demo,latest-meaning,0,1,missing,
empty-folder,demo,name-the-parts,0,1,missing,
empty-folder,demo,predict-uppercase,0,1,missing,
empty-folder,demo,share-with-team,0,2,missing,
empty-folder,demo,push-your-image,0,2,missing,
empty-folder,demo,fully-qualify,0,1,missing,
empty-folder,demo,(total),0,10,missing,empty-folder/ holds no notebook and no records
extra-notebooks,demo,fully-qualified,2,2,correct,
extra-notebooks,demo,latest-meaning,1,1,correct,
extra-notebooks,demo,name-the-parts,1,1,correct,
extra-notebooks,demo,predict-uppercase,1,1,correct,
extra-notebooks,demo,share-with-team,2,2,correct,
extra-notebooks,demo,push-your-image,2,2,correct,
extra-notebooks,demo,fully-qualify,1,1,correct,
extra-notebooks,demo,(total),10,10,ok,Untitled.ipynb is JSON but not a notebook (no cells); scratch.ipynb is not a labkit notebook (no labkit.start cell)
forged-junk,demo,fully-qualified,2,2,correct,
forged-junk,demo,latest-meaning,1,1,correct,
forged-junk,demo,name-the-parts,1,1,correct,
forged-junk,demo,predict-uppercase,1,1,correct,
forged-junk,demo,share-with-team,0,2,unanswered,"mistakes: no-team-access, repo-private"
forged-junk,demo,push-your-image,0,2,unanswered,mistakes: not-logged-in
forged-junk,demo,fully-qualify,1,1,correct,
forged-junk,demo,(total),6,10,forged,the event log does not replay to its recorded outcomes: event 1 does not replay (malformed event: Invalid isoformat string: 'yesterday'); graded on the replayed world
forged-outcome,demo,fully-qualified,2,2,correct,
forged-outcome,demo,latest-meaning,1,1,correct,
forged-outcome,demo,name-the-parts,1,1,correct,
forged-outcome,demo,predict-uppercase,1,1,correct,
forged-outcome,demo,share-with-team,0,2,unanswered,"mistakes: no-team-access, repo-private"
forged-outcome,demo,push-your-image,0,2,unanswered,mistakes: not-logged-in
forged-outcome,demo,fully-qualify,1,1,correct,
forged-outcome,demo,(total),6,10,forged,the event log does not replay to its recorded outcomes: event 1 (`docker push stu337817/weather:4.3`) records exit code 0 but replays to 1; graded on the replayed world
hand-edited,demo,fully-qualified,1,2,partial,mistakes: missing-registry
hand-edited,demo,latest-meaning,0,1,wrong,mistakes: missing-tag
hand-edited,demo,name-the-parts,0.5,1,partial,mistakes: missing-library
hand-edited,demo,predict-uppercase,0,1,wrong,mistakes: wrong-line
hand-edited,demo,share-with-team,0,2,unanswered,"mistakes: no-team-access, repo-private"
hand-edited,demo,push-your-image,0,2,unanswered,mistakes: not-logged-in
hand-edited,demo,fully-qualify,0.5,1,partial,mistakes: missing-tag
hand-edited,demo,(total),2,10,ok,
impostor,demo,fully-qualified,2,2,correct,
impostor,demo,latest-meaning,1,1,correct,
impostor,demo,name-the-parts,1,1,correct,
impostor,demo,predict-uppercase,1,1,correct,
impostor,demo,share-with-team,0,2,unanswered,"mistakes: no-team-access, repo-private"
impostor,demo,push-your-image,0,2,unanswered,mistakes: not-logged-in
impostor,demo,fully-qualify,1,1,correct,
impostor,demo,(total),6,10,forged,"1 event(s) of the log were done as 'rivermoe79', an account the lab did not give 'impostor' (first: event 1, `create_repository`); they were not applied"
invalid-json,demo,fully-qualified,0,2,malformed,
invalid-json,demo,latest-meaning,0,1,malformed,
invalid-json,demo,name-the-parts,0,1,malformed,
invalid-json,demo,predict-uppercase,0,1,malformed,
invalid-json,demo,share-with-team,0,2,malformed,
invalid-json,demo,push-your-image,0,2,malformed,
invalid-json,demo,fully-qualify,0,1,malformed,
invalid-json,demo,(total),0,10,malformed,"demo.ipynb is not valid JSON (Unterminated string starting at: line 144, column 18); it may have been edited by hand or cut short"
lab-inventor,(unknown lab),(total),0,0,unknown-lab,"records for labs that are not installed here were ignored: '../../etc', ""=cmd|'/c calc'!A0"", 'fake-lab', 'yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy…'"
lab-inventor,demo,fully-qualified,2,2,correct,
lab-inventor,demo,latest-meaning,1,1,correct,
lab-inventor,demo,name-the-parts,1,1,correct,
lab-inventor,demo,predict-uppercase,1,1,correct,
lab-inventor,demo,share-with-team,2,2,correct,
lab-inventor,demo,push-your-image,2,2,correct,
lab-inventor,demo,fully-qualify,1,1,correct,
lab-inventor,demo,(total),10,10,ok,
merged,demo,fully-qualified,2,2,correct,
merged,demo,latest-meaning,1,1,correct,
merged,demo,name-the-parts,1,1,correct,
merged,demo,predict-uppercase,1,1,correct,
merged,demo,share-with-team,0,2,unanswered,"mistakes: no-team-access, repo-private"
merged,demo,push-your-image,0,2,unanswered,mistakes: not-logged-in
merged,demo,fully-qualify,1,1,correct,
merged,demo,(total),6,10,forged,"2 event(s) of the log were done as 'stu426833', an account the lab did not give 'merged' (first: event 1, `grant`); they were not applied; the event log does not replay to its recorded outcomes: event 1 (`docker login -u stu426833 --password-stdin`) records exit code 0 but replays to 1; event 4 (`docker push stu426833/weather:2.1`) records exit code 0 but replays to 1; graded on the replayed world; those accounts belong to 'perfect' in this class: the record was merged with another student's"
nbformat3,demo,fully-qualified,0,2,malformed,
nbformat3,demo,latest-meaning,0,1,malformed,
nbformat3,demo,name-the-parts,0,1,malformed,
nbformat3,demo,predict-uppercase,0,1,malformed,
nbformat3,demo,share-with-team,0,2,malformed,
nbformat3,demo,push-your-image,0,2,malformed,
nbformat3,demo,fully-qualify,0,1,malformed,
nbformat3,demo,(total),0,10,malformed,"demo.ipynb is an nbformat 3 notebook, which labkit cannot read records from; open it in Jupyter 4 or later and save it again"
non-finite,demo,fully-qualified,0,2,no-submission-cell,
non-finite,demo,latest-meaning,0,1,no-submission-cell,
non-finite,demo,name-the-parts,0,1,no-submission-cell,
non-finite,demo,predict-uppercase,0,1,no-submission-cell,
non-finite,demo,share-with-team,0,2,no-submission-cell,
non-finite,demo,push-your-image,0,2,no-submission-cell,
non-finite,demo,fully-qualify,0,1,no-submission-cell,
non-finite,demo,(total),0,10,no-submission-cell,"the notebook has no saved submission-cell output and there is no labkit-answers/demo.json beside it: run the last cell, save, and submit again; demo.json: not a labkit record: invalid literal for int() with base 10: '<NaN>'"
non-utf8,demo,fully-qualified,0,2,malformed,
non-utf8,demo,latest-meaning,0,1,malformed,
non-utf8,demo,name-the-parts,0,1,malformed,
non-utf8,demo,predict-uppercase,0,1,malformed,
non-utf8,demo,share-with-team,0,2,malformed,
non-utf8,demo,push-your-image,0,2,malformed,
non-utf8,demo,fully-qualify,0,1,malformed,
non-utf8,demo,(total),0,10,malformed,demo.ipynb is not UTF-8 text (byte 0xff at offset 100); save it again from Jupyter
old-version,demo,fully-qualified,2,2,correct,
old-version,demo,latest-meaning,1,1,correct,
old-version,demo,name-the-parts,1,1,correct,
old-version,demo,predict-uppercase,1,1,correct,
old-version,demo,share-with-team,2,2,correct,
old-version,demo,push-your-image,2,2,correct,
old-version,demo,fully-qualify,1,1,correct,
old-version,demo,(total),10,10,variant-changed,"the record's variant fingerprint '000000000000' is not this labkit's '1732803c8840' for 'old-version' (made with labkit 0.0.1, graded with {version}): the lab changed since the student worked on it; graded against today's variant"
partly-wrong,demo,fully-qualified,1,2,partial,mistakes: missing-registry
partly-wrong,demo,latest-meaning,0,1,wrong,mistakes: missing-tag
partly-wrong,demo,name-the-parts,0.5,1,partial,mistakes: missing-library
partly-wrong,demo,predict-uppercase,0,1,wrong,mistakes: wrong-line
partly-wrong,demo,share-with-team,2,2,correct,
partly-wrong,demo,push-your-image,0,2,unanswered,mistakes: not-logged-in
partly-wrong,demo,fully-qualify,0.5,1,partial,mistakes: missing-tag
partly-wrong,demo,(total),4,10,ok,
perfect,demo,fully-qualified,2,2,correct,
perfect,demo,latest-meaning,1,1,correct,
perfect,demo,name-the-parts,1,1,correct,
perfect,demo,predict-uppercase,1,1,correct,
perfect,demo,share-with-team,2,2,correct,
perfect,demo,push-your-image,2,2,correct,
perfect,demo,fully-qualify,1,1,correct,
perfect,demo,(total),10,10,ok,
reacher,demo,fully-qualified,0,2,no-submission-cell,
reacher,demo,latest-meaning,0,1,no-submission-cell,
reacher,demo,name-the-parts,0,1,no-submission-cell,
reacher,demo,predict-uppercase,0,1,no-submission-cell,
reacher,demo,share-with-team,0,2,no-submission-cell,
reacher,demo,push-your-image,0,2,no-submission-cell,
reacher,demo,fully-qualify,0,1,no-submission-cell,
reacher,demo,(total),0,10,no-submission-cell,"the notebook has no saved submission-cell output and there is no labkit-answers/demo.json beside it: run the last cell, save, and submit again; demo.json leads outside the submission's folder; it was not read"
shuffled-log,demo,fully-qualified,2,2,correct,
shuffled-log,demo,latest-meaning,1,1,correct,
shuffled-log,demo,name-the-parts,1,1,correct,
shuffled-log,demo,predict-uppercase,1,1,correct,
shuffled-log,demo,share-with-team,2,2,correct,
shuffled-log,demo,push-your-image,2,2,correct,
shuffled-log,demo,fully-qualify,1,1,correct,
shuffled-log,demo,(total),10,10,ok,event 2 has sequence number 91 after 92: the log was edited or put together from several
symlink-loop,demo,fully-qualified,0,2,no-submission-cell,
symlink-loop,demo,latest-meaning,0,1,no-submission-cell,
symlink-loop,demo,name-the-parts,0,1,no-submission-cell,
symlink-loop,demo,predict-uppercase,0,1,no-submission-cell,
symlink-loop,demo,share-with-team,0,2,no-submission-cell,
symlink-loop,demo,push-your-image,0,2,no-submission-cell,
symlink-loop,demo,fully-qualify,0,1,no-submission-cell,
symlink-loop,demo,(total),0,10,no-submission-cell,"the notebook has no saved submission-cell output and there is no labkit-answers/demo.json beside it: run the last cell, save, and submit again; demo.json is a loop of symbolic links; it was not read"
time-traveller,demo,fully-qualified,2,2,correct,
time-traveller,demo,latest-meaning,1,1,correct,
time-traveller,demo,name-the-parts,1,1,correct,
time-traveller,demo,predict-uppercase,1,1,correct,
time-traveller,demo,share-with-team,2,2,correct,
time-traveller,demo,push-your-image,2,2,correct,
time-traveller,demo,fully-qualify,1,1,correct,
time-traveller,demo,(total),10,10,ok,"the answer to fully-qualified is dated '2999-01-01T00:00:00+00:00', in the future"
too-many-tries,demo,fully-qualified,2,2,correct,
too-many-tries,demo,latest-meaning,1,1,correct,
too-many-tries,demo,name-the-parts,1,1,correct,
too-many-tries,demo,predict-uppercase,1,1,correct,
too-many-tries,demo,share-with-team,2,2,correct,
too-many-tries,demo,push-your-image,2,2,correct,
too-many-tries,demo,fully-qualify,1,1,correct,
too-many-tries,demo,(total),10,10,forged,the answer to latest-meaning claims 40 tries; the exercise allows 2
twin:a,demo,fully-qualified,2,2,correct,
twin:a,demo,latest-meaning,1,1,correct,
twin:a,demo,name-the-parts,1,1,correct,
twin:a,demo,predict-uppercase,1,1,correct,
twin:a,demo,share-with-team,2,2,correct,
twin:a,demo,push-your-image,2,2,correct,
twin:a,demo,fully-qualify,1,1,correct,
twin:a,demo,(total),10,10,ok,
twin_a,demo,fully-qualified,1,2,partial,mistakes: missing-registry
twin_a,demo,latest-meaning,0,1,wrong,mistakes: missing-tag
twin_a,demo,name-the-parts,0.5,1,partial,mistakes: missing-library
twin_a,demo,predict-uppercase,0,1,wrong,mistakes: wrong-line
twin_a,demo,share-with-team,2,2,correct,
twin_a,demo,push-your-image,2,2,correct,
twin_a,demo,fully-qualify,0.5,1,partial,mistakes: missing-tag
twin_a,demo,(total),6,10,ok,
untouched,demo,fully-qualified,0,2,unanswered,
untouched,demo,latest-meaning,0,1,unanswered,
untouched,demo,name-the-parts,0,1,unanswered,
untouched,demo,predict-uppercase,0,1,unanswered,
untouched,demo,share-with-team,0,2,unanswered,"mistakes: no-team-access, repo-private"
untouched,demo,push-your-image,0,2,unanswered,mistakes: not-logged-in
untouched,demo,fully-qualify,0,1,unanswered,
untouched,demo,(total),0,10,ok,
weird-json,demo,fully-qualified,0,2,format-error,the answer is over 1000000 characters long
weird-json,demo,latest-meaning,0,1,format-error,pick one of the choices
weird-json,demo,name-the-parts,0,1,format-error,"give the parts as a dict with registry, namespace, name and tag"
weird-json,demo,predict-uppercase,1,1,correct,
weird-json,demo,share-with-team,0,2,unanswered,"mistakes: no-team-access, repo-private"
weird-json,demo,push-your-image,0,2,unanswered,mistakes: not-logged-in
weird-json,demo,fully-qualify,0,1,format-error,the answer nests lists or objects over 64 levels deep
weird-json,demo,(total),1,10,ok,
wrong-kernel,demo,fully-qualified,2,2,correct,
wrong-kernel,demo,latest-meaning,1,1,correct,
wrong-kernel,demo,name-the-parts,1,1,correct,
wrong-kernel,demo,predict-uppercase,1,1,correct,
wrong-kernel,demo,share-with-team,2,2,correct,
wrong-kernel,demo,push-your-image,2,2,correct,
wrong-kernel,demo,fully-qualify,1,1,correct,
wrong-kernel,demo,(total),10,10,ok,"demo.ipynb names the kernel 'julia-1.9', not python3 (nothing runs in default mode)"
"""


def _tree(root: Path) -> dict[str, str]:
    """Every file under root with a hash of its bytes (symlinks by their target)."""
    found = {}
    for path in sorted(root.rglob("*")):
        if path.is_symlink():
            found[str(path.relative_to(root))] = "-> " + os.readlink(path)
        elif path.is_file():
            found[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("class")
    subs = base / "submissions"
    students = [*sorted(build_class(subs)), "absent"]
    roster = base / "roster.csv"
    roster.write_text("Name,Student\n" + "".join(f"N,{s}\n" for s in students), encoding="utf-8")
    before = _tree(subs)
    runs = {}
    for name, jobs in (("first", "1"), ("again", "1"), ("parallel", "2")):
        out = base / name
        argv = [
            "grade",
            str(subs),
            "-o",
            str(out / "grades.csv"),
            "--feedback",
            str(out / "feedback"),
            "--roster",
            str(roster),
            "-j",
            jobs,
            "--no-progress",
        ]
        assert main(argv) == 0
        runs[name] = out
    return base, subs, runs, before


def test_grades_csv_is_exactly_the_expected_one(graded):
    _, _, runs, _ = graded
    text = (runs["first"] / "grades.csv").read_text(encoding="utf-8")
    assert text == GOLDEN.format(version=__version__)


def test_rerun_and_parallel_run_write_identical_files(graded):
    _, _, runs, _ = graded
    first = _tree(runs["first"])
    assert len(first) > 20
    assert _tree(runs["again"]) == first
    assert _tree(runs["parallel"]) == first


def test_nothing_is_written_inside_submissions_and_nothing_there_is_imported(graded):
    base, subs, _, before = graded
    assert _tree(subs) == before
    assert not (base / "IMPORTED-FROM-SUBMISSION").exists()


def test_feedback_never_holds_a_hidden_checks_text(graded):
    _, _, runs, _ = graded
    pages = sorted((runs["first"] / "feedback").rglob("*.html"))
    assert len(pages) == 33
    folders = [page.parent.name for page in pages]
    assert len({f.lower() for f in folders}) == len(folders)  # one folder per student
    twin_a = [f for f in folders if f.startswith("twin_a")]
    assert len(twin_a) == 2
    pages_of = {f: (runs["first"] / "feedback" / f / "demo.html").read_text() for f in twin_a}
    assert sum("10 / 10" in text for text in pages_of.values()) == 1  # never merged
    for page in pages:
        text = page.read_text(encoding="utf-8")
        for hidden in HIDDEN_TEXTS:
            assert hidden not in text, (page, hidden)
    perfect = (runs["first"] / "feedback" / "perfect" / "demo.html").read_text()
    assert "10 / 10" in perfect
    assert "1 hidden check run at grading" in perfect


def test_class_report_figures_match_the_csv(graded):
    _, _, runs, _ = graded
    rows = list(csv.DictReader(io.StringIO((runs["first"] / "grades.csv").read_text())))
    report = (runs["first"] / "grades-report.html").read_text()
    exercises = [r for r in rows if r["exercise"] != "(total)"]
    ids = list(dict.fromkeys(r["exercise"] for r in exercises))
    assert len(ids) == 7
    for exercise in ids:
        items = [r for r in exercises if r["exercise"] == exercise]
        mean = sum(float(r["score"]) for r in items) / len(items)
        done = sum(r["status"] in ("correct", "partial", "wrong") for r in items) / len(items)
        row = re.search(rf"<tr data-exercise='{re.escape(exercise)}'>(.*?)</tr>", report).group(1)
        shown_mean = float(re.search(r"class='num mean'>([^<]+)<", row).group(1))
        shown_rate = float(re.search(r"data-rate='([^']+)'", row).group(1))
        assert shown_mean == pytest.approx(mean, abs=1e-4)
        assert shown_rate == pytest.approx(done, abs=1e-4)
    totals = [float(r["score"]) for r in rows if r["exercise"] == "(total)" and r["lab"] == "demo"]
    shown = float(re.search(r"class='mean-total'>([^<]+)<", report).group(1))
    assert shown == pytest.approx(sum(totals) / len(totals), abs=1e-4)
    assert "<code>missing-tag</code>" in report
    assert "without a tag Docker uses" in report


def test_wide_csv_totals_match_the_long_csv(graded):
    _, _, runs, _ = graded
    long_rows = list(csv.DictReader(io.StringIO((runs["first"] / "grades.csv").read_text())))
    totals = {r["student"]: r["score"] for r in long_rows if r["exercise"] == "(total)"}
    wide = list(csv.DictReader(io.StringIO((runs["first"] / "grades-demo.csv").read_text())))
    assert {r["student"]: r["total"] for r in wide} == totals
    assert list(wide[0]) == ["student", *ids_in_lab_order(), "total"]


def test_outputs_inside_submissions_are_refused(graded, capsys):
    _, subs, _, before = graded
    assert main(["grade", str(subs), "-o", str(subs / "grades.csv"), "--no-progress"]) == 2
    assert "inside SUBMISSIONS" in capsys.readouterr().err
    assert _tree(subs) == before


def test_a_module_beside_a_notebook_is_never_imported(graded, tmp_path):
    """Even with the submission folder first on sys.path, lazy imports come from elsewhere."""
    base, subs, _, _ = graded
    reacher = subs / "reacher"
    code = (
        "import sys\n"
        "from labkit.cli import main\n"
        f"sys.path.insert(0, {str(reacher)!r})\n"
        "sys.path.insert(0, '')\n"
        f"sys.exit(main(['grade', {str(subs)!r}, '-o', {str(tmp_path / 'g.csv')!r}, "
        "'--no-progress', '--student', 'reacher']))\n"
    )
    result = subprocess.run(
        [sys.executable, "-I", "-c", code], cwd=reacher, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert not (base / "IMPORTED-FROM-SUBMISSION").exists()
    assert "reacher,demo,(total),0,10,no-submission-cell" in (tmp_path / "g.csv").read_text()
