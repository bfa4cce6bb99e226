"""Image references exactly as Docker reads them (distribution/reference v0.6.0).

``parse_reference`` is Docker's ``ParseNormalizedNamed``: every docker command parses the
names a user types with it. ``parse`` is the plain ``Parse`` (no Docker Hub defaults);
``parse_any_reference``, ``parse_docker_ref``, ``parse_named`` and ``with_name`` mirror
their Go namesakes. Errors are ``InvalidReference`` with Docker's exact text and a hint in
plain words; ``explain`` breaks a name into its parts for a student.

Deliberate choice: digests accept sha256, sha384 and sha512, as the real Docker 28.2.2
client does (it links crypto/sha512); the upstream tests register only sha256. Pass
``digest_algorithms=UPSTREAM_TEST_DIGEST_ALGORITHMS`` to get the upstream tests' behaviour.

This module is long because it holds distribution/reference's grammar and normalization together
with the explanations students read for each rule, side by side.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass, field, replace
from functools import lru_cache

from labkit.errors import InvalidReference, LabkitTypeError

__all__ = [
    "ANCHORED_DIGEST_RE",
    "ANCHORED_DOMAIN_RE",
    "ANCHORED_IDENTIFIER_RE",
    "ANCHORED_NAME_RE",
    "ANCHORED_TAG_RE",
    "DEFAULT_DOMAIN",
    "DOCKER_DIGEST_ALGORITHMS",
    "DOCKER_HUB_AUTH_HOST",
    "DOCKER_HUB_AUTH_SERVICE",
    "DOCKER_HUB_ENDPOINT",
    "DOCKER_HUB_HOSTS",
    "DOCKER_HUB_INDEX_SERVER",
    "LEGACY_DEFAULT_DOMAIN",
    "REFERENCE_RE",
    "UPSTREAM_TEST_DIGEST_ALGORITHMS",
    "Explanation",
    "Part",
    "Reference",
    "endpoint_for",
    "explain",
    "familiar_match",
    "is_docker_hub",
    "login_key",
    "parse",
    "parse_any_reference",
    "parse_docker_ref",
    "parse_named",
    "parse_reference",
    "with_name",
]

# Docker Hub's host names, the one place labkit writes them down:
DEFAULT_DOMAIN = "docker.io"  # its name in references (normalize.go defaultDomain)
LEGACY_DEFAULT_DOMAIN = "index.docker.io"  # its old name, rewritten to docker.io
DOCKER_HUB_ENDPOINT = "registry-1.docker.io"  # the host a client contacts (registry/config.go)
DOCKER_HUB_INDEX_SERVER = "https://index.docker.io/v1/"  # its key in config.json's "auths"
DOCKER_HUB_AUTH_HOST = "auth.docker.io"  # its token server
DOCKER_HUB_AUTH_SERVICE = "registry.docker.io"  # the "service" of its token requests
DOCKER_HUB_HOSTS = frozenset({DEFAULT_DOMAIN, LEGACY_DEFAULT_DOMAIN, DOCKER_HUB_ENDPOINT})
OFFICIAL_REPO_PREFIX = "library/"
DEFAULT_TAG = "latest"
LOCALHOST = "localhost"
NAME_MAX_LENGTH = 255
TAG_MAX_LENGTH = 128

# Docker's error texts (reference.go, normalize.go, go-digest v1.0.0 digest.go).
ERR_REFERENCE_INVALID_FORMAT = "invalid reference format"
ERR_TAG_INVALID_FORMAT = "invalid tag format"
ERR_DIGEST_INVALID_FORMAT = "invalid digest format"
ERR_NAME_CONTAINS_UPPERCASE = "repository name must be lowercase"
ERR_NAME_EMPTY = "repository name must have at least one component"
ERR_NAME_TOO_LONG = f"repository name must not be more than {NAME_MAX_LENGTH} characters"
ERR_NAME_NOT_CANONICAL = "repository name must be canonical"
ERR_CHECKSUM_FORMAT = "invalid checksum digest format"
ERR_CHECKSUM_LENGTH = "invalid checksum digest length"
ERR_DIGEST_UNSUPPORTED = "unsupported digest algorithm"

# Registered digest algorithms and their hex length (go-digest v1.0.0 algorithm.go).
DOCKER_DIGEST_ALGORITHMS: dict[str, int] = {"sha256": 64, "sha384": 96, "sha512": 128}
UPSTREAM_TEST_DIGEST_ALGORITHMS: dict[str, int] = {"sha256": 64}

# regexp.go, built the same way. Go's regexps are ASCII-only and anchored with ^...$ meaning
# the very end of the text, so we compile with re.ASCII and always use fullmatch.
_ALPHANUMERIC = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|[-]+)"
_DOMAIN_NAME_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_OPTIONAL_PORT = r"(?::[0-9]+)?"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9A-Fa-f]{32,}"
_IDENTIFIER = r"([a-f0-9]{64})"
_IPV6_ADDRESS = r"\[(?:[a-fA-F0-9:]+)\]"
_DOMAIN_NAME = _DOMAIN_NAME_COMPONENT + r"(?:\." + _DOMAIN_NAME_COMPONENT + r")*"
_HOST = r"(?:" + _DOMAIN_NAME + r"|" + _IPV6_ADDRESS + r")"
_DOMAIN_AND_PORT = _HOST + _OPTIONAL_PORT
_PATH_COMPONENT = _ALPHANUMERIC + r"(?:" + _SEPARATOR + _ALPHANUMERIC + r")*"
_REMOTE_NAME = _PATH_COMPONENT + r"(?:/" + _PATH_COMPONENT + r")*"
_NAME = r"(?:" + _DOMAIN_AND_PORT + r"/)?" + _REMOTE_NAME

ANCHORED_DOMAIN_RE = re.compile(_DOMAIN_AND_PORT, re.ASCII)
"""``^domainAndPort$`` (use with fullmatch)."""
ANCHORED_NAME_RE = re.compile(r"(?:(" + _DOMAIN_AND_PORT + r")/)?(" + _REMOTE_NAME + r")", re.ASCII)
"""anchoredNameRegexp: groups domain, remote-name (use with fullmatch)."""
REFERENCE_RE = re.compile(
    r"(" + _NAME + r")(?::(" + _TAG + r"))?(?:@(" + _DIGEST + r"))?", re.ASCII
)
"""referenceRegexp: groups name, tag, digest (use with fullmatch)."""
ANCHORED_IDENTIFIER_RE = re.compile(_IDENTIFIER, re.ASCII)
ANCHORED_TAG_RE = re.compile(_TAG, re.ASCII)
ANCHORED_DIGEST_RE = re.compile(_DIGEST, re.ASCII)
# go-digest's DigestRegexp, anchored: decides "unsupported" versus "invalid format".
_GO_DIGEST_RE = re.compile(r"[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+", re.ASCII)
_LOWER_HEX_RE = re.compile(r"[a-f0-9]+", re.ASCII)

# One pass that yields domain, path, tag and digest. Its captures equal those of Go's
# referenceRegexp followed by anchoredNameRegexp on the name (same leftmost-first choices).
_PARTS_RE = re.compile(
    r"(?:(" + _DOMAIN_AND_PORT + r")/)?(" + _REMOTE_NAME + r")"
    r"(?::(" + _TAG + r"))?(?:@(" + _DIGEST + r"))?",
    re.ASCII,
)
_parts_fullmatch = _PARTS_RE.fullmatch
_identifier_fullmatch = ANCHORED_IDENTIFIER_RE.fullmatch


def is_docker_hub(host: str) -> bool:
    """True for any of Docker Hub's host names (``docker.io``, its legacy name, its endpoint)."""
    return host in DOCKER_HUB_HOSTS


