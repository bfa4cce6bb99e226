"""Lab 06: the graded assessment, mixing every lab.

Every exercise is randomized per student, says only whether an answer is well-formed and
recorded (``feedback="format-only"``), allows few tries, and has hints that point back to a lab
without giving the answer. The world has the student's Docker Hub account and a classmate, and
the organization of lab 05 on registry.acme.com.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from functools import cache
from typing import Any

from labkit.exercises import (
    Example,
    Exercise,
    Hint,
    Kind,
    Part,
    Variant,
    check_pushed,
    choice_params,
    compare_reference_parts,
    compare_references,
    parse_reference_answer,
    pick_choice,
)
from labkit.labs import Lab, common
from labkit.labs import organizations as org_lab
from labkit.labs.common import push_as_student
from labkit.reference import parse_reference
from labkit.world import World

LAB_ID = "06-assessment"
TRIES = 2
CLASSMATES = common.PEOPLE[:6]
APPS = common.APPS[:6]
OFFICIAL_TAGS = {
    "alpine": ("3.19", "3.20", "3.21"),
    "ubuntu": ("22.04", "24.04"),
    "nginx": ("1.26", "1.27"),
    "python": ("3.12", "3.13"),
    "busybox": ("1.36", "1.37"),
}
OTHER_NAMES = (
    "gcr.io/gnschenker/sample-app:1.1",
    "registry.acme.com/engineering/web-app:1.0",
    "quay.io/labkit/hello",
    "ghcr.io/octolabs/hello-web:1.0",
    "acme/web-api:12.0",
    "microsoft/nanoserver",
)


def world_params(student: str) -> dict[str, Any]:
    """Lab 05's organization on registry.acme.com, plus a Docker Hub account and a classmate."""
    rng = random.Random(f"{LAB_ID}/world/{student}")
    params = org_lab.world_params(student)
    params["classmate"] = f"{rng.choice(CLASSMATES)}{rng.randint(10, 99)}"
    params["app"] = rng.choice(APPS)
    return params


def setup(world: Any, params: Mapping[str, Any]) -> None:
    """Lab 05's setup, then the student and a classmate signed up on Docker Hub."""
    org_lab.setup(world, params)
    world.add_user(params["docker_id"], params["password"])
    world.add_user(params["classmate"], f"{params['password']}-mate")


def _hint(lab: str) -> tuple[Hint, ...]:
    return (Hint(1, f"This question is about what lab {lab} covers; reread it if unsure."),)


def _choice(
    id: str,
    title: str,
    prompt: str,
    generator,
    codes: tuple[str, ...],
    concepts: tuple[str, ...],
    lab: str,
) -> Exercise:
    return Exercise(
        id=id,
        title=title,
        prompt=prompt,
        kind=Kind.MULTIPLE_CHOICE,
        generator=generator,
        max_tries=TRIES,
        feedback="format-only",
        hints=_hint(lab),
        mistakes=codes,
        examples=tuple(Example(pick_choice(code), code) for code in codes),
        concepts=concepts,
    )


# -- 1. a fully qualified name ----------------------------------------------------------------


def _fqn_generate(rng: random.Random, world: Mapping[str, Any]):
    name = rng.choice(sorted(OFFICIAL_TAGS))
    typed = f"{name}:{rng.choice(OFFICIAL_TAGS[name])}" if rng.random() < 0.6 else name
    return {"typed": typed}, str(parse_reference(typed).with_default_tag())


def _fqn_check(answer, variant: Variant, world) -> list[Part]:
    return compare_references(answer, variant.answer, fully_qualified=True)


FULL_NAME = Exercise(
    id="full-name",
    title="Written out in full",
    prompt="Write the fully qualified name Docker uses for `{typed}`: every part, no defaults.",
    kind=Kind.SHORT_ANSWER,
    generator=_fqn_generate,
    parser=parse_reference_answer,
    checker=_fqn_check,
    max_tries=TRIES,
    feedback="format-only",
    hints=_hint("02"),
    mistakes=("missing-registry", "missing-library", "missing-tag"),
    examples=(
        Example(lambda v: v.answer.removeprefix("docker.io/"), "missing-registry"),
        Example(lambda v: v.answer.replace("library/", ""), "missing-library"),
        Example(lambda v: v.answer.rsplit(":", 1)[0], "missing-tag"),
    ),
    concepts=(
        "fully-qualified-name",
        "default-registry-docker-io",
        "official-images-no-namespace",
        "library-namespace",
        "default-tag-latest",
    ),
)


# -- 2. the parts of a name on another registry -----------------------------------------------


def _parts_generate(rng: random.Random, world: Mapping[str, Any]):
    text = rng.choice(OTHER_NAMES)
    return {"text": text}, str(parse_reference(text).with_default_tag())


