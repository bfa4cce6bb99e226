"""Every vector of tests/data/conformance/reference-vectors.json (distribution/reference v0.6.0).

The vectors come from the upstream Go tests, which register only the sha256 digest algorithm,
so parsing runs here with ``UPSTREAM_TEST_DIGEST_ALGORITHMS`` (labkit's default follows the
real Docker client, which also accepts sha384 and sha512; see test_reference.py).
Test ids name the section, so ``pytest -v`` shows the count per section; the session also
prints a summary line per section (see ``test_every_section_is_covered``).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from labkit.errors import InvalidReference
from labkit.reference import (
    ANCHORED_DOMAIN_RE,
    ANCHORED_IDENTIFIER_RE,
    ANCHORED_NAME_RE,
    REFERENCE_RE,
    UPSTREAM_TEST_DIGEST_ALGORITHMS,
    Reference,
    familiar_match,
    parse,
    parse_any_reference,
    parse_docker_ref,
    parse_named,
    parse_reference,
    with_name,
)

VECTORS_FILE = Path(__file__).resolve().parent / "data" / "conformance" / "reference-vectors.json"
SECTIONS = (
    "parse",
    "with_name",
    "with_tag",
    "with_digest",
    "parse_named",
    "normalize",
    "familiar_match",
    "regexp",
)
UPSTREAM = {"digest_algorithms": UPSTREAM_TEST_DIGEST_ALGORITHMS}


def _load() -> dict:
    return json.loads(VECTORS_FILE.read_text(encoding="utf-8"))


VECTORS = _load()


def _cases(section: str) -> list:
    """One pytest param per vector, id ``section-N``."""
    vectors = VECTORS[section]
    return [pytest.param(vector, id=f"{section}-{i:03d}") for i, vector in enumerate(vectors)]


@pytest.fixture
def vectors_file() -> Path:
    return VECTORS_FILE


def _need(vector: dict | None, vectors_file: Path) -> dict:
    assert vectors_file.is_file() and vector is not None
    return vector


def _or_empty(value: str | None) -> str:
    return "" if value is None else value


def _assert_reference(ref: Reference, vector: dict, string_key: str) -> None:
    assert str(ref) == vector[string_key]
    for key in ("domain", "path", "tag", "digest"):
        if key in vector:
            assert _or_empty(getattr(ref, key)) == vector[key], key
    if "kind" in vector:
        assert ref.kind == vector["kind"]
    if "name" in vector:
        assert ref.repository == vector["name"]


def _assert_error(call, vector: dict) -> None:
    with pytest.raises(InvalidReference) as caught:
        call()
    assert str(caught.value) == vector["error"]
    assert caught.value.hint, "every error carries a hint"


@pytest.mark.parametrize("vector", _cases("parse"))
def test_parse(vector: dict | None, vectors_file: Path) -> None:
    vector = _need(vector, vectors_file)
    if not vector["valid"]:
        _assert_error(lambda: parse(vector["input"], **UPSTREAM), vector)
        return
    _assert_reference(parse(vector["input"], **UPSTREAM), vector, "string")


@pytest.mark.parametrize("vector", _cases("with_name"))
def test_with_name(vector: dict | None, vectors_file: Path) -> None:
    vector = _need(vector, vectors_file)
    if not vector["valid"]:
        _assert_error(lambda: with_name(vector["input"]), vector)
        return
    ref = with_name(vector["input"])
    assert (ref.domain, ref.path, ref.tag, ref.digest) == (
        vector["domain"],
        vector["path"],
        None,
        None,
    )


@pytest.mark.parametrize("vector", _cases("with_tag"))
def test_with_tag(vector: dict | None, vectors_file: Path) -> None:
    vector = _need(vector, vectors_file)
    ref = with_name(vector["name"])
    if "digest" in vector:
        ref = ref.with_digest(vector["digest"])
    assert vector["valid"]
    assert str(ref.with_tag(vector["tag"])) == vector["string"]


@pytest.mark.parametrize("vector", _cases("with_digest"))
def test_with_digest(vector: dict | None, vectors_file: Path) -> None:
    vector = _need(vector, vectors_file)
    ref = with_name(vector["name"])
    if "tag" in vector:
        ref = ref.with_tag(vector["tag"])
    assert vector["valid"]
    assert str(ref.with_digest(vector["digest"])) == vector["string"]


@pytest.mark.parametrize("vector", _cases("parse_named"))
def test_parse_named(vector: dict | None, vectors_file: Path) -> None:
    vector = _need(vector, vectors_file)
    if not vector["valid"]:
        _assert_error(lambda: parse_named(vector["input"], **UPSTREAM), vector)
        return
    ref = parse_named(vector["input"], **UPSTREAM)
    assert (ref.domain, ref.path) == (vector["domain"], vector["path"])


def _normalize_function(vector: dict):
    func = vector["func"]
    if func == "ParseNormalizedNamed":
        return lambda text: parse_reference(text, **UPSTREAM)
    if func == "ParseAnyReference":
        return lambda text: parse_any_reference(text, **UPSTREAM)
    if func == "ParseDockerRef":
        return lambda text: parse_docker_ref(text, **UPSTREAM)
    if func.startswith("WithTag(ParseNormalizedNamed(") or func.startswith(
        "WithDigest(ParseNormalizedNamed("
    ):
        base = func.split('"')[1]
        method = "with_tag" if func.startswith("WithTag") else "with_digest"
        return lambda text: getattr(parse_reference(base, **UPSTREAM), method)(text)
    raise AssertionError(f"no labkit function for {func}")


@pytest.mark.parametrize("vector", _cases("normalize"))
def test_normalize(vector: dict | None, vectors_file: Path) -> None:
    vector = _need(vector, vectors_file)
    function = _normalize_function(vector)
    if not vector["valid"]:
        _assert_error(lambda: function(vector["input"]), vector)
        return
    ref = function(vector["input"])
    _assert_reference(ref, vector, "full")
    assert ref.familiar == vector["familiar"]
    assert ref.familiar_name == vector["familiar_name"]
    if ref.kind != "digest":
        assert str(ref.with_default_tag()) == vector["tag_name_only"]


@pytest.mark.parametrize("vector", _cases("familiar_match"))
def test_familiar_match(vector: dict | None, vectors_file: Path) -> None:
    vector = _need(vector, vectors_file)
    ref = parse_any_reference(vector["reference"], **UPSTREAM)
    if vector.get("expected_error"):
        with pytest.raises(ValueError, match="syntax error in pattern"):
            familiar_match(vector["pattern"], ref)
        return
    assert ref.familiar == vector["familiar_string"]
    assert ref.familiar_name == vector["familiar_name"]
    assert familiar_match(vector["pattern"], ref) is vector["expected"]
    assert familiar_match(vector["pattern"], vector["reference"]) is vector["expected"]


REGEXPS = {
    "^domainAndPort$": ANCHORED_DOMAIN_RE,
    "anchoredNameRegexp": ANCHORED_NAME_RE,
    "referenceRegexp": REFERENCE_RE,
    "anchoredIdentifierRegexp": ANCHORED_IDENTIFIER_RE,
}


@pytest.mark.parametrize("vector", _cases("regexp"))
def test_regexp(vector: dict | None, vectors_file: Path) -> None:
    vector = _need(vector, vectors_file)
    match = REGEXPS[vector["regexp"]].fullmatch(vector["input"])
    assert (match is not None) is vector["match"]
    if match is not None and "subs" in vector:
        assert [_or_empty(group) for group in match.groups()] == vector["subs"]


def test_every_section_is_covered(vectors_file: Path, capsys: pytest.CaptureFixture) -> None:
    """The file's own counts match what was parametrized, and every section is tested."""
    data = json.loads(vectors_file.read_text(encoding="utf-8"))
    sections = [key for key, value in data.items() if isinstance(value, list) and key in SECTIONS]
    assert sorted(sections) == sorted(SECTIONS), "a new section needs a test"
    counts = Counter({section: len(data[section]) for section in SECTIONS})
    assert dict(counts) == data["counts"]
    with capsys.disabled():
        summary = ", ".join(f"{section} {counts[section]}" for section in SECTIONS)
        print(f"\nreference vectors tested: {summary}; total {sum(counts.values())}")
