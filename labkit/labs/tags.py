"""Lab 01-tags: why images need unique names, registries, tags, and what `latest` really is.

Seven exercises: pick what keeps two images apart, predict what a pull without a tag prints,
pull an explicit tag, read `docker images` for two tags of one image, give an image a second
name, see a tag move, and learn that `latest` is not a promise of the newest release.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from labkit.exercises import (
    Choice,
    Example,
    Exercise,
    Hint,
    Kind,
    Part,
    Variant,
    choice_params,
    compare_lines,
    normalize_lines,
)
from labkit.labs import Lab, student_docker_id
from labkit.labs.common import APPS, PEOPLE, newest_version, run
from labkit.reference import parse_reference

LAB_ID = "01-tags"

# Tags of the catalog's official images: which pairs name one image, which do not.
NEWEST = {
    name: newest_version(name)
    for name in ("alpine", "busybox", "ubuntu", "nginx", "python", "debian")
}
OLDER_TAGS = {
    "alpine": ("3.5", "3.18", "3.19", "3.20"),
    "busybox": ("1.36",),
    "ubuntu": ("19.04", "20.04", "22.04"),
    "nginx": ("1.26",),
    "python": ("3.12",),
}
# The notebook pulls alpine:3.5 itself, so no variant asks for it.
NOTEBOOK_EXPLICIT_TAG = "3.5"
SAME_IMAGE_PAIRS = (
    ("alpine", "3.21"),
    ("busybox", "1.37"),
    ("nginx", "1.27"),
    ("python", "3.13"),
    ("ubuntu", "24.04"),
    ("debian", "12"),
)
COLLEAGUES = PEOPLE[:6]
BASES = ("base", "runtime", "toolbox", "builder")
STAGES = ("stable", "approved", "prod", "tested")


def world_params(student: str) -> dict[str, Any]:
    """The student's Docker ID (used in names only; nothing is pushed in this lab)."""
    return {"docker_id": student_docker_id(student)}


# -- shared helpers --------------------------------------------------------------------------


def _full(name: str) -> str:
    return str(parse_reference(name).with_default_tag())


def _local_tags(world: Any) -> dict[str, str]:
    """Every local tag of every client (full form) and the image ID it names."""
    tags: dict[str, str] = {}
    for client in world.clients.values():
        tags.update(client.store.tagged_images())
    return tags


# -- 1. why a name must be unique -------------------------------------------------------------


def _unique_generate(rng: random.Random, world: Mapping[str, Any]):
    app = rng.choice(APPS)
    colleague = rng.choice(COLLEAGUES)
    me = world["docker_id"]
    correct = Choice(
        f"the namespace: `{me}/{app}` and `{colleague}/{app}`",
        was=f"the namespace: yours is `{me}/{app}`, theirs is `{colleague}/{app}`",  # 0.1.0
    )
    wrong = [
        (
            f"different tags, such as `{app}:mine` and `{app}:theirs`",
            "tag-not-owner",
            f"A tag names a version inside one repository; it does not say whose image it "
            f"is. With tags alone you would both be writing into the same `{app}` repository.",
        ),
        (
            f"nothing: the registry keeps both images under the name `{app}`",
            "name-not-unique",
            "A registry holds one repository per name, so the second push would land on the "
            "first. The name must be unique in the whole registry: it starts with the owner.",
        ),
        (
            "the image ID: Docker tells the images apart by their content",
            "id-not-name",
            "The ID does differ, but it is a long hash computed from the content: nobody "
            "publishes or pulls by it. People share images by name.",
        ),
    ]
    params = {"app": app, "colleague": colleague, **choice_params(rng, correct, wrong)}
    return params, correct.text


UNIQUE_NAMES = Exercise(
    id="unique-names",
    title="Two images, one name",
    prompt=(
        "You and `{colleague}` each build an image and both call it `{app}`. You both want to "
        "publish it on Docker Hub, where anyone can pull it. What keeps the two images apart?"
    ),
    kind=Kind.MULTIPLE_CHOICE,
    generator=_unique_generate,
    max_tries=3,
    hints=(
        Hint(1, "A Docker Hub name is built as `owner/repository:tag`. Which part says whose?"),
    ),
    mistakes=("tag-not-owner", "name-not-unique", "id-not-name"),
    examples=(
        Example(
            lambda v: (
                f"different tags, such as `{v.params['app']}:mine` and `{v.params['app']}:theirs`"
            ),
            "tag-not-owner",
        ),
        Example(
            lambda v: f"nothing: the registry keeps both images under the name `{v.params['app']}`",
            "name-not-unique",
        ),
        Example("the image ID: Docker tells the images apart by their content", "id-not-name"),
    ),
    concepts=("globally-unique-name", "why-registries"),
)


