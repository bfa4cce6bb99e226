"""Memory stays bounded: abandoned uploads expire and give their spool back; a mixed run
ends where it started; a 1 GiB layer goes through skopeo with a small server."""

from __future__ import annotations

import gzip
import hashlib
import http.client as httpclient
import os
import subprocess
import sys
import tarfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from conftest import LOOPBACK, peak_rss_kib, require_binary, rss_kib

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from registry_bench import write_big_image

MIB = 1 << 20
ROUNDS = 5  # a warm-up and four rounds


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def patch(client, name: str, size: int) -> str:
    """Start an upload and PATCH ``size`` bytes into it; return its Location (abandoned)."""
    start = client.request("POST", f"/v2/{name}/blobs/uploads/")
    assert start.status == 202, start
    reply = client.request("PATCH", start.headers["location"], os.urandom(size))
    assert reply.status == 202, reply
    return reply.headers["location"]


def wait_for(condition, timeout: float = 60, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def test_purge_expires_sessions_tokens_and_challenges(world, start_labkit, http):
    handle = start_labkit(world, "docker.io", upload_lifetime=0.5, purge_interval=0.1)
    state = handle.app.settings["labkit_state"]
    state.tokens.lifetime = 0.5
    client = http(handle.url)
    client.login("repository:fredysa/app:pull,push", "fredysa")
    location = patch(client, "fredysa/app", 300_000)
    assert len(state.uploads) == 1 and state.budget.used == 300_000
    client.request("GET", "/v2/fredysa/other/tags/list")  # a challenge record
    wait_for(lambda: not state.uploads and not state.challenged, 30, "the purge")
    wait_for(lambda: len(state.tokens) == 0, 30, "token pruning")
    assert state.budget.used == 0
    assert world.registry()._uploads == {}
    client.login("repository:fredysa/app:pull,push", "fredysa")
    assert client.request("GET", location).codes == ["BLOB_UPLOAD_UNKNOWN"]


def test_a_short_upload_lifetime_releases_the_spool_file_and_the_memory(
    start_serve, http, tmp_path
):
    data = tmp_path / "registry"
    server = start_serve("--registry", "localhost:5000", "--data", str(data))
    server_lifetime = 2.0
    server.process.kill()  # restart with a short lifetime on the same folder
    server.process.wait(10)
    server = start_serve(
        "--registry", "localhost:5000", "--data", str(data),
        "--upload-lifetime", str(server_lifetime),
    )  # fmt: skip
    client = http(server.url)
    client.push_blob("warm", os.urandom(2 * MIB))  # warm up
    before = rss_kib(server.pid)
    spool = data / "blobs" / "tmp"
    large = patch(client, "app", 8 * MIB)  # over the threshold: a file
    small = [patch(client, "app", 900_000) for _ in range(24)]  # in memory: ~21 MiB
    assert len(list(spool.iterdir())) == 1
    grown = rss_kib(server.pid)
    assert grown - before > 15_000, (before, grown)
    wait_for(lambda: not any(spool.iterdir()), 60, "the spool file to go")

    def all_expired() -> bool:
        return all(client.request("GET", at).status == 404 for at in [large, *small])

    wait_for(all_expired, 60, "every session to expire")
    assert client.request("GET", small[-1]).codes == ["BLOB_UPLOAD_UNKNOWN"]
    after = rss_kib(server.pid)
    assert after - before < 5_000, (before, grown, after)


def slow_reader(port: int, path: str, limit: int, pause: float) -> int:
    """Read ``limit`` bytes of a blob 64 KiB at a time with pauses, then hang up."""
    connection = httpclient.HTTPConnection(LOOPBACK, port, timeout=60)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        got = 0
        while got < limit:
            piece = response.read(64 << 10)
            if not piece:
                break
            got += len(piece)
            time.sleep(pause)
        return got
    finally:
        connection.close()


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_a_mixed_run_ends_within_10_mb_of_its_warm_rss(start_serve, http):
    server = start_serve("--registry", "docker.io", "--user", "fredysa:s3cret-pass",
                         "--upload-lifetime", "1")  # fmt: skip
    big = os.urandom(16 * MIB)
    big_digest = sha(big)

    def one_round(round_number: int) -> None:
        client = http(server.url)
        client.login("repository:fredysa/mix:pull,push", "fredysa")
        assert client.push_blob("fredysa/mix", big).status == 201  # large
        path = f"/v2/fredysa/mix/blobs/{big_digest}"

        def small(i: int) -> None:
            mine = http(server.url)
            mine.login("repository:fredysa/mix:pull,push", "fredysa")  # a token each
            data = f"round {round_number} small {i}".encode()
            assert mine.push_blob("fredysa/mix", data).status == 201
            assert mine.request("GET", f"/v2/fredysa/mix/blobs/{sha(data)}").body == data

        def abandoned(i: int) -> None:
            mine = http(server.url)
            mine.login("repository:fredysa/mix:pull,push", "fredysa")
            patch(mine, "fredysa/mix", (3 * MIB) if i % 2 else 500_000)

        def reader(i: int) -> None:
            url = f"{path}"
            headers_ok = http(server.url)
            headers_ok.login("repository:fredysa/mix:pull", "fredysa")
            connection = httpclient.HTTPConnection(LOOPBACK, server.port, timeout=60)
            try:
                connection.request(
                    "GET", url, headers={"Authorization": f"Bearer {headers_ok.token}"}
                )
                response = connection.getresponse()
                got = 0
                while got < (6 * MIB if i % 2 else 16 * MIB):  # some hang up midway
                    piece = response.read(256 << 10)
                    if not piece:
                        break
                    got += len(piece)
                    time.sleep(0.002)
            finally:
                connection.close()

        with ThreadPoolExecutor(8) as pool:
            jobs = [pool.submit(small, i) for i in range(40)]
            jobs += [pool.submit(abandoned, i) for i in range(6)]
            jobs += [pool.submit(reader, i) for i in range(4)]
            for job in jobs:
                job.result()

    one_round(0)  # warm-up
    time.sleep(2.5)  # the abandoned uploads of the warm-up expire
    warm = rss_kib(server.pid)
    for round_number in range(1, ROUNDS):
        one_round(round_number)
        print(f"round {round_number}: {rss_kib(server.pid)} KiB")
    time.sleep(2.5)
    end = rss_kib(server.pid)
    print(f"mixed run: RSS after warm-up {warm} KiB, after {ROUNDS - 1} more rounds {end} KiB")
    assert end - warm <= 10_000, f"RSS after warm-up {warm} KiB, at the end {end} KiB"


# -- a 1 GiB layer through skopeo ------------------------------------------------------------


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(8 * MIB):
            digest.update(chunk)
    return "sha256:" + digest.hexdigest()


def skopeo(home: Path, *args: str) -> subprocess.CompletedProcess:
    binary = require_binary("skopeo")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home)}
    return subprocess.run(
        ["nice", "-n", "10", binary, "--insecure-policy", *args],
        capture_output=True, text=True, timeout=600, env=env, check=False,
    )  # fmt: skip


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_a_1_gib_layer_pushed_and_pulled_with_skopeo_in_200_mb(start_serve, tmp_path):
    source = tmp_path / "image"
    layer_digest, manifest_digest = write_big_image(source, 1 << 30)
    server = start_serve("--registry", "localhost:5000")
    target = f"docker://127.0.0.1:{server.port}/big:1"
    push = skopeo(tmp_path, "copy", "--dest-tls-verify=false", "--preserve-digests",
                  f"dir:{source}", target)  # fmt: skip
    assert push.returncode == 0, push.stderr
    for path in source.iterdir():  # the source is not needed any more: free the disk
        path.unlink()
    out = tmp_path / "pulled"
    pull = skopeo(tmp_path, "copy", "--src-tls-verify=false", target, f"dir:{out}")
    assert pull.returncode == 0, pull.stderr
    assert file_digest(out / layer_digest.removeprefix("sha256:")) == layer_digest
    assert sha((out / "manifest.json").read_bytes()) == manifest_digest
    peak = peak_rss_kib(server.pid)
    print(f"labkit serve peak RSS with a 1 GiB layer: {peak} KiB")
    assert peak <= 200 * 1000, f"server peak RSS {peak} KiB"


