"""A stand-in JupyterHub on loopback for ``labkit collect --hub``: the hub's REST API and the
students' servers behind its proxy, as fixed routes (tests/grading/test_hub_collect.py,
bench/hub_bench.py)."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

TOKEN = "collect-token-123"


@dataclass
class FakeHub:
    """Routes: path (unquoted, without query) -> (status, body, extra headers)."""

    routes: dict[str, tuple[int, bytes, dict[str, str]]] = field(default_factory=dict)
    requests: list[tuple[str, str | None]] = field(default_factory=list)
    url: str = ""

    def json(self, path: str, value: Any, status: int = 200) -> None:
        self.routes[path] = (status, json.dumps(value).encode(), {})

    def file(self, path: str, body: bytes, status: int = 200) -> None:
        self.routes[path] = (status, body, {})

    def folder(self, user: str, folder: str, entries: list[dict[str, Any]]) -> None:
        self.json(
            f"/user/{user}/api/contents/{folder}",
            {"type": "directory", "name": folder.rsplit("/", 1)[-1], "content": entries},
        )


def entry(name: str, kind: str = "notebook", size: int = 10) -> dict[str, Any]:
    return {"name": name, "type": kind, "size": size, "path": f"labs/{name}"}


def serve(fake: FakeHub) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = unquote(urlsplit(self.path).path)
            fake.requests.append((self.path, self.headers.get("Authorization")))
            if self.headers.get("Authorization") != f"token {TOKEN}":
                status, body, headers = 403, b'{"message": "no token"}', {}
            else:
                status, body, headers = fake.routes.get(path, (404, b'{"message": "nope"}', {}))
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    return server