# -- 2. what a pull without a tag prints ------------------------------------------------------


def _default_generate(rng: random.Random, world: Mapping[str, Any]):
    name = rng.choice(sorted(NEWEST))
    key = f"Using default tag: latest\nlatest: Pulling from library/{name}"
    return {"name": name, "newest": NEWEST[name]}, key


def _default_check(answer: str, variant: Variant, world: Any) -> list[Part]:
    name, newest = variant.params["name"], variant.params["newest"]
    got = normalize_lines(answer)
    parts = []
    for part in compare_lines(answer, variant.answer):
        if part.mistake != "wrong-line":
            parts.append(part)
            continue
        line = got[int(part.name.split()[1]) - 1]
        if line.startswith("Using default tag:") and line != "Using default tag: latest":
            parts.append(
                Part(
                    part.name,
                    0.0,
                    1.0,
                    "latest-is-newest",
                    f"without a tag Docker always uses `latest`, not the newest version "
                    f"(`{line.split(':', 1)[1].strip()}`)",
                )
            )
        elif ": Pulling from" in line and not line.startswith("latest:"):
            parts.append(
                Part(
                    part.name,
                    0.0,
                    1.0,
                    "latest-is-newest",
                    f"the pull names the tag it uses, and that tag is `latest` (even though "
                    f"`{name}:{newest}` may be newer)",
                )
            )
        elif line == f"latest: Pulling from {name}":
            parts.append(
                Part(
                    part.name,
                    0.0,
                    1.0,
                    "missing-library",
                    f"the line shows the repository's path on Docker Hub: `library/{name}`",
                )
            )
        else:
            parts.append(part)
    return parts


PULL_DEFAULT_TAG = Exercise(
    id="pull-default-tag",
    title="A pull without a tag",
    prompt=(
        "Predict, then check: which **first two lines** does `docker image pull {name}` print? "
        "Type them one per line (the layer lines that follow do not count)."
    ),
    kind=Kind.PREDICT_OUTPUT,
    generator=_default_generate,
    checker=_default_check,
    hints=(
        Hint(1, "The first line says which tag Docker chose for you."),
        Hint(2, "The second line is `<tag>: Pulling from <path of the repository>`."),
    ),
    mistakes=("latest-is-newest", "missing-library", "missing-lines", "wrong-line"),
    examples=(
        Example(
            lambda v: (
                f"Using default tag: {v.params['newest']}\n"
                f"{v.params['newest']}: Pulling from library/{v.params['name']}"
            ),
            "latest-is-newest",
        ),
        Example(
            lambda v: f"Using default tag: latest\nlatest: Pulling from {v.params['name']}",
            "missing-library",
        ),
        Example(lambda v: f"latest: Pulling from library/{v.params['name']}", "wrong-line"),
        Example("Using default tag: latest", "missing-lines"),
    ),
    concepts=("default-tag-latest",),
)


# -- 3. task: pull an explicit tag -----------------------------------------------------------


def _explicit_generate(rng: random.Random, world: Mapping[str, Any]):
    name = rng.choice(sorted(OLDER_TAGS))
    tag = rng.choice([t for t in OLDER_TAGS[name] if t != NOTEBOOK_EXPLICIT_TAG])
    other = rng.choice([t for t in (*OLDER_TAGS[name], NEWEST[name]) if t != tag])
    return {"name": name, "tag": tag, "image": f"{name}:{tag}", "other": other}, None


