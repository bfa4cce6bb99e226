"""Lab 02-image-names: the fully qualified name `<registry>/<user or org>/<name>:<tag>`.

Eight exercises: name the parts of a Docker Hub name and of a name on another registry,
write a short name out in full, repair a URL pasted as an image name and predict what Docker
says about it, recognise registries by their host names, name an image in a personal or an
organization namespace, and pull an image by its fully qualified name.
"""

from __future__ import annotations

import random
import shlex
from collections.abc import Mapping
from typing import Any

from labkit.errors import InvalidReference
from labkit.exercises import (
    Example,
    Exercise,
    FormatError,
    Hint,
    Kind,
    Part,
    Variant,
    compare_lines,
    compare_references,
    normalize_lines,
    parse_reference_answer,
    pick_choice,
)
from labkit.labs import Lab, student_docker_id
from labkit.labs.common import APPS, run
from labkit.reference import parse_reference

LAB_ID = "02-image-names"

HUB_NAMES = (
    "microsoft/nanoserver",
    "webtools/nginx-proxy",
    "alpinefans/alpine-git",
    "pyteam/python-alpine-tools",
    "acme/web-api:12.0",
)
OTHER_REGISTRY_NAMES = (
    "gcr.io/gnschenker/sample-app:1.1",
    "registry.acme.com/engineering/web-app:1.0",
    "registry.acme.com/engineering/web-api:12.0",
    "quay.io/labkit/hello:1.0",
    "ghcr.io/octolabs/hello-web:1.0",
)
OFFICIAL_SHORT = (
    "alpine",
    "ubuntu:19.04",
    "nginx",
    "busybox:1.36",
    "python:3.12",
    "debian:bookworm",
    "alpine:3.5",
)
OFFICIAL_TAGGED = (
    "alpine:3.19",
    "alpine:3.5",
    "ubuntu:19.04",
    "ubuntu:22.04",
    "nginx:1.26",
    "busybox:1.36",
    "python:3.12",
)
ORGS = ("northwind", "contoso", "fabrikam", "globex", "initech", "umbrella")

# Registries other than Docker Hub, by host-name pattern: (example name, provider).
PROVIDERS = {
    "ecr": "Amazon Elastic Container Registry (ECR)",
    "azure": "Azure Container Registry",
    "gar": "Google Artifact Registry",
    "redhat": "Red Hat (Quay.io or registry.redhat.io)",
    "github": "GitHub Container Registry",
    "jfrog": "JFrog Artifactory",
}
PROVIDER_NAMES = (
    ("123456789012.dkr.ecr.us-east-1.amazonaws.com/web-api:12.0", "ecr"),
    ("210987654321.dkr.ecr.eu-west-1.amazonaws.com/shop/cart:2.4", "ecr"),
    ("{org}.azurecr.io/shop/cart:2.1", "azure"),
    ("europe-west1-docker.pkg.dev/{org}-prod/images/api:3.0", "gar"),
    ("us-central1-docker.pkg.dev/{org}-dev/apps/worker:1.2", "gar"),
    ("quay.io/labkit/hello:1.0", "redhat"),
    ("registry.redhat.io/ubi9/ubi:9.4", "redhat"),
    ("ghcr.io/octolabs/hello-web:1.0", "github"),
    ("{org}.jfrog.io/docker-local/cart:2.1", "jfrog"),
)
DOCKER_HUB_CHOICE = "Docker Hub"
GCR_CHOICE = "Google Container Registry"


def world_params(student: str) -> dict[str, Any]:
    """The student's Docker ID and an organization they belong to (names only)."""
    rng = random.Random(f"{LAB_ID}/world/{student}")
    return {
        "docker_id": student_docker_id(student),
        "org": f"{rng.choice(ORGS)}{rng.randint(10, 99)}",
    }


# -- shared helpers --------------------------------------------------------------------------


def _parts(key: str, **changes: str) -> dict[str, str]:
    """The parts of ``key`` as Docker reads them, some changed (for examples and tests)."""
    ref = parse_reference(key)
    parts = {
        "registry": ref.domain,
        "namespace": ref.namespace or "",
        "name": ref.name,
        "tag": ref.tag or "latest",
    }
    parts.update(changes)
    return parts


