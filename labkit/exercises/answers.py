"""The answer comparison library: image names and printed lines, part by part.

Each comparison returns :class:`~labkit.exercises.model.Part` results with a stable mistake code
and a message in the student's words; the kinds' default checks and the labs' own checkers use
them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from labkit.errors import InvalidReference
from labkit.exercises.model import MISTAKES, FormatError, Part, Variant
from labkit.reference import DEFAULT_DOMAIN, LEGACY_DEFAULT_DOMAIN, Reference, parse_reference

__all__ = [
    "DOCKER_HUB_NAMES",
    "ReferenceAnswer",
    "compare_lines",
    "compare_reference_parts",
    "compare_references",
    "normalize_lines",
    "parse_reference_answer",
]


# -- references: parsing answers and comparing them part by part ---------------------------------

_SCHEME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


@dataclass(frozen=True)
class ReferenceAnswer:
    """An image name as the student typed it, and how Docker reads it.

    ``reference`` is None when Docker rejects the name for a reason worth a mistake code
    (a URL scheme, uppercase letters); ``error`` and ``hint`` then say why.
    """

    text: str
    reference: Reference | None
    mistake: str | None = None
    error: str | None = None
    hint: str | None = None


def parse_reference_answer(raw: Any, variant: Variant | None = None) -> ReferenceAnswer:
    """Parse a typed image name. Teachable errors (URL scheme, uppercase) are answers that
    get their mistake code; any other invalid name is a FormatError with Docker's text."""
    if not isinstance(raw, str) or not raw.strip():
        raise FormatError("type an image name, such as `alpine:3.21`")
    text = raw.strip()
    try:
        return ReferenceAnswer(text, parse_reference(text))
    except InvalidReference as error:
        mistake = None
        if _SCHEME_RE.match(text):
            mistake = "url-scheme"
        elif "must be lowercase" in error.message:
            mistake = "uppercase-repo"
        if mistake is None:
            raise FormatError(f"Docker says: {error.message}", error.hint) from None
        return ReferenceAnswer(text, None, mistake, error.message, error.hint)


def _typed_parts(text: str) -> tuple[str | None, str]:
    """(domain as typed or None, the rest) following Docker's splitDockerDomain rule."""
    first, slash, rest = text.partition("/")
    if slash and (first == "localhost" or "." in first or ":" in first):
        return first, rest
    return None, text


def compare_references(
    answer: ReferenceAnswer | str, key: Reference | str, *, fully_qualified: bool = False
) -> list[Part]:
    """Compare a typed image name with the key: registry, namespace, name and tag parts.

    With ``fully_qualified`` the name must be written out in full (``docker.io/library/...:tag``):
    Docker's defaults do not count as typed. Mistakes: url-scheme, uppercase-repo,
    missing-registry, missing-library, wrong-registry, wrong-namespace, wrong-name, missing-tag,
    latest-is-newest, wrong-tag, wrong-digest.
    """
    if isinstance(answer, str):
        answer = parse_reference_answer(answer)
    key_ref = parse_reference(key) if isinstance(key, str) else key
    weight = 1.0
    names = ("registry", "namespace", "name", "tag")
    if answer.reference is None:
        message = MISTAKES[answer.mistake or "wrong-name"]
        if answer.hint:
            message = f"{message}. Docker says: {answer.error} ({answer.hint})"
        return [Part(n, 0.0, weight, answer.mistake, message) for n in names]
    ref = answer.reference
    typed_domain, typed_rest = _typed_parts(answer.text)
    parts: list[Part] = []
    # registry
    if ref.domain != key_ref.domain:
        parts.append(
            Part(
                "registry",
                0.0,
                weight,
                "wrong-registry",
                f"the registry is `{ref.domain}`; this image is on `{key_ref.domain}`",
            )
        )
    elif fully_qualified and typed_domain is None:
        parts.append(
            Part(
                "registry",
                0.0,
                weight,
                "missing-registry",
                f"write the registry too: `{key_ref.domain}/` comes first in a fully "
                "qualified name",
            )
        )
    else:
        parts.append(Part("registry", 1.0, weight))
    # namespace
    typed_path = typed_rest.partition("@")[0]
    if ":" in typed_path.rsplit("/", 1)[-1]:
        typed_path = typed_path.rsplit(":", 1)[0]
    if ref.namespace != key_ref.namespace:
        parts.append(
            Part(
                "namespace",
                0.0,
                weight,
                "wrong-namespace",
                f"the namespace is `{ref.namespace or '(none)'}`; it should be "
                f"`{key_ref.namespace or '(none)'}`",
            )
        )
    elif fully_qualified and key_ref.is_official and "/" not in typed_path:
        parts.append(
            Part(
                "namespace",
                0.0,
                weight,
                "missing-library",
                "official images live in `library/`: the full name is "
                f"`{key_ref.domain}/{key_ref.path}`",
            )
        )
    else:
        parts.append(Part("namespace", 1.0, weight))
    # name
    if ref.name != key_ref.name:
        parts.append(
            Part(
                "name",
                0.0,
                weight,
                "wrong-name",
                f"the repository name is `{ref.name}`; it should be `{key_ref.name}`",
            )
        )
    else:
        parts.append(Part("name", 1.0, weight))
    # tag (and digest)
    parts.append(_compare_tag(ref.tag, key_ref.tag, fully_qualified, ref.digest, weight))
    if key_ref.digest is not None and ref.digest != key_ref.digest:
        parts.append(Part("digest", 0.0, weight, "wrong-digest", MISTAKES["wrong-digest"]))
    return parts


