"""Lab 04: pushing — registries for sharing, tagging for your account, logging in safely,
every line of ``docker push``, the digest and size, public and private repositories, and a
classmate pulling what you pushed.

Every account here is simulated: the student's Docker ID and password come from
:func:`labkit.labs.student_docker_id` and :func:`labkit.labs.lab_password`; nobody should ever
type a real password into a lab.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import shlex
from collections.abc import Mapping
from functools import cache
from typing import Any

from labkit.errors import LabkitError, RegistryError
from labkit.exercises import (
    Example,
    Exercise,
    FormatError,
    HiddenCheck,
    Hint,
    Kind,
    Part,
    Variant,
    can_pull,
    check_pushed,
    choice_examples,
    choice_was,
    client_logins,
    compare_references,
    parse_reference_answer,
    plain_value,
)
from labkit.labs import Lab, lab_password, student_docker_id
from labkit.labs.common import APPS, PEOPLE, login_student, push_as_student, run
from labkit.reference import parse_reference
from labkit.world import World

LAB_ID = "04-pushing"
CLASSMATE_CLIENT = "classmate"

MISTAKE_TEXT: Mapping[str, str] = {
    "token-is-password": "a token logs you in as you, but only with its own scope: it can do "
    "less than your password",
    "token-admin": "tokens never change repository settings such as visibility: that needs "
    "your password in the web interface",
    "token-not-for-login": "`docker login` takes a personal access token in place of the "
    "password: that is what tokens are for",
    "wrong-scope": "that is what a token of the other scope can do; look at this token's scope",
    "registry-runs-containers": "a registry stores and serves images; it runs nothing",
    "copy-is-enough": "copying files by hand gives no shared name, no versions and no access "
    "control: every environment could end up with different bytes",
    "registry-is-backup": "a backup is a side effect at most: the point is one place that "
    "every environment pulls the same image from",
    "missing-namespace": "without a namespace the name means an official image in `library/`, "
    "where you cannot push: put your Docker ID first",
    "password-on-command-line": "the password was typed on the command line (`-p`), where the "
    "shell history and the process list keep it: use `--password-stdin`",
    "wrong-user": "you are logged in, but not as your own Docker ID",
    "not-decoded": "that is the base64 text itself: decode it to see what is stored",
    "included-username": "the stored text is `user:secret`; the secret is the part after `:`",
    "mount-is-upload": "nothing was uploaded for that layer: the registry already had it",
    "mount-is-pull": "a push never downloads layers to your machine",
    "re-upload": "the registry already has every layer of this repository, so nothing is "
    "uploaded again",
    "mounted-again": "the layers are already in your repository now: there is nothing to mount",
    "private-revealed": "Docker Hub never says a repository is private: to others it looks "
    "exactly like one that does not exist",
    "pull-allowed": "once the repository is private, only you (and those you grant) can pull",
    "hashed-config": "that is the image ID, the digest of the *config*; the push prints the "
    "digest of the *manifest*",
    "missing-prefix": "a digest names its algorithm: `sha256:` then the hex digits",
    "wrong-size": "the size is the manifest's length in bytes",
    "foreign-namespace": "you may push only into your own namespace (or one you are granted)",
    "repo-public": "the repository is still public: anyone, the classmate too, can pull it",
}


def _wrong(name: str, code: str, message: str | None = None) -> Part:
    return Part(name, 0.0, 1.0, code, message or MISTAKE_TEXT[code])


# -- the lab-level variant ---------------------------------------------------------------------

CLASSMATES = PEOPLE
SECRETS = ("payroll", "prototype", "drafts", "experiments", "internal")
# Single-layer official images: their one layer is "Mounted from library/<name>" on a first push.
SOURCES = ("alpine:3.20", "alpine:3.21", "busybox:1.36", "busybox:1.37")


def world_params(student: str) -> dict[str, Any]:
    """The student's Docker ID and password, a classmate, and the images to push."""
    rng = random.Random(f"{LAB_ID}/world/{student}")
    docker_id = student_docker_id(student)
    source = rng.choice(SOURCES)
    app = rng.choice(APPS)
    version = f"{rng.randint(1, 3)}.{rng.randint(0, 9)}"
    secret = rng.choice(SECRETS)
    return {
        "docker_id": docker_id,
        "password": lab_password(student),
        "classmate": f"{rng.choice(CLASSMATES)}{rng.randint(10, 99)}",
        "classmate_password": lab_password(f"{student}/classmate"),
        "source": source,
        "base": source.split(":")[0],
        "app": app,
        "version": version,
        "target": f"{docker_id}/{app}:{version}",
        "secret": f"{docker_id}/{secret}",
        "secret_target": f"{docker_id}/{secret}:1.0",
    }


