"""The Docker-like client: a local image store, credentials, and the daemon's side of each command.

A :class:`Client` belongs to a :class:`~labkit.world.World`. ``client.run("docker ...")`` parses
the line (:mod:`labkit.commandline`), carries it out here against the world's registries, and
returns a :class:`Result` with exactly what Docker 28 (classic image store) prints once the
command has finished: one line per layer with its final status. Nothing is printed directly.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
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
from labkit.reference import Reference, parse_any_reference, parse_reference

if TYPE_CHECKING:
    from labkit.world import Event, World

__all__ = [
    "Client",
    "CommandFailed",
    "LocalImage",
    "Printer",
    "Result",
    "daemon_error",
    "human_duration",
    "human_size",
    "mask_secrets",
]

HUB_LOGIN_KEY = "https://index.docker.io/v1/"
HUB_HOSTS = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})
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


def short_id(digest: str) -> str:
    """stringid.TruncateID: drop the algorithm, keep 12 hex digits."""
    return digest.partition(":")[2][:12] if ":" in digest else digest[:12]


def chain_ids(diff_ids: list[str]) -> list[str]:
    """Layer chain IDs as Docker's layer store computes them."""
    chains: list[str] = []
    for diff_id in diff_ids:
        if not chains:
            chains.append(diff_id)
        else:
            chains.append(sha256_digest(f"{chains[-1]} {diff_id}".encode()))
    return chains


# -- the local image store --------------------------------------------------------------------


@dataclass(frozen=True)
class LocalLayer:
    """A layer in the local store: its uncompressed ID and the blob it came from."""

    diff_id: str
    chain_id: str
    blob_digest: str
    blob: bytes = field(repr=False)
    size: int = 0  # uncompressed size


@dataclass(frozen=True)
class LocalImage:
    """An image in the classic store: its ID is the config digest."""

    id: str
    config: bytes = field(repr=False)
    layers: tuple[LocalLayer, ...]

    @property
    def config_json(self) -> dict[str, Any]:
        return json.loads(self.config)

    @property
    def created(self) -> datetime:
        return datetime.fromisoformat(self.config_json["created"].replace("Z", "+00:00"))

    @property
    def size(self) -> int:
        return sum(layer.size for layer in self.layers)


def _login_key(host: str) -> str:
    return HUB_LOGIN_KEY if host in HUB_HOSTS else host


@dataclass
class Credential:
    """One entry of the credential store; the secret lives only in this kernel's memory."""

    username: str
    secret: str
    principal: Principal


