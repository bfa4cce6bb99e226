"""The hostile class (tests/grading/hostile_class.py) graded in default mode and with
``--execute -j 2`` (Linux, sandboxed; small limits: ``--cell-timeout 3 --timeout 12``).

Each mode's grades.csv is checked exactly against its golden file (tests/grading/golden/;
``LABKIT_REGOLD=1`` rewrites them, to be read in the diff). In both modes: a row per student with
a status and a reason, honest students at full marks and identical across modes, nothing
outside the output folder changed (submissions, the checks folder, the temporary folder), no
process left, no secret in any output (the checks folder's text and path, the grader's command
line, a peer's notes, hidden checks' and instructor checks' words in feedback pages), no socket
reached. The default-mode half is quick and unmarked; the execute half is marked slow.
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from grading import hostile_class as hc
from grading.fixtures import HIDDEN_TEXTS, PACK
from labkit import __version__
from labkit.cli import main
from labkit.grading.grade import STATUS_ORDER

GOLDEN = Path(__file__).resolve().parent / "golden"
INSTRUCTOR_NOTE = "instructor-note-b3a1"  # an instructor check's message: grades.csv only
KEY_TEXT = "The instructor's key of 06-assessment"  # the first line of the pack's key file
OUTPUTS = ["feedback", "grades-demo.csv", "grades-report.html", "grades.csv"]
CHECKS_PY = f"""\
SECRET = {hc.SECRET!r}


def short_name_only(context):
    answer = context.answer
    if not isinstance(answer, str) or answer.startswith("docker.io/"):
        return 1.0
    return (0.5, {INSTRUCTOR_NOTE!r})


CHECKS = {{"demo": {{"fully-qualified": [short_name_only]}}}}
"""


def _execute_ready() -> str:
    if not sys.platform.startswith("linux"):
        return "--execute is Linux only"
    from labkit.grading.execute import isolation

    if isolation() == "limits only":
        return "needs the bubblewrap sandbox"
    return ""


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The class, its checks folder and roster, the sockets outside, and the trees before."""
    base = tmp_path_factory.mktemp("hostile")
    socket_dir = Path(tempfile.mkdtemp(prefix="labkit-hostile-sockets-"))
    socket_dir.chmod(0o777)
    tcp = socket.socket()
    tcp.bind(("127.0.0.1", 0))
    ctx = hc.Context(base, socket_dir, f"labkit-hostile-{uuid.uuid4().hex}", tcp.getsockname()[1])
    subs = base / "submissions"
    students = hc.build(subs, ctx)
    ctx.checks.mkdir()
    (ctx.checks / "secret_checks.py").write_text(CHECKS_PY, encoding="utf-8")
    shutil.copy(PACK / "assessment_key.py", ctx.checks)  # the assessment's key, withheld
    roster = base / "roster.csv"
    roster.write_text(
        "Name,Student\n" + "".join(f'N,"{s.replace(chr(34), 2 * chr(34))}"\n' for s in [
            *students, "absent"]), encoding="utf-8")  # fmt: skip
    (base / "scratch").mkdir()
    listeners = [tcp]
    for address in (str(socket_dir / "s"), "\0" + ctx.abstract):
        listener = socket.socket(socket.AF_UNIX)
        listener.bind(address)
        listeners.append(listener)
    os.chmod(socket_dir / "s", 0o777)
    for listener in listeners:
        listener.listen()
        listener.setblocking(False)
    before = _outside(base)
    yield base, ctx, students, before, listeners
    for listener in listeners:
        listener.close()
    shutil.rmtree(socket_dir, ignore_errors=True)


def _outside(base: Path) -> dict[str, str]:
    """Everything under base but the output folders."""
    return {k: v for k, v in hc.tree(base).items() if not k.startswith("out-")}


def _grade(base: Path, name: str, *extra: str) -> tuple[Path, float]:
    out = base / f"out-{name}"
    argv = ["grade", str(base / "submissions"), "-o", str(out / "grades.csv")]
    argv += ["--feedback", str(out / "feedback"), "--roster", str(base / "roster.csv")]
    argv += ["--checks", str(base / "checks"), "--no-progress", *extra]
    saved, tempfile.tempdir = tempfile.tempdir, str(base / "scratch")  # workers fork with it
    started = time.monotonic()
    try:
        assert main(argv) == 0
    finally:
        tempfile.tempdir = saved
    return out, time.monotonic() - started


MODES = {
    "default": ("-j", "2"),
    "execute": ("--execute", "-j", "2", "--cell-timeout", "3", "--timeout", "12"),
}


@pytest.fixture(scope="module")
def runs(built):
    return {}


@pytest.fixture(
    scope="module",
    params=[
        "default",
        pytest.param(
            "execute",
            marks=[
                pytest.mark.slow,
                pytest.mark.skipif(bool(_execute_ready()), reason=_execute_ready() or "-"),
            ],
        ),
    ],
)
def run(request, built, runs):
    """One mode's run: (mode, output folder)."""
    base, _, _, _, listeners = built
    mode = request.param
    if mode not in runs:
        out, seconds = _grade(base, mode, *MODES[mode])
        print(f"\n{mode} mode: {seconds:.1f} s at load {os.getloadavg()[0]:.2f}", file=sys.stderr)
        runs[mode] = out
        connected = []
        for listener in listeners:
            try:
                connected.append(listener.accept())
            except BlockingIOError:
                pass
        assert connected == []  # no notebook reached a socket outside its sandbox
    return mode, runs[mode]


