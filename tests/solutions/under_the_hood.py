"""A full-marks solution of 07-under-the-hood, as a student would do it.

``solve_under_the_hood(lab)`` works on anything shaped like a ``LabSession`` (``params``,
``world``, ``client``, ``variant(id)``, ``submit(id, raw)``, ``answer(id, value)``,
``check(id)``): the model tests pass a small stand-in, the notebook tests inject this module's
source into the kernel and call it with the real ``lab``. It reasons from the prompts'
parameters, from what ``--wire`` shows and from what the served registry answers, never from
the variant's answer. The by-hand push goes to a practice world served on 127.0.0.1, stopped
before returning.
"""


def solve_under_the_hood(lab):
    import base64
    import hashlib
    import json
    import urllib.error
    import urllib.parse
    import urllib.request
    from urllib.parse import unquote

    from labkit.labs.under_the_hood import hand_image, practice_world
    from labkit.server import serve_in_background
    from labkit.wire import run_with_wire

    p = lab.params
    me, target = p["docker_id"], p["target"]

    # -- the push on the wire -------------------------------------------------------------------
    lab.client.run(f"docker login -u {me} --password-stdin", p["password"])
    lab.client.run(f"docker pull {p['source']}")
    lab.client.run(f"docker tag {p['source']} {target}")
    _, exchanges = run_with_wire(lab.client, f"docker push {target}")
    lab.check("wire-push")

    first = exchanges[0]
    choices = lab.variant("challenge-status").params["choices"]
    lab.submit("challenge-status", next(c for c in choices if c.startswith(str(first.status))))

    token_request = next(e for e in exchanges if "/token?" in e.path)
    scopes = urllib.parse.parse_qs(urllib.parse.urlsplit(token_request.path).query)["scope"]
    own = next(s for s in scopes if f":{me}/" in s)
    lab.submit("push-scope", unquote(own))

    mount = next(e for e in exchanges if "mount=" in e.path)
    choices = lab.variant("mount-status").params["choices"]
    if mount.status == 201:
        lab.submit("mount-status", next(c for c in choices if "linked" in c))

    # -- the push by hand ------------------------------------------------------------------------
    image = hand_image(p)
    layer = image.layers[0].blob
    lab.answer("blob-digest", "sha256:" + hashlib.sha256(layer).hexdigest())

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def send(method, url, data=None, headers=None):
        request = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
        try:
            with opener.open(request, timeout=30) as response:
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            with error:
                return error.code, error.headers, error.read()

    world = practice_world(p)
    handle = serve_in_background(world)
    try:
        base = handle.url
        name = p["hand_repository"]
        status, headers, _ = send("GET", f"{base}/v2/")
        challenge = dict(
            part.split("=", 1)
            for part in headers["WWW-Authenticate"].removeprefix("Bearer ").split(",")
        )
        realm = challenge["realm"].strip('"')
        query = urllib.parse.urlencode(
            {"service": challenge["service"].strip('"'), "scope": f"repository:{name}:push,pull"}
        )
        basic = base64.b64encode(f"{me}:{p['password']}".encode()).decode()
        status, _, body = send(
            "GET", f"{realm}?{query}", headers={"Authorization": f"Basic {basic}"}
        )
        token = json.loads(body)["token"]
        auth = {"Authorization": f"Bearer {token}"}

        digest = "sha256:" + hashlib.sha256(layer).hexdigest()
        status, _, _ = send("HEAD", f"{base}/v2/{name}/blobs/{digest}", headers=auth)
        choices = lab.variant("missing-blob-status").params["choices"]
        lab.submit("missing-blob-status", next(c for c in choices if c.startswith(str(status))))

        for blob in image.blobs.values():
            blob_digest = "sha256:" + hashlib.sha256(blob).hexdigest()
            status, headers, _ = send("POST", f"{base}/v2/{name}/blobs/uploads/", b"", auth)
            location = urllib.parse.urljoin(base, headers["Location"])
            put_url = f"{location}?digest={urllib.parse.quote(blob_digest)}"
            status, _, _ = send(
                "PUT", put_url, blob, {**auth, "Content-Type": "application/octet-stream"}
            )
            assert status == 201, status

        media = json.loads(image.manifest)["mediaType"]
        status, headers, _ = send(
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
