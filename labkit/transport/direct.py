"""The in-process transport: each operation is a call on the world's registry for the host."""

from __future__ import annotations

from collections.abc import Callable

from labkit.accounts import Principal
from labkit.errors import LabkitError
from labkit.registry import DIGEST_PATTERN, Registry, StoredManifest
from labkit.transport import Unreachable

__all__ = ["DirectTransport", "Resolver"]

Resolver = Callable[[str], "Registry | None"]


class DirectTransport:
    """Registry operations carried out in process on the registries ``resolve`` finds
    (``world.find_registry``: a host name or alias -> its registry, or None)."""

    def __init__(self, resolve: Resolver) -> None:
        self.resolve = resolve

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def registry(self, host: str) -> Registry:
        """The registry at ``host``; :class:`Unreachable` when there is none."""
        registry = self.resolve(host)
        if registry is None:
            raise Unreachable(host)
        return registry

    def canonical_host(self, host: str) -> str | None:
        registry = self.resolve(host)
        return registry.host if registry is not None else None

    def is_open(self, host: str) -> bool:
        return self.registry(host).profile.open_access

    # -- authentication -------------------------------------------------------------------

    def login(self, host: str, username: str, secret: str) -> Principal | None:
        registry = self.registry(host)
        if registry.profile.open_access:
            return Principal(username)
        return registry.accounts.authenticate(username, secret)

    def restore_login(self, host: str, username: str, token_id: str | None) -> Principal | None:
        registry = self.registry(host)
        try:
            return registry.accounts.principal_for(username, token_id)
        except LabkitError:
            return None

    # -- blobs ----------------------------------------------------------------------------

    def check_blob(self, host: str, principal: Principal, path: str, digest: str) -> int:
        return self.registry(host).check_blob(principal, path, digest)

    def get_blob(self, host: str, principal: Principal, path: str, digest: str) -> bytes:
        return self.registry(host).get_blob(principal, path, digest)

    def mount_blob(
        self, host: str, principal: Principal, path: str, digest: str, source: str
    ) -> bool:
        return self.registry(host).mount_blob(principal, path, digest, source)

    def push_blob(
        self, host: str, principal: Principal, path: str, digest: str, data: bytes
    ) -> None:
        registry = self.registry(host)
        upload = registry.start_upload(principal, path)
        registry.finish_upload(upload, digest, data)

    # -- manifests and tags ---------------------------------------------------------------

    def get_manifest(
        self, host: str, principal: Principal, path: str, reference: str
    ) -> StoredManifest:
        return self.registry(host).get_manifest(principal, path, reference)

    def put_manifest(
        self,
        host: str,
        principal: Principal,
        path: str,
        reference: str,
        data: bytes,
        media_type: str | None = None,
    ) -> str:
        return self.registry(host).put_manifest(principal, path, reference, data, media_type)

    def list_tags(
        self,
        host: str,
        principal: Principal,
        path: str,
        n: int | None = None,
        last: str | None = None,
    ) -> list[str]:
        return self.registry(host).list_tags(principal, path, n, last)

    def catalog(
        self, host: str, principal: Principal, n: int | None = None, last: str | None = None
    ) -> list[str]:
        return self.registry(host).catalog(principal, n, last)

    def delete_manifest(self, host: str, principal: Principal, path: str, reference: str) -> None:
        registry = self.registry(host)
        if DIGEST_PATTERN.fullmatch(reference):
            registry.delete_manifest(principal, path, reference)
        else:
            registry.delete_tag(principal, path, reference)
