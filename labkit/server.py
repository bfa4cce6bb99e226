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

This module is long because it serves the whole OCI distribution HTTP API (routes, token
authentication, uploads, streaming with ranges, expiry) over one tornado application.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import json
import os
import re
import secrets
import socket
import tempfile
import threading
import time
import uuid
from asyncio import Future
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode

import tornado.http1connection
import tornado.httpserver
import tornado.ioloop
import tornado.iostream
import tornado.netutil
import tornado.web

from labkit.accounts import ANONYMOUS, Action, Principal
from labkit.blobstore import BlobSource, DiskBlobStore, Received
from labkit.errors import RegistryError
from labkit.registry import DIGEST_PATTERN, NAME_PATTERN, Registry
from labkit.transport import routes
from labkit.world import World, world_lock

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
# Live tokens, challenge records and upload sessions kept at most (the oldest go first), so
# that memory is bounded even under a flood of requests within a token's lifetime.
MAX_TOKENS = 20_000
MAX_CHALLENGES = 20_000
MAX_SESSIONS = 10_000
# Upload sessions older than this are purged, as distribution's upload purging does (its
# default age: 168 h); the purge runs every PURGE_INTERVAL seconds, as do token pruning.
UPLOAD_LIFETIME = 168 * 3600.0
PURGE_INTERVAL = 60.0
SPOOL_THRESHOLD = 1 << 20  # an upload's first MiB in memory, the rest in its own file
SPOOL_BUDGET = 32 << 20  # memory for all uploads together; past it, every spool is a file
STREAM_CHUNK = 256 << 10  # a blob is answered 256 KiB at a time, each flushed
MAX_SMALL_BODY = 4 << 20  # manifests: distribution's limit (4 MiB)
MAX_DISCARD = 64 << 20  # a refused request's body up to this is read (and dropped) first
MAX_BLOB_BYTES = 1 << 42  # a blob upload has no practical limit (4 TiB)
MAX_URI_BYTES = 1 << 20  # Go's http.DefaultMaxHeaderBytes: longer gets 431
MAX_HEADER_BYTES = 8 << 20  # tornado reads this much of a request head (then resets)

# The paths are the route table's (labkit.transport.routes, shared with the clients); each
# operation's path is answered by one handler here, which checks the method (405 otherwise).
KINDS = {
    "ping": "base",
    "catalog": "catalog",
    "list_tags": "tags",
    "get_manifest": "manifest",
    "head_manifest": "manifest",
    "put_manifest": "manifest",
    "delete_manifest": "manifest",
    "start_upload": "uploads",
    "upload_status": "upload",
    "upload_chunk": "upload",
    "finish_upload": "upload",
    "cancel_upload": "upload",
    "get_blob": "blob",
    "check_blob": "blob",
    "delete_blob": "blob",
}


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

    lifetime: float = TOKEN_LIFETIME
    clock: Callable[[], float] = time.monotonic
    limit: int = MAX_TOKENS
    _grants: dict[str, Grant] = field(default_factory=dict)

    def issue(self, principal: Principal, requested: set, granted: set) -> str:
        while len(self._grants) >= self.limit:  # the oldest go first (all live as long)
            del self._grants[next(iter(self._grants))]
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

    def prune(self) -> None:
        """Forget every expired token (a timer calls it: memory stays bounded)."""
        now = self.clock()
        for token in [t for t, g in self._grants.items() if g.expires <= now]:
            del self._grants[token]

    def __len__(self) -> int:
        return len(self._grants)

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


