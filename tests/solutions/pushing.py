"""A full-marks solution of 04-pushing, as a student would do it.

``STEPS`` maps each exercise, in notebook order, to what a student does right after its cell;
``solve_pushing(lab)`` first does what the notebook's cells do before the exercises (log in,
tag and push ``<docker_id>/hello:1.0`` from the variant's source image), then takes every step in
turn. Both work on anything shaped like a ``LabSession`` (``params``, ``world``, ``client``,
``hub``, ``variant(id)``, ``submit(id, raw)``, ``answer(id, value)``, ``check(id)``). They
reason from the prompts' parameters and from what the simulated world prints, never from the
variant's answer.
"""

STEPS = {}


def step(exercise_id):
    def register(function):
        STEPS[exercise_id] = function
        return function

    return register


def notebook_cells(lab):
    """What the notebook's own cells do before its exercises ask about them."""
    p = lab.params
    me = p["docker_id"]
    lab.client.run(f"docker pull {p['source']}")
    lab.client.run(f"docker tag {p['source']} {me}/hello:1.0")
    lab.client.run(f"docker login -u {me} --password-stdin", p["password"])
    lab.client.run(f"docker push {me}/hello:1.0")


@step("why-registry")
def _why_registry(lab):
    choices = lab.variant("why-registry").params["choices"]
    lab.submit("why-registry", next(c for c in choices if "same bytes" in c))


@step("tag-for-account")
def _tag_for_account(lab):
    local = lab.variant("tag-for-account").params["local"]
    lab.submit("tag-for-account", f"{lab.params['docker_id']}/{local}")


@step("login-stdin")
def _login_stdin(lab):
    p = lab.params
    lab.client.run(f"docker login -u {p['docker_id']} --password-stdin", p["password"])
    lab.check("login-stdin")


@step("token-scope")
def _token_scope(lab):
    token = lab.variant("token-scope").params
    can = {"read": "pull your repositories", "write": "pull and push"}[token["scope"]]
    (right,) = [c for c in token["choices"] if c.startswith(f"It can {can}")]
    lab.submit("token-scope", right)


@step("config-json")
def _config_json(lab):
    import base64

    auth = lab.variant("config-json").params["auth"]
    lab.submit("config-json", base64.b64decode(auth).decode().partition(":")[2])


@step("mount-meaning")
def _mount_meaning(lab):
    choices = lab.variant("mount-meaning").params["choices"]
    lab.submit("mount-meaning", next(c for c in choices if "linked it" in c))


@step("second-push")
def _second_push(lab):
    again = lab.client.run(f"docker push {lab.params['docker_id']}/hello:1.0").stdout
    layer_status = next(
        line.split(": ", 1)[1]
        for line in again.splitlines()
        if line[:12].isalnum() and ": " in line and "digest" not in line
    )
    lab.submit("second-push", layer_status)


@step("manifest-digest")
def _manifest_digest(lab):
    import hashlib

    from labkit.labs.pushing import pushed_manifest

    data = pushed_manifest(lab.client, f"{lab.params['docker_id']}/hello:1.0")
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    lab.answer("manifest-digest", {"digest": digest, "size": len(data)})


@step("share-with-classmate")
def _share_with_classmate(lab):
    p = lab.params
    lab.client.run(f"docker pull {p['source']}")
    lab.client.run(f"docker tag {p['source']} {p['target']}")
    lab.client.run(f"docker push {p['target']}")
    lab.check("share-with-classmate")


@step("make-private")
def _make_private(lab):
    p = lab.params
    lab.client.run(f"docker tag {p['source']} {p['secret_target']}")
    lab.client.run(f"docker push {p['secret_target']}")
    lab.hub.set_visibility(p["secret"], True)
    lab.check("make-private")


@step("private-pull-error")
def _private_pull_error(lab):
    p = lab.params
    mate = lab.world.client("classmate")
    mate.run(f"docker login -u {p['classmate']} --password-stdin", p["classmate_password"])
    seen = mate.run(f"docker pull {p['secret_target']}").output
    choices = lab.variant("private-pull-error").params["choices"]
    lab.submit("private-pull-error", next(c for c in choices if c in seen))


def solve_pushing(lab):
    notebook_cells(lab)
    for solve in STEPS.values():
        solve(lab)
