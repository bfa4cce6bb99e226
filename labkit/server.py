"""A world's registry over the OCI distribution HTTP API, on tornado (``labkit serve``).

Every request is a thin translation into one :class:`~labkit.registry.Registry` operation; the
registry decides, and its :class:`~labkit.errors.RegistryError` becomes the spec's JSON error body
with distribution's HTTP status. Authentication is Docker's token flow: a request without a token
for the scope it needs gets ``401`` and a ``WWW-Authenticate: Bearer`` challenge; ``GET /token``
(Basic credentials, or none for anonymous) issues an opaque random token mapped here to the
principal and the scopes it asked for and was granted; a scope that was asked for but refused lets
the request through to the registry, which answers ``DENIED`` (403) as distribution does. A
registry with the ``open`` profile (``localhost:5000``) needs no token at all, like ``registry:2``.

Threads: registry operations are not thread-safe. Every request runs on the server's IOLoop
thread and holds :func:`world_lock` (``handle.lock``) while it touches the world. A kernel that
runs a server in the background with :func:`serve_in_background` and also uses the same world
(``%docker push ...``) must hold the same lock around its own calls::

    handle = serve_in_background(world)
    with handle.lock:
        docker.run("docker push localhost:5000/app:1.0")
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import re
import secrets
import socket
import threading
import time
import uuid
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode

import tornado.httpserver
import tornado.ioloop
import tornado.netutil
import tornado.web

from labkit.accounts import ANONYMOUS, Action, Principal
from labkit.errors import RegistryError
from labkit.registry import DIGEST_PATTERN, NAME_PATTERN, Registry
from labkit.world import World

__all__ = [
    "TOKEN_LIFETIME",
    "ServerHandle",
    "TokenStore",
    "make_app",
    "serve",
    "serve_in_background",
    "world_lock",
]

API_VERSION = "registry/2.0"
TOKEN_LIFETIME = 300  # seconds; the token spec asks for at least 60
MAX_BODY_BYTES = 64 * 1024 * 1024

_LOCKS: weakref.WeakKeyDictionary[World, threading.RLock] = weakref.WeakKeyDictionary()
_LOCKS_GUARD = threading.Lock()

ROUTES = [
    ("tags", re.compile(r"/v2/(?P<name>.+)/tags/list")),
    ("manifest", re.compile(r"/v2/(?P<name>.+)/manifests/(?P<reference>[^/]+)")),
    ("uploads", re.compile(r"/v2/(?P<name>.+)/blobs/uploads/?")),
    ("upload", re.compile(r"/v2/(?P<name>.+)/blobs/uploads/(?P<upload>[^/]+)")),
    ("blob", re.compile(r"/v2/(?P<name>.+)/blobs/(?P<digest>[^/]+)")),
]


def world_lock(world: World) -> threading.RLock:
    """The lock that guards ``world`` against concurrent use by a server and a kernel."""
    with _LOCKS_GUARD:
        lock = _LOCKS.get(world)
        if lock is None:
            lock = _LOCKS[world] = threading.RLock()
        return lock


# -- tokens ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Grant:
    """What one token stands for: who, what it asked for, what it got, until when."""

    principal: Principal
    requested: frozenset[tuple[str, str, str]]  # (type, name, action)
    granted: frozenset[tuple[str, str, str]]
    expires: float


@dataclass
class TokenStore:
    """Opaque random tokens mapped to grants; expired ones are refused and forgotten."""

    lifetime: int = TOKEN_LIFETIME
    clock: Callable[[], float] = time.monotonic
    _grants: dict[str, Grant] = field(default_factory=dict)

    def issue(self, principal: Principal, requested: set, granted: set) -> str:
        token = secrets.token_urlsafe(32)
        self._grants[token] = Grant(
            principal, frozenset(requested), frozenset(granted), self.clock() + self.lifetime
        )
        return token

    def lookup(self, token: str) -> Grant | None:
        grant = self._grants.get(token)
        if grant is not None and grant.expires <= self.clock():
            del self._grants[token]
            return None
        return grant

    def expire_all(self) -> None:
        """Forget every token (tests use it to check that clients fetch a new one)."""
        self._grants.clear()


def parse_scope(text: str) -> list[tuple[str, str, str]]:
    """``repository:NAME:pull,push`` -> [(type, name, action), ...]; [] when malformed."""
    kind, _, rest = text.partition(":")
    name, _, actions = rest.rpartition(":")
    if not kind or not name or not actions:
        return []
    expanded: list[str] = []
    for action in actions.split(","):
        expanded += (
            ["pull", "push", "delete"] if action == "*" and kind == "repository" else [action]
        )
    return [(kind, name, action) for action in expanded if action]


_ACTIONS = {"pull": Action.PULL, "push": Action.PUSH, "delete": Action.DELETE}


def _grantable(registry: Registry, principal: Principal, scope: tuple[str, str, str]) -> bool:
    kind, name, action = scope
    if kind == "registry":
        return name == "catalog" and action == "*"
    if kind != "repository" or action not in _ACTIONS or not NAME_PATTERN.fullmatch(name):
        return False
    if registry.decide(principal, _ACTIONS[action], name):
        return True
    # Pull on a repository that does not exist yet goes with the right to create it by a push.
    missing = registry.peek(name) is None
    return action == "pull" and missing and bool(registry.decide(principal, Action.PUSH, name))


# -- the application ------------------------------------------------------------------------


class _State:
    """What every handler shares: the world, its registry, tokens and upload sessions."""

    def __init__(self, world: World, registry: Registry, lock: threading.RLock) -> None:
        self.world = world
        self.registry = registry
        self.lock = lock
        self.tokens = TokenStore()
        self.uploads: dict[str, _Session] = {}
        self.challenged: set[tuple[str, tuple]] = set()
        self.realm = ""  # set once the port is known

    @property
    def service(self) -> str:
        return self.registry.host

    @property
    def needs_auth(self) -> bool:
        return not self.registry.profile.open_access


@dataclass
class _Session:
    upload_id: str  # the registry's own id
    name: str
    principal: Principal
    received: int = 0


class _Challenge(Exception):
    """No token for what the request needs: answer 401 with a Bearer challenge."""

    def __init__(self, scopes: list[tuple[str, str, str]], error: str | None = None) -> None:
        super().__init__("authentication required")
        self.scopes = scopes
        self.error = error


class _NotFound(Exception):
    """No such route: Go's plain ``404 page not found``."""