def _explicit_check(answer: Any, variant: Variant, world: Any) -> list[Part]:
    name, tag = variant.params["name"], variant.params["tag"]
    tags = _local_tags(world)
    if _full(f"{name}:{tag}") in tags:
        return [Part("pulled", 1.0)]
    prefix = _full(name).rsplit(":", 1)[0] + ":"
    have = sorted(t.removeprefix(prefix) for t in tags if t.startswith(prefix))
    if "latest" in have:
        return [
            Part(
                "pulled",
                0.0,
                1.0,
                "missing-tag",
                f"you have `{name}`, which is `{name}:latest`; this task asks for "
                f"`{name}:{tag}`: write the tag after a colon",
            )
        ]
    if have:
        shown = ", ".join(f"`{name}:{t}`" for t in have)
        return [Part("pulled", 0.0, 1.0, "wrong-tag", f"you have {shown} but not `{name}:{tag}`")]
    return [Part("pulled", 0.0, 1.0, "not-done", f"`{name}:{tag}` is not pulled yet")]


def _explicit_solve(world: Any, variant: Variant) -> None:
    run(world, f"docker image pull {variant.params['image']}")


PULL_EXPLICIT_TAG = Exercise(
    id="pull-explicit-tag",
    title="Pull an older version",
    prompt=(
        "Pull the image `{image}`: exactly that version, not the one Docker picks when you "
        "give no tag. Then press **Check**."
    ),
    kind=Kind.TASK,
    generator=_explicit_generate,
    checker=_explicit_check,
    points=2,
    hints=(Hint(1, "The tag goes after the name, separated by a colon: `name:tag`."),),
    mistakes=("missing-tag", "wrong-tag", "not-done"),
    examples=(
        Example(None, "missing-tag", act=lambda w, v: run(w, f"docker pull {v.params['name']}")),
        Example(
            None,
            "wrong-tag",
            act=lambda w, v: run(w, f"docker pull {v.params['name']}:{v.params['other']}"),
        ),
        Example(None, "not-done"),
    ),
    concepts=("explicit-tag",),
    solve=_explicit_solve,
)


# -- 4. two tags, one image -------------------------------------------------------------------


def _shared_generate(rng: random.Random, world: Mapping[str, Any]):
    name, tag = rng.choice(SAME_IMAGE_PAIRS)
    correct = "the same IMAGE ID: the two tags name one image"
    wrong = [
        (
            "two different IMAGE IDs: each tag is its own copy of the image",
            "tags-are-copies",
            "A tag is a name that points at an image, not a copy of it. Look at the IMAGE ID "
            "column: both rows show the same ID.",
        ),
        (
            "a single row: Docker lists an image once, whatever its tags",
            "one-row-per-image",
            "`docker images` prints one row per tag, so one image with two tags takes two "
            "rows (with the same ID).",
        ),
        (
            "the same IMAGE ID, because both were pulled in the same minute",
            "wrong-choice",
            "The time of the pull plays no part: the ID comes from the image's content, and "
            "both tags point at the same content.",
        ),
    ]
    params = {"a": name, "b": f"{name}:{tag}", **choice_params(rng, correct, wrong)}
    return params, correct


SHARED_ID = Exercise(
    id="shared-id",
    title="Two tags, one image",
    prompt=(
        "Pull `{a}` and `{b}`, then run `docker images`. What do the rows of the two names show?"
    ),
    kind=Kind.MULTIPLE_CHOICE,
    generator=_shared_generate,
    max_tries=3,
    hints=(Hint(1, "Run the three commands in a cell and compare the IMAGE ID column."),),
    mistakes=("tags-are-copies", "one-row-per-image", "wrong-choice"),
    examples=(
        Example(
            "two different IMAGE IDs: each tag is its own copy of the image", "tags-are-copies"
        ),
        Example("a single row: Docker lists an image once, whatever its tags", "one-row-per-image"),
        Example("the same IMAGE ID, because both were pulled in the same minute", "wrong-choice"),
    ),
    concepts=("several-tags-one-id",),
)


# -- 5. task: give an image a second name ------------------------------------------------------


def _second_generate(rng: random.Random, world: Mapping[str, Any]):
    name = rng.choice(sorted(OLDER_TAGS))
    tag = rng.choice([t for t in OLDER_TAGS[name] if t != "3.5"] or OLDER_TAGS[name])
    target = f"{world['docker_id']}/{rng.choice(BASES)}:{rng.choice(STAGES)}"
    params = {"name": name, "source": f"{name}:{tag}", "target": target, "key": f"{name}-{tag}"}
    return params, None


