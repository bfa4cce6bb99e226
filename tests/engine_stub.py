"""A stub of the Docker Engine API served from labkit's simulated daemon, so that the real
Docker 28.2.2 client renders labkit's answers.

The stub listens on a unix socket (never a network port) and answers what the client asks for
the commands compared here: ``/_ping``, ``GET /images/json``, ``GET /images/{name}/json``,
``DELETE /images/{name}``, ``POST /images/{name}/tag``, ``GET /images/search``. Everything else
gets 404 with the daemon's "page not found" message, so a client that strays is seen at once.

The answers come from the same code paths as ``docker ...`` lines run in labkit
(:func:`labkit.shell._image_summaries`, :func:`labkit.shell._inspect_one`,
:meth:`labkit.engine.Engine.remove`, :meth:`labkit.engine.Engine.tag`,
:func:`labkit.shell.search_results`); what the daemon decides is therefore labkit's, and what
the client makes of it (tables, --format, error texts, exit codes) is the real client's.
"""

from __future__ import annotations

import json
import os
import socketserver
import subprocess
import tempfile
import threading
import time
import urllib.parse
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from labkit.client import Client
from labkit.commandline import Invocation
from labkit.engine import CommandFailed
from labkit.reference import parse_reference
from labkit.shell import _image_summaries, _inspect_one, search_results

API_VERSION = "1.50"
DAEMON_PREFIX = "Error response from daemon: "


def _status_of(message: str) -> int:
    """The HTTP status the daemon gives an error (errdefs -> httpstatus)."""
    if "No such" in message or message.endswith((" not found", "no such volume")):
        return 404
    if message.startswith("conflict:"):
        return 409
    if message.startswith(("invalid filter", "limit ", "invalid reference")):
        return 400
    return 500


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

    def docker(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": self.folder.name,
            "DOCKER_HOST": f"unix://{self.socket_path}",
            "DOCKER_CONFIG": self.config_dir,
            "TZ": "UTC",
            "DOCKER_CLI_HINTS": "false",
        }
        return subprocess.run(
            ["docker", *args], capture_output=True, text=True, env=env, timeout=60, check=False
        )

    # -- the daemon ----------------------------------------------------------------------

    def handle(self, request: BaseHTTPRequestHandler, method: str) -> None:
        parsed = urllib.parse.urlsplit(request.path)
        query = urllib.parse.parse_qs(parsed.query, keep_blank_values=True)
        path = urllib.parse.unquote(parsed.path)
        length = int(request.headers.get("Content-Length") or 0)
        if length:
            request.rfile.read(length)
        self.requests.append((method, request.path))
        if path == "/_ping":
            self.reply(request, 200, b"OK", "text/plain; charset=utf-8", head=method == "HEAD")
            return
        prefix = f"/v{API_VERSION}"
        if not path.startswith(prefix):
            self.error(request, 400, f"client version mismatch: {path}")
            return
        path = path[len(prefix) :]
        try:
            with self.lock:
                status, body = self.route(method, path, query)
        except CommandFailed as failure:
            message = failure.text.strip().removeprefix(DAEMON_PREFIX)
            self.error(request, _status_of(message), message)
            return
        if body is None:
            self.error(request, 404, "page not found")
            return
        self.reply(request, status, json.dumps(body).encode() + b"\n", "application/json")

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
