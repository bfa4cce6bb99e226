"""A class on a real hub, as people do it: two students log in through the hub's login page in
headless Chromium, each runs a lab in their own JupyterLab and answers exercises in its widgets,
saves; then the instructor collects (``labkit collect --hub``) and grades (``labkit grade``).

Used by tests/hub/test_hub.py (which asserts on it) and bench/hub_bench.py (which prints its
figures). Needs root: the students are real Unix users.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from browser.driver import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS, NotebookPage
from browser.student import enter_answer, see_status

from hub.hubrun import (
    MARK_VARIABLE,
    ROOT,
    RUN_MARK,
    Hub,
    UnixUser,
    add_user,
    link_tree,
    marked_processes,
    processes_of,
    remove_user,
    rss_mb,
    run_as,
    scratch_base,
    start_hub,
    stop_hub,
    write_lab_settings,
)
from labkit.exercises import Exercise
from labkit.labs import Lab, get_lab

LAB = "01-tags"
# nbgrader's exchange delivers the lab: released by the instructor as assignment "lab01", fetched
# by each student into ~/lab01/, where they work on it in the browser, then submitted.
COURSE_ID = "labkit101"
ASSIGNMENT = "lab01"
NOTEBOOK = f"{ASSIGNMENT}/01-tags.ipynb"
NBGRADER_LIB = ROOT / "build" / "nbgrader-lib"  # `make nbgrader-lib`: nbgrader, outside the venv
# What each student does in the lab's widgets: (exercise id, answers right?)
PLAN: dict[str, list[tuple[str, bool]]] = {
    "ann": [("unique-names", True), ("pull-default-tag", True), ("shared-id", True)],
    "bob": [("unique-names", True), ("shared-id", False)],
}
BROWSER_TIMEOUT_MS = 60_000
# After the hub stopped, how long the run's processes may take to end by themselves (a kernel sees
# its server gone within about a second; a loaded two-core machine may take a few)
SETTLE_S = 15.0


@dataclass
class HubServerView:
    """What :class:`browser.driver.NotebookPage` needs of a server, for a student's server
    behind the hub: pages under /user/<name>/, files read from their home (we are root)."""

    url: str
    user: str
    root: Path
    kind: str = "lab"

    def page_url(self, notebook: str, workspace: str = "default") -> str:
        return f"{self.url}/user/{self.user}/lab/workspaces/{workspace}/tree/{notebook}?reset"


@dataclass
class ClassRun:
    """Everything a run made and measured."""

    hub: Hub
    students: dict[str, UnixUser]  # role in PLAN ("ann", "bob") -> the Unix user
    instructor: UnixUser
    lab: Lab
    figures: dict[str, float] = field(default_factory=dict)
    pages: dict[str, NotebookPage] = field(default_factory=dict)
    collect_output: str = ""
    grade_output: str = ""
    grades: list[dict[str, str]] = field(default_factory=list)
    collected: Path | None = None
    nbgrader_course: Path | None = None
    nbgrader_log: list[str] = field(default_factory=list)
    nbgrader_grades: list[dict[str, str]] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)  # the setup cell's output per student


def wrong_answer(exercise: Exercise, variant: Any) -> Any:
    """A typical wrong answer from the definition's own examples."""
    for example in exercise.examples:
        raw = example.raw_for(variant)
        if raw != exercise.key_raw(variant):
            return raw
    raise AssertionError(f"{exercise.id} has no wrong example")


def answer(page: NotebookPage, lab: Lab, student: str, exercise_id: str, right: bool) -> None:
    exercise = lab.exercise(exercise_id)
    variant = lab.variant(exercise, student)
    raw = exercise.key_raw(variant) if right else wrong_answer(exercise, variant)
    index = page.cell_index(f"exercise-{exercise.id}")
    page.cell(index).scroll_into_view_if_needed()
    enter_answer(page, index, exercise, raw)
    output = page.cell(index).locator(".jp-OutputArea-output")
    output.get_by_role("button", name="Check").click()
    see_status(output, "correct" if right else "wrong")