def endpoint_for(host: str) -> str:
    """The host a client really contacts for a registry named ``host`` in references."""
    return DOCKER_HUB_ENDPOINT if is_docker_hub(host) else host


def login_key(host: str) -> str:
    """Where config.json keeps a registry's login: Docker Hub under its index URL."""
    return DOCKER_HUB_INDEX_SERVER if is_docker_hub(host) else host


@dataclass(frozen=True, slots=True)
class Reference:
    """An image reference: ``domain/path:tag@digest`` (tag and digest None when absent).

    A digest-only reference (from ``parse_any_reference``) has empty domain and path.
    """

    domain: str
    path: str
    tag: str | None = None
    digest: str | None = None

    def __str__(self) -> str:
        """Docker's ``String()``: the reference as parsed, no implied tag."""
        name = self.repository
        if not name:
            return self.digest or ""
        if self.tag is not None:
            name = f"{name}:{self.tag}"
        if self.digest is not None:
            name = f"{name}@{self.digest}"
        return name

    @property
    def repository(self) -> str:
        """Go's ``Name()``: ``domain/path`` (just the path when there is no domain)."""
        return f"{self.domain}/{self.path}" if self.domain else self.path

    @property
    def kind(self) -> str:
        """The Go type: repository, tagged, canonical, reference (tag and digest) or digest."""
        if not self.path:
            return "digest"
        if self.tag is None:
            return "repository" if self.digest is None else "canonical"
        return "tagged" if self.digest is None else "reference"

    @property
    def name(self) -> str:
        """The repository's own name: the last component of the path (``alpine``)."""
        return self.path.rpartition("/")[2]

    @property
    def namespace(self) -> str | None:
        """The path without its last component (``library``, ``fredysa``); None for one part.

        The one meaning of "namespace" in labkit (``Repository.namespace`` agrees): for
        ``registry.acme.com/engineering/team/web-app`` it is ``engineering/team``. The account
        that owns a repository (``engineering``, the path's first component) is
        ``Repository.account``; on Docker Hub, where paths have two parts, the two coincide.
        """
        head, slash, _ = self.path.rpartition("/")
        return head if slash else None

    @property
    def familiar_name(self) -> str:
        """Docker's ``FamiliarName``: without ``docker.io/`` and an official ``library/``."""
        if not self.path:
            return ""
        if self.domain != DEFAULT_DOMAIN:
            return self.repository
        path = self.path
        if path.startswith(OFFICIAL_REPO_PREFIX) and "/" not in path[len(OFFICIAL_REPO_PREFIX) :]:
            return path[len(OFFICIAL_REPO_PREFIX) :]
        return path

    @property
    def familiar(self) -> str:
        """Docker's ``FamiliarString``: how the CLI shows the reference (``alpine:3.19``)."""
        if not self.path:
            return str(self)
        text = self.familiar_name
        if self.tag is not None:
            text = f"{text}:{self.tag}"
        if self.digest is not None:
            text = f"{text}@{self.digest}"
        return text

    @property
    def endpoint(self) -> str:
        """The host a client really contacts: ``registry-1.docker.io`` for ``docker.io``."""
        return endpoint_for(self.domain)

    @property
    def is_official(self) -> bool:
        """True for Docker Hub official images: ``docker.io/library/<name>``."""
        return (
            self.domain == DEFAULT_DOMAIN
            and self.path.startswith(OFFICIAL_REPO_PREFIX)
            and "/" not in self.path[len(OFFICIAL_REPO_PREFIX) :]
        )

    def with_default_tag(self) -> Reference:
        """Docker's ``TagNameOnly``: add ``:latest`` when there is neither tag nor digest."""
        if self.tag is None and self.digest is None and self.path:
            return replace(self, tag=DEFAULT_TAG)
        return self

    def with_tag(self, tag: str) -> Reference:
        """Go's ``WithTag``: the same repository (and digest) with this tag."""
        if not isinstance(tag, str) or not ANCHORED_TAG_RE.fullmatch(tag):
            raise _error(ERR_TAG_INVALID_FORMAT, str(tag), _tag_hint(str(tag)))
        return replace(self, tag=tag)

    def with_digest(self, digest: str) -> Reference:
        """Go's ``WithDigest``: the same repository (and tag) with this digest.

        Like Go, only the digest's shape is checked here, not its length.
        """
        if not isinstance(digest, str) or not ANCHORED_DIGEST_RE.fullmatch(digest):
            raise _error(ERR_DIGEST_INVALID_FORMAT, str(digest), _digest_shape_hint(str(digest)))
        return replace(self, digest=digest)

    def name_only(self) -> Reference:
        """Go's ``TrimNamed``: the repository without tag or digest."""
        return Reference(self.domain, self.path)