def setup(world: Any, params: Mapping[str, Any]) -> None:
    """Sign up the student and the classmate on Docker Hub."""
    world.add_user(params["docker_id"], params["password"])
    world.add_user(params["classmate"], params["classmate_password"])


# -- helpers the notebook uses -------------------------------------------------------------------


def pushed_manifest(client: Any, reference: str) -> bytes:
    """The manifest bytes the registry holds for ``reference``, fetched as ``client`` (with
    its login), the way ``docker push`` and ``docker pull`` see them: hash them with
    ``hashlib.sha256`` to check the digest the push printed."""
    ref = parse_reference(reference).with_default_tag()
    registry = client.world.registry(ref.domain)
    principal = client.principal_for(ref.domain)
    try:
        return registry.get_manifest(principal, ref.path, ref.digest or ref.tag).data
    except RegistryError:
        repo = registry.peek(ref.path)
        tags = sorted(registry.repository(ref.path).tags) if repo is not None else []
        error = LabkitError(f"the registry holds no image {ref.familiar!r} that you can fetch")
        error.hint = (
            f"Its tags: {', '.join(tags)}. "
            if tags and principal.user and ref.path.startswith(f"{principal.user}/")
            else ""
        ) + "Fetch a name you pushed (and are logged in for), such as the one `docker push` used."
        raise error from None


@cache
def _official_manifest(source: str) -> tuple[str, int, str, int]:
    """(digest, size, config digest, config size) of an official image's manifest."""
    client = World.default().client("reader")
    data = pushed_manifest(client, source)
    config = json.loads(data)["config"]
    return f"sha256:{hashlib.sha256(data).hexdigest()}", len(data), config["digest"], config["size"]


# -- 1. why registries ----------------------------------------------------------------------------

CHOICE_WHY = "One named place from which test, QA and production pull the same bytes"
CHOICE_WHY_WAS = (  # labkit 0.1.0's wording (records made then still grade as it)
    "One place to publish the image under a name, so that test, QA and production all pull "
    "exactly the same bytes"
)
STAGES = ("test", "QA", "staging", "production")


def _why_generate(rng: random.Random, world: Mapping[str, Any]):
    stage = rng.choice(STAGES[1:])
    runs = f"It runs the containers on the {stage} servers for you"
    copy = (
        "Nothing that copying the image's files to each server by hand would not give you, "
        "only slower"
    )
    backup = "A backup copy of your laptop's images, in case the disk fails"
    choices = [CHOICE_WHY, runs, copy, backup]
    mistakes = {
        runs: "registry-runs-containers",
        copy: "copy-is-enough",
        backup: "registry-is-backup",
    }
    rng.shuffle(choices)
    was = {  # labkit 0.1.0's wordings
        CHOICE_WHY: CHOICE_WHY_WAS,
        copy: "Nothing that copying the image's files to each server by hand would not give",
    }
    params = {"stage": stage, "choices": choices, "choice_mistakes": mistakes}
    return {**params, **choice_was(choices, was)}, CHOICE_WHY


