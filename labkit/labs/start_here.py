"""Lab 00, start here: how the kit works, and three small first exercises.

The exercises are deliberately gentle: pull an image, say which tag a bare name pulls, and
read the full name Docker prints on the last line of a pull.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from labkit.exercises import (
    Example,
    Exercise,
    Hint,
    Kind,
    Part,
    Variant,
    client_tags,
    compare_references,
    parse_reference_answer,
)
from labkit.labs import Lab, lab_password, student_docker_id
from labkit.labs.common import newest_version
from labkit.reference import parse_reference

LAB_ID = "00-start-here"

# Small official images of the catalog and tags they really have.
FIRST_IMAGES = {
    "busybox": ("1.36", "1.37"),
    "alpine": ("3.19", "3.20", "3.21"),
    "debian": ("12", "bookworm"),
}
# Each name's newest version tag (what students often think `latest` means), from the catalog.
NEWEST = {name: newest_version(name) for name in ("busybox", "alpine", "debian", "nginx", "python")}


def world_params(student: str) -> dict[str, Any]:
    """The student's simulated Docker ID and password (used from lab 04 on)."""
    return {"docker_id": student_docker_id(student), "password": lab_password(student)}


# -- 1. task: a first pull ---------------------------------------------------------------------


def _pull_generate(rng: random.Random, world: Mapping[str, Any]):
    name = rng.choice(sorted(FIRST_IMAGES))
    tag = rng.choice(FIRST_IMAGES[name])
    full = f"docker.io/library/{name}:{tag}"
    return {"image": f"{name}:{tag}", "name": name, "tag": tag, "full": full}, full


def _pull_check(answer: Any, variant: Variant, world: Any) -> list[Part]:
    wanted = variant.params["full"]
    held = set().union(*client_tags(world).values()) if world is not None else set()
    if wanted in held:
        return [Part("pulled", 1.0)]
    name = f"docker.io/library/{variant.params['name']}:"
    others = sorted(tag.removeprefix(name) for tag in held if tag.startswith(name))
    if others:
        return [
            Part(
                "pulled",
                0.0,
                mistake="wrong-tag",
                message=(
                    f"you pulled `{variant.params['name']}` with the tag "
                    f"`{others[0]}`; the exercise asks for `{variant.params['image']}`: "
                    "put the tag after a colon"
                ),
            )
        ]
    return [
        Part(
            "pulled",
            0.0,
            mistake="not-done",
            message=f"no client holds `{variant.params['image']}` yet: run the pull first",
        )
    ]


def _pull_solve(world: Any, variant: Variant) -> None:
    world.client("student").run(f"docker pull {variant.params['image']}")


def _pull_other_tag(world: Any, variant: Variant) -> None:
    world.client("student").run(f"docker pull {variant.params['name']}")


FIRST_PULL = Exercise(
    id="first-pull",
    title="Your first pull",
    prompt=(
        "Pull the image `{image}` with `%docker` in the cell below this exercise, then press "
        "**Check**. The check looks at your simulated Docker, not at what you typed."
    ),
    kind=Kind.TASK,
    generator=_pull_generate,
    checker=_pull_check,
    hints=(
        Hint(1, "Type `%docker pull` followed by the image's name and tag, then run the cell."),
    ),
    mistakes=("not-done", "wrong-tag"),
    examples=(
        Example(None, "not-done"),
        Example(None, "wrong-tag", act=_pull_other_tag),
    ),
    concepts=("explicit-tag", "tag"),
    solve=_pull_solve,
)


# -- 2. multiple choice: the tag a bare name pulls ----------------------------------------------


CHOICE_LATEST = "`latest`: Docker adds it when no tag is given"


def _default_generate(rng: random.Random, world: Mapping[str, Any]):
    name = rng.choice(sorted(NEWEST))
    newest = NEWEST[name]
    choices = [
        CHOICE_LATEST,
        f"`{newest}`, because it is the newest version of {name}",
        "no tag at all: the image is stored without one",
        "every tag of the repository",
    ]
    mistakes = {choices[1]: "latest-is-newest", choices[2]: "missing-tag"}
    rng.shuffle(choices)
    return {"name": name, "choices": choices, "choice_mistakes": mistakes}, CHOICE_LATEST


DEFAULT_TAG = Exercise(
    id="default-tag",
    title="The tag of a bare name",
    prompt="You run `docker pull {name}` and give no tag. Which tag does Docker pull?",
    kind=Kind.MULTIPLE_CHOICE,
    generator=_default_generate,
    max_tries=3,
    hints=(Hint(1, "Look again at the first line `%docker pull alpine` printed above."),),
    mistakes=("latest-is-newest", "missing-tag", "wrong-choice"),
    examples=(
        Example(
            lambda v: (
                f"`{NEWEST[v.params['name']]}`, because it is the newest version of "
                f"{v.params['name']}"
            ),
            "latest-is-newest",
        ),
        Example("no tag at all: the image is stored without one", "missing-tag"),
        Example("every tag of the repository", "wrong-choice"),
    ),
    concepts=("default-tag-latest",),
)


# -- 3. short answer: the last line of a pull ---------------------------------------------------


def _last_line_generate(rng: random.Random, world: Mapping[str, Any]):
    name = rng.choice(sorted(NEWEST))
    return {"name": name}, str(parse_reference(name).with_default_tag())


def _last_line_check(answer: Any, variant: Variant, world: Any) -> list[Part]:
    return compare_references(answer, variant.answer, fully_qualified=True)


LAST_LINE = Exercise(
    id="last-line",
    title="The name on the last line",
    prompt=(
        "The last line of `docker pull {name}` is the image's full name, every part spelled "
        "out. Write that line."
    ),
    kind=Kind.SHORT_ANSWER,
    generator=_last_line_generate,
    parser=parse_reference_answer,
    checker=_last_line_check,
    hints=(
        Hint(1, "Compare with the last line of `%docker pull alpine` above."),
        Hint(2, "It starts with the registry, `docker.io`, and ends with the tag."),
    ),
    mistakes=("missing-registry", "missing-library", "missing-tag"),
    examples=(
        Example(lambda v: f"library/{v.params['name']}:latest", "missing-registry"),
        Example(lambda v: f"docker.io/{v.params['name']}:latest", "missing-library"),
        Example(lambda v: f"docker.io/library/{v.params['name']}", "missing-tag"),
    ),
    concepts=("fully-qualified-name", "default-registry-docker-io"),
)


LAB = Lab(
    id=LAB_ID,
    title="00 · Start here",
    version="1",
    exercises=(FIRST_PULL, DEFAULT_TAG, LAST_LINE),
    concepts=("tag", "default-tag-latest", "fully-qualified-name"),
    world_params=world_params,
    description="How the kit works: cells, %docker, exercises, progress, records, submission.",
)