# ---------------------------------------------------------------------------------------
# Parsing


def _go_lower(text: str) -> str:
    """Go's ``strings.ToLower`` where it matters here: simple case mapping (İ -> i)."""
    if "\u0130" in text:
        text = text.replace("\u0130", "i")
    return text.lower()


def _validate_digest(digest: str, algorithms: dict[str, int]) -> str | None:
    """go-digest ``Validate``: None when valid, else Docker's error text."""
    colon = digest.find(":")
    if colon <= 0 or colon + 1 == len(digest):
        return ERR_CHECKSUM_FORMAT
    algorithm, encoded = digest[:colon], digest[colon + 1 :]
    hex_length = algorithms.get(algorithm)
    if hex_length is None:
        if not _GO_DIGEST_RE.fullmatch(digest):
            return ERR_CHECKSUM_FORMAT
        return ERR_DIGEST_UNSUPPORTED
    if len(encoded) != hex_length:
        return ERR_CHECKSUM_LENGTH
    if not _LOWER_HEX_RE.fullmatch(encoded):
        return ERR_CHECKSUM_FORMAT
    return None


def _parse(text: str, typed: str, algorithms: dict[str, int]) -> Reference:
    """Go's ``Parse``; ``typed`` is what the user typed (for the hint)."""
    if not text:
        raise _error(ERR_NAME_EMPTY, typed)
    match = _parts_fullmatch(text)
    if match is None:
        lowered = _go_lower(text)
        if lowered != text and _parts_fullmatch(lowered) is not None:
            raise _error(ERR_NAME_CONTAINS_UPPERCASE, typed)
        raise _error(ERR_REFERENCE_INVALID_FORMAT, typed)
    domain, path, tag, digest = match.groups()
    if len(path) > NAME_MAX_LENGTH:
        raise _error(ERR_NAME_TOO_LONG, typed)
    if digest is not None:
        problem = _validate_digest(digest, algorithms)
        if problem is not None:
            raise _error(problem, typed)
    return Reference(domain or "", path, tag, digest)


def parse(text: str, *, digest_algorithms: dict[str, int] = DOCKER_DIGEST_ALGORITHMS) -> Reference:
    """Go's ``reference.Parse``: the grammar alone, no Docker Hub defaults.

    ``parse("a/b")`` has domain ``a``; ``parse("alpine")`` has no domain.
    """
    _require_str(text)
    return _parse(text, text, digest_algorithms)


def _split_docker_domain(text: str) -> tuple[str, str]:
    """Go's ``splitDockerDomain``: (domain, remainder) with Docker Hub's defaults."""
    maybe_domain, slash, maybe_remote = text.partition("/")
    if not slash:
        return DEFAULT_DOMAIN, OFFICIAL_REPO_PREFIX + text
    if maybe_domain == LOCALHOST:
        domain, remainder = maybe_domain, maybe_remote
    elif maybe_domain == LEGACY_DEFAULT_DOMAIN:
        domain, remainder = DEFAULT_DOMAIN, maybe_remote
    elif "." in maybe_domain or ":" in maybe_domain or maybe_domain.lower() != maybe_domain:
        domain, remainder = maybe_domain, maybe_remote
    else:
        domain, remainder = DEFAULT_DOMAIN, text
    if domain == DEFAULT_DOMAIN and "/" not in remainder:
        remainder = OFFICIAL_REPO_PREFIX + remainder
    return domain, remainder


def _parse_normalized_named(
    text: str, digest_algorithms: dict[str, int] = DOCKER_DIGEST_ALGORITHMS
) -> Reference:
    _require_str(text)
    if len(text) == 64 and _identifier_fullmatch(text):
        raise _error(
            f"invalid repository name ({text}), cannot specify 64-byte hexadecimal strings", text
        )
    domain, remainder = _split_docker_domain(text)
    remote = remainder.partition(":")[0]
    if remote.lower() != remote:
        raise _error(
            f"invalid reference format: repository name ({remote}) must be lowercase", text
        )
    return _parse(f"{domain}/{remainder}", text, digest_algorithms)


