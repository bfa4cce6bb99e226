"""A small but real lab: one exercise of each kind. Copy it to start a lab of your own.

Each exercise is one definition: a generator that returns the variant's parameters and its
answer together, the kind's parser (or a custom one), a checker that compares part by part and
names the mistake, hints, hidden checks, and example wrong answers that ``labkit lint`` uses to
prove every mistake code is reachable.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from labkit.accounts import Action, Principal
from labkit.errors import InvalidReference
from labkit.exercises import (
    Example,
    Exercise,
    FormatError,
    HiddenCheck,
    Hint,
    Kind,
    Part,
    Variant,
    check_pushed,
    compare_lines,
    compare_references,
    parse_reference_answer,
    plain_value,
)
from labkit.labs import Lab, common, lab_password, student_docker_id
from labkit.labs.common import login_student, push_as_student, run
from labkit.reference import parse_reference

LAB_ID = "demo"

# Official images of the catalog with tags they really have (variants pick from these).
OFFICIAL_TAGS = {
    "alpine": ("3.18", "3.19", "3.20", "3.21"),
    "busybox": ("1.36", "1.37"),
    "ubuntu": ("20.04", "22.04", "24.04"),
    "nginx": ("1.26", "1.27"),
    "python": ("3.12", "3.13"),
    "debian": ("12", "bookworm"),
}
TEAMMATES = common.PEOPLE[:6]
APPS = common.APPS[:6]
TEAMS = ("developers", "backend", "builders", "platform")


# -- the lab-level variant: the accounts the student works with -------------------------------


def world_params(student: str) -> dict[str, Any]:
    """The student's Docker ID and password, a teammate, an organization and a team."""
    rng = random.Random(f"{LAB_ID}/world/{student}")
    docker_id = student_docker_id(student)
    return {
        "docker_id": docker_id,
        "password": lab_password(student),
        "teammate": f"{rng.choice(TEAMMATES)}{rng.randint(10, 99)}",
        "org": f"{docker_id}team",
        "team": rng.choice(TEAMS),
        "app": rng.choice(APPS),
    }


def setup(world: Any, params: Mapping[str, Any]) -> None:
    """Sign the student and the teammate up, and give the student an organization with a team
    (the teammate in it) and a private repository."""
    world.add_user(params["docker_id"], params["password"])
    world.add_user(params["teammate"], f"{params['password']}-mate")
    hub = world.hub(params["docker_id"])
    hub.create_org(params["org"])
    hub.add_member(params["org"], params["teammate"])
    hub.create_team(params["org"], params["team"])
    hub.add_team_member(params["org"], params["team"], params["teammate"])
    hub.create_repository(f"{params['org']}/{params['app']}", private=True)


# -- 1. short answer: a fully qualified name -----------------------------------------------------


def _official(rng: random.Random) -> tuple[str, str]:
    name = rng.choice(sorted(OFFICIAL_TAGS))
    return name, rng.choice(OFFICIAL_TAGS[name])


def _fqn_generate(rng: random.Random, world: Mapping[str, Any]):
    name, tag = _official(rng)
    short = f"{name}:{tag}"
    return {"short": short, "name": name, "tag": tag}, str(parse_reference(short))


def _fqn_check(answer, variant: Variant, world) -> list[Part]:
    return compare_references(answer, variant.answer, fully_qualified=True)


def _fqn_exists(answer, variant: Variant, world) -> bool:
    ref = answer.reference
    registry = world.find_registry(ref.domain) if ref and world else None
    repo = registry.repository(ref.path) if registry else None
    return repo is not None and (ref.tag or "latest") in repo.tags


