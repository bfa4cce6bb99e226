"""Lab 07: under the hood — the HTTP conversation behind ``docker push``, then a push by hand.

Students first watch a push on the wire (``%docker --wire push ...``): the 401 challenge, the
token request and its scope, the blob checks, the cross-repository mount, the uploads and the
manifest. Then they push an image of their own by hand, with ``urllib.request``, to a registry
served from their kernel (:func:`labkit.server.serve_in_background`), and pull it back with
``%docker pull``.

Why the by-hand push goes to a *practice* world (:func:`practice_world`) and not to the lab's:
pushes over HTTP add no events to a world's log, so the grader's replay could not reproduce
them, and the ``%docker pull`` that follows would replay to a failure (``labkit grade`` would
then call the record forged). So the by-hand part is graded through what it yields, which is
the same for every run of a variant (the layer's digest, the registry's answer to the manifest
``PUT``); the push itself is graded as a task done with ``%docker`` in the lab's world, which a
replay reproduces.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from functools import cache
from typing import Any

from labkit.exercises import (
    Example,
    Exercise,
    FormatError,
    Hint,
    Kind,
    Part,
    Variant,
    check_pushed,
    choice_examples,
    choice_was,
    plain_value,
)
from labkit.labs import Lab, lab_password, student_docker_id
from labkit.labs.common import APPS, login_student, push_as_student
from labkit.labs.pushing import SOURCES
from labkit.oci import Image, make_image
from labkit.world import World

LAB_ID = "07-under-the-hood"

MISTAKE_TEXT: Mapping[str, str] = {
    "forbidden-without-token": "403 (`DENIED`) answers a valid token that lacks the right; a "
    "request with no token at all is asked to authenticate first: 401",
    "not-found-without-token": "the registry does not even look for the manifest before it "
    "knows who asks: without a token it answers 401 and says where to get one",
    "public-without-token": "on Docker Hub even a public repository is read with a token (an "
    "anonymous one for a stranger): without any, the answer is 401",
    "scope-missing-pull": "Docker asks for `pull` too: a push reads from the repository "
    "(is this blob there already?), so its token needs both actions",
    "scope-missing-push": "with `pull` only, the registry would refuse every upload: a push "
    "needs `push` too",
    "scope-with-registry": "the scope names the repository *inside* the registry: no host "
    "(`docker.io/`) in front; the token server is asked for one registry already",
    "scope-with-tag": "a token covers a whole repository, never one tag: leave the `:TAG` out",
    "wrong-repository": "that is not the path of the repository the push goes to (on Docker "
    "Hub: `<Docker ID>/<name>`)",
    "wrong-scope-type": "repositories are asked for with the type `repository:`",
    "head-found": "200 means the registry has that blob: Docker would skip the upload and "
    "print `Layer already exists`; this blob was never sent",
    "head-starts-upload": "a HEAD only asks; an upload session is opened by `POST "
    ".../blobs/uploads/`, which is what answers 202",
    "token-asked-again": "the token fetched after the first 401 already covers this "
    "repository for push and pull: no new challenge",
    "mount-opened-upload": "that would be a 202 Accepted: the mount failed and the registry "
    "opened an upload session instead, so the bytes follow",
    "mount-is-pull": "a push never downloads layers to your machine",
    "mount-wrong-direction": "the layer goes *from* `library/...` *to* your repository; "
    "nothing changes in `library/`",
    "missing-prefix": "a digest names its algorithm: `sha256:` then the hex digits",
    "hashed-uncompressed": "that is the digest of the *uncompressed* tar (the layer's diff ID, "
    "listed in the config); a blob's digest is of the bytes as stored and sent, compressed",
    "hashed-config": "that is the digest of the config blob (the image ID), not of the bytes "
    "asked for",
    "layer-digest": "that is the layer's digest; the answer to a manifest PUT names the manifest",
    "wrong-status": "a request that creates something on the registry answers 201 Created",
}


def _wrong(name: str, code: str, message: str | None = None) -> Part:
    return Part(name, 0.0, 1.0, code, message or MISTAKE_TEXT[code])


# -- the lab-level variant ---------------------------------------------------------------------

HAND_NAMES = ("handmade", "by-hand", "from-scratch", "hand-rolled", "wire-work")


def world_params(student: str) -> dict[str, Any]:
    """The student's Docker ID and password, the image to push with Docker, and the name of
    the image to push by hand."""
    rng = random.Random(f"{LAB_ID}/world/{student}")
    docker_id = student_docker_id(student)
    source = rng.choice(SOURCES)
    app = rng.choice(APPS)
    version = f"{rng.randint(1, 3)}.{rng.randint(0, 9)}"
    hand_name = rng.choice(HAND_NAMES)
    hand_tag = f"0.{rng.randint(1, 9)}"
    return {
        "docker_id": docker_id,
        "password": lab_password(student),
        "source": source,
        "base": source.split(":")[0],
        "app": app,
        "version": version,
        "repository": f"{docker_id}/{app}",
        "target": f"{docker_id}/{app}:{version}",
        "hand_name": hand_name,
        "hand_tag": hand_tag,
        "hand_repository": f"{docker_id}/{hand_name}",
        "hand_target": f"{docker_id}/{hand_name}:{hand_tag}",
    }


def setup(world: Any, params: Mapping[str, Any]) -> None:
    """Sign the student up on Docker Hub."""
    world.add_user(params["docker_id"], params["password"])


# -- helpers the notebook uses -------------------------------------------------------------------


@cache
def _hand_image(docker_id: str, hand_name: str) -> Image:
    return make_image(
        [{"label": f"{hand_name}-{docker_id}", "files": 3}],
        labels={"org.opencontainers.image.authors": docker_id},
    )


def hand_image(params: Mapping[str, Any]) -> Image:
    """The small image the student pushes by hand: one gzip layer, a config, a schema2
    manifest (``.layers[0].blob``, ``.config_bytes``, ``.manifest``), the same on every run."""
    return _hand_image(params["docker_id"], params["hand_name"])


def practice_world(params: Mapping[str, Any]) -> Any:
    """A world of its own for the by-hand push, with the student signed up on Docker Hub.

    Serve it with ``labkit.server.serve_in_background(world)``. Nothing done in it is part of
    the lab's record (HTTP pushes add no events, so a replay could not reproduce them)."""
    world = World.default()
    setup(world, params)
    return world