class _Base(tornado.web.RequestHandler):
    SUPPORTED_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")

    def initialize(self, state: _State) -> None:
        self.state = state

    def compute_etag(self) -> None:
        return None

    def set_default_headers(self) -> None:
        self.clear_header("Server")
        self.clear_header("Content-Type")
        self.set_header("Docker-Distribution-Api-Version", API_VERSION)

    def send_json(self, status: int, value: Any) -> None:
        body = (json.dumps(value) + "\n").encode()
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.set_header("Content-Length", str(len(body)))
        self.finish(b"" if self.request.method == "HEAD" else body)

    def send_errors(self, status: int, entries: list[dict]) -> None:
        self.send_json(status, {"errors": entries})

    def challenge_header(self, scopes: list[tuple[str, str, str]], error: str | None) -> str:
        parts = [f'realm="{self.state.realm}"', f'service="{self.state.service}"']
        grouped: dict[tuple[str, str], list[str]] = {}
        for kind, name, action in scopes:
            grouped.setdefault((kind, name), []).append(action)
        if grouped:
            text = " ".join(f"{k}:{n}:{','.join(a)}" for (k, n), a in grouped.items())
            parts.append(f'scope="{text}"')
        if error:
            parts.append(f'error="{error}"')
        return "Bearer " + ",".join(parts)

    def send_challenge(self, challenge: _Challenge, error: RegistryError | None = None) -> None:
        self.set_header(
            "WWW-Authenticate", self.challenge_header(challenge.scopes, challenge.error)
        )
        if error is None:
            detail = [{"Type": k, "Name": n, "Action": a} for k, n, a in challenge.scopes]
            error = RegistryError(
                "UNAUTHORIZED", "access to the requested resource is not authorized", detail or None
            )
        self.send_errors(401, [error.to_json()])

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        code = "UNKNOWN" if status_code >= 500 else "UNSUPPORTED"
        self.send_errors(status_code, [{"code": code, "message": self._reason, "detail": None}])


