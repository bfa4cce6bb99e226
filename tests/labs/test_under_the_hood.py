"""07-under-the-hood: the definition lints clean, the solution scores full marks for two
students (model level and in the executed notebook), typical wrong answers get their own
mistake codes, the by-hand push really works over HTTP, and the notebook leaves no server
running."""

from __future__ import annotations

import hashlib
import json
import threading

import pytest
from lab_support import (
    ROOT,
    StandIn,
    load_solution,
    solution_scores_full_marks,
    stderr_outputs,
    tags_of,
)

from labkit.grading import grade_record, lint_lab
from labkit.labs.under_the_hood import LAB, hand_image, practice_world

NOTEBOOK = "07-under-the-hood.ipynb"
STUDENTS = ("ada-lovelace", "student-0042")
# What `docker login` prints on stderr on success (the only stderr the notebook may show).
LOGIN_WARNING = "WARNING! Your credentials are stored unencrypted"


def _server_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("labkit-serve")]


# Run in the kernel after the whole notebook, before the solution: no server left running.


def test_lint_clean():
    assert lint_lab(LAB) == []


def test_at_least_six_exercises_of_several_kinds_with_two_mistakes_each():
    assert len(LAB.exercises) >= 6
    assert len({e.kind for e in LAB.exercises}) >= 4
    for exercise in LAB.exercises:
        assert len(exercise.mistakes) >= 2, exercise.id
        assert exercise.hints, exercise.id


def test_variants_differ_between_students():
    first, second = (LAB.params_for(s) for s in STUDENTS)
    assert first != second
    assert hand_image(first).manifest_digest != hand_image(second).manifest_digest


def test_the_hand_image_is_the_same_on_every_run():
    params = LAB.params_for(STUDENTS[0])
    image = hand_image(params)
    assert image.layers[0].digest == "sha256:" + hashlib.sha256(image.layers[0].blob).hexdigest()
    assert LAB.variant("manifest-put", STUDENTS[0]).answer == {
        "status": 201,
        "digest": "sha256:" + hashlib.sha256(image.manifest).hexdigest(),
    }


def test_setup_signs_the_student_up():
    params = LAB.params_for(STUDENTS[0])
    for world in (LAB.new_world(STUDENTS[0]), practice_world(params)):
        assert params["docker_id"] in world.registry("docker.io").accounts.users


@pytest.mark.parametrize("student", STUDENTS)
def test_solution_scores_full_marks(student):
    lab = StandIn(LAB, student)
    load_solution("under_the_hood").solve_under_the_hood(lab)
    result = grade_record(json.loads(json.dumps(lab.record().to_json())), student, LAB)
    assert result.statuses == ()
    assert [
        (e.exercise_id, e.status, e.feedback) for e in result.exercises if e.status != "correct"
    ] == []
    assert result.score == LAB.max_points
    assert _server_threads() == []


def test_the_record_holds_no_password():
    lab = StandIn(LAB, STUDENTS[0])
    load_solution("under_the_hood").solve_under_the_hood(lab)
    assert lab.params["password"] not in json.dumps(lab.record().to_json())


def test_the_record_replays_to_its_own_outcomes():
    """What ``labkit grade`` checks to call a log forged: the solution's log is not."""
    from labkit.grading.grade import _replay_mismatches

    lab = StandIn(LAB, STUDENTS[1])
    load_solution("under_the_hood").solve_under_the_hood(lab)
    events = [json.loads(json.dumps(e)) for e in lab.record().events]
    assert _replay_mismatches(LAB, STUDENTS[1], events) == []


def test_why_the_by_hand_push_uses_a_practice_world():
    """An HTTP push into the lab's own world adds no event, so a pull of it that follows
    cannot be replayed: the grader would call that record forged."""
    from labkit.grading.grade import _replay_mismatches
    from labkit.server import serve_in_background

    params = LAB.params_for(STUDENTS[0])
    world = LAB.new_world(STUDENTS[0])
    image = hand_image(params)
    registry = world.registry("docker.io")
    handle = serve_in_background(world)
    try:
        from labkit.accounts import Principal

        with handle.lock:  # the registry's own operations, as the server performs them
            me = Principal(params["docker_id"])
            for digest, blob in image.blobs.items():
                upload = registry.start_upload(me, params["hand_repository"])
                registry.finish_upload(upload, digest, blob)
            registry.put_manifest(me, params["hand_repository"], params["hand_tag"], image.manifest)
            pulled = world.client("student").run(f"docker pull {params['hand_target']}")
    finally:
        handle.stop()
    assert pulled.exit_code == 0
    events = LAB.student_events(world, STUDENTS[0])
    assert [e["action"] for e in events] == [f"docker pull {params['hand_target']}"]
    assert _replay_mismatches(LAB, STUDENTS[0], events) != []


def _grade_one(exercise_id: str, raw, student: str = STUDENTS[0], act=None):
    lab = StandIn(LAB, student)
    if act is not None:
        act(lab)
    lab.submit(exercise_id, raw)
    return grade_record(lab.record().to_json(), student, LAB).exercise(exercise_id)


