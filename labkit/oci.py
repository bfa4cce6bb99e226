"""Image content: digests, layers (real tar + gzip bytes), image configs and manifests.

Everything here is honest bytes: a digest is the sha256 of exactly the bytes stored, a
manifest's size is its byte length. Bytes are the same on every machine and every Python
>= 3.11: the tar archives and gzip members are written by hand (no dependency on the zlib
build or on ``tarfile``'s defaults), and JSON is written by :func:`go_json`, which lays it
out like Go's ``encoding/json`` (Docker's key order, Docker's 3-space indent for schema2
manifests). Bytes are generated lazily, when something first needs them, and then kept.

Choices made here (Docker has no single answer for synthetic content):
- tar entries are USTAR, uid/gid 0, uname/gname ``root``, mtime :data:`EPOCH`
  (2024-01-01T00:00:00Z), names sorted with parents before children; directories are
  0o755, regular files 0o644 except under ``bin``, ``sbin``, ``usr/bin``, ``usr/sbin`` and
  ``usr/local/bin`` (0o755). No record padding after the two zero blocks (like Go's
  ``archive/tar``).
- gzip members use stored (uncompressed) deflate blocks, mtime 0, XFL 0, OS byte 255.
- The image config follows what BuildKit writes for official images (see ImageConfig);
  the history line of a CMD is BuildKit's ``fmt.Sprintf("CMD %q", args)``.

This module is long because the image formats (descriptors, manifests, indexes, configs, tar
layers) depend on each other and on Go's JSON encoding.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import struct
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from functools import cached_property
from typing import Any

from labkit.errors import RegistryError

__all__ = [
    "DEFAULT_CREATED",
    "DEFAULT_ENV",
    "EPOCH",
    "MEDIA_TYPE_DOCKER_CONFIG",
    "MEDIA_TYPE_DOCKER_FOREIGN_LAYER",
    "MEDIA_TYPE_DOCKER_LAYER",
    "MEDIA_TYPE_DOCKER_LAYER_TAR",
    "MEDIA_TYPE_DOCKER_MANIFEST",
    "MEDIA_TYPE_DOCKER_MANIFEST_LIST",
    "MEDIA_TYPE_OCI_CONFIG",
    "MEDIA_TYPE_OCI_EMPTY",
    "MEDIA_TYPE_OCI_INDEX",
    "MEDIA_TYPE_OCI_LAYER",
    "MEDIA_TYPE_OCI_LAYER_GZIP",
    "MEDIA_TYPE_OCI_LAYER_ZSTD",
    "MEDIA_TYPE_OCI_MANIFEST",
    "Descriptor",
    "HistoryEntry",
    "Image",
    "ImageConfig",
    "Layer",
    "Manifest",
    "ManifestIndex",
    "filler_text",
    "go_json",
    "gzip_member",
    "image_from_layers",
    "is_valid_digest",
    "layer_from_spec",
    "make_image",
    "parse_manifest",
    "sha256_digest",
    "synthetic_layer",
    "tar_archive",
]

# Media types: docker/distribution manifest/schema2 and manifest/manifestlist;
# opencontainers/image-spec media-types.md.
MEDIA_TYPE_DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
MEDIA_TYPE_DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
MEDIA_TYPE_DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
MEDIA_TYPE_DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
MEDIA_TYPE_DOCKER_LAYER_TAR = "application/vnd.docker.image.rootfs.diff.tar"
MEDIA_TYPE_DOCKER_FOREIGN_LAYER = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
MEDIA_TYPE_OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MEDIA_TYPE_OCI_INDEX = "application/vnd.oci.image.index.v1+json"
MEDIA_TYPE_OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
MEDIA_TYPE_OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
MEDIA_TYPE_OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
MEDIA_TYPE_OCI_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"
MEDIA_TYPE_OCI_EMPTY = "application/vnd.oci.empty.v1+json"

IMAGE_MANIFEST_TYPES = frozenset({MEDIA_TYPE_DOCKER_MANIFEST, MEDIA_TYPE_OCI_MANIFEST})
INDEX_TYPES = frozenset({MEDIA_TYPE_DOCKER_MANIFEST_LIST, MEDIA_TYPE_OCI_INDEX})

EPOCH = 1704067200  # 2024-01-01T00:00:00Z: mtime of every synthetic tar entry
DEFAULT_CREATED = "2024-01-01T00:00:00Z"
DEFAULT_ENV = ("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",)
MANIFEST_INDENT = "   "  # schema2.Manifest MarshalIndent(&m, "", "   ")

_DIGEST_RE = re.compile(r"sha256:[0-9a-f]{64}")


# ----------------------------------------------------------------------------------------
# Digests and JSON


def sha256_digest(data: bytes) -> str:
    """``sha256:<64 lowercase hex>`` of ``data`` (go-digest's ``FromBytes``)."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def is_valid_digest(digest: object) -> bool:
    """True for a sha256 digest string: ``sha256:`` and 64 lowercase hex digits."""
    return isinstance(digest, str) and _DIGEST_RE.fullmatch(digest) is not None


# Characters Go's encoding/json escapes inside strings (with HTML escaping, its default).
_GO_ESCAPE_RE = re.compile('[\\x00-\\x1f"\\\\<>&\u2028\u2029\ud800-\udfff]')
_GO_SHORT_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n"}
_GO_SHORT_ESCAPES.update({"\r": "\\r", "\t": "\\t"})


def _go_escape(match: re.Match[str]) -> str:
    char = match.group()
    short = _GO_SHORT_ESCAPES.get(char)
    if short is not None:
        return short
    if "\ud800" <= char <= "\udfff":  # a lone surrogate: invalid UTF-8 for Go
        return "\\ufffd"
    return f"\\u{ord(char):04x}"


def _go_string(text: str) -> str:
    return '"' + _GO_ESCAPE_RE.sub(_go_escape, text) + '"'


def _go_float(value: float) -> str:
    """Go's float64 encoding: shortest digits, 'f' form unless tiny or huge, then 'e'."""
    if math.isnan(value) or math.isinf(value):
        raise ValueError(f"json: unsupported value: {value!r}")
    magnitude = abs(value)
    if magnitude != 0 and (magnitude < 1e-6 or magnitude >= 1e21):
        text = f"{Decimal(repr(value)):e}" if "e" not in repr(value) else repr(value)
        mantissa, exponent = text.split("e")
        if "." in mantissa:
            mantissa = mantissa.rstrip("0").rstrip(".")
        sign = "-" if exponent.startswith("-") else "+"
        return f"{mantissa}e{sign}{int(exponent.lstrip('+-')):02d}".replace("e-0", "e-")
    text = format(Decimal(repr(value)), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "-0" if text == "-0" else text


def _go_encode(obj: Any, indent: str | None, depth: int, out: list[str]) -> None:
    if obj is None:
        out.append("null")
    elif obj is True:
        out.append("true")
    elif obj is False:
        out.append("false")
    elif isinstance(obj, int):
        out.append(str(int(obj)))
    elif isinstance(obj, float):
        out.append(_go_float(obj))
    elif isinstance(obj, str):
        out.append(_go_string(obj))
    elif isinstance(obj, Mapping):
        if not obj:
            out.append("{}")
            return
        out.append("{")
        for position, (key, value) in enumerate(obj.items()):
            if not isinstance(key, str):
                raise TypeError(f"json: object keys must be str, not {type(key).__name__}")
            if position:
                out.append(",")
            if indent is not None:
                out.append("\n" + indent * (depth + 1))
            out.append(_go_string(key))
            out.append(":" if indent is None else ": ")
            _go_encode(value, indent, depth + 1, out)
        if indent is not None:
            out.append("\n" + indent * depth)
        out.append("}")
    elif isinstance(obj, list | tuple):
        if not obj:
            out.append("[]")
            return
        out.append("[")
        for position, value in enumerate(obj):
            if position:
                out.append(",")
            if indent is not None:
                out.append("\n" + indent * (depth + 1))
            _go_encode(value, indent, depth + 1, out)
        if indent is not None:
            out.append("\n" + indent * depth)
        out.append("]")
    else:
        raise TypeError(f"json: unsupported type: {type(obj).__name__}")


def go_json(obj: Any, indent: str | None = None) -> bytes:
    """Serialize ``obj`` as Go's ``json.Marshal`` (or ``json.MarshalIndent(v, "", indent)``).

    Dict keys keep the order given (a Go struct's field order; sort them yourself where Go
    marshals a map). Compact output has no spaces; indented output puts ``"key": value`` one
    per line, with ``[]`` and ``{}`` for empty containers. Strings escape ``<``, ``>``, ``&``,
    U+2028 and U+2029 as ``\\u003c``..., control characters like Go >= 1.22, and keep other
    non-ASCII text as UTF-8. No trailing newline. Supports dict, list, tuple, str, int,
    float, bool and None.
    """
    out: list[str] = []
    _go_encode(obj, indent, 0, out)
    return "".join(out).encode("utf-8")


# ----------------------------------------------------------------------------------------
# tar and gzip, written by hand so that the bytes never change

_EXECUTABLE_DIRS = ("bin", "sbin", "usr/bin", "usr/sbin", "usr/local/bin")


def _octal(value: int, width: int) -> bytes:
    """A USTAR numeric field: zero-padded octal digits and a NUL, ``width`` bytes in all."""
    digits = f"{value:o}"
    if len(digits) > width - 1:
        raise ValueError(f"tar: {value} does not fit in a {width}-byte field")
    return digits.rjust(width - 1, "0").encode("ascii") + b"\0"


def _split_name(name: str) -> tuple[bytes, bytes]:
    """USTAR's (name, prefix) for a path up to 255 bytes."""
    raw = name.encode("utf-8")
    if len(raw) <= 100:
        return raw, b""
    for cut in range(len(raw) - 1, 0, -1):
        if raw[cut : cut + 1] == b"/" and len(raw) - cut - 1 <= 100 and cut <= 155:
            return raw[cut + 1 :], raw[:cut]
    raise ValueError(f"tar: path too long for USTAR: {name!r}")


def _tar_header(name: str, size: int, mode: int, typeflag: bytes, mtime: int) -> bytes:
    short_name, prefix = _split_name(name)
    header = b"".join(
        [
            short_name.ljust(100, b"\0"),
            _octal(mode, 8),
            _octal(0, 8),  # uid
            _octal(0, 8),  # gid
            _octal(size, 12),
            _octal(mtime, 12),
            b" " * 8,  # checksum placeholder
            typeflag,
            b"\0" * 100,  # linkname
            b"ustar\x0000",
            b"root".ljust(32, b"\0"),
            b"root".ljust(32, b"\0"),
            b"\0" * 16,  # devmajor, devminor: empty, as tarfile writes them for non-devices
            prefix.ljust(155, b"\0"),
            b"\0" * 12,
        ]
    )
    checksum = f"{sum(header):06o}".encode("ascii") + b"\0 "
    return header[:148] + checksum + header[156:]


def _clean_path(path: str) -> str:
    cleaned = path.strip("/")
    parts = cleaned.split("/")
    if not cleaned or any(part in ("", ".", "..") for part in parts):
        raise ValueError(f"tar: invalid path {path!r}")
    return cleaned


def tar_archive(files: Iterable[tuple[str, bytes]], mtime: int = EPOCH) -> bytes:
    """A deterministic USTAR archive of ``(path, content)`` pairs.

    Parent directories are added automatically (a path ending in ``/`` adds an empty
    directory). Entries are sorted by path, so parents come before children; directory
    names end in ``/``. The archive ends with two zero blocks and no record padding.
    """
    directories: set[str] = set()
    regular: dict[str, bytes] = {}
    for path, content in files:
        cleaned = _clean_path(path)
        parts = cleaned.split("/")
        for end in range(1, len(parts)):
            directories.add("/".join(parts[:end]))
        if path.endswith("/"):
            directories.add(cleaned)
        else:
            if cleaned in regular:
                raise ValueError(f"tar: duplicate path {cleaned!r}")
            regular[cleaned] = bytes(content)
    clash = directories & regular.keys()
    if clash:
        raise ValueError(f"tar: path is both a file and a directory: {sorted(clash)[0]!r}")
    entries: list[tuple[str, bytes | None]] = [(d, None) for d in directories]
    entries = sorted(entries + list(regular.items()), key=_tar_order)
    chunks: list[bytes] = []
    for name, data in entries:
        if data is None:
            chunks.append(_tar_header(name + "/", 0, 0o755, b"5", mtime))
            continue
        parent = name.rpartition("/")[0]
        mode = 0o755 if parent in _EXECUTABLE_DIRS else 0o644
        chunks.append(_tar_header(name, len(data), mode, b"0", mtime))
        chunks.append(data)
        if len(data) % 512:
            chunks.append(b"\0" * (512 - len(data) % 512))
    chunks.append(b"\0" * 1024)
    return b"".join(chunks)


def _tar_order(entry: tuple[str, bytes | None]) -> tuple[str, ...]:
    return tuple(entry[0].split("/"))  # component-wise: "a/b" sorts right after "a"


_MAX_STORED_BLOCK = 65535


def gzip_member(data: bytes) -> bytes:
    """One gzip member of ``data`` in stored deflate blocks: identical on every zlib build.

    Header ``1f 8b 08``, no flags, mtime 0, XFL 0, OS 255; then stored blocks of at most
    65535 bytes (BFINAL on the last); then CRC-32 and the length mod 2**32, little-endian.
    """
    chunks = [b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"]
    view = memoryview(data)
    offset = 0
    while True:
        block = view[offset : offset + _MAX_STORED_BLOCK]
        offset += len(block)
        final = offset >= len(data)
        chunks.append(struct.pack("<BHH", 1 if final else 0, len(block), 0xFFFF ^ len(block)))
        chunks.append(bytes(block))
        if final:
            break
    chunks.append(struct.pack("<II", zlib.crc32(data) & 0xFFFFFFFF, len(data) & 0xFFFFFFFF))
    return b"".join(chunks)


# ----------------------------------------------------------------------------------------
# Values: descriptors, layers, configs, images


@dataclass(frozen=True)
class Descriptor:
    """A content descriptor: media type, size in bytes and digest (plus a platform in indexes)."""

    media_type: str
    size: int
    digest: str
    platform: str | None = None  # "os/architecture[/variant]" for an index's children

    def to_json(self) -> dict[str, Any]:
        """Docker's field order: ``mediaType``, ``size``, ``digest``."""
        return {"mediaType": self.media_type, "size": self.size, "digest": self.digest}


@dataclass(frozen=True)
class Layer:
    """One image layer: a small file system, turned into tar and gzip bytes on first need.

    ``files`` is a tuple of ``(path, content)`` pairs; ``label`` names the layer (and, through
    the files that :func:`synthetic_layer` writes, makes its bytes unique); ``created_by`` is
    the history line that made it. ``filler`` = ``(path, size)`` adds one generated text file
    of that many bytes, so that large layers hold their bytes once (in ``blob``), not twice.
    Only the blob and the digests are kept; ``tar`` is unpacked from the blob when asked.
    """

    files: tuple[tuple[str, bytes], ...]
    label: str = ""
    created_by: str = ""
    media_type: str = MEDIA_TYPE_DOCKER_LAYER
    filler: tuple[str, int] | None = None

    def all_files(self) -> tuple[tuple[str, bytes], ...]:
        """``files`` plus the generated filler file, if any."""
        if self.filler is None:
            return self.files
        path, size = self.filler
        return (*self.files, (path, filler_text(size)))

    def _build(self) -> tuple[str, bytes]:
        archive = tar_archive(self.all_files())
        self.__dict__["diff_id"] = sha256_digest(archive)
        self.__dict__["blob"] = gzip_member(archive)
        return self.__dict__["diff_id"], self.__dict__["blob"]

    @property
    def tar(self) -> bytes:
        """The uncompressed layer (what ``diff_id`` hashes)."""
        return zlib.decompress(self.blob, wbits=31)

    @cached_property
    def diff_id(self) -> str:
        """sha256 of the uncompressed tar (the image config's ``rootfs.diff_ids`` entry)."""
        return self._build()[0]

    @cached_property
    def blob(self) -> bytes:
        """The gzip-compressed tar: the blob a registry stores."""
        return self._build()[1]

    @cached_property
    def digest(self) -> str:
        """sha256 of the compressed blob (what manifests and registries use)."""
        return sha256_digest(self.blob)

    @property
    def size(self) -> int:
        """Byte length of the compressed blob."""
        return len(self.blob)

    @property
    def short_id(self) -> str:
        """First 12 hex digits of the diff ID: the layer ID Docker's classic store shows on push."""
        return self.diff_id[7:19]

    @property
    def descriptor(self) -> Descriptor:
        return Descriptor(self.media_type, self.size, self.digest)


@dataclass(frozen=True)
class HistoryEntry:
    """One line of an image's history (image-spec ``History``; Go field order)."""

    created: str
    created_by: str
    comment: str = "buildkit.dockerfile.v0"
    empty_layer: bool = False

    def to_json(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"created": self.created, "created_by": self.created_by}
        if self.comment:
            entry["comment"] = self.comment
        if self.empty_layer:
            entry["empty_layer"] = True
        return entry


@dataclass(frozen=True)
class ImageConfig:
    """The settings of an image config (everything but ``rootfs``, which comes from the layers).

    ``to_json(diff_ids)`` lays it out as Docker (BuildKit) writes it: top-level keys sorted
    (BuildKit's exporter re-marshals them as a Go map): ``architecture``, ``config``,
    ``created``, ``history``, ``os``, ``rootfs``; ``config`` in image-spec ``ImageConfig``
    order: ``Env``, ``Cmd``, ``WorkingDir`` (BuildKit's default ``/``), ``Labels``,
    ``ArgsEscaped`` (true once a CMD is set).
    """

    created: str = DEFAULT_CREATED
    history: tuple[HistoryEntry, ...] = ()
    env: tuple[str, ...] = DEFAULT_ENV
    cmd: tuple[str, ...] = ("/bin/sh",)
    working_dir: str = "/"
    labels: tuple[tuple[str, str], ...] = ()
    architecture: str = "amd64"
    os: str = "linux"

    def to_json(self, diff_ids: Sequence[str]) -> dict[str, Any]:
        container: dict[str, Any] = {"Env": list(self.env)}
        if self.cmd:
            container["Cmd"] = list(self.cmd)
        if self.working_dir:
            container["WorkingDir"] = self.working_dir
        if self.labels:
            container["Labels"] = dict(sorted(self.labels))  # a Go map: sorted keys
        if self.cmd:
            container["ArgsEscaped"] = True  # BuildKit's dispatchCmd sets it
        return {
            "architecture": self.architecture,
            "config": container,
            "created": self.created,
            "history": [entry.to_json() for entry in self.history],
            "os": self.os,
            "rootfs": {"type": "layers", "diff_ids": list(diff_ids)},
        }


@dataclass(frozen=True)
class Image:
    """An image: layers and config settings; config JSON and manifest are derived lazily."""

    layers: tuple[Layer, ...]
    config: ImageConfig = ImageConfig()

    @property
    def diff_ids(self) -> tuple[str, ...]:
        return tuple(layer.diff_id for layer in self.layers)

    @cached_property
    def config_bytes(self) -> bytes:
        """The config blob: compact Go JSON, no trailing newline."""
        return go_json(self.config.to_json(self.diff_ids))

    @cached_property
    def id(self) -> str:
        """The image ID of Docker's classic store: the config digest."""
        return sha256_digest(self.config_bytes)

    @property
    def config_digest(self) -> str:
        return self.id

    @property
    def config_descriptor(self) -> Descriptor:
        return Descriptor(MEDIA_TYPE_DOCKER_CONFIG, len(self.config_bytes), self.id)

    def manifest_json(self) -> dict[str, Any]:
        """The schema2 manifest as a dict in Docker's key order."""
        return {
            "schemaVersion": 2,
            "mediaType": MEDIA_TYPE_DOCKER_MANIFEST,
            "config": self.config_descriptor.to_json(),
            "layers": [layer.descriptor.to_json() for layer in self.layers],
        }

    @cached_property
    def manifest(self) -> bytes:
        """The schema2 manifest bytes exactly as Docker pushes them (3-space indent)."""
        return go_json(self.manifest_json(), indent=MANIFEST_INDENT)

    @cached_property
    def manifest_digest(self) -> str:
        return sha256_digest(self.manifest)

    @property
    def manifest_size(self) -> int:
        """What ``docker push`` prints after ``size:``."""
        return len(self.manifest)

    @property
    def manifest_descriptor(self) -> Descriptor:
        return Descriptor(MEDIA_TYPE_DOCKER_MANIFEST, self.manifest_size, self.manifest_digest)

    @property
    def referenced_blobs(self) -> tuple[str, ...]:
        """Digests the manifest refers to: the config, then each layer."""
        return (self.id, *(layer.digest for layer in self.layers))

    @property
    def blobs(self) -> dict[str, bytes]:
        """Every blob of the image by digest: config and layers (not the manifest)."""
        found = {self.id: self.config_bytes}
        for layer in self.layers:
            found[layer.digest] = layer.blob
        return found


# ----------------------------------------------------------------------------------------
# Building synthetic images

_LINE = "simulated content written by labkit; every byte is real and hashed\n"


def filler_text(size: int) -> bytes:
    """``size`` bytes of readable, repeated text (the body of a layer's filler file)."""
    return (_LINE.encode() * (size // len(_LINE) + 1))[:size]


def _root_files(os_name: str, os_version: str) -> list[tuple[str, bytes]]:
    pretty = f"{os_name.capitalize()} {os_version}".strip()
    os_release = (
        f'NAME="{os_name.capitalize()}"\nID={os_name}\nVERSION_ID={os_version}\n'
        f'PRETTY_NAME="{pretty} (simulated by labkit)"\n'
    )
    return [
        ("bin/sh", b"#!labkit simulated shell\n"),
        ("bin/ls", b"#!labkit simulated ls\n"),
        ("etc/hostname", b"localhost\n"),
        ("etc/os-release", os_release.encode()),
        (
            "etc/passwd",
            b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/sbin/nologin\n",
        ),
        ("etc/group", b"root:x:0:root\nnogroup:x:65534:\n"),
        ("root/", b""),
        ("tmp/", b""),
        ("usr/bin/env", b"#!labkit simulated env\n"),
        ("var/log/", b""),
    ]


def synthetic_layer(
    label: str,
    files: int = 8,
    size_hint: int = 0,
    *,
    os_name: str | None = None,
    os_version: str = "",
    created_by: str | None = None,
) -> Layer:
    """A layer that looks like a tiny Linux root (with ``os_name``) or like files added on top.

    ``label`` makes the bytes unique (written to ``etc/labkit/<label>`` or
    ``opt/<label>/LABEL``); ``files`` is about how many regular files to write; with
    ``size_hint`` a filler file brings the compressed blob to roughly that many bytes
    (never less than the layer needs). ``created_by`` defaults to BuildKit's
    ``ADD <label>.tar.gz / # buildkit``.
    """
    if not label or "/" in label:
        raise ValueError(f"layer label must be a non-empty name without '/': {label!r}")
    entries: list[tuple[str, bytes]] = []
    if os_name:
        entries.extend(_root_files(os_name, os_version))
        home = f"usr/share/{label}"
        entries.append((f"etc/labkit/{label}", f"layer: {label}\n".encode()))
    else:
        home = f"opt/{label}"
        entries.append((f"{home}/LABEL", f"layer: {label}\n".encode()))
    count = sum(1 for path, _ in entries if not path.endswith("/"))
    for number in range(max(0, files - count)):
        text = f"{label} file {number}\n" + _LINE * (1 + number % 3)
        entries.append((f"{home}/data-{number:03d}.txt", text.encode()))
    filler = None
    if size_hint:
        # The filler adds a 512-byte header and its content rounded up to 512 bytes; gzip
        # adds 18 bytes plus 5 a stored block. Aim just under the hint.
        overhead = 18 + 5 * (1 + size_hint // 65535) + 512
        room = (size_hint - len(tar_archive(entries)) - overhead) // 512 * 512
        if room > 0:
            filler = (f"{home}/filler.txt", room)
    if created_by is None:
        created_by = f"ADD {label}.tar.gz / # buildkit"
    return Layer(tuple(entries), label, created_by, filler=filler)


def layer_from_spec(spec: Mapping[str, Any] | Layer) -> Layer:
    """A layer from catalog data: ``{"label", "files", "size_hint", "os_name", "os_version",
    "created_by"}`` (only ``label`` is required), or a :class:`Layer` as is."""
    if isinstance(spec, Layer):
        return spec
    unknown = set(spec) - {"label", "files", "size_hint", "os_name", "os_version", "created_by"}
    if unknown:
        raise ValueError(f"unknown layer spec keys: {sorted(unknown)}")
    return synthetic_layer(
        spec["label"],
        spec.get("files", 8),
        spec.get("size_hint", 0),
        os_name=spec.get("os_name"),
        os_version=spec.get("os_version", ""),
        created_by=spec.get("created_by"),
    )


def _go_quote(text: str) -> str:
    """Go's ``strconv.Quote``: double quotes, Go escapes for what is not printable."""
    out = []
    for char in text:
        code = ord(char)
        if char in '"\\':
            out.append("\\" + char)
        elif char in _GO_QUOTE_ESCAPES:
            out.append(_GO_QUOTE_ESCAPES[char])
        elif char == " " or char.isprintable():
            out.append(char)
        elif code < 0x80:
            out.append(f"\\x{code:02x}")
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    return '"' + "".join(out) + '"'


_GO_QUOTE_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r"}
_GO_QUOTE_ESCAPES.update({"\t": "\\t", "\v": "\\v"})


def _cmd_history(cmd: Sequence[str], created: str) -> HistoryEntry:
    """BuildKit's history line for CMD: ``fmt.Sprintf("CMD %q", args)`` on a []string."""
    return HistoryEntry(
        created, "CMD [" + " ".join(_go_quote(arg) for arg in cmd) + "]", empty_layer=True
    )


def make_image(
    layer_specs: Iterable[Mapping[str, Any] | Layer],
    *,
    created: str = DEFAULT_CREATED,
    cmd: Sequence[str] = ("/bin/sh",),
    env: Sequence[str] = DEFAULT_ENV,
    working_dir: str = "/",
    labels: Mapping[str, str] | None = None,
    architecture: str = "amd64",
    os: str = "linux",
) -> Image:
    """An image from layer specs (see :func:`layer_from_spec`) or layers.

    History has one entry a layer (its ``created_by``) and then the ``CMD`` line, all at
    ``created`` (an RFC 3339 time such as ``2024-01-01T00:00:00Z``). Cheap: no bytes are
    made until the image's digests, blobs or manifest are first asked for.
    """
    layers = tuple(layer_from_spec(spec) for spec in layer_specs)
    if not layers:
        raise ValueError("an image needs at least one layer")
    history = [HistoryEntry(created, layer.created_by) for layer in layers]
    if cmd:
        history.append(_cmd_history(cmd, created))
    config = ImageConfig(
        created=created,
        history=tuple(history),
        env=tuple(env),
        cmd=tuple(cmd),
        working_dir=working_dir,
        labels=tuple(sorted((labels or {}).items())),
        architecture=architecture,
        os=os,
    )
    return Image(layers, config)


def image_from_layers(
    base: Image,
    extra_layers: Iterable[Mapping[str, Any] | Layer],
    *,
    created: str = DEFAULT_CREATED,
    cmd: Sequence[str] | None = None,
    env: Sequence[str] | None = None,
    working_dir: str | None = None,
) -> Image:
    """An image built ``FROM base`` plus ``extra_layers``.

    It shares the base's Layer objects (so the same blobs and digests), inherits env, cmd
    and working dir unless given, and extends the base's history.
    """
    extra = tuple(layer_from_spec(spec) for spec in extra_layers)
    history = list(base.config.history)
    history.extend(HistoryEntry(created, layer.created_by) for layer in extra)
    if cmd:
        history.append(_cmd_history(cmd, created))
    config = replace(
        base.config,
        created=created,
        history=tuple(history),
        env=base.config.env if env is None else tuple(env),
        cmd=base.config.cmd if cmd is None else tuple(cmd),
        working_dir=base.config.working_dir if working_dir is None else working_dir,
    )
    return Image(base.layers + extra, config)


# ----------------------------------------------------------------------------------------
# Reading manifests


class _StoredBytes:
    """What a manifest and an index share: the exact bytes, their digest and length."""

    raw: bytes

    @property
    def digest(self) -> str:
        return sha256_digest(self.raw)

    @property
    def size(self) -> int:
        return len(self.raw)


@dataclass(frozen=True)
class Manifest(_StoredBytes):
    """An image manifest read from bytes (Docker schema2 or OCI image manifest)."""

    media_type: str
    config: Descriptor
    layers: tuple[Descriptor, ...]
    raw: bytes = field(repr=False)

    @property
    def referenced_blobs(self) -> tuple[str, ...]:
        """Blob digests that must exist in the repository: the config, then each layer."""
        return (self.config.digest, *(layer.digest for layer in self.layers))

    @property
    def referenced_manifests(self) -> tuple[str, ...]:
        """Always empty for an image manifest (see :class:`ManifestIndex`)."""
        return ()


@dataclass(frozen=True)
class ManifestIndex(_StoredBytes):
    """An OCI image index or Docker manifest list: descriptors of child manifests."""

    media_type: str
    manifests: tuple[Descriptor, ...]
    raw: bytes = field(repr=False)

    @property
    def referenced_blobs(self) -> tuple[str, ...]:
        """Always empty: an index refers to manifests, not blobs."""
        return ()

    @property
    def referenced_manifests(self) -> tuple[str, ...]:
        """Digests of the child manifests, in order."""
        return tuple(child.digest for child in self.manifests)


def _invalid(detail: str) -> RegistryError:
    return RegistryError("MANIFEST_INVALID", detail=detail)


def _descriptor(value: object, where: str) -> Descriptor:
    if not isinstance(value, dict):
        raise _invalid(f"{where}: descriptor must be an object")
    media_type = value.get("mediaType")
    size = value.get("size")
    digest = value.get("digest")
    if not isinstance(media_type, str) or not media_type:
        raise _invalid(f"{where}: mediaType must be a non-empty string")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise _invalid(f"{where}: size must be a non-negative integer")
    if not is_valid_digest(digest):
        raise _invalid(f"{where}: invalid digest {digest!r}")
    platform = value.get("platform")
    platform_text = None
    if isinstance(platform, dict):
        parts = [platform.get("os"), platform.get("architecture"), platform.get("variant")]
        platform_text = "/".join(str(part) for part in parts if part)
    return Descriptor(media_type, size, digest, platform_text)  # type: ignore[arg-type]  # checked above


def parse_manifest(data: bytes, media_type: str | None = None) -> Manifest | ManifestIndex:
    """Read manifest bytes (``media_type`` is the Content-Type, if any).

    Accepts Docker schema2 manifests, OCI image manifests, OCI indexes and Docker manifest
    lists. Raises ``RegistryError("MANIFEST_INVALID")`` with a ``detail`` saying why for
    invalid JSON, a wrong ``schemaVersion``, a media type mismatch, missing fields, or
    descriptors with a bad digest or size.
    """
    try:
        document = json.loads(bytes(data).decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise _invalid(f"invalid JSON: {error}") from None
    if not isinstance(document, dict):
        raise _invalid("manifest must be a JSON object")
    version = document.get("schemaVersion")
    if version != 2 or isinstance(version, bool):
        raise _invalid(f"schemaVersion must be 2, not {version!r}")
    declared = document.get("mediaType")
    if declared is not None and not isinstance(declared, str):
        raise _invalid("mediaType must be a string")
    if media_type and declared and media_type != declared:
        raise _invalid(f"mediaType {declared!r} does not match Content-Type {media_type!r}")
    kind = declared or media_type
    if kind is None:  # OCI makes mediaType optional: tell the two shapes apart
        kind = MEDIA_TYPE_OCI_INDEX if "manifests" in document else MEDIA_TYPE_OCI_MANIFEST
    if kind in (MEDIA_TYPE_DOCKER_MANIFEST, MEDIA_TYPE_DOCKER_MANIFEST_LIST) and not declared:
        raise _invalid(f"mediaType is required in a {kind} document")
    if kind in IMAGE_MANIFEST_TYPES:
        if "config" not in document:
            raise _invalid("config is required")
        layers = document.get("layers")
        if not isinstance(layers, list):
            raise _invalid("layers must be an array")
        return Manifest(
            kind,
            _descriptor(document["config"], "config"),
            tuple(_descriptor(layer, f"layers[{n}]") for n, layer in enumerate(layers)),
            bytes(data),
        )
    if kind in INDEX_TYPES:
        children = document.get("manifests")
        if not isinstance(children, list):
            raise _invalid("manifests must be an array")
        return ManifestIndex(
            kind,
            tuple(_descriptor(child, f"manifests[{n}]") for n, child in enumerate(children)),
            bytes(data),
        )
    raise _invalid(f"unsupported manifest media type {kind!r}")
