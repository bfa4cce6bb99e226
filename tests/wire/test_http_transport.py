"""labkit's HTTP transport against a real registry: Debian's docker-registry (distribution).

A client whose transport is :class:`labkit.transport.http.HttpTransport` pushes and pulls
through the distribution registry as Docker would (ping, HEAD, POST/PATCH/PUT, manifest PUT;
GET manifest and blobs), and prints what Docker prints.
"""

from __future__ import annotations

from labkit.transport.http import HttpTransport
from labkit.world import Clock, World


def test_push_and_pull_through_a_real_registry(distribution: str) -> None:
    world = World.default(clock=Clock.fixed())
    transport = HttpTransport(
        {"docker.io": "http://unused.invalid", "localhost:5000": distribution}, log=True
    )
    local = world.client("local")  # gets alpine from the in-memory Docker Hub
    assert local.run("docker pull alpine:3.21").ok
    far = world.client("far", transport=transport)
    with local.using(transport):
        local.run("docker tag alpine:3.21 localhost:5000/team/alpine:1.0")
        pushed = local.run("docker push localhost:5000/team/alpine:1.0")
    assert pushed.ok, pushed.output
    assert ": Pushed\n" in pushed.output and "1.0: digest: sha256:" in pushed.output
    methods = [(e.method, e.path.split("?")[0].rsplit("/", 1)[0]) for e in transport.exchanges]
    assert methods[0] == ("GET", "/v2") and ("PUT", "/v2/team/alpine/manifests") in methods
    digest = pushed.output.split("digest: ")[1].split()[0]
    transport.new_session()
    pulled = far.run("docker pull localhost:5000/team/alpine:1.0")
    assert pulled.ok, pulled.output
    assert f"Digest: {digest}" in pulled.output and ": Pull complete" in pulled.output
    missing = far.run("docker pull localhost:5000/team/nothing:1.0")
    assert missing.exit_code == 1 and "not found" in missing.output
