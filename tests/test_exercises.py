"""The exercise model without a kernel: every kind, variants, tries, hints, hidden checks,
mistake codes, and grading a record."""

from __future__ import annotations

import hashlib
import json
import os
import random
from pathlib import Path

import pytest

from labkit.exercises import (
    Choice,
    Exercise,
    FormatError,
    HiddenCheck,
    Hint,
    Kind,
    Part,
    canonical_json,
    check_answer,
    choice_params,
    choice_was,
    compare_lines,
    compare_reference_parts,
    compare_references,
    multiple_choice,
    plain_value,
    variant_seed,
)
from labkit.grading import grade_record, lint_lab
from labkit.labs import demo
from labkit.labs.demo import LAB
from labkit.records import Record, remember_student, resolve_student

GOLDEN = Path(__file__).parent / "data" / "variants.json"
GOLDEN_STUDENTS = ("alice", "s1234567", "Émile O'Brien")


def golden_variants() -> dict:
    """The demo lab's variants for the golden students, as stored in tests/data/variants.json."""
    return {
        student: {
            "fingerprint": LAB.fingerprint(student),
            "world": LAB.params_for(student),
            "exercises": {e.id: LAB.variant(e, student).to_json() for e in LAB.exercises},
        }
        for student in GOLDEN_STUDENTS
    }


# -- variants ---------------------------------------------------------------------------------


def test_seed_is_the_first_8_bytes_of_sha256_big_endian():
    digest = hashlib.sha256(b"demo/fully-qualified/alice").digest()
    assert variant_seed("demo", "fully-qualified", "alice") == int.from_bytes(digest[:8], "big")
    assert variant_seed("demo", "fully-qualified", "alice") == 13052034479243898488


def test_variants_match_the_golden_file():
    if os.environ.get("LABKIT_REGENERATE_GOLDEN"):
        GOLDEN.write_text(json.dumps(golden_variants(), indent=1, ensure_ascii=False) + "\n")
    assert golden_variants() == json.loads(GOLDEN.read_text("utf-8"))


def test_variants_differ_across_students():
    params = [
        json.dumps([LAB.variant(e, s).params for e in LAB.exercises], sort_keys=True)
        for s in GOLDEN_STUDENTS
    ]
    assert len(set(params)) == len(params)
    assert len({LAB.fingerprint(s) for s in GOLDEN_STUDENTS}) == len(GOLDEN_STUDENTS)


def test_generate_is_deterministic_for_a_seed():
    exercise = demo.FULLY_QUALIFIED
    assert exercise.generate(42) == exercise.generate(42)


# -- every kind -------------------------------------------------------------------------------


def _variant(exercise, student="alice"):
    return LAB.variant(exercise, student)


def test_short_answer_right_wrong_and_malformed():
    ex = demo.FULLY_QUALIFIED
    v = _variant(ex)
    assert check_answer(ex, v, v.answer, LAB.new_world("alice")).status == "correct"
    wrong = check_answer(ex, v, f"docker.io/{v.params['name']}:{v.params['tag']}")
    assert wrong.status == "partial" and wrong.mistakes == ("missing-library",)
    malformed = check_answer(ex, v, "alpine::3")
    assert malformed.status == "format-error" and not malformed.counted
    assert "invalid reference format" in malformed.message


def test_multiple_choice():
    ex = demo.LATEST_MEANING
    v = _variant(ex)
    assert check_answer(ex, v, v.answer).status == "correct"
    newest = next(c for c in v.params["choices"] if "newest" in c)
    assert check_answer(ex, v, newest).mistakes == ("latest-is-newest",)
    assert check_answer(ex, v, "something else").status == "format-error"
    index = v.params["choices"].index(v.answer)
    assert check_answer(ex, v, index).status == "correct"


def _reworded() -> Exercise:
    def generate(rng, world):
        right = Choice("a pointer", was=("a name", "a label"))
        wrong = [Choice("a copy", "tags-are-copies", "no copy is made", was="a duplicate")]
        return {**choice_params(rng, right, wrong)}, right.text

    return multiple_choice("tag-is", "A tag is", "A tag is?", generate, ("tags-are-copies",))


