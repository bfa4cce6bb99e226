"""How a client reaches registries: the registry operations it performs, as one protocol.

The engine pulls and pushes through a :class:`Transport`: the OCI distribution operations a
Docker client performs (check, get, mount and push a blob; get and put a manifest; list tags;
the catalog; delete) plus authentication (log in, and restore a recorded login on replay).
Three implementations (go-containerregistry's ``remote``/``transport`` split is the model):

- :class:`~labkit.transport.direct.DirectTransport`: in process, straight to the world's
  :class:`~labkit.registry.Registry` objects (what ``world.client()`` uses);
- :class:`~labkit.transport.recording.RecordingTransport`: the same, and it writes down the HTTP
  exchanges Docker would have had for each operation (what ``%docker --wire`` shows);
- :class:`~labkit.transport.http.HttpTransport`: a real HTTP client (standard library only) for
  ``labkit serve`` and for real registries.

The HTTP API itself (paths, methods, scopes, statuses, the headers of each answer) is defined
once, in :mod:`labkit.transport.routes`; ``labkit serve`` answers by the same table.
"""

from __future__ import annotations

from typing import Protocol

from labkit.accounts import Principal
from labkit.errors import LabkitError
from labkit.registry import StoredManifest

__all__ = ["Transport", "Unreachable"]


class Unreachable(LabkitError):
    """No registry answers at this host (Docker: ``dial tcp: lookup HOST: no such host``)."""

    def __init__(self, host: str) -> None:
        super().__init__(f"no registry at {host}")
        self.host = host


class Transport(Protocol):
    """The registry operations a client performs. ``host`` is the registry's name as
    references write it (``docker.io``, ``localhost:5000``); operations raise
    :class:`~labkit.errors.RegistryError` with the registry's code, or :class:`Unreachable`."""

    def canonical_host(self, host: str) -> str | None:
        """The registry's own name for ``host`` (aliases resolved), or None if unreachable."""
        ...

    def is_open(self, host: str) -> bool:
        """True for a registry that needs no login at all (``registry:2``, ``localhost:5000``)."""
        ...

    def login(self, host: str, username: str, secret: str) -> Principal | None:
        """Check the credentials as ``docker login`` does; who they are, or None if refused."""
        ...

    def restore_login(self, host: str, username: str, token_id: str | None) -> Principal | None:
        """Who a recorded successful login was, for replay (no secret involved), or None."""
        ...

    def check_blob(self, host: str, principal: Principal, path: str, digest: str) -> int: ...

    def get_blob(self, host: str, principal: Principal, path: str, digest: str) -> bytes: ...

    def mount_blob(
        self, host: str, principal: Principal, path: str, digest: str, source: str
    ) -> bool: ...

    def push_blob(
        self, host: str, principal: Principal, path: str, digest: str, data: bytes
    ) -> None: ...

    def get_manifest(
        self, host: str, principal: Principal, path: str, reference: str
    ) -> StoredManifest: ...

    def put_manifest(
        self,
        host: str,
        principal: Principal,
        path: str,
        reference: str,
        data: bytes,
        media_type: str | None = None,
    ) -> str: ...

    def list_tags(
        self,
        host: str,
        principal: Principal,
        path: str,
        n: int | None = None,
        last: str | None = None,
    ) -> list[str]: ...

    def catalog(
        self, host: str, principal: Principal, n: int | None = None, last: str | None = None
    ) -> list[str]: ...

    def delete_manifest(
        self, host: str, principal: Principal, path: str, reference: str
    ) -> None: ...
