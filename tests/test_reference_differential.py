"""labkit.reference against an independent port, docker-image-py, on generated names.

Both must agree on validity, on the normalized string and on the class of error. Where they
do not, the upstream Go source (distribution/reference v0.6.0 normalize.go, reference.go,
regexp.go; go-digest v1.0.0) was read and labkit follows it; every such kind is named by
``known_port_difference`` and has its own test below showing that labkit does what Go does.
"""

from __future__ import annotations

import re
import string

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from labkit.errors import InvalidReference
from labkit.reference import ANCHORED_DOMAIN_RE, Reference, parse, parse_reference

docker_image = pytest.importorskip("docker_image.reference", reason="docker-image-py missing")

# docker-image-py's try_validate refuses these characters up front (reference.py).
_PORT_INVALID_CHARS = set("?[]{}~!#$%^&*()+|<>,'\"")


def known_port_difference(text: str) -> str | None:
    """Why docker-image-py 0.2.0 and upstream Go may disagree on ``text`` (None: they agree).

    - ``empty``: the port raises NameEmpty for ""; Go's ParseNormalizedNamed has no such
      check, normalizes "" to "docker.io/library/" and Parse says "invalid reference format".
    - ``newline``: the port's ``regex`` ``$`` also matches before a final newline; Go's ``$``
      is the end of the text, so "alpine\\n" is invalid upstream.
    - ``dotted-first-component``: the port's ``try_validate`` rejects a name whose first
      component has a ``.`` but is not a valid host (or whose text has one of a list of
      characters) before anything else; Go has no such step, so it may accept the name as a
      plain path ("a.b_c/alpine") or report a more specific error (uppercase, digest).
    - ``dotted-capital-i``: Python lowers "İ" (U+0130) to two code points; Go's
      ``strings.ToLower`` maps it to "i", so Go's uppercase re-check in Parse can succeed.
    """
    if text == "":
        return "empty"
    if text.endswith("\n"):
        return "newline"
    first, slash, _ = text.partition("/")
    if (
        slash
        and "." in first
        and (_PORT_INVALID_CHARS & set(text) or not ANCHORED_DOMAIN_RE.fullmatch(first))
    ):
        return "dotted-first-component"
    if "\u0130" in text:
        return "dotted-capital-i"
    return None


ERROR_CLASSES = {
    "invalid reference format": "format",
    "repository name must be lowercase": "uppercase",
    "repository name must not be more than 255 characters": "too-long",
    "repository name must have at least one component": "empty",
    "invalid checksum digest length": "digest-length",
    "unsupported digest algorithm": "digest-unsupported",
    "invalid checksum digest format": "digest-format",
    "invalid digest": "digest-format",  # docker-image-py's text for go-digest's format error
}


def error_class(message: str) -> str:
    """Map an error text (labkit's or docker-image-py's) to a class both can share."""
    if message.startswith("invalid reference format: repository name ("):
        return "uppercase-normalized"
    if message.startswith("invalid repository name ("):
        return "identifier"
    return ERROR_CLASSES.get(message, f"unknown: {message}")


def labkit_outcome(text: str) -> tuple[str, str]:
    try:
        return "valid", str(parse_reference(text))
    except InvalidReference as error:
        return "invalid", error_class(str(error))


def port_outcome(text: str) -> tuple[str, str]:
    try:
        return "valid", docker_image.Reference.parse_normalized_named(text).string()
    except Exception as error:  # the port raises several classes; its text says which
        return "invalid", error_class(str(error.args[0]) if error.args else "")


def assert_same_or_known(text: str) -> None:
    ours, theirs = labkit_outcome(text), port_outcome(text)
    if ours != theirs:
        assert known_port_difference(text) is not None, (text, ours, theirs)


# Random text: the characters references are made of, a few troublemakers, and anything.
REFERENCE_CHARS = string.ascii_letters + string.digits + "._-/:@"
random_text = st.one_of(
    st.text(alphabet=REFERENCE_CHARS + " \n$[]", max_size=40),
    st.text(max_size=30),
)

# Structured near-valid names: plausible parts, some of them slightly wrong.
registries = st.sampled_from(
    [
        "",
        "docker.io/",
        "index.docker.io/",
        "localhost/",
        "localhost:5000/",
        "registry.acme.com/",
        "ghcr.io/",
        "127.0.0.1:80/",
        "[::1]:5000/",
        "Registry.Acme.com/",
        "Foo/",
        "a.b_c/",
        "-bad.com/",
        "host:port/",
        "https://registry.acme.com/",
    ]
)
alphanumerics = st.text(alphabet=string.ascii_lowercase + string.digits, min_size=1, max_size=6)
separators = st.sampled_from([".", "_", "__", "-", "--", "---"])
good_components = st.builds(
    lambda first, rest: first + "".join(sep + part for sep, part in rest),
    alphanumerics,
    st.lists(st.tuples(separators, alphanumerics), max_size=2),
)
bad_components = st.sampled_from(
    ["", "Alpine", "-x", "x-", "_x", "a___b", "a..b", "a._b", "ab$", "ü", "a b", "x" * 256]
)
components = st.one_of(good_components, good_components, good_components, bad_components)
tags = st.one_of(
    st.text(alphabet=string.ascii_letters + string.digits + "_.-", min_size=1, max_size=10),
    st.sampled_from(["", ".x", "-x", "a" * 128, "a" * 129, "1.0:latest", "V1", "a b"]),
)
hexes = st.sampled_from(["a" * 64, "A" * 64, "a" * 63, "a" * 65, "a" * 96, "a" * 128, "a" * 31])
digests = st.tuples(
    st.sampled_from(["sha256", "sha384", "sha512", "md5", "SHA256", "sha-256"]), hexes
)


