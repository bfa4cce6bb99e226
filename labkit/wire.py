"""The HTTP conversation behind a simulated docker command, for students to read.

While :func:`record` is active, every registry operation of the world (and every login check)
is translated into the requests Docker sends for it and the responses a registry gives: the
``/v2/`` ping and its ``401`` challenge, the token request, ``HEAD`` of a blob, ``POST`` of an
upload (``?mount=&from=`` for a cross-repository mount), the ``PATCH`` with the data and the
``PUT ?digest=`` that closes it, the manifest ``PUT`` last; ``GET`` of manifests (with Docker's
``Accept`` list) and blobs for a pull. Nothing goes on a network: the exchanges are derived from
the operations the engine really performs, with their real statuses, digests and error bodies.

    with wire.record(world) as exchanges:
        docker.run("docker push fredysa/app:1.0")
    print(wire.format_exchanges(exchanges))

Tokens are shown as ``<token>`` and passwords never appear. Each :func:`record` block is one
Docker session: the ping and the token request come once per registry and scope within it.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import urlencode

from labkit.accounts import Principal
from labkit.errors import RegistryError
from labkit.registry import Registry

__all__ = ["Exchange", "format_exchanges", "record", "run_with_wire"]

# What dockerd's distribution client accepts for a manifest GET (classic store).
MANIFEST_ACCEPT = ", ".join(
    [
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.oci.image.manifest.v1+json",
    ]
)
API_VERSION = ("Docker-Distribution-Api-Version", "registry/2.0")
BODY_LIMIT = 200


@dataclass(frozen=True)
class Exchange:
    """One request and its response, as Docker and the registry would send them."""

    method: str
    host: str
    path: str  # with the query
    request_headers: tuple[tuple[str, str], ...]
    status: int
    response_headers: tuple[tuple[str, str], ...]
    body: str = ""  # the response body, shortened
    scheme: str = "https"

    @property
    def reason(self) -> str:
        """The status's reason phrase (``Unauthorized``)."""
        return HTTPStatus(self.status).phrase

    def to_json(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "host": self.host,
            "path": self.path,
            "request_headers": dict(self.request_headers),
            "status": self.status,
            "response_headers": dict(self.response_headers),
            "body": self.body,
            "scheme": self.scheme,
        }


def endpoint(registry: Registry) -> str:
    """The host Docker really contacts for ``registry``."""
    return "registry-1.docker.io" if registry.host == "docker.io" else registry.host


def auth_server(registry: Registry) -> tuple[str, str, str]:
    """(token host, realm, service) of a registry's token server."""
    if registry.host == "docker.io":
        return "auth.docker.io", "https://auth.docker.io/token", "registry.docker.io"
    return registry.host, f"https://{registry.host}/token", registry.host


def _short(text: str) -> str:
    return text if len(text) <= BODY_LIMIT else text[: BODY_LIMIT - 3] + "..."


def _error_body(error: RegistryError) -> str:
    return _short(json.dumps({"errors": [error.to_json()]}))