# -- 1. the challenge ------------------------------------------------------------------------------


def _challenge_generate(rng: random.Random, world: Mapping[str, Any]):
    correct = "401 Unauthorized"
    mistakes = {
        "403 Forbidden": "forbidden-without-token",
        "404 Not Found": "not-found-without-token",
        "200 OK": "public-without-token",
        "407 Proxy Authentication Required": "wrong-choice",
    }
    choices = [correct, *mistakes]
    rng.shuffle(choices)
    return {"choices": choices, "choice_mistakes": mistakes}, correct


CHALLENGE_STATUS = Exercise(
    id="challenge-status",
    title="A request without a token",
    prompt=(
        "`{repository}` is public. A client sends "
        "`GET https://registry-1.docker.io/v2/{repository}/manifests/{version}` with **no** "
        "`Authorization` header. Which status line comes back?"
    ),
    kind=Kind.PREDICT_OUTPUT,
    generator=_challenge_generate,
    mistake_text=MISTAKE_TEXT,
    max_tries=2,
    hints=(
        Hint(1, "Look at the first exchange of your `--wire` push: what did `/v2/` answer?"),
        Hint(2, "The answer carries a `WWW-Authenticate` header saying where to get a token."),
    ),
    mistakes=("forbidden-without-token", "not-found-without-token", "public-without-token"),
    examples=choice_examples(
        ("forbidden-without-token", "not-found-without-token", "public-without-token")
    ),
)


# -- 2. the scope of a push's token --------------------------------------------------------------


def _scope_parse(raw: Any, variant: Variant) -> dict[str, Any]:
    if not isinstance(raw, str) or not raw.strip():
        raise FormatError("type a scope, such as `repository:NAME:ACTIONS`")
    text = raw.strip().strip("`'\"").strip()
    kind, colon, rest = text.partition(":")
    name, colon2, actions = rest.rpartition(":")
    if not colon or not colon2 or not kind or not name or not actions:
        raise FormatError("a scope has three parts separated by colons: `TYPE:NAME:ACTIONS`")
    return {
        "type": kind,
        "name": name,
        "actions": sorted({a.strip() for a in actions.split(",") if a.strip()}),
    }