class _Budget:
    """Bytes of upload bodies held in memory, across every session; past ``limit`` a spool
    goes to its file at once, so memory stays bounded whatever the mix of uploads."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0

    def take(self, count: int) -> bool:
        if self.used + count > self.limit:
            return False
        self.used += count
        return True

    def give(self, count: int) -> None:
        self.used -= count


class _Spool:
    """One upload's bytes as they arrive: hashed at once, kept in memory up to ``threshold``
    (and while the shared budget allows), then in a temporary file of its own."""

    def __init__(self, folder: str, threshold: int, budget: _Budget) -> None:
        self.folder = folder
        self.threshold = threshold
        self.budget = budget
        self.hasher = hashlib.sha256()
        self.size = 0
        self.buffer = bytearray()
        self.file: Any = None
        self.path: str | None = None

    def write(self, chunk: bytes) -> None:
        self.hasher.update(chunk)
        self.size += len(chunk)
        if self.file is None:
            if len(self.buffer) + len(chunk) <= self.threshold and self.budget.take(len(chunk)):
                self.buffer += chunk
                return
            fd, self.path = tempfile.mkstemp(dir=self.folder, prefix="upload-")
            self.file = os.fdopen(fd, "wb", buffering=0)
            self.file.write(self.buffer)
            self.budget.give(len(self.buffer))
            self.buffer = bytearray()
        self.file.write(chunk)

    @property
    def digest(self) -> str:
        return "sha256:" + self.hasher.hexdigest()

    def sync(self) -> None:
        """fsync the file (``--data``); a server runs it off the IO loop."""
        if self.file is not None:
            os.fsync(self.file.fileno())

    def received(self) -> Received:
        """Hand the bytes over (the spool is empty afterwards)."""
        if self.file is not None:
            self.file.close()
            found = Received(self.digest, self.size, path=self.path, synced=True)
            self.file, self.path = None, None
            return found
        found = Received(self.digest, self.size, data=bytes(self.buffer))
        self.discard()
        return found

    def discard(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None
        if self.path is not None:
            try:
                os.unlink(self.path)
            except FileNotFoundError:
                pass
            self.path = None
        self.budget.give(len(self.buffer))
        self.buffer = bytearray()


class _Capped:
    """A small request body (a manifest) in memory, up to ``limit`` bytes; beyond that the
    rest is counted and dropped, and the request is answered as too large."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.data = bytearray()
        self.size = 0

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size <= self.limit:
            self.data += chunk

    @property
    def overflow(self) -> bool:
        return self.size > self.limit


class _State:
    """What every handler shares: the world, its registry, tokens, upload sessions, the
    spool, and the timers that expire what is abandoned."""

    def __init__(
        self,
        world: World,
        registry: Registry,
        lock: threading.RLock,
        *,
        upload_lifetime: float = UPLOAD_LIFETIME,
        spool_threshold: int = SPOOL_THRESHOLD,
        spool_budget: int = SPOOL_BUDGET,
        spool_dir: str | None = None,
        journal: Any = None,
    ) -> None:
        self.world = world
        self.registry = registry
        self.lock = lock
        self.tokens = TokenStore()
        self.uploads: dict[str, _Session] = {}
        self.challenged: dict[tuple[str, tuple], float] = {}  # (token, scopes) -> expiry
        self.realm = ""  # set once the port is known
        self.upload_lifetime = upload_lifetime
        self.spool_threshold = spool_threshold
        self.budget = _Budget(spool_budget)
        self.journal = journal  # labkit.datadir.DataDir for --data, else None
        self._own_spool: tempfile.TemporaryDirectory | None = None
        if spool_dir is None:
            store_tmp = getattr(registry.blobs, "tmp", None)  # same file system: a rename
            if store_tmp is None:
                self._own_spool = tempfile.TemporaryDirectory(prefix="labkit-spool-")
                store_tmp = self._own_spool.name
            spool_dir = store_tmp
        self.spool_dir = spool_dir
        self.timers: list[tornado.ioloop.PeriodicCallback] = []
        self.purge_interval = PURGE_INTERVAL

    @property
    def service(self) -> str:
        return self.registry.host

    @property
    def needs_auth(self) -> bool:
        return not self.registry.profile.open_access

    def spool(self) -> _Spool:
        return _Spool(self.spool_dir, self.spool_threshold, self.budget)

    def purge(self) -> None:
        """Expire upload sessions older than the upload lifetime (distribution's upload
        purging: age since the session started), expired tokens and challenge records."""
        now = time.monotonic()
        for public_id, session in list(self.uploads.items()):
            if session.busy or now - session.started < self.upload_lifetime:
                continue
            self._drop(public_id, session)
        self.tokens.prune()
        for key, expiry in list(self.challenged.items()):
            if expiry <= now:
                del self.challenged[key]

    def evict_sessions(self, keep: int) -> None:
        """Drop the oldest idle upload sessions until at most ``keep`` remain."""
        for public_id, session in list(self.uploads.items()):
            if len(self.uploads) <= keep:
                return
            if not session.busy:
                self._drop(public_id, session)

    def _drop(self, public_id: str, session: _Session) -> None:
        del self.uploads[public_id]
        session.spool.discard()
        with self.lock:
            try:
                self.registry.cancel_upload(session.upload_id)
            except RegistryError:
                pass

    def start_timers(self, interval: float) -> None:
        timer = tornado.ioloop.PeriodicCallback(self.purge, interval * 1000)
        timer.start()
        self.timers.append(timer)

    def close(self) -> None:
        for timer in self.timers:
            timer.stop()
        for session in self.uploads.values():
            session.spool.discard()
        self.uploads.clear()
        if self._own_spool is not None:
            self._own_spool.cleanup()


