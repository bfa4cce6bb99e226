"""The in-process transport that also writes down the HTTP conversation, for students to read.

Each operation is carried out on the world's registry, as by
:class:`~labkit.transport.direct.DirectTransport`, and turned into the requests Docker sends
for it and the answers a registry gives: the ``/v2/`` ping and its ``401`` challenge, the token
request, ``HEAD`` of a blob, ``POST`` of an upload (``?mount=&from=`` for a cross-repository
mount), the ``PATCH`` with the data and the ``PUT ?digest=`` that closes it, the manifest ``PUT``
last; ``GET`` of manifests (with Docker's ``Accept`` list) and blobs for a pull. Paths, methods,
statuses and headers come from :mod:`labkit.transport.routes`, the table ``labkit serve``
answers by. Nothing goes on a network; nothing of the registry is patched.

    result, exchanges = run_with_wire(docker, "docker push fredysa/app:1.0")
    print(format_exchanges(exchanges))

Tokens are shown as ``<token>`` and passwords never appear. One transport is one Docker
session: the ping and the token request come once per registry and scope within it.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from labkit.accounts import Principal
from labkit.errors import RegistryError
from labkit.reference import endpoint_for
from labkit.registry import Registry, StoredManifest
from labkit.transport import routes
from labkit.transport.direct import DirectTransport, Resolver

if TYPE_CHECKING:  # type-only: the client is above the transport
    from labkit.client import Client
    from labkit.shell import Result

__all__ = ["Exchange", "RecordingTransport", "format_exchanges", "run_with_wire"]

BODY_LIMIT = 200
TOKEN_BODY = '{"token": "<token>", "expires_in": 300, "issued_at": "..."}'
JSON = ("Content-Type", "application/json")


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


def _short(text: str) -> str:
    return text if len(text) <= BODY_LIMIT else text[: BODY_LIMIT - 3] + "..."


def _error_text(error: RegistryError) -> str:
    return _short(routes.error_body(error).decode().rstrip("\n"))


class RecordingTransport(DirectTransport):
    """A :class:`DirectTransport` that records each operation's HTTP exchanges."""

    def __init__(self, resolve: Resolver) -> None:
        super().__init__(resolve)
        self.exchanges: list[Exchange] = []
        self._scopes: set[tuple[str, str]] = set()  # (registry host, scope) with a token
        self._pinged: set[str] = set()
        self._pending_mount: dict[tuple[str, str], str] = {}  # (host, path) -> 202 session
        self._counter = 0

    # -- writing exchanges -----------------------------------------------------------------

    def _add(
        self,
        registry: Registry,
        method: str,
        host: str,
        path: str,
        request: list[tuple[str, str]],
        status: int,
        response: Sequence[tuple[str, str]] = (),
        body: str = "",
    ) -> None:
        # An open local registry (localhost:5000) is insecure: Docker talks plain HTTP to it.
        scheme = "http" if registry.profile.open_access else "https"
        self.exchanges.append(
            Exchange(
                method,
                host,
                path,
                tuple(request),
                status,
                (routes.API_VERSION, *response),
                body,
                scheme,
            )
        )

    def _failed(
        self,
        registry: Registry,
        route: routes.Route,
        url: str,
        request: list[tuple[str, str]],
        error: RegistryError,
        name: str,
    ) -> None:
        response = [JSON]
        if error.status == 401:
            _, realm, service = routes.auth_server(registry.host)
            scopes = route.scopes(name)
            response.append(("WWW-Authenticate", routes.challenge(realm, service, scopes)))
        host = endpoint_for(registry.host)
        body = _error_text(error)
        self._add(registry, route.method, host, url, request, error.status, response, body)

    def _new_session(self, host: str, path: str) -> str:
        self._counter += 1
        seed = hashlib.sha256(f"{host}/{path}/{self._counter}".encode()).digest()[:16]
        return str(uuid.UUID(bytes=seed, version=4))

    # -- authentication --------------------------------------------------------------------

    def _ping(self, registry: Registry) -> None:
        host = endpoint_for(registry.host)
        if host in self._pinged:
            return
        self._pinged.add(host)
        path = routes.route("ping").path()
        if registry.profile.open_access:
            self._add(registry, "GET", host, path, [], 200, routes.ping_headers(), "{}")
            return
        _, realm, service = routes.auth_server(registry.host)
        self._add(
            registry,
            "GET",
            host,
            path,
            [],
            401,
            [JSON, ("WWW-Authenticate", routes.challenge(realm, service))],
            _error_text(routes.unauthorized()),
        )

    def _authorize(
        self, registry: Registry, principal: Principal, scopes: list[tuple[str, str, str]]
    ) -> list[tuple[str, str]]:
        """The ping and token request (once per scope); the headers later requests carry."""
        self._ping(registry)
        if registry.profile.open_access:
            return []
        texts = routes.scope_texts(scopes)
        missing = [s for s in texts if (registry.host, s) not in self._scopes]
        if missing:
            token_host, _, service = routes.auth_server(registry.host)
            account = None if principal.is_anonymous else principal.user
            query = routes.token_query(service, texts, account)
            request = [] if principal.is_anonymous else [("Authorization", "Basic <credentials>")]
            path = routes.route("token").path(query)
            self._add(registry, "GET", token_host, path, request, 200, [JSON], TOKEN_BODY)
            self._scopes.update((registry.host, s) for s in texts)
        return [("Authorization", "Bearer <token>")]

    def login(self, host: str, username: str, secret: str) -> Principal | None:
        principal = super().login(host, username, secret)
        registry = self.registry(host)
        self._ping(registry)
        if registry.profile.open_access:
            return principal
        token_host, _, service = routes.auth_server(registry.host)
        path = routes.route("token").path(routes.login_query(service, username))
        request = [("Authorization", "Basic <credentials>")]
        if principal is not None:
            self._add(registry, "GET", token_host, path, request, 200, [JSON], TOKEN_BODY)
        else:
            error = RegistryError("UNAUTHORIZED", "incorrect username or password")
            self._add(registry, "GET", token_host, path, request, 401, [JSON], _error_text(error))
        return principal

    # -- blobs ----------------------------------------------------------------------------

    def check_blob(self, host: str, principal: Principal, path: str, digest: str) -> int:
        registry = self.registry(host)
        route = routes.route("check_blob")
        # Docker asks with the push scope when it checks before an upload.
        push_scopes = routes.route("put_manifest").scopes(path)
        headers = self._authorize(registry, principal, push_scopes)
        url = route.path(name=path, digest=digest)
        endpoint = endpoint_for(registry.host)
        try:
            size = super().check_blob(host, principal, path, digest)
        except RegistryError as error:
            self._add(registry, route.method, endpoint, url, headers, error.status)
            raise
        response = routes.blob_headers(digest, size)
        self._add(registry, route.method, endpoint, url, headers, route.status, response)
        return size

    def get_blob(self, host: str, principal: Principal, path: str, digest: str) -> bytes:
        registry = self.registry(host)
        route = routes.route("get_blob")
        headers = self._authorize(registry, principal, route.scopes(path))
        url = route.path(name=path, digest=digest)
        try:
            data = super().get_blob(host, principal, path, digest)
        except RegistryError as error:
            self._failed(registry, route, url, headers, error, path)
            raise
        response = routes.blob_headers(digest, len(data))
        endpoint = endpoint_for(registry.host)
        self._add(
            registry,
            route.method,
            endpoint,
            url,
            headers,
            route.status,
            response,
            f"<{len(data)} bytes>",
        )
        return data

    def mount_blob(
        self, host: str, principal: Principal, path: str, digest: str, source: str
    ) -> bool:
        registry = self.registry(host)
        route = routes.route("start_upload")
        scopes = [*route.scopes(path), ("repository", source, "pull")]
        headers = self._authorize(registry, principal, scopes)
        url = route.path([("from", source), ("mount", digest)], name=path)
        try:
            mounted = super().mount_blob(host, principal, path, digest, source)
        except RegistryError as error:
            self._failed(registry, route, url, headers, error, path)
            raise
        endpoint = endpoint_for(registry.host)
        if mounted:
            response = routes.created_headers(path, digest)
            self._add(registry, route.method, endpoint, url, headers, 201, response)
        else:
            session = self._new_session(endpoint, path)
            self._pending_mount[(endpoint, path)] = session
            response = routes.session_headers(path, session, 0)
            self._add(registry, route.method, endpoint, url, headers, route.status, response)
        return mounted

    def push_blob(
        self, host: str, principal: Principal, path: str, digest: str, data: bytes
    ) -> None:
        registry = self.registry(host)
        endpoint = endpoint_for(registry.host)
        start = routes.route("start_upload")
        push_scopes = start.scopes(path)
        headers = self._authorize(registry, principal, push_scopes)
        url = start.path(name=path)
        try:
            upload_id = registry.start_upload(principal, path)
        except RegistryError as error:
            self._failed(registry, start, url, headers, error, path)
            raise
        session = self._pending_mount.pop((endpoint, path), None)
        if session is None:  # a refused mount's 202 already opened the session
            session = self._new_session(endpoint, path)
            response = routes.session_headers(path, session, 0)
            self._add(registry, start.method, endpoint, url, headers, start.status, response)
        patch = routes.route("upload_chunk")
        finish = routes.route("finish_upload")
        finish_url = finish.path([("digest", digest)], name=path, upload=session)
        try:
            registry.finish_upload(upload_id, digest, data)
        except RegistryError as error:
            if data:
                self._patch(registry, principal, path, session, len(data), patch)
            headers = self._authorize(registry, principal, push_scopes)
            self._failed(registry, finish, finish_url, headers, error, path)
            raise
        if data:  # Docker streams the data with PATCH, then closes with an empty PUT
            self._patch(registry, principal, path, session, len(data), patch)
        headers = [*self._authorize(registry, principal, push_scopes), ("Content-Length", "0")]
        response = routes.created_headers(path, digest)
        self._add(registry, finish.method, endpoint, finish_url, headers, finish.status, response)

    def _patch(
        self,
        registry: Registry,
        principal: Principal,
        path: str,
        session: str,
        size: int,
        route: routes.Route,
    ) -> None:
        headers = self._authorize(registry, principal, route.scopes(path))
        headers += [("Content-Type", "application/octet-stream"), ("Content-Length", str(size))]
        response = routes.session_headers(path, session, size)
        url = route.path(name=path, upload=session)
        endpoint = endpoint_for(registry.host)
        self._add(registry, route.method, endpoint, url, headers, route.status, response)

    # -- manifests and tags ---------------------------------------------------------------

    def put_manifest(
        self,
        host: str,
        principal: Principal,
        path: str,
        reference: str,
        data: bytes,
        media_type: str | None = None,
    ) -> str:
        registry = self.registry(host)
        route = routes.route("put_manifest")
        headers = self._authorize(registry, principal, route.scopes(path))
        headers += [("Content-Type", media_type or ""), ("Content-Length", str(len(data)))]
        url = route.path(name=path, reference=reference)
        try:
            digest = super().put_manifest(host, principal, path, reference, data, media_type)
        except RegistryError as error:
            self._failed(registry, route, url, headers, error, path)
            raise
        response = routes.created_headers(path, digest, "manifests")
        endpoint = endpoint_for(registry.host)
        self._add(registry, route.method, endpoint, url, headers, route.status, response)
        return digest

    def get_manifest(
        self, host: str, principal: Principal, path: str, reference: str
    ) -> StoredManifest:
        registry = self.registry(host)
        route = routes.route("get_manifest")
        headers = self._authorize(registry, principal, route.scopes(path))
        headers.append(("Accept", routes.MANIFEST_ACCEPT))
        url = route.path(name=path, reference=reference)
        try:
            stored = super().get_manifest(host, principal, path, reference)
        except RegistryError as error:
            self._failed(registry, route, url, headers, error, path)
            raise
        response = routes.manifest_headers(stored.digest, stored.media_type, stored.size)
        body = _short(stored.data.decode("utf-8", "replace"))
        endpoint = endpoint_for(registry.host)
        self._add(registry, route.method, endpoint, url, headers, route.status, response, body)
        return stored

    def list_tags(
        self,
        host: str,
        principal: Principal,
        path: str,
        n: int | None = None,
        last: str | None = None,
    ) -> list[str]:
        registry = self.registry(host)
        route = routes.route("list_tags")
        headers = self._authorize(registry, principal, route.scopes(path))
        url = route.path(_page_query(n, last), name=path)
        try:
            tags = super().list_tags(host, principal, path, n, last)
        except RegistryError as error:
            self._failed(registry, route, url, headers, error, path)
            raise
        body = _short(json.dumps({"name": path, "tags": tags}))
        endpoint = endpoint_for(registry.host)
        self._add(registry, route.method, endpoint, url, headers, route.status, [JSON], body)
        return tags

    def catalog(
        self, host: str, principal: Principal, n: int | None = None, last: str | None = None
    ) -> list[str]:
        registry = self.registry(host)
        route = routes.route("catalog")
        headers = self._authorize(registry, principal, route.scopes(""))
        url = route.path(_page_query(n, last))
        try:
            paths = super().catalog(host, principal, n, last)
        except RegistryError as error:
            self._failed(registry, route, url, headers, error, "")
            raise
        body = _short(json.dumps({"repositories": paths}))
        endpoint = endpoint_for(registry.host)
        self._add(registry, route.method, endpoint, url, headers, route.status, [JSON], body)
        return paths

    def delete_manifest(self, host: str, principal: Principal, path: str, reference: str) -> None:
        registry = self.registry(host)
        route = routes.route("delete_manifest")
        headers = self._authorize(registry, principal, route.scopes(path))
        url = route.path(name=path, reference=reference)
        try:
            super().delete_manifest(host, principal, path, reference)
        except RegistryError as error:
            self._failed(registry, route, url, headers, error, path)
            raise
        endpoint = endpoint_for(registry.host)
        response = [("Content-Length", "0")]
        self._add(registry, route.method, endpoint, url, headers, route.status, response)


def _page_query(n: int | None, last: str | None) -> list[tuple[str, str]]:
    return [(k, str(v)) for k, v in (("n", n), ("last", last)) if v is not None]


@contextmanager
def recording(client: Client) -> Iterator[list[Exchange]]:
    """Record the HTTP exchanges of whatever ``client`` runs inside the block (one session)."""
    transport = RecordingTransport(client.world.find_registry)
    with client.using(transport):
        yield transport.exchanges


def run_with_wire(
    client: Client, line: str, stdin: str | None = None
) -> tuple[Result, list[Exchange]]:
    """Run one docker command line on ``client`` and return (Result, exchanges)."""
    with recording(client) as exchanges:
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
            lines += [
                f"< {k}: {v}" for k, v in exchange.response_headers if k != routes.API_VERSION[0]
            ]
        if exchange.body:
            lines.append(f"< {exchange.body}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + ("\n" if blocks else "")
