"""labkit.reference: the public API, hints, explain, and a fuzz test of the parser."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import labkit
from labkit import reference
from labkit.errors import InvalidReference
from labkit.reference import (
    Explanation,
    Reference,
    explain,
    familiar_match,
    parse,
    parse_any_reference,
    parse_docker_ref,
    parse_named,
    parse_reference,
    parse_reference_uncached,
    with_name,
)
from labkit.registry import Repository

HEX64 = "e6693c20186f837fc393390135d8a598a96a833917917789d63766cab6c59582"


def error_of(text: str, function=parse_reference) -> InvalidReference:
    with pytest.raises(InvalidReference) as caught:
        function(text)
    return caught.value


# --- the design's public API ------------------------------------------------------------


def test_design_example_alpine() -> None:
    ref = labkit.parse_reference("alpine")
    assert (ref.domain, ref.path, ref.tag, ref.digest) == (
        "docker.io",
        "library/alpine",
        None,
        None,
    )
    assert str(ref) == "docker.io/library/alpine"
    assert ref.familiar == "alpine"
    assert str(ref.with_default_tag()) == "docker.io/library/alpine:latest"
    assert (ref.namespace, ref.name) == ("library", "alpine")
    assert ref.endpoint == "registry-1.docker.io"
    assert ref.is_official
    assert ref.repository == "docker.io/library/alpine"
    assert ref.kind == "repository"


@pytest.mark.parametrize(
    ("text", "namespace", "name", "endpoint", "official", "familiar"),
    [
        ("fredysa/alpine:1.0", "fredysa", "alpine", "registry-1.docker.io", False, None),
        ("x.io/a/b/c", "a/b", "c", "x.io", False, None),
        ("localhost:5000/app", None, "app", "localhost:5000", False, None),
        (
            "docker.io/library/alpine:3.19",
            "library",
            "alpine",
            "registry-1.docker.io",
            True,
            "alpine:3.19",
        ),
        (
            "docker.io/library/foo/bar",
            "library/foo",
            "bar",
            "registry-1.docker.io",
            False,
            "library/foo/bar",
        ),
        ("index.docker.io/nginx", "library", "nginx", "registry-1.docker.io", True, "nginx"),
        (
            "registry.acme.com/engineering/web-app:1.0",
            "engineering",
            "web-app",
            "registry.acme.com",
            False,
            None,
        ),
    ],
)
def test_parts(text, namespace, name, endpoint, official, familiar) -> None:
    ref = parse_reference(text)
    assert ref.namespace == namespace
    assert ref.name == name
    assert ref.endpoint == endpoint
    assert ref.is_official is official
    assert ref.familiar == (familiar or text)


def test_reference_is_frozen_and_hashable() -> None:
    ref = parse_reference("alpine:3.19")
    with pytest.raises(dataclasses.FrozenInstanceError):
        ref.tag = "latest"  # type: ignore[misc]
    assert {ref: 1}[Reference("docker.io", "library/alpine", "3.19")] == 1


def test_cached_and_uncached_agree() -> None:
    for text in ("alpine", "fredysa/alpine:1.0", f"alpine@sha256:{HEX64}"):
        assert parse_reference(text) == parse_reference_uncached(text)
    assert parse_reference("alpine") is parse_reference("alpine")


def test_tag_and_digest_forms() -> None:
    ref = parse_reference(f"alpine:3.19@sha256:{HEX64}")
    assert ref.kind == "reference"
    assert str(ref) == f"docker.io/library/alpine:3.19@sha256:{HEX64}"
    assert ref.with_default_tag() is ref
    assert parse_docker_ref(f"alpine:3.19@sha256:{HEX64}").tag is None
    assert str(parse_docker_ref("alpine")) == "docker.io/library/alpine:latest"
    assert ref.name_only() == Reference("docker.io", "library/alpine")
    assert str(parse_reference("alpine").with_tag("V1")) == "docker.io/library/alpine:V1"
    assert error_of("-x", parse_reference("alpine").with_tag).message == "invalid tag format"
    assert (
        error_of("nope", parse_reference("alpine").with_digest).message == "invalid digest format"
    )


def test_parse_any_reference_digest_only() -> None:
    ref = parse_any_reference(HEX64)
    assert (ref.domain, ref.path, ref.digest, ref.kind) == ("", "", f"sha256:{HEX64}", "digest")
    assert str(ref) == ref.familiar == f"sha256:{HEX64}"
    assert ref.familiar_name == ""
    assert ref.with_default_tag() is ref
    assert parse_any_reference("alpine") == parse_reference("alpine")


def test_plain_parse_and_with_name_use_the_grammar_only() -> None:
    assert parse("a/b") == Reference("a", "b")
    assert parse("alpine") == Reference("", "alpine")
    assert with_name("localhost:5000/app") == Reference("localhost:5000", "app")
    assert parse_named("docker.io/library/alpine") == parse_reference("alpine")
    assert error_of("alpine", parse_named).message == "repository name must be canonical"
    assert "docker.io/library/alpine" in error_of("alpine", parse_named).hint


def test_docker_client_digest_algorithms() -> None:
    # The real 28.2.2 client: sha512 with 127 hex -> "invalid checksum digest length".
    assert error_of("alpine@sha512:" + "a" * 127).message == "invalid checksum digest length"
    assert parse_reference("alpine@sha512:" + "a" * 128).digest == "sha512:" + "a" * 128
    assert error_of("alpine@md5:" + "a" * 32).message == "unsupported digest algorithm"
    assert error_of("alpine@sha256:" + "A" * 64).message == "invalid checksum digest format"


def test_familiar_match() -> None:
    assert familiar_match("*/foo/c/baz", "example.com/foo/c/baz:tag")
    assert not familiar_match("foo/**/ba[rz]", "foo/any/bat")
    assert familiar_match("alpine", "docker.io/library/alpine:3.19")
    assert familiar_match("alp?ne:*", "alpine:3.19")
    assert not familiar_match("*", "fredysa/alpine")
    with pytest.raises(ValueError, match="syntax error in pattern"):
        familiar_match("[-x]", "foo")


def test_non_str_is_a_type_error() -> None:
    for function in (parse_reference, parse, parse_any_reference, parse_named, explain):
        with pytest.raises(TypeError):
            function(42)  # type: ignore[arg-type]


# --- errors: Docker's text and a hint that says which rule and where ----------------------


@pytest.mark.parametrize(
    ("text", "message", "hint_has"),
    [
        (
            "Alpine",
            "invalid reference format: repository name (library/Alpine) must be lowercase",
            ["`Alpine`", "lowercase", "`alpine`", "fine in a tag"],
        ),
        (
            "fredysa/Alpine:V1",
            "invalid reference format: repository name (fredysa/Alpine) must be lowercase",
            ["`fredysa/Alpine`", "`A`", "fine in a tag"],
        ),
        (
            "https://registry.acme.com/engineering/web-app:1.0",
            "invalid reference format",
            ["`https://`", "scheme", "`registry.acme.com/engineering/web-app:1.0`"],
        ),
        ("fredysa//alpine", "invalid reference format", ["`//`", "single `/`"]),
        ("/alpine", "invalid reference format", ["starts with `/`"]),
        ("fredysa/", "invalid reference format", ["ends with `/`"]),
        ("-docker", "invalid reference format", ["`-docker`", "starts with", "`-`"]),
        ("docker-/docker", "invalid reference format", ["`docker-`", "ends with", "1st"]),
        ("fredysa/web_app_", "invalid reference format", ["`web_app_`", "ends with", "2nd"]),
        ("my___app", "invalid reference format", ["`___`", "`my___app`"]),
        ("my..app", "invalid reference format", ["`..`", "`my..app`"]),
        ("alpine:.hidden", "invalid reference format", ["`.hidden`", "starts with `.`"]),
        ("alpine:-rc1", "invalid reference format", ["`-rc1`", "starts with `-`"]),
        ("alpine:" + "v" * 129, "invalid reference format", ["129 characters", "128"]),
        ("alpine:3.19 latest", "invalid reference format", ["a space", "position 12"]),
        ("my app", "invalid reference format", ["a space", "position 3"]),
        (
            "alpine:3.19:latest",
            "invalid reference format",
            ["more than one `:`", "`alpine:3.19:latest`"],
        ),
        (
            "alpine@sha256:" + "a" * 63,
            "invalid checksum digest length",
            ["63 hex characters", "exactly 64"],
        ),
        ("alpine@sha256:abc", "invalid reference format", ["only 3 hex characters"]),
        ("alpine@md5:" + "a" * 32, "unsupported digest algorithm", ["`md5`", "sha256"]),
        ("alpine@sha256:" + "A" * 64, "invalid checksum digest format", ["uppercase", "lowercase"]),
        (
            HEX64,
            f"invalid repository name ({HEX64}), cannot specify 64-byte hexadecimal strings",
            ["64 hexadecimal characters", "image ID"],
        ),
        (
            "fredysa/" + "a" * 250,
            "repository name must not be more than 255 characters",
            ["258 characters", "at most 255", "host and the tag are not counted"],
        ),
        ("", "invalid reference format", ["empty"]),
        ("café", "invalid reference format", ["`café`", "'é'"]),
        ("registry.acme.com:http/app", "invalid reference format", ["`http`", "not a number"]),
        ("-acme.com/app", "invalid reference format", ["`-acme`", "starts or ends with `-`"]),
        ("alpine@", "invalid reference format", ["no `:`"]),
        ("a@b@c", "invalid reference format", ["more than one `@`"]),
    ],
)
def test_error_text_and_hint(text: str, message: str, hint_has: list[str]) -> None:
    error = error_of(text)
    assert str(error) == message
    assert error.text == text
    assert isinstance(error, ValueError)
    for fragment in hint_has:
        assert fragment in error.hint, (fragment, error.hint)


def test_uppercase_in_tag_and_registry_is_fine() -> None:
    assert parse_reference("alpine:Latest").tag == "Latest"
    assert parse_reference("Registry.Acme.com/app").domain == "Registry.Acme.com"


def test_plain_parse_uppercase_hint() -> None:
    error = error_of("test:5000/Uppercase/lowercase:tag", parse)
    assert str(error) == "repository name must be lowercase"
    assert "`U`" in error.hint


# --- explain ------------------------------------------------------------------------------


def test_explain_fredysa_alpine() -> None:
    explanation = explain("fredysa/alpine")
    registry = explanation.part("registry")
    assert (registry.value, registry.typed) == ("docker.io", False)
    assert registry.why == (
        "by default: `fredysa` has no `.` or `:` and is not `localhost`, so it is a Docker Hub "
        "namespace"
    )
    namespace = explanation.part("namespace")
    assert (namespace.value, namespace.typed) == ("fredysa", True)
    assert explanation.part("name").value == "alpine"
    tag = explanation.part("tag")
    assert (tag.value, tag.typed, tag.why) == ("latest", False, "by default: no tag was given")
    assert explanation.part("digest").value is None
    assert explanation.familiar == "fredysa/alpine"
    assert explanation.fully_qualified == "docker.io/fredysa/alpine:latest"
    assert explanation.canonical == "docker.io/fredysa/alpine"
    assert explanation.endpoint == "registry-1.docker.io"
    assert explanation.ok and not explanation.is_official


def test_explain_official_image_defaults() -> None:
    explanation = explain("alpine:3.19")
    namespace = explanation.part("namespace")
    assert (namespace.value, namespace.typed) == ("library", False)
    assert namespace.why == "by default: official images live in `library/`"
    assert explanation.part("registry").why.startswith("by default: `alpine` has no `/`")
    assert explanation.part("tag").typed
    assert explanation.is_official


def test_explain_typed_registry_and_no_namespace() -> None:
    explanation = explain("localhost:5000/app")
    assert explanation.part("registry").typed
    assert "`localhost:5000`" in explanation.part("registry").why
    assert explanation.part("namespace").value is None
    assert explanation.endpoint == "localhost:5000"
    assert explain("docker.io/library/alpine").part("namespace").typed


def test_explain_dotted_first_component_that_is_no_host() -> None:
    # Upstream: splitDockerDomain takes "a.b_c" as a domain, Parse reads it as a path.
    explanation = explain("a.b_c/alpine")
    registry = explanation.part("registry")
    assert (registry.value, registry.typed) == (None, False)
    assert "not a valid host name" in registry.why
    assert explanation.canonical == "a.b_c/alpine"


def test_explain_digest_means_no_default_tag() -> None:
    explanation = explain(f"alpine@sha256:{HEX64}")
    assert explanation.part("tag").value is None
    assert explanation.part("digest").typed
    assert explanation.fully_qualified == f"docker.io/library/alpine@sha256:{HEX64}"


def test_explain_invalid_does_not_raise() -> None:
    explanation = explain("Alpine")
    assert not explanation.ok
    assert explanation.error == (
        "invalid reference format: repository name (library/Alpine) must be lowercase"
    )
    assert "lowercase" in explanation.hint
    assert explanation.parts == ()


def test_explanation_is_json_able() -> None:
    for text in ("fredysa/alpine:1.0", "Alpine"):
        data = explain(text).to_dict()
        assert json.loads(json.dumps(data)) == data
        assert isinstance(explain(text), Explanation)
    assert explain("alpine").to_dict()["parts"][0]["part"] == "registry"


# --- nothing but InvalidReference escapes --------------------------------------------------

PARSERS = (parse_reference, parse, parse_any_reference, parse_docker_ref, parse_named, with_name)


def only_invalid_reference_escapes(text: str) -> None:
    for function in PARSERS:
        try:
            function(text)
        except InvalidReference as error:
            assert str(error) and error.hint and error.text == text
    explanation = explain(text)
    assert explanation.ok or (explanation.error and explanation.hint)


@pytest.mark.slow  # a property test of many examples: `make test`, not test-fast
@settings(max_examples=1500)
@given(st.text())
def test_fuzz_arbitrary_text(text: str) -> None:
    only_invalid_reference_escapes(text)


@pytest.mark.slow  # a property test of many examples: `make test`, not test-fast
@settings(max_examples=200)
@given(
    st.text(alphabet="aZ9._-/:@[] \u00e9\u0130\U0001f600\x00\ud800", min_size=1, max_size=8),
    st.integers(min_value=1, max_value=20_000),
)
def test_fuzz_very_long_text(piece: str, times: int) -> None:
    only_invalid_reference_escapes(piece * times)


@pytest.mark.parametrize(
    "text",
    ["a" * 100_000, "a-" * 50_000 + "!", "a/" * 30_000, "a." * 30_000 + "/b", "x:" + "1" * 99_999],
)
def test_huge_inputs(text: str) -> None:
    only_invalid_reference_escapes(text)


def test_reference_module_imports_only_the_standard_library() -> None:
    code = (
        "import sys; before = set(sys.modules); import labkit.reference; "
        "new = set(sys.modules) - before; "
        "print(sorted(m for m in new if m.split('.')[0] not in sys.stdlib_module_names))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert (
        result.stdout.strip()
        == "['labkit', 'labkit._version', 'labkit.errors', 'labkit.reference']"
    )


def test_namespace_means_one_thing_for_references_and_repositories() -> None:
    ref = parse_reference("registry.acme.com/engineering/team/web-app:1.0")
    repo = Repository(ref.path)
    assert ref.namespace == repo.namespace == "engineering/team"
    assert repo.account == "engineering"
    hub = parse_reference("fredysa/app")
    assert hub.namespace == Repository(hub.path).namespace == Repository(hub.path).account
    assert parse_reference("localhost/app").namespace is None
    assert Repository("app").namespace is None and Repository("app").account is None


def test_docker_hub_host_names_in_one_place() -> None:
    assert reference.is_docker_hub("docker.io") and reference.is_docker_hub("index.docker.io")
    assert not reference.is_docker_hub("ghcr.io")
    assert reference.endpoint_for("index.docker.io") == "registry-1.docker.io"
    assert reference.endpoint_for("localhost:5000") == "localhost:5000"
    assert reference.login_key("docker.io") == "https://index.docker.io/v1/"
    assert reference.login_key("ghcr.io") == "ghcr.io"
    assert parse_reference("alpine").endpoint == reference.endpoint_for("docker.io")