class TokenHandler(_Base):
    """``GET /token?service=...&scope=...``: Basic credentials (or none) -> an opaque token."""

    def get(self) -> None:
        principal = ANONYMOUS
        header = self.request.headers.get("Authorization", "")
        if header:
            credentials = _basic_credentials(header)
            if credentials is None:
                self.send_errors(401, [RegistryError("UNAUTHORIZED").to_json()])
                return
            with self.state.lock:
                found = self.state.registry.accounts.authenticate(*credentials)
            if self.state.registry.profile.open_access:
                found = Principal(credentials[0])
            if found is None:
                self.send_errors(
                    401, [RegistryError("UNAUTHORIZED", "incorrect username or password").to_json()]
                )
                return
            principal = found
        requested: set[tuple[str, str, str]] = set()
        for text in self.get_query_arguments("scope"):
            for part in text.split(" "):
                requested.update(parse_scope(part))
        with self.state.lock:
            granted = {s for s in requested if _grantable(self.state.registry, principal, s)}
        token = self.state.tokens.issue(principal, requested, granted)
        issued = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.send_json(
            200,
            {
                "token": token,
                "access_token": token,
                "expires_in": self.state.tokens.lifetime,
                "issued_at": issued,
            },
        )


class RegistryHandler(_Base):
    """Every ``/v2/...`` request: route, authorize, call the registry, answer."""

    def get(self) -> None:
        self.dispatch()

    def head(self) -> None:
        self.dispatch()

    def post(self) -> None:
        self.dispatch()

    def put(self) -> None:
        self.dispatch()

    def patch(self) -> None:
        self.dispatch()

    def delete(self) -> None:
        self.dispatch()

    # -- plumbing --------------------------------------------------------------------------

    def dispatch(self) -> None:
        try:
            with self.state.lock:
                self.route()
        except _Challenge as challenge:
            self.send_challenge(challenge)
        except _NotFound:
            self.set_status(404)
            self.set_header("Content-Type", "text/plain; charset=utf-8")
            self.finish(b"" if self.request.method == "HEAD" else b"404 page not found\n")
        except RegistryError as error:
            if error.status == 401:
                scopes = self._scopes_needed()
                self.send_challenge(_Challenge(scopes), error)
            else:
                self.send_errors(error.status, [error.to_json()])

    def _scopes_needed(self) -> list[tuple[str, str, str]]:
        name = getattr(self, "name", None)
        return [("repository", name, a) for a in self._actions()] if name else []

    def _actions(self) -> list[str]:
        method = self.request.method
        if method in ("GET", "HEAD"):
            return ["pull"]
        if method == "DELETE":
            return ["delete"]
        return ["pull", "push"]

    def principal(self, scopes: list[tuple[str, str, str]]) -> Principal:
        """Who asks, once the token covers ``scopes``; else a 401 challenge."""
        if not self.state.needs_auth:
            return ANONYMOUS
        header = self.request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise _Challenge(scopes)
        grant = self.state.tokens.lookup(token.strip())
        if grant is None:
            raise _Challenge(scopes, "invalid_token")
        if not set(scopes) <= grant.requested:
            # 401 asks for a new token. A client that sends the same token again (oras-py
            # refreshes only on 403) gets 403 with the same challenge.
            key = (token.strip(), tuple(scopes))
            if key in self.state.challenged:
                self.set_header(
                    "WWW-Authenticate", self.challenge_header(scopes, "insufficient_scope")
                )
                raise RegistryError("DENIED")
            self.state.challenged.add(key)
            raise _Challenge(scopes, "insufficient_scope")
        self.grant = grant
        return grant.principal

    def require_granted(self, scopes: list[tuple[str, str, str]]) -> None:
        """Upload sessions: a token that was refused push may not touch them."""
        grant = getattr(self, "grant", None)
        if grant is not None and not set(scopes) <= grant.granted:
            raise RegistryError("DENIED")

    def route(self) -> None:
        path = self.request.path
        if path in ("/v2", "/v2/"):
            if self.request.method not in ("GET", "HEAD"):
                raise _NotFound
            self.principal([])
            self.send_json(200, {})
            return
        if path == "/v2/_catalog":
            if self.request.method != "GET":
                raise _NotFound
            self.catalog()
            return
        for kind, pattern in ROUTES:
            match = pattern.fullmatch(path)
            if match is None:
                continue
            self.name = match["name"]
            if not NAME_PATTERN.fullmatch(self.name) or len(self.name) > 255:
                raise RegistryError("NAME_INVALID", detail={"name": self.name})
            getattr(self, f"on_{kind}")(match)
            return
        raise _NotFound

    def query(self, key: str) -> str | None:
        values = self.request.query_arguments.get(key)
        return values[-1].decode("utf-8", "replace") if values else None

    def page_args(self) -> tuple[int | None, str | None]:
        n_text = self.query("n")
        n = None
        if n_text is not None and n_text != "":
            if not re.fullmatch(r"[0-9]{1,9}", n_text):
                raise RegistryError("PAGINATION_NUMBER_INVALID", detail={"n": n_text})
            n = int(n_text)
        return n, self.query("last") or None

    def send_page(self, key: str, items: list[str], n: int | None, more: bool, extra: dict):
        if more and n:
            query = urlencode({"last": items[-1], "n": n})
            self.set_header("Link", f'<{self.request.path}?{query}>; rel="next"')
        self.send_json(200, {**extra, key: items})

    # -- endpoints -------------------------------------------------------------------------

    def catalog(self) -> None:
        principal = self.principal([("registry", "catalog", "*")])
        n, last = self.page_args()
        registry = self.state.registry
        items = registry.catalog(principal, None, last)
        page = items if n is None else items[:n]
        self.send_page("repositories", page, n, len(items) > len(page), {})

    def on_tags(self, match: re.Match) -> None:
        if self.request.method != "GET":
            raise _NotFound
        principal = self.principal([("repository", self.name, "pull")])
        n, last = self.page_args()
        items = self.state.registry.list_tags(principal, self.name, None, last)
        page = items if n is None else items[:n]
        self.send_page("tags", page, n, len(page) < len(items), {"name": self.name})

    def on_blob(self, match: re.Match) -> None:
        method = self.request.method
        digest = match["digest"]
        if method == "DELETE":
            self.principal([("repository", self.name, "delete")])
            raise RegistryError("UNSUPPORTED")
        if method not in ("GET", "HEAD"):
            raise _NotFound
        principal = self.principal([("repository", self.name, "pull")])
        if not DIGEST_PATTERN.fullmatch(digest):
            raise RegistryError("DIGEST_INVALID", detail={"digest": digest})
        registry = self.state.registry
        try:
            if method == "HEAD":
                size = registry.check_blob(principal, self.name, digest)
                body = b""
            else:
                body = registry.get_blob(principal, self.name, digest)
                size = len(body)
        except RegistryError as error:
            raise self._blob_refusal(principal, digest, error) from None
        self.set_header("Content-Type", "application/octet-stream")
        self.set_header("Content-Length", str(size))
        self.set_header("Docker-Content-Digest", digest)
        self.set_header("Etag", f'"{digest}"')
        self.finish(body)

    def _blob_refusal(self, principal: Principal, digest: str, error: RegistryError):
        """A pusher asking about a blob of a repository its first push has not created yet
        gets BLOB_UNKNOWN (or the blob, if already uploaded), as from any registry; labkit's
        registry hides missing repositories behind DENIED."""
        registry = self.state.registry
        if error.code != "DENIED" or registry.peek(self.name) is not None:
            return error
        if not registry.decide(principal, Action.PUSH, self.name):
            return error
        return RegistryError("BLOB_UNKNOWN", detail={"digest": digest})

    def on_manifest(self, match: re.Match) -> None:
        method = self.request.method
        reference = match["reference"]
        registry = self.state.registry
        if method in ("GET", "HEAD"):
            principal = self.principal([("repository", self.name, "pull")])
            stored = registry.get_manifest(principal, self.name, reference)
            self.set_header("Content-Type", stored.media_type)
            self.set_header("Content-Length", str(stored.size))
            self.set_header("Docker-Content-Digest", stored.digest)
            self.set_header("Etag", f'"{stored.digest}"')
            self.finish(b"" if method == "HEAD" else stored.data)
        elif method == "PUT":
            principal = self.principal(self._push_scopes())
            media_type = self.request.headers.get("Content-Type") or None
            digest = registry.put_manifest(
                principal, self.name, reference, self.request.body, media_type
            )
            self.set_status(201)
            self.set_header("Location", f"/v2/{self.name}/manifests/{digest}")
            self.set_header("Docker-Content-Digest", digest)
            self.set_header("Content-Length", "0")
            self.finish()
        elif method == "DELETE":
            principal = self.principal([("repository", self.name, "delete")])
            if reference.startswith("sha256:") or ":" in reference:
                if not DIGEST_PATTERN.fullmatch(reference):
                    raise RegistryError("DIGEST_INVALID", detail={"digest": reference})
                registry.delete_manifest(principal, self.name, reference)
            else:
                registry.delete_tag(principal, self.name, reference)
            self.set_status(202)
            self.set_header("Content-Length", "0")
            self.finish()
        else:
            raise _NotFound

    def _push_scopes(self) -> list[tuple[str, str, str]]:
        return [("repository", self.name, "pull"), ("repository", self.name, "push")]

    def on_uploads(self, match: re.Match) -> None:
        if self.request.method != "POST":
            raise _NotFound
        principal = self.principal(self._push_scopes())
        registry = self.state.registry
        mount, source = self.query("mount"), self.query("from")
        if (
            mount is not None
            and source
            and registry.mount_blob(principal, self.name, mount, source)
        ):
            self.send_created(mount)
            return
        upload_id = registry.start_upload(principal, self.name)
        session = _Session(upload_id, self.name, principal)
        digest = self.query("digest")
        if digest is not None:  # monolithic upload in one POST
            self.finish_session(session, digest, self.request.body)
            return
        public_id = str(uuid.uuid4())
        self.state.uploads[public_id] = session
        self.send_session(202, public_id, session)

    def on_upload(self, match: re.Match) -> None:
        public_id = match["upload"]
        method = self.request.method
        self.principal(self._push_scopes() if method != "GET" else [self._push_scopes()[0]])
        self.require_granted([("repository", self.name, "push")])
        session = self.state.uploads.get(public_id)
        if session is None or session.name != self.name or not self._owns(session):
            raise RegistryError("BLOB_UPLOAD_UNKNOWN", detail={"upload": public_id})
        registry = self.state.registry
        if method == "GET":
            self.send_session(204, public_id, session)
        elif method == "PATCH":
            content_range = self.request.headers.get("Content-Range")
            body = self.request.body
            if content_range is not None:
                found = re.fullmatch(r"(?:bytes=)?([0-9]+)-([0-9]+)", content_range.strip())
                if (
                    found is None
                    or int(found[1]) != session.received
                    or int(found[2]) - int(found[1]) + 1 != len(body)
                ):
                    raise RegistryError("RANGE_INVALID", detail={"range": content_range})
            session.received = registry.upload_chunk(session.upload_id, body)
            self.send_session(202, public_id, session)
        elif method == "PUT":
            del self.state.uploads[public_id]
            self.finish_session(session, self.query("digest"), self.request.body)
        elif method == "DELETE":
            del self.state.uploads[public_id]
            registry.cancel_upload(session.upload_id)
            self.set_status(204)
            self.finish()
        else:
            raise _NotFound

    def _owns(self, session: _Session) -> bool:
        return not self.state.needs_auth or session.principal == self.grant.principal

    def finish_session(self, session: _Session, digest: str | None, body: bytes) -> None:
        registry = self.state.registry
        if not digest:
            registry.cancel_upload(session.upload_id)
            raise RegistryError("DIGEST_INVALID", detail={"digest": None})
        registry.finish_upload(session.upload_id, digest, body)
        self.send_created(digest)

    def send_created(self, digest: str) -> None:
        self.set_status(201)
        self.set_header("Location", f"/v2/{self.name}/blobs/{digest}")
        self.set_header("Docker-Content-Digest", digest)
        self.set_header("Content-Length", "0")
        self.finish()

    def send_session(self, status: int, public_id: str, session: _Session) -> None:
        self.set_status(status)
        self.set_header("Location", f"/v2/{self.name}/blobs/uploads/{quote(public_id)}")
        self.set_header("Range", f"0-{max(session.received - 1, 0)}")
        self.set_header("Docker-Upload-UUID", public_id)
        self.set_header("Content-Length", "0")
        self.finish()