class _Recorder:
    """Turns registry calls into exchanges; one per :func:`record` block."""

    def __init__(self) -> None:
        self.exchanges: list[Exchange] = []
        self.scopes: set[tuple[str, str]] = set()  # (host, scope) a token was fetched for
        self.pinged: set[str] = set()
        self.sessions: dict[str, tuple[str, str, Principal, int]] = {}  # id -> host,path,who,n
        self.pending_mount: dict[tuple[str, str], str] = {}  # (host, path) -> 202 session
        self.counter = 0
        self.plain_hosts: set[str] = set()

    def add(self, method, host, path, request, status, response=(), body="") -> None:
        # An open local registry (localhost:5000) is insecure: Docker talks plain HTTP to it.
        scheme = "http" if host in self.plain_hosts else "https"
        self.exchanges.append(
            Exchange(
                method, host, path, tuple(request), status, (API_VERSION, *response), body, scheme
            )
        )

    def new_uuid(self, host: str, path: str) -> str:
        self.counter += 1
        seed = hashlib.sha256(f"{host}/{path}/{self.counter}".encode()).digest()[:16]
        return str(uuid.UUID(bytes=seed, version=4))

    # -- authentication --------------------------------------------------------------------

    def ping(self, registry: Registry) -> None:
        host = endpoint(registry)
        if host in self.pinged:
            return
        self.pinged.add(host)
        if registry.profile.open_access:
            self.add("GET", host, "/v2/", [], 200, [("Content-Type", "application/json")], "{}")
            return
        _, realm, service = auth_server(registry)
        challenge = f'Bearer realm="{realm}",service="{service}"'
        error = RegistryError("UNAUTHORIZED", "authentication required")
        self.add(
            "GET",
            host,
            "/v2/",
            [],
            401,
            [("Content-Type", "application/json"), ("WWW-Authenticate", challenge)],
            _error_body(error),
        )

    def authorize(self, registry: Registry, principal: Principal, scopes: list[str]) -> list:
        """The ping and token request (once per scope); the headers later requests carry."""
        self.ping(registry)
        if registry.profile.open_access:
            return []
        missing = [s for s in scopes if (registry.host, s) not in self.scopes]
        if missing:
            token_host, _, service = auth_server(registry)
            account = [] if principal.is_anonymous else [("account", principal.user)]
            query = urlencode([*account, *(("scope", s) for s in scopes), ("service", service)])
            request = [] if principal.is_anonymous else [("Authorization", "Basic <credentials>")]
            body = '{"token": "<token>", "expires_in": 300, "issued_at": "..."}'
            self.add(
                "GET",
                token_host,
                f"/token?{query}",
                request,
                200,
                [("Content-Type", "application/json")],
                body,
            )
            self.scopes.update((registry.host, s) for s in scopes)
        return [("Authorization", "Bearer <token>")]

    def login(self, registry: Registry, name: str, ok: bool) -> None:
        self.ping(registry)
        if registry.profile.open_access:
            return
        token_host, _, service = auth_server(registry)
        query = urlencode(
            [
                ("account", name),
                ("client_id", "docker"),
                ("offline_token", "true"),
                ("service", service),
            ]
        )
        if ok:
            self.add(
                "GET",
                token_host,
                f"/token?{query}",
                [("Authorization", "Basic <credentials>")],
                200,
                [("Content-Type", "application/json")],
                '{"token": "<token>", "expires_in": 300, "issued_at": "..."}',
            )
        else:
            error = RegistryError("UNAUTHORIZED", "incorrect username or password")
            self.add(
                "GET",
                token_host,
                f"/token?{query}",
                [("Authorization", "Basic <credentials>")],
                401,
                [("Content-Type", "application/json")],
                _error_body(error),
            )


def _push_scope(path: str) -> str:
    return f"repository:{path}:push,pull"


def _pull_scope(path: str) -> str:
    return f"repository:{path}:pull"