def _push(lab, target: str, login: bool = True) -> None:
    p = lab.params
    if login:
        lab.client.run(f"docker login -u {p['docker_id']} --password-stdin", p["password"])
    lab.client.run(f"docker pull {p['source']}")
    lab.client.run(f"docker tag {p['source']} {target}")
    lab.client.run(f"docker push {target}")


@pytest.mark.parametrize("student", STUDENTS)
def test_the_task_names_the_mistake(student):
    def grade(act):
        return _grade_one("wire-push", None, student, act).mistakes

    assert grade(lambda lab: _push(lab, lab.params["target"], login=False)) == ("not-logged-in",)
    assert grade(lambda lab: None) == ("not-logged-in",)

    def login_only(lab):
        p = lab.params
        lab.client.run(f"docker login -u {p['docker_id']} --password-stdin", p["password"])

    assert grade(login_only) == ("not-pushed",)
    assert grade(lambda lab: _push(lab, f"{lab.params['repository']}:latest")) == ("wrong-tag",)


def _choice(mistake: str):
    return lambda p: next(c for c, m in p["choice_mistakes"].items() if m == mistake)


@pytest.mark.parametrize(
    ("exercise_id", "raw", "mistake"),
    [
        ("challenge-status", _choice("forbidden-without-token"), "forbidden-without-token"),
        ("challenge-status", _choice("not-found-without-token"), "not-found-without-token"),
        ("challenge-status", _choice("public-without-token"), "public-without-token"),
        ("push-scope", lambda p: f"repository:{p['repository']}:push", "scope-missing-pull"),
        (
            "push-scope",
            lambda p: f"repository:docker.io/{p['repository']}:push,pull",
            "scope-with-registry",
        ),
        ("push-scope", lambda p: f"repository:{p['target']}:pull,push", "scope-with-tag"),
        ("push-scope", lambda p: f"repository:{p['app']}:push,pull", "wrong-repository"),
        ("missing-blob-status", _choice("head-found"), "head-found"),
        ("missing-blob-status", _choice("head-starts-upload"), "head-starts-upload"),
        ("mount-status", _choice("mount-opened-upload"), "mount-opened-upload"),
        ("mount-status", _choice("mount-wrong-direction"), "mount-wrong-direction"),
        ("blob-digest", lambda p: p["diff_id"], "hashed-uncompressed"),
        ("blob-digest", lambda p: p["config_digest"], "hashed-config"),
        (
            "manifest-put",
            lambda p: {"status": 201, "digest": p["layer_digest"]},
            "layer-digest",
        ),
        (
            "manifest-put",
            lambda p: {"status": 202, "digest": p["config_digest"]},
            "wrong-status",
        ),
    ],
)
def test_typical_wrong_answers_get_their_mistake(exercise_id, raw, mistake):
    for student in STUDENTS:
        params = LAB.variant(exercise_id, student).params
        result = _grade_one(exercise_id, raw(params), student)
        assert result.status in ("wrong", "partial")
        assert mistake in result.mistakes


def test_scope_accepts_either_order_and_refuses_what_is_not_a_scope():
    student = STUDENTS[0]
    repository = LAB.params_for(student)["repository"]
    for raw in (f"repository:{repository}:push,pull", f" `repository:{repository}:pull,push` "):
        assert _grade_one("push-scope", raw, student).status == "correct"
    assert _grade_one("push-scope", repository, student).status == "format-error"


# -- notebook level ------------------------------------------------------------------------------


def test_notebook_is_stored_clean():
    nb = json.loads((ROOT / "notebooks" / NOTEBOOK).read_text())
    assert (nb["nbformat"], nb["nbformat_minor"]) == (4, 5)
    ids = [cell["id"] for cell in nb["cells"]]
    assert len(ids) == len(set(ids))
    expected = {"setup", "submission"} | {f"exercise-{e.id}" for e in LAB.exercises}
    assert expected <= tags_of(nb)
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None, cell["id"]
    assert 'labkit.start("07-under-the-hood")' in "".join(nb["cells"][1]["source"])


@pytest.mark.notebook
def test_notebook_runs_and_the_injected_solution_scores_full_marks(walked):
    """The session's walk (no labkit-serve thread left at the end: see lab_support.WALKS) grades
    to full marks, prints nothing on stderr but Docker's login warning, and its event log
    replays to its own outcomes (``labkit grade`` would not call it forged)."""
    from labkit.grading.grade import _replay_mismatches

    walk = walked(LAB.id)
    notebook = solution_scores_full_marks(LAB, walk)
    assert [
        (cell, text)
        for cell, text in stderr_outputs(notebook)
        if not text.strip().startswith(LOGIN_WARNING)
    ] == []
    events = [json.loads(json.dumps(e)) for e in walk.records[0].events]
    assert _replay_mismatches(LAB, walk.student, events) == []  # labkit grade: not forged