FULLY_QUALIFIED = Exercise(
    id="fully-qualified",
    title="The full name of an official image",
    prompt=(
        "`docker pull {short}` pulls an official image. Write its **fully qualified** name: "
        "registry, namespace, repository and tag, nothing left for Docker to fill in."
    ),
    kind=Kind.SHORT_ANSWER,
    generator=_fqn_generate,
    parser=parse_reference_answer,
    checker=_fqn_check,
    points=2,
    hints=(
        Hint(1, "A fully qualified name has the form `registry/namespace/name:tag`."),
        Hint(2, "Official images are on Docker Hub (`docker.io`) in the `library` namespace."),
    ),
    hidden=(HiddenCheck("names an image that exists", _fqn_exists),),
    mistakes=(
        "missing-registry",
        "missing-library",
        "missing-tag",
        "latest-is-newest",
        "wrong-tag",
        "wrong-registry",
        "url-scheme",
        "uppercase-repo",
    ),
    examples=(
        Example(lambda v: f"library/{v.params['name']}:{v.params['tag']}", "missing-registry"),
        Example(lambda v: f"docker.io/{v.params['name']}:{v.params['tag']}", "missing-library"),
        Example(lambda v: f"docker.io/library/{v.params['name']}", "missing-tag"),
        Example(lambda v: f"docker.io/library/{v.params['name']}:latest", "latest-is-newest"),
        Example(lambda v: f"docker.io/library/{v.params['name']}:0.0.1", "wrong-tag"),
        Example(lambda v: f"registry-1.docker.io/library/{v.params['short']}", "wrong-registry"),
        Example(lambda v: f"https://docker.io/library/{v.params['short']}", "url-scheme"),
        Example(lambda v: f"docker.io/library/{v.params['short'].upper()}", "uppercase-repo"),
    ),
    concepts=("fully qualified name", "official images", "default tag"),
)


# -- 2. multiple choice: what `latest` means -----------------------------------------------------

CHOICE_LATEST = "the image the tag `latest` points to, whatever version that is"


def _latest_generate(rng: random.Random, world: Mapping[str, Any]):
    name, _ = _official(rng)
    newest = OFFICIAL_TAGS[name][-1]
    choices = [
        CHOICE_LATEST,
        f"the newest version, `{name}:{newest}`",
        "nothing: Docker refuses a name without a tag",
        f"every tag of `{name}`",
    ]
    mistakes = {choices[1]: "latest-is-newest", choices[2]: "missing-tag"}
    rng.shuffle(choices)
    return {"name": name, "choices": choices, "choice_mistakes": mistakes}, CHOICE_LATEST


LATEST_MEANING = Exercise(
    id="latest-meaning",
    title="What a name without a tag pulls",
    prompt="Which image does `docker pull {name}` download?",
    kind=Kind.MULTIPLE_CHOICE,
    generator=_latest_generate,
    max_tries=2,
    hints=(Hint(1, "Docker adds a tag when you give none. Which one?"),),
    mistakes=("latest-is-newest", "missing-tag", "wrong-choice"),
    examples=(
        Example(
            lambda v: (
                f"the newest version, `{v.params['name']}:{OFFICIAL_TAGS[v.params['name']][-1]}`"
            ),
            "latest-is-newest",
        ),
        Example("nothing: Docker refuses a name without a tag", "missing-tag"),
        Example(lambda v: f"every tag of `{v.params['name']}`", "wrong-choice"),
    ),
    concepts=("default tag",),
    # A known give-away, kept: records of labkit 0.1 (and the grading tests' classes) name
    # these options, and changing them would change every student's variant.
    options={"giveaway_ok": "options kept as in labkit 0.1 so that its records still grade"},
)


# -- 3. name the parts ---------------------------------------------------------------------------


def _parts_generate(rng: random.Random, world: Mapping[str, Any]):
    name = rng.choice(sorted(OFFICIAL_TAGS))
    ref = parse_reference(name).with_default_tag()
    key = str(ref)
    return {"text": name}, key


