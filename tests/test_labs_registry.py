"""The lab registry: built-in labs, course labs from LABKIT_LABS, and the lab-level variant."""

from __future__ import annotations

import re

import pytest

from labkit.errors import LabkitError
from labkit.labs import Lab, find_labs, get_lab, lab_password, student_docker_id

COURSE_LAB = """
from labkit.exercises import Exercise, Kind
from labkit.labs import Lab

LAB = Lab(
    id="course-intro",
    title="A course's own lab",
    exercises=(
        Exercise("q", "Q", "Say {word}", Kind.SHORT_ANSWER, lambda rng, w: ({"word": "hi"}, "hi")),
    ),
)
"""


def test_builtin_labs_include_the_demo(monkeypatch):
    monkeypatch.delenv("LABKIT_LABS", raising=False)
    labs = find_labs()
    assert "demo" in labs and isinstance(labs["demo"], Lab)
    assert get_lab("demo").title.startswith("Demo")


def test_course_labs_come_from_the_labkit_labs_folder(monkeypatch, tmp_path):
    (tmp_path / "intro.py").write_text(COURSE_LAB)
    (tmp_path / "_helpers.py").write_text("raise SystemExit('never imported')")
    monkeypatch.setenv("LABKIT_LABS", str(tmp_path))
    lab = get_lab("course-intro")
    assert lab.exercise("q").kind == "short-answer"
    assert "demo" in find_labs()


def test_unknown_lab_and_bad_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("LABKIT_LABS", raising=False)
    with pytest.raises(LabkitError, match=r"known labs: .*demo"):
        get_lab("nope")
    monkeypatch.setenv("LABKIT_LABS", str(tmp_path / "missing"))
    with pytest.raises(LabkitError, match="not a folder"):
        find_labs()


def test_a_broken_course_lab_is_reported(monkeypatch, tmp_path):
    (tmp_path / "broken.py").write_text("raise RuntimeError('boom')")
    monkeypatch.setenv("LABKIT_LABS", str(tmp_path))
    with pytest.raises(LabkitError, match=r"cannot load lab .*broken\.py"):
        find_labs()


def test_student_accounts_are_stable_and_valid():
    docker_id = student_docker_id("alice")
    assert re.fullmatch(r"stu\d{6}", docker_id) and docker_id == student_docker_id("alice")
    assert student_docker_id("bob") != docker_id
    assert len(lab_password("alice")) >= 9 and lab_password("alice") == lab_password("alice")


def test_world_for_replays_the_setup_and_the_students_events():
    lab = get_lab("demo")
    params = lab.params_for("alice")
    world = lab.new_world("alice")
    world.hub(params["docker_id"]).set_visibility(f"{params['org']}/{params['app']}", False)
    events = lab.student_events(world, "alice")
    assert [e["action"] for e in events] == ["set_visibility"]
    rebuilt = lab.world_for("alice", events)
    assert rebuilt.snapshot()["registries"] == world.snapshot()["registries"]


def test_fingerprint_is_short_and_depends_on_the_lab_version():
    lab = get_lab("demo")
    fingerprint = lab.fingerprint("alice")
    assert re.fullmatch(r"[0-9a-f]{12}", fingerprint)
    bumped = Lab(**{**lab.__dict__, "version": "2"})
    assert bumped.fingerprint("alice") != fingerprint


def test_labkit_lint_command(capsys, monkeypatch):
    from labkit.cli import main

    monkeypatch.delenv("LABKIT_LABS", raising=False)
    assert main(["lint", "demo"]) == 0
    assert capsys.readouterr().out == "demo: ok\n"
    assert main(["lint", "nope"]) == 1
    assert "no lab 'nope'" in capsys.readouterr().out