# Every code cell with source shows an execution count: the whole notebook has run.
_ALL_RAN = """() => [...document.querySelectorAll('.jp-Notebook .jp-CodeCell')].every(cell =>
  !(cell.querySelector('.cm-content')?.textContent || '').trim() ||
  /^\\[\\d+\\]:?$/.test((cell.querySelector('.jp-InputPrompt')?.textContent || '').trim()))"""


def run_all(page: NotebookPage) -> None:
    """Run > Run All Cells until every cell has run. On a loaded machine the kernel can look
    idle between two cells, which the shared helper takes for the end of the run: then wait
    for the cells still queued."""
    try:
        page.run_all()
    except AssertionError as error:
        if "Run All stopped" not in str(error):
            raise
        page.page.wait_for_function(_ALL_RAN, timeout=BROWSER_TIMEOUT_MS * 2)
        page.wait_kernel_idle()


def login_and_open(context: Any, hub: Hub, user: UnixUser, notebook: str) -> NotebookPage:
    """The hub's login page, then straight to ``notebook`` in a fresh workspace: the hub starts
    the server on the way (its spawn-pending page), JupyterLab opens the notebook."""
    view = HubServerView(hub.url, user.name, user.home)
    page = NotebookPage(context, view, notebook, workspace=f"hub-{user.name}")  # type: ignore[arg-type]
    target = urllib.parse.urlsplit(view.page_url(notebook, page.workspace))
    landing = f"{target.path}?{target.query}"
    # JupyterHub 4+ starts a server only when asked (/hub/spawn), then sends the user on
    spawn = f"/hub/spawn?next={urllib.parse.quote(landing, safe='')}"
    page.page.goto(f"{hub.url}/hub/login?next={urllib.parse.quote(spawn, safe='')}")
    page.page.fill("#username_input", user.name)
    page.page.fill("#password_input", user.password)
    page.page.click("#login_submit")
    lab = re.compile(re.escape(f"{hub.url}/user/{user.name}/lab/"))
    page.page.wait_for_url(lab, timeout=BROWSER_TIMEOUT_MS)
    page.wait_cells()
    page.wait_kernel_idle()
    return page