WHY_REGISTRY = Exercise(
    id="why-registry",
    title="Why push to a registry at all",
    prompt=(
        "You built `{app}` on your laptop. The {stage} team must run exactly what you built. "
        "What does pushing it to a registry give you?"
    ),
    kind=Kind.MULTIPLE_CHOICE,
    generator=_why_generate,
    mistake_text=MISTAKE_TEXT,
    max_tries=3,
    hints=(Hint(1, "Think of who needs the image, and how they would ask for it by name."),),
    mistakes=("registry-runs-containers", "copy-is-enough", "registry-is-backup"),
    examples=choice_examples(("registry-runs-containers", "copy-is-enough", "registry-is-backup")),
    concepts=("why-registries",),
)


# -- 2. the name to tag with ---------------------------------------------------------------------


def _tag_generate(rng: random.Random, world: Mapping[str, Any]):
    app = rng.choice(APPS)
    version = f"{rng.randint(1, 5)}.{rng.randint(0, 9)}"
    return {"local": f"{app}:{version}", "name": app, "tag": version}, (
        f"{world['docker_id']}/{app}:{version}"
    )


def _tag_check(answer, variant: Variant, world) -> list[Part]:
    ref = answer.reference
    if ref is not None and ref.namespace == "library" and "/" not in answer.text:
        parts = compare_references(answer, variant.answer)
        return [_wrong(p.name, "missing-namespace") if p.name == "namespace" else p for p in parts]
    return compare_references(answer, variant.answer)


TAG_FOR_ACCOUNT = Exercise(
    id="tag-for-account",
    title="A name you may push to",
    prompt=(
        "Your local image is `{local}`. Your Docker ID is `{docker_id}`. Which name do you "
        "give it with `docker tag` so that `docker push` puts it in **your own** account on "
        "Docker Hub, with the same tag?"
    ),
    kind=Kind.SHORT_ANSWER,
    generator=_tag_generate,
    parser=parse_reference_answer,
    checker=_tag_check,
    hints=(
        Hint(1, "On Docker Hub the namespace is the account: a user's Docker ID or an org."),
        Hint(2, "The shape is `<Docker ID>/<name>:<tag>`; the registry may be left out."),
    ),
    mistakes=("missing-namespace", "wrong-namespace", "missing-tag", "wrong-tag"),
    examples=(
        Example(lambda v: v.params["local"], "missing-namespace"),
        Example(lambda v: f"{v.params['classmate']}/{v.params['local']}", "wrong-namespace"),
        Example(lambda v: f"{v.params['docker_id']}/{v.params['name']}", "missing-tag"),
        Example(lambda v: f"{v.params['docker_id']}/{v.params['name']}:9.9", "wrong-tag"),
    ),
    concepts=("personal-namespace", "org-namespace", "tag"),
)


# -- 3. task: log in without the password on the command line -----------------------------------


def _login_words(action: str) -> list[str]:
    try:
        return shlex.split(action)
    except ValueError:
        return []


def _password_on_line(action: str) -> bool:
    words = _login_words(action)
    return any(
        w in ("-p", "--password")
        or w.startswith("--password=")
        or (w.startswith("-p") and not w.startswith("--"))
        for w in words
    )


def _student_logins(world) -> dict[str, str]:
    """{client: user} of the clients (other than the classmate's) logged in to Docker Hub."""
    return {
        client: hosts["docker.io"]
        for client, hosts in client_logins(world).items()
        if client != CLASSMATE_CLIENT and "docker.io" in hosts
    }


def _login_check(answer, variant: Variant, world) -> list[Part]:
    me = variant.params["docker_id"]
    logins = _student_logins(world)
    if not logins:
        return [_wrong("logged in", "not-logged-in", "no client is logged in to Docker Hub")]
    if me not in logins.values():
        return [_wrong("logged in", "wrong-user")]
    last = None
    for event in world.events:
        login = dict(event.outcome).get("login") or {}
        ours = event.kind == "docker" and event.actor in logins
        if ours and login.get("ok") and login.get("user") == me:
            last = event
    if last is not None and _password_on_line(last.action):
        return [
            Part("logged in", 1.0),
            _wrong("password kept off the command line", "password-on-command-line"),
        ]
    return [Part("logged in", 1.0), Part("password kept off the command line", 1.0)]


