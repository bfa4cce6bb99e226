"""The JupyterLite site (``make lite``) in a real browser, offline.

One walk, as a student with nothing but a browser would do it: open 00-start-here, run it
(answers are marked as having no course id), give a course id in the widget, solve the exercises
and run the notebook top to bottom again, download the record and the notebook; the same for
04-pushing; reload the page and find the work still there (the notebook, its answers and the
course id live in the browser's storage). Every request outside loopback is aborted and logged,
and the log must stay empty. The downloads grade with ``labkit grade`` to full marks, and a
notebook downloaded from the site grades exactly like the same answers given in a Jupyter
kernel (what JupyterLab runs).
"""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from labkit.labs import get_lab
from lite.conftest import TIMES
from lite.site import Browser, LitePage, StaticServer, build_site

pytestmark = [pytest.mark.lite, pytest.mark.timeout(600)]

ROOT = Path(__file__).resolve().parents[2]
SOLUTIONS = ROOT / "tests" / "solutions"
STUDENT = "lite-student-7"
LABS = {"00-start-here": "start_here", "04-pushing": "pushing"}


def _solution_cell(solution: str) -> str:
    code = (SOLUTIONS / f"{solution}.py").read_text(encoding="utf-8")
    return f"{code}\n\nsolve_{solution}(lab)\n"


def _download(page: Any, action: Any, to: Path) -> Path:
    with page.expect_download(timeout=60_000) as info:
        action()
    to.parent.mkdir(parents=True, exist_ok=True)
    info.value.save_as(to)
    return to


