"""Lab 06: the graded assessment, mixing every lab.

Every exercise is randomized per student, says only whether an answer is well-formed and
recorded (``feedback="format-only"``), allows few tries, and has hints that point back to a lab
without giving the answer. The world has the student's Docker Hub account and a classmate, and
the organization of lab 05 on registry.acme.com.

This module ships with labkit, so it holds no key (``withheld=True``): each generator yields only
the parameters a student is shown (a multiple choice's options in a shuffled order that does not
depend on which one is right) and the parsers check the format only. The right answers, mistake
codes, hidden checks, task checkers and solutions are in the instructor's checks folder
(``KEYS``, see :mod:`labkit.grading.key`; the tests keep one under ``tests/grading/pack/``).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from typing import Any

from labkit.exercises import Exercise, Hint, Kind, parse_reference_answer
from labkit.labs import Lab, common
from labkit.labs import organizations as org_lab

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


def _options(rng: random.Random, texts: Iterable[str]) -> dict[str, Any]:
    """A multiple choice's shown parameters: its options sorted, then shuffled by ``rng`` (the
    order says nothing of which one is right). The earlier wordings of options reworded since
    labkit 0.1.0 (``choice_was``) are the instructor's, like the rest of the key: which options
    were reworded, and from what, would point at the right one."""
    choices = sorted(texts)
    rng.shuffle(choices)
    return {"choices": choices}


def _choice(
    id: str,
    title: str,
    prompt: str,
    generator,
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
        concepts=concepts,
    )


# -- 1. a fully qualified name ----------------------------------------------------------------


def _fqn_generate(rng: random.Random, world: Mapping[str, Any]):
    name = rng.choice(sorted(OFFICIAL_TAGS))
    typed = f"{name}:{rng.choice(OFFICIAL_TAGS[name])}" if rng.random() < 0.6 else name
    return {"typed": typed}, None


FULL_NAME = Exercise(
    id="full-name",
    title="Written out in full",
    prompt="Write the fully qualified name Docker uses for `{typed}`: every part, no defaults.",
    kind=Kind.SHORT_ANSWER,
    generator=_fqn_generate,
    parser=parse_reference_answer,
    max_tries=TRIES,
    feedback="format-only",
    hints=_hint("02"),
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
    return {"text": rng.choice(OTHER_NAMES)}, None


NAME_PARTS = Exercise(
    id="name-parts",
    title="The parts of a name",
    prompt="Give the registry, namespace, name and tag Docker reads in `{text}`.",
    kind=Kind.NAME_THE_PARTS,
    generator=_parts_generate,
    max_tries=TRIES,
    feedback="format-only",
    hints=_hint("02"),
    concepts=("other-registries", "org-namespace", "personal-namespace", "globally-unique-name"),
)


# -- 3. latest --------------------------------------------------------------------------------


def _latest_generate(rng: random.Random, world: Mapping[str, Any]):
    name = rng.choice(sorted(OFFICIAL_TAGS))
    right = "whatever image the tag `latest` names, newest or not"
    newest = f"always the highest version, `{name}:{OFFICIAL_TAGS[name][-1]}`"
    options = (
        right,
        f"{newest}, as `latest` is moved on every release",
        "nothing: a name without a tag is an error",
        f"every tag of `{name}`",
    )
    return {"name": name, **_options(rng, options)}, None


LATEST = _choice(
    "latest",
    "No tag given",
    "Which image does `docker pull {name}` download?",
    _latest_generate,
    ("default-tag-latest", "latest-not-newest", "explicit-tag", "tag"),
    "01",
)


# -- 4. several tags --------------------------------------------------------------------------


def _tags_generate(rng: random.Random, world: Mapping[str, Any]):
    name = rng.choice(sorted(OFFICIAL_TAGS))
    tag = rng.choice(OFFICIAL_TAGS[name])
    target = f"{world['docker_id']}/{world['app']}:{rng.randint(1, 5)}.0"
    options = (
        "both names point to the same image ID: nothing was copied",
        "`docker tag` copied the image, so there are now two images",
        f"`{name}:{tag}` was renamed and no longer exists locally",
        "the new name points to the newest version of the image",
    )
    return {"source": f"{name}:{tag}", "target": target, **_options(rng, options)}, None


SEVERAL_TAGS = _choice(
    "several-tags",
    "Two names, one image",
    "After `docker tag {source} {target}`, `docker images` lists both names. What is true?",
    _tags_generate,
    ("several-tags-one-id", "tag-is-movable-pointer", "tag"),
    "01",
)


# -- 5. a valid name --------------------------------------------------------------------------


def _valid_generate(rng: random.Random, world: Mapping[str, Any]):
    repo = rng.choice(("web-app", "web-api"))
    tag = rng.choice(("0.9", "1.0", "12.0"))
    options = (
        f"registry.acme.com/engineering/{repo}:{tag}",
        f"https://registry.acme.com/engineering/{repo}:{tag}",
        f"registry.acme.com/Engineering/{repo}:{tag}",
        f"registry.acme.com/engineering/{repo}/:{tag}",
    )
    return _options(rng, options), None


VALID_NAME = _choice(
    "valid-name",
    "Which name does Docker accept?",
    "Only one of these is a valid image name. Which?",
    _valid_generate,
    ("url-scheme-invalid", "private-registry"),
    "02",
)


# -- 6. official images -----------------------------------------------------------------------


def _official_generate(rng: random.Random, world: Mapping[str, Any]):
    name = rng.choice(sorted(OFFICIAL_TAGS))
    options = (
        "a dedicated team reviews and publishes it in `library`",
        "any Docker Hub user may publish it: official only means popular",
        "its maintainers push it to their own namespace, with no review by anyone at Docker",
        "Docker builds it from a random user's repository",
    )
    return {"name": name, **_options(rng, options)}, None


OFFICIAL = _choice(
    "official-image",
    "What makes an image official",
    "`{name}` is an official image. What does that mean?",
    _official_generate,
    ("official-image-curation", "library-namespace"),
    "03",
)


# -- 7. docker search -------------------------------------------------------------------------


def _search_generate(rng: random.Random, world: Mapping[str, Any]):
    term = rng.choice(("alpine", "nginx", "python"))
    options = (
        "the row with `[OK]` in the OFFICIAL column",
        "the row with the most STARS",
        f"the row named `library/{term}`, since only official images live there",
        "the first row, always",
    )
    return {"term": term, **_options(rng, options)}, None


SEARCH = _choice(
    "search-official",
    "Spot the official image",
    "In the output of `docker search {term}`, how do you recognise the official image?",
    _search_generate,
    ("docker-search-official",),
    "03",
)


# -- 8. scans ---------------------------------------------------------------------------------

SCAN_TAGS = ("3.18", "3.19", "3.20", "3.21")


def _scan_generate(rng: random.Random, world: Mapping[str, Any]):
    return _options(rng, (f"alpine:{tag}" for tag in SCAN_TAGS)), None


SCAN = _choice(
    "scan-most-findings",
    "Read a scan",
    "Scan the alpine tags with `lab.scan(...)`. Which one has the **most** known findings?",
    _scan_generate,
    ("vulnerability-scanning",),
    "03",
)


# -- 9. logging in ----------------------------------------------------------------------------


def _login_generate(rng: random.Random, world: Mapping[str, Any]):
    options = (
        "`--password-stdin`, fed an access token from a secret",
        "`docker login -u ID -p PASSWORD`: one line, and Docker hides the password",
        "any way: `config.json` encrypts whatever you type",
        "a script cannot log in at all",
    )
    return {"docker_id": world["docker_id"], **_options(rng, options)}, None


LOGIN = _choice(
    "login-safely",
    "Logging in from a script",
    "A build script must log in as `{docker_id}`. Which way is the safest?",
    _login_generate,
    ("login-password-stdin", "access-tokens", "config-json-unencrypted"),
    "04",
)


# -- 10. push output --------------------------------------------------------------------------

PUSH_LINES = (
    "Mounted from library/alpine",
    "Layer already exists",
    "Layer already exists in library/alpine",
    "Pushed",
    "Pull complete",
)


def _push_line_generate(rng: random.Random, world: Mapping[str, Any]):
    first = rng.random() < 0.5
    target = f"{world['docker_id']}/{world['app']}"
    situation = (
        f"the first push of `{target}:1.0`, an image built on `alpine`, to Docker Hub"
        if first
        else f"a second push of the same image to `{target}`, as `{target}:1.1`"
    )
    return {"situation": situation, **_options(rng, PUSH_LINES)}, None


PUSH_LINE = _choice(
    "push-layer-line",
    "A layer's line in a push",
    "What does the line of the alpine base layer say at the end of {situation}?",
    _push_line_generate,
    ("push-output", "mounted-from", "layer-already-exists"),
    "04",
)


# -- 11. digest and size ----------------------------------------------------------------------


def _size_generate(rng: random.Random, world: Mapping[str, Any]):
    size = rng.choice((525, 528, 739, 1161))
    options = (
        "the manifest's length in bytes",
        "the total size of the image's layers, compressed, in bytes",
        "the size of the image in kilobytes, on disk",
        "the number of files in the image",
    )
    return {"size": size, **_options(rng, options)}, None


DIGEST_SIZE = _choice(
    "digest-and-size",
    "The last line of a push",
    "A push ends with `1.0: digest: sha256:… size: {size}`. What is `{size}`?",
    _size_generate,
    ("digest-and-size", "push-output"),
    "04",
)


# -- 12. task: push for a classmate -----------------------------------------------------------


def _push_generate(rng: random.Random, world: Mapping[str, Any]):
    name = rng.choice(("alpine", "busybox"))
    source = f"{name}:{rng.choice(OFFICIAL_TAGS[name])}"
    target = f"{world['docker_id']}/{world['app']}:{rng.randint(1, 4)}.{rng.randint(0, 9)}"
    return {"source": source, "target": target}, None


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
    points=2,
    max_tries=3,
    feedback="format-only",
    hints=_hint("04"),
    concepts=("why-registries", "repo-created-on-push", "public-private", "push-output"),
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
    points=2,
    max_tries=3,
    feedback="format-only",
    hints=_hint("05"),
    concepts=("organizations", "teams-permissions", "private-registry"),
)


# -- 14. owners -------------------------------------------------------------------------------


def _owners_generate(rng: random.Random, world: Mapping[str, Any]):
    person = world["members"][rng.choice(("developers", "operations"))]
    options = (
        "make them an owner of the organization",
        "give their team Admin on every repository",
        "make them an editor of the organization",
        "add them to a team named `owners` with Read & Write",
    )
    return {"person": person, **_options(rng, options)}, None


OWNERS = _choice(
    "owners",
    "Who can manage teams",
    "`{person}` must be able to create teams and invite members in `{org}`. What do you do?",
    _owners_generate,
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
    withheld=True,
)