def test_a_choice_keeps_its_earlier_wordings():
    """``was=`` (labkit.exercises.choices): a record that picked a choice as an earlier release
    worded it grades as the choice it became, with today's mistake code."""
    ex = _reworded()
    v = ex.generate(7)
    assert sorted(v.params["choices"]) == ["a copy", "a pointer"]
    assert v.params["choice_was"] == {
        "a name": "a pointer",
        "a label": "a pointer",
        "a duplicate": "a copy",
    }
    for old in ("a name", "a label"):
        assert check_answer(ex, v, old).status == "correct"
    assert check_answer(ex, v, "a duplicate").mistakes == ("tags-are-copies",)
    assert check_answer(ex, v, "a nickname").status == "format-error"
    # a lab that never reworded a choice keeps its parameters (and fingerprints) as they were
    assert "choice_was" not in _variant(demo.LATEST_MEANING).params
    assert choice_was(["a", "b"], {}) == {}


@pytest.mark.parametrize(
    ("was", "error"),
    [
        ({"c": "old"}, "'c' is not one of the choices"),
        ({"a": "b"}, "the earlier wording 'b' is a choice today"),
        ({"a": "old", "b": ["old"]}, "'old' is the earlier wording of two choices"),
    ],
)
def test_earlier_wordings_that_cannot_be_told_apart_are_refused(was, error):
    with pytest.raises(ValueError, match=error):
        choice_was(["a", "b"], was)


def test_the_right_choice_has_no_mistake_code():
    with pytest.raises(ValueError, match="has a mistake code"):
        choice_params(random.Random(1), Choice("right", "oops"), {"wrong": "code"})


def test_name_the_parts_accepts_docker_hubs_names():
    ex = demo.NAME_THE_PARTS
    v = _variant(ex)
    key = ex.key_raw(v)
    assert check_answer(ex, v, key).status == "correct"
    legacy = dict(key, registry="index.docker.io")  # Docker normalizes it to docker.io
    assert check_answer(ex, v, legacy).status == "correct"
    endpoint = check_answer(ex, v, dict(key, registry="registry-1.docker.io"))
    # three parts of four are right, but a named mistake earns at most half (RULES)
    assert endpoint.mistakes == ("wrong-registry",) and endpoint.score == 0.5
    assert check_answer(ex, v, "docker.io/library/x").status == "format-error"


def test_predict_output_lines_with_whitespace_normalized():
    ex = demo.PREDICT_ERROR
    v = _variant(ex)
    spaced = "\n  " + v.answer.replace(" ", "   ") + "  \n\n"
    assert check_answer(ex, v, spaced).status == "correct"
    assert check_answer(ex, v, v.answer.replace("library/", "")).mistakes == ("missing-library",)
    assert compare_lines("a\nb", "a\nc")[1].mistake == "wrong-line"
    assert compare_lines("a", "a\nc")[1].mistake == "missing-lines"
    assert compare_lines("a\nb\nc", "a\nb")[-1].mistake == "extra-lines"


def test_task_is_checked_on_the_worlds_state():
    ex = demo.SHARE_WITH_TEAM
    v = _variant(ex)
    world = LAB.new_world("alice")
    before = check_answer(ex, v, None, world)
    assert set(before.mistakes) == {"no-team-access", "repo-private"}
    demo._grant_read(world, v)
    assert "team-read-only" in check_answer(ex, v, None, world).mistakes
    demo._share_solve(world, v)
    assert check_answer(ex, v, None, world).status == "correct"


def test_push_task_with_the_client():
    ex = demo.PUSH_YOUR_IMAGE
    v = _variant(ex)
    world = LAB.new_world("alice")
    demo._push_logged_out(world, v)
    assert check_answer(ex, v, None, world).mistakes == ("not-logged-in",)
    world = LAB.new_world("alice")
    demo._push_solve(world, v)
    assert check_answer(ex, v, None, world).status == "correct"


def test_code_kind_compares_canonical_json():
    ex = demo.FULLY_QUALIFY_CODE
    v = _variant(ex)
    assert check_answer(ex, v, list(v.answer)).status == "correct"
    assert check_answer(ex, v, tuple(v.answer)).status == "correct"  # a tuple is a JSON list
    assert check_answer(ex, v, {"a": 1}).status == "format-error"
    assert check_answer(ex, v, v.answer[:-1]).mistakes == ("wrong-value",)


class AlwaysEqual:
    def __eq__(self, other):
        return True

    def __hash__(self):
        return 0


class SneakyStr(str):
    def __eq__(self, other):
        return True

    def __hash__(self):
        return 0