def _login_with_p(world, variant: Variant) -> None:
    p = variant.params
    run(world, f"docker login -u {p['docker_id']} -p {p['password']}")


def _login_as_classmate(world, variant: Variant) -> None:
    p = variant.params
    run(world, f"docker login -u {p['classmate']} --password-stdin", stdin=p["classmate_password"])


LOGIN_STDIN = Exercise(
    id="login-stdin",
    title="Log in without showing the password",
    prompt=(
        "Log in to Docker Hub as `{docker_id}` (simulated password `{password}`) **without** "
        "putting the password on the command line."
    ),
    kind=Kind.TASK,
    generator=lambda rng, world: ({}, None),
    checker=_login_check,
    hints=(
        Hint(1, "`docker login` can read the password from standard input."),
        Hint(2, "In a cell: `%docker login -u ID --password-stdin <<< PASSWORD`."),
    ),
    mistakes=("not-logged-in", "password-on-command-line", "wrong-user"),
    examples=(
        Example(None, "not-logged-in"),
        Example(None, "password-on-command-line", act=_login_with_p),
        Example(None, "wrong-user", act=_login_as_classmate),
    ),
    concepts=("login-password-stdin",),
    solve=lambda world, v: login_student(world, v.params),
)


# -- 3b. what a personal access token can do -----------------------------------------------------

TOKEN_SCOPES = {
    "read": ("Repo Read-only", "pull your repositories, private ones included, but not push"),
    "write": (
        "Repo Read & Write",
        "pull and push your repositories, but not change their settings",
    ),
}


def _token_generate(rng: random.Random, world: Mapping[str, Any]):
    scope = rng.choice(sorted(TOKEN_SCOPES))
    other = next(s for s in TOKEN_SCOPES if s != scope)
    label, can = TOKEN_SCOPES[scope]
    right = f"It can {can}"
    mistakes = {
        "Everything your password can do: it logs you in as you": "token-is-password",
        "It can also make your repositories private or public": "token-admin",
        "Nothing: `docker login` only accepts passwords": "token-not-for-login",
        f"It can {TOKEN_SCOPES[other][1]}": "wrong-scope",
    }
    choices = [right, *mistakes]
    rng.shuffle(choices)
    return {"scope": scope, "label": label, "choices": choices, "choice_mistakes": mistakes}, right


TOKEN_SCOPE = Exercise(
    id="token-scope",
    title="What a personal access token can do",
    prompt=(
        "You create a personal access token with the scope **{label}** and log in with it: "
        "`docker login -u {docker_id} --password-stdin <<< <the token>`. What can that login do?"
    ),
    kind=Kind.MULTIPLE_CHOICE,
    generator=_token_generate,
    mistake_text=MISTAKE_TEXT,
    max_tries=3,
    hints=(
        Hint(1, "A token is a password with limits: its scope says what it may do."),
        Hint(2, "Changing a repository's visibility is an account action, not a registry one."),
    ),
    mistakes=("token-is-password", "token-admin", "token-not-for-login", "wrong-scope"),
    examples=choice_examples(
        ("token-is-password", "token-admin", "token-not-for-login", "wrong-scope")
    ),
    concepts=("access-tokens", "login-password-stdin"),
)


# -- 4. what config.json stores ------------------------------------------------------------------

COLLEAGUES = ("devon", "priya", "tomasz", "amara", "lucia", "kenji")


