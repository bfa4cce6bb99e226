"""Where a registry keeps blob bytes: content-addressed, pluggable.

:class:`MemoryBlobStore` (the default) keeps bytes in a dict and uses no threads and no files,
so the labs run anywhere, Pyodide included. :class:`DiskBlobStore` keeps blobs above a size
threshold as files under ``ROOT/sha256/ab/abcdef...`` (written to a temporary name, flushed
and renamed, so a file under its digest is always whole) and the small ones in memory, unless
``durable`` asks for every blob on disk (``labkit serve --data``).

Both serve :class:`BlobSource` readers that read a range at a time, so a server streams a blob
without copying it whole; a blob's bytes never change once stored (content addressing), so a
reader needs no lock while it reads.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass

__all__ = [
    "BlobSource",
    "BlobStore",
    "DiskBlobStore",
    "MemoryBlobStore",
    "Received",
]

Loader = Callable[[], bytes]


@dataclass(frozen=True)
class Received:
    """Bytes a server has received and hashed, ready to be committed under their digest:
    either in memory (``data``) or in a temporary file (``path``) the store may move."""

    digest: str  # "sha256:..." of the bytes, computed as they arrived
    size: int
    data: bytes | None = None
    path: str | None = None
    synced: bool = False  # the file is already fsynced (done outside any lock)

    @classmethod
    def of(cls, data: bytes) -> Received:
        return cls("sha256:" + hashlib.sha256(data).hexdigest(), len(data), data=bytes(data))


class BlobSource:
    """A stored blob opened for reading: ``size`` and ``read(offset, length)``."""

    size: int

    def read(self, offset: int, length: int) -> bytes:
        raise NotImplementedError

    def close(self) -> None:
        """Release what the reader holds (a file descriptor)."""


class _BytesSource(BlobSource):
    def __init__(self, data: bytes) -> None:
        self._data = data
        self.size = len(data)

    def read(self, offset: int, length: int) -> bytes:
        return self._data[offset : offset + length]


class _FileSource(BlobSource):
    def __init__(self, path: str) -> None:
        self._fd = os.open(path, os.O_RDONLY)
        self.size = os.fstat(self._fd).st_size

    def read(self, offset: int, length: int) -> bytes:
        return os.pread(self._fd, length, offset)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __del__(self) -> None:
        self.close()


class BlobStore:
    """Blob bytes by digest. Subclasses keep them somewhere; the registry decides what is
    linked where. ``put`` keeps the first copy of a digest (content addressing)."""

    def __contains__(self, digest: object) -> bool:
        raise NotImplementedError

    def digests(self) -> set[str]:
        raise NotImplementedError

    def put(self, digest: str, data: bytes | Loader) -> None:
        """Store ``data`` (or a loader called on first use) under ``digest``."""
        raise NotImplementedError

    def add(self, received: Received) -> None:
        """Commit bytes a server received (moving its temporary file where it can)."""
        raise NotImplementedError

    def open(self, digest: str) -> BlobSource:
        raise NotImplementedError

    def discard(self, received: Received) -> None:
        """Drop received bytes that will not be stored (their temporary file goes)."""
        _discard(received)

    def get(self, digest: str) -> bytes:
        """The whole blob (for the in-process engine; servers stream with :meth:`open`)."""
        source = self.open(digest)
        try:
            return source.read(0, source.size)
        finally:
            source.close()

    def size(self, digest: str) -> int:
        source = self.open(digest)
        try:
            return source.size
        finally:
            source.close()


class MemoryBlobStore(BlobStore):
    """Every blob in memory (the default; no threads, no files)."""

    def __init__(self) -> None:
        self._blobs: dict[str, bytes | Loader] = {}

    def __contains__(self, digest: object) -> bool:
        return digest in self._blobs

    def digests(self) -> set[str]:
        return set(self._blobs)

    def put(self, digest: str, data: bytes | Loader) -> None:
        self._blobs.setdefault(digest, data if callable(data) else bytes(data))

    def add(self, received: Received) -> None:
        if received.digest in self._blobs:
            _discard(received)
            return
        if received.data is not None:
            data = received.data
        else:
            assert received.path is not None
            with open(received.path, "rb") as handle:
                data = handle.read()
            _discard(received)
        self._blobs[received.digest] = data

    def _bytes(self, digest: str) -> bytes:
        value = self._blobs[digest]
        if callable(value):
            value = self._blobs[digest] = value()
        return value

    def open(self, digest: str) -> BlobSource:
        return _BytesSource(self._bytes(digest))

    def get(self, digest: str) -> bytes:
        return self._bytes(digest)

    def size(self, digest: str) -> int:
        return len(self._bytes(digest))


class DiskBlobStore(MemoryBlobStore):
    """Blobs over ``threshold`` bytes (every blob when ``durable``) as files under ``root``.

    A file is written under a temporary name in ``root/tmp``, flushed (and fsynced when
    ``durable``) and renamed to ``root/sha256/ab/<hex>``; so a file named by a digest is
    whole, and a crash leaves at most a temporary file, removed when the store opens again.
    Loaders (the catalog's seeded images) stay in memory.
    """

    def __init__(self, root: str | os.PathLike, threshold: int = 1 << 20, durable: bool = False):
        super().__init__()
        self.root = os.fspath(root)
        self.threshold = 0 if durable else threshold
        self.durable = durable
        self.tmp = os.path.join(self.root, "tmp")
        os.makedirs(self.tmp, exist_ok=True)
        for name in os.listdir(self.tmp):  # what a crash left half-written
            os.unlink(os.path.join(self.tmp, name))

    def path(self, digest: str) -> str:
        algorithm, _, hexdigest = digest.partition(":")
        return os.path.join(self.root, algorithm, hexdigest[:2], hexdigest)

    def __contains__(self, digest: object) -> bool:
        return super().__contains__(digest) or (
            isinstance(digest, str) and ":" in digest and os.path.exists(self.path(digest))
        )

    def digests(self) -> set[str]:
        found = set(self._blobs)
        top = os.path.join(self.root, "sha256")
        if os.path.isdir(top):
            for prefix in os.listdir(top):
                found.update(f"sha256:{name}" for name in os.listdir(os.path.join(top, prefix)))
        return found

    def put(self, digest: str, data: bytes | Loader) -> None:
        if digest in self:
            return
        if callable(data) or len(data) <= self.threshold:
            super().put(digest, data)
            return
        self.add(Received(digest, len(data), data=bytes(data)))

    def add(self, received: Received) -> None:
        if received.digest in self:
            _discard(received)
            return
        if received.size <= self.threshold and not self.durable:
            super().add(received)
            return
        final = self.path(received.digest)
        self._folder_for(final)
        if received.path is not None:
            source = received.path
            if self.durable and not received.synced:
                _fsync_file(source)
        else:
            fd, source = _temporary(self.tmp)
            with os.fdopen(fd, "wb") as handle:
                handle.write(received.data or b"")
                handle.flush()
                if self.durable:
                    os.fsync(handle.fileno())
        os.replace(source, final)
        if self.durable:
            _fsync_dir(os.path.dirname(final))

    def _folder_for(self, final: str) -> None:
        """Create the folders of ``final``; when durable, their entries are fsynced too."""
        folder = os.path.dirname(final)
        if os.path.isdir(folder):
            return
        parent = os.path.dirname(folder)
        os.makedirs(folder, exist_ok=True)
        if self.durable:
            _fsync_dir(parent)
            _fsync_dir(os.path.dirname(parent))

    def open(self, digest: str) -> BlobSource:
        if super().__contains__(digest):
            return super().open(digest)
        return _FileSource(self.path(digest))

    def get(self, digest: str) -> bytes:
        if super().__contains__(digest):
            return super().get(digest)
        with open(self.path(digest), "rb") as handle:
            return handle.read()

    def size(self, digest: str) -> int:
        if super().__contains__(digest):
            return super().size(digest)
        return os.stat(self.path(digest)).st_size


def _temporary(folder: str) -> tuple[int, str]:
    return tempfile.mkstemp(dir=folder, prefix="blob-")


def _discard(received: Received) -> None:
    if received.path is not None:
        try:
            os.unlink(received.path)
        except FileNotFoundError:
            pass


def _fsync_file(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