@pytest.mark.parametrize("value", [AlwaysEqual(), [AlwaysEqual()], SneakyStr("x")])
def test_an_always_equal_object_never_passes(value):
    ex = demo.FULLY_QUALIFY_CODE
    v = _variant(ex)
    feedback = check_answer(ex, v, value)
    assert feedback.status == "format-error" and feedback.score is None
    generic = Exercise("g", "g", "", Kind.CODE, lambda rng, w: ({}, {"x": [1, 2]}))
    assert check_answer(generic, generic.generate(1), value).status == "format-error"
    assert check_answer(generic, generic.generate(1), {"x": [1, 2]}).status == "correct"
    assert check_answer(generic, generic.generate(1), {"x": [1, 2.5]}).status == "wrong"


def test_plain_value_and_canonical_json():
    assert canonical_json({"b": 1, "a": [True, None]}) == '{"a":[true,null],"b":1}'
    for bad in (float("nan"), {1: 2}, {1, 2}, b"x", object()):
        with pytest.raises(FormatError):
            plain_value(bad)


# -- tries, hints, format-only, hidden checks ------------------------------------------------


def _toy(**options):
    return Exercise(
        id="toy",
        title="Toy",
        prompt="Say {word}",
        kind=Kind.SHORT_ANSWER,
        generator=lambda rng, world: ({"word": "hello"}, "hello"),
        hints=(Hint(1, "first hint"), Hint(3, "third-try hint")),
        **options,
    )


def test_format_errors_cost_no_try_and_hints_unlock_on_schedule():
    ex = _toy(max_tries=3)
    v = ex.generate(1)
    feedback = check_answer(ex, v, "   ", tries_used=0)
    assert feedback.status == "format-error" and feedback.tries_used == 0
    assert feedback.tries_left == 3 and feedback.hints == ()
    first = check_answer(ex, v, "bye", tries_used=0)
    assert first.counted and first.tries_used == 1 and first.hints == ("first hint",)
    third = check_answer(ex, v, "bye", tries_used=2)
    assert third.hints == ("first hint", "third-try hint") and third.tries_left == 0
    assert check_answer(ex, v, "hello", tries_used=3).status == "no-tries-left"


def test_format_only_feedback_says_recorded_and_nothing_more():
    ex = _toy(feedback="format-only")
    v = ex.generate(1)
    for raw in ("hello", "bye"):
        feedback = check_answer(ex, v, raw)
        assert feedback.status == "recorded" and feedback.score is None
        assert feedback.mistakes == () and feedback.parts == ()


def test_hidden_checks_never_reach_student_feedback():
    secret = HiddenCheck("SECRET-CHECK-NAME", lambda answer, variant, world: False)
    ex = _toy(hidden=(secret,))
    v = ex.generate(1)
    feedback = check_answer(ex, v, "hello")
    text = json.dumps(feedback.to_json())
    assert "SECRET-CHECK-NAME" not in text
    assert feedback.message == "Correct: public checks passed; 1 hidden check run at grading."
    assert "all" not in feedback.message.lower()


# -- reference comparison helpers -------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "key", "mistake"),
    [
        ("docker.io/alpine:3.19", "alpine:3.19", "missing-library"),
        ("alpine:3.19", "alpine:3.19", "missing-registry"),
        ("https://docker.io/library/alpine:3.19", "alpine:3.19", "url-scheme"),
        ("docker.io/library/alpine:latest", "alpine:3.21", "latest-is-newest"),
        ("docker.io/library/alpine", "alpine:3.21", "missing-tag"),
        ("docker.io/library/Alpine:3.19", "alpine:3.19", "uppercase-repo"),
        ("quay.io/library/alpine:3.19", "alpine:3.19", "wrong-registry"),
        ("docker.io/fredysa/alpine:3.19", "alpine:3.19", "wrong-namespace"),
        ("docker.io/library/alpine:3.18", "alpine:3.19", "wrong-tag"),
        ("docker.io/library/busybox:3.19", "alpine:3.19", "wrong-name"),
    ],
)
def test_compare_references_names_the_mistake(answer, key, mistake):
    parts = compare_references(answer, key, fully_qualified=True)
    assert mistake in [p.mistake for p in parts]


def test_compare_references_partial_credit_per_part():
    parts = compare_references("docker.io/library/alpine:3.18", "alpine:3.19")
    assert [p.score for p in parts] == [1.0, 1.0, 1.0, 0.0]
    assert all(p.ok for p in compare_references("alpine", "docker.io/library/alpine:latest"))


def test_compare_reference_parts():
    key = "docker.io/library/nginx:latest"
    parts = compare_reference_parts({"registry": "", "namespace": "", "name": "nginx"}, key)
    assert [p.mistake for p in parts] == [
        "missing-registry",
        "missing-library",
        None,
        "missing-tag",
    ]


