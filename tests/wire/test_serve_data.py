"""``labkit serve --data DIR``: killed with SIGKILL in the middle of a push, a restart serves
everything committed and nothing half-done."""

from __future__ import annotations

import hashlib
import http.client as httpclient
import signal
import threading
import time

from conftest import LOOPBACK, PASSWORD

from labkit.oci import make_image, synthetic_layer

SCHEMA2 = {"Content-Type": "application/vnd.docker.distribution.manifest.v2+json"}


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def push_image(client, name: str, tag: str, image) -> None:
    for data in image.blobs.values():
        assert client.push_blob(name, data).status == 201
    put = client.request("PUT", f"/v2/{name}/manifests/{tag}", image.manifest, SCHEMA2)
    assert put.status == 201, put


def stream_forever(port: int, path: str, token: str, sent: threading.Event) -> None:
    """A PATCH that sends 8 MiB, then hangs (until the server dies)."""

    def body():
        for _ in range(8):
            yield b"\x5a" * (1 << 20)
        sent.set()
        time.sleep(60)

    connection = httpclient.HTTPConnection(LOOPBACK, port, timeout=60)
    try:
        connection.request(
            "PATCH",
            path,
            body=body(),
            headers={"Authorization": f"Bearer {token}"},
            encode_chunked=True,
        )
        connection.getresponse()
    except OSError:
        pass  # the server was killed
    finally:
        connection.close()


def test_a_push_killed_midway_leaves_only_what_was_committed(start_serve, http, tmp_path):
    data = tmp_path / "registry"
    user = f"fredysa:{PASSWORD}"
    first = start_serve("--data", str(data), "--user", user)
    client = http(first.url)
    client.login("repository:fredysa/done:pull,push", "fredysa")
    done = make_image([synthetic_layer("committed", files=3)])
    push_image(client, "fredysa/done", "1.0", done)
    # Another push, killed midway: one blob uploaded, one streaming, no manifest yet.
    half = make_image([synthetic_layer("half-done", files=2)])
    client.login("repository:fredysa/half:pull,push", "fredysa")
    staged = next(iter(half.blobs.values()))
    assert client.push_blob("fredysa/half", staged).status == 201
    start = client.request("POST", "/v2/fredysa/half/blobs/uploads/")
    location = start.headers["location"]
    sent = threading.Event()
    thread = threading.Thread(
        target=stream_forever, args=(first.port, location, client.token, sent), daemon=True
    )
    thread.start()
    assert sent.wait(60), "the streaming PATCH never got going"
    spool = data / "blobs" / "tmp"
    deadline = time.monotonic() + 30
    while not any(spool.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert any(spool.iterdir()), "the upload was not being spooled"
    first.process.send_signal(signal.SIGKILL)
    first.process.wait(10)
    thread.join(10)

    second = start_serve("--data", str(data), "--user", user)
    client = http(second.url)
    client.login("repository:fredysa/done:pull repository:fredysa/half:pull,push", "fredysa")
    got = client.request("GET", "/v2/fredysa/done/manifests/1.0")
    assert got.status == 200 and got.body == done.manifest
    for digest in done.blobs:
        pulled = client.request("GET", f"/v2/fredysa/done/blobs/{digest}")
        assert pulled.status == 200 and sha(pulled.body) == digest
    # Nothing half-done: no tag, no repository, no session, no spooled bytes.
    missing = client.request("GET", "/v2/fredysa/half/manifests/1.0")  # Hub hides a
    assert missing.json()["errors"][0]["detail"] == {"reason": "not-found"}  # missing repo
    assert client.request("GET", location).codes == ["BLOB_UPLOAD_UNKNOWN"]
    assert list(spool.iterdir()) == []
    client.login("registry:catalog:*", "fredysa")
    catalog = client.request("GET", "/v2/_catalog").json()["repositories"]
    assert "fredysa/done" in catalog and "fredysa/half" not in catalog
    # The blob that was committed before the kill is still there for the push to resume.
    client.login("repository:fredysa/half:pull,push", "fredysa")
    head = client.request("HEAD", f"/v2/fredysa/half/blobs/{sha(staged)}")
    assert head.status == 200
    push_image(client, "fredysa/half", "1.0", half)  # the push, run again, completes
    assert client.request("GET", "/v2/fredysa/half/manifests/1.0").body == half.manifest


def test_another_password_for_a_kept_account_is_refused(start_serve, tmp_path):
    import subprocess
    import sys

    data = tmp_path / "registry"
    first = start_serve("--data", str(data), "--user", f"fredysa:{PASSWORD}")
    first.process.send_signal(signal.SIGKILL)
    first.process.wait(10)
    again = subprocess.run(
        [
            *(sys.executable, "-m", "labkit.cli", "serve", "--port", "0"),
            *("--data", str(data), "--user", "fredysa:another-password"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert again.returncode == 2
    assert "already exists" in again.stderr and "Traceback" not in again.stderr