def _scope_check(answer: dict[str, Any], variant: Variant, world) -> list[Part]:
    repository = variant.params["repository"]
    parts = []
    if answer["type"] == "repository":
        parts.append(Part("type", 1.0))
    else:
        parts.append(_wrong("type", "wrong-scope-type"))
    name = answer["name"]
    host, slash, path = name.partition("/")
    if name == repository:
        parts.append(Part("name", 1.0))
    elif slash and ("." in host or host == "localhost") and path.partition(":")[0] == repository:
        parts.append(_wrong("name", "scope-with-registry"))
    elif name.partition(":")[0] == repository:
        parts.append(_wrong("name", "scope-with-tag"))
    else:
        parts.append(_wrong("name", "wrong-repository"))
    actions = set(answer["actions"])
    if actions == {"pull", "push"}:
        parts.append(Part("actions", 1.0))
    elif "push" not in actions:
        parts.append(_wrong("actions", "scope-missing-push"))
    elif "pull" not in actions:
        parts.append(_wrong("actions", "scope-missing-pull"))
    else:
        parts.append(_wrong("actions", "wrong-value", "a push asks for `push` and `pull` only"))
    return parts


PUSH_SCOPE = Exercise(
    id="push-scope",
    title="The scope a push asks for",
    prompt=(
        "Before `docker push {target}` sends anything, Docker asks the token server for a token. "
        "Which `scope` does it ask for, for `{repository}` itself (leave the mount source out)? "
        "Type it as it reads decoded, `TYPE:NAME:ACTIONS`."
    ),
    kind=Kind.SHORT_ANSWER,
    generator=lambda rng, world: ({}, f"repository:{world['repository']}:push,pull"),
    parser=_scope_parse,
    checker=_scope_check,
    max_tries=4,
    hints=(
        Hint(1, "Decode the `scope=` of the token request: `%3A` is `:`, `%2F` is `/`."),
        Hint(2, "The name is the repository's path in the registry; the actions are two."),
    ),
    mistakes=(
        "scope-missing-pull",
        "scope-missing-push",
        "scope-with-registry",
        "scope-with-tag",
        "wrong-repository",
        "wrong-scope-type",
    ),
    examples=(
        Example(lambda v: f"repository:{v.params['repository']}:push", "scope-missing-pull"),
        Example(lambda v: f"repository:{v.params['repository']}:pull", "scope-missing-push"),
        Example(
            lambda v: f"repository:docker.io/{v.params['repository']}:push,pull",
            "scope-with-registry",
        ),
        Example(lambda v: f"repository:{v.params['target']}:push,pull", "scope-with-tag"),
        Example(lambda v: f"repository:{v.params['app']}:push,pull", "wrong-repository"),
        Example(lambda v: f"image:{v.params['repository']}:push,pull", "wrong-scope-type"),
    ),
)


# -- 3. HEAD on a missing blob -------------------------------------------------------------------


def _head_generate(rng: random.Random, world: Mapping[str, Any]):
    correct = "404 Not Found"
    mistakes = {
        "200 OK": "head-found",
        "202 Accepted": "head-starts-upload",
        "401 Unauthorized": "token-asked-again",
    }
    choices = [correct, *mistakes]
    rng.shuffle(choices)
    return {"choices": choices, "choice_mistakes": mistakes}, correct


MISSING_BLOB_STATUS = Exercise(
    id="missing-blob-status",
    title="Is this blob there yet?",
    prompt=(
        "Pushing by hand, with a token for `repository:{hand_repository}:push,pull`, you ask "
        "`HEAD /v2/{hand_repository}/blobs/sha256:…` for a layer you have never sent. Which "
        "status line answers?"
    ),
    kind=Kind.PREDICT_OUTPUT,
    generator=_head_generate,
    mistake_text=MISTAKE_TEXT,
    max_tries=2,
    hints=(
        Hint(1, "Docker asks this before each upload; the answer decides whether to send."),
        Hint(2, "Your `--wire` push shows one such HEAD for the config blob."),
    ),
    mistakes=("head-found", "head-starts-upload", "token-asked-again"),
    examples=choice_examples(("head-found", "head-starts-upload", "token-asked-again")),
    concepts=("layer-already-exists",),
)


# -- 4. a 201 on a mount ---------------------------------------------------------------------------


