"""Real clients against labkit serve: Debian's skopeo and the PyPI oras client."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from conftest import PASSWORD, require_binary

from labkit.oci import make_image, synthetic_layer


@pytest.fixture(scope="module")
def image():
    return make_image([synthetic_layer("real-client", files=4), synthetic_layer("top", files=2)])


@pytest.fixture
def image_dir(tmp_path: Path, image) -> Path:
    """The image in skopeo's ``dir:`` layout, from labkit's own bytes."""
    folder = tmp_path / "image"
    folder.mkdir()
    (folder / "version").write_text("Directory Transport Version: 1.1\n")
    (folder / "manifest.json").write_bytes(image.manifest)
    for digest, data in image.blobs.items():
        (folder / digest.removeprefix("sha256:")).write_bytes(data)
    return folder


def skopeo(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    binary = require_binary("skopeo")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "REGISTRY_AUTH_FILE": str(tmp_path / "auth.json"),
    }
    return subprocess.run(
        [binary, "--insecure-policy", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )


def target(handle, name: str) -> str:
    return f"docker://127.0.0.1:{handle.port}/{name}"


def test_skopeo_copies_in_with_credentials_and_inspects(hub, tmp_path, image_dir, image, world):
    copy = skopeo(
        tmp_path,
        "copy",
        "--dest-tls-verify=false",
        f"--dest-creds=fredysa:{PASSWORD}",
        f"dir:{image_dir}",
        target(hub, "fredysa/app:1.0"),
    )
    assert copy.returncode == 0, copy.stderr
    stored = world.registry().repository("fredysa/app")
    assert set(image.blobs) <= stored.blobs
    digest = stored.tags["1.0"]
    inspect = skopeo(tmp_path, "inspect", "--tls-verify=false", target(hub, "fredysa/app:1.0"))
    assert inspect.returncode == 0, inspect.stderr
    assert json.loads(inspect.stdout)["Digest"] == digest
    raw = skopeo(
        tmp_path, "inspect", "--raw", "--tls-verify=false", target(hub, f"fredysa/app@{digest}")
    )
    assert raw.stdout.encode() == stored.manifests[digest].data


def test_skopeo_copies_out_the_exact_bytes(hub, tmp_path, image):
    out = tmp_path / "out"
    copy = skopeo(
        tmp_path,
        "copy",
        "--src-tls-verify=false",
        target(hub, "library/alpine:latest"),
        f"dir:{out}",
    )
    assert copy.returncode == 0, copy.stderr
    manifest = json.loads((out / "manifest.json").read_bytes())
    for layer in manifest["layers"]:
        assert (out / layer["digest"].removeprefix("sha256:")).stat().st_size == layer["size"]


def test_skopeo_without_credentials_is_refused(hub, tmp_path, image_dir, world):
    copy = skopeo(
        tmp_path,
        "copy",
        "--dest-tls-verify=false",
        "--dest-no-creds",
        f"dir:{image_dir}",
        target(hub, "fredysa/app:1.0"),
    )
    assert copy.returncode != 0
    assert "denied" in copy.stderr.lower() or "403 (Forbidden)" in copy.stderr
    assert world.registry().repository("fredysa/app") is None


def test_skopeo_with_a_wrong_password_is_refused(hub, tmp_path, image_dir):
    copy = skopeo(
        tmp_path,
        "copy",
        "--dest-tls-verify=false",
        "--dest-creds=fredysa:wrong-password",
        f"dir:{image_dir}",
        target(hub, "fredysa/app:1.0"),
    )
    assert copy.returncode != 0
    assert "401" in copy.stderr or "unauthorized" in copy.stderr.lower()


def test_skopeo_to_the_open_registry_needs_no_login(open_registry, tmp_path, image_dir, world):
    copy = skopeo(
        tmp_path,
        "copy",
        "--dest-tls-verify=false",
        f"dir:{image_dir}",
        target(open_registry, "a:1"),
    )
    assert copy.returncode == 0, copy.stderr
    assert "1" in world.registry("localhost:5000").repository("a").tags


# -- oras ---------------------------------------------------------------------------------


def oras_client(handle, user: str | None = None, password: str = PASSWORD):
    import oras.client

    client = oras.client.OrasClient(hostname=f"127.0.0.1:{handle.port}", insecure=True)
    if user is not None:
        client.auth.set_basic_auth(user, password)
    return client


def test_oras_push_and_pull_with_credentials(hub, tmp_path, world, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("artifact.txt").write_text("hello from oras\n")
    client = oras_client(hub, "fredysa")
    reply = client.push(f"127.0.0.1:{hub.port}/fredysa/notes:v1", files=["artifact.txt"])
    assert reply.status_code == 201
    assert "v1" in world.registry().repository("fredysa/notes").tags
    out = tmp_path / "pulled"
    files = client.pull(f"127.0.0.1:{hub.port}/fredysa/notes:v1", outdir=str(out))
    assert [Path(f).read_text() for f in files] == ["hello from oras\n"]


def test_oras_anonymous_push_is_refused(hub, tmp_path, world, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("artifact.txt").write_text("x\n")
    client = oras_client(hub)
    with pytest.raises(Exception) as refused:
        client.push(f"127.0.0.1:{hub.port}/fredysa/notes:v1", files=["artifact.txt"])
    assert "denied" in str(refused.value).lower() or "forbidden" in str(refused.value).lower()
    assert world.registry().repository("fredysa/notes") is None


def test_oras_pull_of_a_private_repository_without_rights_is_refused(hub, tmp_path, world):
    client = oras_client(hub, "fredysa")
    (tmp_path / "a.txt").write_text("secret\n")
    os.chdir(tmp_path)
    client.push(f"127.0.0.1:{hub.port}/fredysa/secret:v1", files=["a.txt"])
    world.hub("fredysa").set_visibility("fredysa/secret", private=True)
    other = oras_client(hub, "otheruser")
    with pytest.raises(Exception) as refused:
        other.pull(f"127.0.0.1:{hub.port}/fredysa/secret:v1", outdir=str(tmp_path / "o"))
    assert "denied" in str(refused.value).lower() or "forbidden" in str(refused.value).lower()
