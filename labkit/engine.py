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
    "LocalImage",
    "Printer",
    "Result",
    "daemon_error",
    "human_duration",
    "human_size",
    "no_such_host",
]

MAX_CONCURRENT_UPLOADS = 5
UNENCRYPTED_WARNING = (
    "\nWARNING! Your credentials are stored unencrypted in '{path}'.\n"
    "Configure a credential helper to remove this warning. See\n"
    "https://docs.docker.com/go/credential-store/\n\n"
)


@dataclass(frozen=True)
class Result:
    """What a command printed: stdout, stderr, the exit code, and the pieces in order."""

    stdout: str
    stderr: str
    exit_code: int
    chunks: tuple[tuple[str, str], ...] = ()

    @property
    def ok(self) -> bool:
        return self.exit_code == 0

    @property
    def output(self) -> str:
        """stdout and stderr interleaved as a terminal shows them."""
        return "".join(text for _, text in self.chunks)

    def __str__(self) -> str:
        return self.output


class CommandFailed(LabkitError):
    """A command failed: ``text`` goes to stderr as is, then exit ``code``."""

    def __init__(self, text: str, code: int = 1) -> None:
        super().__init__(text)
        self.text = text
        self.code = code


def daemon_error(message: str) -> CommandFailed:
    """An error the daemon returned before streaming: Docker adds its prefix."""
    return CommandFailed(f"Error response from daemon: {message}")


class Printer:
    """Collects output in the order it is printed."""

    def __init__(self) -> None:
        self.chunks: list[tuple[str, str]] = []

    def out(self, text: str) -> None:
        if text:
            self.chunks.append(("stdout", text))

    def err(self, text: str) -> None:
        if text:
            self.chunks.append(("stderr", text))

    def line(self, text: str = "") -> None:
        self.out(text + "\n")

    def result(self, exit_code: int) -> Result:
        stdout = "".join(t for s, t in self.chunks if s == "stdout")
        stderr = "".join(t for s, t in self.chunks if s == "stderr")
        return Result(stdout, stderr, exit_code, tuple(self.chunks))


# -- formatting like Docker's go-units and tabwriter -------------------------------------------


def human_duration(seconds: float) -> str:
    """go-units HumanDuration: "3 minutes", "About an hour", "2 weeks", ..."""
    whole = int(seconds)
    if whole < 1:
        return "Less than a second"
    if whole == 1:
        return "1 second"
    if whole < 60:
        return f"{whole} seconds"
    minutes = int(seconds / 60)
    if minutes == 1:
        return "About a minute"
    if minutes < 60:
        return f"{minutes} minutes"
    hours = int(seconds / 3600 + 0.5)
    if hours == 1:
        return "About an hour"
    if hours < 48:
        return f"{hours} hours"
    if hours < 24 * 7 * 2:
        return f"{hours // 24} days"
    if hours < 24 * 30 * 2:
        return f"{hours // 24 // 7} weeks"
    if hours < 24 * 365 * 2:
        return f"{hours // 24 // 30} months"
    return f"{int(seconds / 3600) // 24 // 365} years"


def human_size(size: float) -> str:
    """go-units HumanSizeWithPrecision(size, 3): "7.8MB", "12.3kB", "512B"."""
    units = ["B", "kB", "MB", "GB", "TB", "PB"]
    index = 0
    while size >= 1000 and index < len(units) - 1:
        size /= 1000
        index += 1
    return f"{size:.3g}{units[index]}"


