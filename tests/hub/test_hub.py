"""labkit on a real JupyterHub (deploy/jupyterhub/) with configurable-http-proxy, on loopback.

Two students, each a real Unix user with a home only they can read, log in through the hub's
login page in headless Chromium, run 01-tags in their own JupyterLab and answer exercises in its
widgets; the instructor collects with ``labkit collect --hub`` (a service token that may only
read) and grades with ``labkit grade``. Needs root (users are created and removed) and
``make node_modules`` (configurable-http-proxy from npm).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator

import pytest

from hub.classroom import (
    ASSIGNMENT,
    LAB,
    PLAN,
    ClassRun,
    browser_session,
    class_on_hub,
    collect_and_grade,
    probe_other_home,
    release_and_fetch,
    shell_probe,
    students_work,
    submit_and_collect,
)
from hub.hubrun import ROOT, http

pytestmark = [pytest.mark.hub, pytest.mark.timeout(480)]

FIGURES = ROOT / "test-artifacts" / "hub-figures.json"


@pytest.fixture(scope="module")
def run() -> Iterator[ClassRun]:
    if os.getuid() != 0:
        pytest.fail("the hub test creates Unix users: run it as root (CI does)", pytrace=False)
    with class_on_hub() as run, browser_session() as browser:
        release_and_fetch(run)
        students_work(run, browser)
        collect_and_grade(run)
        submit_and_collect(run)
        run.figures["probe"] = probe_other_home(  # type: ignore[assignment]
            run.pages["ann"], run.students["bob"]
        )
        for page in run.pages.values():
            page.close()
        yield run
    FIGURES.parent.mkdir(parents=True, exist_ok=True)
    FIGURES.write_text(json.dumps(run.figures, indent=2, default=str))
    # after the hub stopped and the users were removed: nothing of the run may be left
    if run.figures["left_over_processes"]:
        listing = "\n".join(f"  {pid}: {cmd[:160]}" for pid, cmd in run.figures["left_over"])
        pytest.fail(f"processes of the hub run were left running (now killed):\n{listing}")


def test_homes_are_private(run: ClassRun) -> None:
    for user in run.students.values():
        assert user.home.stat().st_mode & 0o077 == 0, f"{user.home} is readable by others"
        assert user.home.stat().st_uid == user.uid


def test_the_labs_were_copied_at_spawn_and_variants_follow_the_hub_user(run: ClassRun) -> None:
    for role, user in run.students.items():
        labs = user.home / "labs"
        assert (labs / "00-start-here.ipynb").is_file()
        assert (labs / "01-tags.ipynb").stat().st_uid == user.uid  # copied as the student
        work = user.home / ASSIGNMENT  # fetched from nbgrader's exchange, worked on
        record = json.loads((work / "labkit-answers" / f"{LAB}.json").read_text())
        assert record["student"] == user.name, role
        assert f"variant for: {user.name} (from JUPYTERHUB_USER)" in run.headers[role]


def test_a_students_kernel_cannot_read_the_other_students_answers(run: ClassRun) -> None:
    probe = str(run.figures["probe"])
    assert probe.startswith("REFUSED PermissionError"), probe
    assert probe.split()[-1] == str(run.students["ann"].uid)  # the kernel runs as ann
    assert "Permission denied" in shell_probe(run.students["bob"], run.students["ann"])


def test_a_student_cannot_reach_the_other_students_server(run: ClassRun) -> None:
    page = run.pages["ann"].page
    other = run.students["bob"].name
    response = page.context.request.get(
        f"{run.hub.url}/user/{other}/api/contents/labs", max_redirects=0
    )
    assert response.status in (302, 403), response.status
    if response.status == 302:  # the hub sends ann to the OAuth page, which refuses her
        response = page.context.request.get(f"{run.hub.url}/user/{other}/api/contents/labs")
        assert response.status == 403 or b"labkit-answers" not in response.body()


def test_the_collecting_token_can_read_but_not_start_stop_or_enter(run: ClassRun) -> None:
    hub, ann = run.hub, run.students["ann"].name
    server = f"{hub.url}/user/{ann}"
    status, listing = http("GET", f"{server}/api/contents/{ASSIGNMENT}", hub.token)
    assert status == 200 and any(e["name"] == "labkit-answers" for e in listing["content"])
    refused = {
        "start the server": hub.api("POST", f"users/{ann}/server"),
        "stop the server": hub.api("DELETE", f"users/{ann}/server"),
        "start a kernel": http("POST", f"{server}/api/kernels", hub.token, {}),
        "open a terminal": http("POST", f"{server}/api/terminals", hub.token, {}),
        "write a file": http(
            "PUT",
            f"{server}/api/contents/labs/x.txt",
            hub.token,
            {"type": "file", "format": "text", "content": "x"},
        ),
        "delete a notebook": http("DELETE", f"{server}/api/contents/labs/01-tags.ipynb", hub.token),
        "make a token": hub.api("POST", f"users/{ann}/tokens", body={}),
    }
    allowed = {what: status for what, (status, _) in refused.items() if status != 403}
    assert not allowed, f"the collecting token was not refused: {allowed}"
    assert (run.students["ann"].home / "labs" / "01-tags.ipynb").exists()


def test_collect_takes_the_students_only(run: ClassRun) -> None:
    assert run.collected is not None
    names = {u.name for u in run.students.values()}
    folders = {p.name for p in run.collected.iterdir() if p.is_dir()}
    assert folders == names, run.collect_output
    roster = (run.collected / "roster.csv").read_text().split()
    assert roster == ["student", *sorted(names)]
    assert f"left out {run.instructor.name} (in the group 'instructors')" in run.collect_output
    for user in run.students.values():
        assert (run.collected / user.name / "01-tags.ipynb").is_file()
        assert (run.collected / user.name / "labkit-answers" / f"{LAB}.json").is_file()


def test_the_grades(run: ClassRun) -> None:
    lab = run.lab
    rows = {(r["student"], r["exercise"]): r for r in run.grades if r["lab"] == LAB}
    for role, user in run.students.items():
        expected = 0.0
        for exercise_id, right in PLAN[role]:
            row = rows[(user.name, exercise_id)]
            points = lab.exercise(exercise_id).points
            assert row["status"] == ("correct" if right else "wrong"), row
            assert float(row["score"]) == pytest.approx(points if right else 0.0), row
            expected += points if right else 0.0
        total = rows[(user.name, "(total)")]
        assert total["status"] == "ok", total
        assert float(total["score"]) == pytest.approx(expected), (role, total)
    assert not any(r["student"] == run.instructor.name for r in run.grades)


def test_nbgraders_exchange_end_to_end(run: ClassRun) -> None:
    """Released, fetched and submitted through nbgrader's exchange, collected by nbgrader, graded
    by labkit from nbgrader's course folder: the same grades as collected through the hub."""
    assert run.nbgrader_course is not None
    log = "\n".join(run.nbgrader_log)
    for user in run.students.values():
        submitted = run.nbgrader_course / "submitted" / user.name / ASSIGNMENT
        assert (submitted / "01-tags.ipynb").is_file(), log
        assert (submitted / "labkit-answers" / f"{LAB}.json").is_file(), log
    assert "cheating attempt" not in log  # each submission is owned by its student

    def scores(rows: list[dict[str, str]]) -> dict[tuple[str, str], tuple[str, str]]:
        return {(r["student"], r["exercise"]): (r["score"], r["status"]) for r in rows}

    assert scores(run.nbgrader_grades) == scores(run.grades)


def test_figures_are_within_budget(run: ClassRun) -> None:
    figures = run.figures
    assert figures["hub_start_s"] < 30
    for role in PLAN:
        assert figures[f"server_ready_s.{role}"] < 60
    assert figures["collect_s"] < 30 and figures["grade_s"] < 30


def test_nothing_is_left_running(run: ClassRun) -> None:
    # checked again after teardown by the module's finalizer below; here: during the run the
    # students' servers run as the students themselves
    from hub.hubrun import processes_of

    for user in run.students.values():
        commands = [cmd for _, cmd in processes_of(user.uid)]
        assert any("jupyterhub.singleuser" in cmd for cmd in commands), commands
    assert not processes_of(run.instructor.uid)