# -- 1. the parts of a Docker Hub name ---------------------------------------------------------


def _hub_parts_generate(rng: random.Random, world: Mapping[str, Any]):
    text = rng.choice((*HUB_NAMES, f"{world['docker_id']}/{rng.choice(APPS)}"))
    return {"text": text}, str(parse_reference(text).with_default_tag())


PARTS_HUB = Exercise(
    id="parts-hub-name",
    title="The parts of a Docker Hub name",
    prompt=(
        "Docker reads `{text}` as a registry, a namespace (user or organization), a repository "
        "name and a tag. Fill in each part as Docker does, the parts it fills in included."
    ),
    kind=Kind.NAME_THE_PARTS,
    generator=_hub_parts_generate,
    hints=(
        Hint(1, "A name with no host in front lives on Docker Hub: which name does Docker use?"),
        Hint(2, "Only one part is missing after the registry: what does Docker add at the end?"),
    ),
    mistakes=("missing-registry", "wrong-registry", "wrong-namespace", "missing-tag"),
    examples=(
        Example(lambda v: _parts(v.answer, registry=""), "missing-registry"),
        Example(lambda v: _parts(v.answer, registry="hub.docker.com"), "wrong-registry"),
        Example(lambda v: _parts(v.answer, namespace="library"), "wrong-namespace"),
        Example(lambda v: _parts(v.answer, tag=""), "missing-tag"),
    ),
    concepts=(
        "fully-qualified-name",
        "default-registry-docker-io",
        "personal-namespace",
        "org-namespace",
    ),
)


# -- 2. the parts of a name on another registry --------------------------------------------------


def _other_parts_generate(rng: random.Random, world: Mapping[str, Any]):
    text = rng.choice(OTHER_REGISTRY_NAMES)
    return {"text": text}, text


PARTS_OTHER = Exercise(
    id="parts-other-registry",
    title="The parts of a name on another registry",
    prompt="Name the four parts of `{text}`: registry, namespace, repository name and tag.",
    kind=Kind.NAME_THE_PARTS,
    generator=_other_parts_generate,
    hints=(Hint(1, "A first part with a dot in it is a host name: the registry."),),
    mistakes=("wrong-registry", "missing-registry", "wrong-namespace", "latest-is-newest"),
    examples=(
        Example(lambda v: _parts(v.answer, registry="docker.io"), "wrong-registry"),
        Example(lambda v: _parts(v.answer, registry=""), "missing-registry"),
        Example(lambda v: _parts(v.answer, namespace="library"), "wrong-namespace"),
        Example(lambda v: _parts(v.answer, tag="latest"), "latest-is-newest"),
    ),
    concepts=("fully-qualified-name", "other-registries"),
)


# -- 3. write a short name out in full -----------------------------------------------------------


def _fqn_generate(rng: random.Random, world: Mapping[str, Any]):
    short = rng.choice(OFFICIAL_SHORT)
    ref = parse_reference(short)
    return {"short": short, "name": ref.name, "tag": ref.tag or "latest"}, str(
        ref.with_default_tag()
    )


def _fqn_check(answer: Any, variant: Variant, world: Any) -> list[Part]:
    return compare_references(answer, variant.answer, fully_qualified=True)


FULLY_QUALIFY = Exercise(
    id="fully-qualify",
    title="Write a short name out in full",
    prompt=(
        "`{short}` is a short name. Write its **fully qualified** form: registry, namespace, "
        "repository name and tag, with nothing left for Docker to fill in."
    ),
    kind=Kind.SHORT_ANSWER,
    generator=_fqn_generate,
    parser=parse_reference_answer,
    checker=_fqn_check,
    hints=(
        Hint(1, "The shape is `registry/namespace/name:tag`."),
        Hint(2, "Official images are on `docker.io`, in the `library` namespace."),
    ),
    mistakes=("missing-registry", "missing-library", "missing-tag", "wrong-registry", "url-scheme"),
    examples=(
        Example(lambda v: f"library/{v.params['name']}:{v.params['tag']}", "missing-registry"),
        Example(lambda v: f"docker.io/{v.params['name']}:{v.params['tag']}", "missing-library"),
        Example(lambda v: f"docker.io/library/{v.params['name']}", "missing-tag"),
        Example(
            lambda v: f"registry-1.docker.io/library/{v.params['name']}:{v.params['tag']}",
            "wrong-registry",
        ),
        Example(lambda v: f"https://{v.answer}", "url-scheme"),
    ),
    concepts=(
        "fully-qualified-name",
        "default-registry-docker-io",
        "default-tag-latest",
        "official-images-no-namespace",
    ),
)