def _compare_tag(
    tag: str | None, key_tag: str | None, explicit: bool, digest: str | None, weight: float
) -> Part:
    effective_key = key_tag or "latest"
    if tag is None and digest is not None and key_tag is None:
        return Part("tag", 1.0, weight)
    if tag is None:
        if effective_key == "latest" and not explicit:
            return Part("tag", 1.0, weight)
        if effective_key == "latest":
            return Part(
                "tag", 0.0, weight, "missing-tag", "write the tag too: Docker's default is `latest`"
            )
        return Part(
            "tag",
            0.0,
            weight,
            "missing-tag",
            f"without a tag Docker uses `latest`, not `{effective_key}`",
        )
    if tag == effective_key:
        return Part("tag", 1.0, weight)
    if tag == "latest":
        return Part(
            "tag",
            0.0,
            weight,
            "latest-is-newest",
            f"`latest` is just a tag's name, not a promise of the newest version: the tag "
            f"asked for is `{effective_key}`",
        )
    message = f"the tag is `{tag}`; it should be `{effective_key}`"
    return Part("tag", 0.0, weight, "wrong-tag", message)


# Registry names Docker reads as Docker Hub (distribution/reference normalize.go:
# defaultDomain "docker.io" and legacyDefaultDomain "index.docker.io").
DOCKER_HUB_NAMES = frozenset({DEFAULT_DOMAIN, LEGACY_DEFAULT_DOMAIN})


