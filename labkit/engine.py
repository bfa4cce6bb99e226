"""The daemon side of a Docker-like client: its local store, credentials, and each command.

An :class:`Engine` belongs to a :class:`~labkit.world.World`; :class:`labkit.client.Client`
puts Docker's command line in front of it (``client.run("docker ...")``), and
:mod:`labkit.shell` turns what the engine did into exactly what Docker 28 (classic image
store) prints once the command has finished. Nothing is printed directly.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from labkit.accounts import ANONYMOUS, Principal
from labkit.commandline import CONFIG_DIR
from labkit.errors import InvalidReference, LabkitError, RegistryError
from labkit.oci import (
    INDEX_TYPES,
    MEDIA_TYPE_DOCKER_LAYER,
    MEDIA_TYPE_DOCKER_MANIFEST,
    go_json,
    parse_manifest,
    sha256_digest,
)
from labkit.reference import (
    DEFAULT_DOMAIN,
    DOCKER_HUB_INDEX_SERVER,
    Reference,
    endpoint_for,
    is_docker_hub,
    parse_any_reference,
    parse_reference,
)
from labkit.registry import StoredManifest
from labkit.store import (
    Credential,
    LocalImage,
    LocalLayer,
    LocalStore,
    chain_ids,
    digest_key,
    short_id,
    tag_key,
)
from labkit.transport import Transport
from labkit.transport.direct import DirectTransport

if TYPE_CHECKING:  # type-only: the engine never imports the world at run time
    from labkit.world import World

__all__ = [
    "CommandFailed",
    "Engine",
    "LayerStatus",
    "LocalImage",
    "LoginResult",
    "PullResult",
    "PulledImage",
    "PushResult",
    "PushedTag",
    "daemon_error",
    "no_such_host",
]


class CommandFailed(LabkitError):
    """A command failed: ``text`` goes to stderr as is, then exit ``code``. ``partial`` is
    what the command had done before it failed (a :class:`PullResult` or :class:`PushResult`),
    which Docker shows before the error."""

    def __init__(self, text: str, code: int = 1, partial: object | None = None) -> None:
        super().__init__(text)
        self.text = text
        self.code = code
        self.partial = partial


def daemon_error(message: str) -> CommandFailed:
    """An error the daemon returned before streaming: Docker adds its prefix."""
    return CommandFailed(f"Error response from daemon: {message}")


@dataclass(frozen=True)
class LayerStatus:
    """One layer's final status in a pull or a push: ``layer`` is its digest (the blob's for a
    pull, the diff ID for a push); ``status`` is Docker's word for what happened to it."""

    layer: str
    status: str  # Already exists | Pull complete | Pushed | Layer already exists | Mounted from X


@dataclass(frozen=True)
class PulledImage:
    """One image of a pull: ``label`` is moby's tagOrDigest; ``layers`` are empty when the
    image was already here; ``digest`` is None when the pull failed while downloading."""

    ref: Reference
    label: str
    layers: tuple[LayerStatus, ...] = ()
    digest: str | None = None
    updated: bool = False


@dataclass(frozen=True)
class PullResult:
    """What ``docker pull`` did: every image (one, or each tag with ``-a``)."""

    ref: Reference
    images: tuple[PulledImage, ...]

    @property
    def downloaded(self) -> bool:
        """Whether anything new arrived ("Downloaded newer image" rather than "up to date")."""
        return any(image.updated for image in self.images)


@dataclass(frozen=True)
class PushedTag:
    """One tag of a push: the layers, top first, with their status; the manifest's digest
    and size. A failed push has no digest, and ``pending`` names the layers not reached."""

    tag: str
    layers: tuple[LayerStatus, ...]
    digest: str | None = None
    size: int = 0
    pending: tuple[str, ...] = ()


@dataclass(frozen=True)
class PushResult:
    """What ``docker push`` did: the repository and each tag pushed."""

    repository: str
    tags: tuple[PushedTag, ...]


@dataclass(frozen=True)
class LoginResult:
    """A successful login: whether the credentials were written (Docker then warns that
    they are stored unencrypted, in ``config_path``)."""

    stored: bool
    config_path: str