def _mount_generate(rng: random.Random, world: Mapping[str, Any]):
    base = world["base"]
    correct = f"The registry linked the layer from `library/{base}`: no bytes are sent"
    opened = (
        "The registry opened an upload session: the layer's bytes must follow in PATCH and "
        "PUT requests"
    )
    pulled = f"The layer was downloaded from `library/{base}` onto your machine first"
    backwards = f"The registry copied your layer into `library/{base}`"
    mistakes = {
        opened: "mount-opened-upload",
        pulled: "mount-is-pull",
        backwards: "mount-wrong-direction",
    }
    choices = [correct, *mistakes]
    rng.shuffle(choices)
    was = {  # labkit 0.1.0's wordings
        correct: (
            f"The registry linked the layer from `library/{base}` into `{world['repository']}`: "
            f"no bytes are sent, and the push prints `Mounted from library/{base}`"
        ),
        opened: "The registry opened an upload session: the layer's bytes must follow in PATCH/PUT",
    }
    return {"choices": choices, "choice_mistakes": mistakes, **choice_was(choices, was)}, correct


MOUNT_STATUS = Exercise(
    id="mount-status",
    title="201 Created on a mount",
    prompt=(
        "During your push, `POST /v2/{repository}/blobs/uploads/?from=library%2F{base}"
        "&mount=sha256%3A…` was answered `201 Created`. What does that mean?"
    ),
    kind=Kind.MULTIPLE_CHOICE,
    generator=_mount_generate,
    mistake_text=MISTAKE_TEXT,
    max_tries=2,
    hints=(
        Hint(1, "201 means something now exists; what exists in your repository afterwards?"),
        Hint(2, "Compare with the next POST of the push, which is answered 202."),
    ),
    mistakes=("mount-opened-upload", "mount-is-pull", "mount-wrong-direction"),
    examples=choice_examples(("mount-opened-upload", "mount-is-pull", "mount-wrong-direction")),
    concepts=("mounted-from", "push-output"),
)


# -- 5. code: the digest of a blob -----------------------------------------------------------------


def _blob_generate(rng: random.Random, world: Mapping[str, Any]):
    image = hand_image(world)
    layer = image.layers[0]
    return {"diff_id": layer.diff_id, "config_digest": image.config_digest}, layer.digest


def _text_parse(raw: Any, variant: Variant) -> str:
    value = plain_value(raw)
    if type(value) is not str or not value.strip():
        raise FormatError("pass the digest as text: lab.answer('blob-digest', 'sha256:...')")
    return value.strip()


def _digest_part(
    name: str, digest: str, key: str, others: Mapping[str, str], fallback: str
) -> Part:
    """Compare ``digest`` with ``key``; ``others`` maps known wrong digests to mistake codes."""
    if digest == key:
        return Part(name, 1.0)
    if digest in others:
        return _wrong(name, others[digest])
    if digest == key.removeprefix("sha256:"):
        return _wrong(name, "missing-prefix")
    return _wrong(name, "wrong-digest", fallback)


def _blob_check(answer: str, variant: Variant, world) -> list[Part]:
    p = variant.params
    others = {p["diff_id"]: "hashed-uncompressed", p["config_digest"]: "hashed-config"}
    return [_digest_part("digest", answer, variant.answer, others, "that is not the blob's sha256")]


BLOB_DIGEST = Exercise(
    id="blob-digest",
    title="The digest of a blob",
    prompt=(
        "The one layer of the image you push by hand is `hand_image(lab.params).layers[0].blob` "
        "(bytes, gzip-compressed). Compute its digest with `hashlib` and pass it: "
        "`lab.answer('blob-digest', 'sha256:...')`."
    ),
    kind=Kind.CODE,
    generator=_blob_generate,
    parser=_text_parse,
    checker=_blob_check,
    hints=(
        Hint(1, "`'sha256:' + hashlib.sha256(data).hexdigest()`."),
        Hint(2, "Hash the blob exactly as it is sent: do not decompress it."),
    ),
    mistakes=("hashed-uncompressed", "hashed-config", "missing-prefix", "wrong-digest"),
    examples=(
        Example(lambda v: v.params["diff_id"], "hashed-uncompressed"),
        Example(lambda v: v.params["config_digest"], "hashed-config"),
        Example(lambda v: v.answer.removeprefix("sha256:"), "missing-prefix"),
        Example("sha256:" + "0" * 64, "wrong-digest"),
    ),
    concepts=("digest-and-size",),
)


# -- 6. code: what the manifest PUT answered -----------------------------------------------------


def _put_generate(rng: random.Random, world: Mapping[str, Any]):
    image = hand_image(world)
    return {
        "config_digest": image.config_digest,
        "layer_digest": image.layers[0].digest,
    }, {"status": 201, "digest": image.manifest_digest}