def _parts_check(answer, variant: Variant, world) -> list[Part]:
    return compare_reference_parts(answer, variant.answer)


def _parts(variant: Variant, **changes: str) -> dict[str, str]:
    ref = parse_reference(variant.answer)
    parts = {"registry": ref.domain, "namespace": ref.namespace or "", "name": ref.name}
    parts["tag"] = ref.tag or "latest"
    parts.update(changes)
    return parts


NAME_PARTS = Exercise(
    id="name-parts",
    title="The parts of a name",
    prompt="Give the registry, namespace, name and tag Docker reads in `{text}`.",
    kind=Kind.NAME_THE_PARTS,
    generator=_parts_generate,
    checker=_parts_check,
    max_tries=TRIES,
    feedback="format-only",
    hints=_hint("02"),
    mistakes=("missing-registry", "missing-tag", "wrong-namespace"),
    examples=(
        Example(lambda v: _parts(v, registry=""), "missing-registry"),
        Example(lambda v: _parts(v, tag=""), "missing-tag"),
        Example(lambda v: _parts(v, namespace="library"), "wrong-namespace"),
    ),
    concepts=("other-registries", "org-namespace", "personal-namespace", "globally-unique-name"),
)


# -- 3. latest --------------------------------------------------------------------------------


def _latest_generate(rng: random.Random, world: Mapping[str, Any]):
    name = rng.choice(sorted(OFFICIAL_TAGS))
    correct = "whatever image the tag `latest` names, newest or not"
    wrong = {
        f"always the highest version, `{name}:{OFFICIAL_TAGS[name][-1]}`, as `latest` is moved "
        "on every release": "latest-is-newest",
        "nothing: a name without a tag is an error": "missing-tag",
        f"every tag of `{name}`": "wrong-choice",
    }
    return {"name": name, **choice_params(rng, correct, wrong)}, correct


LATEST = _choice(
    "latest",
    "No tag given",
    "Which image does `docker pull {name}` download?",
    _latest_generate,
    ("latest-is-newest", "missing-tag"),
    ("default-tag-latest", "latest-not-newest", "explicit-tag", "tag"),
    "01",
)


# -- 4. several tags --------------------------------------------------------------------------


def _tags_generate(rng: random.Random, world: Mapping[str, Any]):
    name = rng.choice(sorted(OFFICIAL_TAGS))
    tag = rng.choice(OFFICIAL_TAGS[name])
    target = f"{world['docker_id']}/{world['app']}:{rng.randint(1, 5)}.0"
    correct = "both names point to the same image ID: nothing was copied"
    wrong = {
        "`docker tag` copied the image, so there are now two images": "tag-copies",
        f"`{name}:{tag}` was renamed and no longer exists locally": "tag-renames",
        "the new name points to the newest version of the image": "latest-is-newest",
    }
    params = {"source": f"{name}:{tag}", "target": target, **choice_params(rng, correct, wrong)}
    return params, correct


SEVERAL_TAGS = _choice(
    "several-tags",
    "Two names, one image",
    "After `docker tag {source} {target}`, `docker images` lists both names. What is true?",
    _tags_generate,
    ("tag-copies", "tag-renames"),
    ("several-tags-one-id", "tag-is-movable-pointer", "tag"),
    "01",
)


# -- 5. a valid name --------------------------------------------------------------------------


def _valid_generate(rng: random.Random, world: Mapping[str, Any]):
    repo = rng.choice(("web-app", "web-api"))
    tag = rng.choice(("0.9", "1.0", "12.0"))
    correct = f"registry.acme.com/engineering/{repo}:{tag}"
    wrong = {
        f"https://registry.acme.com/engineering/{repo}:{tag}": "url-scheme",
        f"registry.acme.com/Engineering/{repo}:{tag}": "uppercase-repo",
        f"registry.acme.com/engineering/{repo}/:{tag}": "wrong-choice",
    }
    return choice_params(rng, correct, wrong), correct


VALID_NAME = _choice(
    "valid-name",
    "Which name does Docker accept?",
    "Only one of these is a valid image name. Which?",
    _valid_generate,
    ("url-scheme", "uppercase-repo"),
    ("url-scheme-invalid", "private-registry"),
    "02",
)


# -- 6. official images -----------------------------------------------------------------------


def _official_generate(rng: random.Random, world: Mapping[str, Any]):
    name = rng.choice(sorted(OFFICIAL_TAGS))
    correct = "a dedicated team reviews and publishes it in `library`"
    wrong = {
        "any Docker Hub user may publish it: official only means popular": "anyone-publishes",
        "its maintainers push it to their own namespace, with no review by anyone at Docker": (
            "no-review"
        ),
        "Docker builds it from a random user's repository": "wrong-choice",
    }
    return {"name": name, **choice_params(rng, correct, wrong)}, correct


