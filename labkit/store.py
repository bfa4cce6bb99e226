"""A client's local store: its images, tags, digest references, layers and logins.

Docker's classic image store, in memory: an image's ID is its config's digest; a tag
(``docker.io/library/alpine:3.21``) or a digest reference (``...@sha256:...``) names one
image; layers are kept once by chain ID; the credential store keeps one login per registry
(Docker Hub's under its index URL, as ``config.json`` does).

Everyone reads the store through its query API (:meth:`LocalStore.tags`,
:meth:`LocalStore.find`, :meth:`LocalStore.logins`, :meth:`LocalStore.layer`, ...), which
returns values, never the store's own containers. Only the engine changes it, through the
methods under "changes" below; a check, a lab or a widget never does.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from labkit.accounts import Principal
from labkit.errors import InvalidReference
from labkit.oci import sha256_digest
from labkit.reference import (
    DEFAULT_DOMAIN,
    DOCKER_HUB_INDEX_SERVER,
    Reference,
    login_key,
    parse_reference,
)

__all__ = [
    "Credential",
    "LocalImage",
    "LocalLayer",
    "LocalStore",
    "chain_ids",
    "short_id",
]

HEX = frozenset("0123456789abcdef")


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
        loaded: dict[str, Any] = json.loads(self.config)
        return loaded

    @property
    def created(self) -> datetime:
        return datetime.fromisoformat(self.config_json["created"].replace("Z", "+00:00"))

    @property
    def size(self) -> int:
        return sum(layer.size for layer in self.layers)


@dataclass(frozen=True)
class Credential:
    """One entry of the credential store; the secret lives only in this kernel's memory."""

    username: str
    secret: str = field(repr=False)
    principal: Principal


def registry_of_login(key: str) -> str:
    """The registry host a credential-store key stands for (Docker Hub's index URL -> docker.io)."""
    if key == DOCKER_HUB_INDEX_SERVER:
        return DEFAULT_DOMAIN
    return key.removeprefix("https://").removeprefix("http://").rstrip("/")


def tag_key(ref: Reference) -> str:
    """How the store names a tag: ``docker.io/library/alpine:latest`` (tag implied)."""
    return str(ref.with_default_tag())


def digest_key(ref: Reference, digest: str | None = None) -> str:
    """How the store names a digest reference: ``docker.io/library/alpine@sha256:...``."""
    return f"{ref.domain}/{ref.path}@{digest or ref.digest}"