def _config_generate(rng: random.Random, world: Mapping[str, Any]):
    user = f"{rng.choice(COLLEAGUES)}{rng.randint(100, 999)}"
    secret = f"{rng.choice(('blue', 'green', 'amber'))}-{rng.choice(('fox', 'owl', 'elk'))}-"
    secret += str(rng.randint(1000, 9999))
    auth = base64.b64encode(f"{user}:{secret}".encode()).decode()
    return {"user": user, "auth": auth}, secret


def _config_check(answer: str, variant: Variant, world) -> list[Part]:
    if answer == variant.answer:
        return [Part("secret", 1.0)]
    if answer == variant.params["auth"]:
        return [_wrong("secret", "not-decoded")]
    if answer == f"{variant.params['user']}:{variant.answer}":
        return [_wrong("secret", "included-username")]
    return [_wrong("secret", "wrong-value", "that is not what the entry decodes to")]


CONFIG_JSON = Exercise(
    id="config-json",
    title="Read a stored credential",
    prompt=(
        "A colleague's `~/.docker/config.json` holds this entry for Docker Hub:\n\n"
        '`"auth": "{auth}"`\n\nWhat is the password (or token) stored for `{user}`? Decode it '
        "in a code cell."
    ),
    kind=Kind.SHORT_ANSWER,
    generator=_config_generate,
    checker=_config_check,
    hints=(
        Hint(1, "The value is base64: `base64.b64decode(...)` turns it back into text."),
        Hint(2, "The decoded text has the shape `user:secret`."),
    ),
    mistakes=("not-decoded", "included-username", "wrong-value"),
    examples=(
        Example(lambda v: v.params["auth"], "not-decoded"),
        Example(lambda v: f"{v.params['user']}:{v.answer}", "included-username"),
        Example("hunter2", "wrong-value"),
    ),
    concepts=("config-json-unencrypted",),
)


# -- 5. what "Mounted from" means ------------------------------------------------------------------


def _mount_generate(rng: random.Random, world: Mapping[str, Any]):
    base = world["base"]
    correct = f"The registry already had it in `library/{base}` and linked it into your repository"
    upload = (
        f"Your machine uploaded the layer's bytes, then the registry copied them into "
        f"`library/{base}` as well"
    )
    pull = f"The layer was downloaded from `library/{base}` onto your machine first"
    failed = "That layer could not be pushed and was skipped"
    choices = [correct, upload, pull, failed]
    mistakes = {upload: "mount-is-upload", pull: "mount-is-pull", failed: "wrong-choice"}
    rng.shuffle(choices)
    was = {  # labkit 0.1.0's wordings
        correct: (
            f"The registry already held that layer in `library/{base}`, so it linked it into "
            "your repository instead of receiving the bytes again"
        ),
        upload: f"Your machine uploaded the layer, then copied it into `library/{base}`",
    }
    return {"choices": choices, "choice_mistakes": mistakes, **choice_was(choices, was)}, correct


MOUNT_MEANING = Exercise(
    id="mount-meaning",
    title='What "Mounted from" means',
    prompt=(
        "Your first push of `{docker_id}/hello:1.0` above printed a layer line ending in "
        "`Mounted from library/{base}`. What happened to that layer?"
    ),
    kind=Kind.MULTIPLE_CHOICE,
    generator=_mount_generate,
    mistake_text=MISTAKE_TEXT,
    max_tries=2,
    hints=(Hint(1, "Where did your local image come from before you tagged it?"),),
    mistakes=("mount-is-upload", "mount-is-pull", "wrong-choice"),
    examples=choice_examples(("mount-is-upload", "mount-is-pull", "wrong-choice")),
    concepts=("push-output", "mounted-from"),
)


# -- 6. predict the second push --------------------------------------------------------------------


def _again_generate(rng: random.Random, world: Mapping[str, Any]):
    base = world["base"]
    correct = "Layer already exists"
    mounted = f"Mounted from library/{base}"
    choices = [correct, "Pushed", mounted, "Preparing"]
    mistakes = {"Pushed": "re-upload", mounted: "mounted-again", "Preparing": "wrong-choice"}
    rng.shuffle(choices)
    return {"choices": choices, "choice_mistakes": mistakes}, correct