OFFICIAL = _choice(
    "official-image",
    "What makes an image official",
    "`{name}` is an official image. What does that mean?",
    _official_generate,
    ("anyone-publishes", "no-review"),
    ("official-image-curation", "library-namespace"),
    "03",
)


# -- 7. docker search -------------------------------------------------------------------------


def _search_generate(rng: random.Random, world: Mapping[str, Any]):
    term = rng.choice(("alpine", "nginx", "python"))
    correct = "the row with `[OK]` in the OFFICIAL column"
    wrong = {
        "the row with the most STARS": "stars-not-official",
        f"the row named `library/{term}`, since only official images live there": (
            "search-shows-familiar"
        ),
        "the first row, always": "wrong-choice",
    }
    return {"term": term, **choice_params(rng, correct, wrong)}, correct


SEARCH = _choice(
    "search-official",
    "Spot the official image",
    "In the output of `docker search {term}`, how do you recognise the official image?",
    _search_generate,
    ("stars-not-official", "search-shows-familiar"),
    ("docker-search-official",),
    "03",
)


# -- 8. scans ---------------------------------------------------------------------------------


@cache
def _scan_totals(tags: tuple[str, ...]) -> dict[str, int]:
    world = World.default()
    return {tag: len(world.scan(f"alpine:{tag}").findings) for tag in tags}


def _scan_generate(rng: random.Random, world: Mapping[str, Any]):
    tags = ("3.18", "3.19", "3.20", "3.21")
    totals = _scan_totals(tags)
    most = max(tags, key=lambda t: totals[t])
    fewest = min(tags, key=lambda t: totals[t])
    wrong = {f"alpine:{t}": "wrong-choice" for t in tags if t not in (most, fewest)}
    wrong[f"alpine:{fewest}"] = "fewest-not-most"
    return choice_params(rng, f"alpine:{most}", wrong), f"alpine:{most}"


SCAN = _choice(
    "scan-most-findings",
    "Read a scan",
    "Scan the alpine tags with `lab.scan(...)`. Which one has the **most** known findings?",
    _scan_generate,
    ("fewest-not-most", "wrong-choice"),
    ("vulnerability-scanning",),
    "03",
)


# -- 9. logging in ----------------------------------------------------------------------------


def _login_generate(rng: random.Random, world: Mapping[str, Any]):
    correct = "`--password-stdin`, fed an access token from a secret"
    wrong = {
        "`docker login -u ID -p PASSWORD`: one line, and Docker hides the password": (
            "password-on-command-line"
        ),
        "any way: `config.json` encrypts whatever you type": "config-json-encrypted",
        "a script cannot log in at all": "wrong-choice",
    }
    return {"docker_id": world["docker_id"], **choice_params(rng, correct, wrong)}, correct


LOGIN = _choice(
    "login-safely",
    "Logging in from a script",
    "A build script must log in as `{docker_id}`. Which way is the safest?",
    _login_generate,
    ("password-on-command-line", "config-json-encrypted"),
    ("login-password-stdin", "access-tokens", "config-json-unencrypted"),
    "04",
)


# -- 10. push output --------------------------------------------------------------------------


def _push_line_generate(rng: random.Random, world: Mapping[str, Any]):
    first = rng.random() < 0.5
    target = f"{world['docker_id']}/{world['app']}"
    situation = (
        f"the first push of `{target}:1.0`, an image built on `alpine`, to Docker Hub"
        if first
        else f"a second push of the same image to `{target}`, as `{target}:1.1`"
    )
    correct = "Mounted from library/alpine" if first else "Layer already exists"
    lines = {
        "Mounted from library/alpine",
        "Layer already exists",
        "Layer already exists in library/alpine",
        "Pushed",
        "Pull complete",
    }
    codes = {"Pushed": "pushed-again", "Pull complete": "wrong-line"}
    wrong = {line: codes.get(line, "wrong-choice") for line in sorted(lines - {correct})}
    return {"situation": situation, **choice_params(rng, correct, wrong)}, correct


PUSH_LINE = _choice(
    "push-layer-line",
    "A layer's line in a push",
    "What does the line of the alpine base layer say at the end of {situation}?",
    _push_line_generate,
    ("pushed-again", "wrong-line"),
    ("push-output", "mounted-from", "layer-already-exists"),
    "04",
)


# -- 11. digest and size ----------------------------------------------------------------------


def _size_generate(rng: random.Random, world: Mapping[str, Any]):
    size = rng.choice((525, 528, 739, 1161))
    correct = "the manifest's length in bytes"
    wrong = {
        "the total size of the image's layers, compressed, in bytes": "size-is-layers",
        "the size of the image in kilobytes, on disk": "size-on-disk",
        "the number of files in the image": "wrong-choice",
    }
    return {"size": size, **choice_params(rng, correct, wrong)}, correct