def _grade(folder: Path, out: Path) -> list[dict[str, str]]:
    out.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "labkit.cli",
            "grade",
            str(folder),
            "-o",
            str(out / "grades.csv"),
            "--no-progress",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    with open(out / "grades.csv", newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _scores(rows: list[dict[str, str]]) -> dict[tuple[str, str, str], tuple[str, str, str]]:
    """What grades.csv says, per student, lab and exercise (the reason names files)."""
    return {
        (r["student"], r["lab"], r["exercise"]): (r["score"], r["max"], r["status"]) for r in rows
    }


@pytest.fixture(scope="module")
def walk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    started = time.monotonic()
    site = build_site()
    built = time.monotonic() - started
    downloads = tmp_path_factory.mktemp("downloads")
    server = StaticServer(site)
    browser = Browser()
    found: dict[str, Any] = {"downloads": downloads, "blocked": browser.blocked, "build_s": built}
    try:
        context = browser.new_context()
        page = context.new_page()
        page.set_default_timeout(60_000)

        # 00-start-here, first without a course id
        lab00 = LitePage(page, server.url, "00-start-here.ipynb").open()
        for tag in ("setup", "course-id", "submission"):
            lab00.run_cell(lab00.index(tag))
        found["no_id_setup"] = lab00.output_text(lab00.index("setup"))
        found["no_id_submission"] = lab00.output_text(lab00.index("submission"))

        # the course id, typed in the widget as a student does
        page.locator("input[placeholder^='the id your course gave you']").first.fill(STUDENT)
        page.locator(".jupyter-widgets button", has_text="Save").first.click()
        page.get_by_text("Run the set-up cell again").first.wait_for()

        for notebook, solution in LABS.items():
            lite = (
                lab00
                if notebook == "00-start-here"
                else LitePage(page, server.url, f"{notebook}.ipynb").open()
            )
            lite.insert_code(lite.index("submission"), _solution_cell(solution), "solution")
            lite.run_all()
            lite.save()
            found[f"{notebook}:errors"] = lite.errors()
            found[f"{notebook}:setup"] = lite.output_text(lite.index("setup"))
            found[f"{notebook}:submission"] = lite.output_text(lite.index("submission"))
            link = page.locator("a.labkit-record-download").last
            _download(page, link.click, downloads / "records" / STUDENT / f"{notebook}.labkit.json")
            _download(
                page,
                lambda lite=lite: lite.command("docmanager:download"),
                downloads / "notebooks" / STUDENT / f"{notebook}.ipynb",
            )

        # reload: the notebook, its answers and the course id are still there
        lab00 = LitePage(page, server.url, "00-start-here.ipynb")
        page.goto(lab00.url)
        lab00.wait_ready()
        found["reloaded_cells"] = [c.get("metadata", {}).get("tags", []) for c in lab00.cells()]
        found["reloaded_record"] = json.loads(lab00.read_file("labkit-answers/00-start-here.json"))
        found["reloaded_id"] = lab00.read_file("labkit-answers/course-id.txt")
        page.close()
        context.close()
    finally:
        browser.close()
        server.stop()
    TIMES["site build (or cache check)"] = built
    TIMES["browser walk"] = time.monotonic() - started - built
    yield found


def test_nothing_is_requested_outside_loopback(walk):
    assert walk["blocked"] == []


def test_without_a_course_id_the_answers_are_marked_and_the_cell_asks_for_one(walk):
    assert "variant for: no-course-id" in walk["no_id_setup"]
    assert "no-course-id" in walk["no_id_submission"]
    assert "marked as having no course id" in walk["no_id_submission"]


@pytest.mark.parametrize("notebook", list(LABS))
def test_a_lab_runs_top_to_bottom_in_the_browser(walk, notebook):
    assert walk[f"{notebook}:errors"] == []
    assert f"variant for: {STUDENT}" in walk[f"{notebook}:setup"]
    assert STUDENT in walk[f"{notebook}:submission"]
    assert "marked as having no course id" not in walk[f"{notebook}:submission"]


def test_the_work_is_still_there_after_a_reload(walk):
    assert ["solution"] in walk["reloaded_cells"]  # the saved notebook, as it was left
    assert walk["reloaded_id"].strip() == STUDENT
    record = walk["reloaded_record"]
    assert record["student"] == STUDENT
    assert set(record["answers"]) == {e.id for e in get_lab("00-start-here").exercises}


def test_a_lab_started_later_reads_the_course_id_from_the_browser_storage(walk):
    """04 was opened after the id was saved, in a kernel of its own (``~`` is new there)."""
    assert f"variant for: {STUDENT} (from labkit-answers/course-id.txt)" in walk["04-pushing:setup"]


@pytest.mark.parametrize("kind", ["records", "notebooks"])
def test_downloads_grade_to_full_marks(walk, kind, tmp_path):
    rows = _grade(walk["downloads"] / kind, tmp_path)
    assert {r["student"] for r in rows} == {STUDENT}
    scores = _scores(rows)
    for notebook in LABS:
        full = get_lab(notebook).max_points
        score, top, status = scores[(STUDENT, notebook, "(total)")]
        assert (float(score), float(top)) == (full, full), (status, rows)


def test_a_downloaded_notebook_grades_like_the_same_answers_in_a_kernel(
    walk, tmp_path, monkeypatch
):
    """The same solution, run in an IPython kernel as JupyterLab would, grades the same."""
    from labs.lab_support import run_notebook

    notebook = "04-pushing"
    executed, _ = run_notebook(
        f"{notebook}.ipynb",
        STUDENT,
        tmp_path / "run",
        monkeypatch,
        inject=(_solution_cell(LABS[notebook]),),
    )
    kernel = tmp_path / "kernel" / STUDENT
    kernel.mkdir(parents=True)
    (kernel / f"{notebook}.ipynb").write_text(json.dumps(executed), encoding="utf-8")
    browser = tmp_path / "browser" / STUDENT
    browser.mkdir(parents=True)
    shutil.copy(walk["downloads"] / "notebooks" / STUDENT / f"{notebook}.ipynb", browser)
    from_kernel = _scores(_grade(kernel.parent, tmp_path / "g1"))
    from_browser = _scores(_grade(browser.parent, tmp_path / "g2"))
    assert from_browser == from_kernel