def _second_check(answer: Any, variant: Variant, world: Any) -> list[Part]:
    p = variant.params
    tags = _local_tags(world)
    target = _full(p["target"])
    expected = world.catalog_image(p["key"]).id
    if target in tags:
        if tags[target] == expected:
            return [Part("second name", 1.0)]
        return [
            Part(
                "second name",
                0.0,
                1.0,
                "wrong-image",
                f"`{p['target']}` exists but names another image than `{p['source']}`: "
                "compare their IMAGE IDs in `docker images`",
            )
        ]
    repository = target.rsplit(":", 1)[0]
    if any(t.startswith(repository + ":") for t in tags):
        return [
            Part(
                "second name",
                0.0,
                1.0,
                "missing-tag",
                f"you tagged the repository but not with `{p['target'].rsplit(':', 1)[1]}`: "
                "a target without a tag gets `latest`",
            )
        ]
    bare = p["target"].split("/", 1)[1]
    if _full(bare) in tags:
        return [
            Part(
                "second name",
                0.0,
                1.0,
                "wrong-namespace",
                f"you tagged `{bare}`: without a namespace Docker reads it as "
                f"`docker.io/library/{bare}`, the namespace of official images (only Docker's "
                f"team may push there). Write your namespace in front: `{p['target']}`",
            )
        ]
    return [Part("second name", 0.0, 1.0, "not-done", f"there is no image `{p['target']}` yet")]


def _second_solve(world: Any, variant: Variant) -> None:
    p = variant.params
    run(world, f"docker pull {p['source']}", f"docker tag {p['source']} {p['target']}")


SECOND_NAME = Exercise(
    id="tag-same-id",
    title="Give an image a second name",
    prompt=(
        "Give the image `{source}` a second name: tag it as `{target}`, so that both names "
        "show the same IMAGE ID in `docker images`. Then press **Check**."
    ),
    kind=Kind.TASK,
    generator=_second_generate,
    checker=_second_check,
    points=2,
    hints=(
        Hint(1, "`docker tag SOURCE TARGET` needs the source image locally: pull it first."),
        Hint(2, "Write the target in full, tag included: `docker tag SOURCE NAME:TAG`."),
    ),
    mistakes=("wrong-image", "missing-tag", "wrong-namespace", "not-done"),
    examples=(
        Example(
            None,
            "wrong-namespace",
            act=lambda w, v: run(
                w,
                f"docker pull {v.params['source']}",
                f"docker tag {v.params['source']} {v.params['target'].split('/', 1)[1]}",
            ),
        ),
        Example(
            None,
            "wrong-image",
            act=lambda w, v: run(
                w,
                f"docker pull {v.params['name']}",
                f"docker tag {v.params['name']} {v.params['target']}",
            ),
        ),
        Example(
            None,
            "missing-tag",
            act=lambda w, v: run(
                w,
                f"docker pull {v.params['source']}",
                f"docker tag {v.params['source']} {v.params['target'].rsplit(':', 1)[0]}",
            ),
        ),
        Example(None, "not-done", act=lambda w, v: run(w, f"docker pull {v.params['source']}")),
    ),
    concepts=("tag", "several-tags-one-id"),
    solve=_second_solve,
)


# -- 6. a tag moves ---------------------------------------------------------------------------


def _moved_generate(rng: random.Random, world: Mapping[str, Any]):
    name = rng.choice(("alpine", "ubuntu"))
    first, second = rng.sample(OLDER_TAGS[name], 2)
    label = f"{rng.choice(APPS)}/{rng.choice(BASES)}:{rng.choice(STAGES)}"
    a, b = f"{name}:{first}", f"{name}:{second}"
    correct = f"`{b}`: the second `docker tag` moved the tag"
    wrong = [
        (
            f"`{a}`: a tag keeps the image it was given first",
            "tag-is-fixed",
            "A tag is a movable pointer: tagging again with the same name moves it to the new "
            "image, silently.",
        ),
        (
            "both images: a tag can name two images at once",
            "tag-names-two",
            "A tag names exactly one image at a time; several tags may name one image, not "
            "the other way round.",
        ),
        (
            "none: the second command fails because the tag is taken",
            "tag-refused",
            "`docker tag` does not refuse a tag that is in use: it moves it, without a "
            "warning. Try it.",
        ),
    ]
    params = {"a": a, "b": b, "label": label, **choice_params(rng, correct, wrong)}
    return params, correct