def test_the_big_image_generator_makes_a_valid_gzip_tar(tmp_path):
    layer_digest, _ = write_big_image(tmp_path / "image", 3 * MIB + 5)
    blob = tmp_path / "image" / layer_digest.removeprefix("sha256:")
    assert file_digest(blob) == layer_digest
    with tarfile.open(fileobj=gzip.open(blob)) as archive:
        member = archive.getmember("big.bin")
        assert member.size == 3 * MIB + 5
        assert archive.extractfile(member).read(512) == bytes(range(256)) * 2


def test_tokens_challenges_and_sessions_are_capped(world, start_labkit, http, monkeypatch):
    from labkit import server as labkit_server
    from labkit.accounts import ANONYMOUS

    tokens = labkit_server.TokenStore(limit=3)
    issued = [tokens.issue(ANONYMOUS, set(), set()) for _ in range(5)]
    assert len(tokens) == 3
    assert tokens.lookup(issued[0]) is None and tokens.lookup(issued[-1]) is not None
    monkeypatch.setattr(labkit_server, "MAX_SESSIONS", 3)
    handle = start_labkit(world, "localhost:5000")
    state = handle.app.settings["labkit_state"]
    client = http(handle.url)
    first = patch(client, "app", 1000)
    for _ in range(4):
        patch(client, "app", 1000)
    assert len(state.uploads) == 3 and len(world.registry("localhost:5000")._uploads) == 3
    assert client.request("GET", first).codes == ["BLOB_UPLOAD_UNKNOWN"]
    assert state.budget.used == 3000


def test_an_upload_cut_off_midway_leaves_nothing(world, start_labkit):
    import socket

    handle = start_labkit(world, "localhost:5000")
    state = handle.app.settings["labkit_state"]
    spool = Path(state.spool_dir)
    with socket.create_connection((LOOPBACK, handle.port)) as sock:
        head = (
            f"POST /v2/app/blobs/uploads/?digest={sha(b'never')} HTTP/1.1\r\n"
            f"Host: {LOOPBACK}\r\nContent-Length: {8 * MIB}\r\n\r\n"
        )
        sock.sendall(head.encode() + b"z" * (3 * MIB))
        wait_for(lambda: any(spool.iterdir()), 30, "the spool file")
    wait_for(lambda: not any(spool.iterdir()), 30, "the spool file to go")
    wait_for(lambda: not world.registry("localhost:5000")._uploads, 30, "the session to go")
    assert state.budget.used == 0