class Client:
    """A Docker-like client with its own local image store and credential store."""

    def __init__(self, world: World, name: str) -> None:
        self.world = world
        self.name = name
        self.images: dict[str, LocalImage] = {}
        self.tags: dict[str, str] = {}  # "docker.io/library/alpine:latest" -> image id
        self.digests: dict[str, str] = {}  # "docker.io/library/alpine@sha256:..." -> image id
        self.layers: dict[str, LocalLayer] = {}  # chain id -> layer
        # V2 metadata: which repository (host, path) each layer's blob is known to be in.
        self.layer_sources: dict[str, list[tuple[str, str]]] = {}
        self.credentials: dict[str, Credential] = {}
        self.config_dir = CONFIG_DIR
        self._replaying: Mapping[str, Any] | None = None
        self._login_outcome: dict[str, Any] | None = None

    def __repr__(self) -> str:
        return f"Client({self.name!r}, images={len(self.images)})"

    # -- running command lines ---------------------------------------------------------

    def run(self, line: str, stdin: str | None = None, *, progress: bool = False) -> Result:
        """Run one ``docker ...`` command line and return what it printed.

        ``stdin`` feeds ``--password-stdin``. ``progress=True`` adds the full progress stream
        (every status of every layer) instead of the final view. The command is recorded in
        the world's event log, with any password masked.
        """
        from labkit.shell import execute

        if not isinstance(line, str) or (stdin is not None and not isinstance(stdin, str)):
            from labkit.errors import LabkitTypeError

            what = "the command line" if not isinstance(line, str) else "stdin"
            raise LabkitTypeError(
                f"{what} must be text, not {type(line if what != 'stdin' else stdin).__name__}",
                "Write the whole command in quotes, such as client.run('docker images'), and "
                "a password for --password-stdin as the second argument.",
            )
        self._login_outcome = None
        result = execute(self, line, stdin, progress=progress)
        if not self.world.replaying or self._replaying is not None:
            outcome: dict[str, Any] = {
                "exit_code": result.exit_code,
                "output": hashlib.sha256(result.output.encode()).hexdigest()[:16],
            }
            if self._login_outcome is not None:
                outcome["login"] = self._login_outcome
            self.world.record(
                "docker", self.name, mask_secrets(line), {"stdin": stdin is not None}, outcome
            )
        return result

    def replay(self, event: Event) -> Result:
        """Run a recorded command again; a login takes its recorded outcome (no secrets)."""
        self._replaying = event.outcome
        try:
            stdin = "" if event.args.get("stdin") else None
            return self.run(event.action, stdin)
        finally:
            self._replaying = None

    # -- helpers for the commands --------------------------------------------------------

    def principal_for(self, host: str) -> Principal:
        credential = self.credentials.get(_login_key(host))
        return credential.principal if credential else ANONYMOUS

    def registry_for(self, ref: Reference):
        """The world's registry for ``ref``, or the error Docker prints for an unknown host."""
        registry = self.world.find_registry(ref.domain)
        if registry is None:
            hostname = ref.domain.rsplit(":", 1)[0] if ":" in ref.domain else ref.domain
            raise daemon_error(
                f'Get "https://{ref.domain}/v2/": dial tcp: lookup {hostname}: no such host'
            )
        return registry

    def find_image(self, text: str) -> LocalImage | None:
        """Look an image up as Docker's daemon does: full or short ID, name[:tag], digest."""
        candidate = text.removeprefix("sha256:")
        if len(candidate) >= 1 and all(c in "0123456789abcdef" for c in candidate):
            matches = [i for i in self.images if i[7:].startswith(candidate)]
            if text.startswith("sha256:") and len(matches) == 1:
                return self.images[matches[0]]
        else:
            matches = []
        try:
            ref = parse_reference(text)
        except InvalidReference:
            ref = None
        if ref is not None:
            if ref.digest:
                image_id = self.digests.get(f"{ref.domain}/{ref.path}@{ref.digest}")
            else:
                image_id = self.tags.get(str(ref.with_default_tag()))
            if image_id:
                return self.images[image_id]
        if len(matches) == 1:
            return self.images[matches[0]]
        return None

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

    def refs_of(self, image_id: str) -> list[str]:
        """Every tag and digest reference of an image, sorted."""
        refs = [r for r, i in self.tags.items() if i == image_id]
        refs += [r for r, i in self.digests.items() if i == image_id]
        return sorted(refs)

    # -- pull ----------------------------------------------------------------------------

    def pull(self, ref: Reference, out: Printer, *, all_tags: bool, progress: bool) -> None:
        """Pull ``ref`` (already normalized; name only when ``all_tags``)."""
        registry = self.registry_for(ref)
        principal = self.principal_for(ref.domain)
        if all_tags:
            try:
                tags = registry.list_tags(principal, ref.path)
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
        self, registry, principal, ref: Reference, out: Printer, progress: bool, first: bool
    ) -> bool:
        reference = ref.digest or ref.tag
        try:
            stored = registry.get_manifest(principal, ref.path, reference)
            manifest = parse_manifest(stored.data, stored.media_type)
            if stored.media_type in INDEX_TYPES:
                stored, manifest = self._pick_platform(registry, principal, ref, manifest)
            config = registry.get_blob(principal, ref.path, manifest.config.digest)
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
        if image_id not in self.images:
            diff_ids = json.loads(config)["rootfs"]["diff_ids"]
            chains = chain_ids(diff_ids)
            local: list[LocalLayer] = []
            statuses: list[tuple[str, str]] = []
            for descriptor, diff_id, chain in zip(manifest.layers, diff_ids, chains, strict=True):
                layer_id = short_id(descriptor.digest)
                existing = self.layers.get(chain)
                if existing is not None:
                    local.append(existing)
                    statuses.append((layer_id, "Already exists"))
                    continue
                blob = registry.get_blob(principal, ref.path, descriptor.digest)
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
            for layer in local:
                self.layers.setdefault(layer.chain_id, layer)
                self._remember_source(layer.diff_id, registry.host, ref.path)
            self.images[image_id] = LocalImage(image_id, config, tuple(local))
            layers_downloaded = True
        else:
            for layer in self.images[image_id].layers:
                self._remember_source(layer.diff_id, registry.host, ref.path)
        out.line(f"Digest: {stored.digest}")
        name = f"{ref.domain}/{ref.path}"
        digest_key = f"{name}@{stored.digest}"
        if ref.digest and self.digests.get(digest_key) != image_id:
            layers_downloaded = True  # moby: a new digest reference counts as an update
        self.digests[digest_key] = image_id
        if ref.tag and not ref.digest:
            key = f"{name}:{ref.tag}"
            if self.tags.get(key) != image_id:
                self.tags[key] = image_id
                layers_downloaded = True
        return layers_downloaded

    def _pick_platform(self, registry, principal, ref, index):
        for child in index.manifests:
            if child.platform in (None, "linux/amd64"):
                stored = registry.get_manifest(principal, ref.path, child.digest)
                return stored, parse_manifest(stored.data, stored.media_type)
        raise daemon_error("no matching manifest for linux/amd64 in the manifest list entries")

    def _remember_source(self, diff_id: str, host: str, path: str) -> None:
        sources = self.layer_sources.setdefault(diff_id, [])
        if (host, path) in sources:
            sources.remove((host, path))
        sources.append((host, path))

    # -- push ----------------------------------------------------------------------------

    def push(self, ref: Reference, out: Printer, *, all_tags: bool, progress: bool) -> None:
        """Push ``ref`` (tagged, or name only with ``all_tags``) as Docker's classic store does."""
        name = f"{ref.domain}/{ref.path}"
        out.line(f"The push refers to repository [{name}]")
        registry = self.world.find_registry(ref.domain)
        associated = sorted(t for t in self.tags if t.rpartition(":")[0] == name)
        if not associated:
            raise CommandFailed(
                f"An image does not exist locally with the tag: {ref.familiar_name}"
            )
        if all_tags:
            tags = [t.rpartition(":")[2] for t in associated]
        else:
            if f"{name}:{ref.tag}" not in self.tags:
                raise CommandFailed(f"tag does not exist: {ref.familiar}")
            tags = [ref.tag]
        if registry is None:
            hostname = ref.domain.rsplit(":", 1)[0]
            raise CommandFailed(
                f'Get "https://{ref.domain}/v2/": dial tcp: lookup {hostname}: no such host'
            )
        principal = self.principal_for(ref.domain)
        pushed: set[str] = set()
        for tag in tags:
            image = self.images[self.tags[f"{name}:{tag}"]]
            self._push_image(registry, principal, ref, tag, image, out, progress, pushed)

    def _push_image(self, registry, principal, ref, tag, image, out, progress, pushed) -> None:
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
            if not _blob_exists(registry, principal, ref.path, config_digest):
                upload = registry.start_upload(principal, ref.path)
                registry.finish_upload(upload, config_digest, image.config)
            manifest = _schema2_manifest(image)
            digest = registry.put_manifest(
                principal, ref.path, tag, manifest, MEDIA_TYPE_DOCKER_MANIFEST
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
            self._remember_source(layer.diff_id, registry.host, ref.path)
        name = f"{ref.domain}/{ref.path}"
        self.digests[f"{name}@{digest}"] = image.id
        out.line(f"{tag}: digest: {digest} size: {len(manifest)}")

    def _push_layer(
        self, registry, principal, path: str, layer: LocalLayer, pushed: set[str]
    ) -> str:
        if layer.blob_digest in pushed:
            return "Layer already exists"
        sources = self.layer_sources.get(layer.diff_id, [])
        host = registry.host
        if (host, path) in sources and _blob_exists(registry, principal, path, layer.blob_digest):
            pushed.add(layer.blob_digest)
            return "Layer already exists"
        for source_host, source in reversed(sources):
            if (
                source_host == host
                and source != path
                and registry.mount_blob(principal, path, layer.blob_digest, source)
            ):
                pushed.add(layer.blob_digest)
                return f"Mounted from {source}"
        upload = registry.start_upload(principal, path)
        registry.finish_upload(upload, layer.blob_digest, layer.blob)
        pushed.add(layer.blob_digest)
        return "Pushed"

    # -- tag, rmi --------------------------------------------------------------------------

    def tag(self, source: str, target: Reference) -> None:
        image = self.find_image(source)
        if image is None:
            raise daemon_error(f"No such image: {_no_such(source)}")
        self.tags[str(target)] = image.id

    def remove(self, text: str, out: Printer, *, force: bool) -> None:
        """``docker rmi``: untag, and delete the image once nothing refers to it."""
        image = self.get_image(text)
        by_id = _looks_like_id(text, image.id)
        if by_id:
            refs = self.refs_of(image.id)
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
                if not any(
                    t.rpartition(":")[0] == name for t, i in self.tags.items() if i == image.id
                ):
                    for digest_ref in [
                        d
                        for d, i in self.digests.items()
                        if i == image.id and d.split("@")[0] == name
                    ]:
                        self._untag(digest_ref, out)
        if not self.refs_of(image.id):
            self._delete(image, out)

    def _untag(self, key: str, out: Printer) -> None:
        self.tags.pop(key, None)
        self.digests.pop(key, None)
        out.line(f"Untagged: {_familiar(key)}")

    def _delete(self, image: LocalImage, out: Printer) -> None:
        del self.images[image.id]
        out.line(f"Deleted: {image.id}")
        in_use = {layer.chain_id for other in self.images.values() for layer in other.layers}
        for layer in reversed(image.layers):
            if layer.chain_id not in in_use and layer.chain_id in self.layers:
                del self.layers[layer.chain_id]
                out.line(f"Deleted: {layer.chain_id}")

    # -- login, logout ----------------------------------------------------------------------

    def login(
        self, server: str | None, username: str, secret: str, out: Printer, *, store: bool = True
    ) -> None:
        """Log in to ``server`` (Docker Hub by default) and store the credentials."""
        host = _server_host(server)
        registry = self.world.find_registry(host)
        if registry is None:
            hostname = host.rsplit(":", 1)[0]
            raise daemon_error(
                f'Get "https://{host}/v2/": dial tcp: lookup {hostname}: no such host'
            )
        endpoint = "registry-1.docker.io" if host in HUB_HOSTS else host
        if registry.profile.open_access:
            principal = Principal(username)
        elif self._replaying is not None:
            principal = self._replayed_login(registry, username)
        else:
            principal = registry.accounts.authenticate(username, secret)
        if principal is None:
            self._login_outcome = {"registry": registry.host, "user": username, "ok": False}
            reason = (
                "incorrect username or password"
                if host in HUB_HOSTS
                else ("authentication required")
            )
            raise daemon_error(f'Get "https://{endpoint}/v2/": unauthorized: {reason}')
        previous = self.credentials.get(_login_key(host))
        # cli/config/credentials/file_store.go:31-35: an unchanged entry is not written again,
        # so the "stored unencrypted" warning is not repeated
        unchanged = (
            previous is not None and previous.username == username and previous.secret == secret
        )
        if self._replaying is not None:  # the log holds no secrets: what the store did then
            unchanged = not ((self._replaying or {}).get("login") or {}).get("stored", True)
        self.credentials[_login_key(host)] = Credential(username, secret, principal)
        self._login_outcome = {
            "registry": registry.host,
            "user": username,
            "ok": True,
            "token_id": principal.token_id,
            "stored": not unchanged,
        }
        if store and not unchanged:
            out.err(UNENCRYPTED_WARNING.format(path=f"{self.config_dir}/config.json"))
        out.line("Login Succeeded")

    def _replayed_login(self, registry, username: str) -> Principal | None:
        recorded = (self._replaying or {}).get("login") or {}
        if not recorded.get("ok") or recorded.get("user") != username:
            return None
        if not self.world.is_replayable_login(registry.host, username):
            return None
        try:
            return registry.accounts.principal_for(username, recorded.get("token_id"))
        except LabkitError:
            return None

    def stored_credential(self, server: str | None) -> Credential | None:
        """The credentials stored for ``server`` (Docker Hub by default), if any."""
        return self.credentials.get(_login_key(_server_host(server)))

    def logout(self, server: str | None, out: Printer) -> None:
        """cli/command/registry/logout.go:38-81: no argument means Docker Hub's entry
        (``https://index.docker.io/v1/``); an argument is named by its host name
        (credentials.ConvertToHostname) and erases only the entries stored under the argument,
        that host name, or ``http://``/``https://`` and the host name, so ``docker logout
        docker.io`` leaves the Docker Hub login in place."""
        if not server:
            self.credentials.pop(HUB_LOGIN_KEY, None)
            out.line(f"Removing login credentials for {HUB_LOGIN_KEY}")
            return
        hostname = server.removeprefix("http://").removeprefix("https://").split("/")[0]
        out.line(f"Removing login credentials for {hostname}")
        for key in (server, hostname, f"http://{hostname}", f"https://{hostname}"):
            self.credentials.pop(key, None)

    def config_json(self) -> str:
        """``~/.docker/config.json`` as Docker writes it: base64 ``user:secret``, not encrypted."""
        auths = {
            key: {"auth": base64.b64encode(f"{c.username}:{c.secret}".encode()).decode()}
            for key, c in sorted(self.credentials.items())
        }
        return json.dumps({"auths": auths}, indent="\t") + "\n"

    # -- views -------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """A JSON-able view of the local store and who is logged in where (no secrets)."""
        return {
            "images": sorted(self.images),
            "tags": dict(sorted(self.tags.items())),
            "digests": dict(sorted(self.digests.items())),
            "logins": {k: c.username for k, c in sorted(self.credentials.items())},
        }


# -- module helpers -------------------------------------------------------------------------


def mask_secrets(line: str) -> str:
    """The command line with the value of ``-p`` / ``--password`` replaced by ``********``."""
    import shlex

    try:
        words = shlex.split(line, comments=True)
    except ValueError:
        return "docker <unreadable command line>"
    masked: list[str] = []
    hide_next = False
    for word in words:
        if hide_next:
            masked.append("********")
            hide_next = False
        elif word in ("-p", "--password"):
            masked.append(word)
            hide_next = True
        elif word.startswith("--password="):
            masked.append("--password=********")
        elif word.startswith("-p") and len(word) > 2 and not word.startswith("--"):
            masked.append("-p********")
        else:
            masked.append(word)
    return shlex.join(masked)


def _server_host(server: str | None) -> str:
    if not server:
        return "docker.io"
    host = server.removeprefix("https://").removeprefix("http://").split("/")[0]
    return host


def _blob_exists(registry, principal, path: str, digest: str) -> bool:
    try:
        registry.check_blob(principal, path, digest)
    except RegistryError:
        return False
    return True


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