def labkit_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LABKIT_", "JUPYTERHUB_"))}
    return subprocess.run(
        [sys.executable, "-m", "labkit.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@contextmanager
def browser_session() -> Iterator[Any]:
    """Debian's Chromium through playwright (never ``playwright install``), marked as ours."""
    from playwright.sync_api import sync_playwright

    os.environ[MARK_VARIABLE] = RUN_MARK  # the playwright driver and Chromium inherit it
    try:
        playwright = sync_playwright().start()
    finally:
        del os.environ[MARK_VARIABLE]
    try:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
    finally:
        playwright.stop()


@contextmanager
def class_on_hub() -> Iterator[ClassRun]:
    """Users, the hub, and after the run: the hub stopped, every process of the run gone, the
    users and the scratch folder removed. Left-over processes are killed and reported in
    ``run.figures['left_over_processes']``."""
    base = scratch_base()
    tag = os.urandom(3).hex()
    made: list[UnixUser] = []
    run: ClassRun | None = None
    try:
        for role in (*PLAN, "tch"):
            made.append(add_user(f"lk{tag}{role}"))
        students = dict(zip(PLAN, made[:-1], strict=True))
        for user in students.values():
            write_lab_settings(user)
        started = time.monotonic()
        hub = start_hub(base, list(students.values()), [made[-1]])
        run = ClassRun(hub, students, made[-1], get_lab(LAB))
        run.figures["hub_start_s"] = time.monotonic() - started
        yield run
    finally:
        left: list[tuple[int, str]] = []
        if run is not None:
            stop_hub(run.hub)
        # The hub stops each server with SIGINT; a server without a terminal exits on it without
        # shutting its kernels down, and each kernel ends itself when it sees its server gone
        # (ipykernel's ParentPollerUnix looks once a second). What ends within SETTLE_S ended by
        # itself; what is still there after it was left running.
        stopped = time.monotonic()
        uids = [user.uid for user in made]
        while time.monotonic() - stopped < SETTLE_S and (
            marked_processes() or any(processes_of(uid) for uid in uids)
        ):
            time.sleep(0.2)
        if run is not None:
            run.figures["settle_s"] = round(time.monotonic() - stopped, 2)
        left.extend(marked_processes())
        for pid, _ in marked_processes():
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                pass
        for user in made:
            left.extend(remove_user(user))
        if run is not None:
            run.figures["left_over_processes"] = len(left)
            run.figures["left_over"] = left  # type: ignore[assignment]
        subprocess.run(["rm", "-rf", str(base)], check=False)


def nbgrader(run: ClassRun, user: UnixUser, *args: str, cwd: Path) -> str:
    """``nbgrader ARGS`` as ``user`` (their own HOME), with the exchange of this run."""
    exchange = run.hub.base / "exchange"
    done = subprocess.run(
        [
            "runuser",
            "-u",
            user.name,
            "--",
            "env",
            f"HOME={user.home}",
            f"PYTHONPATH={run.hub.base / 'nbgrader-lib'}",
            f"PATH={run.hub.python.parent}:/usr/bin:/bin",
            str(run.hub.python),
            "-m",
            "nbgrader",
            *args,
            f"--course={COURSE_ID}",
            f"--Exchange.root={exchange}",
        ],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = f"$ nbgrader {' '.join(args)}  (as {user.name})\n{done.stdout}{done.stderr}"
    run.nbgrader_log.append(output)
    assert done.returncode == 0, output
    return output


def each_student(run: ClassRun, command: str) -> None:
    """``nbgrader COMMAND lab01`` by every student at once, each in their home (as a class does)."""
    with ThreadPoolExecutor(max_workers=len(run.students)) as pool:
        list(
            pool.map(
                lambda user: nbgrader(run, user, command, ASSIGNMENT, cwd=user.home),
                run.students.values(),
            )
        )


def release_and_fetch(run: ClassRun) -> None:
    """The instructor releases the lab through nbgrader's exchange; each student fetches it."""
    if not (NBGRADER_LIB / "nbgrader").is_dir():
        raise RuntimeError(
            f"{NBGRADER_LIB} is missing: `make nbgrader-lib` installs nbgrader there"
        )
    link_tree(NBGRADER_LIB, run.hub.base / "nbgrader-lib")  # where the students can read it
    exchange = run.hub.base / "exchange"
    exchange.mkdir()
    exchange.chmod(0o777)  # nbgrader's exchange: every account writes into it
    course = run.hub.base / "nbgrader-course"
    release = course / "release" / ASSIGNMENT
    release.mkdir(parents=True)
    shutil.copy(ROOT / "notebooks" / "01-tags.ipynb", release / "01-tags.ipynb")
    subprocess.run(["chown", "-R", f"{run.instructor.name}:", str(course)], check=True)
    run.nbgrader_course = course
    started = time.monotonic()
    nbgrader(run, run.instructor, "release_assignment", ASSIGNMENT, cwd=course)
    each_student(run, "fetch_assignment")
    run.figures["nbgrader_release_and_fetch_s"] = time.monotonic() - started


def submit_and_collect(run: ClassRun) -> None:
    """Each student submits through the exchange; the instructor collects; labkit grades
    nbgrader's course folder as it is."""
    assert run.nbgrader_course is not None
    started = time.monotonic()
    each_student(run, "submit")
    nbgrader(run, run.instructor, "collect", ASSIGNMENT, cwd=run.nbgrader_course)
    run.figures["nbgrader_submit_and_collect_s"] = time.monotonic() - started
    out = run.hub.base / "nbgrader-grades"
    roster = out / "roster.csv"
    out.mkdir()
    roster.write_text("student\n" + "".join(f"{u.name}\n" for u in run.students.values()))
    graded = labkit_cli(
        "grade",
        str(run.nbgrader_course),
        "--roster",
        str(roster),
        "--lab",
        LAB,
        "-o",
        str(out / "grades.csv"),
        "--no-progress",
        cwd=out,
    )
    assert graded.returncode == 0, graded.stdout + graded.stderr
    with (out / "grades.csv").open(newline="", encoding="utf-8") as handle:
        run.nbgrader_grades = list(csv.DictReader(handle))


def students_work(run: ClassRun, browser: Any) -> None:
    """Each student logs in, runs the lab, answers per PLAN, runs the submission cell, saves."""
    for role, user in run.students.items():
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.set_default_timeout(BROWSER_TIMEOUT_MS)
        started = time.monotonic()
        page = login_and_open(context, run.hub, user, NOTEBOOK)
        run.pages[role] = page
        run.figures[f"server_ready_s.{role}"] = time.monotonic() - started
        try:
            started = time.monotonic()
            run_all(page)
            run.figures[f"lab_run_s.{role}"] = time.monotonic() - started
            header = page.cell(page.cell_index("setup")).locator(".jp-OutputArea").inner_text()
            run.headers[role] = " ".join(header.split())
            started = time.monotonic()
            for exercise_id, right in PLAN[role]:
                answer(page, run.lab, user.name, exercise_id, right)
            page.run_cell(page.cell_index("submission"))
            page.save()
            run.figures[f"answer_and_save_s.{role}"] = time.monotonic() - started
            # memory of what the student runs: their server, and the lab's kernel
            mine = processes_of(user.uid)
            kernels = [pid for pid, cmd in mine if "ipykernel_launcher" in cmd]
            run.figures[f"kernel_mb.{role}"] = max((rss_mb(pid) for pid in kernels), default=0)
            run.figures[f"server_and_kernels_mb.{role}"] = sum(rss_mb(pid) for pid, _ in mine)
        except Exception as error:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.page.screenshot(path=SCREENSHOTS / f"hub-failed-{role}.png")
            dialogs = page.page.locator(".jp-Dialog").all_inner_texts()
            raise AssertionError(f"{role} in the browser: {error}\ndialogs: {dialogs}") from None


def collect_and_grade(run: ClassRun) -> None:
    out = run.hub.base / "instructor"
    out.mkdir()
    started = time.monotonic()
    collected = labkit_cli(
        "collect",
        "--hub",
        run.hub.url,
        "--token-file",
        str(run.hub.course / "collect.token"),
        "-o",
        str(out / "class"),
        "--folder",
        ASSIGNMENT,
        cwd=out,
    )
    run.figures["collect_s"] = time.monotonic() - started
    run.collect_output = collected.stdout + collected.stderr
    assert collected.returncode == 0, run.collect_output
    run.collected = out / "class"
    started = time.monotonic()
    graded = labkit_cli(
        "grade",
        str(out / "class"),
        "--roster",
        str(out / "class" / "roster.csv"),
        "--lab",
        LAB,
        "-o",
        str(out / "grades" / "grades.csv"),
        "--no-progress",
        cwd=out,
    )
    run.figures["grade_s"] = time.monotonic() - started
    run.grade_output = graded.stdout + graded.stderr
    assert graded.returncode == 0, run.grade_output
    with (out / "grades" / "grades.csv").open(newline="", encoding="utf-8") as handle:
        run.grades = list(csv.DictReader(handle))


def probe_other_home(browser_page: NotebookPage, other: UnixUser) -> str:
    """In the student's own kernel (a cell run in their JupyterLab), try to read the other
    student's labkit-answers/; returns what the cell printed."""
    target = other.home / ASSIGNMENT / "labkit-answers"
    code = (
        "import os\n"
        "try:\n"
        f"    print('LISTED', os.listdir({str(target)!r}))\n"
        "except OSError as error:\n"
        "    print('REFUSED', type(error).__name__, os.getuid())\n"
    )
    page = browser_page
    index = page.cell_index("submission")
    cell = page.cell(index)
    cell.locator(".jp-InputPrompt").click()
    page.page.keyboard.press("b")  # a new code cell below, in command mode
    new = page.cell(index + 1)
    new.locator(".cm-content").click()
    page.page.keyboard.insert_text(code)
    page.page.keyboard.press("Shift+Enter")
    output = new.locator(".jp-OutputArea-output")
    output.first.wait_for()
    return output.first.inner_text()


def processes_left(run: ClassRun) -> list[tuple[int, str]]:
    left = marked_processes()
    for user in (*run.students.values(), run.instructor):
        left.extend(processes_of(user.uid))
    return left


def shell_probe(user: UnixUser, other: UnixUser) -> str:
    done = run_as(user, ["ls", str(other.home / ASSIGNMENT / "labkit-answers")])
    return done.stderr