SECOND_PUSH = Exercise(
    id="second-push",
    title="Push the same image again",
    prompt=(
        "Later in this lab you push `{target}`. Suppose that, right after, without changing "
        "anything, you run the same `docker push {target}` a second time. What does its layer "
        "line end with?"
    ),
    kind=Kind.PREDICT_OUTPUT,
    generator=_again_generate,
    mistake_text=MISTAKE_TEXT,
    max_tries=2,
    hints=(Hint(1, "Before uploading, Docker asks the registry whether it has the blob."),),
    mistakes=("re-upload", "mounted-again", "wrong-choice"),
    examples=choice_examples(("re-upload", "mounted-again", "wrong-choice")),
    concepts=("push-output", "layer-already-exists"),
)


# -- 7. code: check the digest and the size --------------------------------------------------------


def _digest_generate(rng: random.Random, world: Mapping[str, Any]):
    digest, size, config_digest, config_size = _official_manifest(world["source"])
    return {"config_digest": config_digest, "config_size": config_size}, {
        "digest": digest,
        "size": size,
    }


def _digest_parse(raw: Any, variant: Variant) -> dict[str, Any]:
    value = plain_value(raw)
    if type(value) is not dict or set(value) != {"digest", "size"}:
        raise FormatError(
            "pass a dict with two keys: lab.answer('manifest-digest', "
            "{'digest': 'sha256:...', 'size': 123})"
        )
    if type(value["digest"]) is not str or type(value["size"]) is not int:
        raise FormatError("the digest is text and the size a whole number of bytes")
    return value


def _digest_check(answer: dict[str, Any], variant: Variant, world) -> list[Part]:
    key = variant.answer
    digest = answer["digest"].strip()
    parts = []
    if digest == key["digest"]:
        parts.append(Part("digest", 1.0))
    elif digest == variant.params["config_digest"]:
        parts.append(_wrong("digest", "hashed-config"))
    elif digest == key["digest"].removeprefix("sha256:"):
        parts.append(_wrong("digest", "missing-prefix"))
    else:
        parts.append(_wrong("digest", "wrong-digest", "that is not the manifest's sha256"))
    if answer["size"] == key["size"]:
        parts.append(Part("size", 1.0))
    else:
        parts.append(_wrong("size", "wrong-size"))
    return parts


MANIFEST_DIGEST = Exercise(
    id="manifest-digest",
    title="Check the digest with hashlib",
    prompt=(
        "You pushed `{docker_id}/hello:1.0` above. Fetch its manifest bytes with "
        "`pushed_manifest(lab.client, ...)`, compute their digest with `hashlib.sha256` and "
        "their size with `len`, and pass both: "
        "`lab.answer('manifest-digest', {{'digest': 'sha256:...', 'size': ...}})`."
    ),
    kind=Kind.CODE,
    generator=_digest_generate,
    parser=_digest_parse,
    checker=_digest_check,
    hints=(
        Hint(1, "`'sha256:' + hashlib.sha256(data).hexdigest()`."),
        Hint(2, "Compare with the last line of your push: `TAG: digest: ... size: ...`."),
    ),
    mistakes=("hashed-config", "missing-prefix", "wrong-digest", "wrong-size"),
    examples=(
        Example(lambda v: {**v.answer, "digest": v.params["config_digest"]}, "hashed-config"),
        Example(lambda v: {**v.answer, "digest": v.answer["digest"][7:]}, "missing-prefix"),
        Example(lambda v: {**v.answer, "digest": "sha256:" + "0" * 64}, "wrong-digest"),
        Example(lambda v: {**v.answer, "size": v.params["config_size"]}, "wrong-size"),
    ),
    concepts=("digest-and-size", "push-output"),
)


