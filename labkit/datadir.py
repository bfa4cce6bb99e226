"""One registry kept on disk, crash-safe (``labkit serve --data DIR``).

Layout of ``DIR``::

    blobs/sha256/ab/abcdef...   every blob and every manifest's bytes, by digest
    blobs/tmp/                  uploads being received (emptied when the store opens)
    state.json                  a snapshot: accounts (salted hashes), repositories
    journal.jsonl               one line per change since the snapshot

Order of writes, so that a ``kill -9`` at any instant leaves either the old or the new state:
a blob's file is written under a temporary name, fsynced and renamed before the change that
links it is journaled; a journal line is appended and fsynced before the client is answered;
a snapshot is written to ``state.json.tmp``, fsynced and renamed, then the journal emptied.
A journal line is a repository's whole state, so applying it twice changes nothing; a torn
last line (the crash came while writing it) was never answered and is dropped.

The registry's own changes arrive as :meth:`DataDir.repository_changed` (the server calls
it under the world lock after each committed change); everything else in the world (Hub
actions, sign-ups, docker commands in a kernel) through the world's event listeners, which
take a new snapshot.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from labkit.blobstore import DiskBlobStore
from labkit.errors import LabkitError
from labkit.registry import Registry
from labkit.world import Event, World

__all__ = ["DataDir", "open_data_dir"]

FORMAT = 1
COMPACT_AFTER = 1000  # journal lines before a new snapshot


class DataDir:
    """The on-disk home of one registry of a world."""

    def __init__(self, root: str | os.PathLike, world: World, registry: Registry) -> None:
        self.root = Path(root)
        self.world = world
        self.registry = registry
        self.state_path = self.root / "state.json"
        self.journal_path = self.root / "journal.jsonl"
        self._journal: Any = None
        self._lines = 0

    # -- opening -----------------------------------------------------------------------

    def open(self) -> None:
        """Restore what is on disk into the registry (or start an empty folder), then
        compact: a fresh snapshot and an empty journal."""
        self.root.mkdir(parents=True, exist_ok=True)
        self.registry.blobs = DiskBlobStore(self.root / "blobs", durable=True)
        if self.state_path.exists():
            self._restore()
        self.snapshot()
        self.world.listeners.append(self._on_event)

    def _restore(self) -> None:
        try:
            state = json.loads(self.state_path.read_text("utf-8"))
        except (OSError, ValueError) as error:
            raise LabkitError(f"cannot read {self.state_path}: {error}") from None
        if state.get("format") != FORMAT or state.get("registry") != self.registry.host:
            raise LabkitError(
                f"{self.root} holds registry {state.get('registry')!r}, "
                f"not {self.registry.host!r} (or another format)"
            )
        registry = self.registry
        registry.accounts.import_state(state["accounts"])
        kept = set(state["paths"])
        for path in registry.repository_paths():
            if path not in kept:
                registry.import_repository(path, {"exists": False, "staged": []})
        for path, repo in state["repositories"].items():
            registry.import_repository(path, repo)
        for line in self._journal_lines():
            registry.import_repository(line["repo"], line["state"])

    def _journal_lines(self) -> list[dict]:
        if not self.journal_path.exists():
            return []
        lines = []
        with self.journal_path.open("rb") as handle:
            for raw in handle:
                if not raw.endswith(b"\n"):
                    break  # torn by a crash while it was written: never answered
                try:
                    lines.append(json.loads(raw))
                except ValueError:
                    break
        return lines

    # -- writing -----------------------------------------------------------------------

    def snapshot(self) -> None:
        """Write the whole registry (atomically), then empty the journal."""
        registry = self.registry
        repositories = {}
        for path in sorted(set(registry.repository_paths()) | set(registry.staged_paths())):
            if registry.is_pristine_seed(path) and path not in registry.staged_paths():
                continue  # the catalog brings it back as it is
            repositories[path] = self._export(path)
        state = {
            "format": FORMAT,
            "registry": registry.host,
            "accounts": registry.accounts.export_state(),
            "paths": registry.repository_paths(),
            "repositories": repositories,
        }
        _write_atomically(self.state_path, json.dumps(state, sort_keys=True).encode())
        if self._journal is not None:
            self._journal.close()
        self._journal = open(self.journal_path, "wb", buffering=0)  # noqa: SIM115
        os.fsync(self._journal.fileno())
        self._lines = 0

    def repository_changed(self, registry: Registry, path: str) -> None:
        """Journal the repository's new state (durably, before the client hears of it)."""
        line = json.dumps({"repo": path, "state": self._export(path)}, sort_keys=True)
        self._journal.write(line.encode() + b"\n")
        os.fsync(self._journal.fileno())
        self._lines += 1
        if self._lines >= COMPACT_AFTER:
            self.snapshot()

    def _export(self, path: str) -> dict:
        state = self.registry.export_repository(path)
        assert state is not None
        repo = self.registry.repository(path)
        if repo is not None:
            for digest, stored in repo.manifests.items():
                self.registry.blobs.put(digest, stored.data)  # a durable file, once
        return state

    def _on_event(self, event: Event) -> None:
        self.snapshot()

    def close(self) -> None:
        if self._on_event in self.world.listeners:
            self.world.listeners.remove(self._on_event)
        if self._journal is not None:
            self._journal.close()
            self._journal = None


def open_data_dir(root: str | os.PathLike, world: World, registry: Registry) -> DataDir:
    """Keep ``registry`` of ``world`` in ``root`` from now on (restoring what is there)."""
    data = DataDir(root, world, registry)
    data.open()
    return data


def _write_atomically(path: Path, data: bytes) -> None:
    temporary = path.with_name(path.name + ".tmp")
    with open(temporary, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
