"""The OCI distribution HTTP API as one table: every route a client or ``labkit serve`` uses.

Each :class:`Route` names one registry operation (``check_blob``, ``put_manifest``, ...) with
its method, its path template, the token scope actions it needs and its success status. The
functions below build the headers and bodies of the answers. ``labkit serve``
(:mod:`labkit.server`) dispatches every request through :func:`match` and answers with these
builders; the recording transport (what ``%docker --wire`` shows) writes its exchanges with the
same table and the same builders; the HTTP transport sends its requests by it. So what ``--wire``
shows is what ``labkit serve`` answers, by construction (and a test holds them to it).

Sources: the distribution spec (https://github.com/opencontainers/distribution-spec,
spec.md, "Endpoints"), distribution/distribution registry/api/v2/descriptors.go, and
the token spec (docs/spec/auth/token.md).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlencode

from labkit.errors import RegistryError
from labkit.reference import (
    DOCKER_HUB_AUTH_HOST,
    DOCKER_HUB_AUTH_SERVICE,
    is_docker_hub,
)

__all__ = [
    "API_VERSION",
    "MANIFEST_ACCEPT",
    "ROUTES",
    "Route",
    "auth_server",
    "blob_headers",
    "challenge",
    "created_headers",
    "error_body",
    "login_query",
    "manifest_headers",
    "match",
    "path_matches",
    "ping_headers",
    "route",
    "scope_texts",
    "session_headers",
    "token_query",
    "unauthorized",
]

API_VERSION = ("Docker-Distribution-Api-Version", "registry/2.0")

# What dockerd's distribution client accepts for a manifest GET (classic store).
MANIFEST_ACCEPT = ", ".join(
    [
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.oci.image.manifest.v1+json",
    ]
)

_PARAM = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Route:
    """One operation of the API: ``method`` on ``template`` (``{name}`` is a repository path,
    any other ``{param}`` one path segment); ``actions`` are the repository scope actions its
    token needs; ``status`` is its success status."""

    op: str
    method: str
    template: str
    actions: tuple[str, ...] = ()
    status: int = 200
    regex: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        pattern = ""
        position = 0
        for found in _PARAM.finditer(self.template):
            pattern += re.escape(self.template[position : found.start()])
            part = ".+" if found[1] == "name" else "[^/]+"
            pattern += f"(?P<{found[1]}>{part})"
            position = found.end()
        pattern += re.escape(self.template[position:])
        if pattern.endswith("/"):  # "/v2/" and "/v2/<name>/blobs/uploads/": the slash optional
            pattern += "?"
        object.__setattr__(self, "regex", re.compile(pattern))

    def path(self, query: Iterable[tuple[str, str]] = (), **params: str) -> str:
        """The request path for these parameters, with the query (in the order given)."""
        text = _PARAM.sub(lambda found: params[found[1]], self.template)
        encoded = urlencode(list(query))
        return f"{text}?{encoded}" if encoded else text

    def scopes(self, name: str) -> list[tuple[str, str, str]]:
        """The token scopes this route needs on repository ``name``."""
        if self.op == "catalog":
            return [("registry", "catalog", "*")]
        return [("repository", name, action) for action in self.actions]


_PULL = ("pull",)
_PUSH = ("pull", "push")
_DELETE = ("delete",)

# In matching order: a path is tried against each template in turn (uploads before blobs).
ROUTES: tuple[Route, ...] = (
    Route("ping", "GET", "/v2/"),
    Route("ping", "HEAD", "/v2/"),
    Route("catalog", "GET", "/v2/_catalog"),
    Route("list_tags", "GET", "/v2/{name}/tags/list", _PULL),
    Route("get_manifest", "GET", "/v2/{name}/manifests/{reference}", _PULL),
    Route("head_manifest", "HEAD", "/v2/{name}/manifests/{reference}", _PULL),
    Route("put_manifest", "PUT", "/v2/{name}/manifests/{reference}", _PUSH, 201),
    Route("delete_manifest", "DELETE", "/v2/{name}/manifests/{reference}", _DELETE, 202),
    Route("start_upload", "POST", "/v2/{name}/blobs/uploads/", _PUSH, 202),
    Route("upload_status", "GET", "/v2/{name}/blobs/uploads/{upload}", _PULL, 204),
    Route("upload_status", "HEAD", "/v2/{name}/blobs/uploads/{upload}", _PULL, 204),
    Route("upload_chunk", "PATCH", "/v2/{name}/blobs/uploads/{upload}", _PUSH, 202),
    Route("finish_upload", "PUT", "/v2/{name}/blobs/uploads/{upload}", _PUSH, 201),
    Route("cancel_upload", "DELETE", "/v2/{name}/blobs/uploads/{upload}", _PUSH, 204),
    Route("get_blob", "GET", "/v2/{name}/blobs/{digest}", _PULL),
    Route("check_blob", "HEAD", "/v2/{name}/blobs/{digest}", _PULL),
    Route("delete_blob", "DELETE", "/v2/{name}/blobs/{digest}", _DELETE, 202),
    Route("token", "GET", "/token"),
)

_BY_OP: dict[str, Route] = {}
for _route in ROUTES:
    _BY_OP.setdefault(_route.op, _route)


def route(op: str) -> Route:
    """The route of an operation (``ping`` is its GET)."""
    return _BY_OP[op]


def path_matches(path: str) -> list[tuple[Route, dict[str, str]]]:
    """Every route whose template matches ``path`` (any method), with its parameters, in
    table order; the routes of the first template that matches only."""
    found: list[tuple[Route, dict[str, str]]] = []
    template = None
    for candidate in ROUTES:
        if template is not None and candidate.template != template:
            continue
        hit = candidate.regex.fullmatch(path)
        if hit is not None:
            template = candidate.template
            found.append((candidate, hit.groupdict()))
    return found


def match(method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    """The route for ``method`` on ``path`` and its parameters, or None (Go's 404)."""
    for candidate, params in path_matches(path):
        if candidate.method == method:
            return candidate, params
    return None


# -- answers ------------------------------------------------------------------------------


def auth_server(host: str) -> tuple[str, str, str]:
    """(token host, realm, service) of a registry's token server as a client sees it."""
    if is_docker_hub(host):
        return (
            DOCKER_HUB_AUTH_HOST,
            f"https://{DOCKER_HUB_AUTH_HOST}/token",
            DOCKER_HUB_AUTH_SERVICE,
        )
    return host, f"https://{host}/token", host


def challenge(
    realm: str, service: str, scopes: Iterable[tuple[str, str, str]] = (), error: str | None = None
) -> str:
    """The ``WWW-Authenticate: Bearer`` challenge of a 401 (token spec, "How to authenticate")."""
    parts = [f'realm="{realm}"', f'service="{service}"']
    grouped: dict[tuple[str, str], list[str]] = {}
    for kind, name, action in scopes:
        grouped.setdefault((kind, name), []).append(action)
    if grouped:
        text = " ".join(f"{k}:{n}:{','.join(a)}" for (k, n), a in grouped.items())
        parts.append(f'scope="{text}"')
    if error:
        parts.append(f'error="{error}"')
    return "Bearer " + ",".join(parts)


def unauthorized(scopes: Iterable[tuple[str, str, str]] = ()) -> RegistryError:
    """The error of a 401 without a (sufficient) token; its detail names the scopes needed."""
    detail = [{"Type": k, "Name": n, "Action": a} for k, n, a in scopes]
    return RegistryError("UNAUTHORIZED", "authentication required", detail or None)


def error_body(*errors: RegistryError) -> bytes:
    """The spec's error body: ``{"errors": [{"code", "message", "detail"}, ...]}``."""
    return (json.dumps({"errors": [error.to_json() for error in errors]}) + "\n").encode()


def ping_headers() -> list[tuple[str, str]]:
    """The 200 of ``/v2/`` (distribution's apiBase: ``{}`` as UTF-8 JSON, whatever the method)."""
    return [("Content-Length", "2"), ("Content-Type", "application/json; charset=utf-8")]


def blob_headers(digest: str, size: int) -> list[tuple[str, str]]:
    """A blob's HEAD or GET answer."""
    return [
        ("Content-Length", str(size)),
        ("Content-Type", "application/octet-stream"),
        ("Docker-Content-Digest", digest),
    ]


def manifest_headers(digest: str, media_type: str, size: int) -> list[tuple[str, str]]:
    """A manifest's HEAD or GET answer."""
    return [
        ("Content-Length", str(size)),
        ("Content-Type", media_type),
        ("Docker-Content-Digest", digest),
    ]


def created_headers(name: str, digest: str, kind: str = "blobs") -> list[tuple[str, str]]:
    """The 201 of a finished upload, a mount (``blobs``) or a manifest PUT (``manifests``)."""
    return [
        ("Content-Length", "0"),
        ("Docker-Content-Digest", digest),
        ("Location", f"/v2/{name}/{kind}/{digest}"),
    ]


def session_headers(name: str, session: str, received: int) -> list[tuple[str, str]]:
    """An open upload session's answer (POST 202, PATCH 202, GET 204)."""
    return [
        ("Content-Length", "0"),
        ("Docker-Upload-Uuid", session),
        ("Location", f"/v2/{name}/blobs/uploads/{session}"),
        ("Range", f"0-{max(received - 1, 0)}"),
    ]


def scope_texts(scopes: Iterable[tuple[str, str, str]]) -> list[str]:
    """Scopes as a Docker client asks for them: one ``type:name:actions`` per resource, with
    push and pull together written ``push,pull`` (distribution's client/auth)."""
    grouped: dict[tuple[str, str], list[str]] = {}
    for kind, name, action in scopes:
        grouped.setdefault((kind, name), []).append(action)
    texts = []
    for (kind, name), actions in grouped.items():
        if set(actions) == {"pull", "push"}:
            actions = ["push", "pull"]
        texts.append(f"{kind}:{name}:{','.join(actions)}")
    return texts


def token_query(service: str, scopes: Iterable[str], account: str | None) -> list[tuple[str, str]]:
    """The query of a token request for an operation (docker/distribution's token handler)."""
    return [
        *([("account", account)] if account else []),
        *(("scope", scope) for scope in scopes),
        ("service", service),
    ]


def login_query(service: str, account: str) -> list[tuple[str, str]]:
    """The query of ``docker login``'s token request (an offline token, for ``docker``)."""
    return [
        ("account", account),
        ("client_id", "docker"),
        ("offline_token", "true"),
        ("service", service),
    ]