def test_part_scores_stay_in_range():
    with pytest.raises(ValueError, match="not in"):
        Part("x", 1.5)


# -- lint: every mistake code of the demo lab is reachable ------------------------------------


def test_demo_lab_lints_clean():
    assert lint_lab(LAB) == []


def test_lint_reports_an_unreachable_mistake_and_a_bad_key():
    bad = _toy(mistakes=("missing-library",))
    wrong_key = Exercise("k", "k", "", Kind.SHORT_ANSWER, lambda rng, w: ({}, ""))
    lab = type(LAB)(id="broken", title="Broken", exercises=(bad, wrong_key))
    problems = lint_lab(lab)
    assert any("'missing-library' is not reached" in p for p in problems)
    assert any("demo" not in p and "broken/k" in p for p in problems)


# -- grading a record ------------------------------------------------------------------------


def _solved_record(student: str) -> Record:
    world = LAB.new_world(student)
    record = Record(lab=LAB.id, student=student, fingerprint=LAB.fingerprint(student))
    for exercise in LAB.exercises:
        variant = LAB.variant(exercise, student)
        if exercise.kind is Kind.TASK:
            exercise.solve(world, variant)
        else:
            record = record.with_answer(exercise.id, exercise.key_raw(variant))
    return record.with_events(LAB.student_events(world, student))


def test_grade_record_full_marks_on_a_replayed_world():
    record = _solved_record("alice")
    round_tripped = json.loads(json.dumps(record.to_json()))
    result = grade_record(round_tripped, "alice", LAB)
    assert result.statuses == ()
    assert result.score == result.max_points == LAB.max_points
    assert all(e.status == "correct" for e in result.exercises)
    assert all(h.passed for e in result.exercises for h in e.hidden)
    assert result.exercise("fully-qualify").hidden[0].name == "keeps the order"
    assert "hidden" not in result.exercise("fully-qualify").to_json()


def test_grade_record_regenerates_variants_and_flags_other_students():
    record = _solved_record("alice")
    result = grade_record(record, "bob", LAB)
    assert {"other-student", "variant-changed"} <= set(result.statuses)
    assert result.score < result.max_points  # alice's answers do not fit bob's variant


def test_grade_record_partial_and_unanswered():
    student = "carol"
    v = LAB.variant(demo.FULLY_QUALIFIED, student)
    wrong = f"docker.io/{v.params['name']}:{v.params['tag']}"
    record = Record(LAB.id, student, LAB.fingerprint(student)).with_answer("fully-qualified", wrong)
    result = grade_record(record, student, LAB)
    fq = result.exercise("fully-qualified")
    assert fq.status == "partial" and fq.mistakes == ("missing-library",)
    assert fq.score == pytest.approx(1.0)  # 2 points, at most half with a mistake (RULES)
    assert result.exercise("latest-meaning").status == "unanswered"
    assert result.exercise("share-with-team").status == "unanswered"


def test_grade_record_survives_a_forged_event_log():
    record = Record(LAB.id, "dave", LAB.fingerprint("dave"), events=({"seq": "x"},))
    result = grade_record(record, "dave", LAB)
    assert "replay-failed" in result.statuses and result.score == 0


# -- who the student is ------------------------------------------------------------------------


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    for name in ("LABKIT_GRADING", "LABKIT_STUDENT", "JUPYTERHUB_USER"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    return monkeypatch


def test_resolve_student_order(clean_env):
    clean_env.setattr("getpass.getuser", lambda: "localuser")
    assert resolve_student() == ("localuser", "local user")
    clean_env.setenv("LABKIT_STUDENT", "envstudent")
    assert resolve_student() == ("envstudent", "LABKIT_STUDENT")
    remember_student("course-42")
    assert resolve_student()[0] == "course-42"
    # on a hub the account wins over a course id typed in 00 (the work is collected under it)
    clean_env.setenv("JUPYTERHUB_USER", "hubuser")
    assert resolve_student() == ("hubuser", "JUPYTERHUB_USER")
    assert resolve_student("explicit")[0] == "explicit"
    clean_env.setenv("LABKIT_GRADING", "1")
    assert resolve_student("explicit") == ("envstudent", "LABKIT_STUDENT (grading)")


def test_resolve_student_without_a_user_name(clean_env):
    def fail():
        raise OSError("no user")

    clean_env.setattr("getpass.getuser", fail)
    assert resolve_student() == ("anonymous", "default")
