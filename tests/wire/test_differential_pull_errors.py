"""What a plain distribution registry answers where a pull meets a missing repository, tag or
digest (Debian's docker-registry, distribution v2.8), against labkit serve's open
``localhost:5000`` profile and the in-memory registry the engine pulls from; and the daemon's
text labkit prints for each, as moby's distribution/errors.go words it (v28.2.2).

The open profile hides nothing: NAME_UNKNOWN or MANIFEST_UNKNOWN as distribution says, never
DENIED (docs/fidelity.md, "Registries")."""

from __future__ import annotations

import pytest

from labkit.oci import make_image, synthetic_layer
from labkit.world import Clock, World

SCHEMA2 = {"Content-Type": "application/vnd.docker.distribution.manifest.v2+json"}
MISSING_DIGEST = "sha256:" + "a" * 64

# (label, method, path) of the requests a pull makes, on a repository "app" with tag "1"
CASES = [
    ("manifest of a missing repository, by tag", "GET", "/v2/nothere/manifests/1"),
    (
        "manifest of a missing repository, by digest",
        "GET",
        f"/v2/nothere/manifests/{MISSING_DIGEST}",
    ),
    ("HEAD manifest of a missing repository", "HEAD", "/v2/nothere/manifests/1"),
    ("missing tag", "GET", "/v2/app/manifests/nope"),
    ("missing digest", "GET", f"/v2/app/manifests/{MISSING_DIGEST}"),
    ("tags of a missing repository (pull -a)", "GET", "/v2/nothere/tags/list"),
    ("blob of a missing repository", "GET", f"/v2/nothere/blobs/{MISSING_DIGEST}"),
]


def answers(client) -> list[tuple[str, int, list[str]]]:
    image = make_image([synthetic_layer("pull errors", files=2)])
    for data in image.blobs.values():
        client.push_blob("app", data)
    assert client.request("PUT", "/v2/app/manifests/1", image.manifest, SCHEMA2).status == 201
    seen = []
    for label, method, path in CASES:
        reply = client.request(method, path)
        codes = sorted(set(reply.codes)) if method != "HEAD" and reply.body else []
        seen.append((label, reply.status, codes))
    return seen


def test_open_profile_answers_as_distribution(open_registry, distribution, http):
    ours = answers(http(open_registry.url))
    theirs = answers(http(distribution))
    assert ours == theirs


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        # moby distribution/errors.go:51-60 (v28.2.2): notFoundError wraps the registry error
        (
            "docker pull localhost:5000/nothere:1",
            "Error response from daemon: manifest for localhost:5000/nothere:1 not found: "
            "manifest unknown: manifest unknown\n",
        ),
        (
            "docker pull localhost:5000/app:nope",
            "Error response from daemon: manifest for localhost:5000/app:nope not found: "
            "manifest unknown: manifest unknown\n",
        ),
    ],
)
def test_engine_pull_errors_follow_distribution(line: str, expected: str) -> None:
    world = World.default(clock=Clock.fixed())
    client = world.client("student")
    assert client.run("docker pull alpine:3.21").exit_code == 0
    assert client.run("docker tag alpine:3.21 localhost:5000/app:1").exit_code == 0
    assert client.run("docker push localhost:5000/app:1").exit_code == 0
    result = client.run(line)
    assert (result.exit_code, result.stderr) == (1, expected)