@dataclass
class _Session:
    upload_id: str  # the registry's own id
    name: str
    principal: Principal
    spool: _Spool
    started: float = field(default_factory=time.monotonic)
    busy: bool = False  # a request is writing to it now

    @property
    def received(self) -> int:
        return self.spool.size


class _Challenge(Exception):
    """No token for what the request needs: answer 401 with a Bearer challenge."""

    def __init__(self, scopes: list[tuple[str, str, str]], error: str | None = None) -> None:
        super().__init__("authentication required")
        self.scopes = scopes
        self.error = error


class _NotFound(Exception):
    """No such route: Go's plain ``404 page not found``."""


class _MethodNotAllowed(Exception):
    """A known route without this method: gorilla's ``405 Method not allowed`` (OPTIONS:
    ``200``), with ``Allow``."""

    def __init__(self, allowed: tuple[str, ...]) -> None:
        super().__init__("method not allowed")
        self.allowed = allowed


class _Base(tornado.web.RequestHandler):
    SUPPORTED_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")

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

    def send_text(self, status: int, text: str, *, plain: bool = False) -> None:
        """Go's ``http.Error``: plain text, ``nosniff`` (``plain``: Go's own bare answer)."""
        body = text.encode()
        self.set_status(status)
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        if not plain:
            self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Content-Length", str(len(body)))
        self.finish(b"" if self.request.method == "HEAD" else body)

    def challenge_header(self, scopes: list[tuple[str, str, str]], error: str | None) -> str:
        return routes.challenge(self.state.realm, self.state.service, scopes, error)

    def send_headers(self, headers: list[tuple[str, str]]) -> None:
        for key, value in headers:
            self.set_header(key, value)

    def send_challenge(self, challenge: _Challenge, error: RegistryError | None = None) -> None:
        self.set_header(
            "WWW-Authenticate", self.challenge_header(challenge.scopes, challenge.error)
        )
        self.send_errors(401, [(error or routes.unauthorized(challenge.scopes)).to_json()])

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


Pending = Callable[[], Awaitable[None]]