def _put_parse(raw: Any, variant: Variant) -> dict[str, Any]:
    value = plain_value(raw)
    if type(value) is not dict or set(value) != {"status", "digest"}:
        raise FormatError(
            "pass a dict with two keys: lab.answer('manifest-put', "
            "{'status': 201, 'digest': 'sha256:...'})"
        )
    if type(value["status"]) is not int or type(value["digest"]) is not str:
        raise FormatError("the status is a whole number and the digest is text")
    return {"status": value["status"], "digest": value["digest"].strip()}


def _put_check(answer: dict[str, Any], variant: Variant, world) -> list[Part]:
    p = variant.params
    key = variant.answer
    parts = []
    if answer["status"] == key["status"]:
        parts.append(Part("status", 1.0))
    else:
        parts.append(_wrong("status", "wrong-status"))
    others = {p["config_digest"]: "hashed-config", p["layer_digest"]: "layer-digest"}
    parts.append(
        _digest_part(
            "digest", answer["digest"], key["digest"], others, "that is not the manifest's digest"
        )
    )
    return parts


MANIFEST_PUT = Exercise(
    id="manifest-put",
    title="The registry's answer to your manifest",
    prompt=(
        "Push `{hand_target}` by hand. What did the registry answer your "
        "`PUT /v2/{hand_repository}/manifests/{hand_tag}`? Pass the status and the "
        "`Docker-Content-Digest` header: "
        "`lab.answer('manifest-put', {{'status': ..., 'digest': 'sha256:...'}})`."
    ),
    kind=Kind.CODE,
    generator=_put_generate,
    parser=_put_parse,
    checker=_put_check,
    hints=(
        Hint(1, "Keep the response of the PUT: its `.status` and its headers."),
        Hint(2, "The digest names the manifest: `hashlib.sha256(image.manifest)`."),
    ),
    mistakes=("wrong-status", "hashed-config", "layer-digest", "missing-prefix", "wrong-digest"),
    examples=(
        Example(lambda v: {**v.answer, "status": 200}, "wrong-status"),
        Example(lambda v: {**v.answer, "digest": v.params["config_digest"]}, "hashed-config"),
        Example(lambda v: {**v.answer, "digest": v.params["layer_digest"]}, "layer-digest"),
        Example(lambda v: {**v.answer, "digest": v.answer["digest"][7:]}, "missing-prefix"),
        Example(lambda v: {**v.answer, "digest": "sha256:" + "0" * 64}, "wrong-digest"),
    ),
    concepts=("digest-and-size",),
)


# -- 7. task: the push you watched ---------------------------------------------------------------


def _wire_push_check(answer, variant: Variant, world) -> list[Part]:
    return check_pushed(world, variant.params["target"])


WIRE_PUSH = Exercise(
    id="wire-push",
    title="Push, and watch the wire",
    prompt=(
        "Log in as `{docker_id}`, tag `{source}` as `{target}` and push it with "
        "`%docker --wire push {target}`, so that `{target}` is on Docker Hub."
    ),
    kind=Kind.TASK,
    generator=lambda rng, world: ({}, None),
    checker=_wire_push_check,
    points=2,
    hints=(
        Hint(1, "`%docker login -u ID --password-stdin <<< PASSWORD`, then `docker tag`."),
        Hint(2, "The tag is part of the name you push: `ID/NAME:TAG`, with your tag."),
    ),
    mistakes=("not-logged-in", "not-pushed", "wrong-tag"),
    examples=(
        Example(
            None,
            "not-logged-in",
            act=lambda w, v: push_as_student(w, v.params, v.params["target"], login=False),
        ),
        Example(None, "not-pushed", act=lambda w, v: login_student(w, v.params)),
        Example(
            None,
            "wrong-tag",
            act=lambda w, v: push_as_student(w, v.params, f"{v.params['repository']}:latest"),
        ),
    ),
    concepts=("push-output",),
    solve=lambda world, v: push_as_student(world, v.params, v.params["target"]),
)


LAB = Lab(
    id=LAB_ID,
    title="Under the hood: a push on the wire, and one by hand",
    version="1",
    exercises=(
        WIRE_PUSH,
        CHALLENGE_STATUS,
        PUSH_SCOPE,
        MOUNT_STATUS,
        BLOB_DIGEST,
        MISSING_BLOB_STATUS,
        MANIFEST_PUT,
    ),
    concepts=("push-output", "mounted-from", "layer-already-exists", "digest-and-size"),
    world_params=world_params,
    setup=setup,
    description="Read the HTTP exchanges of a push, then push an image by hand with urllib.",
)

__all__ = ["LAB", "MISTAKE_TEXT", "hand_image", "practice_world"]