@st.composite
def near_valid_names(draw: st.DrawFn) -> str:
    path = "/".join(draw(st.lists(components, min_size=1, max_size=3)))
    text = draw(registries) + path
    if draw(st.booleans()):
        text += ":" + draw(tags)
    if draw(st.integers(0, 3)) == 0:
        algorithm, hex_part = draw(digests)
        text += f"@{algorithm}:{hex_part}"
    if draw(st.integers(0, 30)) == 0:
        text = text.upper()
    return text


@pytest.mark.slow  # a property test of many examples: `make test`, not test-fast
@settings(max_examples=2500)
@given(random_text)
@example("")
@example("alpine\n")
@example("a.b_c/alpine")
@example("\u0130.com/foo")
def test_agrees_with_docker_image_py_on_random_text(text: str) -> None:
    assert_same_or_known(text)


@pytest.mark.slow  # a property test of many examples: `make test`, not test-fast
@settings(max_examples=2500)
@given(near_valid_names())
@example("fredysa/alpine:1.0")
@example("Alpine")
@example("a" * 64)
def test_agrees_with_docker_image_py_on_near_valid_names(text: str) -> None:
    assert_same_or_known(text)


@settings(max_examples=300)
@given(near_valid_names())
def test_most_generated_names_are_not_known_differences(text: str) -> None:
    """The predicate stays narrow: names without its markers are compared strictly."""
    assume(known_port_difference(text) is None)
    assert labkit_outcome(text) == port_outcome(text)


# One test per kind of known difference: labkit does what upstream Go does.


def test_empty_text_is_invalid_format_like_go() -> None:
    # normalize.go: ParseNormalizedNamed("") -> Parse("docker.io/library/") -> no match.
    assert known_port_difference("") == "empty"
    with pytest.raises(InvalidReference) as caught:
        parse_reference("")
    assert str(caught.value) == "invalid reference format"
    assert port_outcome("") == ("invalid", "empty")
    # Plain Parse("") is the one that says ErrNameEmpty (reference.go).
    with pytest.raises(InvalidReference, match="must have at least one component"):
        parse("")


@pytest.mark.parametrize("text", ["alpine\n", "fredysa/alpine:1.0\n", "a" * 64 + "\n"])
def test_trailing_newline_is_invalid_like_go(text: str) -> None:
    # Go regexp: `$` without (?m) matches only at the end of the text.
    assert known_port_difference(text) == "newline"
    with pytest.raises(InvalidReference) as caught:
        parse_reference(text)
    assert str(caught.value) == "invalid reference format"
    assert port_outcome(text) != labkit_outcome(text)


def test_dotted_first_component_that_is_no_host_is_a_path_like_go() -> None:
    # splitDockerDomain takes "a.b_c" as the domain (it has a "."), but Parse's regexp cannot
    # read it as a host, so the whole name is a remote name with no domain.
    text = "a.b_c/alpine"
    assert known_port_difference(text) == "dotted-first-component"
    assert parse_reference(text) == Reference("", "a.b_c/alpine")
    assert port_outcome(text) == ("invalid", "format")


def test_dotted_first_component_keeps_the_specific_error_like_go() -> None:
    # Go checks the remote name for uppercase before parsing anything else.
    text = "a.b_c/Alpine"
    assert known_port_difference(text) == "dotted-first-component"
    with pytest.raises(InvalidReference) as caught:
        parse_reference(text)
    assert (
        str(caught.value) == "invalid reference format: repository name (Alpine) must be lowercase"
    )
    assert port_outcome(text) == ("invalid", "format")


def test_dotted_capital_i_lowers_to_ascii_like_go() -> None:
    # Go's unicode.ToLower('İ') == 'i' (simple case mapping), so Parse's re-check on the
    # lowered text matches and Go reports ErrNameContainsUppercase.
    text = "foo:\u0130"
    assert known_port_difference(text) == "dotted-capital-i"
    with pytest.raises(InvalidReference) as caught:
        parse_reference(text)
    assert str(caught.value) == "repository name must be lowercase"
    assert port_outcome(text) == ("invalid", "format")
    # The Kelvin sign lowers to "k" in both Go and Python: no difference there.
    assert labkit_outcome("foo:\u212a") == port_outcome("foo:\u212a") == ("invalid", "uppercase")


def test_sha384_and_sha512_are_accepted_like_the_docker_client() -> None:
    # Docker 28.2.2 links crypto/sha512, so go-digest has sha384 and sha512 available:
    # `docker image pull alpine@sha512:<127 hex>` says "invalid checksum digest length".
    for algorithm, size in (("sha384", 96), ("sha512", 128)):
        text = f"alpine@{algorithm}:" + "a" * size
        assert (
            labkit_outcome(text)
            == port_outcome(text)
            == (
                "valid",
                f"docker.io/library/alpine@{algorithm}:" + "a" * size,
            )
        )


def test_error_classes_cover_every_labkit_text() -> None:
    for message in ERROR_CLASSES:
        assert not error_class(message).startswith("unknown")
    assert re.match("unknown", error_class("something else"))