# -- 8. task: share with the classmate ------------------------------------------------------------


def _foreign_push(world, docker_id: str) -> str | None:
    """The namespace of a refused push into someone else's account, if there was one."""
    for event in reversed(world.events):
        words = _login_words(event.action) if event.kind == "docker" else []
        if words[:2] != ["docker", "push"] or dict(event.outcome).get("exit_code") == 0:
            continue
        names = [w for w in words[2:] if not w.startswith("-")]
        try:
            ref = parse_reference(names[0]) if names else None
        except ValueError:
            continue
        if ref is not None and ref.domain == "docker.io" and ref.namespace != docker_id:
            return ref.namespace
    return None


def _share_check(answer, variant: Variant, world) -> list[Part]:
    p = variant.params
    parts = check_pushed(world, p["target"], reader=p["classmate"])
    if parts[0].score <= 0 and parts[0].mistake == "not-pushed":
        namespace = _foreign_push(world, p["docker_id"])
        if namespace is not None:
            parts[0] = _wrong(
                "pushed",
                "foreign-namespace",
                f"your push into `{namespace}/...` was refused: only `{namespace}` (and "
                f"those they grant) may push there; use your own namespace `{p['docker_id']}`",
            )
    return parts


def _share_private(world, variant: Variant) -> None:
    p = variant.params
    push_as_student(world, p, p["target"])
    world.hub(p["docker_id"]).set_visibility(p["target"].split(":")[0], True)


def _share_other_namespace(world, variant: Variant) -> None:
    p = variant.params
    other = f"{p['classmate']}/{p['target'].split('/', 1)[1]}"
    push_as_student(world, p, other)


SHARE_WITH_CLASSMATE = Exercise(
    id="share-with-classmate",
    title="Share an image with a classmate",
    prompt=(
        "Put `{source}` on Docker Hub as `{target}` so that your classmate `{classmate}` can "
        "pull it."
    ),
    kind=Kind.TASK,
    generator=lambda rng, world: ({}, None),
    checker=_share_check,
    points=2,
    hints=(
        Hint(1, "Three steps: `docker login`, `docker tag SOURCE TARGET`, `docker push TARGET`."),
        Hint(2, "A repository made by a push is public unless someone changes it."),
    ),
    mistakes=("not-logged-in", "not-pushed", "foreign-namespace", "repo-private"),
    examples=(
        Example(
            None,
            "not-logged-in",
            act=lambda w, v: push_as_student(w, v.params, v.params["target"], login=False),
        ),
        Example(None, "not-pushed", act=lambda w, v: login_student(w, v.params)),
        Example(None, "foreign-namespace", act=_share_other_namespace),
        Example(None, "repo-private", act=_share_private),
    ),
    concepts=("push-output", "repo-created-on-push", "public-private"),
    solve=lambda world, v: push_as_student(world, v.params, v.params["target"]),
)


# -- 9. task: a private repository -----------------------------------------------------------------


def _private_check(answer, variant: Variant, world) -> list[Part]:
    p = variant.params
    parts = check_pushed(world, p["secret_target"])
    if parts[0].score <= 0:
        return [*parts, Part("private", 0.0)]
    ref = parse_reference(p["secret_target"])
    if can_pull(world, p["classmate"], ref):
        parts.append(_wrong("private", "repo-public"))
    else:
        parts.append(Part("private", 1.0))
    return parts


def _owner_can_pull(answer, variant: Variant, world) -> bool:
    p = variant.params
    return can_pull(world, p["docker_id"], parse_reference(p["secret_target"]))


def _private_solve(world, variant: Variant) -> None:
    p = variant.params
    push_as_student(world, p, p["secret_target"])
    world.hub(p["docker_id"]).set_visibility(p["secret"], True)