def tabulate(rows: list[list[str]]) -> str:
    """Go's tabwriter as Docker's tables use it: minwidth 10, padding 3, last cell unpadded."""
    widths = [0] * (max(map(len, rows)) - 1)
    for row in rows:
        for i, cell in enumerate(row[:-1]):
            widths[i] = max(widths[i], len(cell) + 3, 10)
    lines = []
    for row in rows:
        cells = [cell.ljust(widths[i]) for i, cell in enumerate(row[:-1])]
        lines.append("".join(cells) + row[-1])
    return "\n".join(lines) + "\n"


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

    def pull(self, ref: Reference, out: Printer, *, all_tags: bool, progress: bool) -> None:
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
        downloaded = False
        for target in targets:
            downloaded |= self._pull_one(
                registry, principal, target, out, progress, first=target is targets[0]
            )
        status = "Downloaded newer image for" if downloaded else "Image is up to date for"
        out.line(f"Status: {status} {ref.familiar}")

    def _pull_one(
        self,
        registry: str,
        principal: Principal,
        ref: Reference,
        out: Printer,
        progress: bool,
        first: bool,
    ) -> bool:
        reference = ref.digest or ref.tag
        try:
            stored = self.transport.get_manifest(registry, principal, ref.path, reference)
            manifest = parse_manifest(stored.data, stored.media_type)
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
        label = f"{ref.domain}/{ref.path}@{ref.digest}" if ref.digest else ref.tag
        out.line(f"{label}: Pulling from {ref.path}")
        image_id = sha256_digest(config)
        layers_downloaded = False
        if self.store.image(image_id) is None:
            diff_ids = json.loads(config)["rootfs"]["diff_ids"]
            chains = chain_ids(diff_ids)
            local: list[LocalLayer] = []
            statuses: list[tuple[str, str]] = []
            for descriptor, diff_id, chain in zip(manifest.layers, diff_ids, chains, strict=True):
                layer_id = short_id(descriptor.digest)
                existing = self.store.layer(chain)
                if existing is not None:
                    local.append(existing)
                    statuses.append((layer_id, "Already exists"))
                    continue
                blob = self.transport.get_blob(registry, principal, ref.path, descriptor.digest)
                if sha256_digest(blob) != descriptor.digest:
                    raise CommandFailed(
                        f"filesystem layer verification failed for digest {descriptor.digest}"
                    )
                tar = gzip.decompress(blob)
                if sha256_digest(tar) != diff_id:
                    raise CommandFailed(f"layer diff ID mismatch for {descriptor.digest}")
                local.append(LocalLayer(diff_id, chain, descriptor.digest, blob, len(tar)))
                statuses.append((layer_id, "Pull complete"))
            if progress:
                _pull_progress(out, statuses)
            else:
                for layer_id, status in statuses:
                    out.line(f"{layer_id}: {status}")
            self.store.add_image(LocalImage(image_id, config, tuple(local)))
            layers_downloaded = True
        for layer in self.store.layers_of(image_id):
            self.store.remember_source(layer.diff_id, registry, ref.path)
        out.line(f"Digest: {stored.digest}")
        new_digest = self.store.set_digest(digest_key(ref, stored.digest), image_id)
        if ref.digest and new_digest:
            layers_downloaded = True  # moby: a new digest reference counts as an update
        if ref.tag and not ref.digest and self.store.set_tag(tag_key(ref), image_id):
            layers_downloaded = True
        return layers_downloaded

    def _pick_platform(
        self, registry: str, principal: Principal, ref: Reference, index: Any
    ) -> tuple[StoredManifest, Any]:
        for child in index.manifests:
            if child.platform in (None, "linux/amd64"):
                stored = self.transport.get_manifest(registry, principal, ref.path, child.digest)
                return stored, parse_manifest(stored.data, stored.media_type)
        raise daemon_error("no matching manifest for linux/amd64 in the manifest list entries")

    # -- push ----------------------------------------------------------------------------

    def push(self, ref: Reference, out: Printer, *, all_tags: bool, progress: bool) -> None:
        """Push ``ref`` (tagged, or name only with ``all_tags``) as Docker's classic store does."""
        name = f"{ref.domain}/{ref.path}"
        out.line(f"The push refers to repository [{name}]")
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
            tags = [ref.tag]
        if registry is None:
            raise CommandFailed(no_such_host(ref.domain))
        principal = self.principal_for(ref.domain)
        pushed: set[str] = set()
        for tag in tags:
            image = self.store.find(f"{name}:{tag}")
            assert image is not None  # the tag was listed above
            self._push_image(registry, principal, ref, tag, image, out, progress, pushed)

    def _push_image(
        self,
        registry: str,
        principal: Principal,
        ref: Reference,
        tag: str,
        image: LocalImage,
        out: Printer,
        progress: bool,
        pushed: set[str],
    ) -> None:
        layers = list(reversed(image.layers))  # Docker walks from the top layer down
        statuses: list[tuple[str, str]] = []
        try:
            for layer in layers:
                statuses.append(
                    (
                        short_id(layer.diff_id),
                        self._push_layer(registry, principal, ref.path, layer, pushed),
                    )
                )
            config_digest = image.id
            if not self._blob_exists(registry, principal, ref.path, config_digest):
                self.transport.push_blob(registry, principal, ref.path, config_digest, image.config)
            manifest = _schema2_manifest(image)
            digest = self.transport.put_manifest(
                registry, principal, ref.path, tag, manifest, MEDIA_TYPE_DOCKER_MANIFEST
            )
        except RegistryError as error:
            done = len(statuses)
            for index, layer in enumerate(layers):
                if index < done:
                    state = statuses[index][1]
                else:
                    state = "Preparing" if index < MAX_CONCURRENT_UPLOADS else "Waiting"
                out.line(f"{short_id(layer.diff_id)}: {state}")
            raise CommandFailed(str(error)) from None
        if progress:
            _push_progress(out, statuses)
        else:
            for layer_id, state in statuses:
                out.line(f"{layer_id}: {state}")
        for layer in image.layers:
            self.store.remember_source(layer.diff_id, registry, ref.path)
        self.store.set_digest(digest_key(ref, digest), image.id)
        out.line(f"{tag}: digest: {digest} size: {len(manifest)}")

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

    def remove(self, text: str, out: Printer, *, force: bool) -> None:
        """``docker rmi``: untag, and delete the image once nothing refers to it."""
        image = self.get_image(text)
        by_id = _looks_like_id(text, image.id)
        if by_id:
            refs = self.store.refs_of(image.id)
            if refs and not _is_single_reference(refs) and not force:
                raise daemon_error(
                    f"conflict: unable to delete {short_id(image.id)} (must be forced) - "
                    "image is referenced in multiple repositories"
                )
            for ref in refs:
                self._untag(ref, out)
        else:
            ref = parse_reference(text)
            if ref.digest:
                key = f"{ref.domain}/{ref.path}@{ref.digest}"
                self._untag(key, out)
            else:
                key = str(ref.with_default_tag())
                self._untag(key, out)
                name = f"{ref.domain}/{ref.path}"
                if not any(t.rpartition(":")[0] == name for t in self.store.tags_of(image.id)):
                    for digest_ref in self.store.digests_of(image.id):
                        if digest_ref.split("@")[0] == name:
                            self._untag(digest_ref, out)
        if not self.store.refs_of(image.id):
            self._delete(image, out)

    def _untag(self, key: str, out: Printer) -> None:
        self.store.untag(key)
        out.line(f"Untagged: {_familiar(key)}")

    def _delete(self, image: LocalImage, out: Printer) -> None:
        deleted = self.store.delete_image(image.id)
        out.line(f"Deleted: {image.id}")
        for chain_id in deleted:
            out.line(f"Deleted: {chain_id}")

    # -- login, logout ----------------------------------------------------------------------

    def login(
        self, server: str | None, username: str, secret: str, out: Printer, *, store: bool = True
    ) -> None:
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
        if store and not unchanged:
            out.err(UNENCRYPTED_WARNING.format(path=f"{self.config_dir}/config.json"))
        out.line("Login Succeeded")

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

    def logout(self, server: str | None, out: Printer) -> None:
        """cli/command/registry/logout.go:38-81: no argument means Docker Hub's entry
        (``https://index.docker.io/v1/``); an argument is named by its host name
        (credentials.ConvertToHostname) and erases only the entries stored under the argument,
        that host name, or ``http://``/``https://`` and the host name, so ``docker logout
        docker.io`` leaves the Docker Hub login in place."""
        if not server:
            self.store.forget_login(DOCKER_HUB_INDEX_SERVER)
            out.line(f"Removing login credentials for {DOCKER_HUB_INDEX_SERVER}")
            return
        hostname = server.removeprefix("http://").removeprefix("https://").split("/")[0]
        out.line(f"Removing login credentials for {hostname}")
        for key in (server, hostname, f"http://{hostname}", f"https://{hostname}"):
            self.store.forget_login(key)

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


def _pull_progress(out: Printer, statuses: list[tuple[str, str]]) -> None:
    for layer_id, status in statuses:
        if status == "Already exists":
            out.line(f"{layer_id}: Already exists")
        else:
            out.line(f"{layer_id}: Pulling fs layer")
    for layer_id, status in statuses:
        if status != "Already exists":
            for step in ("Verifying Checksum", "Download complete", "Extracting", "Pull complete"):
                out.line(f"{layer_id}: {step}")


def _push_progress(out: Printer, statuses: list[tuple[str, str]]) -> None:
    for index, (layer_id, _) in enumerate(statuses):
        out.line(f"{layer_id}: Preparing")
        if index >= MAX_CONCURRENT_UPLOADS:
            out.line(f"{layer_id}: Waiting")
    for layer_id, state in statuses:
        if state == "Pushed":
            out.line(f"{layer_id}: Pushing")
        out.line(f"{layer_id}: {state}")


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
