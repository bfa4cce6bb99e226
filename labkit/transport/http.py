"""A real HTTP client for registries (``labkit serve`` or any OCI registry), standard library only.

Requests follow :mod:`labkit.transport.routes`, the table ``labkit serve`` answers by, with
Docker's token flow: a ``401`` with a ``WWW-Authenticate: Bearer`` challenge sends the client to
the realm for a token (Basic credentials once logged in), then the request is sent again with
it; tokens are kept per registry and scope for the transport's life. Errors come back as
:class:`~labkit.errors.RegistryError` with the registry's code.

    transport = HttpTransport({"localhost:5000": "http://127.0.0.1:40123"})
    docker = world.client("far", transport=transport)

``urls`` maps each registry host to its base URL; a host not in it is :class:`Unreachable`.
With ``log=True`` the transport keeps what it really sent and got as
:class:`~labkit.transport.recording.Exchange` values in ``exchanges``.
"""

from __future__ import annotations

import base64
import http.client
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from labkit.accounts import Principal
from labkit.errors import ERROR_CODES, RegistryError
from labkit.registry import StoredManifest
from labkit.transport import Unreachable, routes
from labkit.transport.recording import Exchange

__all__ = ["HttpTransport", "Response"]

TIMEOUT = 30.0
USER_AGENT = "labkit (docker/28.2.2 compatible)"
_CHALLENGE_PARAM = re.compile(r'(\w+)="([^"]*)"')


@dataclass(frozen=True)
class Response:
    """A registry's answer: status, headers (names as sent), body."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        for key, value in self.headers:
            if key.lower() == lowered:
                return value
        return None


def _registry_error(response: Response) -> RegistryError:
    """The first error of a registry's error body, or one made from the status."""
    try:
        entries = json.loads(response.body or b"{}").get("errors") or []
    except (ValueError, AttributeError):
        entries = []
    for entry in entries:
        code = str(entry.get("code", ""))
        if code in ERROR_CODES:
            return RegistryError(code, entry.get("message"), entry.get("detail"))
    by_status = {401: "UNAUTHORIZED", 403: "DENIED", 404: "NAME_UNKNOWN", 429: "TOOMANYREQUESTS"}
    code = by_status.get(response.status, "UNKNOWN")
    if code not in ERROR_CODES:
        code = "UNKNOWN"
    return RegistryError(code, f"HTTP {response.status}")