NAME_THE_PARTS = Exercise(
    id="name-the-parts",
    title="The parts Docker fills in",
    prompt=(
        "Docker reads the name `{text}` as registry, namespace, repository name and tag. "
        "Fill in each part as Docker does, defaults included."
    ),
    kind=Kind.NAME_THE_PARTS,
    generator=_parts_generate,
    hints=(Hint(1, "Every part has a default: the registry, the namespace and the tag."),),
    mistakes=(
        "missing-registry",
        "missing-library",
        "missing-tag",
        "wrong-registry",
        "wrong-name",
        "uppercase-repo",
    ),
    examples=(
        Example(lambda v: _parts(v, registry=""), "missing-registry"),
        Example(lambda v: _parts(v, namespace=""), "missing-library"),
        Example(lambda v: _parts(v, tag=""), "missing-tag"),
        Example(lambda v: _parts(v, registry="registry-1.docker.io"), "wrong-registry"),
        Example(lambda v: _parts(v, name="hello"), "wrong-name"),
        Example(lambda v: _parts(v, name=v.params["text"].upper()), "uppercase-repo"),
    ),
    concepts=("registry", "namespace", "default tag"),
)


def _parts(variant: Variant, **changes: str) -> dict[str, str]:
    """The key's parts with some changed (for the examples and tests)."""
    ref = parse_reference(variant.answer)
    parts = {"registry": ref.domain, "namespace": ref.namespace or "", "name": ref.name}
    parts["tag"] = ref.tag or "latest"
    parts.update(changes)
    return parts


# -- 4. predict the output -----------------------------------------------------------------------


def _predict_generate(rng: random.Random, world: Mapping[str, Any]):
    name, tag = _official(rng)
    typed = f"{name.capitalize()}:{tag}"
    try:
        parse_reference(typed)
    except InvalidReference as error:
        return {"typed": typed}, str(error)
    raise AssertionError(f"{typed} should be invalid")  # pragma: no cover


def _predict_check(answer: str, variant: Variant, world) -> list[Part]:
    parts = compare_lines(answer, variant.answer)
    without_library = variant.answer.replace("library/", "")
    given = " ".join(answer.split())
    if given == without_library:
        return [
            Part(
                "line 1",
                0.0,
                1.0,
                "missing-library",
                "Docker has already added `library/` when it checks the name: it quotes "
                "the normalized repository name",
            )
        ]
    return parts


PREDICT_ERROR = Exercise(
    id="predict-uppercase",
    title="What Docker says about uppercase",
    prompt="What does `docker pull {typed}` print? Type the line exactly.",
    kind=Kind.PREDICT_OUTPUT,
    generator=_predict_generate,
    checker=_predict_check,
    hints=(Hint(1, "It is an `invalid reference format` error that quotes the repository."),),
    mistakes=("wrong-line", "extra-lines", "missing-library"),
    examples=(
        Example("Error: no such image", "wrong-line"),
        Example(
            lambda v: v.answer + "\nRun 'docker pull --help' for more information", "extra-lines"
        ),
        Example(lambda v: v.answer.replace("library/", ""), "missing-library"),
    ),
    concepts=("reference format",),
)


# -- 5. task: share a repository with a team -------------------------------------------------------


def _share_generate(rng: random.Random, world: Mapping[str, Any]):
    return {"repository": f"{world['org']}/{world['app']}"}, None


def _share_check(answer, variant: Variant, world) -> list[Part]:
    p = variant.params
    registry = world.registry("docker.io")
    parts = []
    decision = registry.decide(Principal(p["teammate"]), Action.PUSH, p["repository"])
    if decision:
        parts.append(Part("team can push", 1.0))
    elif decision.reason == "read-only":
        parts.append(
            Part(
                "team can push",
                0.0,
                1.0,
                "team-read-only",
                f"team `{p['team']}` has Read-only access: pushing needs Read & Write",
            )
        )
    else:
        parts.append(
            Part(
                "team can push",
                0.0,
                1.0,
                "no-team-access",
                f"team `{p['team']}` has no access to `{p['repository']}` yet",
            )
        )
    repo = registry.repository(p["repository"])
    if repo is not None and not repo.private:
        parts.append(Part("anyone can pull", 1.0))
    else:
        parts.append(
            Part(
                "anyone can pull",
                0.0,
                1.0,
                "repo-private",
                f"`{p['repository']}` is private, so only members with access can pull it",
            )
        )
    return parts