def compare_reference_parts(answer: Mapping[str, str | None], key: Reference | str) -> list[Part]:
    """Compare named parts (registry, namespace, name, tag) with the key's, one Part each.

    Empty parts mean "none typed"; ``docker.io`` and ``index.docker.io`` both name Docker Hub
    (Docker normalizes the legacy name); ``registry-1.docker.io`` is its endpoint, not its name.
    """
    key_ref = parse_reference(key) if isinstance(key, str) else key
    key_tag = key_ref.tag or "latest"
    registry = (answer.get("registry") or "").strip()
    namespace = (answer.get("namespace") or "").strip()
    name = (answer.get("name") or "").strip()
    tag = (answer.get("tag") or "").strip()
    parts = []
    key_registry = key_ref.domain
    if registry == key_registry or (key_registry == "docker.io" and registry in DOCKER_HUB_NAMES):
        parts.append(Part("registry", 1.0))
    elif not registry:
        parts.append(
            Part(
                "registry",
                0.0,
                1.0,
                "missing-registry",
                f"every image has a registry: when none is typed, Docker uses `{key_registry}`",
            )
        )
    else:
        note = ""
        if key_registry == "docker.io" and "docker" in registry:
            note = " (`docker.io` is Docker Hub's name in image references)"
        parts.append(
            Part(
                "registry",
                0.0,
                1.0,
                "wrong-registry",
                f"the registry is `{key_registry}`, not `{registry}`{note}",
            )
        )
    key_namespace = key_ref.namespace or ""
    if namespace == key_namespace:
        parts.append(Part("namespace", 1.0))
    elif not namespace and key_ref.is_official:
        parts.append(
            Part(
                "namespace",
                0.0,
                1.0,
                "missing-library",
                "official images on Docker Hub are in the `library` namespace",
            )
        )
    else:
        parts.append(
            Part(
                "namespace",
                0.0,
                1.0,
                "wrong-namespace",
                f"the namespace is `{key_namespace or '(none)'}`, not `{namespace or '(none)'}`",
            )
        )
    if name == key_ref.name:
        parts.append(Part("name", 1.0))
    elif name.lower() == key_ref.name:
        parts.append(Part("name", 0.0, 1.0, "uppercase-repo", MISTAKES["uppercase-repo"]))
    else:
        parts.append(
            Part("name", 0.0, 1.0, "wrong-name", f"the name is `{key_ref.name}`, not `{name}`")
        )
    if tag == key_tag:
        parts.append(Part("tag", 1.0))
    elif not tag:
        parts.append(
            Part(
                "tag",
                0.0,
                1.0,
                "missing-tag",
                f"an image always has a tag here: the name shows `{key_tag}`"
                + (" (Docker's default when none is typed)" if key_tag == "latest" else ""),
            )
        )
    elif tag == "latest":
        parts.append(Part("tag", 0.0, 1.0, "latest-is-newest", MISTAKES["latest-is-newest"]))
    else:
        parts.append(Part("tag", 0.0, 1.0, "wrong-tag", f"the tag is `{key_tag}`, not `{tag}`"))
    return parts


# -- lines (predict the output) ---------------------------------------------------------------


def normalize_lines(text: str) -> list[str]:
    """Lines with runs of whitespace collapsed, ends stripped, blank lines at the ends dropped."""
    lines = [" ".join(line.split()) for line in text.replace("\r\n", "\n").split("\n")]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return lines


def _line_difference(index: int, got: str, want: str) -> str:
    """Where a predicted line leaves Docker's, without giving Docker's line away: what
    matches, and the word that does not (a line found elsewhere is named as misplaced)."""
    number = index + 1
    words, expected = got.split(), want.split()
    same = 0
    while same < min(len(words), len(expected)) and words[same] == expected[same]:
        same += 1
    if same == 0:
        return (
            f"line {number} starts differently: Docker's line {number} does not begin with "
            f"`{words[0] if words else ''}`"
        )
    if same == len(expected):
        return f"line {number} has words Docker does not print after `{' '.join(words[:same])}`"
    if same == len(words) or (same == len(words) - 1 and expected[same].startswith(words[same])):
        return f"line {number} stops early: Docker prints more after `{got}`"
    return (
        f"line {number} is right up to `{' '.join(words[:same])}`, then `{words[same]}` is not "
        "what Docker prints"
    )


def compare_lines(answer: str, key: str) -> list[Part]:
    """One Part per expected line (whitespace normalized), plus one for extra lines."""
    got, want = normalize_lines(answer), normalize_lines(key)
    parts = []
    for i, line in enumerate(want):
        if i >= len(got):
            parts.append(
                Part(f"line {i + 1}", 0.0, 1.0, "missing-lines", f"line {i + 1} is missing")
            )
        elif got[i] == line:
            parts.append(Part(f"line {i + 1}", 1.0))
        else:
            parts.append(
                Part(f"line {i + 1}", 0.0, 1.0, "wrong-line", _line_difference(i, got[i], line))
            )
    placed = {line: i for i, line in enumerate(want)}
    for part in parts:
        if part.mistake == "wrong-line":
            i = int(part.name.split()[1]) - 1
            if got[i] in placed and placed[got[i]] != i:
                where = placed[got[i]] + 1
                part_index = parts.index(part)
                parts[part_index] = Part(
                    part.name,
                    0.0,
                    1.0,
                    "wrong-line",
                    f"line {i + 1} is one Docker prints, but as line {where}: check the order",
                )
    if len(got) > len(want):
        extra = len(got) - len(want)
        parts.append(
            Part("extra lines", 0.0, 1.0, "extra-lines", f"{extra} line(s) more than printed")
        )
    return parts