def _wrap(recorder: _Recorder, registry: Registry) -> dict[str, Callable]:
    """Replacement methods for ``registry`` that record what they do."""
    host = endpoint(registry)
    original = {
        name: getattr(registry, name)
        for name in (
            "check_blob",
            "get_blob",
            "mount_blob",
            "start_upload",
            "upload_chunk",
            "finish_upload",
            "put_manifest",
            "get_manifest",
            "list_tags",
            "catalog",
            "delete_tag",
            "delete_manifest",
        )
    }

    def failed(method: str, path: str, headers: list, error: RegistryError, head=False) -> None:
        response = [("Content-Type", "application/json")]
        if error.status == 401:
            _, realm, service = auth_server(registry)
            response.append(("WWW-Authenticate", f'Bearer realm="{realm}",service="{service}"'))
        recorder.add(method, host, path, headers, error.status, response, _error_body(error))

    def check_blob(principal: Principal, path: str, digest: str) -> int:
        headers = recorder.authorize(registry, principal, [_push_scope(path)])
        url = f"/v2/{path}/blobs/{digest}"
        try:
            size = original["check_blob"](principal, path, digest)
        except RegistryError as error:
            recorder.add("HEAD", host, url, headers, error.status, [], "")
            raise
        response = [
            ("Content-Length", str(size)),
            ("Content-Type", "application/octet-stream"),
            ("Docker-Content-Digest", digest),
        ]
        recorder.add("HEAD", host, url, headers, 200, response)
        return size

    def get_blob(principal: Principal, path: str, digest: str) -> bytes:
        headers = recorder.authorize(registry, principal, [_pull_scope(path)])
        url = f"/v2/{path}/blobs/{digest}"
        try:
            data = original["get_blob"](principal, path, digest)
        except RegistryError as error:
            failed("GET", url, headers, error)
            raise
        response = [
            ("Content-Length", str(len(data))),
            ("Content-Type", "application/octet-stream"),
            ("Docker-Content-Digest", digest),
        ]
        recorder.add("GET", host, url, headers, 200, response, f"<{len(data)} bytes>")
        return data

    def mount_blob(principal: Principal, path: str, digest: str, source: str) -> bool:
        scopes = [_push_scope(path), _pull_scope(source)]
        headers = recorder.authorize(registry, principal, scopes)
        url = f"/v2/{path}/blobs/uploads/?{urlencode({'from': source, 'mount': digest})}"
        try:
            mounted = original["mount_blob"](principal, path, digest, source)
        except RegistryError as error:
            failed("POST", url, headers, error)
            raise
        if mounted:
            response = [
                ("Content-Length", "0"),
                ("Docker-Content-Digest", digest),
                ("Location", f"/v2/{path}/blobs/{digest}"),
            ]
            recorder.add("POST", host, url, headers, 201, response)
        else:
            session = recorder.new_uuid(host, path)
            recorder.pending_mount[(host, path)] = session
            recorder.add("POST", host, url, headers, 202, _session_headers(path, session, 0))
        return mounted

    def start_upload(principal: Principal, path: str) -> str:
        headers = recorder.authorize(registry, principal, [_push_scope(path)])
        url = f"/v2/{path}/blobs/uploads/"
        try:
            upload_id = original["start_upload"](principal, path)
        except RegistryError as error:
            failed("POST", url, headers, error)
            raise
        session = recorder.pending_mount.pop((host, path), None)
        if session is None:  # a refused mount's 202 already opened the session
            session = recorder.new_uuid(host, path)
            recorder.add("POST", host, url, headers, 202, _session_headers(path, session, 0))
        recorder.sessions[upload_id] = (session, path, principal, 0)
        return upload_id

    def upload_chunk(upload_id: str, data: bytes) -> int:
        received = original["upload_chunk"](upload_id, data)
        session, path, principal, _ = recorder.sessions[upload_id]
        recorder.sessions[upload_id] = (session, path, principal, received)
        _patch(session, path, principal, received, len(data))
        return received

    def _patch(session: str, path: str, principal: Principal, received: int, size: int) -> None:
        headers = recorder.authorize(registry, principal, [_push_scope(path)])
        headers += [("Content-Type", "application/octet-stream"), ("Content-Length", str(size))]
        response = _session_headers(path, session, received)
        url = f"/v2/{path}/blobs/uploads/{session}"
        recorder.add("PATCH", host, url, headers, 202, response)

    def finish_upload(upload_id: str, digest: str, data: bytes = b"", *, size=None) -> str:
        entry = recorder.sessions.pop(upload_id, None)
        try:
            result = original["finish_upload"](upload_id, digest, data, size=size)
        except RegistryError as error:
            if entry is not None:
                session, path, principal, received = entry
                if data:
                    _patch(session, path, principal, received + len(data), len(data))
                headers = recorder.authorize(registry, principal, [_push_scope(path)])
                url = f"/v2/{path}/blobs/uploads/{session}?{urlencode({'digest': digest})}"
                failed("PUT", url, headers, error)
            raise
        session, path, principal, received = entry  # type: ignore[misc]
        if data:  # Docker streams the data with PATCH, then closes with an empty PUT
            _patch(session, path, principal, received + len(data), len(data))
        headers = recorder.authorize(registry, principal, [_push_scope(path)])
        headers.append(("Content-Length", "0"))
        url = f"/v2/{path}/blobs/uploads/{session}?{urlencode({'digest': digest})}"
        response = [
            ("Content-Length", "0"),
            ("Docker-Content-Digest", digest),
            ("Location", f"/v2/{path}/blobs/{digest}"),
        ]
        recorder.add("PUT", host, url, headers, 201, response)
        return result

    def put_manifest(principal, path, reference, data, media_type=None) -> str:
        headers = recorder.authorize(registry, principal, [_push_scope(path)])
        headers += [("Content-Type", media_type or ""), ("Content-Length", str(len(data)))]
        url = f"/v2/{path}/manifests/{reference}"
        try:
            digest = original["put_manifest"](principal, path, reference, data, media_type)
        except RegistryError as error:
            failed("PUT", url, headers, error)
            raise
        response = [
            ("Content-Length", "0"),
            ("Docker-Content-Digest", digest),
            ("Location", f"/v2/{path}/manifests/{digest}"),
        ]
        recorder.add("PUT", host, url, headers, 201, response)
        return digest

    def get_manifest(principal, path, reference):
        headers = recorder.authorize(registry, principal, [_pull_scope(path)])
        headers.append(("Accept", MANIFEST_ACCEPT))
        url = f"/v2/{path}/manifests/{reference}"
        try:
            stored = original["get_manifest"](principal, path, reference)
        except RegistryError as error:
            failed("GET", url, headers, error)
            raise
        response = [
            ("Content-Length", str(stored.size)),
            ("Content-Type", stored.media_type),
            ("Docker-Content-Digest", stored.digest),
        ]
        body = _short(stored.data.decode("utf-8", "replace"))
        recorder.add("GET", host, url, headers, 200, response, body)
        return stored

    def list_tags(principal, path, n=None, last=None):
        headers = recorder.authorize(registry, principal, [_pull_scope(path)])
        query = urlencode([(k, v) for k, v in (("n", n), ("last", last)) if v is not None])
        url = f"/v2/{path}/tags/list" + (f"?{query}" if query else "")
        try:
            tags = original["list_tags"](principal, path, n, last)
        except RegistryError as error:
            failed("GET", url, headers, error)
            raise
        body = _short(json.dumps({"name": path, "tags": tags}))
        recorder.add("GET", host, url, headers, 200, [("Content-Type", "application/json")], body)
        return tags

    def catalog(principal, n=None, last=None):
        headers = recorder.authorize(registry, principal, ["registry:catalog:*"])
        query = urlencode([(k, v) for k, v in (("n", n), ("last", last)) if v is not None])
        url = "/v2/_catalog" + (f"?{query}" if query else "")
        try:
            paths = original["catalog"](principal, n, last)
        except RegistryError as error:
            failed("GET", url, headers, error)
            raise
        body = _short(json.dumps({"repositories": paths}))
        recorder.add("GET", host, url, headers, 200, [("Content-Type", "application/json")], body)
        return paths

    def deleter(name: str) -> Callable:
        def delete(principal, path, reference):
            headers = recorder.authorize(registry, principal, [f"repository:{path}:delete"])
            url = f"/v2/{path}/manifests/{reference}"
            try:
                original[name](principal, path, reference)
            except RegistryError as error:
                failed("DELETE", url, headers, error)
                raise
            recorder.add("DELETE", host, url, headers, 202, [("Content-Length", "0")])

        return delete

    return {
        "check_blob": check_blob,
        "get_blob": get_blob,
        "mount_blob": mount_blob,
        "start_upload": start_upload,
        "upload_chunk": upload_chunk,
        "finish_upload": finish_upload,
        "put_manifest": put_manifest,
        "get_manifest": get_manifest,
        "list_tags": list_tags,
        "catalog": catalog,
        "delete_tag": deleter("delete_tag"),
        "delete_manifest": deleter("delete_manifest"),
    }