class _NotFoundHandler(_Base):
    def prepare(self) -> None:
        self.set_status(404)
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.finish(b"" if self.request.method == "HEAD" else b"404 page not found\n")


def _basic_credentials(header: str) -> tuple[str, str] | None:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    name, colon, secret = decoded.partition(":")
    return (name, secret) if colon else None


def _quiet(handler: tornado.web.RequestHandler) -> None:
    """Access log off (a kernel's output is no place for it)."""


def make_app(
    world: World,
    registry: str = "docker.io",
    lock: threading.RLock | None = None,
    *,
    access_log: bool = False,
) -> tornado.web.Application:
    """The tornado application serving ``world``'s registry at ``registry``."""
    state = _State(world, world.registry(registry), lock or world_lock(world))
    settings: dict[str, Any] = {} if access_log else {"log_function": _quiet}
    app = tornado.web.Application(
        [
            (r"/token", TokenHandler, {"state": state}),
            (r"/v2(?:/.*)?", RegistryHandler, {"state": state}),
        ],
        default_handler_class=_NotFoundHandler,
        default_handler_args={"state": state},
        **settings,
    )
    app.settings["labkit_state"] = state
    return app


class _PlainHTTPServer(tornado.httpserver.HTTPServer):
    """HTTP only: a connection that opens with a TLS handshake is closed at once.

    Clients of an "insecure" registry (skopeo, containerd) try HTTPS first and fall back to
    HTTP when that fails; closing at once spares them a ten-second handshake timeout.
    """

    def handle_stream(self, stream: Any, address: tuple) -> None:
        loop = tornado.ioloop.IOLoop.current()
        fd = stream.socket.fileno()

        def first_bytes_ready(_fd: int, _events: int) -> None:
            loop.remove_handler(fd)
            try:
                first = stream.socket.recv(1, socket.MSG_PEEK)
            except (BlockingIOError, InterruptedError):
                first = b""
            except OSError:
                stream.close()
                return
            if first == b"\x16":  # a TLS ClientHello
                stream.close()
                return
            super(_PlainHTTPServer, self).handle_stream(stream, address)

        loop.add_handler(fd, first_bytes_ready, tornado.ioloop.IOLoop.READ)