class LocalStore:
    """One client's images, tags, digest references, layers and credentials."""

    def __init__(self) -> None:
        self._images: dict[str, LocalImage] = {}
        self._tags: dict[str, str] = {}  # "docker.io/library/alpine:latest" -> image id
        self._digests: dict[str, str] = {}  # "docker.io/library/alpine@sha256:..." -> image id
        self._layers: dict[str, LocalLayer] = {}  # chain id -> layer
        # V2 metadata: which repositories (host, path) each layer's blob is known to be in.
        self._sources: dict[str, list[tuple[str, str]]] = {}
        self._credentials: dict[str, Credential] = {}

    def __repr__(self) -> str:
        return f"LocalStore(images={len(self._images)}, tags={len(self._tags)})"

    # -- queries -------------------------------------------------------------------------

    def images(self) -> tuple[LocalImage, ...]:
        """Every image, in the order they arrived."""
        return tuple(self._images.values())

    def image(self, image_id: str) -> LocalImage | None:
        """The image with this full ID (``sha256:...``), or None."""
        return self._images.get(image_id)

    def find(self, text: str) -> LocalImage | None:
        """The image ``text`` names, looked up as Docker's daemon does: a full or short ID,
        ``name[:tag]`` (``latest`` implied) or ``name@digest``; None when nothing matches."""
        candidate = text.removeprefix("sha256:")
        matches: list[str] = []
        if candidate and HEX.issuperset(candidate):
            matches = [i for i in self._images if i[7:].startswith(candidate)]
            if text.startswith("sha256:") and len(matches) == 1:
                return self._images[matches[0]]
        try:
            ref = parse_reference(text)
        except InvalidReference:
            ref = None
        if ref is not None:
            image_id = self.image_id_for(ref)
            if image_id:
                return self._images[image_id]
        if len(matches) == 1:
            return self._images[matches[0]]
        return None

    def image_id_for(self, ref: Reference) -> str | None:
        """The ID of the image a reference names (its digest, else its tag or ``latest``)."""
        if ref.digest:
            return self._digests.get(digest_key(ref))
        return self._tags.get(tag_key(ref))

    def layers_of(self, image_id: str) -> tuple[LocalLayer, ...]:
        """The image's layers, bottom first (none for an unknown ID)."""
        image = self._images.get(image_id)
        return image.layers if image is not None else ()

    def tags(self) -> tuple[str, ...]:
        """Every tag, sorted, in full (``docker.io/library/alpine:3.21``)."""
        return tuple(sorted(self._tags))

    def tagged_images(self) -> dict[str, str]:
        """Every tag, in full, with the ID of the image it names (a copy, sorted by tag)."""
        return dict(sorted(self._tags.items()))

    def digest_refs(self) -> tuple[str, ...]:
        """Every digest reference, sorted (``docker.io/library/alpine@sha256:...``)."""
        return tuple(sorted(self._digests))

    def tags_of(self, image_id: str) -> list[str]:
        """The image's tags, sorted, in full."""
        return sorted(t for t, i in self._tags.items() if i == image_id)

    def digests_of(self, image_id: str) -> list[str]:
        """The image's digest references, sorted, in full."""
        return sorted(d for d, i in self._digests.items() if i == image_id)

    def refs_of(self, image_id: str) -> list[str]:
        """Every tag and digest reference of an image, sorted."""
        return sorted(self.tags_of(image_id) + self.digests_of(image_id))

    def has_tag(self, key: str) -> bool:
        return key in self._tags

    def layer(self, chain_id: str) -> LocalLayer | None:
        """The layer with this chain ID, or None."""
        return self._layers.get(chain_id)

    def layer_ids(self) -> tuple[str, ...]:
        """Every layer's chain ID, in the order they arrived."""
        return tuple(self._layers)

    def layer_sources(self, diff_id: str) -> tuple[tuple[str, str], ...]:
        """The repositories (host, path) a layer is known to be in, oldest first."""
        return tuple(self._sources.get(diff_id, ()))

    def credential(self, host: str) -> Credential | None:
        """The stored login for a registry host (any of Docker Hub's names for Hub), or None."""
        return self._credentials.get(login_key(host))

    def logins(self) -> dict[str, str]:
        """Who is logged in where: ``{registry host: user}``, Docker Hub as ``docker.io``."""
        return {registry_of_login(key): c.username for key, c in sorted(self._credentials.items())}

    def config_json(self) -> str:
        """``~/.docker/config.json`` as Docker writes it: base64 ``user:secret``, not encrypted."""
        auths = {
            key: {"auth": base64.b64encode(f"{c.username}:{c.secret}".encode()).decode()}
            for key, c in sorted(self._credentials.items())
        }
        return json.dumps({"auths": auths}, indent="\t") + "\n"

    def snapshot(self) -> dict[str, Any]:
        """A JSON-able view of the store and who is logged in where (no secrets)."""
        return {
            "images": sorted(self._images),
            "tags": dict(sorted(self._tags.items())),
            "digests": dict(sorted(self._digests.items())),
            "logins": {k: c.username for k, c in sorted(self._credentials.items())},
        }

    def __iter__(self) -> Iterator[LocalImage]:
        return iter(tuple(self._images.values()))

    def __len__(self) -> int:
        return len(self._images)

    # -- changes (the engine's alone) -----------------------------------------------------

    def add_image(self, image: LocalImage) -> None:
        """Keep ``image`` and its layers (a layer already kept stays as it is)."""
        for layer in image.layers:
            self._layers.setdefault(layer.chain_id, layer)
        self._images[image.id] = image

    def set_tag(self, key: str, image_id: str) -> bool:
        """Point the tag ``key`` at an image; True when that changed what it names."""
        changed = self._tags.get(key) != image_id
        self._tags[key] = image_id
        return changed

    def set_digest(self, key: str, image_id: str) -> bool:
        """Point the digest reference ``key`` at an image; True when that is new."""
        changed = self._digests.get(key) != image_id
        self._digests[key] = image_id
        return changed

    def untag(self, key: str) -> None:
        """Forget a tag or digest reference."""
        self._tags.pop(key, None)
        self._digests.pop(key, None)

    def delete_image(self, image_id: str) -> list[str]:
        """Delete an image and the layers no other image uses; their chain IDs, top first."""
        image = self._images.pop(image_id)
        in_use = {layer.chain_id for other in self._images.values() for layer in other.layers}
        deleted = []
        for layer in reversed(image.layers):
            if layer.chain_id not in in_use and layer.chain_id in self._layers:
                del self._layers[layer.chain_id]
                deleted.append(layer.chain_id)
        return deleted

    def remember_source(self, diff_id: str, host: str, path: str) -> None:
        """Note that the layer's blob is in repository ``path`` of ``host`` (newest last)."""
        sources = self._sources.setdefault(diff_id, [])
        if (host, path) in sources:
            sources.remove((host, path))
        sources.append((host, path))

    def set_credential(self, host: str, credential: Credential) -> None:
        self._credentials[login_key(host)] = credential

    def forget_login(self, key: str) -> None:
        """Forget the login kept under this credential-store key (as written in config.json)."""
        self._credentials.pop(key, None)