@tornado.web.stream_request_body
class RegistryHandler(_Base):
    """Every ``/v2/...`` request: route and authorize (``prepare``, under the world lock),
    take the body as it arrives (``data_received``: a spool for blobs, a capped buffer
    otherwise), then commit (the lock again, briefly) or stream the answer (no lock)."""

    pending: Pending | None = None
    allowed: tuple[str, ...] = ()  # the methods the route table has on this path
    sink: _Spool | _Capped | None = None
    session: _Session | None = None
    _deferring = False
    _deferred: tuple[Any] | None = None

    async def prepare(self) -> None:
        self.sink = _Capped(MAX_SMALL_BODY)
        await self._route_first()

    def data_received(self, chunk: bytes) -> None:
        if self.sink is not None and not self._finished:
            self.sink.write(chunk)

    async def _run(self) -> None:
        if self._deferred is not None:
            super().finish(self._deferred[0])
            return
        if self._finished:
            return
        pending, self.pending = self.pending, None
        if pending is None:
            raise RuntimeError("a routed request has nothing to do")  # a bug, never a client
        await self._guard(pending)

    get = head = post = put = patch = delete = options = _run

    def on_finish(self) -> None:
        self._release()

    def on_connection_close(self) -> None:
        """The client went away mid-request (an abandoned upload): drop its bytes."""
        self._release()

    def _release(self) -> None:
        session, self.session = self.session, None
        if session is not None:
            session.busy = False
            if session.upload_id not in self._live_uploads():  # a monolithic POST cut off
                session.spool.discard()
                with self.state.lock:
                    try:
                        self.state.registry.cancel_upload(session.upload_id)
                    except RegistryError:
                        pass  # committed (or refused) already

    def _live_uploads(self) -> set[str]:
        return {s.upload_id for s in self.state.uploads.values()}

    # -- plumbing --------------------------------------------------------------------------

    async def _guard(self, step: Callable[[], Any]) -> None:
        """Run ``step``; answer whatever it raises as distribution would."""
        try:
            result = step()
            if result is not None:
                await result
        except (_Challenge, _NotFound, _MethodNotAllowed, RegistryError) as error:
            self._refuse(error)
        except tornado.iostream.StreamClosedError:
            pass  # the client left while we answered

    async def _route_first(self) -> None:
        """Route and authorize, with every answer held back until the body has been read
        (tornado closes a connection answered before its body, which keep-alive clients
        see as a reset). A refusal of a large body is answered at once, closing."""
        self._deferring = True
        try:
            try:
                self._route_locked()
            except (_Challenge, _NotFound, _MethodNotAllowed, RegistryError) as error:
                self.sink = _Capped(0)  # what is still coming is read and dropped
                self._release()
                if not self._body_is_small():
                    self._deferring = False
                    self.set_header("Connection", "close")
                self._refuse(error)
        finally:
            self._deferring = False

    def finish(self, chunk: Any = None) -> Future[None]:
        if self._deferring:  # answered while routing: sent once the body is in
            self._deferred = (chunk,)
            done: Future[None] = Future()
            done.set_result(None)
            return done
        return super().finish(chunk)

    def _body_is_small(self) -> bool:
        headers = self.request.headers
        if "chunked" in headers.get("Transfer-Encoding", "").lower():
            return True
        length = headers.get("Content-Length", "0").strip()
        return length.isdigit() and int(length) <= MAX_DISCARD

    def _refuse(self, error: Exception) -> None:
        if isinstance(error, _Challenge):
            self.send_challenge(error)
        elif isinstance(error, _NotFound):
            self.send_text(404, "404 page not found\n")
        elif isinstance(error, _MethodNotAllowed):
            self.set_header("Allow", ", ".join(sorted(error.allowed)))
            if self.request.method == "OPTIONS":
                self.set_status(200)
                self.set_header("Content-Length", "0")
                self.finish()
            else:
                self.send_text(405, "Method not allowed\n")
        elif isinstance(error, RegistryError):
            if error.status == 401:
                scopes = self._scopes_needed()
                self.send_challenge(_Challenge(scopes), error)
            else:
                self.send_errors(error.status, [error.to_json()])
        else:
            raise error

    def _route_locked(self) -> None:
        with self.state.lock:
            self.route()

    def _scopes_needed(self) -> list[tuple[str, str, str]]:
        """The scopes the request's route needs (the route table's, as the recorder shows)."""
        name = getattr(self, "name", None)
        found = routes.match(self.request.method, self.request.path)
        if found is not None and (name or found[0].op == "catalog"):
            return found[0].scopes(name or "")
        return [("repository", name, a) for a in self._actions()] if name else []

    def _actions(self) -> list[str]:
        method = self.request.method
        if method in ("GET", "HEAD", "OPTIONS"):
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
            challenged = self.state.challenged
            while len(challenged) >= MAX_CHALLENGES:
                del challenged[next(iter(challenged))]
            challenged[key] = grant.expires
            raise _Challenge(scopes, "insufficient_scope")
        self.grant = grant
        return grant.principal

    def require_granted(self, scopes: list[tuple[str, str, str]]) -> None:
        """Upload sessions: a token that was refused push may not touch them."""
        grant = getattr(self, "grant", None)
        if grant is not None and not set(scopes) <= grant.granted:
            raise RegistryError("DENIED")

    def allow(self, kind: str) -> None:
        """405 (OPTIONS: 200) unless the route table has this method on this path, after
        authorization, as distribution checks the token before its router's method table
        (``kind`` names the endpoint, for the reader)."""
        if self.request.method not in self.allowed or self.request.method == "OPTIONS":
            raise _MethodNotAllowed(self.allowed)

    def route(self) -> None:
        path = self.request.path
        if len(self.request.uri or "") > MAX_URI_BYTES:
            # Go refuses a request line and headers over 1 MiB with 431, closing
            self.set_header("Connection", "close")
            self.send_text(431, "431 Request Header Fields Too Large", plain=True)
            return
        candidates = routes.path_matches(path)
        if not candidates:
            raise _NotFound
        first, params = candidates[0]
        kind = KINDS[first.op]
        self.allowed = tuple(sorted({found.method for found, _ in candidates}))
        if kind == "base":
            # distribution's apiBase answers every method alike: 200 and "{}"
            self.principal([])
            self.set_status(200)
            self.send_headers(routes.ping_headers())
            self.finish(b"" if self.request.method == "HEAD" else b"{}")
            return
        if kind == "catalog":
            self.catalog()
            return
        self.name = params["name"]
        if not NAME_PATTERN.fullmatch(self.name) or len(self.name) > 255:
            raise RegistryError("NAME_INVALID", detail={"name": self.name[:300]})
        getattr(self, f"on_{kind}")(params)

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

    def send_page(self, key: str, items: list[str], n: int | None, more: bool, extra: dict) -> None:
        if more and n:
            query = urlencode({"last": items[-1], "n": n})
            self.set_header("Link", f'<{self.request.path}?{query}>; rel="next"')
        self.send_json(200, {**extra, key: items})

    def then(self, pending: Pending) -> None:
        """What to do once the body has arrived (or at once, for a request without one)."""
        self.pending = pending

    def small_body(self) -> bytes:
        """The body of a request that is not a blob upload; too large is 413, as Go's
        ``http.MaxBytesReader`` would have it refused."""
        sink = self.sink
        assert isinstance(sink, _Capped)
        if sink.overflow:
            raise RegistryError(
                "MANIFEST_INVALID",
                detail={"reason": "request body too large", "limit": sink.limit},
            )
        return bytes(sink.data)

    # -- endpoints -------------------------------------------------------------------------

    def catalog(self) -> None:
        principal = self.principal([("registry", "catalog", "*")])
        self.allow("catalog")
        n, last = self.page_args()
        registry = self.state.registry
        items = registry.catalog(principal, None, last)
        page = items if n is None else items[:n]
        self.send_page("repositories", page, n, len(items) > len(page), {})

    def on_tags(self, match: Mapping[str, str]) -> None:
        principal = self.principal([("repository", self.name, "pull")])
        self.allow("tags")
        n, last = self.page_args()
        items = self.state.registry.list_tags(principal, self.name, None, last)
        page = items if n is None else items[:n]
        self.send_page("tags", page, n, len(page) < len(items), {"name": self.name})

    def on_blob(self, match: Mapping[str, str]) -> None:
        method = self.request.method
        digest = match["digest"]
        if method == "DELETE":
            self.principal([("repository", self.name, "delete")])
            raise RegistryError("UNSUPPORTED")
        principal = self.principal([("repository", self.name, "pull")])
        self.allow("blob")
        if not DIGEST_PATTERN.fullmatch(digest):
            raise RegistryError("DIGEST_INVALID", detail={"digest": digest})
        registry = self.state.registry
        try:
            source = registry.open_blob(principal, self.name, digest)
        except RegistryError as error:
            raise self._blob_refusal(principal, digest, error) from None
        self.then(lambda: self.stream_blob(source, digest))

    async def stream_blob(self, source: BlobSource, digest: str) -> None:
        """Answer a blob GET/HEAD from ``source``, a range at a time, each chunk flushed
        before the next is read (a slow reader holds one chunk, not the blob)."""
        try:
            size = source.size
            start, end = 0, size - 1
            self.set_header("Accept-Ranges", "bytes")
            self.set_header("Content-Type", "application/octet-stream")
            self.set_header("Docker-Content-Digest", digest)
            self.set_header("Etag", f'"{digest}"')
            wanted = _parse_ranges(self.request.headers.get("Range"), size)
            if wanted == "no overlap":
                self.set_header("Content-Range", f"bytes */{size}")
                self.send_text(416, "invalid range: failed to overlap\n")
                return
            if wanted == "malformed":
                self.send_text(416, "invalid range\n")
                return
            # What to send: (prefix, start, end) pieces; several ranges as Go's multipart.
            pieces: list[tuple[bytes, int, int]] = [(b"", 0, size - 1)]
            if isinstance(wanted, list) and len(wanted) == 1:
                ((start, end),) = wanted
                self.set_status(206)
                self.set_header("Content-Range", f"bytes {start}-{end}/{size}")
                pieces = [(b"", start, end)]
            elif isinstance(wanted, list):
                boundary = secrets.token_hex(30)
                self.set_status(206)
                self.set_header("Content-Type", f"multipart/byteranges; boundary={boundary}")
                pieces = []
                for index, (start, end) in enumerate(wanted):
                    part_head = (
                        f"{'' if index == 0 else chr(13) + chr(10)}--{boundary}\r\n"
                        f"Content-Range: bytes {start}-{end}/{size}\r\n"
                        "Content-Type: application/octet-stream\r\n\r\n"
                    )
                    pieces.append((part_head.encode(), start, end))
                pieces.append((f"\r\n--{boundary}--\r\n".encode(), 0, -1))
            length = sum(len(head) + end - start + 1 for head, start, end in pieces)
            self.set_header("Content-Length", str(length))
            if self.request.method == "HEAD":
                self.finish()
                return
            for head, start, end in pieces:
                if head:
                    self.write(head)
                offset = start
                while offset <= end:
                    chunk = source.read(offset, min(STREAM_CHUNK, end + 1 - offset))
                    if not chunk:
                        raise tornado.iostream.StreamClosedError()  # the store lost the file
                    offset += len(chunk)
                    self.write(chunk)
                    await self.flush()
            self.finish()
        finally:
            source.close()

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

    def on_manifest(self, match: Mapping[str, str]) -> None:
        method = self.request.method
        reference = match["reference"]
        registry = self.state.registry
        if method in ("GET", "HEAD"):
            principal = self.principal([("repository", self.name, "pull")])
            stored = registry.get_manifest(principal, self.name, reference)
            headers = routes.manifest_headers(stored.digest, stored.media_type, stored.size)
            self.send_headers(headers)
            self.set_header("Etag", f'"{stored.digest}"')
            self.finish(b"" if method == "HEAD" else stored.data)
        elif method == "PUT":
            self.principal(self._push_scopes())
            self.then(lambda: self._put_manifest(reference))
        elif method == "DELETE":
            principal = self.principal([("repository", self.name, "delete")])
            if reference.startswith("sha256:") or ":" in reference:
                if not DIGEST_PATTERN.fullmatch(reference):
                    raise RegistryError("DIGEST_INVALID", detail={"digest": reference})
                registry.delete_manifest(principal, self.name, reference)
            else:
                registry.delete_tag(principal, self.name, reference)
            self._journal()
            self.set_status(202)
            self.set_header("Content-Length", "0")
            self.finish()
        else:
            self.principal([("repository", self.name, "pull")])
            self.allow("manifest")

    async def _put_manifest(self, reference: str) -> None:
        data = self.small_body()
        media_type = self.request.headers.get("Content-Type") or None
        with self.state.lock:
            principal = self.principal(self._push_scopes())
            digest = self.state.registry.put_manifest(
                principal, self.name, reference, data, media_type
            )
            self._journal()
        self.set_status(201)
        self.send_headers(routes.created_headers(self.name, digest, "manifests"))
        self.finish()

    def _journal(self) -> None:
        """``--data``: write what this request changed in the repository (under the lock,
        before the answer: an answered change is on disk)."""
        if self.state.journal is not None:
            self.state.journal.repository_changed(self.state.registry, self.name)

    def _push_scopes(self) -> list[tuple[str, str, str]]:
        return [("repository", self.name, "pull"), ("repository", self.name, "push")]

    def on_uploads(self, match: Mapping[str, str]) -> None:
        principal = self.principal(self._push_scopes())
        self.allow("uploads")
        registry = self.state.registry
        mount, source = self.query("mount"), self.query("from")
        if (
            mount is not None
            and source
            and registry.mount_blob(principal, self.name, mount, source)
        ):
            self._journal()
            self.send_created(mount)
            return
        upload_id = registry.start_upload(principal, self.name)
        session = _Session(upload_id, self.name, principal, self.state.spool())
        digest = self.query("digest")
        if digest is not None:  # monolithic upload in one POST
            self.take_body(session)
            self.then(lambda: self._commit(session, digest, None))
            return
        public_id = str(uuid.uuid4())
        self.state.evict_sessions(MAX_SESSIONS - 1)
        self.state.uploads[public_id] = session
        self.send_session(202, public_id, session)

    def take_body(self, session: _Session) -> None:
        """The body goes to the session's spool, however large."""
        session.busy = True
        self.session = session
        self.sink = session.spool
        connection = self.request.connection
        assert isinstance(connection, tornado.http1connection.HTTP1Connection)
        connection.set_max_body_size(MAX_BLOB_BYTES)

    def on_upload(self, match: Mapping[str, str]) -> None:
        public_id = match["upload"]
        method = self.request.method
        self.principal(
            self._push_scopes() if method not in ("GET", "HEAD") else [self._push_scopes()[0]]
        )
        self.allow("upload")
        self.require_granted([("repository", self.name, "push")])
        session = self.state.uploads.get(public_id)
        if session is None or session.name != self.name or not self._owns(session):
            raise RegistryError("BLOB_UPLOAD_UNKNOWN", detail={"upload": public_id})
        registry = self.state.registry
        if method in ("GET", "HEAD"):
            self.send_session(204, public_id, session)
            return
        if session.busy:  # another request is writing to this session right now
            raise RegistryError("BLOB_UPLOAD_INVALID", detail={"upload": public_id})
        if method == "PATCH":
            content_range = self.request.headers.get("Content-Range")
            declared = self.request.headers.get("Content-Length")
            if content_range is not None:
                found = re.fullmatch(r"(?:bytes=)?([0-9]+)-([0-9]+)", content_range.strip())
                if (
                    found is None
                    or int(found[1]) != session.received
                    or declared is None
                    or int(found[2]) - int(found[1]) + 1 != int(declared)
                ):
                    raise RegistryError("RANGE_INVALID", detail={"range": content_range})
            self.take_body(session)
            self.then(lambda: self._patched(public_id, session))
        elif method == "PUT":
            digest = self.query("digest")
            if not digest or not DIGEST_PATTERN.fullmatch(digest):
                # as distribution: answered before the body is read; the session stays
                raise RegistryError("DIGEST_INVALID", detail={"digest": digest})
            self.take_body(session)
            self.then(lambda: self._commit(session, digest, public_id))
        elif method == "DELETE":
            del self.state.uploads[public_id]
            session.spool.discard()
            registry.cancel_upload(session.upload_id)
            self.set_status(204)
            self.set_header("Content-Length", "0")
            self.finish()

    async def _patched(self, public_id: str, session: _Session) -> None:
        self.send_session(202, public_id, session)

    async def _commit(self, session: _Session, digest: str, public_id: str | None) -> None:
        """The closing PUT (or a monolithic POST): the bytes are all spooled and hashed;
        fsync off the IO loop when durable, then commit under the lock (a rename)."""
        if public_id is not None:
            self.state.uploads.pop(public_id, None)
        spool = session.spool
        if self.state.journal is not None:
            await tornado.ioloop.IOLoop.current().run_in_executor(None, spool.sync)
        received = spool.received()
        store = self.state.registry.blobs
        if received.path is not None and not isinstance(store, DiskBlobStore):
            # a store in memory would read the file in under the lock: read it before
            received = await tornado.ioloop.IOLoop.current().run_in_executor(
                None, _read_in, received
            )
        with self.state.lock:
            try:
                self.state.registry.finish_upload(session.upload_id, digest, received=received)
            except BaseException:
                self.state.registry.blobs.discard(received)
                raise
            self._journal()
        self.send_created(digest)

    def _owns(self, session: _Session) -> bool:
        return not self.state.needs_auth or session.principal == self.grant.principal

    def send_created(self, digest: str) -> None:
        self.set_status(201)
        self.send_headers(routes.created_headers(self.name, digest))
        self.finish()

    def send_session(self, status: int, public_id: str, session: _Session) -> None:
        self.set_status(status)
        self.send_headers(routes.session_headers(self.name, quote(public_id), session.received))
        self.finish()