DIGEST_SIZE = _choice(
    "digest-and-size",
    "The last line of a push",
    "A push ends with `1.0: digest: sha256:… size: {size}`. What is `{size}`?",
    _size_generate,
    ("size-is-layers", "size-on-disk"),
    ("digest-and-size", "push-output"),
    "04",
)


# -- 12. task: push for a classmate -----------------------------------------------------------


def _push_generate(rng: random.Random, world: Mapping[str, Any]):
    name = rng.choice(("alpine", "busybox"))
    source = f"{name}:{rng.choice(OFFICIAL_TAGS[name])}"
    target = f"{world['docker_id']}/{world['app']}:{rng.randint(1, 4)}.{rng.randint(0, 9)}"
    return {"source": source, "target": target}, None


def _push_check(answer, variant: Variant, world) -> list[Part]:
    return check_pushed(world, variant.params["target"], reader=variant.params["classmate"])


def _push_solve(world, variant: Variant) -> None:
    push_as_student(world, variant.params, variant.params["target"])


def _push_logged_out(world, variant: Variant) -> None:
    push_as_student(world, variant.params, variant.params["target"], login=False)


def _push_private(world, variant: Variant) -> None:
    _push_solve(world, variant)
    p = variant.params
    world.hub(p["docker_id"]).set_visibility(p["target"].split(":")[0], True)


def _push_other_tag(world, variant: Variant) -> None:
    p = variant.params
    push_as_student(world, p, p["target"].rsplit(":", 1)[0] + ":latest")


SHARE_IMAGE = Exercise(
    id="share-image",
    title="Ship an image to a classmate",
    prompt=(
        "Your classmate `{classmate}` needs `{source}` from you, as `{target}` on Docker Hub. "
        "Log in as `{docker_id}` (password `{password}`) and make it so that `{classmate}` can "
        "pull it."
    ),
    kind=Kind.TASK,
    generator=_push_generate,
    checker=_push_check,
    points=2,
    max_tries=3,
    feedback="format-only",
    hints=_hint("04"),
    mistakes=("not-logged-in", "repo-private", "wrong-tag"),
    examples=(
        Example(None, "not-logged-in", act=_push_logged_out),
        Example(None, "repo-private", act=_push_private),
        Example(None, "wrong-tag", act=_push_other_tag),
    ),
    concepts=("why-registries", "repo-created-on-push", "public-private", "push-output"),
    solve=_push_solve,
)


# -- 13. task: teams on the private registry --------------------------------------------------

QA_READ = Exercise(
    id="qa-read-only",
    title="QA pulls, never pushes",
    prompt=(
        "On registry.acme.com, in your organization `{org}` (use "
        "`lab.world.hub(lab.params['docker_id'], 'registry.acme.com')`), let team `qa` pull "
        "`{repository}` but not push to it; the repository stays private."
    ),
    kind=Kind.TASK,
    generator=org_lab.QA_PULL_ONLY.generator,
    checker=org_lab.QA_PULL_ONLY.checker,
    points=2,
    max_tries=3,
    feedback="format-only",
    hints=_hint("05"),
    hidden=org_lab.QA_PULL_ONLY.hidden,
    mistakes=org_lab.QA_PULL_ONLY.mistakes,
    examples=org_lab.QA_PULL_ONLY.examples,
    concepts=("organizations", "teams-permissions", "private-registry"),
    solve=org_lab.QA_PULL_ONLY.solve,
)


# -- 14. owners -------------------------------------------------------------------------------


def _owners_generate(rng: random.Random, world: Mapping[str, Any]):
    person = world["members"][rng.choice(("developers", "operations"))]
    correct = "make them an owner of the organization"
    wrong = {
        "give their team Admin on every repository": "admin-is-per-repo",
        "make them an editor of the organization": "editor-not-owner",
        "add them to a team named `owners` with Read & Write": "wrong-choice",
    }
    return {"person": person, **choice_params(rng, correct, wrong)}, correct


OWNERS = _choice(
    "owners",
    "Who can manage teams",
    "`{person}` must be able to create teams and invite members in `{org}`. What do you do?",
    _owners_generate,
    ("admin-is-per-repo", "editor-not-owner"),
    ("owners", "organizations"),
    "05",
)


LAB = Lab(
    id=LAB_ID,
    title="Assessment: naming, tagging, sharing and shipping images",
    version="1",
    exercises=(
        FULL_NAME,
        NAME_PARTS,
        LATEST,
        SEVERAL_TAGS,
        VALID_NAME,
        OFFICIAL,
        SEARCH,
        SCAN,
        LOGIN,
        PUSH_LINE,
        DIGEST_SIZE,
        SHARE_IMAGE,
        QA_READ,
        OWNERS,
    ),
    concepts=(),
    world_params=world_params,
    setup=setup,
    description="A graded capstone: answers are checked at grading only, with few tries.",
)
