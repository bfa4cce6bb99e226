"""The graded assessment's key stays with the instructor: labkit's wheel holds none of it.

The wheel is built from this checkout (``pip wheel --no-deps``), unpacked, and imported alone in
a fresh interpreter, as a student's kernel would have it. For 50 sample students the answers come
from the instructor's pack (``tests/grading/pack``): each exercise's right answer and each wrong
option's mistake code. None of them may be in any file of the wheel, nor in anything the shipped
lab yields (variants, their answers, the key, ``labkit key``), the shown options of a multiple
choice aside (they are the question). The shipped lab still lets a student do the assessment:
its checks say "recorded" for a well-formed answer and reject a malformed one.
"""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from grading.fixtures import keyed_lab

ROOT = Path(__file__).resolve().parents[2]
LAB_ID = "06-assessment"
STUDENTS = [f"student{n:03d}" for n in range(50)]
# The course's worked example, printed in the README (the wheel's METADATA) and docstrings:
# ``alpine`` in full is ``docker.io/library/alpine:latest``. An answer that is this public text is
# searched in what the lab yields, not in the files.
PUBLIC = (ROOT / "README.md").read_text(encoding="utf-8")

# What the shipped lab yields in a kernel of its own: the variants, their answers and keys, and
# the answer key labkit gives without the pack, with the feedback of a check of each answer.
YIELD = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
import labkit
assert labkit.__file__.startswith(sys.argv[1]), labkit.__file__
from labkit.errors import LabkitError
from labkit.exercises import check_answer
from labkit.grading.key import answer_key
from labkit.labs import get_lab

lab = get_lab("06-assessment")
out = {}
for student in json.loads(sys.argv[2]):
    items = {}
    for exercise in lab.exercises:
        variant = lab.variant(exercise, student)
        try:
            key = exercise.key_raw(variant)
        except Exception as error:
            key = repr(error)
        items[exercise.id] = {
            "variant": variant.to_json(),
            "key_raw": key,
            "prompt": exercise.render_prompt(variant),
            "exercise": repr(exercise),
        }
    try:
        items["(labkit key)"] = answer_key("06-assessment", student)
    except LabkitError as error:
        items["(labkit key)"] = str(error)
    out[student] = items
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("wheel")
    command = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", folder, ROOT]
    subprocess.run(command, check=True, timeout=300)
    (built,) = folder.glob("labkit_images-*.whl")
    return built


def _secrets(student: str) -> list[tuple[str, str, Any]]:
    """(exercise, what, value) for each answer of the student's variant that the pack gives:
    ``answer`` (a right answer), ``option`` (the right option of a multiple choice: its text is
    shown, so only what marks it right is searched) and ``mistakes`` (wrong option -> code)."""
    lab = keyed_lab(LAB_ID)
    found = []
    for exercise in lab.exercises:
        variant = lab.variant(exercise, student)
        choices = variant.params.get("choices") or ()
        value = exercise.key_raw(variant)  # as a student would enter it
        if value is not None:
            found.append((exercise.id, "option" if value in choices else "answer", value))
        mistakes = variant.params.get("choice_mistakes")
        if mistakes:
            found.append((exercise.id, "mistakes", dict(mistakes)))
    return found


def _nodes(value: Any, skip: str = "choices"):
    """Every value inside ``value``, a multiple choice's shown options aside."""
    yield value
    if isinstance(value, dict):
        for key, item in value.items():
            if key != skip:
                yield from _nodes(item, skip)
    elif isinstance(value, list):
        for item in value:
            yield from _nodes(item, skip)


def _spellings(what: str, value: Any) -> list[str]:
    """How a secret could be written in a file: a right answer as itself, as JSON, as Python; a
    mapping of wrong options to codes, each of its pairs. A right option's text is shown with
    the others, so it is not searched in files."""
    if what == "option":
        return []
    if what == "mistakes":
        pairs = [f"{json.dumps(k)}: {json.dumps(v)}" for k, v in value.items()]
        return pairs + [f"{k!r}: {v!r}" for k, v in value.items()]
    if isinstance(value, str):
        return [] if value in PUBLIC else [value]
    return [json.dumps(value), json.dumps(value, sort_keys=True), repr(value)]