def _read_in(received: Received) -> Received:
    assert received.path is not None
    with open(received.path, "rb") as handle:
        data = handle.read()
    os.unlink(received.path)
    return Received(received.digest, received.size, data=data)


def _parse_ranges(header: str | None, size: int) -> list[tuple[int, int]] | str | None:
    """``Range: bytes=...`` as Go's ``http.ServeContent`` reads it: the (start, end) ranges
    to send; None to send the whole blob (no header, or ranges adding up to more than the
    blob, as Go ignores them); "malformed" or "no overlap" (both 416, only the second with
    ``Content-Range: bytes */size``)."""
    if header is None or header == "":
        return None
    if not header.startswith("bytes="):
        return "malformed"
    ranges: list[tuple[int, int]] = []
    no_overlap = False
    for spec in header[len("bytes=") :].split(","):
        spec = spec.strip()
        if not spec:
            continue
        first, dash, last = spec.partition("-")
        first, last = first.strip(), last.strip()
        if not dash or (first and not first.isdigit()) or (last and not last.isdigit()):
            return "malformed"
        if first == "":
            if last == "":
                return "malformed"
            count = min(int(last), size)
            ranges.append((size - count, size - 1))
            continue
        start = int(first)
        if start >= size:
            no_overlap = True
            continue
        if last and start > int(last):
            return "malformed"
        ranges.append((start, min(int(last), size - 1) if last else size - 1))
    if no_overlap and not ranges:
        return "no overlap"
    if sum(end - start + 1 for start, end in ranges) > size:
        return None
    return ranges or None


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
    upload_lifetime: float = UPLOAD_LIFETIME,
    purge_interval: float = PURGE_INTERVAL,
    spool_threshold: int = SPOOL_THRESHOLD,
    spool_budget: int = SPOOL_BUDGET,
    journal: Any = None,
) -> tornado.web.Application:
    """The tornado application serving ``world``'s registry at ``registry``.

    ``upload_lifetime``: seconds an upload session lives (then purged, its spool freed),
    checked every ``purge_interval`` seconds, when expired tokens are pruned too.
    ``journal``: a :class:`labkit.datadir.DataDir` that writes every change to disk.
    """
    state = _State(
        world,
        world.registry(registry),
        lock or world_lock(world),
        upload_lifetime=upload_lifetime,
        spool_threshold=spool_threshold,
        spool_budget=spool_budget,
        journal=journal,
    )
    state.purge_interval = purge_interval
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
    server = _PlainHTTPServer(app, max_body_size=MAX_BLOB_BYTES, max_header_size=MAX_HEADER_BYTES)
    server.add_sockets(sockets)
    bound = sockets[0].getsockname()[1]
    state: _State = app.settings["labkit_state"]
    state.start_timers(state.purge_interval)
    shown = f"[{host}]" if ":" in host else host
    state.realm = f"http://{shown}:{bound}/token"
    return server, bound