# -- 4. a URL is not an image name ---------------------------------------------------------------


def _url_generate(rng: random.Random, world: Mapping[str, Any]):
    name = rng.choice(OTHER_REGISTRY_NAMES)
    ref = parse_reference(name)
    return {"url": f"https://{name}", "host": ref.domain}, name


def _url_check(answer: Any, variant: Variant, world: Any) -> list[Part]:
    return compare_references(answer, variant.answer)


FIX_URL = Exercise(
    id="fix-url",
    title="A URL is not an image name",
    prompt=(
        "A colleague pasted `{url}` from a web page into `docker pull`, and Docker refused "
        "it. Write the image name that `docker pull` accepts for the same image."
    ),
    kind=Kind.SHORT_ANSWER,
    generator=_url_generate,
    parser=parse_reference_answer,
    checker=_url_check,
    hints=(Hint(1, "Docker names a registry by its host alone: no `https://`."),),
    mistakes=("url-scheme", "wrong-registry", "missing-tag"),
    examples=(
        Example(lambda v: v.params["url"], "url-scheme"),
        Example(lambda v: v.answer.split("/", 1)[1], "wrong-registry"),
        Example(lambda v: v.answer.rsplit(":", 1)[0], "missing-tag"),
    ),
    concepts=("url-scheme-invalid",),
)


# -- 5. predict what Docker says about a URL -----------------------------------------------------

SERVER_WORDS = ("error response from daemon", "pull access denied", "pulling from", "no such host")


def _predict_url_generate(rng: random.Random, world: Mapping[str, Any]):
    name = rng.choice(OTHER_REGISTRY_NAMES)
    command = rng.choice(("docker pull", "docker image pull"))
    return {"command": f"{command} https://{name}", "host": parse_reference(name).domain}, (
        "invalid reference format"
    )


def _predict_url_check(answer: str, variant: Variant, world: Any) -> list[Part]:
    text = " ".join(normalize_lines(answer)).lower()
    if any(word in text for word in SERVER_WORDS):
        return [
            Part(
                "line 1",
                0.0,
                1.0,
                "client-side-check",
                "Docker refuses the name on your side, before it contacts any registry: "
                f"nothing is ever sent to `{variant.params['host']}`",
            )
        ]
    return compare_lines(answer, variant.answer)


PREDICT_URL = Exercise(
    id="predict-url-error",
    title="What Docker says about a URL",
    prompt=(
        "Predict, then check: what does `{command}` print? Type the line exactly, then run "
        "the command with `%docker` to see."
    ),
    kind=Kind.PREDICT_OUTPUT,
    generator=_predict_url_generate,
    checker=_predict_url_check,
    hints=(Hint(1, "`://` is not allowed anywhere in an image name: the name's format is wrong."),),
    mistakes=("client-side-check", "wrong-line", "extra-lines"),
    examples=(
        Example(
            lambda v: (
                "Error response from daemon: pull access denied for "
                f"{v.params['host']}, repository does not exist"
            ),
            "client-side-check",
        ),
        Example("invalid URL", "wrong-line"),
        Example(lambda v: f"invalid reference format\n{v.params['command']}", "extra-lines"),
    ),
    concepts=("url-scheme-invalid",),
)


# -- 6. which registry is it? --------------------------------------------------------------------


