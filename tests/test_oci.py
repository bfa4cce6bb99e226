"""Tests for labkit.oci: Go-compatible JSON, deterministic tar/gzip, images and manifests."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labkit import oci
from labkit.errors import RegistryError

# ----------------------------------------------------------------------------------------
# Pinned images: any drift in bytes changes these digests.


def pinned_alpine() -> oci.Image:
    spec = {"label": "alpine-3.20-base", "files": 12, "os_name": "alpine", "os_version": "3.20.3"}
    return oci.make_image([spec], created="2024-09-06T12:05:36Z")


def pinned_busybox() -> oci.Image:
    spec = {
        "label": "busybox-1.36-base",
        "files": 4,
        "size_hint": 30000,
        "os_name": "busybox",
        "os_version": "1.36.1",
    }
    return oci.make_image([spec])


def pinned_web() -> oci.Image:
    return oci.image_from_layers(
        pinned_alpine(),
        [{"label": "fredysa-web-app", "files": 3}],
        created="2024-10-01T08:00:00Z",
        cmd=["/bin/sh", "-c", "echo <hi> & bye"],
    )


PINS = {
    "alpine": (
        pinned_alpine,
        "sha256:fdae1a59359ba5abfc9b87da045f22d0b822353645b53e41bc0bf9baea480d56",
        525,
        "sha256:a5caf48bf04059ace4430e469463ad863f3af6709de822d155f78bcf7cdb3c68",
        ["sha256:063b2412c4763a570c3b695fc55374e462be655b8b4b914d454f6434e8386f2f"],
    ),
    "busybox": (
        pinned_busybox,
        "sha256:348fd8b2e9587f612084a52f372732a7ee472f4a1a30d2879121b507206ff8ff",
        525,
        "sha256:6346fa7e4cc319cc9b13d7dd5cd5be427e36b2dc60a53603b7e3a6bb26d6cda1",
        ["sha256:58e26cfccfce68cc0221ad6dba05c8651b23e9e689381aa1b638416cccdf0e5b"],
    ),
    "web": (
        pinned_web,
        "sha256:8bc844b96e337ae8c4f78e25997380691f409fa916ef24e0d6f774e31145e3d3",
        733,
        "sha256:613288f7898a51b23ded729091ac3c25e4f35ef0cf6962b1f2ef32d4fc1c0463",
        [
            "sha256:063b2412c4763a570c3b695fc55374e462be655b8b4b914d454f6434e8386f2f",
            "sha256:85e2957e5cd698f9abf88ff5fc82d44df15234a2e812ba4e73f678882eab4337",
        ],
    ),
}


@pytest.mark.parametrize("name", sorted(PINS))
def test_pinned_digests_hold(name: str) -> None:
    build, manifest_digest, manifest_size, image_id, layer_digests = PINS[name]
    image = build()
    assert image.manifest_digest == manifest_digest
    assert image.manifest_size == manifest_size
    assert image.id == image_id
    assert [layer.digest for layer in image.layers] == layer_digests


def test_pinned_tar_and_gzip_bytes() -> None:
    archive = oci.tar_archive([("a/b.txt", b"hello\n"), ("bin/sh", b"x")])
    assert hashlib.sha256(archive).hexdigest() == (
        "5be11fd1c4ca2173f6dd686c0deb01f3ae018ca9c30ed010139459cee35af541"
    )
    member = oci.gzip_member(bytes(range(256)) * 600)
    assert hashlib.sha256(member).hexdigest() == (
        "69d30d324169e6d3b5d09c8c6ffecc66ea75a733aee20224861ed23e480cfc85"
    )


# ----------------------------------------------------------------------------------------
# Digests


def test_sha256_digest_of_empty_bytes() -> None:
    assert oci.sha256_digest(b"") == (
        "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("sha256:" + "a" * 64, True),
        ("sha256:" + "0123456789abcdef" * 4, True),
        ("sha256:" + "A" * 64, False),
        ("sha256:" + "a" * 63, False),
        ("sha256:" + "a" * 65, False),
        ("sha512:" + "a" * 64, False),
        ("a" * 64, False),
        (None, False),
    ],
)
def test_is_valid_digest(text: object, valid: bool) -> None:
    assert oci.is_valid_digest(text) is valid


# ----------------------------------------------------------------------------------------
# go_json against literal Go outputs


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # json.Marshal(map[string]string{"a": "<b>&"})
        ({"a": "<b>&"}, b'{"a":"\\u003cb\\u003e\\u0026"}'),
        # json.Marshal("\u2028\u2029")
        ("\u2028\u2029", b'"\\u2028\\u2029"'),
        # json.Marshal("é日本") keeps UTF-8
        ("é日本", '"é日本"'.encode()),
        # control characters (Go >= 1.22 writes \b and \f short)
        ("\x01\b\f\n\r\t\x1f\x7f", b'"\\u0001\\b\\f\\n\\r\\t\\u001f\x7f"'),
        ('quote " and \\ backslash', b'"quote \\" and \\\\ backslash"'),
        ([], b"[]"),
        ({}, b"{}"),
        (None, b"null"),
        ([True, False, 0, -12], b"[true,false,0,-12]"),
        # floats: shortest digits, 'e' below 1e-6 and from 1e21, "e-07" cleaned to "e-7"
        (
            [1.0, 0.1, 1e20, 1e21, 1e-7, 1.5e-7, 0.000001, -0.0],
            b"[1,0.1,100000000000000000000,1e+21,1e-7,1.5e-7,0.000001,-0]",
        ),
        # struct field order is kept as given
        ({"z": 1, "a": 2}, b'{"z":1,"a":2}'),
    ],
)
def test_go_json_compact_matches_go(value: object, expected: bytes) -> None:
    assert oci.go_json(value) == expected


def test_go_json_indent_matches_go_marshal_indent() -> None:
    # json.MarshalIndent(map[string]int{"a": 1, "b": 2}, "", "<indent>")
    assert oci.go_json({"a": 1, "b": 2}, indent="<indent>") == (
        b'{\n<indent>"a": 1,\n<indent>"b": 2\n}'
    )
    # nested containers, empty ones stay on one line
    value = {"A": [], "B": {}, "C": [1, {"d": [2]}]}
    assert oci.go_json(value, indent="  ") == (
        b'{\n  "A": [],\n  "B": {},\n  "C": [\n    1,\n    {\n      "d": [\n        2\n'
        b"      ]\n    }\n  ]\n}"
    )


def test_go_json_rejects_what_go_cannot_marshal() -> None:
    with pytest.raises(ValueError):
        oci.go_json(float("nan"))
    with pytest.raises(TypeError):
        oci.go_json({1: "x"})
    with pytest.raises(TypeError):
        oci.go_json({"x": object()})


def test_docker_manifest_layout_from_facts_is_reproduced() -> None:
    """The 528-byte example in facts/docker.md §10, rebuilt through go_json."""
    expected = (
        "{\n"
        '   "schemaVersion": 2,\n'
        '   "mediaType": "application/vnd.docker.distribution.manifest.v2+json",\n'
        '   "config": {\n'
        '      "mediaType": "application/vnd.docker.container.image.v1+json",\n'
        '      "size": 1472,\n'
        '      "digest": "sha256:' + "a" * 64 + '"\n'
        "   },\n"
        '   "layers": [\n'
        "      {\n"
        '         "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",\n'
        '         "size": 3397879,\n'
        '         "digest": "sha256:' + "b" * 64 + '"\n'
        "      }\n"
        "   ]\n"
        "}"
    ).encode()
    manifest = {
        "schemaVersion": 2,
        "mediaType": oci.MEDIA_TYPE_DOCKER_MANIFEST,
        "config": oci.Descriptor(
            oci.MEDIA_TYPE_DOCKER_CONFIG, 1472, "sha256:" + "a" * 64
        ).to_json(),
        "layers": [
            oci.Descriptor(oci.MEDIA_TYPE_DOCKER_LAYER, 3397879, "sha256:" + "b" * 64).to_json()
        ],
    }
    assert oci.go_json(manifest, indent="   ") == expected
    assert len(expected) == 528


_json_leaves = st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text()
_json_values = st.recursive(
    _json_leaves,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


def _python_then_go_escapes(text: str) -> str:
    for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(char, escape)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


@settings(max_examples=300)
@given(_json_values, st.sampled_from([None, "   ", "\t"]))
def test_go_json_agrees_with_the_json_module_plus_go_escapes(
    value: object, indent: str | None
) -> None:
    """Without floats, Go's layout is Python's (ensure_ascii=False) plus HTML escaping."""
    separators = (",", ":") if indent is None else (",", ": ")
    reference = json.dumps(value, ensure_ascii=False, indent=indent, separators=separators)
    try:
        expected = _python_then_go_escapes(reference).encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: Go writes \ufffd, Python cannot encode
        return
    encoded = oci.go_json(value, indent=indent)
    assert encoded == expected
    assert json.loads(encoded) == value


def test_go_json_writes_lone_surrogates_as_replacement() -> None:
    assert oci.go_json("a\ud800b") == b'"a\\ufffdb"'


# ----------------------------------------------------------------------------------------
# tar


def _members(archive: bytes) -> list[tarfile.TarInfo]:
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:") as reader:
        return reader.getmembers()


def test_tar_archive_entries_and_fields() -> None:
    archive = oci.tar_archive(
        [("etc/os-release", b"ID=alpine\n"), ("bin/sh", b"#!\n"), ("tmp/", b""), ("etc/a", b"")]
    )
    members = _members(archive)
    assert [m.name for m in members] == ["bin", "bin/sh", "etc", "etc/a", "etc/os-release", "tmp"]
    assert [m.type for m in members] == [b"5", b"0", b"5", b"0", b"0", b"5"]
    assert {m.name: m.mode for m in members} == {
        "bin": 0o755,
        "bin/sh": 0o755,
        "etc": 0o755,
        "etc/a": 0o644,
        "etc/os-release": 0o644,
        "tmp": 0o755,
    }
    for member in members:
        assert (member.uid, member.gid, member.uname, member.gname) == (0, 0, "root", "root")
        assert member.mtime == oci.EPOCH == 1704067200
    assert len(archive) % 512 == 0
    assert archive.endswith(b"\0" * 1024)
    assert len(archive) == 6 * 512 + 2 * 512 + 1024  # 6 headers, 2 data blocks, end blocks
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:") as reader:
        assert reader.extractfile("etc/os-release").read() == b"ID=alpine\n"


def test_tar_archive_matches_tarfile_ustar_output() -> None:
    """Python's own USTAR writer, fed the same fields, writes the same bytes (then pads)."""
    files = [("a/b/c.txt", b"x" * 700), ("a/d", b""), ("z" * 90 + "/" + "y" * 90, b"long")]
    ours = oci.tar_archive(files)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as writer:
        for name in ["a", "a/b", "a/b/c.txt", "a/d", "z" * 90, "z" * 90 + "/" + "y" * 90]:
            content = dict(files).get(name)
            info = tarfile.TarInfo(name)
            info.type = tarfile.DIRTYPE if content is None else tarfile.REGTYPE
            info.mode = 0o755 if content is None else 0o644
            info.size = 0 if content is None else len(content)
            info.mtime = oci.EPOCH
            info.uname = info.gname = "root"
            writer.addfile(info, None if content is None else io.BytesIO(content))
    theirs = buffer.getvalue()
    assert theirs[: len(ours)] == ours
    assert theirs[len(ours) :].strip(b"\0") == b""