class HttpTransport:
    """Registry operations over HTTP to the base URLs in ``urls`` (host -> URL)."""

    def __init__(self, urls: Mapping[str, str], *, log: bool = False) -> None:
        self.urls = dict(urls)
        self.log = log
        self.exchanges: list[Exchange] = []
        self._secrets: dict[tuple[str, str], str] = {}  # (host, user) -> secret
        self._challenges: dict[str, dict[str, str] | None] = {}  # host -> Bearer parameters
        self._tokens: dict[str, dict[str, str]] = {}  # host -> scope text -> token
        self._sessions: dict[tuple[str, str], str] = {}  # refused mount's open session

    def __repr__(self) -> str:
        return f"HttpTransport({sorted(self.urls)})"

    # -- plumbing ----------------------------------------------------------------------------

    def _base(self, host: str) -> str:
        url = self.urls.get(host)
        if url is None:
            raise Unreachable(host)
        return url.rstrip("/")

    def _send(
        self,
        url: str,
        method: str,
        headers: list[tuple[str, str]],
        body: bytes = b"",
    ) -> Response:
        parts = urlsplit(url)
        connection_class = (
            http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        )
        connection = connection_class(parts.netloc, timeout=TIMEOUT)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        try:
            connection.putrequest(method, target, skip_accept_encoding=True)
            sent = [("User-Agent", USER_AGENT), *headers]
            declared = any(k.lower() == "content-length" for k, _ in sent)
            if (body or method in ("PUT", "PATCH", "POST")) and not declared:
                sent.append(("Content-Length", str(len(body))))
            for key, value in sent:
                connection.putheader(key, value)
            connection.endheaders(body or None)
            answer = connection.getresponse()
            data = answer.read()
            response = Response(answer.status, tuple(answer.getheaders()), data)
        except OSError as error:
            raise Unreachable(parts.netloc) from error
        finally:
            connection.close()
        if self.log:  # shown as the recording transport shows it
            binary = response.header("Content-Type") == "application/octet-stream"
            text = data.decode("utf-8", "replace").rstrip("\n")
            shown = f"<{len(data)} bytes>" if binary else text
            shown = shown if len(shown) <= 200 else shown[:197] + "..."
            self.exchanges.append(
                Exchange(
                    method,
                    parts.netloc,
                    target,
                    tuple(sent),
                    response.status,
                    response.headers,
                    shown if method != "HEAD" else "",
                    parts.scheme,
                )
            )
        return response

    def _basic(self, host: str, principal: Principal) -> list[tuple[str, str]]:
        if principal.is_anonymous:
            return []
        secret = self._secrets.get((host, principal.user or ""))
        if secret is None:
            return []
        pair = base64.b64encode(f"{principal.user}:{secret}".encode()).decode()
        return [("Authorization", f"Basic {pair}")]

    def new_session(self) -> None:
        """Forget pings and tokens, as a new ``docker`` command starts afresh (logins stay)."""
        self._challenges.clear()
        self._tokens.clear()
        self._sessions.clear()

    def _ping(self, host: str) -> dict[str, str] | None:
        """``GET /v2/`` once per session: the Bearer challenge's parameters, or None (open)."""
        if host not in self._challenges:
            response = self._send(self._base(host) + routes.route("ping").path(), "GET", [])
            header = response.header("WWW-Authenticate") or ""
            if response.status == 401 and header.lower().startswith("bearer"):
                self._challenges[host] = dict(_CHALLENGE_PARAM.findall(header))
            elif response.status == 200:
                self._challenges[host] = None
            else:
                raise _registry_error(response)
        return self._challenges[host]

    def _fetch_token(
        self, host: str, principal: Principal, query: list[tuple[str, str]]
    ) -> Response:
        challenge = self._ping(host) or {}
        url = f"{challenge.get('realm', '')}?{urlencode(query)}"
        return self._send(url, "GET", self._basic(host, principal))

    def _authorize(
        self, host: str, principal: Principal, scopes: list[tuple[str, str, str]]
    ) -> list[tuple[str, str]]:
        """The ping and a token for ``scopes`` (once per scope and session), as Docker does."""
        challenge = self._ping(host)
        if challenge is None:
            return []
        texts = routes.scope_texts(scopes)
        known = self._tokens.setdefault(host, {})
        if any(text not in known for text in texts):
            account = None if principal.is_anonymous else principal.user
            service = challenge.get("service", host)
            answer = self._fetch_token(host, principal, routes.token_query(service, texts, account))
            if answer.status != 200:
                raise _registry_error(answer)
            issued = json.loads(answer.body)
            token = str(issued.get("token") or issued.get("access_token") or "")
            known.update(dict.fromkeys(texts, token))
        return [("Authorization", f"Bearer {known[texts[0]]}")] if texts else []

    def _request(
        self,
        host: str,
        principal: Principal,
        route: routes.Route,
        path: str,
        scopes: list[tuple[str, str, str]],
        headers: list[tuple[str, str]] | None = None,
        body: bytes = b"",
        expect: Iterable[int] = (),
    ) -> Response:
        """Send ``route``'s request with a token for ``scopes``; an error answer raises."""
        url = path if path.startswith(("http://", "https://")) else self._base(host) + path
        known = set(self._tokens.get(host, {}))
        auth = self._authorize(host, principal, scopes)
        reused = set(routes.scope_texts(scopes)) <= known
        response = self._send(url, route.method, [*auth, *(headers or [])], body)
        if response.status == 401 and auth and reused:  # an old token expired: a new one, once
            self._tokens.pop(host, None)
            auth = self._authorize(host, principal, scopes)
            response = self._send(url, route.method, [*auth, *(headers or [])], body)
        if response.status != route.status and response.status not in expect:
            raise _registry_error(response)
        return response

    # -- the protocol ------------------------------------------------------------------------

    def canonical_host(self, host: str) -> str | None:
        return host if host in self.urls else None

    def is_open(self, host: str) -> bool:
        return self._ping(host) is None

    def login(self, host: str, username: str, secret: str) -> Principal | None:
        challenge = self._ping(host)
        self._secrets[(host, username)] = secret
        if challenge is None:  # an open registry takes anyone
            return Principal(username)
        query = routes.login_query(challenge.get("service", host), username)
        answer = self._fetch_token(host, Principal(username), query)
        if answer.status != 200:
            del self._secrets[(host, username)]
            return None
        return Principal(username)

    def restore_login(self, host: str, username: str, token_id: str | None) -> Principal | None:
        return None  # a recorded login has no secret to send

    def check_blob(self, host: str, principal: Principal, path: str, digest: str) -> int:
        route = routes.route("check_blob")
        response = self._request(
            host,
            principal,
            route,
            route.path(name=path, digest=digest),
            routes.route("put_manifest").scopes(path),
        )
        return int(response.header("Content-Length") or 0)

    def get_blob(self, host: str, principal: Principal, path: str, digest: str) -> bytes:
        route = routes.route("get_blob")
        url = route.path(name=path, digest=digest)
        return self._request(host, principal, route, url, route.scopes(path)).body

    def mount_blob(
        self, host: str, principal: Principal, path: str, digest: str, source: str
    ) -> bool:
        route = routes.route("start_upload")
        url = route.path([("from", source), ("mount", digest)], name=path)
        scopes = [*route.scopes(path), ("repository", source, "pull")]
        response = self._request(host, principal, route, url, scopes, expect=(201,))
        if response.status == 201:
            return True
        self._sessions[(host, path)] = response.header("Location") or ""
        return False

    def push_blob(
        self, host: str, principal: Principal, path: str, digest: str, data: bytes
    ) -> None:
        """POST (or a refused mount's session), PATCH the data, PUT ``?digest=``: each to the
        ``Location`` the registry gave last, its query kept (distribution's ``_state``)."""
        start = routes.route("start_upload")
        scopes = start.scopes(path)
        location = self._sessions.pop((host, path), None)
        if location is None:
            response = self._request(host, principal, start, start.path(name=path), scopes)
            location = response.header("Location") or ""
        if data:
            patch = routes.route("upload_chunk")
            headers = [("Content-Type", "application/octet-stream")]
            response = self._request(host, principal, patch, location, scopes, headers, data)
            location = response.header("Location") or location
        finish = routes.route("finish_upload")
        parts = urlsplit(location)
        query = urlencode([*parse_qsl(parts.query, keep_blank_values=True), ("digest", digest)])
        url = urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))
        self._request(host, principal, finish, url, scopes, [("Content-Length", "0")])

    def get_manifest(
        self, host: str, principal: Principal, path: str, reference: str
    ) -> StoredManifest:
        route = routes.route("get_manifest")
        url = route.path(name=path, reference=reference)
        accept = [("Accept", routes.MANIFEST_ACCEPT)]
        response = self._request(host, principal, route, url, route.scopes(path), accept)
        media_type = response.header("Content-Type") or ""
        digest = response.header("Docker-Content-Digest") or ""
        return StoredManifest(digest, media_type, response.body)

    def put_manifest(
        self,
        host: str,
        principal: Principal,
        path: str,
        reference: str,
        data: bytes,
        media_type: str | None = None,
    ) -> str:
        route = routes.route("put_manifest")
        url = route.path(name=path, reference=reference)
        headers = [("Content-Type", media_type or "")]
        response = self._request(host, principal, route, url, route.scopes(path), headers, data)
        return response.header("Docker-Content-Digest") or ""

    def list_tags(
        self,
        host: str,
        principal: Principal,
        path: str,
        n: int | None = None,
        last: str | None = None,
    ) -> list[str]:
        route = routes.route("list_tags")
        query = [(k, str(v)) for k, v in (("n", n), ("last", last)) if v is not None]
        url = route.path(query, name=path)
        response = self._request(host, principal, route, url, route.scopes(path))
        return list(json.loads(response.body).get("tags") or [])

    def catalog(
        self, host: str, principal: Principal, n: int | None = None, last: str | None = None
    ) -> list[str]:
        route = routes.route("catalog")
        query = [(k, str(v)) for k, v in (("n", n), ("last", last)) if v is not None]
        response = self._request(host, principal, route, route.path(query), route.scopes(""))
        return list(json.loads(response.body).get("repositories") or [])

    def delete_manifest(self, host: str, principal: Principal, path: str, reference: str) -> None:
        route = routes.route("delete_manifest")
        url = route.path(name=path, reference=reference)
        self._request(host, principal, route, url, route.scopes(path))