def _which_generate(rng: random.Random, world: Mapping[str, Any]):
    pattern, provider = rng.choice(PROVIDER_NAMES)
    name = pattern.format(org=world["org"])
    host = parse_reference(name).domain
    correct = PROVIDERS[provider]
    others = rng.sample([p for key, p in PROVIDERS.items() if key != provider], 2)
    choices = [correct, DOCKER_HUB_CHOICE, GCR_CHOICE, *others]
    rng.shuffle(choices)
    mistakes = {DOCKER_HUB_CHOICE: "hub-by-default", GCR_CHOICE: "gcr-retired"}
    feedback = {
        DOCKER_HUB_CHOICE: (
            f"Docker Hub is used only when a name has no registry host; this one starts with "
            f"the host `{host}`"
        ),
        GCR_CHOICE: (
            "Google Container Registry was shut down in March 2025: Google's images now live "
            "in Artifact Registry, whose hosts look like `REGION-docker.pkg.dev` "
            f"(`gcr.io` names are served from there). `{host}` is not Google's."
            if provider != "gar"
            else "Google Container Registry was shut down in March 2025. A host like "
            f"`{host}` (`REGION-docker.pkg.dev`) belongs to its successor, Artifact Registry."
        ),
    }
    for other in others:
        mistakes[other] = "wrong-registry"
        feedback[other] = f"look at the host `{host}` again: whose domain is it?"
    params = {
        "image": name,
        "choices": choices,
        "choice_mistakes": mistakes,
        "choice_feedback": feedback,
    }
    return params, correct


WHICH_REGISTRY = Exercise(
    id="which-registry",
    title="Whose registry is it?",
    prompt="Which registry serves the image `{image}`?",
    kind=Kind.MULTIPLE_CHOICE,
    generator=_which_generate,
    max_tries=3,
    hints=(
        Hint(1, "Read the host, the part before the first `/`, from right to left."),
        Hint(2, "`amazonaws.com`, `azurecr.io`, `pkg.dev`, `quay.io`, `ghcr.io`, `jfrog.io`."),
    ),
    mistakes=("hub-by-default", "gcr-retired", "wrong-registry"),
    examples=(
        Example(DOCKER_HUB_CHOICE, "hub-by-default"),
        Example(GCR_CHOICE, "gcr-retired"),
        Example(pick_choice("wrong-registry"), "wrong-registry"),
    ),
    concepts=("other-registries",),
)


# -- 7. personal and organization namespaces ------------------------------------------------------


def _namespace_generate(rng: random.Random, world: Mapping[str, Any]):
    app = rng.choice(APPS)
    version = f"{rng.randint(1, 3)}.{rng.randint(0, 9)}"
    personal = rng.random() < 0.5
    owner = world["docker_id"] if personal else world["org"]
    where = (
        f"in your **personal** namespace (your Docker ID is `{world['docker_id']}`)"
        if personal
        else f"in the namespace of your **organization** `{world['org']}`"
    )
    other = world["org"] if personal else world["docker_id"]
    params = {"app": app, "version": version, "where": where, "other_owner": other}
    return params, f"{owner}/{app}:{version}"


def _namespace_check(answer: Any, variant: Variant, world: Any) -> list[Part]:
    parts = compare_references(answer, variant.answer)
    ref = getattr(answer, "reference", None)
    if ref is not None and ref.domain == "hub.docker.com":
        return [
            Part(
                p.name,
                p.score,
                p.weight,
                p.mistake,
                "`hub.docker.com` is Docker Hub's web site, not its registry name: leave the "
                "registry out (or write `docker.io`)",
            )
            if p.mistake == "wrong-registry"
            else p
            for p in parts
        ]
    return parts


YOUR_NAMESPACE = Exercise(
    id="your-namespace",
    title="Personal and organization namespaces",
    prompt=(
        "You want to publish version `{version}` of your image `{app}` on Docker Hub, {where}. "
        "Which name do you give the image?"
    ),
    kind=Kind.SHORT_ANSWER,
    generator=_namespace_generate,
    parser=parse_reference_answer,
    checker=_namespace_check,
    hints=(Hint(1, "On Docker Hub a name is `namespace/repository:tag`; whose namespace?"),),
    mistakes=("wrong-namespace", "missing-tag", "wrong-registry"),
    examples=(
        Example(
            lambda v: f"{v.params['other_owner']}/{v.params['app']}:{v.params['version']}",
            "wrong-namespace",
        ),
        Example(lambda v: v.answer.rsplit(":", 1)[0], "missing-tag"),
        Example(lambda v: f"hub.docker.com/{v.answer}", "wrong-registry"),
    ),
    concepts=("personal-namespace", "org-namespace", "fully-qualified-name"),
)