def test_empty_tar_is_two_zero_blocks() -> None:
    assert oci.tar_archive([]) == b"\0" * 1024


@pytest.mark.parametrize("path", ["", "/", "a/../b", "./a", "a//b", "x" * 101 + "/" + "y" * 101])
def test_tar_archive_rejects_bad_paths(path: str) -> None:
    with pytest.raises(ValueError):
        oci.tar_archive([(path, b"")])


def test_tar_archive_rejects_duplicates_and_file_directory_clashes() -> None:
    with pytest.raises(ValueError):
        oci.tar_archive([("a", b"1"), ("a", b"2")])
    with pytest.raises(ValueError):
        oci.tar_archive([("a", b"1"), ("a/b", b"2")])


def test_tar_archive_does_not_depend_on_input_order() -> None:
    files = [("b/x", b"1"), ("a", b"2"), ("b/a/y", b"3")]
    assert oci.tar_archive(files) == oci.tar_archive(list(reversed(files)))


# ----------------------------------------------------------------------------------------
# gzip


@pytest.mark.parametrize("length", [0, 1, 511, 65535, 65536, 65535 * 2 + 7, 300_000])
def test_gzip_member_round_trips(length: int) -> None:
    data = bytes((n * 7 + n // 251) % 256 for n in range(length))
    member = oci.gzip_member(data)
    assert gzip.decompress(member) == data
    assert zlib.decompress(member, wbits=31) == data
    assert member[:10] == b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
    blocks = max(1, -(-length // 65535))
    assert len(member) == 10 + 5 * blocks + length + 8
    assert member[-8:-4] == zlib.crc32(data).to_bytes(4, "little")
    assert member[-4:] == length.to_bytes(4, "little")


def test_gzip_member_of_empty_data_is_one_final_empty_block() -> None:
    assert oci.gzip_member(b"")[10:15] == b"\x01\x00\x00\xff\xff"


# ----------------------------------------------------------------------------------------
# Layers and images


def test_layer_bytes_are_honest_and_readable() -> None:
    image = pinned_alpine()
    layer = image.layers[0]
    assert layer.diff_id == "sha256:" + hashlib.sha256(layer.tar).hexdigest()
    assert layer.digest == "sha256:" + hashlib.sha256(layer.blob).hexdigest()
    assert layer.size == len(layer.blob)
    assert gzip.decompress(layer.blob) == layer.tar
    assert layer.short_id == layer.diff_id[7:19]
    with tarfile.open(fileobj=io.BytesIO(layer.blob), mode="r:gz") as reader:
        members = reader.getmembers()
        os_release = reader.extractfile("etc/os-release").read().decode()
    assert "bin/sh" in [member.name for member in members]
    assert "ID=alpine" in os_release and "VERSION_ID=3.20.3" in os_release
    assert sum(1 for member in members if member.isfile()) == 12


def test_image_digests_match_independent_hashlib() -> None:
    for build, *_ in PINS.values():
        image = build()
        assert image.id == "sha256:" + hashlib.sha256(image.config_bytes).hexdigest()
        assert image.manifest_digest == "sha256:" + hashlib.sha256(image.manifest).hexdigest()
        assert image.manifest_size == len(image.manifest)
        for digest, blob in image.blobs.items():
            assert digest == "sha256:" + hashlib.sha256(blob).hexdigest()
        assert list(image.blobs) == list(image.referenced_blobs)


def test_image_config_is_docker_shaped() -> None:
    image = pinned_web()
    config = json.loads(image.config_bytes)
    assert list(config) == ["architecture", "config", "created", "history", "os", "rootfs"]
    assert config["architecture"] == "amd64" and config["os"] == "linux"
    assert config["config"]["Cmd"] == ["/bin/sh", "-c", "echo <hi> & bye"]
    assert b"\\u003chi\\u003e \\u0026 bye" in image.config_bytes
    assert config["config"]["Env"] == list(oci.DEFAULT_ENV)
    assert config["rootfs"] == {"type": "layers", "diff_ids": list(image.diff_ids)}
    assert [entry["created_by"] for entry in config["history"]] == [
        "ADD alpine-3.20-base.tar.gz / # buildkit",
        'CMD ["/bin/sh"]',
        "ADD fredysa-web-app.tar.gz / # buildkit",
        'CMD ["/bin/sh" "-c" "echo <hi> & bye"]',
    ]
    assert [entry.get("empty_layer", False) for entry in config["history"]] == [
        False,
        True,
        False,
        True,
    ]
    assert not image.config_bytes.endswith(b"\n")


def test_manifest_is_docker_shaped_and_parses_back() -> None:
    image = pinned_busybox()
    document = json.loads(image.manifest)
    assert list(document) == ["schemaVersion", "mediaType", "config", "layers"]
    assert list(document["config"]) == ["mediaType", "size", "digest"]
    assert image.manifest.startswith(b'{\n   "schemaVersion": 2,\n')
    assert not image.manifest.endswith(b"\n")
    parsed = oci.parse_manifest(image.manifest, oci.MEDIA_TYPE_DOCKER_MANIFEST)
    assert isinstance(parsed, oci.Manifest)
    assert parsed.raw == image.manifest
    assert parsed.digest == image.manifest_digest and parsed.size == image.manifest_size
    assert parsed.config == image.config_descriptor
    assert parsed.layers == tuple(layer.descriptor for layer in image.layers)
    assert parsed.referenced_blobs == image.referenced_blobs
    assert image.manifest_descriptor == oci.Descriptor(
        oci.MEDIA_TYPE_DOCKER_MANIFEST, image.manifest_size, image.manifest_digest
    )


def _digits(number: int) -> int:
    return len(str(number))


@pytest.mark.parametrize("layer_count", [1, 2, 3])
def test_manifest_size_formula(layer_count: int) -> None:
    """facts/docker.md §4: 517 + digits(config) + digits(layer); each more layer 204 + digits."""
    specs = [{"label": f"layer-{n}", "files": 2 + n, "size_hint": 2000 * n} for n in range(3)]
    image = oci.make_image(specs[:layer_count])
    sizes = [layer.size for layer in image.layers]
    expected = 517 + _digits(len(image.config_bytes)) + _digits(sizes[0])
    expected += sum(204 + _digits(size) for size in sizes[1:])
    assert image.manifest_size == expected


def test_size_hint_brings_the_blob_near_the_hint() -> None:
    for hint in (30_000, 70_000, 400_000):
        layer = oci.synthetic_layer(f"filler-{hint}", files=4, size_hint=hint)
        assert hint - 600 <= layer.size <= hint + 600
    small = oci.synthetic_layer("tiny", files=2, size_hint=10)
    assert small.size > 10  # a hint never removes files


def test_different_labels_give_different_bytes_and_same_spec_same_bytes() -> None:
    first = oci.synthetic_layer("one", files=3)
    assert first.digest != oci.synthetic_layer("two", files=3).digest
    assert first.digest == oci.synthetic_layer("one", files=3).digest
    assert first == oci.layer_from_spec({"label": "one", "files": 3})


def test_bytes_are_made_lazily() -> None:
    image = oci.make_image([{"label": "lazy", "files": 3}])
    layer = image.layers[0]
    assert "tar" not in vars(layer) and "blob" not in vars(layer)
    assert "manifest" not in vars(image) and "config_bytes" not in vars(image)
    assert image.manifest_size > 0
    assert "blob" in vars(layer) and "manifest" in vars(image)


def test_derived_image_shares_base_layers() -> None:
    base = pinned_alpine()
    derived = pinned_web()
    assert derived.layers[0] == base.layers[0]
    shared = oci.image_from_layers(base, [oci.synthetic_layer("app", files=2)])
    assert shared.layers[0] is base.layers[0]
    assert shared.config.cmd == base.config.cmd == ("/bin/sh",)
    assert shared.layers[0].digest == base.layers[0].digest
    assert shared.id != base.id and shared.manifest_digest != base.manifest_digest


def test_make_image_options_and_errors() -> None:
    image = oci.make_image(
        [oci.synthetic_layer("opts", files=1)],
        cmd=[],
        working_dir="/app",
        labels={"z": "1", "a": "2"},
        architecture="arm64",
    )
    config = json.loads(image.config_bytes)
    assert config["config"] == {
        "Env": list(oci.DEFAULT_ENV),
        "WorkingDir": "/app",
        "Labels": {"a": "2", "z": "1"},
    }
    assert list(json.loads(pinned_alpine().config_bytes)["config"]) == [
        "Env",
        "Cmd",
        "WorkingDir",
        "ArgsEscaped",
    ]
    assert b'"Labels":{"a":"2","z":"1"}' in image.config_bytes
    assert config["architecture"] == "arm64"
    assert len(config["history"]) == 1
    with pytest.raises(ValueError):
        oci.make_image([])
    with pytest.raises(ValueError):
        oci.layer_from_spec({"label": "x", "colour": "red"})
    with pytest.raises(ValueError):
        oci.synthetic_layer("a/b")


# ----------------------------------------------------------------------------------------
# Reading manifests

DIGEST_A = "sha256:" + "a" * 64
DIGEST_B = "sha256:" + "b" * 64


def _oci_manifest() -> dict:
    return {
        "schemaVersion": 2,
        "mediaType": oci.MEDIA_TYPE_OCI_MANIFEST,
        "config": {"mediaType": oci.MEDIA_TYPE_OCI_CONFIG, "digest": DIGEST_A, "size": 7023},
        "layers": [{"mediaType": oci.MEDIA_TYPE_OCI_LAYER_GZIP, "digest": DIGEST_B, "size": 32654}],
    }


def test_parse_oci_manifest_with_and_without_media_type() -> None:
    document = _oci_manifest()
    data = json.dumps(document, indent=2).encode()
    parsed = oci.parse_manifest(data)
    assert isinstance(parsed, oci.Manifest)
    assert parsed.media_type == oci.MEDIA_TYPE_OCI_MANIFEST
    assert parsed.referenced_blobs == (DIGEST_A, DIGEST_B)
    assert parsed.referenced_manifests == ()
    assert parsed.raw == data
    del document["mediaType"]
    bare = oci.parse_manifest(json.dumps(document).encode(), oci.MEDIA_TYPE_OCI_MANIFEST)
    assert isinstance(bare, oci.Manifest) and bare.layers[0].size == 32654


@pytest.mark.parametrize(
    "media_type", [oci.MEDIA_TYPE_OCI_INDEX, oci.MEDIA_TYPE_DOCKER_MANIFEST_LIST]
)
def test_parse_index(media_type: str) -> None:
    child_type = (
        oci.MEDIA_TYPE_OCI_MANIFEST
        if media_type == oci.MEDIA_TYPE_OCI_INDEX
        else oci.MEDIA_TYPE_DOCKER_MANIFEST
    )
    document = {
        "schemaVersion": 2,
        "mediaType": media_type,
        "manifests": [
            {
                "mediaType": child_type,
                "size": 528,
                "digest": DIGEST_A,
                "platform": {"architecture": "amd64", "os": "linux"},
            },
            {
                "mediaType": child_type,
                "size": 528,
                "digest": DIGEST_B,
                "platform": {"architecture": "arm", "os": "linux", "variant": "v7"},
            },
        ],
    }
    parsed = oci.parse_manifest(json.dumps(document).encode())
    assert isinstance(parsed, oci.ManifestIndex)
    assert parsed.media_type == media_type
    assert parsed.referenced_manifests == (DIGEST_A, DIGEST_B)
    assert parsed.referenced_blobs == ()
    assert [child.platform for child in parsed.manifests] == ["linux/amd64", "linux/arm/v7"]


def _mutated(change) -> bytes:
    document = _oci_manifest()
    change(document)
    return json.dumps(document).encode()


INVALID_MANIFESTS = {
    "not json": b"{not json",
    "not utf-8": b'{"schemaVersion": 2, "x": "\xff"}',
    "not an object": b"[1, 2]",
    "schema 1": _mutated(lambda d: d.update(schemaVersion=1)),
    "schema string": _mutated(lambda d: d.update(schemaVersion="2")),
    "schema true": _mutated(lambda d: d.update(schemaVersion=True)),
    "no schema": _mutated(lambda d: d.pop("schemaVersion")),
    "no config": _mutated(lambda d: d.pop("config")),
    "no layers": _mutated(lambda d: d.pop("layers")),
    "layers object": _mutated(lambda d: d.update(layers={})),
    "upper-case digest": _mutated(lambda d: d["config"].update(digest="sha256:" + "A" * 64)),
    "short digest": _mutated(lambda d: d["layers"][0].update(digest="sha256:abc")),
    "negative size": _mutated(lambda d: d["layers"][0].update(size=-1)),
    "float size": _mutated(lambda d: d["layers"][0].update(size=1.5)),
    "bool size": _mutated(lambda d: d["layers"][0].update(size=True)),
    "no media type in descriptor": _mutated(lambda d: d["config"].pop("mediaType")),
    "descriptor not object": _mutated(lambda d: d.update(layers=["sha256:" + "a" * 64])),
    "unknown media type": _mutated(lambda d: d.update(mediaType="application/json")),
    "schema1 media type": _mutated(
        lambda d: d.update(mediaType="application/vnd.docker.distribution.manifest.v1+json")
    ),
}


@pytest.mark.parametrize("case", sorted(INVALID_MANIFESTS))
def test_parse_manifest_rejects_invalid(case: str) -> None:
    with pytest.raises(RegistryError) as caught:
        oci.parse_manifest(INVALID_MANIFESTS[case])
    assert caught.value.code == "MANIFEST_INVALID"
    assert caught.value.status == 400
    assert caught.value.detail


def test_parse_manifest_rejects_content_type_mismatch() -> None:
    data = pinned_alpine().manifest
    with pytest.raises(RegistryError, match="manifest invalid"):
        oci.parse_manifest(data, oci.MEDIA_TYPE_OCI_MANIFEST)


def test_docker_schema2_requires_its_media_type_in_the_body() -> None:
    document = json.loads(pinned_alpine().manifest)
    del document["mediaType"]
    with pytest.raises(RegistryError):
        oci.parse_manifest(json.dumps(document).encode(), oci.MEDIA_TYPE_DOCKER_MANIFEST)


def test_media_type_constants_are_dockers_strings() -> None:
    assert oci.MEDIA_TYPE_DOCKER_MANIFEST == "application/vnd.docker.distribution.manifest.v2+json"
    assert oci.MEDIA_TYPE_DOCKER_MANIFEST_LIST == (
        "application/vnd.docker.distribution.manifest.list.v2+json"
    )
    assert oci.MEDIA_TYPE_DOCKER_CONFIG == "application/vnd.docker.container.image.v1+json"
    assert oci.MEDIA_TYPE_DOCKER_LAYER == "application/vnd.docker.image.rootfs.diff.tar.gzip"
    assert oci.MEDIA_TYPE_OCI_MANIFEST == "application/vnd.oci.image.manifest.v1+json"
    assert oci.MEDIA_TYPE_OCI_INDEX == "application/vnd.oci.image.index.v1+json"


def test_layer_keeps_one_copy_of_its_bytes() -> None:
    layer = oci.synthetic_layer("big", files=2, size_hint=200_000)
    assert layer.filler is not None
    assert sum(len(content) for _, content in layer.files) < 2_000  # the filler is not stored
    assert layer.tar == oci.tar_archive(layer.all_files())
    assert layer.diff_id == oci.sha256_digest(layer.tar)
    assert set(vars(layer)) >= {"blob", "diff_id"} and "tar" not in vars(layer)
    path, size = layer.filler
    assert dict(layer.all_files())[path] == oci.filler_text(size)
    assert len(oci.filler_text(size)) == size


def test_cmd_history_is_buildkits_go_quoted_line() -> None:
    image = oci.make_image([{"label": "q", "files": 1}], cmd=["nginx", "-g", 'say "hi"\n\x01é'])
    history = json.loads(image.config_bytes)["history"]
    assert history[-1]["created_by"] == 'CMD ["nginx" "-g" "say \\"hi\\"\\n\\x01é"]'
    assert history[-1]["empty_layer"] is True