_cached_parse_normalized_named = lru_cache(maxsize=4096)(_parse_normalized_named)


def parse_reference(
    text: str, *, digest_algorithms: dict[str, int] = DOCKER_DIGEST_ALGORITHMS
) -> Reference:
    """Docker's ``ParseNormalizedNamed``: how every docker command reads an image name.

    ``parse_reference("alpine")`` is ``docker.io/library/alpine`` (no tag implied; use
    ``.with_default_tag()``). Raises ``InvalidReference`` with Docker's text and a hint.
    Results for the default digest algorithms are cached (references are immutable).
    """
    if digest_algorithms is DOCKER_DIGEST_ALGORITHMS and type(text) is str:
        return _cached_parse_normalized_named(text)
    return _parse_normalized_named(text, digest_algorithms)


def parse_reference_uncached(text: str) -> Reference:
    """``parse_reference`` without the cache (for benchmarks and tests)."""
    return _parse_normalized_named(text)


def parse_named(
    text: str, *, digest_algorithms: dict[str, int] = DOCKER_DIGEST_ALGORITHMS
) -> Reference:
    """Go's ``ParseNamed``: like ``parse_reference`` but the text must already be canonical."""
    ref = _parse_normalized_named(text, digest_algorithms)
    if str(ref) != text:
        raise _error(ERR_NAME_NOT_CANONICAL, text)
    return ref


def parse_docker_ref(
    text: str, *, digest_algorithms: dict[str, int] = DOCKER_DIGEST_ALGORITHMS
) -> Reference:
    """Go's ``ParseDockerRef``: normalized, ``:latest`` implied, tag dropped beside a digest."""
    ref = _parse_normalized_named(text, digest_algorithms)
    if ref.tag is not None and ref.digest is not None:
        return replace(ref, tag=None)
    return ref.with_default_tag()


def parse_any_reference(
    text: str, *, digest_algorithms: dict[str, int] = DOCKER_DIGEST_ALGORITHMS
) -> Reference:
    """Go's ``ParseAnyReference``: 64 hex characters or a bare digest give a digest-only
    reference (empty domain and path); anything else is ``parse_reference``."""
    _require_str(text)
    if len(text) == 64 and _identifier_fullmatch(text):
        return Reference("", "", None, "sha256:" + text)
    if _validate_digest(text, digest_algorithms) is None:
        return Reference("", "", None, text)
    return _parse_normalized_named(text, digest_algorithms)


def with_name(name: str) -> Reference:
    """Go's ``WithName``: a repository name only (no tag or digest), split by the grammar."""
    _require_str(name)
    match = ANCHORED_NAME_RE.fullmatch(name)
    if match is None:
        raise _error(ERR_REFERENCE_INVALID_FORMAT, name)
    domain, path = match.groups()
    if len(path) > NAME_MAX_LENGTH:
        raise _error(ERR_NAME_TOO_LONG, name)
    return Reference(domain or "", path)


def _require_str(text: object) -> None:
    if not isinstance(text, str):
        raise LabkitTypeError(
            f"an image reference must be text, not {type(text).__name__} {text!r}",
            "Put the name in quotes, such as 'alpine:3.21'.",
        )


# ---------------------------------------------------------------------------------------
# familiar_match: Go's path.Match on the familiar forms


class _BadPattern(ValueError):
    def __init__(self) -> None:
        super().__init__("syntax error in pattern")


def familiar_match(pattern: str, ref: Reference | str) -> bool:
    """Go's ``FamiliarMatch``: does the glob match the familiar string or familiar name?

    ``*`` never crosses ``/`` and ``**`` is not recursive (Go ``path.Match``). A string
    ``ref`` is read with ``parse_any_reference``. A malformed pattern raises ``ValueError``
    ("syntax error in pattern").
    """
    if isinstance(ref, str):
        ref = parse_any_reference(ref)
    matched = _path_match(pattern, ref.familiar)
    if not matched and ref.path:
        matched = _path_match_quiet(pattern, ref.familiar_name)
    return matched


def _path_match_quiet(pattern: str, name: str) -> bool:
    try:
        return _path_match(pattern, name)
    except _BadPattern:
        return False


def _path_match(pattern: str, name: str) -> bool:
    """Go's ``path.Match`` (raises _BadPattern where Go returns ErrBadPattern)."""
    while pattern:
        star, chunk, pattern = _scan_chunk(pattern)
        if star and not chunk:
            return "/" not in name
        rest, ok = _match_chunk(chunk, name)
        if ok and (not rest or pattern):
            name = rest
            continue
        if star:
            found = False
            for i in range(len(name)):
                if name[i] == "/":
                    break
                rest, ok = _match_chunk(chunk, name[i + 1 :])
                if ok:
                    if not pattern and rest:
                        continue
                    name = rest
                    found = True
                    break
            if found:
                continue
        while pattern:
            _, chunk, pattern = _scan_chunk(pattern)
            _match_chunk(chunk, "")
        return False
    return not name


def _scan_chunk(pattern: str) -> tuple[bool, str, str]:
    star = False
    while pattern and pattern[0] == "*":
        pattern = pattern[1:]
        star = True
    in_range = False
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            if i + 1 < len(pattern):
                i += 1
        elif char == "[":
            in_range = True
        elif char == "]":
            in_range = False
        elif char == "*" and not in_range:
            break
        i += 1
    return star, pattern[:i], pattern[i:]


