"""Pushing and pulling a 1 GiB layer with skopeo: labkit serve beside Debian's docker-registry.

Run: .venv/bin/python bench/registry_bench.py [SIZE_MIB]
Writes an image whose one layer is 1 GiB (a gzip, stored, of a tar of a repeating pattern),
then, for labkit serve (blobs over 1 MiB on disk), labkit serve --data (every blob and
journal line fsynced) and docker-registry (distribution 2.8, filesystem storage), in one
run: the wall time of ``skopeo copy`` from ``dir:`` to the registry and back, the throughput
(layer bytes / wall time), and the server's peak RSS (VmHWM) over the push and the pull.
Every server binds 127.0.0.1 on a free port and is stopped at the end. Needs skopeo and
docker-registry (``make system-deps``).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.request
import zlib
from pathlib import Path

MIB = 1 << 20


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def write_big_image(folder: Path, size: int) -> tuple[str, str]:
    """An image in skopeo's ``dir:`` layout whose one layer is a gzip (stored, not
    compressed: fast) of a tar holding ``size`` bytes of a repeating pattern, written as it
    is generated. Returns (layer digest, manifest digest)."""
    folder.mkdir()
    pattern = bytes(range(256)) * (4 * 4096)  # 4 MiB
    info = tarfile.TarInfo("big.bin")
    info.size = size
    header = info.tobuf(format=tarfile.USTAR_FORMAT)
    padding = b"\0" * ((-size) % 512) + b"\0" * 1024
    diff, layer = hashlib.sha256(), hashlib.sha256()
    compressor = zlib.compressobj(0, zlib.DEFLATED, 31)  # gzip framing, stored blocks
    part = folder / "layer.part"
    with part.open("wb") as out:

        def emit(data: bytes) -> None:
            diff.update(data)
            packed = compressor.compress(data)
            layer.update(packed)
            out.write(packed)

        emit(header)
        left = size
        while left:
            piece = pattern[: min(len(pattern), left)]
            emit(piece)
            left -= len(piece)
        emit(padding)
        tail = compressor.flush()
        layer.update(tail)
        out.write(tail)
    layer_digest = "sha256:" + layer.hexdigest()
    layer_size = part.stat().st_size
    part.rename(folder / layer_digest.removeprefix("sha256:"))
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "rootfs": {"type": "layers", "diff_ids": ["sha256:" + diff.hexdigest()]},
            "config": {},
        }
    ).encode()
    (folder / sha(config).removeprefix("sha256:")).write_bytes(config)
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {
                "mediaType": "application/vnd.docker.container.image.v1+json",
                "digest": sha(config),
                "size": len(config),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                    "digest": layer_digest,
                    "size": layer_size,
                }
            ],
        }
    ).encode()
    (folder / "manifest.json").write_bytes(manifest)
    (folder / "version").write_text("Directory Transport Version: 1.1\n")
    return layer_digest, sha(manifest)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def wait_ready(url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the registry at {url} exited")
        try:
            with urllib.request.urlopen(f"{url}/v2/", timeout=2):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"no answer from {url}")


def start_labkit(work: Path, durable: bool) -> tuple[subprocess.Popen, int]:
    port = free_port()
    command = [sys.executable, "-m", "labkit.cli", "serve", "--registry", "localhost:5000"]
    command += ["--port", str(port)]
    if durable:
        command += ["--data", str(work / "labkit-data")]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_ready(f"http://127.0.0.1:{port}", process)
    return process, port


def start_distribution(work: Path) -> tuple[subprocess.Popen, int]:
    binary = shutil.which("docker-registry")
    if binary is None:
        raise SystemExit("docker-registry is not installed: make system-deps")
    port = free_port()
    root = work / "distribution-storage"
    root.mkdir()
    config = work / "config.yml"
    config.write_text(
        "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\n"
        f"storage:\n  filesystem:\n    rootdirectory: {root}\n"
        f"http:\n  addr: 127.0.0.1:{port}\n"
    )
    process = subprocess.Popen(
        [binary, "serve", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    wait_ready(f"http://127.0.0.1:{port}", process)
    return process, port


def skopeo(home: Path, *args: str) -> float:
    binary = shutil.which("skopeo")
    if binary is None:
        raise SystemExit("skopeo is not installed: make system-deps")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home)}
    start = time.perf_counter()
    done = subprocess.run(
        [binary, "--insecure-policy", *args], capture_output=True, text=True, env=env, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"skopeo {args[0]} failed: {done.stderr}")
    return time.perf_counter() - start


def measure(name: str, start, source: Path, layer: str, size: int, work: Path) -> dict:
    folder = work / name.replace(" ", "-")
    folder.mkdir()
    process, port = start(folder)
    try:
        target = f"docker://127.0.0.1:{port}/big:1"
        push = skopeo(work, "copy", "--dest-tls-verify=false", "--preserve-digests",
                      f"dir:{source}", target)  # fmt: skip
        out = folder / "pulled"
        pull = skopeo(work, "copy", "--src-tls-verify=false", target, f"dir:{out}")
        pulled = out / layer.removeprefix("sha256:")
        digest = hashlib.sha256()
        with pulled.open("rb") as handle:
            while chunk := handle.read(8 * MIB):
                digest.update(chunk)
        if "sha256:" + digest.hexdigest() != layer:
            raise SystemExit(f"{name}: the pulled layer does not match its digest")
        peak = peak_rss_mb(process.pid)
    finally:
        process.terminate()
        process.wait(30)
        shutil.rmtree(folder, ignore_errors=True)
    return {"name": name, "push": push, "pull": pull, "peak": peak, "size": size}


def main() -> None:
    size = int(sys.argv[1]) * MIB if len(sys.argv) > 1 else 1 << 30
    with tempfile.TemporaryDirectory(prefix="registry-bench-") as scratch:
        work = Path(scratch)
        source = work / "image"
        started = time.perf_counter()
        layer, _ = write_big_image(source, size)
        made = time.perf_counter() - started
        layer_size = (source / layer.removeprefix("sha256:")).stat().st_size
        print(f"image: one layer of {layer_size / MIB:.0f} MiB, written in {made:.1f} s")
        rows = [
            measure("labkit serve", lambda f: start_labkit(f, False), source, layer,
                    layer_size, work),
            measure("labkit serve --data", lambda f: start_labkit(f, True), source, layer,
                    layer_size, work),
            measure("docker-registry 2.8", start_distribution, source, layer, layer_size, work),
        ]  # fmt: skip
    print(f"{'registry':<22}{'push s':>8}{'MB/s':>8}{'pull s':>8}{'MB/s':>8}{'peak RSS MB':>13}")
    for row in rows:
        mb = row["size"] / 1e6
        print(
            f"{row['name']:<22}{row['push']:>8.1f}{mb / row['push']:>8.0f}"
            f"{row['pull']:>8.1f}{mb / row['pull']:>8.0f}{row['peak']:>13.0f}"
        )


if __name__ == "__main__":
    main()