def _bind(app: tornado.web.Application, host: str, port: int) -> tuple[Any, int]:
    sockets = tornado.netutil.bind_sockets(port, address=host)
    server = _PlainHTTPServer(app, max_body_size=MAX_BODY_BYTES)
    server.add_sockets(sockets)
    bound = sockets[0].getsockname()[1]
    state: _State = app.settings["labkit_state"]
    shown = f"[{host}]" if ":" in host else host
    state.realm = f"http://{shown}:{bound}/token"
    return server, bound


def serve(
    world: World,
    registry: str = "docker.io",
    host: str = "127.0.0.1",
    port: int = 5000,
    ready: Callable[[str], None] | None = None,
) -> None:
    """Serve until interrupted, on the current thread (``labkit serve``)."""

    async def main() -> None:
        app = make_app(world, registry, access_log=True)
        _, bound = _bind(app, host, port)
        if ready is not None:
            ready(f"http://{host}:{bound}")
        await asyncio.Event().wait()

    asyncio.run(main())


@dataclass
class ServerHandle:
    """A server running in a daemon thread: its URL, port, world lock, and how to stop it."""

    url: str
    port: int
    lock: threading.RLock
    app: tornado.web.Application
    _loop: tornado.ioloop.IOLoop
    _thread: threading.Thread
    _server: Any

    @property
    def tokens(self) -> TokenStore:
        return self.app.settings["labkit_state"].tokens

    def stop(self, timeout: float = 10) -> None:
        """Stop serving and wait for the thread to end (idempotent)."""
        if not self._thread.is_alive():
            return

        async def shutdown() -> None:
            self._server.stop()
            await self._server.close_all_connections()
            self._loop.stop()

        self._loop.add_callback(lambda: asyncio.ensure_future(shutdown()))
        self._thread.join(timeout)

    def __enter__(self) -> ServerHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve_in_background(
    world: World, registry: str = "docker.io", port: int = 0, host: str = "127.0.0.1"
) -> ServerHandle:
    """Serve ``world``'s registry from a daemon thread with its own IOLoop; returns a handle.

    Hold ``handle.lock`` around anything else that uses the same world meanwhile.
    """
    lock = world_lock(world)
    app = make_app(world, registry, lock)
    started = threading.Event()
    box: dict[str, Any] = {}

    def run() -> None:
        asyncio.set_event_loop(asyncio.new_event_loop())
        loop = tornado.ioloop.IOLoop.current()
        try:
            box["server"], box["port"] = _bind(app, host, port)
        except BaseException as error:
            box["error"] = error
            started.set()
            return
        box["loop"] = loop
        started.set()
        loop.start()
        loop.close(all_fds=True)

    thread = threading.Thread(target=run, name=f"labkit-serve-{registry}", daemon=True)
    thread.start()
    started.wait()
    if "error" in box:
        raise box["error"]
    bound = box["port"]
    return ServerHandle(
        url=f"http://{host}:{bound}",
        port=bound,
        lock=lock,
        app=app,
        _loop=box["loop"],
        _thread=thread,
        _server=box["server"],
    )