def _match_chunk(chunk: str, text: str) -> tuple[str, bool]:
    failed = False
    while chunk:
        if not failed and not text:
            failed = True
        head = chunk[0]
        if head == "[":
            char = ""
            if not failed:
                char, text = text[0], text[1:]
            chunk = chunk[1:]
            negated = False
            if chunk and chunk[0] == "^":
                negated = True
                chunk = chunk[1:]
            matched = False
            ranges = 0
            while True:
                if chunk and chunk[0] == "]" and ranges > 0:
                    chunk = chunk[1:]
                    break
                low, chunk = _get_escaped(chunk)
                high = low
                if chunk[0] == "-":
                    high, chunk = _get_escaped(chunk[1:])
                if not failed and low <= char <= high:
                    matched = True
                ranges += 1
            if matched == negated:
                failed = True
        elif head == "?":
            if not failed:
                if text[0] == "/":
                    failed = True
                text = text[1:]
            chunk = chunk[1:]
        else:
            if head == "\\":
                chunk = chunk[1:]
                if not chunk:
                    raise _BadPattern()
            if not failed:
                if chunk[0] != text[0]:
                    failed = True
                text = text[1:]
            chunk = chunk[1:]
    if failed:
        return "", False
    return text, True


def _get_escaped(chunk: str) -> tuple[str, str]:
    if not chunk or chunk[0] in "-]":
        raise _BadPattern()
    if chunk[0] == "\\":
        chunk = chunk[1:]
        if not chunk:
            raise _BadPattern()
    char, rest = chunk[0], chunk[1:]
    if not rest:
        raise _BadPattern()
    return char, rest


# ---------------------------------------------------------------------------------------
# Hints: which rule was broken, and where, in plain words


def _error(message: str, text: str, hint: str | None = None) -> InvalidReference:
    if hint is None:
        try:
            hint = _hint(message, text)
        except Exception:  # a hint must never hide Docker's error
            hint = "Docker does not accept this name as an image reference."
    return InvalidReference(message, hint, text)