MOVED_TAG = Exercise(
    id="moved-tag",
    title="A tag is a pointer that moves",
    prompt=(
        "With `{a}` and `{b}` pulled, you run `docker tag {a} {label}` and then "
        "`docker tag {b} {label}`. Which image does `{label}` name now?"
    ),
    kind=Kind.PREDICT_OUTPUT,
    generator=_moved_generate,
    max_tries=3,
    hints=(Hint(1, "Run both commands, then `docker images`, and compare the IMAGE IDs."),),
    mistakes=("tag-is-fixed", "tag-names-two", "tag-refused"),
    examples=(
        Example(
            lambda v: f"`{v.params['a']}`: a tag keeps the image it was given first", "tag-is-fixed"
        ),
        Example("both images: a tag can name two images at once", "tag-names-two"),
        Example("none: the second command fails because the tag is taken", "tag-refused"),
    ),
    concepts=("tag-is-movable-pointer",),
)


# -- 7. latest is a default, not the newest -----------------------------------------------------

LATEST_COMMANDS = (
    "docker pull ubuntu",
    "docker image pull ubuntu",
    "docker pull ubuntu:latest",
    "docker pull docker.io/library/ubuntu",
)


def _latest_generate(rng: random.Random, world: Mapping[str, Any]):
    command = rng.choice(LATEST_COMMANDS)
    correct = "24.04: the maintainers point `latest` at the long-term-support release"
    wrong = [
        (
            "24.10: `latest` always names the newest release",
            "latest-is-newest",
            "`latest` is only the tag Docker uses when you give none. Ubuntu's maintainers "
            "point it at the long-term-support release, 24.04, so it has 24.04's IMAGE ID.",
        ),
        (
            "whichever release was pushed last: the registry moves `latest` by itself",
            "latest-automatic",
            "No registry moves `latest` for you: it moves only when someone tags and pushes "
            "an image as `latest`.",
        ),
        (
            "19.04: the first release that was pushed",
            "wrong-choice",
            "`latest` is not the oldest either: compare IMAGE IDs in `docker images`.",
        ),
    ]
    return {"command": command, **choice_params(rng, correct, wrong)}, correct


LATEST_NOT_NEWEST = Exercise(
    id="latest-not-newest",
    title="`latest` is a default, not a promise",
    prompt=(
        "Ubuntu's repository has the tags `24.04` and `24.10`; 24.10 is the newer release. "
        "Which release does `{command}` give you? Find out with `%docker` before you answer."
    ),
    kind=Kind.MULTIPLE_CHOICE,
    generator=_latest_generate,
    max_tries=3,
    hints=(Hint(1, "Pull `ubuntu`, `ubuntu:24.04` and `ubuntu:24.10`, then compare IMAGE IDs."),),
    mistakes=("latest-is-newest", "latest-automatic", "wrong-choice"),
    examples=(
        Example("24.10: `latest` always names the newest release", "latest-is-newest"),
        Example(
            "whichever release was pushed last: the registry moves `latest` by itself",
            "latest-automatic",
        ),
        Example("19.04: the first release that was pushed", "wrong-choice"),
    ),
    concepts=("latest-not-newest",),
)


LAB = Lab(
    id=LAB_ID,
    title="01 · Tags: one image, many names",
    version="1",
    exercises=(
        UNIQUE_NAMES,
        PULL_DEFAULT_TAG,
        PULL_EXPLICIT_TAG,
        SHARED_ID,
        SECOND_NAME,
        MOVED_TAG,
        LATEST_NOT_NEWEST,
    ),
    concepts=(
        "globally-unique-name",
        "why-registries",
        "default-tag-latest",
        "explicit-tag",
        "several-tags-one-id",
        "tag-is-movable-pointer",
        "latest-not-newest",
    ),
    world_params=world_params,
    description=(
        "Why an image needs a unique name, registries, tags, the default tag `latest`, "
        "several tags for one image, and tags that move."
    ),
)
