"""A course lab written against labkit 0.1.0's exercise API, as docs/instructor.md described it
then (copied from labkit/labs/demo.py): it must still load, work and grade; ``labkit lint`` names
each change to make (``options={"solve": ...}`` is now ``solve=...``)."""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from labkit.exercises import (
    Example,
    Exercise,
    Hint,
    Kind,
    Variant,
    check_pushed,
    choice_examples,
    choice_params,
    compare_references,
)
from labkit.labs import Lab, lab_password, student_docker_id

LAB_ID = "course-old-api"


def world_params(student: str) -> dict[str, Any]:
    return {"docker_id": student_docker_id(student), "password": lab_password(student)}


def setup(world: Any, params: Mapping[str, Any]) -> None:
    world.add_user(params["docker_id"], params["password"])


def _name_generate(rng: random.Random, world: Mapping[str, Any]):
    tag = rng.choice(("3.19", "3.20", "3.21"))
    return {"tag": tag}, f"docker.io/library/alpine:{tag}"


def _name_check(answer, variant: Variant, world) -> list:
    return compare_references(answer, variant.answer, fully_qualified=True)


FULL_NAME = Exercise(
    id="full-name",
    title="The full name",
    prompt="Write the fully qualified name of `alpine:{tag}`.",
    kind=Kind.SHORT_ANSWER,
    generator=_name_generate,
    parser=lambda raw, variant: raw,
    checker=_name_check,
    hints=(Hint(1, "Registry, namespace, name and tag."),),
    mistakes=("missing-registry",),
    examples=(Example(lambda v: f"library/alpine:{v.params['tag']}", "missing-registry"),),
)


def _latest_generate(rng: random.Random, world: Mapping[str, Any]):
    correct = "whatever image the tag `latest` names"
    wrong = {
        "the image with the highest version number": "latest-is-newest",
        "every tag of the `alpine` repository at once": "wrong-choice",
    }
    return choice_params(rng, correct, wrong), correct


LATEST = Exercise(
    id="latest",
    title="What latest means",
    prompt="What does `alpine` without a tag name?",
    kind=Kind.MULTIPLE_CHOICE,
    generator=_latest_generate,
    mistakes=("latest-is-newest", "wrong-choice"),
    examples=choice_examples(("latest-is-newest", "wrong-choice")),
)


def _push_solve(world, variant: Variant) -> None:
    p = variant.params
    client = world.client("student")
    client.run(f"docker login -u {p['docker_id']} --password-stdin", p["password"])
    client.run("docker pull alpine:3.21")
    client.run(f"docker tag alpine:3.21 {p['docker_id']}/mine:1.0")
    client.run(f"docker push {p['docker_id']}/mine:1.0")


PUSH = Exercise(
    id="push",
    title="Push your image",
    prompt="Push `alpine:3.21` as `{docker_id}/mine:1.0`.",
    kind=Kind.TASK,
    generator=lambda rng, world: ({}, None),
    checker=lambda answer, variant, world: check_pushed(
        world, f"{variant.params['docker_id']}/mine:1.0"
    ),
    mistakes=("not-logged-in",),
    examples=(Example(None, "not-logged-in"),),
    options={"solve": _push_solve},
)

LAB = Lab(
    id=LAB_ID,
    title="A course's own lab (labkit 0.1.0 API)",
    exercises=(FULL_NAME, LATEST, PUSH),
    world_params=world_params,
    setup=setup,
)