def serve(
    world: World,
    registry: str = "docker.io",
    host: str = "127.0.0.1",
    port: int = 5000,
    ready: Callable[[str], None] | None = None,
    **options: Any,
) -> None:
    """Serve until interrupted, on the current thread (``labkit serve``); ``options`` as
    :func:`make_app` takes them."""

    async def main() -> None:
        app = make_app(world, registry, access_log=True, **options)
        _, bound = _bind(app, host, port)
        if ready is not None:
            ready(f"http://{host}:{bound}")
        try:
            await asyncio.Event().wait()
        finally:
            app.settings["labkit_state"].close()

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
            self.app.settings["labkit_state"].close()
            self._loop.stop()

        self._loop.add_callback(lambda: asyncio.ensure_future(shutdown()))
        self._thread.join(timeout)

    def __enter__(self) -> ServerHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve_in_background(
    world: World,
    registry: str = "docker.io",
    port: int = 0,
    host: str = "127.0.0.1",
    **options: Any,
) -> ServerHandle:
    """Serve ``world``'s registry from a daemon thread with its own IOLoop; returns a handle.

    Hold ``handle.lock`` around anything else that uses the same world meanwhile. ``options``
    as :func:`make_app` takes them.
    """
    lock = world_lock(world)
    app = make_app(world, registry, lock, **options)
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