def rows_of(out: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO((out / "grades.csv").read_text(encoding="utf-8"))))


def totals_of(out: Path) -> dict[str, dict[str, str]]:
    rows = rows_of(out)
    return {r["student"]: r for r in rows if r["exercise"] == "(total)" and r["lab"] == "demo"}


def test_the_class_has_at_least_40_attack_types_each_documented():
    attacks = {s: a for s, a in hc.CLASS.items() if a[0] != "honest"}
    assert len(attacks) >= 40
    kinds = {kind for kind, _ in attacks.values()}
    for named in ("loop", "exit", "kill of peers", "kill of the grader", "read of secrets",
                  "read of peers", "socket", "pipe", "forged record", "merged record",
                  "impossible actor", "CSV formula", "colliding ids", "bomb",
                  "invalid numbers"):  # fmt: skip
        assert named in kinds, named
    assert all(what and "\n" not in what for _, what in hc.CLASS.values())


def test_the_grades_csv_is_exactly_the_golden_one(run):
    mode, out = run
    text = (out / "grades.csv").read_text(encoding="utf-8")
    path = GOLDEN / f"hostile-{mode}.csv"
    if os.environ.get("LABKIT_REGOLD"):
        path.write_text(text.replace(__version__, "{version}"), encoding="utf-8")
    assert text == path.read_text(encoding="utf-8").replace("{version}", __version__)


def test_every_student_has_a_row_per_exercise_with_a_status_and_a_reason(run, built):
    _, out = run
    _, _, students, _, _ = built
    rows = rows_of(out)
    demo = [r for r in rows if r["lab"] == "demo"]
    shown = {r["student"].removeprefix("'") if r["student"][:2] in ("'=", "'@", "'+", "'-")
             else r["student"] for r in demo}  # fmt: skip
    assert shown == {*students, "absent"}
    for student in shown:
        mine = [r for r in demo if r["student"].removeprefix("'") == student.removeprefix("'")]
        assert len(mine) in (len(hc.LAB.exercises) + 1, 2 * (len(hc.LAB.exercises) + 1))
    for row in rows:
        assert row["status"] in STATUS_ORDER or row["status"] in (
            "correct", "partial", "wrong", "unanswered", "format-error"), row  # fmt: skip
        if row["exercise"] == "(total)" and row["status"] != "ok":
            assert row["reason"], row


def test_no_text_cell_is_a_spreadsheet_formula(run):
    _, out = run
    for name in ("grades.csv", "grades-demo.csv"):
        for row in csv.reader(io.StringIO((out / name).read_text(encoding="utf-8"))):
            for value in row:
                assert not value.startswith(("=", "+", "@", "\t", "\r")), (name, value)
                assert not value.startswith("-") or re.fullmatch(r"-[0-9.]+", value), value


def test_honest_students_lose_no_point_and_score_the_same_in_both_modes(run, runs):
    mode, out = run
    totals = totals_of(out)
    for student, points in hc.HONEST.items():
        assert (totals[student]["score"], totals[student]["status"]) == (str(points), "ok")
    assert totals["absent"]["status"] == "missing"
    if mode != "default":
        honest = set(hc.HONEST)

        def mine(path):
            return [(r["student"], r["exercise"], r["score"], r["status"])
                    for r in rows_of(path) if r["student"] in honest]  # fmt: skip

        assert mine(out) == mine(runs["default"])


def test_nothing_outside_the_output_folder_changed_and_nothing_is_left(run, built):
    _, out = run
    base, _, _, before, _ = built
    assert _outside(base) == before  # submissions, checks, scratch (the temporary folder)
    assert not (base / "IMPORTED-FROM-SUBMISSION").exists()
    assert not (base / "FROM-A-STUDENT").exists()
    assert sorted(p.name for p in out.iterdir()) == OUTPUTS
    assert list((base / "scratch").iterdir()) == []
    assert hc.processes_under(base) == []


def test_the_outputs_hold_no_secret(run, built):
    """Neither the checks folder's text nor its path, nor the grader's command line, nor a
    peer's notes reach any output; hidden checks' names and the instructor check's words reach
    no feedback page (the instructor's grades.csv names the instructor check)."""
    _, out = run
    base, _, _, _, _ = built
    for path in out.rglob("*"):
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        for secret in (hc.SECRET, hc.PEER_MARKER, str(base / "checks"), "--checks",
                       "--cell-timeout", "secret_checks", KEY_TEXT):  # fmt: skip
            assert secret not in text, (path, secret)
        if path.suffix == ".html" and path.parent.name != out.name:
            for hidden in (*HIDDEN_TEXTS, INSTRUCTOR_NOTE, "short_name_only"):
                assert hidden not in text, (path, hidden)
    assert INSTRUCTOR_NOTE in (out / "grades.csv").read_text(encoding="utf-8")


