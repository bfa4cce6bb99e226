"""A stub of the Docker Engine API served from labkit's simulated daemon, so that the real
Docker 28.2.2 client renders labkit's answers.

The stub listens on a unix socket (never a network port) and answers what the client asks for
the commands compared here: ``/_ping``, ``GET /images/json``, ``GET /images/{name}/json``,
``DELETE /images/{name}``, ``POST /images/{name}/tag``, ``GET /images/search``,
``POST /images/create`` (pull), ``POST /images/{name}/push`` and ``POST /auth`` (login).
Everything else gets 404 with the daemon's "page not found" message, so a client that strays is
seen at once. The real client runs in a network namespace of its own (``bwrap --unshare-net``):
it reaches the stub's socket file and nothing else, so no registry, Docker Hub's login included
(login.go falls back to a client-side login when the daemon does not answer), can be reached.

Pull and push answer as moby streams them (pkg/streamformatter/streamformatter.go:117-124:
``progress.Update`` statuses carry an empty ``progressDetail``, ``progress.Message`` lines do
not; moby distribution/pull_v2.go and push_v2.go for the statuses), with an error before the
first message as an HTTP error ("Error response from daemon: ...") and after it inside the
stream (api/server/httputils/write_log_stream.go). ``docker(..., tty=True)`` runs the client with
stdout and stderr on terminals of their own and renders what each terminal shows once the
command has finished (:func:`render_terminal`): labkit's terminal model.

The answers come from the same code paths as ``docker ...`` lines run in labkit
(:func:`labkit.shell._image_summaries`, :func:`labkit.shell._inspect_one`,
:meth:`labkit.engine.Engine.remove`, :meth:`labkit.engine.Engine.tag`,
:func:`labkit.shell.search_results`); what the daemon decides is therefore labkit's, and what
the client makes of it (tables, --format, error texts, exit codes) is the real client's.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import pty
import re
import select
import socketserver
import struct
import subprocess
import tempfile
import termios
import threading
import time
import urllib.parse
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from labkit.client import Client
from labkit.commandline import Invocation
from labkit.engine import CommandFailed, LayerStatus, PullResult, PushResult
from labkit.platforms import PlatformError, parse_platform
from labkit.reference import DOCKER_HUB_INDEX_SERVER, login_key, parse_reference
from labkit.shell import MAX_CONCURRENT_UPLOADS, _image_summaries, _inspect_one, search_results
from labkit.store import short_id

API_VERSION = "1.50"
DAEMON_PREFIX = "Error response from daemon: "


def _status_of(message: str) -> int:
    """The HTTP status the daemon gives an error (errdefs -> httpstatus)."""
    if "No such" in message or message.endswith((" not found", "no such volume")):
        return 404
    if message.startswith("conflict:"):
        return 409
    if message.startswith(("invalid filter", "limit ", "invalid reference")) or message.endswith(
        ": invalid argument"
    ):
        return 400
    if "unauthorized: " in message:
        return 401
    return 500


_ESCAPE = re.compile(r"\x1b\[([0-9;?]*)([A-Za-z])|\r|\n|[^\x1b\r\n]|\x1b")


def render_terminal(data: str) -> str:
    """What a terminal shows once the program has finished writing ``data``: carriage
    returns, newlines, cursor up and down (ESC[nA, ESC[nB: aec.Up/Down), erase line (ESC[2K)
    as jsonmessage.go:165-177 writes them; colours and styles (ESC[...m) dropped."""
    lines: list[list[str]] = [[]]
    row = col = 0
    for match in _ESCAPE.finditer(data):
        token = match.group(0)
        if match.group(2):
            count = int(match.group(1) or 1) if match.group(1).isdigit() else 1
            kind = match.group(2)
            if kind == "A":
                row = max(0, row - count)
            elif kind == "B":
                row += count
                lines.extend([] for _ in range(row + 1 - len(lines)))
            elif kind == "K":
                lines[row] = []
            elif kind != "m":
                raise AssertionError(f"escape sequence not rendered: {token!r}")
        elif token == "\r":
            col = 0
        elif token == "\n":
            row += 1
            lines.extend([] for _ in range(row + 1 - len(lines)))
        elif token != "\x1b":
            line = lines[row]
            line.extend(" " for _ in range(col - len(line)))
            if col < len(line):
                line[col] = token
            else:
                line.append(token)
            col += 1
    return "\n".join("".join(line) for line in lines)


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    allow_reuse_address = True


class EngineStub:
    """``with EngineStub(client) as stub: stub.docker("images")``."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.folder = tempfile.TemporaryDirectory(prefix="labkit-engine-")
        self.socket_path = str(Path(self.folder.name) / "docker.sock")
        self.config_dir = str(Path(self.folder.name) / "config")
        os.makedirs(self.config_dir)
        self.requests: list[tuple[str, str]] = []
        self.lock = threading.Lock()
        # the real client compares "Created" with its own clock: shift the world's clock
        # to now, so that "N months ago" is the same on both sides
        world_now = client.world.clock.now()
        self.shift = 0 if client.world.clock.is_real else time.time() - world_now.timestamp()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def address_string(self) -> str:
                return "unix"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_HEAD(self) -> None:
                stub.handle(self, "HEAD")

            def do_GET(self) -> None:
                stub.handle(self, "GET")

            def do_POST(self) -> None:
                stub.handle(self, "POST")

            def do_DELETE(self) -> None:
                stub.handle(self, "DELETE")

        self.server = _Server(self.socket_path, Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> EngineStub:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.folder.cleanup()

    # -- the real client ---------------------------------------------------------------

    def docker(
        self, *args: str, stdin: str | None = None, tty: bool = False, hints: bool = False
    ) -> subprocess.CompletedProcess[str]:
        """The real client, in a network namespace of its own (``bwrap --unshare-net``): only
        the stub's socket is reachable. With ``tty``, stdout and stderr are terminals of their
        own and come back as :func:`render_terminal` shows them; stdin is never a terminal."""
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": self.folder.name,
            "DOCKER_HOST": f"unix://{self.socket_path}",
            "DOCKER_CONFIG": self.config_dir,
            "TZ": "UTC",
            "DOCKER_CLI_HINTS": "true" if hints else "false",
        }
        command = ["bwrap", "--dev-bind", "/", "/", "--unshare-net", "--die-with-parent"]
        command += ["docker", *args]
        if not tty:
            return subprocess.run(
                command,
                input=stdin or "",
                capture_output=True,
                text=True,
                env=env,
                timeout=60,
                check=False,
            )
        return _run_on_terminals(command, env, stdin)

    # -- the daemon ----------------------------------------------------------------------

    def handle(self, request: BaseHTTPRequestHandler, method: str) -> None:
        parsed = urllib.parse.urlsplit(request.path)
        query = urllib.parse.parse_qs(parsed.query, keep_blank_values=True)
        path = urllib.parse.unquote(parsed.path)
        length = int(request.headers.get("Content-Length") or 0)
        body = request.rfile.read(length) if length else b""
        self.requests.append((method, request.path))
        if path == "/_ping":
            self.reply(request, 200, b"OK", "text/plain; charset=utf-8", head=method == "HEAD")
            return
        prefix = f"/v{API_VERSION}"
        if not path.startswith(prefix):
            self.error(request, 400, f"client version mismatch: {path}")
            return
        path = path[len(prefix) :]
        if method == "POST" and (path == "/images/create" or path.endswith("/push")):
            with self.lock:
                self.stream(request, path, query, request.headers.get("X-Registry-Auth", ""))
            return
        try:
            with self.lock:
                if method == "POST" and path == "/auth":
                    status, answer = 200, self.auth(json.loads(body or b"{}"))
                else:
                    status, answer = self.route(method, path, query)
        except CommandFailed as failure:
            message = failure.text.strip().removeprefix(DAEMON_PREFIX)
            self.error(request, _status_of(message), message)
            return
        if answer is None:
            self.error(request, 404, "page not found")
            return
        self.reply(request, status, json.dumps(answer).encode() + b"\n", "application/json")

    def route(self, method: str, path: str, query: dict[str, list[str]]) -> tuple[int, Any]:
        first = {name: values[0] for name, values in query.items()}
        if method == "GET" and path == "/images/json":
            return 200, self.image_list(first.get("filters", ""), first.get("all") in ("1", "true"))
        if method == "GET" and path == "/info":  # docker inspect asks whether swarm is on
            return 200, {"Swarm": {"ControlAvailable": False, "LocalNodeState": "inactive"}}
        if method == "GET" and path.startswith("/containers/") and path.endswith("/json"):
            raise CommandFailed(f"No such container: {path[len('/containers/') : -len('/json')]}")
        if method == "GET" and path.startswith("/networks/"):
            raise CommandFailed(f"network {path[len('/networks/') :]} not found")
        if method == "GET" and path.startswith("/volumes/"):
            raise CommandFailed(f"get {path[len('/volumes/') :]}: no such volume")
        if method == "GET" and path.startswith("/plugins/") and path.endswith("/json"):
            raise CommandFailed(f"plugin {path[len('/plugins/') : -len('/json')]} not found")
        if method == "GET" and path == "/images/search":
            filters = self.filter_list(first.get("filters", ""))
            limit = int(first.get("limit") or 0)
            return 200, [
                {
                    "star_count": repo.stars,
                    "is_official": repo.official,
                    "name": repo.path.removeprefix("library/") if repo.official else repo.path,
                    "is_automated": False,
                    "description": repo.description,
                }
                for repo in search_results(self.client, first.get("term", ""), filters, limit)
            ]
        if path.startswith("/images/") and path.endswith("/json") and method == "GET":
            name = path[len("/images/") : -len("/json")]
            data = _inspect_one(self.client, name)
            if data is None:
                self.client.get_image(name)  # the daemon's error
            return 200, data
        if path.startswith("/images/") and path.endswith("/history") and method == "GET":
            # daemon/images/image_history.go: newest first, "<missing>" below the image
            image = self.client.get_image(path[len("/images/") : -len("/history")])
            layers = iter(reversed(image.layers))
            items = []
            for index, entry in enumerate(reversed(image.config_json.get("history", []))):
                size = 0 if entry.get("empty_layer") else next(layers).size
                created = datetime.fromisoformat(entry["created"].replace("Z", "+00:00"))
                items.append(
                    {
                        "Comment": entry.get("comment", ""),
                        "Created": int(created.timestamp() + self.shift),
                        "CreatedBy": entry.get("created_by", ""),
                        "Id": image.id if index == 0 else "<missing>",
                        "Size": size,
                        "Tags": self.client.store.refs_of(image.id) if index == 0 else None,
                    }
                )
            return 200, items
        if path.startswith("/images/") and path.endswith("/tag") and method == "POST":
            name = path[len("/images/") : -len("/tag")]
            target = first.get("repo", "") + (":" + first["tag"] if first.get("tag") else "")
            self.client.get_image(name)
            self.client.tag(name, parse_reference(target).with_default_tag())
            return 201, ""
        if path.startswith("/images/") and method == "DELETE":
            name = path[len("/images/") :]
            done = self.client.remove(name, force=first.get("force") in ("1", "true"))
            return 200, [{kind: value} for kind, value in done]
        return 404, None

    # -- pull, push, login ------------------------------------------------------------------

    def auth(self, config: dict[str, Any]) -> dict[str, str]:
        """POST /auth (moby api/server/router/system/system_routes.go postAuth): the
        registry's answer to these credentials; the client stores them on its own side."""
        server = config.get("serveraddress") or ""
        self.client.login(
            None if server in ("", DOCKER_HUB_INDEX_SERVER) else server,
            str(config.get("username") or ""),
            str(config.get("password") or ""),
        )
        return {"IdentityToken": "", "Status": "Login Succeeded"}

    def use_credentials(self, host: str, header: str) -> None:
        """The daemon pulls and pushes with the X-Registry-Auth the client sends (its own
        config.json), not with anything remembered: make the stub's engine hold the same."""
        config: dict[str, Any] = {}
        if header:
            config = json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))
        username, password = config.get("username") or "", config.get("password") or ""
        stored = self.client.store.credential(host)
        if username and password:
            if stored is None or (stored.username, stored.secret) != (username, password):
                try:
                    self.client.login(host, username, password)
                except CommandFailed:
                    self.client.store.forget_login(login_key(host))
        else:
            self.client.store.forget_login(login_key(host))

    def stream(
        self, request: BaseHTTPRequestHandler, path: str, query: dict[str, list[str]], auth: str
    ) -> None:
        """POST /images/create and /images/{name}/push: moby's JSON message stream."""
        first = {name: values[0] for name, values in query.items()}
        messages: list[dict[str, Any]] = []
        try:
            if path == "/images/create":
                platform = first.get("platform", "")
                if platform:  # image_routes.go:58-61
                    try:
                        parse_platform(platform)
                    except PlatformError as error:
                        raise CommandFailed(DAEMON_PREFIX + str(error)) from None
                tag = first.get("tag", "")
                sep = "@" if tag.startswith("sha256:") else ":"
                ref = parse_reference(first["fromImage"] + (sep + tag if tag else ""))
                self.use_credentials(ref.domain, auth)
                try:
                    pulled = self.client.pull(ref, all_tags=not tag)
                except CommandFailed as failure:
                    if isinstance(failure.partial, PullResult):
                        messages += pull_messages(failure.partial, complete=False)
                    raise
                messages += pull_messages(pulled, complete=True)
            else:
                name = path[len("/images/") : -len("/push")]
                tag = first.get("tag", "")
                ref = parse_reference(name + (":" + tag if tag else ""))
                messages.append(
                    {"status": f"The push refers to repository [{ref.domain}/{ref.path}]"}
                )
                self.use_credentials(ref.domain, auth)
                try:
                    pushed = self.client.push(ref, all_tags=not tag)
                except CommandFailed as failure:
                    if isinstance(failure.partial, PushResult):
                        messages += push_messages(failure.partial)
                    raise
                messages += push_messages(pushed)
        except CommandFailed as failure:
            text = failure.text.strip()
            if not messages and text.startswith(DAEMON_PREFIX):
                message = text.removeprefix(DAEMON_PREFIX)
                self.error(request, _status_of(message), message)
                return
            messages.append({"errorDetail": {"message": text}, "error": text})
        body = b"".join(json.dumps(message).encode() + b"\r\n" for message in messages)
        self.reply(request, 200, body, "application/json")

    @staticmethod
    def filter_list(text: str) -> list[str]:
        """filters.FromJSON: {"name": {"value": true}} -> ["name=value", ...]."""
        if not text:
            return []
        return [f"{name}={value}" for name, values in json.loads(text).items() for value in values]

    def image_list(self, filters: str, all_images: bool) -> list[dict[str, Any]]:
        inv = Invocation(
            command="image ls",
            typed="image ls",
            flags={"filter": self.filter_list(filters), "all": all_images},
            args=(),
        )
        answer = []
        for summary in _image_summaries(self.client, inv):
            image = summary["image"]
            created = int(image.created.timestamp() + self.shift)
            answer.append(
                {
                    "Containers": -1,
                    "Created": created,
                    "Id": image.id,
                    "Labels": (image.config_json.get("config") or {}).get("Labels"),
                    "ParentId": "",
                    "RepoDigests": summary["RepoDigests"],
                    "RepoTags": summary["RepoTags"],
                    "SharedSize": -1,
                    "Size": image.size,
                }
            )
        return answer

    # -- HTTP ------------------------------------------------------------------------------

    def reply(
        self,
        request: BaseHTTPRequestHandler,
        status: int,
        body: bytes,
        content_type: str,
        *,
        head: bool = False,
    ) -> None:
        request.send_response(status)
        request.send_header("Api-Version", API_VERSION)
        request.send_header("Ostype", "linux")
        request.send_header("Docker-Experimental", "false")
        request.send_header("Server", "labkit-engine-stub")
        request.send_header("Date", datetime.now(UTC).strftime("%a, %d %b %Y %H:%M:%S GMT"))
        request.send_header("Content-Type", content_type)
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        if not head:
            request.wfile.write(body)

    def error(self, request: BaseHTTPRequestHandler, status: int, message: str) -> None:
        body = json.dumps({"message": message}).encode() + b"\n"
        self.reply(request, status, body, "application/json")


# -- moby's progress messages ----------------------------------------------------------------


def _update(layer_id: str, status: str) -> dict[str, Any]:
    """progress.Update: a status with an empty progressDetail (streamformatter.go:122-123)."""
    return {"status": status, "progressDetail": {}, "id": layer_id}


def _progress(layer_id: str, action: str) -> dict[str, Any]:
    """A progress bar half way (progressreader): redrawn in place on a terminal, not shown
    otherwise (jsonmessage.go:190-196)."""
    detail = {"current": 512, "total": 1024}
    return {"status": action, "progressDetail": detail, "progress": "[=====>    ]", "id": layer_id}


def pull_messages(result: PullResult, *, complete: bool) -> list[dict[str, Any]]:
    """distribution/pull_v2.go (v28.2.2): "Pulling from" (:387), every layer's "Pulling fs
    layer" or "Already exists" (xfer/download.go), then download, "Verifying Checksum",
    "Download complete", extraction and "Pull complete"; the digest (:553) and the status
    line (distribution/pull.go:94-101, writeStatus)."""
    messages: list[dict[str, Any]] = []
    for image in result.images:
        messages.append({"status": f"Pulling from {image.ref.path}", "id": image.label})
        layers = [(short_id(layer.layer), layer.status) for layer in image.layers]
        for layer_id, status in layers:
            messages.append(
                _update(
                    layer_id, "Already exists" if status == "Already exists" else "Pulling fs layer"
                )
            )
        for layer_id, status in layers:
            if status == "Already exists":
                continue
            messages += [
                _progress(layer_id, "Downloading"),
                _update(layer_id, "Verifying Checksum"),
                _update(layer_id, "Download complete"),
                _progress(layer_id, "Extracting"),
                _update(layer_id, status),
            ]
        if image.digest is not None:
            messages.append({"status": f"Digest: {image.digest}"})
    if complete:
        word = "Downloaded newer image for" if result.downloaded else "Image is up to date for"
        messages.append({"status": f"Status: {word} {result.ref.familiar}"})
    return messages


def push_messages(result: PushResult) -> list[dict[str, Any]]:
    """distribution/push_v2.go (v28.2.2): every layer "Preparing", "Waiting" beyond the
    concurrent uploads (xfer/upload.go), the upload, its final status, then
    "TAG: digest: DIGEST size: N" (push_v2.go:206) and its aux message."""
    messages: list[dict[str, Any]] = []
    for pushed in result.tags:
        layers: list[LayerStatus | str] = [*pushed.layers, *pushed.pending]
        ids = [
            short_id(layer.layer if isinstance(layer, LayerStatus) else layer) for layer in layers
        ]
        for index, layer_id in enumerate(ids):
            messages.append(_update(layer_id, "Preparing"))
            if index >= MAX_CONCURRENT_UPLOADS:
                messages.append(_update(layer_id, "Waiting"))
        for layer_id, layer in zip(ids, layers, strict=True):
            if not isinstance(layer, LayerStatus):
                continue
            if layer.status == "Pushed":
                messages.append(_progress(layer_id, "Pushing"))
            messages.append(_update(layer_id, layer.status))
        if pushed.digest is not None:
            messages.append(
                {"status": f"{pushed.tag}: digest: {pushed.digest} size: {pushed.size}"}
            )
            aux = {"Tag": pushed.tag, "Digest": pushed.digest, "Size": pushed.size}
            messages.append({"progressDetail": {}, "aux": aux})
    return messages


def _run_on_terminals(
    command: list[str], env: dict[str, str], stdin: str | None
) -> subprocess.CompletedProcess[str]:
    """Run ``command`` with stdout and stderr on two pseudo-terminals (200 columns) and stdin
    a pipe; what each terminal shows at the end, rendered."""
    masters, slaves = [], []
    for _ in range(2):
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 200, 0, 0))
        masters.append(master)
        slaves.append(slave)
    process = subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=slaves[0], stderr=slaves[1], env=env
    )
    for slave in slaves:
        os.close(slave)
    assert process.stdin is not None
    process.stdin.write((stdin or "").encode())
    process.stdin.close()
    chunks: dict[int, list[bytes]] = {master: [] for master in masters}
    open_fds = set(masters)
    deadline = time.monotonic() + 60
    while open_fds:
        if time.monotonic() > deadline:
            process.kill()
            raise TimeoutError(" ".join(command))
        ready, _, _ = select.select(list(open_fds), [], [], 1.0)
        for fd in ready:
            try:
                data = os.read(fd, 65536)
            except OSError:  # EIO: the last writer closed the terminal
                data = b""
            if data:
                chunks[fd].append(data)
            else:
                open_fds.discard(fd)
                os.close(fd)
    code = process.wait(timeout=60)
    out, err = (render_terminal(b"".join(chunks[fd]).decode()) for fd in masters)
    return subprocess.CompletedProcess(command, code, out, err)
