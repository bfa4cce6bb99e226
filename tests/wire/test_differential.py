"""One table of operations against labkit serve (open localhost:5000) and Debian's
docker-registry (distribution v2.8): statuses, error codes and digests agree.

Deliberate differences are listed in docs/fidelity.md, section "Wire"."""

from __future__ import annotations

import hashlib

from labkit.oci import make_image, synthetic_layer

SCHEMA2 = {"Content-Type": "application/vnd.docker.distribution.manifest.v2+json"}


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def run_table(client) -> list[tuple]:
    """Run every operation; return what must agree (status, error codes, digest, tags)."""
    image = make_image([synthetic_layer("differential", files=3)])
    orphan = make_image([synthetic_layer("never-uploaded", files=2)])
    layer = image.layers[0].digest
    seen: list[tuple] = []

    def note(label: str, reply, *keys: str) -> None:
        # distribution lists one error per missing blob, labkit the first: compare the codes
        codes = sorted(set(reply.codes)) if reply.status >= 400 and reply.body else []
        seen.append((label, reply.status, codes, *(reply.headers.get(k) for k in keys)))

    note("unknown blob", client.request("HEAD", f"/v2/app/blobs/{sha(b'nothing')}"))
    for data in image.blobs.values():
        note("upload", client.push_blob("app", data), "docker-content-digest")
    note("chunked upload", client.push_blob("app", b"chunk" * 300, chunked=True))
    note(
        "manifest",
        client.request("PUT", "/v2/app/manifests/1.0", image.manifest, SCHEMA2),
        "docker-content-digest",
    )
    note("unknown manifest", client.request("GET", "/v2/app/manifests/nope"))
    note("manifest by digest", client.request("GET", f"/v2/app/manifests/{image.manifest_digest}"))
    note(
        "missing blob",
        client.request("PUT", "/v2/app/manifests/bad", orphan.manifest, SCHEMA2),
    )
    start = client.request("POST", "/v2/app/blobs/uploads/")
    note("start", start)
    location = start.headers["location"]
    sep = "&" if "?" in location else "?"
    note("digest mismatch", client.request("PUT", f"{location}{sep}digest={sha(b'x')}", b"y"))
    note(
        "mount",
        client.request("POST", f"/v2/other/blobs/uploads/?mount={layer}&from=app"),
        "docker-content-digest",
    )
    note(
        "mount unknown",
        client.request("POST", f"/v2/other/blobs/uploads/?mount={sha(b'no')}&from=app"),
    )
    for tag in ("c", "b", "a"):
        client.request("PUT", f"/v2/app/manifests/{tag}", image.manifest, SCHEMA2)
    tags = client.request("GET", "/v2/app/tags/list")
    # distribution v2.8 lists tags in storage order, labkit (like the spec asks) in lexical order
    seen.append(("tags", tags.status, sorted(tags.json()["tags"])))
    note("unknown repo tags", client.request("GET", "/v2/nothing-here/tags/list"))
    delete = client.request("DELETE", f"/v2/app/manifests/{image.manifest_digest}")
    note("delete", delete)
    note("after delete", client.request("GET", f"/v2/app/manifests/{image.manifest_digest}"))
    note("tag after delete", client.request("GET", "/v2/app/manifests/1.0"))
    note("delete again", client.request("DELETE", f"/v2/app/manifests/{image.manifest_digest}"))
    return seen


def test_labkit_and_distribution_agree(open_registry, distribution, http):
    ours = run_table(http(open_registry.url))
    theirs = run_table(http(distribution))
    assert [row[0] for row in ours] == [row[0] for row in theirs]
    for mine, real in zip(ours, theirs, strict=True):
        assert mine == real, f"{mine[0]}: labkit {mine[1:]} vs distribution {real[1:]}"


def test_pagination_agrees_with_distribution(open_registry, distribution, http):
    """Catalog pagination: same pages and the same Link header shape."""
    image = make_image([synthetic_layer("pages", files=2)])
    pages = []
    for url in (open_registry.url, distribution):
        client = http(url)
        for name in ("one", "three", "two"):
            for data in image.blobs.values():
                client.push_blob(name, data)
            client.request("PUT", f"/v2/{name}/manifests/1", image.manifest, SCHEMA2)
        first = client.request("GET", "/v2/_catalog?n=2")
        second = client.request("GET", "/v2/_catalog?n=2&last=three")
        pages.append((first.json(), first.headers.get("link"), second.json()))
    assert pages[0] == pages[1]