class Engine:
    """The daemon side of one Docker-like client: its local store and credentials, and the
    commands carried out against the world's registries. :class:`labkit.client.Client` puts
    the command line in front of it."""

    def __init__(self, world: World, name: str, transport: Transport | None = None) -> None:
        self.world = world
        self.name = name
        self.store = LocalStore()
        # How this client reaches registries: in process on the world's, unless given.
        self.transport: Transport = transport or DirectTransport(world.find_registry)
        self.config_dir = CONFIG_DIR
        self._replaying: Mapping[str, Any] | None = None
        self._login_outcome: dict[str, Any] | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, images={len(self.store)})"

    # -- helpers for the commands --------------------------------------------------------

    def principal_for(self, host: str) -> Principal:
        credential = self.store.credential(host)
        return credential.principal if credential else ANONYMOUS

    @contextmanager
    def using(self, transport: Transport) -> Iterator[Transport]:
        """Reach registries through ``transport`` inside the block (``%docker --wire`` records
        one command this way); this client only, the registries are untouched."""
        saved, self.transport = self.transport, transport
        try:
            yield transport
        finally:
            self.transport = saved

    def registry_host(self, domain: str) -> str:
        """The registry's own name for ``domain``, or Docker's error for an unknown host."""
        host = self.transport.canonical_host(domain)
        if host is None:
            raise daemon_error(no_such_host(domain))
        return host

    def find_image(self, text: str) -> LocalImage | None:
        """Look an image up as Docker's daemon does: full or short ID, name[:tag], digest."""
        return self.store.find(text)

    def get_image(self, text: str) -> LocalImage:
        """The daemon's GetImage (moby daemon/images/image.go:161-232 at v28.2.2): the name as
        the client passed it, unparsed, is parsed here first, so a malformed one gets the
        reference error from the daemon ("invalid reference format: ..."), a well-formed
        unknown one "No such image: NAME:latest"."""
        try:
            parse_any_reference(text)
        except InvalidReference as error:
            raise daemon_error(str(error)) from None
        image = self.find_image(text)
        if image is None:
            raise daemon_error(f"No such image: {_no_such(text)}")
        return image

    # -- pull ----------------------------------------------------------------------------

    def pull(self, ref: Reference, *, all_tags: bool) -> PullResult:
        """Pull ``ref`` (already normalized; name only when ``all_tags``)."""
        registry = self.registry_host(ref.domain)
        principal = self.principal_for(ref.domain)
        if all_tags:
            try:
                tags = self.transport.list_tags(registry, principal, ref.path)
            except RegistryError as error:
                raise daemon_error(_pull_error(error, ref)) from None
            targets = [ref.with_tag(tag) for tag in tags]
        else:
            targets = [ref]
        done: list[PulledImage] = []
        for target in targets:
            try:
                done.append(self._pull_one(registry, principal, target, first=not done))
            except CommandFailed as failure:
                partial = [*done, *([failure.partial] if failure.partial else [])]
                raise CommandFailed(
                    failure.text,
                    failure.code,
                    PullResult(ref, tuple(partial)),  # type: ignore[arg-type]  # a pull's partial is a PulledImage
                ) from None
        return PullResult(ref, tuple(done))

    def _pull_one(
        self, registry: str, principal: Principal, ref: Reference, *, first: bool
    ) -> PulledImage:
        reference = ref.digest or ref.tag or "latest"
        try:
            stored = self.transport.get_manifest(registry, principal, ref.path, reference)
            manifest: Any = parse_manifest(stored.data, stored.media_type)
            if stored.media_type in INDEX_TYPES:
                stored, manifest = self._pick_platform(registry, principal, ref, manifest)
            config = self.transport.get_blob(registry, principal, ref.path, manifest.config.digest)
        except RegistryError as error:
            message = _pull_error(error, ref)
            if first:
                raise daemon_error(message) from None
            raise CommandFailed(message) from None
        # moby distribution/pull_v2.go:345-356,387 (v28.2.2): tagOrDigest is the whole
        # reference for a digest ("docker.io/library/alpine@sha256:..."; before 28 the digest
        # alone), the tag otherwise; the client sends no tag with a digest
        label = f"{ref.domain}/{ref.path}@{ref.digest}" if ref.digest else str(ref.tag)
        image_id = sha256_digest(config)
        updated = False
        statuses: list[LayerStatus] = []
        if self.store.image(image_id) is None:
            diff_ids = json.loads(config)["rootfs"]["diff_ids"]
            chains = chain_ids(diff_ids)
            local: list[LocalLayer] = []
            for descriptor, diff_id, chain in zip(manifest.layers, diff_ids, chains, strict=True):
                existing = self.store.layer(chain)
                if existing is not None:
                    local.append(existing)
                    statuses.append(LayerStatus(descriptor.digest, "Already exists"))
                    continue
                blob = self.transport.get_blob(registry, principal, ref.path, descriptor.digest)
                problem = None
                if sha256_digest(blob) != descriptor.digest:
                    problem = f"filesystem layer verification failed for digest {descriptor.digest}"
                else:
                    tar = gzip.decompress(blob)
                    if sha256_digest(tar) != diff_id:
                        problem = f"layer diff ID mismatch for {descriptor.digest}"
                if problem is not None:
                    raise CommandFailed(problem, partial=PulledImage(ref, label))
                local.append(LocalLayer(diff_id, chain, descriptor.digest, blob, len(tar)))
                statuses.append(LayerStatus(descriptor.digest, "Pull complete"))
            self.store.add_image(LocalImage(image_id, config, tuple(local)))
            updated = True
        for layer in self.store.layers_of(image_id):
            self.store.remember_source(layer.diff_id, registry, ref.path)
        new_digest = self.store.set_digest(digest_key(ref, stored.digest), image_id)
        if ref.digest and new_digest:
            updated = True  # moby: a new digest reference counts as an update
        if ref.tag and not ref.digest and self.store.set_tag(tag_key(ref), image_id):
            updated = True
        return PulledImage(ref, label, tuple(statuses), stored.digest, updated)

    def _pick_platform(
        self, registry: str, principal: Principal, ref: Reference, index: Any
    ) -> tuple[StoredManifest, Any]:
        for child in index.manifests:
            if child.platform in (None, "linux/amd64"):
                stored = self.transport.get_manifest(registry, principal, ref.path, child.digest)
                return stored, parse_manifest(stored.data, stored.media_type)
        raise daemon_error("no matching manifest for linux/amd64 in the manifest list entries")

    # -- push ----------------------------------------------------------------------------

    def push(self, ref: Reference, *, all_tags: bool) -> PushResult:
        """Push ``ref`` (tagged, or name only with ``all_tags``) as Docker's classic store does."""
        name = f"{ref.domain}/{ref.path}"
        registry = self.transport.canonical_host(ref.domain)
        associated = [t for t in self.store.tags() if t.rpartition(":")[0] == name]
        if not associated:
            raise CommandFailed(
                f"An image does not exist locally with the tag: {ref.familiar_name}"
            )
        if all_tags:
            tags = [t.rpartition(":")[2] for t in associated]
        else:
            if not self.store.has_tag(f"{name}:{ref.tag}"):
                raise CommandFailed(f"tag does not exist: {ref.familiar}")
            tags = [str(ref.tag)]
        if registry is None:
            raise CommandFailed(no_such_host(ref.domain))
        principal = self.principal_for(ref.domain)
        pushed: set[str] = set()
        done: list[PushedTag] = []
        for tag in tags:
            image = self.store.find(f"{name}:{tag}")
            assert image is not None  # the tag was listed above
            result, error = self._push_image(registry, principal, ref, tag, image, pushed)
            done.append(result)
            if error is not None:
                raise CommandFailed(error, partial=PushResult(name, tuple(done)))
        return PushResult(name, tuple(done))

    def _push_image(
        self,
        registry: str,
        principal: Principal,
        ref: Reference,
        tag: str,
        image: LocalImage,
        pushed: set[str],
    ) -> tuple[PushedTag, str | None]:
        """The tag pushed, or as far as it got and the registry's error."""
        layers = list(reversed(image.layers))  # Docker walks from the top layer down
        statuses: list[LayerStatus] = []
        try:
            for layer in layers:
                state = self._push_layer(registry, principal, ref.path, layer, pushed)
                statuses.append(LayerStatus(layer.diff_id, state))
            config_digest = image.id
            if not self._blob_exists(registry, principal, ref.path, config_digest):
                self.transport.push_blob(registry, principal, ref.path, config_digest, image.config)
            manifest = _schema2_manifest(image)
            digest = self.transport.put_manifest(
                registry, principal, ref.path, tag, manifest, MEDIA_TYPE_DOCKER_MANIFEST
            )
        except RegistryError as error:
            pending = tuple(layer.diff_id for layer in layers[len(statuses) :])
            return PushedTag(tag, tuple(statuses), pending=pending), str(error)
        for layer in image.layers:
            self.store.remember_source(layer.diff_id, registry, ref.path)
        self.store.set_digest(digest_key(ref, digest), image.id)
        return PushedTag(tag, tuple(statuses), digest, len(manifest)), None

    def _push_layer(
        self, registry: str, principal: Principal, path: str, layer: LocalLayer, pushed: set[str]
    ) -> str:
        if layer.blob_digest in pushed:
            return "Layer already exists"
        sources = self.store.layer_sources(layer.diff_id)
        host = registry
        if (host, path) in sources and self._blob_exists(host, principal, path, layer.blob_digest):
            pushed.add(layer.blob_digest)
            return "Layer already exists"
        for source_host, source in reversed(sources):
            if (
                source_host == host
                and source != path
                and self.transport.mount_blob(host, principal, path, layer.blob_digest, source)
            ):
                pushed.add(layer.blob_digest)
                return f"Mounted from {source}"
        self.transport.push_blob(host, principal, path, layer.blob_digest, layer.blob)
        pushed.add(layer.blob_digest)
        return "Pushed"

    # -- tag, rmi --------------------------------------------------------------------------

    def tag(self, source: str, target: Reference) -> None:
        image = self.find_image(source)
        if image is None:
            raise daemon_error(f"No such image: {_no_such(source)}")
        self.store.set_tag(str(target), image.id)

    def remove(self, text: str, *, force: bool) -> list[tuple[str, str]]:
        """``docker rmi``: untag, and delete the image once nothing refers to it. What was
        done, in order: ("Untagged", familiar reference) and ("Deleted", image or layer ID).
        An empty name leaves the client as ``DELETE /images`` (path.Join drops the slash), a
        route the daemon does not have: "page not found", a 404; a blank one is refused by the
        route (moby api/server/router/image/image_routes.go:320-324)."""
        if not text:
            raise daemon_error("page not found")
        if not text.strip():
            raise daemon_error("image name cannot be blank")
        image = self.get_image(text)
        done: list[tuple[str, str]] = []
        by_id = _looks_like_id(text, image.id)
        if by_id:
            refs = self.store.refs_of(image.id)
            if refs and not _is_single_reference(refs) and not force:
                raise daemon_error(
                    f"conflict: unable to delete {short_id(image.id)} (must be forced) - "
                    "image is referenced in multiple repositories"
                )
            for ref in refs:
                done.append(self._untag(ref))
        else:
            parsed = parse_reference(text)
            if parsed.digest:
                done.append(self._untag(f"{parsed.domain}/{parsed.path}@{parsed.digest}"))
            else:
                done.append(self._untag(str(parsed.with_default_tag())))
                name = f"{parsed.domain}/{parsed.path}"
                if not any(t.rpartition(":")[0] == name for t in self.store.tags_of(image.id)):
                    for digest_ref in self.store.digests_of(image.id):
                        if digest_ref.split("@")[0] == name:
                            done.append(self._untag(digest_ref))
        if not self.store.refs_of(image.id):
            deleted = self.store.delete_image(image.id)
            done += [("Deleted", image.id), *(("Deleted", chain) for chain in deleted)]
        return done

    def _untag(self, key: str) -> tuple[str, str]:
        self.store.untag(key)
        return ("Untagged", _familiar(key))

    # -- login, logout ----------------------------------------------------------------------

    def login(self, server: str | None, username: str, secret: str) -> LoginResult:
        """Log in to ``server`` (Docker Hub by default) and store the credentials."""
        host = _server_host(server)
        registry = self.registry_host(host)
        endpoint = endpoint_for(host)
        if self._replaying is not None and not self.transport.is_open(registry):
            principal = self._replayed_login(registry, username)
        else:
            principal = self.transport.login(registry, username, secret)
        if principal is None:
            self._login_outcome = {"registry": registry, "user": username, "ok": False}
            reason = (
                "incorrect username or password"
                if is_docker_hub(host)
                else ("authentication required")
            )
            raise daemon_error(f'Get "https://{endpoint}/v2/": unauthorized: {reason}')
        previous = self.store.credential(host)
        # cli/config/credentials/file_store.go:31-35: an unchanged entry is not written again,
        # so the "stored unencrypted" warning is not repeated
        unchanged = (
            previous is not None and previous.username == username and previous.secret == secret
        )
        if self._replaying is not None:  # the log holds no secrets: what the store did then
            unchanged = not ((self._replaying or {}).get("login") or {}).get("stored", True)
        self.store.set_credential(host, Credential(username, secret, principal))
        self._login_outcome = {
            "registry": registry,
            "user": username,
            "ok": True,
            "token_id": principal.token_id,
            "stored": not unchanged,
        }
        return LoginResult(not unchanged, f"{self.config_dir}/config.json")

    def _replayed_login(self, registry: str, username: str) -> Principal | None:
        recorded = (self._replaying or {}).get("login") or {}
        if not recorded.get("ok") or recorded.get("user") != username:
            return None
        if not self.world.is_replayable_login(registry, username):
            return None
        return self.transport.restore_login(registry, username, recorded.get("token_id"))

    def _blob_exists(self, registry: str, principal: Principal, path: str, digest: str) -> bool:
        try:
            self.transport.check_blob(registry, principal, path, digest)
        except RegistryError:
            return False
        return True

    def stored_credential(self, server: str | None) -> Credential | None:
        """The credentials stored for ``server`` (Docker Hub by default), if any."""
        return self.store.credential(_server_host(server))

    def logout(self, server: str | None) -> str:
        """cli/command/registry/logout.go:38-81: no argument means Docker Hub's entry
        (``https://index.docker.io/v1/``); an argument is named by its host name
        (credentials.ConvertToHostname) and erases only the entries stored under the argument,
        that host name, or ``http://``/``https://`` and the host name, so ``docker logout
        docker.io`` leaves the Docker Hub login in place. The name the entry goes by."""
        if not server:
            self.store.forget_login(DOCKER_HUB_INDEX_SERVER)
            return DOCKER_HUB_INDEX_SERVER
        hostname = server.removeprefix("http://").removeprefix("https://").split("/")[0]
        for key in (server, hostname, f"http://{hostname}", f"https://{hostname}"):
            self.store.forget_login(key)
        return hostname

    def config_json(self) -> str:
        """``~/.docker/config.json`` as Docker writes it: base64 ``user:secret``, not encrypted."""
        return self.store.config_json()

    # -- views -------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """A JSON-able view of the local store and who is logged in where (no secrets)."""
        return self.store.snapshot()


