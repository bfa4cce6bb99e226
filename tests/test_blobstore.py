"""labkit.blobstore: blobs by digest in memory or on disk, read a range at a time."""

from __future__ import annotations

import hashlib
import os

import pytest

from labkit.blobstore import DiskBlobStore, MemoryBlobStore, Received
from labkit.world import World


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@pytest.fixture(params=["memory", "disk", "durable"])
def store(request, tmp_path):
    if request.param == "memory":
        return MemoryBlobStore()
    return DiskBlobStore(tmp_path / "blobs", threshold=100, durable=request.param == "durable")


def test_put_get_open_and_read_ranges(store):
    small, large = b"small", bytes(range(256)) * 10
    for data in (small, large):
        store.put(sha(data), data)
        assert sha(data) in store and store.get(sha(data)) == data
        assert store.size(sha(data)) == len(data)
        source = store.open(sha(data))
        assert source.size == len(data)
        assert source.read(2, 3) == data[2:5]
        assert source.read(len(data) - 1, 10) == data[-1:]
        source.close()
    assert store.digests() >= {sha(small), sha(large)}
    assert "sha256:" + "0" * 64 not in store


def test_a_loader_is_called_once_on_first_use(store):
    calls = []

    def load() -> bytes:
        calls.append(1)
        return b"lazy"

    store.put(sha(b"lazy"), load)
    assert calls == []
    assert store.get(sha(b"lazy")) == b"lazy" and store.get(sha(b"lazy")) == b"lazy"
    assert calls == [1]


def test_a_received_file_is_moved_not_copied(tmp_path):
    store = DiskBlobStore(tmp_path / "blobs", threshold=10)
    data = b"x" * 1000
    spooled = tmp_path / "blobs" / "tmp" / "upload-1"
    spooled.write_bytes(data)
    inode = spooled.stat().st_ino
    store.add(Received(sha(data), len(data), path=str(spooled)))
    assert not spooled.exists()
    assert os.stat(store.path(sha(data))).st_ino == inode
    again = tmp_path / "blobs" / "tmp" / "upload-2"
    again.write_bytes(data)
    store.add(Received(sha(data), len(data), path=str(again)))  # already stored: dropped
    assert not again.exists() and store.get(sha(data)) == data


def test_the_memory_store_reads_a_received_file_in(tmp_path):
    store = MemoryBlobStore()
    spooled = tmp_path / "upload"
    spooled.write_bytes(b"spooled")
    store.add(Received(sha(b"spooled"), 7, path=str(spooled)))
    assert store.get(sha(b"spooled")) == b"spooled" and not spooled.exists()


def test_small_blobs_stay_in_memory_unless_durable(tmp_path):
    light = DiskBlobStore(tmp_path / "a", threshold=100)
    light.put(sha(b"tiny"), b"tiny")
    assert not os.path.exists(light.path(sha(b"tiny")))
    durable = DiskBlobStore(tmp_path / "b", durable=True)
    durable.put(sha(b"tiny"), b"tiny")
    assert open(durable.path(sha(b"tiny")), "rb").read() == b"tiny"  # noqa: SIM115
    assert DiskBlobStore(tmp_path / "b", durable=True).get(sha(b"tiny")) == b"tiny"


def test_opening_a_store_removes_what_a_crash_left_half_written(tmp_path):
    DiskBlobStore(tmp_path / "blobs")
    leftover = tmp_path / "blobs" / "tmp" / "blob-half"
    leftover.write_bytes(b"half")
    DiskBlobStore(tmp_path / "blobs")
    assert not leftover.exists()


def test_a_world_replays_with_a_disk_store(tmp_path):
    def session(world: World) -> None:
        world.add_user("fredysa", "s3cret-pass")
        client = world.client("alice")
        client.run("docker login -u fredysa -p s3cret-pass")
        client.run("docker pull alpine:3.21")
        client.run("docker tag alpine:3.21 fredysa/alpine:1.0")
        client.run("docker push fredysa/alpine:1.0")

    world = World.default()
    session(world)
    counter = iter(range(100))
    on_disk = World.replay(
        world.events, blobs=lambda: DiskBlobStore(tmp_path / f"r{next(counter)}", threshold=0)
    )
    assert on_disk.snapshot() == world.snapshot()
    assert isinstance(on_disk.registry().blobs, DiskBlobStore)
    assert on_disk.registry().invariant_errors() == []