def _about(yielded: dict[str, Any], exercise: str) -> list[Any]:
    """What the lab yields about one exercise (another's shown text may be this one's answer:
    the name-parts question shows names the valid-name question offers)."""
    key = yielded.get("(labkit key)")
    if isinstance(key, dict):
        key = [item for item in key.get("exercises", ()) if item.get("id") == exercise]
    return [yielded.get(exercise), key]


def _leaks(texts: dict[str, str], yielded: dict[str, Any]) -> list[str]:
    leaks = []
    for student in STUDENTS:
        for exercise, what, secret in _secrets(student):
            nodes = list(_nodes(_about(yielded[student], exercise)))
            strings = [n for n in nodes if isinstance(n, str)]
            if isinstance(secret, str):
                if any(secret in s for s in strings):
                    leaks.append(f"{student}/{exercise}: {secret!r} in what the lab yields")
            elif any(n == secret for n in nodes):
                leaks.append(f"{student}/{exercise}: {secret!r} in what the lab yields")
            for spelling in _spellings(what, secret):
                for name, text in texts.items():
                    if spelling in text:
                        leaks.append(f"{student}/{exercise}: {spelling!r} in {name}")
    return leaks


@pytest.mark.slow
def test_the_wheel_holds_none_of_the_assessments_answers(wheel, tmp_path):
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
        texts = {
            name: archive.read(name).decode("utf-8", "replace")
            for name in archive.namelist()
            if not name.endswith("/")
        }
    assert any(name.endswith("labs/assessment.py") for name in texts)
    assert not any("pack" in Path(name).parts for name in texts)
    run = subprocess.run(
        [sys.executable, "-I", "-c", YIELD, str(site), json.dumps(STUDENTS)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    yielded = json.loads(run.stdout)
    assert sum(len(_secrets(s)) for s in STUDENTS) >= 50 * 12  # the pack gives the answers
    leaks = _leaks(texts, yielded)
    assert leaks == [], f"{len(leaks)} leaks, e.g. {leaks[:5]}"
    for student in STUDENTS[:3]:
        assert "does not ship its key" in yielded[student]["(labkit key)"]


def test_the_leak_search_finds_answers_where_they_are():
    """The search is not blind: a wheel whose files or yield hold the key is caught (as the
    assessment module of labkit 0.1 was, its answers in each variant)."""
    student = STUDENTS[0]
    secrets = _secrets(student)
    lab = keyed_lab(LAB_ID)
    as_today = {
        student: {
            e.id: {
                "variant": lab.variant(e, student).to_json(),
                "key_raw": e.key_raw(lab.variant(e, student)),
            }
            for e in lab.exercises
        }
    }
    others = {s: {} for s in STUDENTS[1:]}
    leaks = _leaks({}, {**as_today, **others})
    assert {leak.split(":")[0] for leak in leaks} == {f"{student}/{e}" for e, _, _ in secrets}
    full_name = next(v for e, _, v in secrets if e == "full-name")
    mistakes = next(v for e, what, v in secrets if e == "latest" and what == "mistakes")
    text, code = next(iter(mistakes.items()))
    source = f'x = "{full_name}"\nwrong = {{\n    "{text}": "{code}",\n}}\n'
    leaks = _leaks({"labkit/labs/x.py": source}, {s: {} for s in STUDENTS})
    assert any(full_name in leak and "x.py" in leak for leak in leaks)
    assert any(code in leak and "x.py" in leak for leak in leaks)


def test_a_student_can_still_do_the_assessment_with_the_shipped_lab():
    """Format checks and "recorded" feedback need no key."""
    from labkit.exercises import check_answer
    from labkit.labs import get_lab

    shipped = get_lab(LAB_ID)
    keyed = keyed_lab(LAB_ID)
    for exercise in shipped.exercises:
        variant = shipped.variant(exercise, STUDENTS[0])
        right = keyed.exercise(exercise.id).key_raw(keyed.variant(exercise.id, STUDENTS[0]))
        feedback = check_answer(exercise, variant, right, shipped.new_world(STUDENTS[0]))
        assert feedback.status == "recorded", (exercise.id, feedback)
        if exercise.kind != "task":
            bad = check_answer(exercise, variant, {"not": "an answer"} if right else 42)
            assert bad.status == "format-error", (exercise.id, bad)