# -- 8. task: pull by the fully qualified name ----------------------------------------------------


def _pull_generate(rng: random.Random, world: Mapping[str, Any]):
    short = rng.choice(OFFICIAL_TAGGED)
    ref = parse_reference(short)
    return {"short": short, "name": ref.name, "tag": ref.tag, "full": str(ref)}, None


def _typed_pulls(world: Any) -> list[tuple[str, int]]:
    """(the name typed, exit code) of every `docker pull` / `docker image pull` in the log."""
    pulls = []
    for event in getattr(world, "events", ()):
        if event.kind != "docker":
            continue
        try:
            words = shlex.split(event.action)
        except ValueError:
            continue
        if words[:2] == ["docker", "pull"]:
            rest = words[2:]
        elif words[:3] == ["docker", "image", "pull"]:
            rest = words[3:]
        else:
            continue
        names = [w for w in rest if not w.startswith("-")]
        if names:
            pulls.append((names[-1], int(dict(event.outcome or {}).get("exit_code", 1))))
    return pulls


def _pull_check(answer: Any, variant: Variant, world: Any) -> list[Part]:
    if world is None:
        raise FormatError("a task is checked on a world")
    full, name = variant.params["full"], variant.params["name"]
    best: list[Part] | None = None
    for typed, exit_code in _typed_pulls(world):
        try:
            ref = parse_reference(typed)
        except InvalidReference:
            continue
        if ref.name != name or (ref.tag is not None and ref.tag != variant.params["tag"]):
            continue  # another image
        parts = compare_references(typed, full, fully_qualified=True)
        if all(p.ok for p in parts) and exit_code == 0:
            return [Part("pulled by full name", 1.0)]
        wrong = [p for p in parts if not p.ok]
        if wrong:
            best = [Part("pulled by full name", 0.0, 1.0, wrong[0].mistake, wrong[0].message)]
    if best is not None:
        return best
    return [
        Part(
            "pulled by full name",
            0.0,
            1.0,
            "not-done",
            f"no `docker pull` of `{variant.params['short']}` by its full name yet",
        )
    ]


def _pull_solve(world: Any, variant: Variant) -> None:
    run(world, f"docker pull {variant.params['full']}")


PULL_FULL_NAME = Exercise(
    id="pull-by-full-name",
    title="Pull by the fully qualified name",
    prompt=(
        "Pull `{short}` by typing its **fully qualified** name (every part written out). "
        "Then run `docker images`: how does Docker show the name? Press **Check** when done."
    ),
    kind=Kind.TASK,
    generator=_pull_generate,
    checker=_pull_check,
    points=2,
    hints=(Hint(1, "Use the name you wrote in the exercise *Write a short name out in full*."),),
    mistakes=("missing-registry", "missing-library", "missing-tag", "not-done"),
    examples=(
        Example(
            None,
            "missing-registry",
            act=lambda w, v: run(w, f"docker pull library/{v.params['short']}"),
        ),
        Example(
            None,
            "missing-library",
            act=lambda w, v: run(w, f"docker pull docker.io/{v.params['short']}"),
        ),
        Example(
            None,
            "missing-tag",
            act=lambda w, v: run(w, f"docker pull docker.io/library/{v.params['name']}"),
        ),
        Example(None, "not-done"),
    ),
    concepts=("fully-qualified-name", "default-registry-docker-io"),
    solve=_pull_solve,
)


LAB = Lab(
    id=LAB_ID,
    title="02 · Image names: registry, namespace, repository, tag",
    version="1",
    exercises=(
        PARTS_HUB,
        PARTS_OTHER,
        FULLY_QUALIFY,
        PULL_FULL_NAME,
        PREDICT_URL,
        FIX_URL,
        WHICH_REGISTRY,
        YOUR_NAMESPACE,
    ),
    concepts=(
        "fully-qualified-name",
        "default-registry-docker-io",
        "other-registries",
        "personal-namespace",
        "org-namespace",
        "default-tag-latest",
        "official-images-no-namespace",
        "url-scheme-invalid",
    ),
    world_params=world_params,
    description=(
        "The fully qualified image name and each of its parts, Docker Hub and other "
        "registries, personal and organization namespaces, and Docker's defaults."
    ),
)