# -- module helpers -------------------------------------------------------------------------


def _server_host(server: str | None) -> str:
    if not server:
        return DEFAULT_DOMAIN
    host = server.removeprefix("https://").removeprefix("http://").split("/")[0]
    return host


def no_such_host(domain: str) -> str:
    """What Docker prints when a registry's host name does not resolve."""
    hostname = domain.rsplit(":", 1)[0] if ":" in domain else domain
    return f'Get "https://{domain}/v2/": dial tcp: lookup {hostname}: no such host'


def _schema2_manifest(image: LocalImage) -> bytes:
    manifest = {
        "schemaVersion": 2,
        "mediaType": MEDIA_TYPE_DOCKER_MANIFEST,
        "config": {
            "mediaType": "application/vnd.docker.container.image.v1+json",
            "size": len(image.config),
            "digest": image.id,
        },
        "layers": [
            {
                "mediaType": MEDIA_TYPE_DOCKER_LAYER,
                "size": len(layer.blob),
                "digest": layer.blob_digest,
            }
            for layer in image.layers
        ],
    }
    return go_json(manifest, indent="   ")


def _pull_error(error: RegistryError, ref: Reference) -> str:
    if error.code == "DENIED" or error.code == "UNAUTHORIZED":
        return (
            f"pull access denied for {ref.familiar_name}, repository does not exist or may "
            f"require 'docker login': {error}"
        )
    if error.code == "MANIFEST_UNKNOWN":
        return f"manifest for {ref.familiar} not found: {error}"
    if error.code == "NAME_UNKNOWN":
        return f"repository {ref.familiar_name} not found: {error}"
    return str(error)


def _familiar(key: str) -> str:
    """FamiliarString of a stored reference key."""
    try:
        return parse_reference(key).familiar
    except InvalidReference:
        return key


def _no_such(text: str) -> str:
    """What "No such image:" shows: the familiar name with ``:latest`` implied."""
    try:
        return parse_reference(text).with_default_tag().familiar
    except InvalidReference:
        return text


def _is_single_reference(refs: list[str]) -> bool:
    """moby's isSingleReference: one repository and at most one tag (digests of it allowed)."""
    if len(refs) <= 1:
        return len(refs) == 1
    tags = [r for r in refs if "@" not in r]
    digest_names = {r.partition("@")[0] for r in refs if "@" in r}
    if len(tags) > 1:
        return False
    single = tags[0].rpartition(":")[0] if tags else refs[0].partition("@")[0]
    return digest_names == {single}


def _looks_like_id(text: str, image_id: str) -> bool:
    candidate = text.removeprefix("sha256:")
    return (
        bool(candidate)
        and image_id[7:].startswith(candidate)
        and all(c in "0123456789abcdef" for c in candidate)
    )