def _share_solve(world, variant: Variant) -> None:
    p = variant.params
    hub = world.hub(p["docker_id"])
    hub.grant(p["org"], p["team"], p["app"], "write")
    hub.set_visibility(p["repository"], False)


def _grant_read(world, variant: Variant) -> None:
    p = variant.params
    world.hub(p["docker_id"]).grant(p["org"], p["team"], p["app"], "read")


def _still_admin(answer, variant: Variant, world) -> bool:
    p = variant.params
    return bool(
        world.registry().decide(Principal(p["docker_id"]), Action.SET_VISIBILITY, p["repository"])
    )


SHARE_WITH_TEAM = Exercise(
    id="share-with-team",
    title="Let your team push, and everyone pull",
    prompt=(
        "Your teammate `{teammate}` is in the team `{team}` of your organization `{org}`. "
        "Using `lab.hub`, make sure the team can **push** to `{repository}` and that anyone "
        "can pull it."
    ),
    kind=Kind.TASK,
    generator=_share_generate,
    checker=_share_check,
    points=2,
    hints=(Hint(1, "Hub's permission levels are Read-only, Read & Write and Admin."),),
    hidden=(HiddenCheck("you can still administer the repository", _still_admin),),
    mistakes=("team-read-only", "no-team-access", "repo-private"),
    examples=(
        Example(None, "team-read-only", act=_grant_read),
        Example(None, "no-team-access"),
        Example(None, "repo-private"),
    ),
    concepts=("organizations", "teams", "visibility"),
    solve=_share_solve,
)


# -- 6. task: push an image under your name --------------------------------------------------------


def _push_generate(rng: random.Random, world: Mapping[str, Any]):
    name, tag = _official(rng)
    version = f"{rng.randint(1, 4)}.{rng.randint(0, 9)}"
    target = f"{world['docker_id']}/{world['app']}:{version}"
    return {"source": f"{name}:{tag}", "target": target, "version": version}, target


def _push_check(answer, variant: Variant, world) -> list[Part]:
    return check_pushed(world, variant.params["target"], reader=None)


def _push_solve(world, variant: Variant) -> None:
    push_as_student(world, variant.params, variant.params["target"])


def _push_logged_out(world, variant: Variant) -> None:
    push_as_student(world, variant.params, variant.params["target"], login=False)


def _push_not_pushed(world, variant: Variant) -> None:
    p = variant.params
    login_student(world, p)
    run(world, f"docker pull {p['source']}", f"docker tag {p['source']} {p['target']}")


def _push_wrong_tag(world, variant: Variant) -> None:
    p = variant.params
    push_as_student(world, p, p["target"].rsplit(":", 1)[0] + ":latest")


def _push_wrong_namespace(world, variant: Variant) -> None:
    p = variant.params
    push_as_student(world, p, f"{p['org']}/{p['target'].split('/', 1)[1]}")


def _push_private(world, variant: Variant) -> None:
    _push_solve(world, variant)
    p = variant.params
    world.hub(p["docker_id"]).set_visibility(p["target"].split(":")[0], True)


