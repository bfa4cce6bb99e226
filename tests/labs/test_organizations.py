"""Lab 05 (organizations and teams): definition, solutions, typical mistakes, notebook."""

from __future__ import annotations

import json

import pytest
from lab_support import (
    ROOT,
    StandIn,
    load_solution,
    solution_scores_full_marks,
)

from labkit.accounts import Action, Principal
from labkit.exercises import check_answer
from labkit.grading import grade_record, lint_lab
from labkit.labs import get_lab

LAB_ID = "05-organizations-and-teams"
NOTEBOOK = ROOT / "notebooks" / f"{LAB_ID}.ipynb"
STUDENTS = ("ada.lovelace", "s2049117")
ACME = "registry.acme.com"


@pytest.fixture(scope="module")
def lab():
    return get_lab(LAB_ID)


def test_lint_clean(lab):
    assert lint_lab(lab) == []


def test_shape_of_the_lab(lab):
    kinds = {exercise.kind for exercise in lab.exercises}
    assert len(lab.exercises) >= 6
    assert len(kinds) >= 3 and "task" in kinds
    for exercise in lab.exercises:
        assert len(exercise.mistakes) >= 2, exercise.id
        assert exercise.hints and all(h.after_tries >= 1 for h in exercise.hints), exercise.id
        assert exercise.concepts, exercise.id


def test_variants_differ_between_students(lab):
    first, second = (lab.params_for(s) for s in STUDENTS)
    assert first["org"] != second["org"] or first["members"] != second["members"]


def test_setup_makes_the_student_owner_with_private_repositories(lab):
    student = STUDENTS[0]
    params = lab.params_for(student)
    world = lab.new_world(student)
    registry = world.registry(ACME)
    org = registry.accounts.orgs[params["org"]]
    assert org.members[params["docker_id"]].value == "owner"
    assert set(org.teams) == {"developers", "qa", "operations", "interns"}
    for repo in (params["web"], params["api"], params["secret"]):
        assert registry.repository(f"{params['org']}/{repo}").private
    intern = Principal(params["members"]["interns"])
    assert registry.decide(intern, Action.PULL, f"{params['org']}/{params['secret']}")
    assert not registry.decide(Principal(), Action.PULL, f"{params['org']}/{params['web']}")


@pytest.mark.parametrize("student", STUDENTS)
def test_solution_scores_full_marks(lab, student):
    session = StandIn(lab, student)
    load_solution("organizations").solve_organizations(session)
    assert all(f.status == "correct" for f in session.feedback.values()), session.feedback
    record = json.loads(json.dumps(session.record().to_json()))
    result = grade_record(record, student, lab)
    assert result.statuses == ()
    assert result.score == lab.max_points, [
        (e.exercise_id, e.status, e.mistakes) for e in result.exercises
    ]
    assert all(h.passed for e in result.exercises for h in e.hidden)


def _mistakes_after(lab, student, exercise_id, act):
    session = StandIn(lab, student)
    act(session)
    feedback = session.check(exercise_id)
    result = grade_record(session.record().to_json(), student, lab)
    assert result.exercise(exercise_id).mistakes == feedback.mistakes
    return feedback.mistakes


def _hub(session):
    return session.world.hub(session.params["docker_id"], ACME)


