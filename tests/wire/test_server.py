"""labkit serve over plain HTTP: every endpoint, token auth, bad input that changes nothing."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys

import pytest

from labkit.oci import make_image, synthetic_layer
from labkit.server import TokenStore, parse_scope, serve_in_background, world_lock
from labkit.transport import recording as wire

PUSH = "repository:fredysa/app:pull,push"


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@pytest.fixture(scope="module")
def image():
    return make_image([synthetic_layer("wire-test", files=3)])


def push_image(client, name: str, image, tag: str = "1.0"):
    for data in image.blobs.values():
        assert client.push_blob(name, data).status == 201
    return client.request(
        "PUT",
        f"/v2/{name}/manifests/{tag}",
        image.manifest,
        {"Content-Type": "application/vnd.docker.distribution.manifest.v2+json"},
    )


# -- ping and token auth --------------------------------------------------------------------


def test_ping_without_token_is_a_bearer_challenge(hub, http):
    reply = http(hub.url).request("GET", "/v2/")
    assert reply.status == 401
    assert reply.headers["docker-distribution-api-version"] == "registry/2.0"
    assert reply.headers["www-authenticate"] == (
        f'Bearer realm="http://127.0.0.1:{hub.port}/token",service="docker.io"'
    )
    assert reply.codes == ["UNAUTHORIZED"]


def test_request_without_token_names_the_scope_it_needs(hub, http):
    reply = http(hub.url).request("POST", "/v2/fredysa/app/blobs/uploads/")
    assert reply.status == 401
    assert f'scope="{PUSH}"' in reply.headers["www-authenticate"]
    detail = reply.json()["errors"][0]["detail"]
    assert {d["Action"] for d in detail} == {"pull", "push"}


def test_token_endpoint_grants_what_labkit_authorizes(hub, http):
    client = http(hub.url)
    assert client.login(PUSH, "fredysa").status == 200
    assert client.request("GET", "/v2/").status == 200
    reply = client.request("GET", "/v2/library/alpine/tags/list")
    assert reply.status == 401  # the token was not asked for library/alpine
    assert 'scope="repository:library/alpine:pull"' in reply.headers["www-authenticate"]


def test_wrong_password_gets_401_and_no_token(hub, http):
    client = http(hub.url)
    reply = client.login(PUSH, "fredysa", "wrong-password")
    assert reply.status == 401 and reply.codes == ["UNAUTHORIZED"]
    assert client.token is None


def test_bad_and_expired_tokens_are_challenged(hub, http):
    client = http(hub.url)
    client.token = "not-a-token"
    reply = client.request("GET", "/v2/")
    assert reply.status == 401 and 'error="invalid_token"' in reply.headers["www-authenticate"]
    client.login(PUSH, "fredysa")
    assert client.request("GET", "/v2/").status == 200
    hub.tokens.expire_all()
    assert client.request("GET", "/v2/").status == 401


def test_token_store_expires_tokens():
    now = [0.0]
    store = TokenStore(lifetime=60, clock=lambda: now[0])
    token = store.issue(None, set(), set())  # type: ignore[arg-type]
    assert store.lookup(token) is not None
    now[0] = 61
    assert store.lookup(token) is None


def test_parse_scope():
    assert parse_scope("repository:a/b:pull,push") == [
        ("repository", "a/b", "pull"),
        ("repository", "a/b", "push"),
    ]
    assert parse_scope("registry:catalog:*") == [("registry", "catalog", "*")]
    assert parse_scope("nonsense") == []


def test_anonymous_push_to_hub_is_denied(hub, http, image):
    client = http(hub.url)
    client.login(PUSH)  # anonymous: asked for push, granted pull only
    reply = client.request("POST", "/v2/fredysa/app/blobs/uploads/")
    assert reply.status == 403 and reply.codes == ["DENIED"]


def test_push_to_someone_elses_namespace_is_denied(hub, http, world):
    client = http(hub.url)
    client.login(PUSH, "otheruser")
    reply = client.request("POST", "/v2/fredysa/app/blobs/uploads/")
    assert reply.status == 403 and reply.codes == ["DENIED"]
    assert world.registry().repository("fredysa/app") is None


def test_private_on_push_registry_answers_anonymous_push_with_a_challenge(
    world, start_labkit, http
):
    world.add_user("fredysa", "s3cret-pass", registry="registry.acme.com")
    handle = start_labkit(world, "registry.acme.com")
    client = http(handle.url)
    client.login(PUSH)
    reply = client.request("POST", "/v2/fredysa/app/blobs/uploads/")
    assert reply.status == 401 and reply.codes == ["UNAUTHORIZED"]
    assert reply.headers["www-authenticate"].startswith("Bearer realm=")


# -- push and pull ----------------------------------------------------------------------------


def test_push_then_pull_with_the_simulated_client(hub, http, world, image):
    client = http(hub.url)
    client.login(PUSH, "fredysa")
    reply = push_image(client, "fredysa/app", image)
    assert reply.status == 201
    assert reply.headers["docker-content-digest"] == image.manifest_digest
    assert reply.headers["location"] == f"/v2/fredysa/app/manifests/{image.manifest_digest}"
    docker = world.client()
    with world_lock(world):
        result = docker.run("docker pull fredysa/app:1.0")
    assert result.exit_code == 0, result.output
    assert image.manifest_digest in result.output


def test_manifest_get_head_exact_bytes_and_media_type(hub, http, image):
    client = http(hub.url)
    client.login(PUSH, "fredysa")
    push_image(client, "fredysa/app", image)
    for method in ("GET", "HEAD"):
        for reference in ("1.0", image.manifest_digest):
            reply = client.request(method, f"/v2/fredysa/app/manifests/{reference}")
            assert reply.status == 200
            assert reply.headers["content-type"] == (
                "application/vnd.docker.distribution.manifest.v2+json"
            )
            assert reply.headers["docker-content-digest"] == image.manifest_digest
            assert int(reply.headers["content-length"]) == len(image.manifest)
            assert reply.body == (image.manifest if method == "GET" else b"")


def test_blob_head_and_get(hub, http, image):
    client = http(hub.url)
    client.login(PUSH, "fredysa")
    push_image(client, "fredysa/app", image)
    layer = image.layers[0]
    head = client.request("HEAD", f"/v2/fredysa/app/blobs/{layer.digest}")
    assert head.status == 200 and head.body == b""
    assert head.headers["content-length"] == str(len(layer.blob))
    assert head.headers["docker-content-digest"] == layer.digest
    get = client.request("GET", f"/v2/fredysa/app/blobs/{layer.digest}")
    assert get.status == 200 and sha(get.body) == layer.digest


def test_chunked_upload_with_ranges_and_status(hub, http, world):
    client = http(hub.url)
    client.login(PUSH, "fredysa")
    data = b"0123456789" * 100
    start = client.request("POST", "/v2/fredysa/app/blobs/uploads/")
    assert start.status == 202 and start.headers["range"] == "0-0"
    uuid = start.headers["docker-upload-uuid"]
    assert start.headers["location"].endswith(uuid)
    patch = client.request("PATCH", start.headers["location"], data[:400])
    assert patch.status == 202 and patch.headers["range"] == "0-399"
    wrong = client.request(
        "PATCH", start.headers["location"], data[400:], {"Content-Range": "0-599"}
    )
    assert wrong.status == 416 and wrong.codes == ["RANGE_INVALID"]
    status = client.request("GET", start.headers["location"])
    assert status.status == 204 and status.headers["range"] == "0-399"
    patch = client.request(
        "PATCH", start.headers["location"], data[400:], {"Content-Range": "400-999"}
    )
    assert patch.status == 202 and patch.headers["range"] == "0-999"
    done = client.request("PUT", f"{start.headers['location']}?digest={sha(data)}")
    assert done.status == 201 and done.headers["docker-content-digest"] == sha(data)


def test_monolithic_post_with_digest(hub, http):
    client = http(hub.url)
    client.login(PUSH, "fredysa")
    data = b"one request"
    reply = client.request("POST", f"/v2/fredysa/app/blobs/uploads/?digest={sha(data)}", data)
    assert reply.status == 201 and reply.headers["docker-content-digest"] == sha(data)


def test_cross_repository_mount(hub, http, world, image):
    client = http(hub.url)
    client.login("repository:fredysa/app:pull,push repository:library/alpine:pull", "fredysa")
    alpine = world.registry().repository("library/alpine")
    digest = next(iter(sorted(alpine.blobs)))
    mounted = client.request(
        "POST", f"/v2/fredysa/app/blobs/uploads/?mount={digest}&from=library/alpine"
    )
    assert (
        mounted.status == 201 and mounted.headers["location"] == f"/v2/fredysa/app/blobs/{digest}"
    )
    missing = client.request(
        "POST", f"/v2/fredysa/app/blobs/uploads/?mount={sha(b'none')}&from=library/alpine"
    )
    assert missing.status == 202 and "docker-upload-uuid" in missing.headers


def test_tags_list_pagination_and_link(hub, http, image):
    client = http(hub.url)
    client.login(PUSH, "fredysa")
    for tag in ("c", "a", "b"):
        push_image(client, "fredysa/app", image, tag)
    full = client.request("GET", "/v2/fredysa/app/tags/list")
    assert full.json() == {"name": "fredysa/app", "tags": ["a", "b", "c"]}
    first = client.request("GET", "/v2/fredysa/app/tags/list?n=2")
    assert first.json()["tags"] == ["a", "b"]
    assert first.headers["link"] == '</v2/fredysa/app/tags/list?last=b&n=2>; rel="next"'
    last = client.request("GET", "/v2/fredysa/app/tags/list?n=2&last=b")
    assert last.json()["tags"] == ["c"] and "link" not in last.headers
    bad = client.request("GET", "/v2/fredysa/app/tags/list?n=-1")
    assert bad.status == 400 and bad.codes == ["PAGINATION_NUMBER_INVALID"]


def test_catalog_needs_its_scope_and_paginates(open_registry, http, image):
    client = http(open_registry.url)
    push_image(client, "one", image)
    push_image(client, "two", image)
    reply = client.request("GET", "/v2/_catalog?n=1")
    assert reply.json() == {"repositories": ["one"]}
    assert reply.headers["link"] == '</v2/_catalog?last=one&n=1>; rel="next"'


def test_delete_tag_and_manifest(open_registry, http, world, image):
    client = http(open_registry.url)
    push_image(client, "app", image, "1.0")
    push_image(client, "app", image, "latest")
    assert client.request("DELETE", "/v2/app/manifests/latest").status == 202
    repo = world.registry("localhost:5000").repository("app")
    assert repo.tags == {"1.0": image.manifest_digest}
    assert client.request("DELETE", f"/v2/app/manifests/{image.manifest_digest}").status == 202
    assert repo.tags == {} and repo.manifests == {}
    again = client.request("DELETE", f"/v2/app/manifests/{image.manifest_digest}")
    assert again.status == 404 and again.codes == ["MANIFEST_UNKNOWN"]
    blob = client.request("DELETE", f"/v2/app/blobs/{image.layers[0].digest}")
    assert blob.status == 405 and blob.codes == ["UNSUPPORTED"]


def test_deleting_on_hub_needs_the_delete_scope(hub, http, image):
    client = http(hub.url)
    client.login(PUSH, "fredysa")
    push_image(client, "fredysa/app", image)
    reply = client.request("DELETE", "/v2/fredysa/app/manifests/1.0")
    assert reply.status == 401
    assert 'scope="repository:fredysa/app:delete"' in reply.headers["www-authenticate"]
    client.login("repository:fredysa/app:delete", "fredysa")
    assert client.request("DELETE", "/v2/fredysa/app/manifests/1.0").status == 202


# -- bad input changes nothing ---------------------------------------------------------------

BAD_REQUESTS = [
    ("GET", "/v2/app/blobs/sha256:xyz", None, {}, 400, "DIGEST_INVALID"),
    ("HEAD", f"/v2/app/blobs/{'sha256:' + '0' * 64}", None, {}, 404, None),
    ("GET", "/v2/app/manifests/nope", None, {}, 404, "MANIFEST_UNKNOWN"),
    ("GET", "/v2/../app/tags/list", None, {}, 400, "NAME_INVALID"),
    ("GET", "/v2/%2e%2e/app/tags/list", None, {}, 400, "NAME_INVALID"),
    ("GET", "/v2/app/%2e%2e/%2e%2e/tags/list", None, {}, 400, "NAME_INVALID"),
    ("GET", "/v2/UPPER/tags/list", None, {}, 400, "NAME_INVALID"),
    ("PUT", "/v2/app/manifests/1.0", b"{not json", {}, 400, "MANIFEST_INVALID"),
    ("PUT", "/v2/app/manifests/1.0", b'{"schemaVersion": 1}', {}, 400, "MANIFEST_INVALID"),
    ("PUT", "/v2/app/manifests/1.0", b" " * (5 * 1024 * 1024), {}, 400, "MANIFEST_INVALID"),
    ("PUT", "/v2/app/manifests/bad!tag", b"{}", {}, 400, "TAG_INVALID"),
    ("PUT", f"/v2/app/manifests/{'sha256:' + '1' * 64}", b"{}", {}, 400, "DIGEST_INVALID"),
    ("PATCH", "/v2/app/blobs/uploads/no-such-upload", b"x", {}, 404, "BLOB_UPLOAD_UNKNOWN"),
    ("PUT", "/v2/app/blobs/uploads/no-such-upload?digest=sha256:1", b"", {}, 404, None),
    ("GET", "/v2/app/tags/list?n=abc", None, {}, 400, "PAGINATION_NUMBER_INVALID"),
    ("GET", "/nothing", None, {}, 404, None),
]


@pytest.mark.parametrize(("method", "path", "body", "headers", "status", "code"), BAD_REQUESTS)
def test_bad_requests_get_the_right_error_and_change_nothing(
    open_registry, http, world, image, method, path, body, headers, status, code
):
    client = http(open_registry.url)
    push_image(client, "app", image)
    registry = world.registry("localhost:5000")
    before = json.dumps(registry.snapshot(), sort_keys=True)
    reply = client.request(method, path, body, headers)
    assert reply.status == status, reply
    if code is not None:
        assert reply.codes == [code]
    assert json.dumps(registry.snapshot(), sort_keys=True) == before
    assert registry.invariant_errors() == []


def test_digest_mismatch_and_manifest_with_missing_blob_change_nothing(open_registry, http, world):
    client = http(open_registry.url)
    registry = world.registry("localhost:5000")
    before = json.dumps(registry.snapshot(), sort_keys=True)
    start = client.request("POST", "/v2/app/blobs/uploads/")
    reply = client.request("PUT", f"{start.headers['location']}?digest={sha(b'other')}", b"data")
    assert reply.status == 400 and reply.codes == ["DIGEST_INVALID"]
    image = make_image([synthetic_layer("never-pushed", files=2)])
    reply = client.request(
        "PUT",
        "/v2/app/manifests/1.0",
        image.manifest,
        {"Content-Type": "application/vnd.docker.distribution.manifest.v2+json"},
    )
    assert reply.status == 400 and reply.codes == ["MANIFEST_BLOB_UNKNOWN"]
    assert json.dumps(registry.snapshot(), sort_keys=True) == before


def test_an_upload_session_belongs_to_whoever_started_it(hub, http, world):
    owner = http(hub.url)
    owner.login(PUSH, "fredysa")
    start = owner.request("POST", "/v2/fredysa/app/blobs/uploads/")
    intruder = http(hub.url)
    intruder.login(PUSH, "otheruser")
    reply = intruder.request("PATCH", start.headers["location"], b"evil")
    assert reply.status == 403 and reply.codes == ["DENIED"]


# -- running it ---------------------------------------------------------------------------


def test_background_server_stops_and_frees_its_port(world, http):
    handle = serve_in_background(world, registry="localhost:5000")
    assert handle.url == f"http://127.0.0.1:{handle.port}"
    assert http(handle.url).request("GET", "/v2/").status == 200
    handle.stop()
    handle.stop()  # idempotent
    with pytest.raises(OSError):
        http(handle.url).request("GET", "/v2/")


def test_labkit_serve_command_binds_loopback(tmp_path):
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "labkit.cli",
            "serve",
            "--port",
            "0",
            "--registry",
            "localhost:5000",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline()
        assert line.startswith("labkit serve: localhost:5000 at http://127.0.0.1:"), line
    finally:
        process.terminate()
        process.wait(10)


def test_labkit_serve_rejects_an_unknown_registry():
    from labkit.cli import main

    assert main(["serve", "--registry", "nowhere.example"]) == 2


# -- wire recordings ------------------------------------------------------------------------


def test_wire_push_shows_the_token_dance_then_docker_order(world):
    docker = world.client()
    docker.run("docker login -u fredysa -p s3cret-pass")
    docker.run("docker pull alpine")
    docker.run("docker tag alpine fredysa/alpine:1.0")
    result, exchanges = wire.run_with_wire(docker, "docker push fredysa/alpine:1.0")
    assert result.exit_code == 0
    lines = [(e.method, e.path.split("?")[0], e.status) for e in exchanges]
    assert lines[0] == ("GET", "/v2/", 401)
    assert exchanges[1].host == "auth.docker.io" and exchanges[1].status == 200
    assert "scope=repository%3Afredysa%2Falpine%3Apush%2Cpull" in exchanges[1].path
    assert lines[-1] == ("PUT", "/v2/fredysa/alpine/manifests/1.0", 201)
    assert ("POST", "/v2/fredysa/alpine/blobs/uploads/", 201) in lines  # mounted from alpine
    manifest = exchanges[-1]
    digest = dict(manifest.response_headers)["Docker-Content-Digest"]
    assert f"digest: {digest}" in result.output
    text = wire.format_exchanges(exchanges)
    assert "> GET https://registry-1.docker.io/v2/" in text
    assert "s3cret" not in text


def test_wire_recording_of_a_denied_push_ends_in_403(world):
    docker = world.client()
    docker.run("docker pull alpine")
    docker.run("docker tag alpine fredysa/alpine:1.0")
    result, exchanges = wire.run_with_wire(docker, "docker push fredysa/alpine:1.0")
    assert result.exit_code == 1
    assert exchanges[-1].status == 403 and '"DENIED"' in exchanges[-1].body


def test_wire_recording_patches_nothing_and_records_only_its_client(world):
    registry = world.registry()
    docker, other = world.client("one"), world.client("two")
    with wire.recording(docker) as exchanges:
        assert not vars(registry).keys() & {"check_blob", "get_manifest", "put_manifest"}
        assert "authenticate" not in vars(registry.accounts)
        other.run("docker pull alpine")
        assert exchanges == []
        docker.run("docker pull alpine")
    assert exchanges and all(e.host == "registry-1.docker.io" for e in exchanges[:1])
    assert type(docker.transport).__name__ == "DirectTransport"
