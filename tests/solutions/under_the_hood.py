"""A full-marks solution of 07-under-the-hood, as a student would do it.

``STEPS`` maps each exercise, in notebook order, to what a student does right after its cell;
``solve_under_the_hood(lab)`` takes every step in turn. Both work on anything shaped like a
``LabSession`` (``params``, ``world``, ``client``, ``variant(id)``, ``submit(id, raw)``,
``answer(id, value)``, ``check(id)``): the model tests pass a small stand-in, the notebook tests
inject this module's source into the kernel and call each step with the real ``lab``. It
reasons from the prompts' parameters, from what ``--wire`` shows and from what the served
registry answers, never from the variant's answer. The by-hand push goes to a practice world
served on 127.0.0.1, stopped before the step returns.
"""

STEPS = {}


def step(exercise_id):
    def register(function):
        STEPS[exercise_id] = function
        return function

    return register


_WIRE = {}  # the push on the wire, kept for the questions about it


def _send(method, url, data=None, headers=None):
    import urllib.error
    import urllib.request

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    request = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.headers, error.read()


def _practice(lab):
    """A practice world served on 127.0.0.1, and a push,pull token for the hand repository."""
    import base64
    import json
    import urllib.parse

    from labkit.labs.under_the_hood import practice_world
    from labkit.server import serve_in_background

    p = lab.params
    world = practice_world(p)
    handle = serve_in_background(world)
    _, headers, _ = _send("GET", f"{handle.url}/v2/")
    challenge = dict(
        part.split("=", 1)
        for part in headers["WWW-Authenticate"].removeprefix("Bearer ").split(",")
    )
    realm = challenge["realm"].strip('"')
    query = urllib.parse.urlencode(
        {
            "service": challenge["service"].strip('"'),
            "scope": f"repository:{p['hand_repository']}:push,pull",
        }
    )
    basic = base64.b64encode(f"{p['docker_id']}:{p['password']}".encode()).decode()
    _, _, body = _send("GET", f"{realm}?{query}", headers={"Authorization": f"Basic {basic}"})
    return world, handle, {"Authorization": f"Bearer {json.loads(body)['token']}"}


def _exchanges(lab):
    from labkit.transport.recording import run_with_wire

    if "exchanges" not in _WIRE:
        p = lab.params
        lab.client.run(f"docker login -u {p['docker_id']} --password-stdin", p["password"])
        lab.client.run(f"docker pull {p['source']}")
        lab.client.run(f"docker tag {p['source']} {p['target']}")
        _, _WIRE["exchanges"] = run_with_wire(lab.client, f"docker push {p['target']}")
    return _WIRE["exchanges"]


@step("wire-push")
def _wire_push(lab):
    _WIRE.clear()
    _exchanges(lab)
    lab.check("wire-push")


@step("challenge-status")
def _challenge_status(lab):
    first = _exchanges(lab)[0]
    choices = lab.variant("challenge-status").params["choices"]
    lab.submit("challenge-status", next(c for c in choices if c.startswith(str(first.status))))


@step("push-scope")
def _push_scope(lab):
    import urllib.parse
    from urllib.parse import unquote

    token_request = next(e for e in _exchanges(lab) if "/token?" in e.path)
    scopes = urllib.parse.parse_qs(urllib.parse.urlsplit(token_request.path).query)["scope"]
    own = next(s for s in scopes if f":{lab.params['docker_id']}/" in s)
    lab.submit("push-scope", unquote(own))


@step("mount-status")
def _mount_status(lab):
    mount = next(e for e in _exchanges(lab) if "mount=" in e.path)
    choices = lab.variant("mount-status").params["choices"]
    if mount.status == 201:
        lab.submit("mount-status", next(c for c in choices if "linked" in c))


@step("blob-digest")
def _blob_digest(lab):
    import hashlib

    from labkit.labs.under_the_hood import hand_image

    layer = hand_image(lab.params).layers[0].blob
    lab.answer("blob-digest", "sha256:" + hashlib.sha256(layer).hexdigest())


@step("missing-blob-status")
def _missing_blob_status(lab):
    import hashlib

    from labkit.labs.under_the_hood import hand_image

    layer = hand_image(lab.params).layers[0].blob
    _, handle, auth = _practice(lab)
    try:
        digest = "sha256:" + hashlib.sha256(layer).hexdigest()
        url = f"{handle.url}/v2/{lab.params['hand_repository']}/blobs/{digest}"
        status, _, _ = _send("HEAD", url, headers=auth)
    finally:
        handle.stop()
    choices = lab.variant("missing-blob-status").params["choices"]
    lab.submit("missing-blob-status", next(c for c in choices if c.startswith(str(status))))


@step("manifest-put")
def _manifest_put(lab):
    import hashlib
    import json
    import urllib.parse

    from labkit.labs.under_the_hood import hand_image

    p = lab.params
    image = hand_image(p)
    world, handle, auth = _practice(lab)
    try:
        base, name = handle.url, p["hand_repository"]
        for blob in image.blobs.values():
            blob_digest = "sha256:" + hashlib.sha256(blob).hexdigest()
            status, headers, _ = _send("POST", f"{base}/v2/{name}/blobs/uploads/", b"", auth)
            location = urllib.parse.urljoin(base, headers["Location"])
            put_url = f"{location}?digest={urllib.parse.quote(blob_digest)}"
            status, _, _ = _send(
                "PUT", put_url, blob, {**auth, "Content-Type": "application/octet-stream"}
            )
            assert status == 201, status
        media = json.loads(image.manifest)["mediaType"]
        status, headers, _ = _send(
            "PUT",
            f"{base}/v2/{name}/manifests/{p['hand_tag']}",
            image.manifest,
            {**auth, "Content-Type": media},
        )
        lab.answer("manifest-put", {"status": status, "digest": headers["Docker-Content-Digest"]})
        pulled = world.client("student").run(f"docker pull {p['hand_target']}")
        assert pulled.exit_code == 0, pulled.output
    finally:
        handle.stop()


def solve_under_the_hood(lab):
    for solve in STEPS.values():
        solve(lab)
