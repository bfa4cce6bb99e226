"""Tests for labkit.registry: OCI-shaped operations, profiles, errors, and failed pushes."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import labkit.registry as registry_module
from labkit import oci
from labkit.accounts import ANONYMOUS, Principal
from labkit.errors import ERROR_CODES, RegistryError
from labkit.registry import PROFILES, Registry

PASSWORD = "correct-horse-battery"

ALPINE = oci.make_image(
    [{"label": "test-alpine-rootfs", "os_name": "alpine", "os_version": "3.21.0", "files": 6}],
    created="2025-01-01T00:00:00Z",
)
# Three layers: the first is alpine's (mountable from library/alpine), two are the app's own.
APP = oci.image_from_layers(
    ALPINE,
    [{"label": "app-deps", "files": 4}, {"label": "app-code", "files": 3}],
    created="2025-02-01T00:00:00Z",
    cmd=["/app/run"],
)
APP_V2 = oci.image_from_layers(
    ALPINE,
    [{"label": "app-deps", "files": 4}, {"label": "app-code-v2", "files": 3}],
    created="2025-03-01T00:00:00Z",
    cmd=["/app/run"],
)
OLD_APP = oci.image_from_layers(ALPINE, [{"label": "app-old", "files": 2}])

ALICE = Principal("alice")
BOBBY = Principal("bobby")
KEEPER = Principal("keeper")  # owner of the library organization


def make_registry(
    profile: str = "hub", host: str = "docker.io", owner: str | None = None
) -> Registry:
    """A registry with users alice, bobby, keeper; org library (keeper) with alpine pushed."""
    registry = Registry(host, profile, owner=owner)
    accounts = registry.accounts
    for user in ("alice", "bobby", "keeper"):
        accounts.add_user(user, PASSWORD)
    accounts.add_org("library", "keeper")
    if profile == "ecr":
        registry.create_repository(KEEPER, "library/alpine")
    docker_push(registry, KEEPER, "library/alpine", "latest", ALPINE)
    return registry


# ----------------------------------------------------------------------------------------
# A Docker-style push, with places to make it fail


@dataclass
class Push:
    """What a push did, step by step (``completed``: blobs mounted or uploaded)."""

    outcome: dict[str, str] = field(default_factory=dict)
    completed: list[str] = field(default_factory=list)


def upload(
    registry: Registry,
    principal: Principal,
    path: str,
    digest: str,
    blob: bytes,
    *,
    wrong_digest: bool = False,
    wrong_size: bool = False,
) -> str:
    """POST, PATCH the first half, PUT the rest with its digest and Content-Length."""
    upload_id = registry.start_upload(principal, path)
    half = len(blob) // 2
    registry.upload_chunk(upload_id, blob[:half])
    rest = blob[half:]
    declared = len(rest) + 1 if wrong_size else len(rest)
    claimed = oci.sha256_digest(blob + b"x") if wrong_digest else digest
    return registry.finish_upload(upload_id, claimed, rest, size=declared)


def docker_push(
    registry: Registry,
    principal: Principal,
    path: str,
    tag: str,
    image: oci.Image,
    *,
    mount_from: str | None = None,
    fault: tuple[str, int] | None = None,
    record: Push | None = None,
) -> str:
    """Push like Docker: per layer check, mount, upload; then the config; then the manifest.

    ``fault`` is ``(kind, index)`` with kind ``digest``, ``size`` (that upload lies) or
    ``skip`` (that blob is never sent); index counts blobs in push order, config last.
    """
    record = record if record is not None else Push()
    kind, target = fault or ("", -1)
    blobs = [(layer.digest, layer.blob, True) for layer in image.layers]
    blobs.append((image.id, image.config_bytes, False))
    for index, (digest, blob, is_layer) in enumerate(blobs):
        try:
            registry.check_blob(principal, path, digest)
            record.outcome[digest] = "exists"
            continue
        except RegistryError as error:
            assert error.code in ("BLOB_UNKNOWN", "DENIED", "NAME_UNKNOWN", "UNAUTHORIZED")
        if is_layer and mount_from and registry.mount_blob(principal, path, digest, mount_from):
            record.outcome[digest] = f"mounted from {mount_from}"
            record.completed.append(digest)
            continue
        if kind == "skip" and index == target:
            continue
        upload(
            registry,
            principal,
            path,
            digest,
            blob,
            wrong_digest=kind == "digest" and index == target,
            wrong_size=kind == "size" and index == target,
        )
        record.outcome[digest] = "pushed"
        record.completed.append(digest)
    return registry.put_manifest(
        principal, path, tag, image.manifest, oci.MEDIA_TYPE_DOCKER_MANIFEST
    )


def pull(registry: Registry, principal: Principal, path: str, reference: str) -> oci.Image:
    """Get the manifest and every blob; check them against their digests; return the bytes."""
    stored = registry.get_manifest(principal, path, reference)
    manifest = oci.parse_manifest(stored.data, stored.media_type)
    for digest in manifest.referenced_blobs:
        assert oci.sha256_digest(registry.get_blob(principal, path, digest)) == digest
    return stored


def visible(registry: Registry) -> dict:
    """The snapshot without linked blobs: repositories, tags, manifests, settings."""
    repositories = registry.snapshot()["repositories"]
    return {
        path: {k: v for k, v in repo.items() if k != "blobs"} for path, repo in repositories.items()
    }


def blobs_of(registry: Registry) -> dict[str, set[str]]:
    return {path: set(repo["blobs"]) for path, repo in registry.snapshot()["repositories"].items()}


def dangling_tags(registry: Registry) -> list[str]:
    return [
        f"{repo.path}:{tag}"
        for repo in registry.repositories()
        for tag, digest in repo.tags.items()
        if digest not in repo.manifests
    ]


# ----------------------------------------------------------------------------------------
# Errors carry the OCI code, Docker's message and the HTTP status


def test_error_codes_match_the_facts_table(data_dir: Path) -> None:
    text = (data_dir / "facts" / "docker.md").read_text("utf-8")
    section = text[text.index("## 9.") : text.index("## 10.")]
    rows = re.findall(r"^\| ([A-Z_]+) \| [^|]+ \| ([^|]+) \| (\d{3}) \|$", section, re.MULTILINE)
    assert len(rows) >= 14
    for code, message, status in rows:
        message = message.strip()
        expected_message = ERROR_CODES[code][0] if message == "same" else message
        error = RegistryError(code)
        assert (error.message, error.status) == (ERROR_CODES[code][0], int(status))
        if message != "same":
            assert error.message == expected_message
    assert str(RegistryError("DENIED")) == "denied: requested access to the resource is denied"
    assert str(RegistryError("UNAUTHORIZED")) == "unauthorized: authentication required"


def raised(call: Callable[[], object]) -> RegistryError:
    with pytest.raises(RegistryError) as info:
        call()
    return info.value


def assert_error(error: RegistryError, code: str, status: int, text: str) -> None:
    assert (error.code, error.status, str(error)) == (code, status, text)


# ----------------------------------------------------------------------------------------
# Blobs: check, mount, upload


def test_check_blob_and_get_blob() -> None:
    registry = make_registry()
    layer = ALPINE.layers[0]
    assert registry.check_blob(ANONYMOUS, "library/alpine", layer.digest) == layer.size
    assert registry.get_blob(ANONYMOUS, "library/alpine", layer.digest) == layer.blob
    missing = oci.sha256_digest(b"nothing")
    error = raised(lambda: registry.check_blob(ANONYMOUS, "library/alpine", missing))
    assert_error(error, "BLOB_UNKNOWN", 404, "blob unknown: blob unknown to registry")
    assert (
        raised(lambda: registry.get_blob(ALICE, "library/alpine", missing)).code == "BLOB_UNKNOWN"
    )


def test_mount_succeeds_when_the_caller_may_pull_the_source_and_the_blob_is_there() -> None:
    registry = make_registry()
    layer = ALPINE.layers[0]
    assert registry.mount_blob(ALICE, "alice/app", layer.digest, "library/alpine") is True
    # Linked in a repository without manifests yet: visible once the manifest is put.
    assert registry.repository("alice/app") is None
    docker_push(registry, ALICE, "alice/app", "1.0", ALPINE)
    assert layer.digest in registry.repository("alice/app").blobs
    assert registry.check_blob(ALICE, "alice/app", layer.digest) == layer.size


def test_mount_returns_false_when_it_cannot_mount() -> None:
    registry = make_registry()
    docker_push(registry, BOBBY, "bobby/secret", "1.0", APP)
    registry.set_visibility(BOBBY, "bobby/secret", True)
    docker_push(registry, ALICE, "alice/app", "old", OLD_APP)
    before = blobs_of(registry)
    own_layer = APP.layers[2].digest
    # The caller may not pull the source (private, someone else's).
    assert registry.mount_blob(ALICE, "alice/app", own_layer, "bobby/secret") is False
    # The blob is not in the source.
    assert registry.mount_blob(ALICE, "alice/app", own_layer, "library/alpine") is False
    # The source does not exist.
    assert registry.mount_blob(ALICE, "alice/app", own_layer, "nobody/nothing") is False
    assert blobs_of(registry) == before
    # The owner of the source may mount from it.
    assert registry.mount_blob(BOBBY, "bobby/other", own_layer, "bobby/secret") is True


def test_mount_into_a_repository_the_caller_may_not_push_is_denied() -> None:
    registry = make_registry()
    layer = ALPINE.layers[0].digest
    error = raised(lambda: registry.mount_blob(ALICE, "bobby/app", layer, "library/alpine"))
    assert error.code == "DENIED"
    error = raised(lambda: registry.mount_blob(ALICE, "alice/app", "sha256:bad", "library/alpine"))
    assert error.code == "DIGEST_INVALID"


def test_upload_start_chunk_finish() -> None:
    registry = make_registry()
    blob = APP.layers[1].blob
    upload_id = registry.start_upload(ALICE, "alice/app")
    assert registry.upload_chunk(upload_id, blob[:100]) == 100
    assert registry.upload_chunk(upload_id, blob[100:300]) == 300
    digest = oci.sha256_digest(blob)
    assert registry.finish_upload(upload_id, digest, blob[300:], size=len(blob) - 300) == digest
    # The session is closed.
    error = raised(lambda: registry.upload_chunk(upload_id, b"more"))
    assert_error(
        error, "BLOB_UPLOAD_UNKNOWN", 404, "blob upload unknown: blob upload unknown to registry"
    )


def test_upload_with_a_wrong_digest_is_digest_invalid_and_stores_nothing() -> None:
    registry = make_registry()
    docker_push(registry, ALICE, "alice/app", "old", OLD_APP)
    blob = APP.layers[1].blob
    before = blobs_of(registry)
    upload_id = registry.start_upload(ALICE, "alice/app")
    wrong = oci.sha256_digest(blob + b"!")
    error = raised(lambda: registry.finish_upload(upload_id, wrong, blob))
    assert_error(
        error,
        "DIGEST_INVALID",
        400,
        "digest invalid: provided digest did not match uploaded content",
    )
    for bad in ("sha256:ABC", "md5:0123", ""):
        upload_id = registry.start_upload(ALICE, "alice/app")
        error = raised(
            lambda upload_id=upload_id, bad=bad: registry.finish_upload(upload_id, bad, blob)
        )
        assert error.code == "DIGEST_INVALID"
    assert blobs_of(registry) == before
    # A missing or malformed digest leaves the session open for a retry (as distribution);
    # a well-formed digest that does not match closes it.
    assert raised(lambda: registry.finish_upload(upload_id, wrong, blob)).code == "DIGEST_INVALID"
    assert raised(lambda: registry.finish_upload(upload_id, wrong, blob)).code == (
        "BLOB_UPLOAD_UNKNOWN"
    )
    assert blobs_of(registry) == before


def test_upload_with_a_wrong_size_is_size_invalid_and_stores_nothing() -> None:
    registry = make_registry()
    docker_push(registry, ALICE, "alice/app", "old", OLD_APP)
    blob = APP.layers[1].blob
    before = blobs_of(registry)
    upload_id = registry.start_upload(ALICE, "alice/app")
    error = raised(
        lambda: registry.finish_upload(upload_id, oci.sha256_digest(blob), blob, size=len(blob) - 1)
    )
    assert_error(
        error, "SIZE_INVALID", 400, "size invalid: provided length did not match content length"
    )
    assert blobs_of(registry) == before
    error = raised(lambda: registry.check_blob(ALICE, "alice/app", oci.sha256_digest(blob)))
    assert error.code == "BLOB_UNKNOWN"


def test_unknown_and_cancelled_uploads() -> None:
    registry = make_registry()
    assert raised(lambda: registry.upload_chunk("upload-999", b"x")).code == "BLOB_UPLOAD_UNKNOWN"
    error = raised(lambda: registry.finish_upload("nope", oci.sha256_digest(b""), b""))
    assert error.code == "BLOB_UPLOAD_UNKNOWN"
    upload_id = registry.start_upload(ALICE, "alice/app")
    registry.upload_chunk(upload_id, b"half")
    registry.cancel_upload(upload_id)
    assert raised(lambda: registry.cancel_upload(upload_id)).code == "BLOB_UPLOAD_UNKNOWN"


def test_start_upload_needs_push_rights() -> None:
    registry = make_registry()
    assert raised(lambda: registry.start_upload(ALICE, "bobby/app")).code == "DENIED"
    assert raised(lambda: registry.start_upload(ANONYMOUS, "alice/app")).code == "DENIED"
    assert raised(lambda: registry.start_upload(ALICE, "Alice/App")).code == "NAME_INVALID"


# ----------------------------------------------------------------------------------------
# Manifests


def test_put_and_get_manifest_by_tag_and_digest_byte_for_byte() -> None:
    registry = make_registry()
    digest = docker_push(registry, ALICE, "alice/app", "1.0", APP, mount_from="library/alpine")
    assert digest == APP.manifest_digest
    by_tag = registry.get_manifest(ALICE, "alice/app", "1.0")
    by_digest = registry.get_manifest(ANONYMOUS, "alice/app", digest)
    assert by_tag.data == by_digest.data == APP.manifest
    assert by_tag.digest == digest and by_tag.size == len(APP.manifest)
    assert by_tag.media_type == oci.MEDIA_TYPE_DOCKER_MANIFEST
    assert registry.invariant_errors() == []


def test_put_manifest_by_digest_creates_no_tag_and_must_match() -> None:
    registry = make_registry()
    docker_push(registry, ALICE, "alice/app", "1.0", APP)
    other = APP_V2
    for layer in other.layers[2:]:
        upload(registry, ALICE, "alice/app", layer.digest, layer.blob)
    upload(registry, ALICE, "alice/app", other.id, other.config_bytes)
    wrong = APP.manifest_digest
    error = raised(lambda: registry.put_manifest(ALICE, "alice/app", wrong, other.manifest))
    assert error.code == "DIGEST_INVALID" and error.status == 400
    digest = registry.put_manifest(ALICE, "alice/app", other.manifest_digest, other.manifest)
    assert digest == other.manifest_digest
    assert registry.list_tags(ALICE, "alice/app") == ["1.0"]
    assert registry.get_manifest(ALICE, "alice/app", digest).data == other.manifest


def test_manifest_blob_unknown_when_a_blob_is_not_in_that_repository() -> None:
    registry = make_registry()
    # Alpine's layer exists in library/alpine, but not in alice/app: not enough.
    upload(registry, ALICE, "alice/app", ALPINE.id, ALPINE.config_bytes)
    error = raised(lambda: registry.put_manifest(ALICE, "alice/app", "1.0", ALPINE.manifest))
    assert_error(
        error, "MANIFEST_BLOB_UNKNOWN", 400, "manifest blob unknown: blob unknown to registry"
    )
    assert error.detail == {"digest": ALPINE.layers[0].digest}
    assert registry.repository("alice/app") is None


def test_manifest_invalid_on_bad_json() -> None:
    registry = make_registry()
    for data in (b"{not json", b"[]", b'{"schemaVersion": 1}', b"\xff\xfe"):
        error = raised(lambda data=data: registry.put_manifest(ALICE, "alice/app", "1.0", data))
        assert_error(error, "MANIFEST_INVALID", 400, "manifest invalid: manifest invalid")
    assert registry.repository("alice/app") is None


@pytest.mark.parametrize("tag", ["-dash", ".dot", "a" * 129, "with space", "", "ümlaut"])
def test_tag_invalid(tag: str) -> None:
    registry = make_registry()
    docker_push(registry, ALICE, "alice/app", "1.0", APP)
    error = raised(lambda: registry.put_manifest(ALICE, "alice/app", tag, APP.manifest))
    assert_error(error, "TAG_INVALID", 400, "tag invalid: manifest tag did not match URI")
    assert registry.list_tags(ALICE, "alice/app") == ["1.0"]


def test_longest_valid_tag_is_accepted() -> None:
    registry = make_registry()
    docker_push(registry, ALICE, "alice/app", "_" + "a" * 127, APP)
    assert registry.list_tags(ALICE, "alice/app") == ["_" + "a" * 127]


def test_get_manifest_unknown() -> None:
    registry = make_registry()
    error = raised(lambda: registry.get_manifest(ANONYMOUS, "library/alpine", "nope"))
    assert_error(error, "MANIFEST_UNKNOWN", 404, "manifest unknown: manifest unknown")
    digest = oci.sha256_digest(b"none")
    assert raised(lambda: registry.get_manifest(ALICE, "library/alpine", digest)).code == (
        "MANIFEST_UNKNOWN"
    )


def test_tag_re_push_moves_the_tag_and_keeps_the_old_manifest_by_digest() -> None:
    registry = make_registry()
    first = docker_push(registry, ALICE, "alice/app", "latest", APP)
    second = docker_push(registry, ALICE, "alice/app", "latest", APP_V2)
    assert first != second
    assert registry.get_manifest(ALICE, "alice/app", "latest").data == APP_V2.manifest
    assert registry.get_manifest(ALICE, "alice/app", first).data == APP.manifest
    assert registry.list_tags(ALICE, "alice/app") == ["latest"]
    assert registry.invariant_errors() == []


def test_list_tags_and_pagination() -> None:
    registry = make_registry()
    for tag in ("b", "a", "c", "1.0", "latest"):
        docker_push(registry, ALICE, "alice/app", tag, APP)
    assert registry.list_tags(ANONYMOUS, "alice/app") == ["1.0", "a", "b", "c", "latest"]
    assert registry.list_tags(ALICE, "alice/app", n=2) == ["1.0", "a"]
    assert registry.list_tags(ALICE, "alice/app", n=2, last="a") == ["b", "c"]
    assert registry.list_tags(ALICE, "alice/app", last="c") == ["latest"]
    assert registry.list_tags(ALICE, "alice/app", n=0) == []
    error = raised(lambda: registry.list_tags(ALICE, "alice/app", n=-1))
    assert error.code == "PAGINATION_NUMBER_INVALID" and error.status == 400


def test_catalog_lists_what_the_caller_may_pull_with_pagination() -> None:
    registry = make_registry()
    docker_push(registry, ALICE, "alice/app", "1.0", APP)
    docker_push(registry, ALICE, "alice/private", "1.0", APP)
    registry.set_visibility(ALICE, "alice/private", True)
    docker_push(registry, BOBBY, "bobby/tool", "1.0", APP)
    everyone = ["alice/app", "bobby/tool", "library/alpine"]
    assert registry.catalog(ANONYMOUS) == everyone
    assert registry.catalog(BOBBY) == everyone
    assert registry.catalog(ALICE) == ["alice/app", "alice/private", "bobby/tool", "library/alpine"]
    assert registry.catalog(ALICE, n=2) == ["alice/app", "alice/private"]
    assert registry.catalog(ALICE, n=2, last="alice/private") == ["bobby/tool", "library/alpine"]


def test_delete_tag_keeps_the_manifest_reachable_by_digest() -> None:
    registry = make_registry()
    digest = docker_push(registry, ALICE, "alice/app", "1.0", APP)
    docker_push(registry, ALICE, "alice/app", "stable", APP)
    registry.delete_tag(ALICE, "alice/app", "1.0")
    assert registry.list_tags(ALICE, "alice/app") == ["stable"]
    assert registry.get_manifest(ALICE, "alice/app", digest).data == APP.manifest
    assert raised(lambda: registry.get_manifest(ALICE, "alice/app", "1.0")).code == (
        "MANIFEST_UNKNOWN"
    )
    assert raised(lambda: registry.delete_tag(ALICE, "alice/app", "1.0")).code == (
        "MANIFEST_UNKNOWN"
    )
    assert raised(lambda: registry.delete_tag(BOBBY, "alice/app", "stable")).code == "DENIED"
    assert registry.invariant_errors() == []


def test_delete_manifest_removes_every_tag_pointing_at_it() -> None:
    registry = make_registry()
    digest = docker_push(registry, ALICE, "alice/app", "1.0", APP)
    docker_push(registry, ALICE, "alice/app", "latest", APP)
    docker_push(registry, ALICE, "alice/app", "2.0", APP_V2)
    assert raised(lambda: registry.delete_manifest(BOBBY, "alice/app", digest)).code == "DENIED"
    registry.delete_manifest(ALICE, "alice/app", digest)
    assert registry.list_tags(ALICE, "alice/app") == ["2.0"]
    assert raised(lambda: registry.get_manifest(ALICE, "alice/app", digest)).code == (
        "MANIFEST_UNKNOWN"
    )
    assert registry.get_manifest(ALICE, "alice/app", "2.0").data == APP_V2.manifest
    assert raised(lambda: registry.delete_manifest(ALICE, "alice/app", digest)).code == (
        "MANIFEST_UNKNOWN"
    )
    assert dangling_tags(registry) == [] and registry.invariant_errors() == []


def test_index_needs_its_child_manifests_in_the_repository() -> None:
    registry = make_registry()
    docker_push(registry, ALICE, "alice/app", "amd64", APP)
    index = oci.go_json(
        {
            "schemaVersion": 2,
            "mediaType": oci.MEDIA_TYPE_OCI_INDEX,
            "manifests": [APP.manifest_descriptor.to_json(), APP_V2.manifest_descriptor.to_json()],
        },
        indent="   ",
    )
    error = raised(lambda: registry.put_manifest(ALICE, "alice/app", "multi", index))
    assert error.code == "MANIFEST_BLOB_UNKNOWN"
    docker_push(registry, ALICE, "alice/app", "v2", APP_V2)
    digest = registry.put_manifest(ALICE, "alice/app", "multi", index)
    assert registry.get_manifest(ANONYMOUS, "alice/app", "multi").data == index
    assert digest == oci.sha256_digest(index)
    # A child may be deleted afterwards, as in distribution: the index stays, naming it,
    # and the child answers MANIFEST_UNKNOWN; the registry's invariants still hold.
    registry.delete_manifest(ALICE, "alice/app", APP_V2.manifest_digest)
    assert registry.get_manifest(ANONYMOUS, "alice/app", "multi").data == index
    missing = raised(lambda: registry.get_manifest(ANONYMOUS, "alice/app", APP_V2.manifest_digest))
    assert missing.code == "MANIFEST_UNKNOWN"
    assert registry.invariant_errors() == []


# ----------------------------------------------------------------------------------------
# Profiles


def test_hub_creates_a_missing_repository_with_the_namespace_default_privacy() -> None:
    registry = make_registry("hub")
    docker_push(registry, ALICE, "alice/open", "1.0", APP)
    assert registry.repository("alice/open").private is False
    registry.accounts.set_default_private("alice", True)
    docker_push(registry, ALICE, "alice/closed", "1.0", APP)
    assert registry.repository("alice/closed").private is True
    # An organization's default privacy counts for its repositories.
    registry.accounts.set_default_private("library", True)
    docker_push(registry, KEEPER, "library/newimage", "1.0", APP)
    assert registry.repository("library/newimage").private is True


def test_private_on_push_creates_private_repositories() -> None:
    registry = make_registry("private-on-push", host="registry.acme.com")
    docker_push(registry, ALICE, "alice/app", "1.0", APP)
    assert registry.repository("alice/app").private is True
    assert raised(lambda: registry.get_manifest(ANONYMOUS, "alice/app", "1.0")).code == "DENIED"
    assert raised(lambda: registry.get_manifest(BOBBY, "alice/app", "1.0")).code == "DENIED"


def test_ecr_refuses_a_push_until_the_repository_is_created() -> None:
    registry = make_registry("ecr", host="ecr.example", owner="library")
    error = raised(lambda: docker_push(registry, KEEPER, "web-api", "1.0", APP))
    assert_error(error, "NAME_UNKNOWN", 404, "name unknown: repository name not known to registry")
    assert registry.repository("web-api") is None
    registry.create_repository(KEEPER, "web-api", private=True)
    docker_push(registry, KEEPER, "web-api", "1.0", APP, mount_from="library/alpine")
    assert registry.get_manifest(KEEPER, "web-api", "1.0").data == APP.manifest
    # Only the account's owners may push there.
    assert raised(lambda: docker_push(registry, ALICE, "web-api", "2.0", APP_V2)).code == "DENIED"


def test_open_registry_needs_no_login_at_all() -> None:
    registry = Registry("localhost:5000", "open")
    assert registry.profile is PROFILES["open"]
    docker_push(registry, ANONYMOUS, "myimage", "1.0", APP)
    docker_push(registry, ANONYMOUS, "team/tool", "1.0", ALPINE)
    assert registry.repository("myimage").private is False
    assert registry.get_manifest(ANONYMOUS, "myimage", "1.0").data == APP.manifest
    assert registry.catalog(ANONYMOUS) == ["myimage", "team/tool"]
    assert registry.mount_blob(ANONYMOUS, "other", ALPINE.layers[0].digest, "team/tool") is True
    registry.delete_tag(ANONYMOUS, "myimage", "1.0")
    assert registry.invariant_errors() == []


def test_anonymous_push_on_hub_is_denied() -> None:
    registry = make_registry("hub")
    error = raised(lambda: docker_push(registry, ANONYMOUS, "alice/app", "1.0", APP))
    assert_error(error, "DENIED", 403, "denied: requested access to the resource is denied")
    docker_push(registry, ALICE, "alice/app", "1.0", APP)
    error = raised(lambda: docker_push(registry, ANONYMOUS, "alice/app", "2.0", APP_V2))
    assert error.code == "DENIED"


def test_anonymous_push_on_private_on_push_is_unauthorized() -> None:
    registry = make_registry("private-on-push", host="registry.acme.com")
    error = raised(lambda: docker_push(registry, ANONYMOUS, "alice/app", "1.0", APP))
    assert_error(error, "UNAUTHORIZED", 401, "unauthorized: authentication required")


def test_pushing_into_someone_elses_namespace_is_denied() -> None:
    for profile, host in (("hub", "docker.io"), ("private-on-push", "quay.io")):
        registry = make_registry(profile, host=host)
        error = raised(
            lambda registry=registry: docker_push(registry, ALICE, "bobby/app", "1", APP)
        )
        assert error.code == "DENIED" and error.status == 403
        docker_push(registry, BOBBY, "bobby/app", "1.0", APP)
        before = visible(registry)
        error = raised(
            lambda registry=registry: docker_push(registry, ALICE, "bobby/app", "1", APP)
        )
        assert error.code == "DENIED"
        assert visible(registry) == before


@pytest.mark.parametrize("who", [ANONYMOUS, ALICE], ids=["anonymous", "other-user"])
def test_a_private_repository_looks_exactly_like_a_missing_one(who: Principal) -> None:
    registry = make_registry()
    docker_push(registry, BOBBY, "bobby/secret", "1.0", APP)
    registry.set_visibility(BOBBY, "bobby/secret", True)
    layer = APP.layers[1].digest
    operations: list[Callable[[str], object]] = [
        lambda path: registry.get_manifest(who, path, "1.0"),
        lambda path: registry.get_manifest(who, path, APP.manifest_digest),
        lambda path: registry.check_blob(who, path, layer),
        lambda path: registry.get_blob(who, path, layer),
        lambda path: registry.list_tags(who, path),
    ]
    for operation in operations:
        hidden = raised(lambda operation=operation: operation("bobby/secret"))
        missing = raised(lambda operation=operation: operation("bobby/nothing"))
        assert (hidden.code, hidden.status, str(hidden)) == (
            missing.code,
            missing.status,
            str(missing),
        )
        assert hidden.code == "DENIED"
    assert registry.mount_blob(ALICE, "alice/x", layer, "bobby/secret") is False
    assert registry.mount_blob(ALICE, "alice/x", layer, "bobby/nothing") is False
    assert "bobby/secret" not in registry.catalog(who)
    # The owner sees it.
    assert registry.get_manifest(BOBBY, "bobby/secret", "1.0").data == APP.manifest


def test_create_repository_and_hub_settings() -> None:
    registry = make_registry()
    registry.create_repository(ALICE, "alice/empty", description="x" * 150)
    repo = registry.repository("alice/empty")
    assert repo.private is False and repo.description == "x" * 100
    assert raised(lambda: registry.create_repository(ALICE, "alice/empty")).code == "DENIED"
    assert raised(lambda: registry.create_repository(ALICE, "bobby/x")).code == "DENIED"
    assert raised(lambda: registry.set_visibility(BOBBY, "alice/empty", True)).code == "DENIED"
    registry.add_collaborator(ALICE, "alice/empty", "bobby")
    docker_push(registry, BOBBY, "alice/empty", "1.0", APP)
    assert registry.list_tags(ALICE, "alice/empty") == ["1.0"]
    registry.delete_repository(ALICE, "alice/empty")
    assert registry.repository("alice/empty") is None


# ----------------------------------------------------------------------------------------
# Fault injection: every step of a push fails in turn; nothing visible changes

PUSH_ORDER = [layer.digest for layer in APP.layers] + [APP.id]


def fault_cases() -> list[tuple[str, int]]:
    # In a fresh repository blob 0 is mounted; 1, 2 and 3 (the config) are uploaded.
    return [(kind, index) for kind in ("digest", "size", "skip") for index in (1, 2, 3)]


def prepare(existing: bool) -> Registry:
    registry = make_registry()
    if existing:
        docker_push(registry, ALICE, "alice/app", "1.0", OLD_APP)
    return registry


def check_after_failure(
    registry: Registry, before_visible: dict, before_blobs: dict, record: Push, existing: bool
) -> None:
    assert registry.invariant_errors() == []
    assert dangling_tags(registry) == []
    assert visible(registry) == before_visible
    after_blobs = blobs_of(registry)
    if not existing:
        # A failed first push creates nothing (module docstring: blobs wait, invisible).
        assert after_blobs == before_blobs
        assert registry.repository("alice/app") is None
        assert "alice/app" not in registry.catalog(ALICE)
    else:
        # In an existing repository, blobs completely uploaded or mounted before the failure
        # may stay linked (as on a real registry); nothing else appears.
        assert set(after_blobs) == set(before_blobs)
        for path, linked in after_blobs.items():
            extra = linked - before_blobs[path]
            assert extra <= set(record.completed) if path == "alice/app" else not extra
    # The same push, retried without the fault, succeeds completely.
    digest = docker_push(registry, ALICE, "alice/app", "2.0", APP, mount_from="library/alpine")
    assert pull(registry, ALICE, "alice/app", "2.0").data == APP.manifest
    assert digest == APP.manifest_digest
    assert registry.invariant_errors() == []


@pytest.mark.parametrize("existing", [False, True], ids=["fresh", "existing"])
@pytest.mark.parametrize("fault", fault_cases(), ids=lambda f: f"{f[0]}-{f[1]}")
def test_a_failed_push_step_changes_nothing_visible(fault: tuple[str, int], existing: bool) -> None:
    registry = prepare(existing)
    before_visible, before_blobs = visible(registry), blobs_of(registry)
    record = Push()
    expected = {"digest": "DIGEST_INVALID", "size": "SIZE_INVALID", "skip": "MANIFEST_BLOB_UNKNOWN"}
    error = raised(
        lambda: docker_push(
            registry,
            ALICE,
            "alice/app",
            "2.0",
            APP,
            mount_from="library/alpine",
            fault=fault,
            record=record,
        )
    )
    assert error.code == expected[fault[0]]
    assert PUSH_ORDER[fault[1]] not in record.completed
    check_after_failure(registry, before_visible, before_blobs, record, existing)


@pytest.mark.parametrize("existing", [False, True], ids=["fresh", "existing"])
def test_a_denied_mount_falls_back_to_an_upload(existing: bool) -> None:
    registry = prepare(existing)
    docker_push(registry, BOBBY, "bobby/base", "1.0", ALPINE)
    registry.set_visibility(BOBBY, "bobby/base", True)
    base_layer = ALPINE.layers[0].digest
    before_visible, before_blobs = visible(registry), blobs_of(registry)
    assert registry.mount_blob(ALICE, "alice/app", base_layer, "bobby/base") is False
    assert visible(registry) == before_visible and blobs_of(registry) == before_blobs
    assert registry.invariant_errors() == []
    record = Push()
    docker_push(registry, ALICE, "alice/app", "2.0", APP, mount_from="bobby/base", record=record)
    expected = "exists" if existing else "pushed"  # never "mounted from bobby/base"
    assert record.outcome[base_layer] == expected
    assert pull(registry, ALICE, "alice/app", "2.0").data == APP.manifest
    assert registry.invariant_errors() == []


def test_a_clean_push_mounts_the_shared_layer_and_uploads_the_rest() -> None:
    registry = prepare(existing=False)
    record = Push()
    docker_push(
        registry, ALICE, "alice/app", "2.0", APP, mount_from="library/alpine", record=record
    )
    assert list(record.outcome.values()) == [
        "mounted from library/alpine",
        "pushed",
        "pushed",
        "pushed",
    ]
    record = Push()
    docker_push(
        registry, ALICE, "alice/app", "2.1", APP, mount_from="library/alpine", record=record
    )
    assert set(record.outcome.values()) == {"exists"}


INJECTION_POINTS: list[tuple[object, str]] = [
    (registry_module, "sha256_digest"),
    (registry_module, "parse_manifest"),
    (registry_module, "StoredManifest"),
    (Registry, "_link"),
    (Registry, "_create"),
    (Registry, "_load"),
    (Registry, "decide"),
]


class Injected(RuntimeError):
    """The failure a test injects."""


def count_calls(owner: object, name: str, existing: bool, monkeypatch: pytest.MonkeyPatch) -> int:
    registry = prepare(existing)
    original = getattr(owner, name)
    calls = [0]

    def counting(*args, **kwargs):
        calls[0] += 1
        return original(*args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(owner, name, counting)
        docker_push(registry, ALICE, "alice/app", "2.0", APP, mount_from="library/alpine")
    return calls[0]


@pytest.mark.parametrize("existing", [False, True], ids=["fresh", "existing"])
@pytest.mark.parametrize("point", INJECTION_POINTS, ids=lambda p: p[1])
def test_an_exception_at_any_call_inside_a_push_changes_nothing_visible(
    point: tuple[object, str], existing: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner, name = point
    total = count_calls(owner, name, existing, monkeypatch)
    if total == 0:  # only a first push creates a repository
        assert (name, existing) == ("_create", True)
        return
    original = getattr(owner, name)
    for failing_call in range(1, total + 1):
        registry = prepare(existing)
        before_visible, before_blobs = visible(registry), blobs_of(registry)
        calls = [0]

        def failing(*args, _at=failing_call, calls=calls, **kwargs):
            calls[0] += 1
            if calls[0] == _at:
                raise Injected(f"{name} call {_at}")
            return original(*args, **kwargs)

        record = Push()
        with monkeypatch.context() as patch:
            patch.setattr(owner, name, failing)
            with pytest.raises(Injected):
                docker_push(
                    registry,
                    ALICE,
                    "alice/app",
                    "2.0",
                    APP,
                    mount_from="library/alpine",
                    record=record,
                )
        check_after_failure(registry, before_visible, before_blobs, record, existing)


def test_invariant_errors_reports_broken_state() -> None:
    registry = make_registry()
    docker_push(registry, ALICE, "alice/app", "1.0", APP)
    repo = registry.repository("alice/app")
    repo.tags["ghost"] = oci.sha256_digest(b"ghost")
    repo.blobs.discard(APP.layers[2].digest)
    problems = registry.invariant_errors()
    assert any("ghost" in p for p in problems)
    assert any(APP.layers[2].digest in p for p in problems)


def test_snapshot_is_json_and_holds_no_secret() -> None:
    registry = make_registry()
    docker_push(registry, ALICE, "alice/app", "1.0", APP)
    _, secret = registry.accounts.create_token("alice", "write")
    text = json.dumps(registry.snapshot())
    assert PASSWORD not in text and secret not in text
    assert json.loads(text)["repositories"]["alice/app"]["tags"] == {"1.0": APP.manifest_digest}


def test_a_blob_is_pullable_by_its_pusher_before_any_manifest() -> None:
    registry = make_registry()
    blob = APP.layers[1].blob
    upload = registry.start_upload(ALICE, "alice/first")
    digest = registry.finish_upload(upload, oci.sha256_digest(blob), blob)
    assert registry.get_blob(ALICE, "alice/first", digest) == blob  # the 201's Location
    source = registry.open_blob(ALICE, "alice/first", digest)
    assert source.read(1, 4) == blob[1:5]
    assert registry.repository("alice/first") is None  # still nothing visible to others
    assert raised(lambda: registry.get_blob(BOBBY, "alice/first", digest)).code == "DENIED"


def test_deeply_nested_manifest_json_is_manifest_invalid() -> None:
    registry = make_registry()
    deep = b'{"schemaVersion":2,"config":' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    error = raised(lambda: registry.put_manifest(ALICE, "alice/app", "deep", deep))
    assert error.code == "MANIFEST_INVALID"
    assert registry.repository("alice/app") is None