def _session_headers(path: str, session: str, received: int) -> list[tuple[str, str]]:
    return [
        ("Content-Length", "0"),
        ("Docker-Upload-Uuid", session),
        ("Location", f"/v2/{path}/blobs/uploads/{session}"),
        ("Range", f"0-{max(received - 1, 0)}"),
    ]


def _wrap_login(recorder: _Recorder, registry: Registry) -> Callable:
    authenticate = registry.accounts.authenticate

    def login(name: str, secret: str):
        principal = authenticate(name, secret)
        recorder.login(registry, name, principal is not None)
        return principal

    return login


@contextmanager
def record(world: Any) -> Iterator[list[Exchange]]:
    """Record the HTTP exchanges behind whatever runs on ``world`` inside the block.

    Yields the list the exchanges are appended to. The world's registries are patched on
    their instances for the block only (not thread-safe: do not serve the same world from
    another thread meanwhile, unless you hold :func:`labkit.server.world_lock`).
    """
    recorder = _Recorder()
    recorder.plain_hosts = {endpoint(r) for r in world.registries.values() if r.profile.open_access}
    patched: list[tuple[object, str]] = []
    try:
        for registry in world.registries.values():
            for name, method in _wrap(recorder, registry).items():
                setattr(registry, name, method)
                patched.append((registry, name))
            registry.accounts.authenticate = _wrap_login(recorder, registry)
            patched.append((registry.accounts, "authenticate"))
        yield recorder.exchanges
    finally:
        for target, name in patched:
            delattr(target, name)  # the class's method shows through again


def run_with_wire(client: Any, line: str, stdin: str | None = None) -> tuple[Any, list[Exchange]]:
    """Run one docker command line on ``client`` and return (Result, exchanges)."""
    with record(client.world) as exchanges:
        result = client.run(line, stdin)
    return result, exchanges


def format_exchanges(exchanges: list[Exchange], *, headers: bool = True) -> str:
    """The exchanges as text, one block a request: request line, headers, status, body."""
    blocks = []
    for exchange in exchanges:
        lines = [f"> {exchange.method} {exchange.scheme}://{exchange.host}{exchange.path}"]
        if headers:
            lines += [f"> {k}: {v}" for k, v in exchange.request_headers]
        lines.append(f"< {exchange.status} {exchange.reason}")
        if headers:
            lines += [f"< {k}: {v}" for k, v in exchange.response_headers if k != API_VERSION[0]]
        if exchange.body:
            lines.append(f"< {exchange.body}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + ("\n" if blocks else "")
