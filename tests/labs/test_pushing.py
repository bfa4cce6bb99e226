"""04-pushing: the definition lints clean, the solution scores full marks for two
students (model level and in the executed notebook), and typical wrong answers get their own
mistake codes."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
from lab_support import (
    StandIn,
    load_solution,
    solution_scores_full_marks,
)

from labkit.grading import grade_record, lint_lab
from labkit.labs.pushing import LAB, pushed_manifest

NOTEBOOK = "04-pushing.ipynb"
STUDENTS = ("ada-lovelace", "student-0042")


def test_lint_clean():
    assert lint_lab(LAB) == []


def test_at_least_six_exercises_of_several_kinds_with_two_mistakes_each():
    assert len(LAB.exercises) >= 6
    assert len({e.kind for e in LAB.exercises}) >= 4
    for exercise in LAB.exercises:
        assert len(exercise.mistakes) >= 2, exercise.id
        assert exercise.hints, exercise.id


def test_variants_differ_between_students():
    assert LAB.params_for(STUDENTS[0]) != LAB.params_for(STUDENTS[1])


def test_setup_creates_the_student_and_the_classmate():
    params = LAB.params_for(STUDENTS[0])
    world = LAB.new_world(STUDENTS[0])
    users = world.registry("docker.io").accounts.users
    assert params["docker_id"] in users and params["classmate"] in users


@pytest.mark.parametrize("student", STUDENTS)
def test_solution_scores_full_marks(student):
    lab = StandIn(LAB, student)
    load_solution("pushing").solve_pushing(lab)
    result = grade_record(json.loads(json.dumps(lab.record().to_json())), student, LAB)
    assert result.statuses == ()
    assert [
        (e.exercise_id, e.status, e.feedback) for e in result.exercises if e.status != "correct"
    ] == []
    assert result.score == LAB.max_points


def test_the_record_holds_no_password():
    lab = StandIn(LAB, STUDENTS[0])
    load_solution("pushing").solve_pushing(lab)
    text = json.dumps(lab.record().to_json())
    assert lab.params["password"] not in text
    assert lab.params["classmate_password"] not in text


def test_push_output_and_digest_are_honest():
    lab = StandIn(LAB, STUDENTS[1])
    p = lab.params
    lab.client.run(f"docker login -u {p['docker_id']} --password-stdin", p["password"])
    lab.client.run(f"docker pull {p['source']}")
    lab.client.run(f"docker tag {p['source']} {p['target']}")
    first = lab.client.run(f"docker push {p['target']}").stdout.splitlines()
    second = lab.client.run(f"docker push {p['target']}").stdout.splitlines()
    assert first[1].endswith(f"Mounted from library/{p['base']}")
    assert second[1].endswith("Layer already exists")
    data = pushed_manifest(lab.client, p["target"])
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    assert first[-1] == f"{p['version']}: digest: {digest} size: {len(data)}"
    assert LAB.variant("manifest-digest", STUDENTS[1]).answer == {
        "digest": digest,
        "size": len(data),
    }


def _grade_one(exercise_id: str, raw, student: str = STUDENTS[0], act=None):
    lab = StandIn(LAB, student)
    if act is not None:
        act(lab)
    lab.submit(exercise_id, raw)
    return grade_record(lab.record().to_json(), student, LAB).exercise(exercise_id)


def _login(lab, flag: str = "--password-stdin") -> None:
    p = lab.params
    if flag == "-p":
        lab.client.run(f"docker login -u {p['docker_id']} -p {p['password']}")
    else:
        lab.client.run(f"docker login -u {p['docker_id']} --password-stdin", p["password"])


def _push(lab, target: str, login: bool = True) -> None:
    if login:
        _login(lab)
    lab.client.run(f"docker pull {lab.params['source']}")
    lab.client.run(f"docker tag {lab.params['source']} {target}")
    lab.client.run(f"docker push {target}")


@pytest.mark.parametrize("student", STUDENTS)
def test_tasks_name_the_mistake(student):
    def grade(exercise_id, act):
        return _grade_one(exercise_id, None, student, act).mistakes

    assert grade("login-stdin", lambda lab: _login(lab, "-p")) == ("password-on-command-line",)
    assert grade("login-stdin", lambda lab: None) == ("not-logged-in",)
    assert grade("share-with-classmate", lambda lab: _push(lab, lab.params["target"], False)) == (
        "not-logged-in",
    )

    def foreign(lab):
        _push(lab, f"{lab.params['classmate']}/{lab.params['app']}:{lab.params['version']}")

    assert grade("share-with-classmate", foreign) == ("foreign-namespace",)

    def private(lab):
        _push(lab, lab.params["target"])
        lab.hub.set_visibility(lab.params["target"].split(":")[0], True)

    assert grade("share-with-classmate", private) == ("repo-private",)
    assert grade("make-private", lambda lab: _push(lab, lab.params["secret_target"])) == (
        "repo-public",
    )


def test_the_classmate_is_denied_with_hubs_text_once_private():
    lab = StandIn(LAB, STUDENTS[0])
    p = lab.params
    _push(lab, p["secret_target"])
    mate = lab.world.client("classmate")
    mate.run(f"docker login -u {p['classmate']} --password-stdin", p["classmate_password"])
    assert mate.run(f"docker pull {p['secret_target']}").exit_code == 0
    lab.hub.set_visibility(p["secret"], True)
    mate.run(f"docker rmi {p['secret_target']}")
    seen = mate.run(f"docker pull {p['secret_target']}")
    assert seen.exit_code == 1
    assert LAB.variant("private-pull-error", STUDENTS[0]).answer in seen.output


@pytest.mark.parametrize(
    ("exercise_id", "raw", "mistake"),
    [
        ("tag-for-account", lambda p: p["local"], "missing-namespace"),
        ("tag-for-account", lambda p: f"{p['classmate']}/{p['local']}", "wrong-namespace"),
        ("config-json", lambda p: p["auth"], "not-decoded"),
        (
            "config-json",
            lambda p: base64.b64decode(p["auth"]).decode(),
            "included-username",
        ),
        (
            "manifest-digest",
            lambda p: {"digest": p["config_digest"], "size": 1},
            "hashed-config",
        ),
        ("second-push", lambda p: "Pushed", "re-upload"),
        (
            "private-pull-error",
            lambda p: next(c for c in p["choices"] if "is private" in c),
            "private-revealed",
        ),
    ],
)
def test_typical_wrong_answers_get_their_mistake(exercise_id, raw, mistake):
    for student in STUDENTS:
        params = LAB.variant(exercise_id, student).params
        result = _grade_one(exercise_id, raw(params), student)
        assert result.status in ("wrong", "partial")
        assert mistake in result.mistakes


# -- notebook level ------------------------------------------------------------------------------


@pytest.mark.notebook
def test_notebook_runs_and_the_injected_solution_scores_full_marks(walked):
    solution_scores_full_marks(LAB, walked(LAB.id))