def _show(text: str, limit: int = 60) -> str:
    """Quote a piece of input for a hint (shortened when very long)."""
    if len(text) > limit:
        text = text[: limit // 2] + "…" + text[-(limit // 3) :]
    return f"`{text}`"


_WHITESPACE_RE = re.compile(r"\s")
_SCHEME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_UPPER_RE = re.compile(r"[A-Z]")
_BAD_SEPARATOR_RE = re.compile(r"[._-]{2,}")
_PATH_CHAR_RE = re.compile(r"[a-z0-9._-]", re.ASCII)
_TAG_CHAR_RE = re.compile(r"[A-Za-z0-9_.-]", re.ASCII)


def _ordinal(number: int) -> str:
    suffix = {1: "st", 2: "nd", 3: "rd"}.get(number if number < 20 else number % 10, "th")
    return f"{number}{suffix}"


def _hint(message: str, text: str) -> str:
    """Explain Docker's error ``message`` for the typed ``text``."""
    if not text:
        return "The name is empty: type a repository name such as `alpine` or `fredysa/alpine`."
    space = _WHITESPACE_RE.search(text)
    if space:
        what = "a space" if space.group() == " " else f"a whitespace character ({space.group()!r})"
        return (
            f"{_show(text)} contains {what} at position {space.start() + 1}: an image "
            "reference is one word with no spaces, in the name or in the tag."
        )
    scheme = _SCHEME_RE.match(text)
    if scheme:
        return (
            f"{_show(scheme.group())} is a URL scheme: Docker names a registry by its host "
            f"alone. Drop the scheme and write {_show(text[scheme.end() :])}."
        )
    if message.startswith("invalid repository name ("):
        return (
            f"{_show(text)} is 64 hexadecimal characters, the shape of an image ID or a "
            "sha256 digest, so Docker refuses it as a repository name. To pin content write "
            f"`name@sha256:{text[:12]}…`; otherwise choose a name that is not 64 hex characters."
        )
    if message.startswith("invalid reference format: repository name (") or (
        message == ERR_NAME_CONTAINS_UPPERCASE
    ):
        return _uppercase_hint(text)
    if message == ERR_NAME_TOO_LONG:
        return _too_long_hint(text)
    if message in (ERR_CHECKSUM_LENGTH, ERR_DIGEST_UNSUPPORTED, ERR_CHECKSUM_FORMAT):
        return _digest_hint(message, text)
    if message == ERR_NAME_EMPTY:
        return "The name is empty: type a repository name such as `alpine`."
    if message == ERR_NAME_NOT_CANONICAL:
        full = _canonical_or_none(text)
        better = f" Write it in full: {_show(full)}." if full else ""
        return (
            f"{_show(text)} is not written in full (registry/namespace/name): this function "
            f"accepts only canonical names.{better}"
        )
    return _format_hint(text)


def _canonical_or_none(text: str) -> str | None:
    try:
        return str(_parse_normalized_named(text))
    except InvalidReference:
        return None


def _split_for_hint(text: str) -> tuple[str, str | None, str | None]:
    """(name, tag, digest) as a student would read them: digest after the first ``@``,
    tag after the first ``:`` of the last path component."""
    name, at, digest = text.partition("@")
    head, slash, last = name.rpartition("/")
    last, colon, tag = last.partition(":")
    return head + slash + last, (tag if colon else None), (digest if at else None)


def _uppercase_hint(text: str) -> str:
    name, _, _ = _split_for_hint(text)
    components = name.split("/")
    repo = name
    if len(components) > 1 and _looks_like_domain(components[0]):
        repo = "/".join(components[1:])
    letters = "".join(dict.fromkeys(ch for ch in repo if ch != ch.lower()))
    if not letters:
        odd = "".join(dict.fromkeys(ch for ch in text if ch != ch.lower()))
        return (
            f"{_show(text)} contains {', '.join(f'`{ch}`' for ch in odd)}: an uppercase letter "
            "Docker lowers to plain ASCII when it checks names. Names, tags and hosts use only "
            "ASCII letters; repository names only lowercase ones."
        )
    where = f" ({', '.join(f'`{ch}`' for ch in letters)})" if letters else ""
    return (
        f"The repository part {_show(repo)} has uppercase letters{where}: repository names "
        f"must be all lowercase, so write {_show(repo.lower())}. Uppercase is fine in a tag "
        "(`alpine:V1`) and in a registry host."
    )


def _looks_like_domain(component: str) -> bool:
    return (
        component == LOCALHOST
        or "." in component
        or ":" in component
        or component.lower() != component
    )


def _too_long_hint(text: str) -> str:
    name, _, _ = _split_for_hint(text)
    components = name.split("/")
    path = name
    if len(components) > 1 and _looks_like_domain(components[0]):
        path = "/".join(components[1:])
    return (
        f"The repository path {_show(path)} is {len(path)} characters long; Docker allows at "
        f"most {NAME_MAX_LENGTH} (the registry host and the tag are not counted). Shorten it."
    )


def _digest_hint(message: str, text: str) -> str:
    digest = text.partition("@")[2] if "@" in text else text
    algorithm, _, encoded = digest.partition(":")
    known = ", ".join(f"{name} ({size} hex characters)" for name, size in _known_algorithms())
    if message == ERR_DIGEST_UNSUPPORTED:
        return (
            f"{_show(algorithm)} is not a digest algorithm Docker knows. Use one of: {known}; "
            "images are almost always named by `sha256:`."
        )
    if message == ERR_CHECKSUM_LENGTH:
        expected = DOCKER_DIGEST_ALGORITHMS.get(algorithm)
        need = f"exactly {expected}" if expected else "a fixed number of"
        return (
            f"The digest after `@` has {len(encoded)} hex characters, but {algorithm} digests "
            f"have {need}. Copy the whole digest (`{algorithm}:` then all the hex characters)."
        )
    if encoded != encoded.lower():
        return (
            f"The digest {_show(digest)} has uppercase hex letters: Docker digests are written "
            "in lowercase hex. Write it in lowercase."
        )
    return (
        f"The digest {_show(digest)} is not `algorithm:hex` with a lowercase algorithm Docker "
        f"recognises. Use one of: {known}."
    )


def _known_algorithms() -> list[tuple[str, int]]:
    return list(DOCKER_DIGEST_ALGORITHMS.items())


def _tag_hint(tag: str) -> str | None:
    """What is wrong with a tag (None when nothing is)."""
    if not tag:
        return "There is nothing after the `:`: give a tag such as `:latest`, or drop the `:`."
    if tag[0] in ".-":
        return (
            f"The tag {_show(tag)} starts with `{tag[0]}`: a tag must start with a letter, a "
            "digit or `_`."
        )
    if len(tag) > TAG_MAX_LENGTH:
        return (
            f"The tag {_show(tag)} is {len(tag)} characters long; Docker allows at most "
            f"{TAG_MAX_LENGTH}."
        )
    bad = [ch for ch in tag if not _TAG_CHAR_RE.fullmatch(ch)]
    if bad:
        listed = ", ".join(f"{ch!r}" for ch in dict.fromkeys(bad))
        return (
            f"The tag {_show(tag)} contains {listed}: a tag may only use letters, digits, "
            "`_`, `.` and `-`."
        )
    return None


def _digest_shape_hint(digest: str) -> str:
    algorithm, colon, encoded = digest.partition(":")
    if not colon:
        return (
            f"The digest {_show(digest)} has no `:`: write it as `sha256:` followed by the "
            "hex characters."
        )
    if not algorithm:
        return "The digest has no algorithm before the `:`: write `sha256:` then the hex."
    if len(encoded) < 32:
        return (
            f"The digest {_show(digest)} has only {len(encoded)} hex characters after the `:`; "
            "copy the whole digest (sha256 digests have 64)."
        )
    return (
        f"The digest {_show(digest)} is not `algorithm:hex` (hex uses only 0-9 and a-f). "
        "Copy it again from `docker images --digests` or the registry."
    )


def _path_component_hint(component: str, position: int, label: str) -> str | None:
    where = f"the {_ordinal(position)} {label} {_show(component)}"
    if position == 0:
        where = f"the name {_show(component)}"
    bad = [ch for ch in component if not _PATH_CHAR_RE.fullmatch(ch)]
    if bad and any(ch.isupper() for ch in bad) and all(ch.isalnum() for ch in bad):
        return f"{where} has uppercase letters: repository names must be all lowercase."
    if bad:
        listed = ", ".join(f"{ch!r}" for ch in dict.fromkeys(bad))
        return (
            f"{where} contains {listed}: repository names use only lowercase letters, digits "
            "and the separators `.`, `_`, `__` and `-`."
        )
    if component[0] in "._-":
        return (
            f"{where} starts with the separator `{component[0]}`: each part of a name must "
            "start with a letter or a digit."
        )
    if component[-1] in "._-":
        return (
            f"{where} ends with the separator `{component[-1]}`: each part of a name must end "
            "with a letter or a digit."
        )
    for run in _BAD_SEPARATOR_RE.finditer(component):
        separator = run.group()
        if separator == "__" or set(separator) == {"-"}:
            continue
        return (
            f"{where} has {_show(separator)}: between letters and digits Docker allows one "
            "`.`, one or two `_`, or any number of `-`, but not other combinations."
        )
    return None


def _domain_hint(domain: str) -> str | None:
    host, colon, port = domain.partition(":")
    if domain.startswith("["):
        return (
            f"The registry {_show(domain)} looks like an IPv6 address: only plain hex and `:` "
            "are allowed inside the brackets (no zone like `%eth0`, no embedded IPv4)."
        )
    if colon and not port.isdigit():
        return (
            f"The registry {_show(domain)} has a port {_show(port)} that is not a number: "
            "write `host:5000`-style ports with digits only."
        )
    for label in host.split("."):
        if not label:
            return (
                f"The registry {_show(domain)} has an empty part between dots: write host "
                "names like `registry.acme.com`."
            )
        if label[0] == "-" or label[-1] == "-":
            return (
                f"The registry {_show(domain)} has a part {_show(label)} that starts or ends "
                "with `-`, which host names cannot."
            )
        if not re.fullmatch(r"[A-Za-z0-9-]+", label, re.ASCII):
            return (
                f"The registry {_show(domain)} contains characters a host name cannot have "
                "(only letters, digits, `-` and `.`)."
            )
    return None


def _format_hint(text: str) -> str:
    """Explain a plain ``invalid reference format``."""
    name_part, at, digest = text.partition("@")
    if at:
        if "@" in digest:
            return (
                f"{_show(text)} has more than one `@`: a reference has at most one digest, "
                "written last (`name:tag@sha256:…`)."
            )
        if not name_part:
            return (
                "There is no repository name before the `@`: write `name@sha256:…` (a bare "
                "digest is accepted only where an image ID is)."
            )
        if not ANCHORED_DIGEST_RE.fullmatch(digest):
            return _digest_shape_hint(digest)
    components = name_part.split("/")
    last, colon, tag = components[-1].partition(":")
    if colon and ":" in tag:
        return (
            f"{_show(components[-1])} has more than one `:`: a name takes at most one tag "
            "(`alpine:3.19`, not `alpine:3.19:latest`)."
        )
    if colon:
        problem = _tag_hint(tag)
        if problem:
            return problem
    components[-1] = last
    if not name_part or (not last and len(components) == 1):
        return "There is no repository name: a reference starts with a name such as `alpine`."
    if "" in components:
        if components[0] == "":
            return (
                f"{_show(text)} starts with `/`: remove the leading slash (names look like "
                "`fredysa/alpine`)."
            )
        if components[-1] == "":
            return f"{_show(name_part)} ends with `/`: the repository's name is missing after it."
        return (
            f"{_show(name_part)} has an empty part (`//`): separate the parts of a name with "
            "a single `/`."
        )
    path_components = components
    if len(components) > 1 and _looks_like_domain(components[0]):
        problem = _domain_hint(components[0])
        if problem:
            return problem
        path_components = components[1:]
    label = "part of the repository path"
    for position, component in enumerate(path_components, start=1):
        problem = _path_component_hint(
            component, 0 if len(path_components) == 1 else position, label
        )
        if problem:
            return problem[0].upper() + problem[1:]
    return (
        f"{_show(text)} does not fit Docker's pattern `[registry/][namespace/]name[:tag]"
        "[@digest]` (lowercase letters, digits and `._-` in names)."
    )


# ---------------------------------------------------------------------------------------
# explain: a breakdown a student (or a widget) can read


@dataclass(frozen=True, slots=True)
class Part:
    """One part of a reference: its value, whether it was typed, and why."""

    part: str
    value: str | None
    typed: bool
    why: str

    def to_dict(self) -> dict:
        return {"part": self.part, "value": self.value, "typed": self.typed, "why": self.why}


@dataclass(frozen=True, slots=True)
class Explanation:
    """How Docker reads a name: the parts, the familiar and full forms, or the error."""

    text: str
    parts: tuple[Part, ...] = ()
    canonical: str | None = None
    familiar: str | None = None
    fully_qualified: str | None = None
    endpoint: str | None = None
    is_official: bool = False
    error: str | None = None
    hint: str | None = None
    reference: Reference | None = field(default=None, compare=False)

    @property
    def ok(self) -> bool:
        return self.error is None

    def part(self, name: str) -> Part:
        """The part called ``name`` (registry, namespace, name, tag or digest)."""
        for part in self.parts:
            if part.part == name:
                return part
        raise KeyError(name)

    def __str__(self) -> str:
        """A small aligned table: one row per part, then the familiar and full forms; or
        Docker's error and the hint."""

        # Each explanation on its own wrapped lines under its row: the table stays within
        # EXPLAIN_WIDTH columns, so a notebook beside a file browser never wraps mid-word.
        def wrapped(text: str, indent: str) -> list[str]:
            return textwrap.wrap(
                text,
                EXPLAIN_WIDTH,
                initial_indent=indent,
                subsequent_indent=indent,
                break_long_words=False,
                break_on_hyphens=False,
            )

        if not self.ok:
            return "\n".join(
                [*wrapped(f"{self.text}: {self.error}", ""), *wrapped(f"hint: {self.hint}", "  ")]
            )
        rows: list[tuple[str, str, str, str]] = []
        for part in self.parts:
            value = part.value if part.value is not None else "-"
            source = "typed" if part.typed else "default" if part.value is not None else "-"
            rows.append((f"  {part.part}", value, source, part.why))
        rows.append(("  familiar", self.familiar or "", "", "how docker shows it"))
        rows.append(("  full", self.fully_qualified or "", "", "what docker pulls or pushes"))
        rows.append(("  endpoint", self.endpoint or "", "", "the host a client contacts"))
        widths = [max(len(row[i]) for row in rows) for i in range(3)]
        lines = [self.text]
        for label, value, source, why in rows:
            cells = [label.ljust(widths[0]), value.ljust(widths[1]), source]
            lines.append("  ".join(cells).rstrip())
            lines.extend(wrapped(why, " " * (widths[0] + 2)))
        return "\n".join(lines)

    def to_dict(self) -> dict:
        """A JSON-able dict (no Reference object)."""
        return {
            "text": self.text,
            "ok": self.ok,
            "parts": [part.to_dict() for part in self.parts],
            "canonical": self.canonical,
            "familiar": self.familiar,
            "fully_qualified": self.fully_qualified,
            "endpoint": self.endpoint,
            "is_official": self.is_official,
            "error": self.error,
            "hint": self.hint,
        }


EXPLAIN_WIDTH = 80  # columns of an explanation's text form (a laptop's notebook, file browser open)


def explain(text: str) -> Explanation:
    """Break ``text`` into registry, namespace, name, tag and digest, saying for each
    whether it was typed or filled in by a default, and why. Never raises for bad input:
    the Explanation then carries ``error`` (Docker's text) and ``hint``."""
    _require_str(text)
    try:
        ref = parse_reference(text)
    except InvalidReference as error:
        return Explanation(text=text, error=str(error), hint=error.hint)
    first, slash, _ = text.partition("/")
    parts = (
        _registry_part(ref, first if slash else None, text),
        _namespace_part(ref, text),
        Part("name", ref.name, True, "the repository's own name: the last part of the path"),
        _tag_part(ref),
        _digest_part(ref),
    )
    return Explanation(
        text=text,
        parts=parts,
        canonical=str(ref),
        familiar=ref.familiar,
        fully_qualified=str(ref.with_default_tag()),
        endpoint=ref.endpoint,
        is_official=ref.is_official,
        reference=ref,
    )


def _registry_part(ref: Reference, first: str | None, text: str) -> Part:
    domain = ref.domain
    if first is None:
        name = text.partition(":")[0].partition("@")[0]
        return Part(
            "registry",
            domain,
            False,
            f"by default: `{name}` has no `/`, so it is a Docker Hub name",
        )
    if not domain:
        return Part(
            "registry",
            None,
            False,
            f"none: `{first}` looks like a host (it has a `.` or `:`), but it is not a valid "
            "host name, so Docker reads the whole name as a path with no registry",
        )
    if first == LEGACY_DEFAULT_DOMAIN:
        return Part(
            "registry",
            domain,
            True,
            "typed as `index.docker.io`, Docker Hub's old name, which Docker rewrites to "
            "`docker.io`",
        )
    if first != domain:
        return Part(
            "registry",
            domain,
            False,
            f"by default: `{first}` has no `.` or `:` and is not `localhost`, so it is a "
            "Docker Hub namespace",
        )
    if domain == DEFAULT_DOMAIN:
        why = "typed: `docker.io` is Docker Hub"
    elif domain == LOCALHOST:
        why = "typed: `localhost` is always read as a registry host"
    elif "." in domain or ":" in domain:
        mark = "`.`" if "." in domain else "`:`"
        why = f"typed: `{domain}` contains {mark}, so Docker reads it as a registry host"
    else:
        why = (
            f"typed: `{domain}` has uppercase letters, which a namespace cannot have, so Docker "
            "reads it as a registry host"
        )
    return Part("registry", domain, True, why)


def _namespace_part(ref: Reference, text: str) -> Part:
    namespace = ref.namespace
    if namespace is None:
        return Part(
            "namespace",
            None,
            False,
            f"none: the path `{ref.path}` has one part, and only Docker Hub adds `library/`",
        )
    typed_path = text.partition("@")[0]
    if (
        ref.domain == DEFAULT_DOMAIN
        and namespace == "library"
        and (not typed_path.startswith("library/") and "/library/" not in typed_path)
    ):
        return Part("namespace", namespace, False, "by default: official images live in `library/`")
    if ref.is_official:
        why = "typed: `library` is the namespace of Docker Hub's official images"
    elif ref.domain == DEFAULT_DOMAIN:
        why = f"typed: `{namespace}` is the Docker Hub user or organization that owns it"
    else:
        why = (
            f"typed: `{namespace}` groups repositories on `{ref.domain}` (a user, team or project)"
        )
    return Part("namespace", namespace, True, why)


def _tag_part(ref: Reference) -> Part:
    if ref.tag is not None:
        why = "typed: it names one version of the repository"
        if ref.digest is not None:
            why = "typed; beside a digest the tag is only informative: the digest decides"
        return Part("tag", ref.tag, True, why)
    if ref.digest is not None:
        return Part("tag", None, False, "none: the digest identifies the image, so no tag is added")
    return Part("tag", DEFAULT_TAG, False, "by default: no tag was given")


def _digest_part(ref: Reference) -> Part:
    if ref.digest is not None:
        return Part("digest", ref.digest, True, "typed: the exact content, whatever tags move")
    return Part("digest", None, False, "none: the tag decides which image is meant")
