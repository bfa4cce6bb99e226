"""Lab 02-image-names: the definition lints clean, the solution scores full marks for two
students (on the model and in the executed notebook), and typical wrong answers get their own
mistake."""

from __future__ import annotations

from typing import Any

import pytest
from lab_support import (
    StandIn,
    load_solution,
    solution_scores_full_marks,
    stderr_outputs,
)

from labkit.exercises import Kind
from labkit.grading import grade_record, lint_lab
from labkit.labs import get_lab
from labkit.labs.image_names import LAB

NOTEBOOK = "02-image-names.ipynb"
STUDENTS = ("grace-hopper", "s2024-0342")


def _solved(student: str) -> StandIn:
    lab = StandIn(LAB, student)
    load_solution("image_names").solve_image_names(lab)
    return lab


def _grade_answer(student: str, exercise_id: str, raw: Any, commands: tuple[str, ...] = ()):
    lab = StandIn(LAB, student)
    for line in commands:
        lab.client.run(line)
    lab.submit(exercise_id, raw)
    return grade_record(lab.record(), student, LAB).exercise(exercise_id)


# -- model level --------------------------------------------------------------------------


def test_lab_is_registered_and_lints_clean():
    assert get_lab("02-image-names") is LAB
    assert lint_lab(LAB) == []
    assert len(LAB.exercises) >= 6
    assert len({e.kind for e in LAB.exercises}) >= 4
    assert any(e.kind is Kind.TASK for e in LAB.exercises)


def test_every_exercise_has_two_mistakes_and_a_hint():
    for exercise in LAB.exercises:
        assert len(exercise.mistakes) >= 2, exercise.id
        assert exercise.hints, exercise.id


def test_every_concept_of_the_lab_is_exercised():
    exercised = {c for e in LAB.exercises for c in e.concepts}
    assert set(LAB.concepts) <= exercised


def test_variants_differ_between_students():
    a, b = STUDENTS
    assert LAB.fingerprint(a) != LAB.fingerprint(b)
    assert LAB.params_for(a)["docker_id"] != LAB.params_for(b)["docker_id"]
    differing = [
        e.id for e in LAB.exercises if LAB.variant(e, a).params != LAB.variant(e, b).params
    ]
    assert len(differing) >= 4


@pytest.mark.parametrize("student", STUDENTS)
def test_solution_scores_full_marks(student):
    result = grade_record(_solved(student).record().to_json(), student, LAB)
    assert result.statuses == ()
    assert {e.exercise_id: e.status for e in result.exercises} == {
        e.id: "correct" for e in LAB.exercises
    }
    assert result.score == LAB.max_points


def test_another_students_record_is_flagged():
    a, b = STUDENTS
    result = grade_record(_solved(a).record(), b, LAB)
    assert "other-student" in result.statuses and "variant-changed" in result.statuses


@pytest.mark.parametrize("student", STUDENTS)
def test_typical_wrong_answers_get_their_mistake(student):
    params = {e.id: LAB.variant(e, student).params for e in LAB.exercises}
    world = LAB.params_for(student)
    fq = params["fully-qualify"]
    url = params["fix-url"]["url"]
    which = params["which-registry"]
    mine = params["your-namespace"]
    cases = [
        (
            "parts-hub-name",
            _parts(params["parts-hub-name"]["text"], registry=""),
            "missing-registry",
        ),
        (
            "parts-hub-name",
            _parts(params["parts-hub-name"]["text"], namespace="library"),
            "wrong-namespace",
        ),
        (
            "parts-other-registry",
            _parts(params["parts-other-registry"]["text"], registry="docker.io"),
            "wrong-registry",
        ),
        (
            "parts-other-registry",
            _parts(params["parts-other-registry"]["text"], tag="latest"),
            "latest-is-newest",
        ),
        ("fully-qualify", f"{fq['name']}:{fq['tag']}", "missing-registry"),
        ("fully-qualify", f"docker.io/{fq['name']}:{fq['tag']}", "missing-library"),
        ("fully-qualify", f"docker.io/library/{fq['name']}", "missing-tag"),
        ("fix-url", url, "url-scheme"),
        ("fix-url", url.removeprefix("https://").split("/", 1)[1], "wrong-registry"),
        (
            "predict-url-error",
            "Error response from daemon: pull access denied for web-app",
            "client-side-check",
        ),
        ("predict-url-error", "invalid image name", "wrong-line"),
        ("which-registry", "Docker Hub", "hub-by-default"),
        ("which-registry", "Google Container Registry", "gcr-retired"),
        (
            "your-namespace",
            f"{mine['other_owner']}/{mine['app']}:{mine['version']}",
            "wrong-namespace",
        ),
        ("your-namespace", f"library/{mine['app']}:{mine['version']}", "wrong-namespace"),
        ("your-namespace", f"{world['docker_id']}/{mine['app']}".upper(), "uppercase-repo"),
    ]
    assert "Docker Hub" in which["choices"]
    for exercise_id, raw, code in cases:
        graded = _grade_answer(student, exercise_id, raw)
        assert graded.status != "correct" and code in graded.mistakes, (exercise_id, code, graded)


def test_hub_website_gets_its_own_explanation():
    student = STUDENTS[0]
    mine = LAB.variant("your-namespace", student).params
    owner = "hub.docker.com/" + (
        LAB.params_for(student)["docker_id"]
        if "personal" in mine["where"]
        else LAB.params_for(student)["org"]
    )
    graded = _grade_answer(student, "your-namespace", f"{owner}/{mine['app']}:{mine['version']}")
    assert graded.mistakes == ("wrong-registry",)
    assert "web site" in graded.feedback


@pytest.mark.parametrize("student", STUDENTS)
def test_typical_wrong_pulls_get_their_mistake(student):
    p = LAB.variant("pull-by-full-name", student).params
    cases = [
        ((f"docker pull {p['short']}",), "missing-registry"),
        ((f"docker pull docker.io/{p['short']}",), "missing-library"),
        ((f"docker pull docker.io/library/{p['name']}",), "missing-tag"),
        (("docker pull docker.io/library/busybox:1.37",), "not-done"),
        ((), "not-done"),
    ]
    for commands, code in cases:
        graded = _grade_answer(student, "pull-by-full-name", None, commands)
        assert graded.score == 0 and code in graded.mistakes, (commands, code, graded)


def _parts(text: str, **changes: str) -> dict[str, str]:
    import labkit

    ref = labkit.parse_reference(text)
    parts = {
        "registry": ref.domain,
        "namespace": ref.namespace or "",
        "name": ref.name,
        "tag": ref.tag or "latest",
    }
    return {**parts, **changes}


# -- notebook level ----------------------------------------------------------------------------


@pytest.mark.notebook
def test_notebook_runs_and_the_injected_solution_scores_full_marks(walked):
    notebook = solution_scores_full_marks(LAB, walked(LAB.id))
    assert stderr_outputs(notebook) == []