MAKE_PRIVATE = Exercise(
    id="make-private",
    title="Keep a repository to yourself",
    prompt=(
        "Push `{source}` as `{secret_target}`, then make the repository `{secret}` **private** "
        "with `lab.hub.set_visibility(...)`, so that `{classmate}` cannot pull it."
    ),
    kind=Kind.TASK,
    generator=lambda rng, world: ({}, None),
    checker=_private_check,
    points=2,
    hints=(
        Hint(1, "`lab.hub.set_visibility(REPOSITORY, private=True)` acts as you on Docker Hub."),
    ),
    hidden=(HiddenCheck("the owner can still pull", _owner_can_pull),),
    mistakes=("not-logged-in", "not-pushed", "repo-public"),
    examples=(
        Example(None, "not-logged-in"),
        Example(None, "not-pushed", act=lambda w, v: login_student(w, v.params)),
        Example(
            None,
            "repo-public",
            act=lambda w, v: push_as_student(w, v.params, v.params["secret_target"]),
        ),
    ),
    concepts=("public-private",),
    solve=_private_solve,
)


# -- 10. predict what the classmate sees ------------------------------------------------------


def _denied_generate(rng: random.Random, world: Mapping[str, Any]):
    repo = world["secret"]
    correct = (
        f"Error response from daemon: pull access denied for {repo}, repository does not exist "
        "or may require 'docker login': denied: requested access to the resource is denied"
    )
    revealed = (
        f"Error response from daemon: pull access denied for {repo}, repository is private "
        "and may only be pulled by its owner and collaborators: denied: requested access to "
        "the resource is denied"
    )
    allowed = f"Status: Downloaded newer image for {world['secret_target']}"
    unauthorized = "Error response from daemon: unauthorized: authentication required"
    choices = [correct, revealed, allowed, unauthorized]
    mistakes = {revealed: "private-revealed", allowed: "pull-allowed", unauthorized: "wrong-choice"}
    rng.shuffle(choices)
    was = {revealed: f"Error response from daemon: repository {repo} is private"}  # 0.1.0
    return {"choices": choices, "choice_mistakes": mistakes, **choice_was(choices, was)}, correct


PRIVATE_PULL_ERROR = Exercise(
    id="private-pull-error",
    title="What the classmate sees",
    prompt=(
        "`{secret}` is now private. Your classmate, logged in as `{classmate}`, runs "
        "`docker pull {secret_target}`. Which line does Docker print?"
    ),
    kind=Kind.PREDICT_OUTPUT,
    generator=_denied_generate,
    mistake_text=MISTAKE_TEXT,
    max_tries=2,
    hints=(Hint(1, "Docker Hub does not tell strangers which private repositories exist."),),
    mistakes=("private-revealed", "pull-allowed", "wrong-choice"),
    examples=choice_examples(("private-revealed", "pull-allowed", "wrong-choice")),
    concepts=("public-private",),
)


LAB = Lab(
    id=LAB_ID,
    title="Pushing: log in, push, and share (or not)",
    version="1",
    exercises=(
        WHY_REGISTRY,
        TAG_FOR_ACCOUNT,
        LOGIN_STDIN,
        TOKEN_SCOPE,
        CONFIG_JSON,
        MOUNT_MEANING,
        SECOND_PUSH,
        MANIFEST_DIGEST,
        SHARE_WITH_CLASSMATE,
        MAKE_PRIVATE,
        PRIVATE_PULL_ERROR,
    ),
    concepts=(
        "why-registries",
        "personal-namespace",
        "org-namespace",
        "tag",
        "login-password-stdin",
        "config-json-unencrypted",
        "push-output",
        "digest-and-size",
        "repo-created-on-push",
        "public-private",
        "mounted-from",
        "layer-already-exists",
        "access-tokens",
    ),
    world_params=world_params,
    setup=setup,
    description="Tag for your own account, log in safely, push, read every line, share.",
)

__all__ = ["CLASSMATE_CLIENT", "LAB", "MISTAKE_TEXT", "pushed_manifest"]