PUSH_YOUR_IMAGE = Exercise(
    id="push-your-image",
    title="Push an image under your Docker ID",
    prompt=(
        "Log in as `{docker_id}` (password `{password}`), then put the image `{source}` on "
        "Docker Hub as `{target}` so that anyone can pull it."
    ),
    kind=Kind.TASK,
    generator=_push_generate,
    checker=_push_check,
    points=2,
    hints=(
        Hint(1, "Three steps: `docker login`, `docker tag SOURCE TARGET`, `docker push TARGET`."),
    ),
    mistakes=("not-logged-in", "not-pushed", "wrong-tag", "wrong-namespace", "repo-private"),
    examples=(
        Example(None, "not-logged-in", act=_push_logged_out),
        Example(None, "not-pushed", act=_push_not_pushed),
        Example(None, "wrong-tag", act=_push_wrong_tag),
        Example(None, "wrong-namespace", act=_push_wrong_namespace),
        Example(None, "repo-private", act=_push_private),
    ),
    concepts=("login", "tag", "push"),
    solve=_push_solve,
)


# -- 7. code: a value passed with lab.answer ------------------------------------------------------


def _code_generate(rng: random.Random, world: Mapping[str, Any]):
    names = []
    for _ in range(3):
        name, tag = _official(rng)
        names.append(f"{name}:{tag}" if rng.random() < 0.7 else name)
    names.append(f"{world['docker_id']}/{world['app']}")
    return {"names": names}, [str(parse_reference(n).with_default_tag()) for n in names]


def _code_parse(raw: Any, variant: Variant) -> list[str]:
    value = plain_value(raw)
    if type(value) is not list or not all(type(item) is str for item in value):
        raise FormatError("pass a list of strings: lab.answer('fully-qualify', [...])")
    return value


def _code_check(answer: list[str], variant: Variant, world) -> list[Part]:
    key = variant.answer
    if len(answer) != len(key):
        return [
            Part(
                "length",
                0.0,
                1.0,
                "wrong-value",
                f"the list has {len(answer)} names; there are {len(key)} to qualify",
            )
        ]
    parts = []
    for index, (given, expected) in enumerate(zip(answer, key, strict=True)):
        try:
            item = compare_references(given, expected, fully_qualified=True)
        except FormatError as error:
            parts.append(Part(f"name {index + 1}", 0.0, 1.0, "wrong-value", error.message))
            continue
        score = sum(p.score for p in item) / len(item)
        wrong = [p for p in item if not p.ok]
        parts.append(
            Part(
                f"name {index + 1}",
                score,
                1.0,
                wrong[0].mistake if wrong else None,
                f"`{given}`: {wrong[0].message}" if wrong else "",
            )
        )
    return parts


def _code_in_order(answer: list[str], variant: Variant, world) -> bool:
    return answer == list(variant.answer)


FULLY_QUALIFY_CODE = Exercise(
    id="fully-qualify",
    title="Fully qualify a list of names in code",
    prompt=(
        "Write code that turns each of these names into its fully qualified form, in order, "
        "and pass the list with `lab.answer('fully-qualify', names)`: {names}"
    ),
    kind=Kind.CODE,
    generator=_code_generate,
    parser=_code_parse,
    checker=_code_check,
    hidden=(HiddenCheck("keeps the order", _code_in_order),),
    hints=(Hint(2, "`labkit.parse_reference(name).with_default_tag()` does it for one name."),),
    mistakes=("missing-library", "missing-tag", "wrong-value"),
    examples=(
        Example(lambda v: [n.replace("library/", "") for n in v.answer], "missing-library"),
        Example(lambda v: [n.rsplit(":", 1)[0] for n in v.answer], "missing-tag"),
        Example(lambda v: v.answer[:-1], "wrong-value"),
    ),
    concepts=("fully qualified name",),
)


LAB = Lab(
    id=LAB_ID,
    title="Demo: one exercise of each kind",
    version="1",
    exercises=(
        FULLY_QUALIFIED,
        LATEST_MEANING,
        NAME_THE_PARTS,
        PREDICT_ERROR,
        SHARE_WITH_TEAM,
        PUSH_YOUR_IMAGE,
        FULLY_QUALIFY_CODE,
    ),
    concepts=("fully qualified name", "default tag", "teams", "push"),
    world_params=world_params,
    setup=setup,
    description="A template for course authors: copy it, rename LAB_ID, change the exercises.",
)
