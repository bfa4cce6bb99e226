"""03-official-images: the definition lints clean, the solution scores full marks for two
students (model level and in the executed notebook), and typical wrong answers get their own
mistake codes."""

from __future__ import annotations

import json

import pytest
from lab_support import (
    StandIn,
    load_solution,
    solution_scores_full_marks,
)

from labkit.grading import grade_record, lint_lab
from labkit.labs.official_images import LAB, simulated_counts

NOTEBOOK = "03-official-images.ipynb"
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
    params = [{e.id: dict(LAB.variant(e, s).params) for e in LAB.exercises} for s in STUDENTS]
    assert params[0] != params[1]


@pytest.mark.parametrize("student", STUDENTS)
def test_solution_scores_full_marks(student):
    lab = StandIn(LAB, student)
    load_solution("official_images").solve_official_images(lab)
    result = grade_record(json.loads(json.dumps(lab.record().to_json())), student, LAB)
    assert result.statuses == ()
    assert [(e.exercise_id, e.status) for e in result.exercises if e.status != "correct"] == []
    assert result.score == LAB.max_points


def _grade_one(exercise_id: str, raw, student: str = STUDENTS[0], act=None):
    lab = StandIn(LAB, student)
    if act is not None:
        act(lab)
    lab.submit(exercise_id, raw)
    return grade_record(lab.record().to_json(), student, LAB).exercise(exercise_id)


def _params(exercise_id: str, student: str = STUDENTS[0]):
    return LAB.variant(exercise_id, student).params


@pytest.mark.parametrize(
    ("exercise_id", "raw", "mistake"),
    [
        ("official-full-name", lambda p: f"docker.io/{p['short']}", "missing-library"),
        ("official-full-name", lambda p: f"library/{p['short']}", "missing-registry"),
        ("search-filter", lambda p: f"docker search {p['term']}", "missing-filter"),
        ("search-filter", lambda p: f"docker search -f stars=100 {p['term']}", "wrong-filter"),
        ("search-official-rows", lambda p: f"library/{p['term']}", "library-in-search"),
        (
            "search-official-rows",
            lambda p: "\n".join([p["term"], *p["community"]]),
            "community-row",
        ),
        ("scan-high-count", lambda p: str(p["total"]), "counted-everything"),
        ("scan-high-count", lambda p: str(p["latest_high"]), "scanned-latest"),
    ],
)
def test_typical_wrong_answers_get_their_mistake(exercise_id, raw, mistake):
    for student in STUDENTS:
        result = _grade_one(exercise_id, raw(_params(exercise_id, student)), student)
        assert result.status in ("wrong", "partial")
        assert mistake in result.mistakes


def test_choosing_latest_is_latest_is_newest_and_an_old_tag_has_more_findings():
    params = _params("choose-tag")
    latest = next(c for c in params["choices"] if "latest" in c)
    assert _grade_one("choose-tag", latest).mistakes == ("latest-is-newest",)
    name = params["name"]
    worst = max(params["tags"], key=lambda t: sum(simulated_counts(name, t).values()))
    assert _grade_one("choose-tag", f"`{name}:{worst}`").mistakes == ("more-findings",)


def test_stars_do_not_make_an_image_official():
    choices = _params("what-makes-official")["choices"]
    stars = next(c for c in choices if "stars" in c)
    assert _grade_one("what-makes-official", stars).mistakes == ("stars-not-official",)


def test_pulling_an_old_tag_or_only_latest_gets_its_mistake():
    name = _params("pull-safe-tag")["name"]
    old = sorted(_params("pull-safe-tag")["bad_tags"])[0]
    result = _grade_one(
        "pull-safe-tag", None, act=lambda lab: lab.client.run(f"docker pull {name}:{old}")
    )
    assert result.mistakes == ("vulnerable-tag",)
    result = _grade_one(
        "pull-safe-tag", None, act=lambda lab: lab.client.run(f"docker pull {name}")
    )
    assert result.mistakes == ("latest-is-newest",)
    assert _grade_one("pull-safe-tag", None).mistakes == ("not-pulled",)


# -- notebook level ------------------------------------------------------------------------------


@pytest.mark.notebook
def test_notebook_runs_and_the_injected_solution_scores_full_marks(walked):
    solution_scores_full_marks(LAB, walked(LAB.id))


def test_the_counts_the_checks_use_are_what_the_students_scan_shows():
    """nginx and python are built on a base image: the scan lists the base's findings too, and
    so must the figures the exercises are graded with."""
    from labkit.labs.official_images import official_tags

    world = LAB.new_world("ann")
    for name in ("alpine", "ubuntu", "nginx", "python"):
        for tag in official_tags(name):
            assert simulated_counts(name, tag) == world.scan(f"{name}:{tag}").counts(), (name, tag)
    assert sum(simulated_counts("nginx", "1.27").values()) > 1  # debian's findings included