@pytest.mark.parametrize("student", STUDENTS)
def test_task_mistakes_are_named(lab, student):
    def qa_write(s):
        _hub(s).grant(s.params["org"], "qa", s.params["web"], "write")

    def qa_wrong_team(s):
        _hub(s).grant(s.params["org"], "interns", s.params["web"], "write")

    def qa_public(s):
        _hub(s).grant(s.params["org"], "qa", s.params["web"], "read")
        _hub(s).set_visibility(f"{s.params['org']}/{s.params['web']}", False)

    def dev_admin(s):
        _hub(s).grant(s.params["org"], "developers", s.params["api"], "admin")

    def dev_read(s):
        _hub(s).grant(s.params["org"], "developers", s.params["api"], "read")

    def interns_member_only(s):
        p = s.params
        _hub(s).remove_team_member(p["org"], "interns", p["members"]["interns"])

    def editor(s):
        p = s.params
        _hub(s).set_role(p["org"], p["members"]["operations"], "editor")

    def nothing(s):
        return None

    assert _mistakes_after(lab, student, "qa-pull-not-push", qa_write) == ("team-can-push",)
    assert _mistakes_after(lab, student, "qa-pull-not-push", qa_wrong_team) == ("wrong-team",)
    assert _mistakes_after(lab, student, "qa-pull-not-push", nothing) == ("no-team-access",)
    assert _mistakes_after(lab, student, "qa-pull-not-push", qa_public) == ("repo-public",)
    assert _mistakes_after(lab, student, "developers-push", dev_admin) == ("too-much-access",)
    assert _mistakes_after(lab, student, "developers-push", dev_read) == ("team-read-only",)
    assert _mistakes_after(lab, student, "interns-see-nothing", nothing) == ("team-still-reads",)
    assert _mistakes_after(lab, student, "interns-see-nothing", interns_member_only) == (
        "removed-member-only",
    )
    assert _mistakes_after(lab, student, "second-owner", editor) == ("editor-not-owner",)


@pytest.mark.parametrize("student", STUDENTS)
def test_answer_mistakes_are_named(lab, student):
    def feedback(exercise_id, raw):
        exercise = lab.exercise(exercise_id)
        return check_answer(exercise, lab.variant(exercise, student), raw)

    levels = ("Read-only", "Read & Write", "Admin")
    variant = lab.variant("smallest-level", student)
    key = levels.index(variant.answer) if variant.answer in levels else None
    assert key is not None
    if key > 0:
        assert feedback("smallest-level", levels[key - 1]).mistakes == ("too-little-access",)
    assert feedback("smallest-level", "Only an owner of the organization").mistakes == (
        "too-much-access",
    )
    who = lab.variant("who-can", student)
    assert feedback("who-can", [t for t in who.answer if t != "operations"]).mistakes[0] == (
        "missing-admin-team"
    )
    assert "included-read-only" in feedback("who-can", ["developers", "qa"]).mistakes or (
        who.params["action"] == "pull from"
    )
    assert feedback("who-can", "developers").status == "format-error"
    assert feedback("who-manages-teams", "an editor of the organization").mistakes == (
        "editor-not-owner",
    )
    assert feedback(
        "who-manages-teams", "a member of a team with Admin on every repository"
    ).mistakes == ("admin-is-per-repo",)
    denied = lab.variant("predict-denied-pull", student)
    pulled = next(c for c in denied.params["choices"] if "Pulling from" in c)
    assert feedback("predict-denied-pull", pulled).mistakes == ("repo-private",)


def test_hints_unlock_after_tries(lab):
    exercise = lab.exercise("smallest-level")
    variant = lab.variant(exercise, STUDENTS[0])
    wrong = "Only an owner of the organization"
    first = check_answer(exercise, variant, wrong, tries_used=0)
    assert len(first.hints) == 1
    second = check_answer(exercise, variant, wrong, tries_used=1)
    assert len(second.hints) == 2


# -- the notebook ---------------------------------------------------------------------------------


@pytest.mark.notebook
def test_notebook_runs_and_solution_grades_full(walked, lab):
    solution_scores_full_marks(lab, walked(lab.id))


def test_the_notebook_teaches_organizations_on_docker_hub_first(lab):
    nb = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    code = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
    on_hub = next(i for i, cell in enumerate(code) if "hub.create_org(org)" in cell)
    on_acme = next(i for i, cell in enumerate(code) if '"registry.acme.com")' in cell)
    assert on_hub < on_acme
    assert "lab.hub" in code[on_hub] and 'registry="docker.io"' in code[on_hub]
    world = lab.new_world("hub-first")
    params = lab.params_for("hub-first")
    assert params["docker_id"] in world.registry("docker.io").accounts.users
