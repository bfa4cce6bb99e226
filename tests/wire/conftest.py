"""Servers for the wire tests: labkit serve in a thread, Debian's docker-registry in a process.

Everything binds to 127.0.0.1 on a free port and is stopped at teardown, even on failure.
"""

from __future__ import annotations

import base64
import http.client as httpclient
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest

from labkit.server import ServerHandle, serve_in_background
from labkit.world import World

LOOPBACK = "127.0.0.1"
PASSWORD = "s3cret-pass"


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes

    def json(self):
        return json.loads(self.body)

    @property
    def codes(self) -> list[str]:
        return [e["code"] for e in self.json()["errors"]]


class Http:
    """A tiny client for one base URL on loopback (refuses any other host)."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        assert parts.hostname == LOOPBACK, f"tests talk to {LOOPBACK} only, not {url}"
        self.url = url.rstrip("/")
        self.port = parts.port
        self.token: str | None = None

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict | None = None
    ) -> Reply:
        if path.startswith("http://"):
            parts = urlsplit(path)
            assert parts.hostname == LOOPBACK
            path = parts.path + (f"?{parts.query}" if parts.query else "")
        headers = dict(headers or {})
        if self.token and "Authorization" not in headers:
            headers["Authorization"] = f"Bearer {self.token}"
        connection = httpclient.HTTPConnection(LOOPBACK, self.port, timeout=30)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            try:
                data = response.read()
            except httpclient.IncompleteRead as short:
                # distribution's 416 keeps the blob's Content-Length over a short text body
                data = short.partial
            found = {k.lower(): v for k, v in response.getheaders()}
            return Reply(response.status, found, data)
        finally:
            connection.close()

    def login(self, scope: str, user: str | None = None, password: str = PASSWORD) -> Reply:
        """Fetch a token for ``scope`` (Basic credentials when ``user`` is given); keep it."""
        headers = {}
        if user is not None:
            pair = base64.b64encode(f"{user}:{password}".encode()).decode()
            headers["Authorization"] = f"Basic {pair}"
        query = urlencode({"service": "x", "scope": scope})
        reply = self.request("GET", f"/token?{query}", headers=headers)
        if reply.status == 200:
            self.token = reply.json()["token"]
        return reply

    def push_blob(self, name: str, data: bytes, *, chunked: bool = False) -> Reply:
        """Upload ``data`` to ``name`` (POST, optional PATCH, PUT ?digest=)."""
        import hashlib

        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        start = self.request("POST", f"/v2/{name}/blobs/uploads/")
        if start.status != 202:
            return start
        location = start.headers["location"]
        if chunked:
            half = len(data) // 2
            for offset, piece in ((0, data[:half]), (half, data[half:])):
                end = offset + len(piece) - 1
                patch = self.request(
                    "PATCH",
                    location,
                    piece,
                    {
                        "Content-Type": "application/octet-stream",
                        "Content-Range": f"{offset}-{end}",
                    },
                )
                assert patch.status == 202, patch
                location = patch.headers["location"]
            data = b""
        sep = "&" if "?" in location else "?"
        return self.request(
            "PUT",
            f"{location}{sep}digest={digest}",
            data,
            {"Content-Type": "application/octet-stream"},
        )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


@pytest.fixture
def world() -> World:
    world = World.default()
    world.add_user("fredysa", PASSWORD)
    world.add_user("otheruser", PASSWORD)
    return world


@pytest.fixture
def start_labkit() -> Iterator[Callable[..., ServerHandle]]:
    """Start ``labkit serve`` in a background thread; every one started is stopped."""
    handles: list[ServerHandle] = []

    def start(world: World, registry: str = "docker.io", **options) -> ServerHandle:
        handle = serve_in_background(world, registry=registry, port=0, **options)
        handles.append(handle)
        return handle

    yield start
    for handle in handles:
        handle.stop()


@pytest.fixture
def hub(world: World, start_labkit) -> ServerHandle:
    return start_labkit(world, "docker.io")


@pytest.fixture
def open_registry(world: World, start_labkit) -> ServerHandle:
    return start_labkit(world, "localhost:5000")


def require_binary(name: str) -> str:
    """The path of ``name``; FAIL (not skip) when it is missing: CI installs it."""
    path = shutil.which(name)
    if path is None:
        pytest.fail(
            f"{name} is not installed: run `make system-deps` (it installs Debian's "
            f"docker-registry and skopeo), then run the tests again",
            pytrace=False,
        )
    return path


@pytest.fixture
def distribution(tmp_path: Path) -> Iterator[str]:
    """Debian's docker-registry (distribution v2.8) on 127.0.0.1, open, deletes enabled."""
    binary = require_binary("docker-registry")
    port = free_port()
    root = tmp_path / "registry-storage"
    root.mkdir()
    config = tmp_path / "config.yml"
    config.write_text(
        "version: 0.1\n"
        "log:\n  level: error\n  accesslog:\n    disabled: true\n"
        "storage:\n"
        f"  filesystem:\n    rootdirectory: {root}\n"
        "  delete:\n    enabled: true\n"
        "http:\n"
        f"  addr: {LOOPBACK}:{port}\n"
    )
    log = (tmp_path / "registry.log").open("wb")
    process = subprocess.Popen([binary, "serve", str(config)], stdout=log, stderr=subprocess.STDOUT)
    try:
        url = f"http://{LOOPBACK}:{port}"
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                pytest.fail(
                    "docker-registry exited: " + (tmp_path / "registry.log").read_text()[-2000:]
                )
            try:
                if Http(url).request("GET", "/v2/").status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("docker-registry did not answer on /v2/ within 30 s")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        log.close()


@pytest.fixture
def http() -> type[Http]:
    """The loopback HTTP client class (``http(url)``)."""
    return Http


@dataclass
class ServeProcess:
    """``labkit serve`` as a child process: its URL, port and PID."""

    process: subprocess.Popen
    url: str

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    @property
    def pid(self) -> int:
        return self.process.pid


def peak_rss_kib(pid: int) -> int:
    """VmHWM of a process (its peak resident set), in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmHWM for {pid}")


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmRSS for {pid}")


@pytest.fixture
def start_serve() -> Iterator[Callable[..., ServeProcess]]:
    """Start ``labkit serve --port 0 ARGS...`` (niced); every one started is killed."""
    import sys

    started: list[subprocess.Popen] = []

    def start(*args: str) -> ServeProcess:
        log = tempfile.TemporaryFile()  # noqa: SIM115 (the access log: a pipe nobody reads fills)
        process = subprocess.Popen(
            [sys.executable, "-m", "labkit.cli", "serve", "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            preexec_fn=lambda: os.nice(5),
        )
        started.append(process)
        line = process.stdout.readline()  # type: ignore[union-attr]
        if " at http://" not in line:
            process.kill()
            process.wait(10)
            log.seek(0)
            pytest.fail(f"labkit serve did not start: {line}{log.read().decode()[-2000:]}")
        url = line.split(" at ", 1)[1].split("/v2/", 1)[0]
        return ServeProcess(process, url)

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait(10)
        if process.stdout is not None:
            process.stdout.close()