def test_a_peer_is_never_read_nor_merged_into_another_page(run):
    _, out = run
    pages = sorted((out / "feedback").rglob("*.html"))
    folders = [page.parent.name for page in pages]
    assert len({f.lower() for f in folders}) == len(folders)  # one folder per student
    perfect = hc.answers("honest-perfect")["fully-qualified"]
    for page in pages:
        if page.parent.name.startswith(("read-", "symlink-", "write-")):
            assert perfect not in page.read_text(encoding="utf-8"), page
    twins = [f for f in folders if f.lower().startswith(("twin", "case-twin"))]
    assert len(twins) == 4
    full = [f for f in twins if "10 / 10" in (out / "feedback" / f / "demo.html").read_text()]
    assert len(full) == 2  # the two wrong ones never share a page with the right ones


def test_the_attacks_on_the_sandbox_cost_the_attacker_only(run):
    mode, out = run
    totals = totals_of(out)
    if mode == "default":  # no student code runs: the saved record is graded
        assert totals["loop-busy"]["score"] == "2" and totals["loop-busy"]["status"] == "ok"
        return
    assert totals["kill-grader"]["score"] == "2"
    assert "ProcessLookupError" in totals["kill-grader"]["reason"]
    assert totals["kill-peers"]["score"] == "2"
    assert totals["pipe-control"]["status"] == "forged"
    assert "ZeroDivisionError" in totals["pipe-control"]["reason"]
    assert "ValueError" in totals["pipe-control"]["reason"]
    assert totals["loop-busy"]["status"] == "timed-out"


# -- what the class shows once, in default mode -------------------------------------------------


@pytest.fixture(scope="module")
def default_out(built, runs):
    base = built[0]
    if "default" not in runs:
        runs["default"], _ = _grade(base, "default", *MODES["default"])
    return runs["default"]


@pytest.mark.slow
def test_a_run_with_one_worker_writes_identical_files(default_out, built):
    base = built[0]
    again, _ = _grade(base, "default-j1", "-j", "1")
    try:
        assert hc.tree(again) == hc.tree(default_out)
    finally:
        shutil.rmtree(again)


def test_class_report_figures_match_the_csv(default_out):
    rows = rows_of(default_out)
    report = (default_out / "grades-report.html").read_text()
    exercises = [r for r in rows if r["exercise"] != "(total)" and r["lab"] == "demo"]
    for exercise in dict.fromkeys(r["exercise"] for r in exercises):
        items = [r for r in exercises if r["exercise"] == exercise]
        mean = sum(float(r["score"]) for r in items) / len(items)
        done = sum(r["status"] in ("correct", "partial", "wrong") for r in items) / len(items)
        row = re.search(rf"<tr data-exercise='{re.escape(exercise)}'>(.*?)</tr>", report).group(1)
        assert float(re.search(r"class='num mean'>([^<]+)<", row).group(1)) == pytest.approx(
            mean, abs=1e-4
        )
        assert float(re.search(r"data-rate='([^']+)'", row).group(1)) == pytest.approx(
            done, abs=1e-4
        )
    totals = [float(r["score"]) for r in totals_of(default_out).values()]
    shown = float(re.search(r"class='mean-total'>([^<]+)<", report).group(1))
    assert shown == pytest.approx(sum(totals) / len(totals), abs=1e-4)
    assert "<code>missing-tag</code>" in report


def test_wide_csv_totals_match_the_long_csv(default_out):
    totals = {s: r["score"] for s, r in totals_of(default_out).items()}
    wide = list(csv.DictReader(io.StringIO((default_out / "grades-demo.csv").read_text())))
    assert {r["student"]: r["total"] for r in wide} == totals
    assert list(wide[0]) == ["student", *(e.id for e in hc.LAB.exercises), "total"]


def test_outputs_inside_submissions_are_refused(built, capsys):
    base, _, _, before, _ = built
    subs = base / "submissions"
    assert main(["grade", str(subs), "-o", str(subs / "grades.csv"), "--no-progress"]) == 2
    assert "inside SUBMISSIONS" in capsys.readouterr().err
    assert _outside(base) == before


def test_a_module_beside_a_notebook_is_never_imported(built, tmp_path):
    """Even with the submission folder first on sys.path, lazy imports come from elsewhere."""
    base = built[0]
    subs = base / "submissions"
    folder = subs / "shadow-modules"
    code = (
        "import sys\n"
        "from labkit.cli import main\n"
        f"sys.path.insert(0, {str(folder)!r})\n"
        "sys.path.insert(0, '')\n"
        f"sys.exit(main(['grade', {str(subs)!r}, '-o', {str(tmp_path / 'g.csv')!r}, "
        "'--no-progress', '--student', 'shadow-modules']))\n"
    )
    result = subprocess.run(
        [sys.executable, "-I", "-c", code], cwd=folder, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert not (base / "IMPORTED-FROM-SUBMISSION").exists()
    assert "shadow-modules,demo,(total),10,10,ok" in (tmp_path / "g.csv").read_text()
